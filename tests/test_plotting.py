"""Figures build from statistics, use the axes given, and need no display."""

from __future__ import annotations

import numpy as np

from spiqgan import plotting
from spiqgan.evaluation import summary_statistics


def _windows(seed, shape=(200, 3, 4)):
    return (np.random.default_rng(seed).random(shape) < 0.2).astype(np.uint8)


def test_plot_statistics_four_panels():
    fig = plotting.plot_statistics(summary_statistics(_windows(0)), summary_statistics(_windows(1)))
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes][0].startswith("firing rate")
    # one point per neuron in the rate panel
    assert fig.axes[0].collections[0].get_offsets().shape == (4, 2)


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
