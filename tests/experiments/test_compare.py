"""Classical models through the same commands as SpiQGAN: train --model, sample, sweeps over models, compare."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from spiqgan.cli import main
from spiqgan.experiments.compare import comparison_rows, comparison_sweep, comparison_table
from spiqgan.exceptions import DataError
from spiqgan.experiments.sweep import parse_sweep


def test_a_grid_over_models_keeps_each_models_own_options_and_runs_each_once():
    sweep = parse_sweep({"fixed": {"n_neurons": 3, "preset": "paper"},
                         "grid": {"model": ["spiqgan", "dg", "wgan-mlp"], "size": ["matched", 8],
                                  "temporal": [True, False]}})
    names = [r.name for r in sweep.runs()]
    assert names == ["model-spiqgan", "model-dg_temporal-true", "model-dg_temporal-false",
                     "model-wgan-mlp_size-matched", "model-wgan-mlp_size-8"]
    options = {r.name: r.options for r in sweep.runs()}
    assert options["model-spiqgan"] == {"n_neurons": 3, "preset": "paper", "model": "spiqgan"}
    assert options["model-wgan-mlp_size-8"] == {"n_neurons": 3, "model": "wgan-mlp", "size": 8}


def test_sweep_options_must_belong_to_one_of_its_models():
    with pytest.raises(DataError, match="unknown option 'temporal' for model spiqgan"):
        parse_sweep({"fixed": {"n_neurons": 3, "temporal": True}})
    with pytest.raises(DataError, match="unknown model 'hmm'"):
        parse_sweep({"fixed": {"n_neurons": 3}, "grid": {"model": ["dg", "hmm"]}})
    # the sweep naming of SpiQGAN-only grids is unchanged
    sweep = parse_sweep({"fixed": {"n_neurons": 2}, "grid": {"timesteps": [1, 2], "loss": ["k", "standard"]}})
    assert sweep.runs()[1].name == "timesteps-1_loss-standard"


def test_train_and_sample_a_classical_model_from_the_command_line(tmp_path, capsys):
    run = tmp_path / "dg"
    assert main(["train", "--model", "dg", "--neurons", "0-3", "--timesteps", "2", "--out", str(run),
                 "--no-progress", "--no-figures"]) == 0
    out = capsys.readouterr().out
    # stimulus-locked by default: 4 latent means at each of the 952 bins that windows of 2 (stride 2) cover,
    # 6 same-bin and 16 lag-1 latent correlations; the training windows' starts reached the fit
    assert "fitted: 3830 parameters" in out and "held-out evaluation" in out
    assert (run / "checkpoints" / "last.safetensors").is_file() and (run / "evaluation" / "evaluation.json").is_file()
    assert main(["sample", str(run), "--windows", "7", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (7, 2, 4)
    # an option of another model: one clear line, exit status 2
    assert main(["train", "--model", "dg", "--steps", "5", "--out", str(tmp_path / "x")]) == 2
    assert "model 'dg' does not take 'steps'" in capsys.readouterr().err


def test_comparison_sweep_gives_sizes_to_the_gans_only():
    sweep = comparison_sweep({}, "0-2", [1, 2], ["bernoulli", "wgan-conv"], sizes=["matched", 4])
    assert [r.name for r in sweep.runs()] == [
        "timesteps-1_model-bernoulli", "timesteps-1_model-wgan-conv_size-matched", "timesteps-1_model-wgan-conv_size-4",
        "timesteps-2_model-bernoulli", "timesteps-2_model-wgan-conv_size-matched", "timesteps-2_model-wgan-conv_size-4"]
    assert "size" not in comparison_sweep({}, "0-2", [1], ["dg"]).grid
    with pytest.raises(DataError, match="no models"):
        comparison_sweep({}, "0-2", [1], [])


def test_comparison_table_lists_every_finished_run():
    rows = comparison_rows([
        {"status": "done", "model": "dg", "timesteps": 1, "n_parameters": 10, "firing_rate_ratio": 2.5},
        {"status": "failed", "model": "ising", "timesteps": 1},
        {"status": "done", "model": "wgan-mlp", "size": 8, "timesteps": 1, "n_parameters": 90,
         "firing_rate_ratio": 40.0},
    ])
    assert [r["label"] for r in rows] == ["dg", "wgan-mlp (8)"]
    table = comparison_table(rows)
    assert "wgan-mlp (8)" in table and "2.5" in table and "ising" not in table
    rows[0].update(nll_bits=3.25, nll_bits_low=3.2, nll_bits_high=3.3)
    assert "3.2500 [3.2000, 3.3000]" in comparison_table(rows).splitlines()[2]


@pytest.mark.slow
def test_compare_command_writes_table_plot_and_runs(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "--neurons", "0-3", "--timesteps", "1,2", "--models", "spiqgan,bernoulli,kpairwise,dg,wgan-mlp",
            "--sizes", "matched,4", "--steps", "10", "--out", str(out), "--workers", "1"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "kpairwise" in text and "wgan-mlp (matched)" in text
    with open(out / "comparison.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 + 12 and (out / "comparison.png").stat().st_size > 10_000
    by = {(r["label"], r["timesteps"]): r for r in rows}
    # the reference rows: the training repeats judged like a model, no parameters, every column header whole
    assert by[("training repeats", "1")]["n_parameters"] == "" and float(by[("training repeats", "2")]
                                                                          ["covariance_ratio"]) > 0
    assert "training repeats" in text and "lag cross-covariance" in text and "pattern JS divergence" in text
    assert by[("kpairwise", "1")]["n_parameters"] == "12"  # n + n(n-1)/2 + (n - 2)
    assert by[("bernoulli", "2")]["n_parameters"] == "8"
    # the exact held-out NLL with its interval where a model has one (bernoulli, kpairwise), none elsewhere
    nll = by[("kpairwise", "1")]
    assert float(nll["nll_bits_low"]) < float(nll["nll_bits"]) < float(nll["nll_bits_high"])
    assert by[("spiqgan", "1")]["nll_bits"] == "" and by[("training repeats", "1")]["nll_bits"] == ""
    assert float(by[("bernoulli", "1")]["nll_bits"]) > float(nll["nll_bits"])  # the independent model fits worse
    assert "held-out NLL, bits per window" in text
    spiqgan, matched = int(by[("spiqgan", "2")]["n_parameters"]), int(by[("wgan-mlp (matched)", "2")]["n_parameters"])
    assert abs(matched - spiqgan) < 0.1 * spiqgan
    # a second call redoes nothing
    assert main(argv) == 0
    assert "0 to run" in capsys.readouterr().err
    # the sweep report of a comparison: lines per model, and the error-against-parameters figure
    assert main(["report", str(out)]) == 0
    page = (out / "report" / "index.html").read_text()
    assert (out / "report" / "comparison.png").is_file() and "comparison.png" in page
    assert "Data: the built-in synthetic dataset" in page and "neurons 0-3" in page
