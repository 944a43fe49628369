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

Stimulus-locked (``stimulus_locked=True``, the default; what the published DG samples of the
salamander data are, their population rate following the recording's over the movie with
correlation 0.9994, ``python benchmarks/published_dg.py``): the latent mean of neuron ``i`` follows
its firing probability at each bin ``b`` of the repeated stimulus (Lyamzin et al. 2010),

.. math:: \Phi(\gamma_{b i}) = \frac{s_{b i} + \alpha \bar p_i}{o_b + \alpha},

with ``s`` its spikes and ``o`` the windows that saw bin ``b`` in training, ``\bar p_i`` its mean
rate and ``alpha = rate_prior`` (in repeats) pulling bins seen in few repeats towards it: a bin
where a neuron never fired in training gets a small probability, not the half spike of a clip,
which on 40 neurons alone moved P(no spike) by 0.03. The latent correlations (``(i, j, tau)``,
stationary) are then solved so that each second moment *pooled over the stimulus* equals the
data's: :math:`\sum_b w_b \Phi_2(\gamma_{b i}, \gamma_{b+\tau, j}; \rho) / \sum_b w_b`, by Newton's
method on :math:`\rho` (its derivative is the bivariate normal density) inside a bisection
bracket. A window is sampled at a start bin drawn from the training windows' starts.

Why it matters (``python benchmarks/published_dg.py``, neurons 0-39, t = 1): with one latent mean
per neuron the pooled pairwise moments of a stimulus-driven population admit no Gaussian (the
latent correlation matrix has eigenvalues down to -0.73), and the nearest valid one misses the
k-probability by 378x the noise floor; following the stimulus, the latent correlations are the
noise correlations left over and the k-probability is within the published samples' error.

**Held-out likelihood** (:meth:`DichotomizedGaussian.estimate_log_likelihood`): a window's
probability is the Gaussian mass of one orthant, :math:`P(x) = P(\operatorname{sign} z = 2x - 1)`
in ``d = t n`` dimensions (the stimulus-locked DG: a mixture of such orthants over the stimulus bins a
window may start at, weighted as sampling weights them). :func:`orthant_log_probability` estimates
it by the Geweke-Hajivassiliou-Keane simulator (Genz 1992's separation of variables): the latent
Gaussian is written through its Cholesky factor and each coordinate is drawn from its normal
truncated to the orthant given the earlier ones; the product of the truncated masses is an unbiased
estimate of the orthant probability, exact for independent units. The mixture over start bins is
importance-sampled from the independent-units approximation, so each draw's weight is the ratio of
the correlated to the independent probability, one for uncorrelated units. The log of the mean
weight is biased low by the delta method's :math:`\operatorname{Var}(r) / 2M` (stated, not
subtracted); its variance is stated per window (``M`` draws of its own per distinct window).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spiqgan.models.base import ArrayModel, EstimatesLikelihood, LikelihoodEstimate, ModelConfigError

__all__ = ["DichotomizedGaussian", "bivariate_orthant", "latent_correlation", "locked_correlation",
           "orthant_log_probability"]

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


