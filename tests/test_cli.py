"""The command line end to end, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spiqgan.cli import main


def test_evaluate_on_builtin_default_writes_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["evaluate", "--samples", "independent", "--neurons", "0-3", "--timesteps", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "firing rate" in printed and "ratio" in printed and "built-in" not in printed.split("\n")[0]
    report = json.loads((out / "evaluation.json").read_text())
    assert report["metadata"]["data"] == "built-in synthetic"
    assert report["metadata"]["neurons"] == [0, 1, 2, 3]
    assert [r["statistic"] for r in report["rows"]][:2] == ["firing_rate", "covariance"]
    for name in ("evaluation.txt", "statistics.png", "patterns.png", "rasters.png"):
        assert (out / name).stat().st_size > 0, name


def test_the_builtin_population_takes_a_size(tmp_path, capsys):
    """--synthetic-neurons sizes the built-in population (the 100-neuron speed target runs on it)."""
    out = tmp_path / "run"
    assert main(["evaluate", "--samples", "independent", "--synthetic-neurons", "30", "--neurons", "20-29",
                 "--out", str(out)]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["metadata"]["data"] == "built-in synthetic (30 neurons)"
    assert report["metadata"]["neurons"] == list(range(20, 30))


def test_evaluate_with_bootstrap_intervals(tmp_path, capsys):
    out = tmp_path / "boot"
    assert main(["evaluate", "--samples", "independent", "--neurons", "0-2", "--timesteps", "2", "--bootstrap", "20",
                 "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert "ratio, 95 %" in printed and "bootstrap replicates of the held-out repeats" in printed
    intervals = json.loads((out / "evaluation.json").read_text())["ratio_intervals"]
    low, high = intervals["covariance"]
    assert 0 <= low <= high


def test_evaluate_npy_samples(tmp_path, capsys):
    rng = np.random.default_rng(0)
    samples = (rng.random((3000, 2, 3)) < 0.04).astype(np.uint8)
    np.save(tmp_path / "gen.npy", samples)
    assert main(["evaluate", "--samples", str(tmp_path / "gen.npy"), "--neurons", "0-2", "--timesteps", "2"]) == 0
    assert "gen.npy (3000 windows)" in capsys.readouterr().out


def test_evaluate_refuses_samples_of_another_window_length_unless_asked_to_split(tmp_path, capsys):
    samples = (np.random.default_rng(0).random((3000, 4, 3)) < 0.04).astype(np.uint8)
    np.save(tmp_path / "gen4.npy", samples)
    argv = ["evaluate", "--samples", str(tmp_path / "gen4.npy"), "--neurons", "0-2", "--timesteps", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds windows of t = 4 bins, but 2 are asked for; give --timesteps 4, or --split-windows" in err
    assert main(argv + ["--split-windows"]) == 0
    assert "gen4.npy (6000 windows)" in capsys.readouterr().out  # each window cut into two of 2 bins


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "--samples", "independent", "--data", "missing.mat"], "missing.mat: no such file"),
        (["evaluate", "--samples", "independent", "--neurons", "0-99"], "neuron index 16 is out of range"),
        (["evaluate", "--samples", "independent", "--timesteps", "2000"], "longer than a repeat (953 bins)"),
        (["evaluate", "--samples", "test"], "is the reference split itself"),
        (["evaluate", "--samples", "independent", "--repeat-length", "10"], "given without a data file"),
        (["evaluate", "--samples", "independent", "--test-fraction", "1.5"], "strictly between 0 and 1"),
        (["evaluate", "--samples", "independent", "--bootstrap", "1"], "--bootstrap must be 0 or at least 2"),
        (["evaluate", "--samples", "independent", "--data", "x.npy", "--synthetic-neurons", "5"],
         "synthetic neurons given with a data file"),
        (["evaluate", "--samples", "independent", "--synthetic-neurons", "0"], "n_neurons must be a positive integer"),
    ],
)
def test_errors_are_one_line_without_traceback(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("spiqgan: error: ") and message in err
    assert "Traceback" not in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "evaluate" in capsys.readouterr().out


@pytest.mark.slow
def test_evaluate_shared_recording_against_k_pairwise(recording_path, k_pairwise_path, tmp_path, capsys):
    argv = [
        "evaluate", "--data", str(recording_path), "--repeat-length", "953", "--neurons", "0-3", "--timesteps", "2",
        "--samples", str(k_pairwise_path), "--out", str(tmp_path), "--no-figures",
    ]
    # 283032 rows: the last repeat is short, which must be asked for
    assert main(argv) == 2
    assert "--allow-partial-repeat" in capsys.readouterr().err
    assert main(argv + ["--allow-partial-repeat"]) == 0
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["n_reference"] == 99 * 476  # 99 held-out repeats x 476 windows of 2 bins
    rows = {r["statistic"]: r for r in report["rows"]}
    # the K-pairwise model matches the recording's pairwise statistics closely
    assert rows["covariance"]["ratio"] < 5
    # it has no temporal structure: the autocorrelogram is far off
    assert rows["autocorrelogram"]["ratio"] > 5
    assert not (tmp_path / "statistics.png").exists()


@pytest.mark.slow
def test_train_sample_evaluate_end_to_end(tmp_path, capsys):
    run = tmp_path / "run"
    config = tmp_path / "hp.toml"
    config.write_text('steps = 8\neval-every = 4\njs_windows = 200\nlr_generator = 0.02\n')
    argv = ["train", "--model", "spiqgan", "--neurons", "0-2", "--timesteps", "2", "--config", str(config), "--seed", "1",
            "--out", str(run), "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "held-out evaluation, last generator" in out and "maximum likelihood" in out
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["steps"] == 8 and cfg["model"]["lr_generator"] == 0.02 and cfg["model"]["seed"] == 1
    assert cfg["data"]["neurons"] == [0, 1, 2]
    metrics = (run / "metrics.csv").read_text().splitlines()
    assert metrics[0].startswith("step,critic_loss") and len(metrics) == 1 + 9
    for name in ("checkpoints/last.safetensors", "checkpoints/best.safetensors", "training.png", "snapshots.png",
                 "evaluation/evaluation.json", "evaluation/statistics.png"):
        assert (run / name).exists(), name
    samples = tmp_path / "s.npy"
    assert main(["sample", str(run), "--windows", "500", "--seed", "3", "--out", str(samples)]) == 0
    w = np.load(samples)
    assert w.shape == (500, 2, 3) and w.dtype == np.uint8
    assert main(["evaluate", "--neurons", "0-2", "--timesteps", "2", "--samples", str(samples)]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "spiqgan", "--out", "x", "--loss", "kk"], "invalid choice"),
        (["train", "--out", "x", "--steps", "0", "--no-progress"], "steps must be a positive integer"),
        (["train", "--out", "x", "--config", "missing.toml"], "missing.toml: no such config file"),
        (["sample", "nowhere", "--out", "s.npy"], "no such checkpoint file"),
    ],
)
def test_train_and_sample_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects bad choices itself, with usage on stderr
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_train_rejects_unknown_config_keys(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("learning_rate = 0.1\n")
    assert main(["train", "--out", str(tmp_path / "r"), "--config", str(tmp_path / "bad.toml")]) == 2
    assert "unknown hyperparameter 'learning_rate'" in capsys.readouterr().err


def test_options_whose_default_the_model_decides_take_integers_and_switches(tmp_path, capsys):
    # --memory 1 was parsed as 1.0 and refused ("memory must be an integer >= 0, got 1.0")
    args = ["train", "--model", "cry", "--neurons", "0-2", "--timesteps", "2", "--memory", "1", "--history", "0",
            "--no-count-term", "--steps", "2", "--no-figures", "--no-progress", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    assert "fitted: " in capsys.readouterr().out


def test_messages_name_the_users_own_options(tmp_path, capsys):
    """Each said something about another option or a format it was not (issue 27, messages)."""
    (tmp_path / "t.npy").write_text("hello")
    assert main(["evaluate", "--samples", str(tmp_path / "t.npy")]) == 2
    err = capsys.readouterr().err
    assert "not a NumPy .npy file (it lacks the .npy header)" in err and "pickled" not in err
    assert main(["evaluate", "--samples", str(tmp_path / "nope.npy")]) == 2
    err = capsys.readouterr().err
    assert "nope.npy: no such file. Check the path." in err and "--data" not in err
    (tmp_path / "d.xyz").write_text("x")
    assert main(["train", "--data", str(tmp_path / "d.xyz"), "--out", str(tmp_path / "r")]) == 2
    assert "expected .mat, .npy, .npz or .nwb" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "r"), "--windows", "0", "--out", str(tmp_path / "s.npy")]) == 2
    assert "--windows must be a positive integer, got 0" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["report", str(tmp_path / "plain")]) == 2
    assert "spiqgan sweep --config SWEEP.toml --out" in capsys.readouterr().err


def test_a_fit_too_large_for_memory_is_refused_in_one_line_before_its_first_step(tmp_path):
    """Under a 6 GB address-space limit a 17-qubit likelihood fit with 4096 noise draws ended in a raw torch
    traceback during the timed first step; now a one-line refusal naming the estimate and what lowers it."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2 ** 30, 6 * 2 ** 30))

    done = subprocess.run([sys.executable, "-m", "spiqgan", "train", "--model", "spiqgan", "--neurons", "0-15",
                           "--backend", "statevector", "--noise-samples", "4096", "--out", str(tmp_path / "r"),
                           "--no-figures"], preexec_fn=limit, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("spiqgan: error: this fit needs about 128.0 GiB of memory at its peak, more than")
    assert "--noise-samples" in done.stderr and "Traceback" not in done.stderr
    assert "first step timed" not in done.stdout


def test_an_allocation_that_fails_anyway_is_one_line(monkeypatch, capsys):
    import spiqgan.cli

    def fails(args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you "
                           "tried to allocate 34359738368 bytes.\nmore")

    monkeypatch.setattr(spiqgan.cli, "_cmd_evaluate", fails)  # main() builds its parser, and binds this, anew
    assert main(["evaluate", "--samples", "independent"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spiqgan: error: out of memory (") and "tried to allocate 34359738368 bytes" in err
    assert err.count("\n") == 1
