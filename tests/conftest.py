"""Shared fixtures. The salamander data are read from ../shared (never copied into the project)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina"
RECORDING = SHARED_DATA / "recording_40_neurons.mat"
K_PAIRWISE = SHARED_DATA / "k_pairwise_samples_40_neurons.mat"
REPEAT_LENGTH = 953


@pytest.fixture(scope="session")
def recording_path() -> Path:
    """Path of the shared 40-neuron recording; CI must have it, elsewhere its absence skips."""
    if not RECORDING.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the shared recording is missing at {RECORDING}; CI runs with ../shared beside the project")
        pytest.skip(f"shared recording not found at {RECORDING}")
    return RECORDING


@pytest.fixture(scope="session")
def k_pairwise_path(recording_path: Path) -> Path:
    return K_PAIRWISE


@pytest.fixture
def tiny_windows() -> np.ndarray:
    """Two windows of t = 3 bins and n = 2 neurons, used for the hand-computed statistics."""
    return np.array(
        [
            [[1, 0], [1, 1], [0, 0]],
            [[0, 1], [1, 1], [1, 1]],
        ],
        dtype=np.uint8,
    )


@pytest.fixture(autouse=True)
def _short_evaluation_sampling(monkeypatch):
    """Tests check what an evaluation says, not its precision: a sampled model gets at most 8x the held-out
    windows and 5 s of drawing in a test, in worker processes too (what the draw does at its limits is tested in
    tests/evaluation/test_generated_noise.py, which sets them itself)."""
    monkeypatch.setenv("SPIQGAN_EVAL_MAX_MULTIPLE", "8")
    monkeypatch.setenv("SPIQGAN_EVAL_BUDGET_S", "5")


def _window_chi_square_p(windows: np.ndarray, every: np.ndarray, probabilities: np.ndarray) -> float:
    """Pearson's chi-square p-value of drawn ``windows`` against the ``probabilities`` of ``every`` possible window
    (``(2^(t n), t, n)``, any order), the cells expected under 5 pooled into one."""
    from scipy.stats import chisquare

    weights = 1 << np.arange(every[0].size, dtype=np.int64)
    where = np.empty(len(every), dtype=np.int64)
    where[every.reshape(len(every), -1).astype(np.int64) @ weights] = np.arange(len(every))
    seen = np.bincount(where[windows.reshape(len(windows), -1).astype(np.int64) @ weights], minlength=len(every))
    expected = probabilities / probabilities.sum() * len(windows)
    small = expected < 5
    obs, exp = seen[~small], expected[~small]
    if small.any():
        obs, exp = np.append(obs, seen[small].sum()), np.append(exp, expected[small].sum())
    return float(chisquare(obs, exp).pvalue)


@pytest.fixture(scope="session")
def chi_square_p():
    """``chi_square_p(windows, every, probabilities)``: do drawn windows follow exact probabilities (a p-value)."""
    return _window_chi_square_p
