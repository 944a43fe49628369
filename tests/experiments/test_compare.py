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
    # the held-out NLL with its interval where a model has one (exact: bernoulli, kpairwise; GHK: dg), none elsewhere
    nll = by[("kpairwise", "1")]
    assert float(nll["nll_bits_low"]) < float(nll["nll_bits"]) < float(nll["nll_bits_high"])
    assert by[("dg", "1")]["nll_method"].startswith("orthant probabilities (GHK)")
    assert by[("wgan-mlp (matched)", "1")]["nll_bits"] == "" and by[("training repeats", "1")]["nll_bits"] == ""
    assert by[("kpairwise", "1")]["nll_method"] == "exact"
    assert by[("spiqgan", "1")]["nll_method"].startswith("monte carlo, ")  # the chain's NLL over noise draws
    assert float(by[("spiqgan", "1")]["nll_shared_se"]) > 0
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


def test_neuron_groups_are_the_benchmarks_seeded_draws():
    from spiqgan.experiments.compare import neuron_groups

    groups = neuron_groups(range(40), 10, 5)
    assert groups[2] == sorted(np.random.default_rng(2).choice(40, 10, replace=False).tolist())
    assert neuron_groups([3, 5, 9, 12], 2, 3)[1] == sorted(
        [3, 5, 9, 12][i] for i in np.random.default_rng(1).choice(4, 2, replace=False))
    with pytest.raises(DataError, match="group of 5 neurons cannot be drawn from 4"):
        neuron_groups([1, 2, 3, 4], 5, 2)


def test_folds_in_a_sweep_need_both_options_in_range():
    base = {"data": {}, "fixed": {"neurons": "0-3", "model": "bernoulli"}}
    with pytest.raises(DataError, match="folds .* and fold .* together"):
        parse_sweep({**base, "grid": {"fold": [0, 1]}})
    with pytest.raises(DataError, match="fold must be an integer in 0 .. 1"):
        parse_sweep({**base, "fixed": {**base["fixed"], "folds": 2}, "grid": {"fold": [0, 2]}})


def test_compare_over_groups_seeds_and_folds_gives_paired_verdicts(tmp_path, capsys):
    """Every model in every cell; the per-cell verdicts agree with compare_nll on models fitted through the API
    to the same fold; the joint verdict finds the pairwise model better than the independent one."""
    from spiqgan.data.loaders import load_dataset
    from spiqgan.evaluation.likelihood import compare_nll
    from spiqgan.experiments.compare import neuron_groups
    from spiqgan.models import make_model

    out = tmp_path / "cells"
    argv = ["compare", "--models", "bernoulli,ising,dg", "--groups", "2", "--group-size", "3", "--seeds", "2",
            "--folds", "2", "--out", str(out), "--workers", "1", "--no-figures"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Over 8 cells (2 groups of neurons, 2 seeds, 2 folds)" in text
    # two comparisons with the baseline: ising, and the DG (by GHK orthant probabilities)
    assert "95 % Bonferroni-corrected for 2 comparisons" in text and "ising - bernoulli, t = 1" in text
    assert "dg - bernoulli, t = 1" in text
    with open(out / "verdicts.csv", newline="") as fh:
        verdicts = list(csv.DictReader(fh))
    assert {v["cell"] for v in verdicts} == {"g0 s0 f0", "g0 s0 f1", "g0 s1 f0", "g0 s1 f1", "g1 s0 f0", "g1 s0 f1",
                                             "g1 s1 f0", "g1 s1 f1", "all"}
    joint = next(v for v in verdicts if v["cell"] == "all" and v["model"] == "ising")
    assert joint["verdict"] == "better" and float(joint["high"]) < 0
    # cell g1 s0 f1 recomputed through the Python API
    group = neuron_groups(range(load_dataset(None).n_neurons), 3, 2)[1]
    raster = load_dataset(None).select_neurons(",".join(map(str, group)))
    train, test = raster.fold(1, 2)
    test_w, reps = test.windows(1, return_repeats=True)
    ll = {m: make_model(m, 3, 1, seed=0).fit(train.windows(1)).log_likelihood(test_w) for m in ("ising", "bernoulli")}
    expected = compare_nll(ll["ising"], ll["bernoulli"], reps, level=1 - 0.05 / 2)
    cell = next(v for v in verdicts if v["cell"] == "g1 s0 f1" and v["model"] == "ising")
    assert float(cell["difference_bits"]) == pytest.approx(expected.difference, rel=1e-6)  # the csv's digits
    assert float(cell["low"]) == pytest.approx(expected.low, rel=1e-6)
    capsys.readouterr()
    assert main(argv + ["--baseline", "cry"]) == 2
    assert "--baseline cry is not a model of this comparison" in capsys.readouterr().err
