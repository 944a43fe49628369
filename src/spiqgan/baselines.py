r"""Classical reference models of spike windows.

:class:`IndependentBernoulli` is the floor that every generative model must
beat: each neuron at each time step of a window spikes independently,

.. math:: P(x) = \prod_{s=1}^{t} \prod_{i=1}^{n} p_{s,i}^{x_{s,i}} (1 - p_{s,i})^{1 - x_{s,i}},

with :math:`p_{s,i}` the empirical firing probability of neuron ``i`` at
position ``s`` of the training windows (maximum likelihood). It has ``t n``
parameters and reproduces the firing rates exactly, but no correlation.
"""

from __future__ import annotations

import numpy as np

from .data import check_windows
from .exceptions import SpiqganError

__all__ = ["IndependentBernoulli"]


class IndependentBernoulli:
    """Independent Bernoulli model per neuron and time step (scikit-learn style).

    Attributes
    ----------
    probabilities_ : np.ndarray
        ``(t, n)`` spike probability at each time step of a window, set by :meth:`fit`.
    """

    def fit(self, windows: np.ndarray) -> "IndependentBernoulli":
        """Fit to training windows ``(n_windows, t, n)``."""
        x = check_windows(windows, what="training windows")
        self.probabilities_ = x.mean(axis=0, dtype=np.float64)
        return self

    @property
    def n_parameters(self) -> int:
        return int(self._fitted().size)

    def _fitted(self) -> np.ndarray:
        if not hasattr(self, "probabilities_"):
            raise SpiqganError("this IndependentBernoulli model is not fitted yet; call fit(windows) first.")
        return self.probabilities_

    def sample(self, n_windows: int, seed: int | np.random.Generator = 0) -> np.ndarray:
        """Draw ``(n_windows, t, n)`` uint8 windows; the same seed gives the same windows."""
        p = self._fitted()
        rng = np.random.default_rng(seed)
        return (rng.random((int(n_windows),) + p.shape) < p).astype(np.uint8)
