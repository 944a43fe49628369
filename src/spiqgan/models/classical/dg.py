r"""The dichotomized Gaussian (Macke et al. 2009), static and temporal.

A latent Gaussian :math:`z \sim \mathcal N(\gamma, \Lambda)` with unit
variances is thresholded at zero: :math:`x = [z > 0]`. The means are set by
the firing probabilities, :math:`\Phi(\gamma_i) = p_i`, and each latent
correlation by the probability that two units spike together,

.. math:: \Phi_2(\gamma_i, \gamma_j; \Lambda_{ij}) = \mathbb E[x_i x_j],

solved for :math:`\Lambda_{ij}` by bisection (all pairs at once). The bivariate
normal integral comes from Plackett's identity
:math:`\partial \Phi_2 / \partial \rho = \phi_2` integrated on
:math:`\rho = \sin\theta` (a smooth integrand) with Gauss-Legendre nodes.
Where the pairwise targets admit no joint Gaussian, :math:`\Lambda` is moved
to the nearest correlation matrix (eigenvalues clipped, unit diagonal again).

Static (``t = 1``, or ``temporal=False``): one ``n``-dimensional Gaussian per
time bin, bins independent; ``n + n(n-1)/2`` parameters. Temporal: one
``t n``-dimensional Gaussian per window, stationary in time: the latent
correlation of neuron ``i`` at step ``s`` and ``j`` at ``s + tau`` depends on
``(i, j, tau)`` only, fitted to the moments pooled over ``s``;
``n + n(n-1)/2 + (t-1) n^2`` parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spiqgan.models.base import ModelConfigError, ArrayModel

__all__ = ["DichotomizedGaussian", "bivariate_orthant", "latent_correlation"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
#: latent correlations are kept inside (-RHO_MAX, RHO_MAX)
RHO_MAX = 0.999


def bivariate_orthant(a: np.ndarray, b: np.ndarray, rho: np.ndarray) -> np.ndarray:
    r""":math:`\Phi_2(a, b; \rho) = P(Z_1 < a, Z_2 < b)` for standard normals of correlation ``rho`` (broadcast)."""
    from scipy.special import ndtr

    a, b, rho = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, rho)))
    top = np.arcsin(np.clip(rho, -1.0, 1.0))
    theta = 0.5 * top[..., None] * (_NODES + 1.0)  # Gauss-Legendre nodes on [0, arcsin rho]
    s, c2 = np.sin(theta), np.cos(theta) ** 2
    aa, bb = a[..., None], b[..., None]
    integrand = np.exp(-(aa ** 2 - 2.0 * aa * bb * s + bb ** 2) / (2.0 * c2)) / (2.0 * np.pi)
    return ndtr(a) * ndtr(b) + 0.5 * top * (integrand * _WEIGHTS).sum(-1)


def latent_correlation(a: np.ndarray, b: np.ndarray, target: np.ndarray, iterations: int = 60) -> np.ndarray:
    """The ``rho`` with ``bivariate_orthant(a, b, rho) = target``, by bisection on ``[-RHO_MAX, RHO_MAX]`` (clamped)."""
    lo = np.full(np.broadcast(a, b, target).shape, -RHO_MAX)
    hi = np.full_like(lo, RHO_MAX)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = bivariate_orthant(a, b, mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def nearest_correlation(c: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """``c`` with its eigenvalues clipped at ``floor`` and rescaled to a unit diagonal (unchanged if already valid)."""
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    if w.min() >= floor:
        return c
    fixed = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


class DichotomizedGaussian(ArrayModel):
    """Dichotomized Gaussian; temporal (one Gaussian over the window) when ``t > 1`` unless ``temporal=False``.

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    temporal
        One latent Gaussian over the whole window (``t > 1``), or one per time bin (static).
    seed
        Seeds sampling.

    Attributes
    ----------
    mean_ : np.ndarray
        ``(d,)`` latent means, ``d = t n`` (temporal) or ``n`` (static).
    correlation_ : np.ndarray
        ``(d, d)`` latent correlation matrix, units ordered time step by time step.
    """

    registered_name = "dg"
    _FITTED = ("mean_", "correlation_")

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, temporal: bool = True,
                 seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.temporal = temporal

    def resolved_params(self) -> dict[str, Any]:
        p = super().resolved_params()
        if not isinstance(p["temporal"], bool):
            raise ModelConfigError(f"temporal must be true or false, got {p['temporal']!r}.")
        return p

    def _is_temporal(self) -> bool:
        return bool(self.params_["temporal"]) and self.params_["n_timesteps"] > 1

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        from scipy.special import ndtri

        _, t, n = x.shape
        t_model = t if self._is_temporal() else 1
        xf = x.astype(np.float64)
        rate = np.clip(xf.mean(axis=(0, 1)), 1e-6, 1 - 1e-6)
        gamma = ndtri(rate)
        blocks = []
        for lag in range(t_model):  # E[x_{s,i} x_{s+lag,j}], pooled over s
            a, b = xf[:, : t - lag].reshape(-1, n), xf[:, lag:].reshape(-1, n)
            second = a.T @ b / len(a)
            rho = latent_correlation(gamma[:, None], gamma[None, :], second)
            if lag == 0:
                rho = 0.5 * (rho + rho.T)
                np.fill_diagonal(rho, 1.0)
            blocks.append(rho)
        d = t_model * n
        corr = np.empty((d, d))
        for s in range(t_model):
            for u in range(t_model):
                block = blocks[u - s] if u >= s else blocks[s - u].T
                corr[s * n:(s + 1) * n, u * n:(u + 1) * n] = block
        self.mean_ = np.tile(gamma, t_model)
        self.correlation_ = nearest_correlation(corr)
        if progress is not None:
            progress.update(1)

    def _n_parameters(self) -> int:
        n, t = self.params_["n_neurons"], self.params_["n_timesteps"]
        return n + n * (n - 1) // 2 + ((t - 1) * n * n if self._is_temporal() else 0)

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        w, v = np.linalg.eigh(self.correlation_)
        root = v * np.sqrt(np.maximum(w, 0.0))
        d = len(self.mean_)
        draws = n_windows * self.params_["n_timesteps"] * self.params_["n_neurons"] // d
        z = self.mean_ + rng.standard_normal((draws, d)) @ root.T
        return z > 0
