"""Figures build from statistics, use the axes given, and need no display."""

from __future__ import annotations

import numpy as np

from spiqgan.evaluation import plotting
from spiqgan.evaluation.scoring import summary_statistics


def _windows(seed, shape=(200, 3, 4)):
    return (np.random.default_rng(seed).random(shape) < 0.2).astype(np.uint8)


def test_plot_statistics_panels_and_title():
    fig = plotting.plot_statistics(summary_statistics(_windows(0)), summary_statistics(_windows(1)),
                                   title="spiqgan, last generator (step 5)")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["firing rate (spikes / bin)", "pairwise covariance", "k-probability", "autocorrelogram",
                      "lag cross-covariance", "mean time course", "spikes per window"]
    assert fig._suptitle.get_text() == "spiqgan, last generator (step 5)"
    # one point per neuron in the rate panel
    assert fig.axes[0].collections[0].get_offsets().shape == (4, 2)


def test_plot_statistics_at_t1_has_no_empty_lag_panels_and_keeps_zero_k_probabilities():
    real = summary_statistics(_windows(0, (400, 1, 4)))
    gen = dict(real, k_probability=np.array([0.5, 0.3, 0.2, 0.0, 0.0]))  # no windows with 3 or 4 spikes
    fig = plotting.plot_statistics(gen, real)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert "autocorrelogram" not in titles and "spikes per window" in titles
    kprob = fig.axes[titles.index("k-probability")]
    shown = sum(c.get_offsets().shape[0] for c in kprob.collections)
    assert shown == int((real["k_probability"] > 0).sum())  # every k the real data has, zeros included


def test_plot_pattern_distribution_uses_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    out = plotting.plot_pattern_distribution(_windows(0, (300, 1, 3)), _windows(1, (300, 1, 3)), ax=ax)
    assert out is fig
    assert len(ax.patches) > 0
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "000"  # 3-bit labels, most frequent first


def test_plot_rasters_draws_both():
    fig = plotting.plot_rasters(_windows(0), _windows(1), n_bins=30)
    assert [ax.get_title() for ax in fig.axes] == ["real: 10 windows of 3 bins", "generated: 10 windows of 3 bins"]


def test_plot_training_marks_the_best_step():
    nan = float("nan")
    history = [
        {"step": 0, "critic_loss": nan, "wasserstein": nan, "generator_loss": nan, "k_term": nan, "js": 0.5},
        {"step": 1, "critic_loss": 1.0, "wasserstein": 0.1, "generator_loss": 0.2, "k_term": 0.1, "js": 0.1},
        {"step": 2, "critic_loss": 0.5, "wasserstein": 0.1, "generator_loss": 0.1, "k_term": 0.0, "js": 0.3},
    ]
    fig = plotting.plot_training(history)
    assert len(fig.axes) == 3
    assert "best: step 1" in fig.axes[2].get_legend().get_texts()[0].get_text()


def test_plot_training_of_a_likelihood_run_has_no_empty_critic_panel():
    nan = float("nan")
    history = [{"step": s, "critic_loss": nan, "wasserstein": nan, "generator_loss": nan, "k_term": nan,
                "nll": 2.0 - s / 10, "js": 0.5 / (s + 1)} for s in range(5)]
    fig = plotting.plot_training(history)
    assert [ax.get_title() for ax in fig.axes] == ["generator", "JS divergence to training data"]


def test_plot_training_without_js_has_no_empty_js_panel():
    """A Born machine's likelihood fit never computes JS: its training.png showed an empty "JS not computed
    (n t > 20)" panel even at n t = 8."""
    history = [{"step": s, "nll": 2.0 - s / 10} for s in range(1, 6)]
    fig = plotting.plot_training(history)
    assert [ax.get_title() for ax in fig.axes] == ["generator"]


def test_one_colour_per_model_in_every_figure():
    rows = [{"label": m, "model": m, "timesteps": 1, "n_parameters": p, "covariance_ratio": r}
            for m, p, r in (("spiqgan", 700, 12.0), ("kpairwise", 55, 2.0))]
    rows.append({"label": "training repeats", "model": "training repeats", "timesteps": 1, "n_parameters": None,
                 "covariance_ratio": 1.3})
    fig = plotting.plot_error_vs_parameters(rows, ["covariance"])
    from matplotlib.colors import to_hex

    drawn = {line.get_label(): to_hex(line.get_color()) for line in fig.axes[0].get_legend().get_lines()}
    assert drawn["spiqgan"] == to_hex(plotting.model_color("spiqgan"))
    assert drawn["kpairwise"] == to_hex(plotting.model_color("kpairwise"))
    assert drawn["training repeats (t = 1)"] == to_hex("black")
    lines = plotting.plot_sweep_lines({"covariance": {(1, "kpairwise"): 2.0, (10, "kpairwise"): 3.0}}, "t", "ratio",
                                      group="model")
    assert to_hex(lines.axes[0].get_lines()[0].get_color()) == to_hex(plotting.model_color("kpairwise"))


def test_every_model_has_its_own_colour():
    """The comparison figure drew iqp and bitflip in one colour (both hashed to the same tab10 entry)."""
    from matplotlib.colors import to_hex

    from spiqgan.models.registry import MODEL_NAMES

    colours = {to_hex(plotting.model_color(m)) for m in MODEL_NAMES}
    assert len(colours) == len(MODEL_NAMES)


def test_plot_snapshots_one_column_per_stage():
    fig = plotting.plot_snapshots(_windows(0, (300, 1, 2)), {"start": _windows(1, (300, 1, 2)), "end": _windows(2, (300, 1, 2))})
    assert len(fig.axes) == 6  # a real column first, then one per stage
    assert [ax.get_title() for ax in fig.axes[:3]] == ["real (training data)", "start", "end"]
    assert fig.axes[3].get_title() == "300 bins real"


def test_models_of_one_size_are_side_by_side_not_on_one_point():
    rows = [{"label": m, "model": m, "timesteps": 1, "n_parameters": 65, "covariance_ratio": 2.0}
            for m in ("cry", "iqp", "bitflip")]
    fig = plotting.plot_error_vs_parameters(rows, ["covariance"])
    xs = [line.get_xdata()[0] for line in fig.axes[0].get_lines() if len(line.get_xdata()) == 1]
    assert len(set(xs)) == 3 and min(xs) < 65 < max(xs)
    from matplotlib.colors import to_rgb

    assert np.abs(np.subtract(to_rgb(plotting.model_color("cry")), to_rgb(plotting.model_color("bitflip")))).sum() > 0.5


def test_snapshots_label_the_real_panel_with_bit_strings_as_the_others():
    rng = np.random.default_rng(0)
    real = (rng.random((500, 2, 2)) < 0.3).astype(np.uint8)
    gen = (rng.random((500, 2, 2)) < 0.3).astype(np.uint8)
    fig = plotting.plot_snapshots(real, {"step 0": gen})
    labels = [[t.get_text() for t in ax.get_xticklabels()] for ax in fig.axes[:2]]
    assert labels[0] and all(len(x) == 4 and set(x) <= {"0", "1"} for x in labels[0])
    assert all(set(x) <= {"0", "1"} for x in labels[1] if x)
