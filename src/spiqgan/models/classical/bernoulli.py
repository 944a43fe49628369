r"""The independent Bernoulli model: the floor that every generative model must beat.

Each neuron at each time step of a window spikes independently,

.. math:: P(x) = \prod_{s=1}^{t} \prod_{i=1}^{n} p_{s,i}^{x_{s,i}} (1 - p_{s,i})^{1 - x_{s,i}},

with :math:`p_{s,i}` the empirical firing probability of neuron ``i`` at
position ``s`` of the training windows (maximum likelihood). It has ``t n``
parameters and reproduces the firing rates exactly, but no correlation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spiqgan.models.base import ArrayModel, HasLikelihood

__all__ = ["IndependentBernoulli"]


class IndependentBernoulli(ArrayModel, HasLikelihood):
    """Independent Bernoulli model per neuron and time step.

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    seed
        Seeds sampling.

    Attributes
    ----------
    probabilities_ : np.ndarray
        ``(t, n)`` spike probability at each time step of a window, set by :meth:`fit`.
    """

    registered_name = "bernoulli"
    _FITTED = ("probabilities_",)

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        self.probabilities_ = x.mean(axis=0, dtype=np.float64)

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n_windows,) + self.probabilities_.shape) < self.probabilities_

    def log_likelihood(self, windows: np.ndarray) -> np.ndarray:
        """Exact natural-log probability of each window ``(B, t, n)``: ``(B,)`` (``-inf`` where a window has a
        spike the training windows never had at that neuron and step, or lacks one they always had)."""
        x = self._checked_windows(windows).astype(np.float64)
        p = self.probabilities_
        with np.errstate(divide="ignore", invalid="ignore"):
            per_bin = np.where(x == 1, np.log(p), np.log1p(-p))
        return per_bin.sum(axis=(1, 2))
