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


def test_evaluate_npy_samples(tmp_path, capsys):
    rng = np.random.default_rng(0)
    samples = (rng.random((3000, 2, 3)) < 0.04).astype(np.uint8)
    np.save(tmp_path / "gen.npy", samples)
    assert main(["evaluate", "--samples", str(tmp_path / "gen.npy"), "--neurons", "0-2", "--timesteps", "2"]) == 0
    assert "gen.npy (3000 windows)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "--samples", "independent", "--data", "missing.mat"], "missing.mat: no such file"),
        (["evaluate", "--samples", "independent", "--neurons", "0-99"], "neuron index 16 is out of range"),
        (["evaluate", "--samples", "independent", "--timesteps", "2000"], "longer than a repeat (953 bins)"),
        (["evaluate", "--samples", "test"], "is the reference split itself"),
        (["evaluate", "--samples", "independent", "--repeat-length", "10"], "given without a data file"),
        (["evaluate", "--samples", "independent", "--test-fraction", "1.5"], "strictly between 0 and 1"),
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
    assert main(argv) == 0
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["n_reference"] == 99 * 476  # 99 held-out repeats x 476 windows of 2 bins
    rows = {r["statistic"]: r for r in report["rows"]}
    # the K-pairwise model matches the recording's pairwise statistics closely
    assert rows["covariance"]["ratio"] < 5
    # it has no temporal structure: the autocorrelogram is far off
    assert rows["autocorrelogram"]["ratio"] > 5
    assert not (tmp_path / "statistics.png").exists()
