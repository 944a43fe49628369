"""Run folders: resume after kill -9, one process and one configuration per folder, writes that fail cleanly."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spiqgan.cli import main
from spiqgan.exceptions import RunFolderError
from spiqgan.experiments.runs import CHECKPOINT_LAST, run_lock

# a small likelihood run: 3 neurons, 2 bins, checkpoints every 5 steps
TRAIN = ["train", "--model", "spiqgan", "--neurons", "0-2", "--timesteps", "2", "--eval-every", "5", "--js-windows", "200",
         "--no-figures", "--no-progress", "--threads", "1"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "spiqgan", *args]


def _checkpoint_step(path: Path) -> int:
    from spiqgan.io.checkpoint import load_checkpoint

    try:
        return int(load_checkpoint(path)[1]["step"])
    except Exception:
        return -1


@pytest.mark.slow
def test_train_killed_with_sigkill_resumes_bit_for_bit(tmp_path):
    steps = "300"
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_cli(*TRAIN, "--steps", steps, "--out", str(whole)), check=True, capture_output=True)
    proc = subprocess.Popen(_cli(*TRAIN, "--steps", steps, "--out", str(killed)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _checkpoint_step(killed / CHECKPOINT_LAST) < 10 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at = _checkpoint_step(killed / CHECKPOINT_LAST)
    assert 10 <= at < 300, f"the kill came at step {at}; the test needs it mid-run"
    rerun = subprocess.run(_cli(*TRAIN, "--steps", steps, "--out", str(killed)), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed at step {at}" in rerun.stderr
    # the resumed run is the uninterrupted one: same metrics (but seconds), same weights, same evaluation
    a = (whole / "evaluation" / "evaluation.json").read_text()
    b = (killed / "evaluation" / "evaluation.json").read_text()
    assert json.loads(a)["rows"] == json.loads(b)["rows"]
    from spiqgan.experiments.runs import load_run

    ga, gb = load_run(whole).generator_, load_run(killed).generator_
    for (name, x), (_, y) in zip(ga.state_dict().items(), gb.state_dict().items()):
        assert np.array_equal(x.numpy(), y.numpy()), name


def test_another_configuration_is_refused_and_force_replaces_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TRAIN, "--steps", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*TRAIN, "--steps", "6", "--lr-generator", "0.5", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spiqgan: error: ") and "another configuration" in err
    assert "model.steps: 5 -> 6" in err and "model.lr_generator: 0.02 -> 0.5" in err
    assert json.loads((out / "config.json").read_text())["model"]["steps"] == 5  # untouched
    (out / "evaluation_best").mkdir(exist_ok=True)
    (out / "evaluation_best" / "old.json").write_text("{}")  # a file of the old run
    (out / "notes.txt").write_text("mine")  # not a run file: kept
    assert main([*TRAIN, "--steps", "6", "--out", str(out), "--force"]) == 0
    assert json.loads((out / "config.json").read_text())["model"]["steps"] == 6
    assert not (out / "evaluation_best" / "old.json").exists() and (out / "notes.txt").read_text() == "mine"


def test_rerunning_a_finished_run_evaluates_it_again_and_keeps_one_configuration(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TRAIN, "--steps", "5", "--out", str(out)]) == 0
    (out / "evaluation_best").mkdir()  # as left by an earlier state of the folder
    assert main([*TRAIN, "--steps", "5", "--out", str(out)]) == 0
    assert "finished run found" in capsys.readouterr().err
    assert not (out / "evaluation_best").exists()


@pytest.mark.parametrize("model", ["cry", "ising"])
def test_a_finished_fit_in_one_call_is_not_refitted(tmp_path, capsys, model):
    """Rerunning the quick start's train refitted the default model ("resumed at step 163", the whole fit again):
    a model fitted in one call ignored resume, and the run took an early L-BFGS stop for an unfinished run."""
    from spiqgan.models.registry import load_model

    out = tmp_path / "run"
    args = ["train", "--model", model, "--neurons", "0-2", "--timesteps", "1", "--no-figures", "--no-progress",
            "--threads", "1", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    saved = (out / CHECKPOINT_LAST).stat().st_mtime_ns
    before = load_model(out / CHECKPOINT_LAST)
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "finished run found" in err and "resumed" not in err
    assert (out / CHECKPOINT_LAST).stat().st_mtime_ns == saved  # not fitted (nor saved) again
    np.testing.assert_array_equal(load_model(out / CHECKPOINT_LAST).sample(50, seed=0), before.sample(50, seed=0))


def test_a_locked_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    # another process holds the folder
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from spiqgan.experiments.runs import run_lock\n"
         "with run_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main([*TRAIN, "--steps", "5", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "is in use by another spiqgan run (pid" in err and "Traceback" not in err
        with pytest.raises(RunFolderError, match="in use"):
            with run_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(out):  # released with the process
        pass


def test_train_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main([*TRAIN, "--steps", "5", "--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "run"
    assert main([*TRAIN, "--steps", "5", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    "out, setup, message",
    [
        ("s.npy", "file", "exists; give another name, or --force"),
        ("s.txt", None, "give a name ending in .npy"),
        ("d.npy", "dir", "is a folder"),
    ],
)
def test_sample_output_errors(trained, tmp_path, capsys, out, setup, message):
    path = tmp_path / out
    if setup == "file":
        path.write_bytes(b"keep me")
    elif setup == "dir":
        path.mkdir()
    assert main(["sample", str(trained), "--windows", "50", "--out", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spiqgan: error: ") and message in err
    if setup == "file":
        assert path.read_bytes() == b"keep me"
        assert main(["sample", str(trained), "--windows", "50", "--out", str(path), "--force"]) == 0
        assert np.load(path).shape == (50, 2, 3)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_sample_into_a_read_only_folder(trained, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["sample", str(trained), "--windows", "50", "--out", str(ro / "s.npy")]) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("code, hint", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"),
                                        (errno.EACCES, "permission denied")])
def test_os_errors_at_a_write_are_one_line(trained, tmp_path, capsys, monkeypatch, code, hint):
    import spiqgan.io.atomic as atomic

    def fail(*_a, **_k):
        raise OSError(code, os.strerror(code), str(tmp_path / "s.npy"))

    monkeypatch.setattr(atomic.os, "replace", fail)
    assert main(["sample", str(trained), "--windows", "50", "--out", str(tmp_path / "s.npy")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("spiqgan: error: ") and hint in err
    assert not list(tmp_path.glob("*.npy")) and not list(tmp_path.glob(".s.npy*"))  # nothing half-written


def test_a_full_disk_while_drawing_figures_keeps_the_results(tmp_path, capsys, monkeypatch):
    import spiqgan.evaluation.report as report

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "run" / "statistics.png"))

    monkeypatch.setattr(report, "save_figure", full)
    args = [a for a in TRAIN if a != "--no-figures"]
    assert main([*args, "--steps", "5", "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert "held-out evaluation, last generator" in captured.out and "firing rate" in captured.out
    assert "the disk is full" in captured.err
    assert json.loads((tmp_path / "run" / "evaluation" / "evaluation.json").read_text())["rows"]


@pytest.mark.slow
def test_readme_sample_then_evaluate_on_the_recording(recording_path, tmp_path, capsys):
    """The README's recipe: train, sample, evaluate with the recording's --repeat-length."""
    data = ["--data", str(recording_path), "--repeat-length", "953", "--neurons", "0-3", "--timesteps", "5"]
    run = tmp_path / "run"
    assert main(["train", "--model", "spiqgan", *data, "--steps", "5", "--eval-every", "5", "--js-windows", "200", "--no-figures",
                 "--no-progress", "--out", str(run)]) == 0
    assert main(["sample", str(run), "--windows", "2000", "--seed", "1", "--out", str(tmp_path / "samples.npy")]) == 0
    capsys.readouterr()
    assert main(["evaluate", *data, "--samples", str(tmp_path / "samples.npy")]) == 0
    out = capsys.readouterr().out
    assert "samples.npy (2000 windows)" in out and "autocorrelogram" in out


@pytest.mark.parametrize("size, cores, load, expected", [
    (None, 2, 0.0, 2),      # idle machine: every core (measured 0.62-0.71x the one-thread time)
    (None, 2, 1.1, 1),      # one core busy: one thread (two were up to 3.3x slower)
    (2048, 2, 0.2, 2),
    (64, 2, 0.0, 1),        # (4, 2): too small to gain
    (None, 16, 20.0, 1),    # overloaded: never fewer than one
])
def test_default_threads(size, cores, load, expected):
    from spiqgan.cost import default_threads

    assert default_threads(size, cores=cores, load=load) == expected


def test_train_says_what_it_costs_before_it_starts(tmp_path, capsys):
    assert main([*TRAIN, "--steps", "5", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "cost: 4 qubits x 2 sub-generators" in out and "1 torch thread(s)" in out
    assert out.index("cost:") < out.index("held-out evaluation")


def test_train_on_the_mps_backend_says_its_bond_dimension_and_a_timed_first_step(tmp_path, capsys):
    assert main([*TRAIN, "--backend", "mps", "--n-layers", "3", "--steps", "2", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    cost = next(line for line in out.splitlines() if line.startswith("cost:"))
    assert "4 qubits x 2 sub-generators" in cost and "mps backend, bond dimension 8 (exact)" in cost
    assert "first step timed at" in cost and "for 2 steps" in cost


def test_train_and_evaluate_run_report_the_held_out_nll(tmp_path, capsys):
    """A Born machine's exact held-out NLL, with its interval, in train's evaluation, in evaluate --run (the same
    number, from the same held-out windows and repeats) and in evaluation.json; a model without a likelihood has
    none."""
    import json

    from spiqgan.models.registry import load_model
    from spiqgan.data.loaders import load_dataset

    out = tmp_path / "cry"
    args = ["--neurons", "0-2", "--timesteps", "2"]
    assert main(["train", "--model", "cry", *args, "--steps", "20", "--no-figures", "--no-progress", "--threads", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    line = next(x for x in printed.splitlines() if x.startswith("held-out NLL"))
    saved = json.loads((out / "evaluation" / "evaluation.json").read_text())["likelihood"]
    test = load_dataset(None).select_neurons("0-2").split()[1]
    windows, repeats = test.windows(2, return_repeats=True)
    exact = -load_model(out / CHECKPOINT_LAST).log_likelihood(windows).mean() / np.log(2)
    assert saved["bits_per_window"] == pytest.approx(exact, rel=1e-12) and saved["n_repeats"] == len(set(repeats))
    assert saved["low"] < exact < saved["high"] and saved["method"] == "exact"

    assert main(["evaluate", "--run", str(out), *args, "--draws", "3", "--out", str(tmp_path / "ev")]) == 0
    again = capsys.readouterr().out
    assert line in again and "samples:   the model of" in again
    assert main(["evaluate", "--run", str(out), "--neurons", "0-3", "--timesteps", "2"]) == 2
    assert "is for windows (t, n) = (2, 3), but --neurons and --timesteps select (2, 4)" in capsys.readouterr().err
    assert main(["evaluate", *args]) == 2
    assert "give what to judge" in capsys.readouterr().err


def test_evaluate_run_states_each_models_likelihood_method_or_why_it_has_none(trained, tmp_path, capsys):
    assert main(["evaluate", "--run", str(trained), "--neurons", "0-2", "--timesteps", "2", "--draws", "3"]) == 0
    out = capsys.readouterr().out
    assert "pairwise covariance" in out and "monte carlo, 2048 noise draws, estimated bias +" in out
    assert "the estimator's shared standard error" in out
    assert (trained / "evaluation" / "held_out_log_likelihood.npy").is_file()
    dg = tmp_path / "dg"
    assert main(["train", "--model", "dg", "--neurons", "0-2", "--timesteps", "2", "--out", str(dg)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", str(dg), "--neurons", "0-2", "--timesteps", "2", "--draws", "3"]) == 0
    out = capsys.readouterr().out
    assert "pairwise covariance" in out and "held-out NLL" in out and "orthant probabilities (GHK)" in out
    assert (dg / "evaluation" / "held_out_log_likelihood.npy").is_file()
    wgan = tmp_path / "wgan"
    assert main(["train", "--model", "wgan-mlp", "--steps", "3", "--neurons", "0-2", "--timesteps", "2",
                 "--out", str(wgan)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", str(wgan), "--neurons", "0-2", "--timesteps", "2", "--draws", "3"]) == 0
    out = capsys.readouterr().out
    assert "held-out NLL: n/a (an implicit generator: samples only, no likelihood)" in out
    assert not (wgan / "evaluation" / "held_out_log_likelihood.npy").exists()


@pytest.mark.parametrize("command", ["train", "evaluate", "compare"])
def test_an_out_that_is_a_file_is_refused_before_the_data_is_loaded(command, tmp_path, capsys, monkeypatch):
    import spiqgan.cli

    def no_load(args):
        raise AssertionError("the data was loaded before the --out check")

    monkeypatch.setattr(spiqgan.cli, "_load", no_load)
    out = tmp_path / "taken"
    out.write_text("a file")
    extra = {"train": [], "evaluate": ["--samples", "independent"], "compare": ["--models", "bernoulli"]}[command]
    assert main([command, *extra, "--out", str(out)]) == 2
    assert f"--out {out} is a file; give a folder" in capsys.readouterr().err


def test_a_locked_run_folder_is_refused_before_the_data_is_loaded(tmp_path, capsys, monkeypatch):
    import spiqgan.cli
    from spiqgan.experiments.runs import run_lock

    monkeypatch.setattr(spiqgan.cli, "_load", lambda args: (_ for _ in ()).throw(AssertionError("data loaded")))
    with run_lock(tmp_path / "busy"):  # another holder of the folder's lock (a separate open file: flock refuses)
        assert main(["train", "--out", str(tmp_path / "busy")]) == 2
    assert "is in use by another spiqgan run" in capsys.readouterr().err


def test_a_folder_of_another_configuration_is_refused_before_the_timed_first_step(tmp_path, capsys, monkeypatch):
    from spiqgan.models.born import BornMachine

    out = tmp_path / "run"
    assert main(["train", "--model", "bernoulli", "--neurons", "0-2", "--out", str(out), "--no-figures"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(BornMachine, "preview", lambda self, w: (_ for _ in ()).throw(AssertionError("timed")))
    assert main(["train", "--neurons", "0-2", "--out", str(out)]) == 2
    assert "holds a run of another configuration" in capsys.readouterr().err


def test_a_folder_of_other_model_options_is_refused_before_the_data_is_loaded(tmp_path, capsys, monkeypatch):
    import spiqgan.cli

    out = tmp_path / "run"
    assert main(["train", "--model", "rbm", "--hidden", "2", "--neurons", "0-2", "--timesteps", "2", "--out", str(out),
                 "--no-figures"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(spiqgan.cli, "_load", lambda args: (_ for _ in ()).throw(AssertionError("data loaded")))
    assert main(["train", "--model", "rbm", "--hidden", "3", "--neurons", "0-2", "--timesteps", "2",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a run of another configuration (model.hidden: 2 -> 3)" in err
    assert main(["train", "--model", "bernoulli", "--neurons", "0-2", "--timesteps", "2", "--out", str(out)]) == 2
    assert "another configuration (model." in capsys.readouterr().err


def test_a_folder_of_other_data_options_is_refused_before_the_data_is_loaded(tmp_path, capsys, monkeypatch):
    import spiqgan.cli

    out = tmp_path / "run"
    assert main(["train", "--model", "bernoulli", "--neurons", "0-2", "--timesteps", "2", "--out", str(out),
                 "--no-figures"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(spiqgan.cli, "_load", lambda args: (_ for _ in ()).throw(AssertionError("data loaded")))
    assert main(["train", "--model", "bernoulli", "--neurons", "0-2", "--timesteps", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a run of another configuration (data.timesteps: 2 -> 3; data.stride: 2 -> 3)" in err
