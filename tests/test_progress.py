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
