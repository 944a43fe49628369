"""The progress line: its fields, its log cadence, and the speed of a resumed run."""

import io

from spiqgan import progress
from spiqgan.progress import Progress


class _Clock:
    now = 0.0

    def __call__(self):
        return self.now


def _clock(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    return clock


def test_log_lines_every_tenth_with_fields(monkeypatch):
    clock = _clock(monkeypatch)
    out = io.StringIO()
    with Progress(20, label="step ", stream=out) as bar:
        for step in range(1, 21):
            clock.now = float(step)
            bar.update(step, critic=-1.5, js=None)
    lines = out.getvalue().splitlines()
    # early: what one step took (the second: the first is mostly start-up) and what the rest will take
    estimate = lines.pop(0)
    assert estimate.startswith("one step took 1 s (peak memory ") and estimate.endswith("about 18s for the 18 steps left")
    assert len(lines) == 10
    assert lines[0].startswith("step 2/20 | critic -1.5 | 1.0 step/s, 2s elapsed, 18s left")
    assert "js" not in out.getvalue()
    assert lines[-1].endswith("1.0 step/s, 20s elapsed, 0s left")


def test_resumed_run_counts_only_its_own_steps(monkeypatch):
    # resumed at step 400 of 1000, one step per second: speed 1 step/s, 599 s left after step 401
    clock = _clock(monkeypatch)
    out = io.StringIO()
    bar = Progress(1000, stream=out)
    clock.now = 1.0
    bar.next_log = 0
    bar.update(401)
    assert "1.0 step/s, 1s elapsed, 9m59s left" in out.getvalue()


def test_fit_accepts_progress_true(capsys):
    """``SpiQGAN.fit(progress=True)`` used to crash: True means a default progress line on standard error."""
    import numpy as np

    from spiqgan.models.gan import SpiQGAN

    windows = (np.random.default_rng(0).random((64, 2, 2)) < 0.2).astype(np.uint8)
    SpiQGAN(2, 2, steps=3, eval_every=10, js_windows=20).fit(windows, progress=True)
    err = capsys.readouterr().err
    assert "one step took" in err and "step 3/3" in err


def test_a_slow_first_step_is_estimate_enough(monkeypatch):
    clock = _clock(monkeypatch)
    out = io.StringIO()
    bar = Progress(100, stream=out)
    clock.now = 60.0  # a 19-neuron step: a minute
    bar.update(1)
    assert out.getvalue().startswith("first step took 60 s") and "about 1h39m for the 99 steps left" in out.getvalue()


def test_restart_leaves_set_up_out_of_the_first_step(monkeypatch):
    """A Born machine's first L-BFGS step counted torch.optim's 7 s import and promised 1 h for a 3 min fit."""
    clock = _clock(monkeypatch)
    out = io.StringIO()
    bar = Progress(500, stream=out)
    clock.now = 7.0  # set-up
    bar.restart()
    clock.now = 7.5
    bar.update(1)
    clock.now = 8.0
    bar.update(2)
    assert out.getvalue().startswith("one step took 0.5 s") and "about 4m09s for the 498 steps left" in out.getvalue()


def test_a_fit_that_converges_early_says_where_and_a_cost_line_is_the_only_estimate(capsys, tmp_path):
    """The likelihood progress stopped at "step 150/500" and never said the fit converged at 163; and train
    printed two time estimates (the cost line and the progress line's)."""
    import numpy as np

    from spiqgan.cli import main
    from spiqgan.models.born import BornMachine

    x = (np.random.default_rng(0).random((3000, 2, 3)) < 0.2).astype(np.uint8)
    out = io.StringIO()
    with Progress(500, label="step ", stream=out) as bar:
        model = BornMachine(steps=500, latent="normal").fit(x, progress=bar)  # (48 states run all 500 here)
    steps = len(model.history_)
    assert steps < 500
    assert out.getvalue().rstrip().endswith(f"converged (L-BFGS: the objective's change fell under tol) at step "
                                            f"{steps} of at most 500")
    assert main(["train", "--neurons", "0-2", "--timesteps", "2", "--latent", "normal", "--out", str(tmp_path / "run"),
                 "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "so at most about" in captured.out  # the cost line's estimate
    assert "steps left" not in captured.err and "converged" in captured.err