def _plackett_terms(a: np.ndarray, b: np.ndarray, rho: np.ndarray, nodes: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """``(Phi_2(a, b; rho), phi_2(a, b; rho))`` elementwise (broadcast), the integral on ``nodes`` Gauss-Legendre nodes.

    The loop over nodes keeps memory at a few arrays of the broadcast shape.
    """
    from scipy.special import ndtr

    x, w = np.polynomial.legendre.leggauss(nodes)
    rho = np.clip(rho, -RHO_MAX, RHO_MAX)
    top = np.arcsin(rho)
    a2b2, ab = a * a + b * b, a * b
    integral = np.zeros(np.broadcast_shapes(a.shape, b.shape, rho.shape))
    for xk, wk in zip(x, w):
        theta = 0.5 * top * (xk + 1.0)
        s, c2 = np.sin(theta), np.cos(theta) ** 2
        integral += wk * np.exp(-(a2b2 - 2.0 * ab * s) / (2.0 * c2))
    cdf = ndtr(a) * ndtr(b) + 0.5 * top * integral / (2.0 * np.pi)
    one = 1.0 - rho * rho
    density = np.exp(-(a2b2 - 2.0 * ab * rho) / (2.0 * one)) / (2.0 * np.pi * np.sqrt(one))
    return cdf, density


def locked_correlation(a: np.ndarray, b: np.ndarray, weights: np.ndarray, target: np.ndarray,
                       iterations: int = 40, tol: float = 1e-10) -> np.ndarray:
    r"""The ``rho`` ``(P,)`` with :math:`\sum_k w_k \Phi_2(a_{kp}, b_{kp}; \rho_p) / \sum_k w_k = t_p`.

    ``a``, ``b``: ``(K, P)`` latent means at ``K`` stimulus bins for ``P`` pairs; ``weights`` ``(K,)``;
    ``target`` ``(P,)``. Newton steps on ``rho`` (the derivative is the weighted density), kept in a
    bisection bracket on ``[-RHO_MAX, RHO_MAX]`` (a step that leaves it bisects instead); clamped
    where the target is out of reach.
    """
    w = np.asarray(weights, dtype=np.float64)[:, None] / np.sum(weights)
    lo = np.full(target.shape, -RHO_MAX)
    hi = np.full(target.shape, RHO_MAX)
    rho = np.zeros(target.shape)
    for _ in range(iterations):
        cdf, dens = _plackett_terms(a, b, rho[None, :])
        f = (w * cdf).sum(0) - target
        df = (w * dens).sum(0)
        lo = np.where(f < 0, rho, lo)
        hi = np.where(f >= 0, rho, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = rho - f / df
        inside = np.isfinite(step) & (step > lo) & (step < hi)
        new = np.where(inside, step, 0.5 * (lo + hi))
        if np.max(np.abs(new - rho)) < tol:
            rho = new
            break
        rho = new
    return rho


def orthant_log_probability(patterns: np.ndarray, means: np.ndarray, correlation: np.ndarray, *,
                            weights: np.ndarray | None = None, draws: int | np.ndarray = 1000,
                            seed: int | tuple[int, ...] = 0,
                            chunk_floats: int = 2 ** 23) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Estimated :math:`\log P(x)` of each pattern under a mixture of dichotomized Gaussians (GHK simulator).

    :math:`P(x) = \sum_b w_b\, P(\operatorname{sign}(\mu_b + L e) = 2x - 1)` with :math:`e \sim
    \mathcal N(0, I)`, :math:`L L^\top` = ``correlation``; one component when ``weights`` is ``None``.

    Parameters
    ----------
    patterns
        ``(P, d)`` 0/1 patterns (each distinct pattern once: each gets its own draws).
    means
        ``(B, d)`` latent means of the ``B`` components (``(d,)``: one).
    correlation
        ``(d, d)`` latent correlation matrix (positive definite).
    weights
        ``(B,)`` non-negative mixture weights (normalized here), or ``None`` for one component.
    draws
        Draws per pattern (at least 2): one number, or ``(P,)`` one per pattern.
    seed
        Seeds the draws (an int or a tuple of ints, as :class:`numpy.random.SeedSequence` takes).

    Returns
    -------
    log_p, variance, bias
        ``(P,)`` each: the natural-log estimate, its variance (delta method, :math:`\operatorname{Var}(r) / M`
        for the relative weights ``r``) and its estimated bias :math:`-\operatorname{Var}(r) / 2M`.
    """
    import torch
    from spiqgan.training.likelihood import mixture_terms

    x = np.asarray(patterns, dtype=bool)
    mu = np.atleast_2d(np.asarray(means, dtype=np.float64))
    n_pat, d = x.shape
    if mu.shape[1] != d or np.shape(correlation) != (d, d):
        raise ValueError(f"patterns of {d} units need means (B, {d}) and a ({d}, {d}) correlation; got "
                         f"{mu.shape} and {np.shape(correlation)}.")
    draws = np.broadcast_to(np.asarray(draws), (n_pat,)).astype(np.int64)
    if n_pat and draws.min() < 2:
        raise ValueError(f"draws must be at least 2, got {int(draws.min())}.")
    w = np.ones(len(mu)) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = w > 0
    mu, log_w = torch.as_tensor(mu[keep]), torch.as_tensor(np.log(w[keep] / w[keep].sum()))  # (B, d), (B,)
    chol = torch.as_tensor(np.linalg.cholesky(np.asarray(correlation, dtype=np.float64)))
    diag = torch.diagonal(chol).clone()
    sign = torch.as_tensor(np.where(x, 1.0, -1.0))  # (P, d)
    log_up, log_down = torch.special.log_ndtr(mu), torch.special.log_ndtr(-mu)  # independent units' marginals
    gen = torch.Generator().manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
    tiny = torch.finfo(torch.float64).tiny
    out = np.empty((3, n_pat))

    def chunk(s: torch.Tensor, m: int) -> torch.Tensor:
        up = s > 0
        # each component's independent-units log-probability (+ log weight); the components drawn from it
        log_q = up.double() @ log_up.T + (~up).double() @ log_down.T + log_w  # (C, B)
        comp = torch.multinomial(torch.softmax(log_q, dim=1), m, replacement=True, generator=gen)  # (C, m)
        e = torch.empty((d, len(s), m), dtype=torch.float64)
        log_r = -(torch.gather(log_q, 1, comp) - log_w[comp])  # minus the independent units' log-probability
        for i in range(d):
            shift = mu[:, i][comp]
            if i:
                shift = shift + torch.tensordot(chol[i, :i], e[:i], dims=1)
            a = s[:, i:i + 1] * shift / diag[i]  # the truncated coordinate's mass is Phi(a)
            log_mass = torch.special.log_ndtr(a)
            log_r += log_mass
            u = torch.rand(a.shape, generator=gen, dtype=torch.float64).clamp_(min=tiny)
            e[i] = -s[:, i:i + 1] * torch.special.ndtri(torch.exp(torch.log(u) + log_mass).clamp_(min=tiny))
        log_mean, _, bias = mixture_terms(log_r.T)
        return torch.stack([torch.logsumexp(log_q, dim=1) + log_mean, -2.0 * bias, bias])

    for m in np.unique(draws):  # patterns with the same number of draws together, in chunks of bounded memory
        where = np.flatnonzero(draws == m)
        step = max(1, chunk_floats // (int(m) * d))
        for lo in range(0, len(where), step):
            part = where[lo:lo + step]
            out[:, part] = chunk(sign[part], int(m)).numpy()
    return out[0], out[1], out[2]


class DichotomizedGaussian(ArrayModel, EstimatesLikelihood):
    """Dichotomized Gaussian, following the stimulus by default; temporal (one Gaussian over the window) when ``t > 1``.

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    temporal
        One latent Gaussian over the whole window (``t > 1``), or one per time bin (static).
    stimulus_locked
        Latent means that follow each neuron's firing probability at each bin of the repeated
        stimulus (needs the windows' ``starts`` and repeats of the stimulus), or one mean per neuron
        (stationary, the model of Macke et al. 2009 pooled over the recording).
    rate_prior
        Stimulus-locked only: how many repeats' worth of each neuron's mean rate is added to its
        count at each bin (a positive number; 1 by default).
    eigenvalue_floor
        Where the pairwise targets admit no joint Gaussian, the latent correlation matrix's eigenvalues
        are clipped at this before its diagonal is made 1 again.
    seed
        Seeds sampling.

    Attributes
    ----------
    mean_ : np.ndarray
        Latent means: ``(d,)``, ``d = t n`` (temporal) or ``n`` (static); stimulus-locked: ``(n_bins, n)``,
        one row per bin of the stimulus.
    correlation_ : np.ndarray
        ``(d, d)`` latent correlation matrix, units ordered time step by time step.
    start_weights_ : np.ndarray
        Stimulus-locked: ``(n_bins,)`` how many training windows started at each bin (where sampled
        windows start); stationary: empty.
    """

    registered_name = "dg"
    _FITTED = ("mean_", "correlation_", "start_weights_")

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, temporal: bool = True,
                 stimulus_locked: bool = True, rate_prior: float = 1.0, eigenvalue_floor: float = 0.1,
                 seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.temporal = temporal
        self.stimulus_locked = stimulus_locked
        self.rate_prior = rate_prior
        self.eigenvalue_floor = eigenvalue_floor

    @property
    def uses_stimulus_time(self) -> bool:  # type: ignore[override]
        return bool(self.stimulus_locked)

    def resolved_params(self) -> dict[str, Any]:
        p = super().resolved_params()
        for k in ("temporal", "stimulus_locked"):
            if not isinstance(p[k], bool):
                raise ModelConfigError(f"{k} must be true or false, got {p[k]!r}.")
        self._check_positive(p, ("rate_prior", "eigenvalue_floor"), kind=float)
        if p["eigenvalue_floor"] >= 1:
            raise ModelConfigError(f"eigenvalue_floor must be below 1 (a latent correlation matrix's eigenvalues "
                                   f"average 1), got {p['eigenvalue_floor']!r}.")
        return p

    def _is_temporal(self) -> bool:
        return bool(self.params_["temporal"]) and self.params_["n_timesteps"] > 1

    def _is_locked(self) -> bool:
        return bool(self.params_["stimulus_locked"])

    def progress_steps(self) -> int:
        """One step per lag of the latent correlations (``t`` of a temporal DG, else one)."""
        t = self.n_timesteps
        return int(t) if self.temporal and isinstance(t, int) and t > 1 else 1

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        from scipy.special import ndtri

        _, t, n = x.shape
        t_model = t if self._is_temporal() else 1
        xf = x.astype(np.float64)
        mean_rate = xf.mean(axis=(0, 1))
        if self._is_locked():
            if self._starts is None:
                raise ModelConfigError(
                    "the stimulus-locked dichotomized Gaussian needs the bin at which each training window starts in "
                    "its repeat: fit(windows, starts=...), from SpikeRaster.windows(t, return_starts=True); or "
                    "stimulus_locked=false for one latent mean per neuron.")
            gamma_bins, start_weights, solve = self._locked_lags(xf, self._starts, mean_rate, p["rate_prior"])
            self.mean_ = gamma_bins
            self.start_weights_ = start_weights
        else:
            gamma = ndtri(np.clip(mean_rate, 1e-6, 1 - 1e-6))

            def solve(lag: int) -> np.ndarray:  # E[x_{s,i} x_{s+lag,j}], pooled over s
                a, b = xf[:, : t - lag].reshape(-1, n), xf[:, lag:].reshape(-1, n)
                return latent_correlation(gamma[:, None], gamma[None, :], a.T @ b / len(a))

            self.mean_ = np.tile(gamma, t_model)
            self.start_weights_ = np.zeros(0)
        blocks = self._solve_lags(solve, t_model, progress)
        blocks[0] = 0.5 * (blocks[0] + blocks[0].T)
        np.fill_diagonal(blocks[0], 1.0)
        d = t_model * n
        corr = np.empty((d, d))
        for s in range(t_model):
            for u in range(t_model):
                block = blocks[u - s] if u >= s else blocks[s - u].T
                corr[s * n:(s + 1) * n, u * n:(u + 1) * n] = block
        self.correlation_ = nearest_correlation(corr, p["eigenvalue_floor"])

    def _solve_lags(self, solve: Any, t_model: int, progress: Any | None) -> list[np.ndarray]:
        """The latent correlation block of each lag, ``solve(lag)``, checkpointed after each (a fit of many lags
        takes minutes: 54 s at 40 neurons and t = 10 on 2 cores, benchmarks/fit_times.py); an interrupted fit continues at its next lag."""
        resume = self._take_resume()
        blocks = [] if resume is None else list(resume["tensors"]["blocks"].numpy().copy())
        while len(blocks) < t_model:
            blocks.append(solve(len(blocks)))
            if progress is not None:
                progress.update(len(blocks))
            if len(blocks) < t_model:
                self._checkpoint_progress("lags", {"blocks": np.stack(blocks)}, {"step": len(blocks)})
        return blocks

    @staticmethod
    def _locked_lags(xf: np.ndarray, starts: np.ndarray, mean_rate: np.ndarray,
                     prior: float) -> tuple[np.ndarray, np.ndarray, Any]:
        """Latent means per stimulus bin, the start weights, and the solver of the latent correlation block of a
        lag (see the module docstring)."""
        from scipy.special import ndtri

        n_win, t, n = xf.shape
        n_bins = int(starts.max()) + t
        bins = starts[:, None] + np.arange(t)  # (windows, t): the stimulus bin of each step
        seen = np.bincount(bins.reshape(-1), minlength=n_bins).astype(np.float64)
        observed = seen > 0
        if seen[observed].mean() < 2:
            raise ModelConfigError(
                f"the stimulus-locked dichotomized Gaussian estimates each neuron's firing probability at each bin "
                f"of a repeated stimulus, but these windows see each bin {seen[observed].mean():.2f} times on average "
                "(a recording without repeats, or --repeat-length not set?); give repeats of the stimulus, or "
                "stimulus_locked=false.")
        spikes = np.zeros((n_bins, n))
        np.add.at(spikes, bins.reshape(-1), xf.reshape(-1, n))
        rate = (spikes + prior * mean_rate) / (seen[:, None] + prior)
        gamma = ndtri(np.clip(rate, 1e-9, 1 - 1e-9))
        iu = np.triu_indices(n, 1)

        def solve(lag: int) -> np.ndarray:
            a, b = xf[:, : t - lag].reshape(-1, n), xf[:, lag:].reshape(-1, n)
            target = a.T @ b / len(a)
            weight = np.bincount(bins[:, : t - lag].reshape(-1), minlength=n_bins).astype(np.float64)
            used = np.flatnonzero(weight)
            ga, gb = gamma[used], gamma[used + lag]  # (K, n)
            if lag == 0:  # symmetric, unit diagonal: the pairs above it
                rho = np.eye(n)
                rho[iu] = locked_correlation(ga[:, iu[0]], gb[:, iu[1]], weight[used], target[iu])
                rho[(iu[1], iu[0])] = rho[iu]
                return rho
            ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            return locked_correlation(ga[:, ii.reshape(-1)], gb[:, jj.reshape(-1)], weight[used],
                                      target.reshape(-1)).reshape(n, n)

        return gamma, np.bincount(starts, minlength=n_bins).astype(np.float64), solve

    #: draws per distinct window of :meth:`estimate_log_likelihood` by default ...
    LIKELIHOOD_DRAWS = 1000
    #: ... fewer (at least :attr:`LIKELIHOOD_MIN_DRAWS`) where all draws x d^2 / 2 would pass this; beyond, no
    #: estimate
    LIKELIHOOD_WORK = 3e10
    LIKELIHOOD_MIN_DRAWS = 64

    def _window_gaussian(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(means (B, t n), correlation (t n, t n), weights (B,) or None)``: the latent Gaussian of a whole window,
        one component per stimulus bin a window can start at (stimulus-locked) or one (stationary)."""
        t, n = self.params_["n_timesteps"], self.params_["n_neurons"]
        corr = self.correlation_ if self._is_temporal() else np.kron(np.eye(t), self.correlation_)
        if self._is_locked():
            starts = np.flatnonzero(self.start_weights_)
            means = self.mean_[starts[:, None] + np.arange(t)].reshape(len(starts), t * n)
            return means, corr, self.start_weights_[starts]
        mean = self.mean_ if self._is_temporal() else np.tile(self.mean_, t)
        return mean[None], corr, None

    def likelihood_draws(self, counts: np.ndarray) -> np.ndarray | None:
        """Draws per distinct window for windows that occur ``counts`` times each, as :meth:`estimate_log_likelihood`
        takes them by default: ``M`` each, and a window that makes up a fraction ``f`` of them ``M P f`` if that is
        more (``P`` distinct windows; the error of the mean NLL is dominated by the frequent windows, the
        all-silent one above all), at most ``2 M P`` draws in all. ``M`` is :attr:`LIKELIHOOD_DRAWS`, less where
        ``2 M P (t n)^2 / 2`` would pass :attr:`LIKELIHOOD_WORK`; ``None`` where even
        :attr:`LIKELIHOOD_MIN_DRAWS` would."""
        counts = np.asarray(counts, dtype=np.float64)
        d = self.params_["n_timesteps"] * self.params_["n_neurons"]
        base = min(self.LIKELIHOOD_DRAWS, int(self.LIKELIHOOD_WORK / (max(len(counts), 1) * d * (d + 1))))
        if base < self.LIKELIHOOD_MIN_DRAWS:
            return None
        return np.maximum(base, np.ceil(base * len(counts) * counts / max(counts.sum(), 1.0))).astype(np.int64)

    def _distinct_windows(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(distinct (P, t n), inverse (B,), counts (P,))`` of the checked windows ``(B, t, n)``, flattened."""
        x = self._checked_windows(windows)
        distinct, inverse, counts = np.unique(x.reshape(len(x), -1), axis=0, return_inverse=True, return_counts=True)
        return distinct, inverse.reshape(-1), counts

    def likelihood_unavailable(self, windows: np.ndarray) -> str | None:
        counts = self._distinct_windows(windows)[2]
        if self.likelihood_draws(counts) is not None:
            return None
        d = self.params_["n_timesteps"] * self.params_["n_neurons"]
        return (f"orthant probabilities in {d} dimensions for {len(counts)} distinct windows would pass the work "
                f"budget (DichotomizedGaussian.LIKELIHOOD_WORK = {self.LIKELIHOOD_WORK:.0e}); estimate_log_likelihood("
                "windows, draws=...) runs them anyway")

    def estimate_log_likelihood(self, windows: np.ndarray, *, draws: int | None = None,
                                seed: int = 0) -> LikelihoodEstimate | None:
        """Log-probability of each window ``(B, t, n)``, the orthant probabilities estimated by
        :func:`orthant_log_probability` (see the module docstring).

        Each distinct window gets draws of its own: ``draws`` each, or by default as
        :meth:`likelihood_draws` allocates them (``None``, n/a, where that would take too long). The
        returned shared standard error is that of the mean over the given windows (the errors of
        distinct windows independent, a repeated window's shared by its copies); the bias is the mean
        delta-method bias, stated, not subtracted.
        """
        distinct, inverse, counts = self._distinct_windows(windows)
        per = self.likelihood_draws(counts) if draws is None else np.full(len(counts), int(draws))
        if per is None:
            return None
        means, corr, weights = self._window_gaussian()
        log_p, var, bias = orthant_log_probability(distinct, means, corr, weights=weights, draws=per,
                                                   seed=(int(seed), int(self.params_["seed"])))
        shared_se = float(np.sqrt(np.sum(counts ** 2 * var)) / len(inverse))
        over = f" over {len(means)} stimulus start bins" if weights is not None else ""
        spread = f"{per.min()}" if per.min() == per.max() else f"{per.min()} to {per.max()}"
        method = f"orthant probabilities (GHK){over}, {spread} draws per distinct window"
        return LikelihoodEstimate(log_p[inverse], method, shared_se, float(np.mean(bias[inverse])))

    def _n_parameters(self) -> int:
        n, t = self.params_["n_neurons"], self.params_["n_timesteps"]
        means = int(np.asarray(self.mean_).size) if self._is_locked() else n
        return means + n * (n - 1) // 2 + ((t - 1) * n * n if self._is_temporal() else 0)

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        w, v = np.linalg.eigh(self.correlation_)
        root = v * np.sqrt(np.maximum(w, 0.0))
        t, n = self.params_["n_timesteps"], self.params_["n_neurons"]
        d = len(self.correlation_)
        noise = (rng.standard_normal((n_windows * t * n // d, d)) @ root.T).reshape(n_windows, t, n)
        if self._is_locked():
            starts = rng.choice(len(self.start_weights_), n_windows, p=self.start_weights_ / self.start_weights_.sum())
            mean = self.mean_[starts[:, None] + np.arange(t)]  # (windows, t, n)
        else:
            mean = self.mean_.reshape(-1, n)[None]
        return (mean + noise) > 0

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, Any], meta: dict[str, Any]) -> "ArrayModel":
        if "stimulus_locked" not in meta["params"]:  # written before the stimulus-locked DG: stationary
            import torch

            meta = {**meta, "params": {**meta["params"], "stimulus_locked": False}}
            tensors = {**tensors, "start_weights_": torch.zeros(0, dtype=torch.float64)}
        return super()._from_checkpoint(tensors, meta)
