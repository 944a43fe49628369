"""Test helper: windows with structure for the classical models."""

from __future__ import annotations

import numpy as np


def correlated_windows(n_windows: int, t: int, n: int, seed: int = 0) -> np.ndarray:
    """Sparse windows with shared input across neurons and memory across steps (a DG-like toy)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n_windows, 1, 1)) + 0.6 * rng.standard_normal((n_windows, t, 1))
    z = -1.3 + 0.7 * common + 0.7 * rng.standard_normal((n_windows, t, n)) + np.linspace(-0.4, 0.4, n)
    return (z > 0).astype(np.uint8)


def locked_truth(n_repeats: int, n_bins: int, n: int, seed: int = 0) -> np.ndarray:
    """``(n_repeats * n_bins, n)`` spikes of a stimulus-driven population: a shared drive that follows the
    stimulus, the same in every repeat, plus noise that is correlated across neurons and in time."""
    rng = np.random.default_rng(seed)
    drive = np.repeat(rng.standard_normal((n_bins // 4 + 1, 1)), 4, axis=0)[:n_bins]  # slow, the same each repeat
    gamma = -2.0 + 1.2 * drive + 0.3 * rng.standard_normal((n_bins, n))
    common = rng.standard_normal((n_repeats, n_bins, 1))
    common[:, 1:] = 0.6 * common[:, 1:] + 0.8 * common[:, :-1]  # memory in the shared noise
    z = gamma + 0.5 * common + np.sqrt(0.75) * rng.standard_normal((n_repeats, n_bins, n))
    return (z > 0).astype(np.uint8).reshape(-1, n)
