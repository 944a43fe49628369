"""Test helper: windows with structure for the classical models."""

from __future__ import annotations

import numpy as np


def correlated_windows(n_windows: int, t: int, n: int, seed: int = 0) -> np.ndarray:
    """Sparse windows with shared input across neurons and memory across steps (a DG-like toy)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n_windows, 1, 1)) + 0.6 * rng.standard_normal((n_windows, t, 1))
    z = -1.3 + 0.7 * common + 0.7 * rng.standard_normal((n_windows, t, n)) + np.linspace(-0.4, 0.4, n)
    return (z > 0).astype(np.uint8)
