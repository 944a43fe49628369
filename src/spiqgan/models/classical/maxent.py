r"""Maximum-entropy models of spike patterns: pairwise (Ising) and K-pairwise.

The pairwise model of Schneidman et al. (2006) and the K-pairwise model of
Tkačik et al. (2013, 2014) give each pattern :math:`x \in \{0, 1\}^n` of one
time bin the probability

.. math:: P(x) = \frac1Z \exp\Big( \sum_i h_i x_i + \sum_{i<j} J_{ij} x_i x_j + V(k(x)) \Big),
          \qquad k(x) = \sum_i x_i,

with :math:`V \equiv 0` for the pairwise model. They are the models of highest
entropy that reproduce the firing rates, the pairwise correlations (and, for
K-pairwise, the distribution of the number of neurons spiking together) of the
data: the maximum-likelihood fit matches those moments exactly.

Fit
---
Maximum likelihood with a small L2 penalty ``l2`` on all parameters (it keeps
fields finite for events never seen, such as all ten neurons spiking at once,
and picks one solution among the equivalent ones: :math:`V(k) = a k + b k(k-1)/2`
is the same model as shifted fields and couplings). For ``n <= max_exact`` the
log-likelihood and its gradient come from enumerating all :math:`2^n` patterns
(a convex problem, solved with L-BFGS to ``tol``). Beyond, the model moments
come from persistent Gibbs chains (Boltzmann learning with Adam, ``steps``
iterations of one sweep per chain, learning rate decayed to 0).

Sampling is exact (from the enumerated distribution) for ``n <= max_exact``
and by Gibbs sampling beyond (``burn_in`` sweeps, then one draw every
``thin`` sweeps from ``mc_chains`` chains).

Likelihood
----------
Exact for ``n <= max_exact``. Beyond, the partition function comes from
**annealed importance sampling** (Neal 2001; as Salakhutdinov and Murray 2008
for RBMs): ``ais_chains`` independent runs start from an independent model
:math:`p_0` with the model's own firing rates (estimated by Gibbs sampling) and
pass through ``ais_steps`` distributions
:math:`f_\beta(x) \propto p_0(x)^{1 - \beta} w(x)^\beta`, one Gibbs sweep at each
:math:`\beta`; the mean of their importance weights estimates :math:`Z / Z_0`
without bias. :math:`\log \hat Z` is biased low by about half its variance (under
1e-5 nats at the defaults, well under its standard error), and its standard
error, the spread of the weights over the chains (delta method), is an error
that every window's log-likelihood shares (``t`` times over a window of ``t``
bins): :meth:`likelihood_shared_se`, which held-out NLL intervals include.
Tested against exact enumeration: z-scores over seeds are standard normal
(``tests/models/classical/test_maxent_ais.py``).

Time
----
These models are **static**: a window of ``t`` bins is ``t`` independent
patterns (as the published K-pairwise samples of the salamander data), so
their autocorrelogram is that of independent bins. Parameters: ``n + n(n-1)/2``
for the pairwise model, and ``n - 2`` more free values of ``V`` for K-pairwise
(``V(0) = 0``; its linear and quadratic parts are fields and couplings).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spiqgan.models.base import ArrayModel, HasLikelihood, ModelConfigError

__all__ = ["Ising", "KPairwise", "all_patterns", "pattern_features", "ais_log_partition"]


def all_patterns(n: int) -> np.ndarray:
    """``(2^n, n)`` uint8: every pattern, pattern ``m`` having bit ``i`` = ``(m >> i) & 1``."""
    m = np.arange(2 ** n, dtype=np.int64)
    return ((m[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def pattern_features(x: np.ndarray, k_potential: bool) -> np.ndarray:
    """``(N, m)`` sufficient statistics of patterns ``(N, n)``: ``x_i``, ``x_i x_j`` (i < j), and one-hot ``k`` = 1..n."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[1]
    iu = np.triu_indices(n, 1)
    parts = [x, x[:, iu[0]] * x[:, iu[1]]]
    if k_potential:
        k = x.sum(axis=1).astype(np.int64)
        parts.append((k[:, None] == np.arange(1, n + 1)).astype(np.float64))
    return np.concatenate(parts, axis=1)


class _PairwiseMaxEnt(ArrayModel, HasLikelihood):
    """A maximum-entropy model of single-bin patterns (see the module docstring).

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    max_exact
        Exact enumeration of the ``2^n`` patterns up to this many neurons, Gibbs sampling beyond.
    l2
        L2 penalty on the parameters.
    tol
        Convergence tolerance of the exact fit.
    steps
        Boltzmann-learning steps of the Gibbs fit (beyond ``max_exact``).
    ais_chains, ais_steps
        Annealed importance sampling of the partition function beyond ``max_exact``: independent
        runs, and distributions (Gibbs sweeps) on the path from the independent model.
    lr
        Learning rate of the Gibbs fit.
    mc_chains
        Persistent Gibbs chains.
    burn_in
        Gibbs sweeps before the first sample.
    thin
        Gibbs sweeps between samples.
    seed
        Seeds the Gibbs chains and sampling.

    Attributes
    ----------
    h_, J_, V_ : np.ndarray
        ``(n,)`` fields, ``(n, n)`` symmetric couplings (zero diagonal), ``(n + 1,)`` potential on the
        spike count (zero for the pairwise model).
    """

    k_potential = False
    _FITTED = ("h_", "J_", "V_")

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, max_exact: int = 16,
                 l2: float = 1e-5, tol: float = 1e-9, steps: int = 2000, lr: float = 0.05, mc_chains: int = 1000,
                 burn_in: int = 200, thin: int = 5, ais_chains: int = 1000, ais_steps: int = 1000,
                 seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.max_exact, self.l2, self.tol, self.steps, self.lr = max_exact, l2, tol, steps, lr
        self.mc_chains, self.burn_in, self.thin = mc_chains, burn_in, thin
        self.ais_chains, self.ais_steps = ais_chains, ais_steps

    def resolved_params(self) -> dict[str, Any]:
        p = super().resolved_params()
        self._check_positive(p, ("max_exact", "steps", "mc_chains", "thin", "ais_chains", "ais_steps"))
        self._check_positive(p, ("l2", "tol", "lr"), float)
        if isinstance(p["burn_in"], bool) or not isinstance(p["burn_in"], int) or p["burn_in"] < 0:
            raise ModelConfigError(f"burn_in must be an integer >= 0, got {p['burn_in']!r}.")
        return p

    def progress_steps(self) -> int:
        n = self.n_neurons
        return 1 if n is not None and n <= self.max_exact else int(self.steps)

    # ------------------------------------------------------------ parameters <-> vector
    def _unpack(self, theta: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = theta[:n]
        iu = np.triu_indices(n, 1)
        J = np.zeros((n, n))
        J[iu] = theta[n:n + len(iu[0])]
        J = J + J.T
        V = np.zeros(n + 1)
        if self.k_potential:
            V[1:] = theta[n + len(iu[0]):]
        return h, J, V

    def _pack(self, h: np.ndarray, J: np.ndarray, V: np.ndarray) -> np.ndarray:
        iu = np.triu_indices(len(h), 1)
        return np.concatenate([h, J[iu]] + ([V[1:]] if self.k_potential else []))

    def log_weights(self, patterns: np.ndarray) -> np.ndarray:
        """Unnormalized log-probability of patterns ``(N, n)``: ``h x + sum_{i<j} J x_i x_j + V(k)``."""
        self._check_fitted()
        x = np.asarray(patterns, dtype=np.float64)
        return x @ self.h_ + 0.5 * np.einsum("ni,ij,nj->n", x, self.J_, x) + self.V_[x.sum(1).astype(np.int64)]

    # ------------------------------------------------------------------------- fit
    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        patterns = x.reshape(-1, x.shape[2])
        n = patterns.shape[1]
        if n <= p["max_exact"]:
            theta = self._fit_exact(patterns, p)
            if progress is not None:
                progress.update(1)
        else:
            theta = self._fit_gibbs(patterns, p, progress)
        self.h_, self.J_, self.V_ = self._unpack(theta, n)
        self._probabilities = self._log_z = None

    def _fit_exact(self, patterns: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        from scipy.optimize import minimize
        from scipy.special import logsumexp, softmax

        n = patterns.shape[1]
        states = all_patterns(n)
        F = pattern_features(states, self.k_potential)
        index = patterns.astype(np.int64) @ (1 << np.arange(n))
        q = np.bincount(index, minlength=2 ** n) / len(index)
        mu = q @ F
        l2 = p["l2"]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            e = F @ theta
            value = -(mu @ theta - logsumexp(e)) + 0.5 * l2 * theta @ theta
            grad = -(mu - softmax(e) @ F) + l2 * theta
            return value, grad

        theta0 = self._pack(*self._independent_start(patterns))
        res = minimize(objective, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": 10000, "ftol": p["tol"], "gtol": p["tol"]})
        return res.x

    def _independent_start(self, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = patterns.shape[1]
        rate = np.clip(patterns.mean(0), 1e-4, 1 - 1e-4)
        return np.log(rate / (1 - rate)), np.zeros((n, n)), np.zeros(n + 1)

    #: Boltzmann-learning steps between the chances to checkpoint a fit in progress (see ArrayModel)
    GIBBS_CHUNK = 50

    def _fit_gibbs(self, patterns: np.ndarray, p: dict[str, Any], progress: Any | None) -> np.ndarray:
        rng = np.random.default_rng(p["seed"])
        mu = pattern_features(patterns, self.k_potential).mean(0)
        n = patterns.shape[1]
        theta = self._pack(*self._independent_start(patterns))
        chains = patterns[rng.integers(len(patterns), size=p["mc_chains"])].copy()
        m1, m2 = np.zeros_like(theta), np.zeros_like(theta)
        b1, b2 = 0.9, 0.999
        first = 1
        resume = self._take_resume()
        if resume is not None:  # continue the interrupted fit: its parameters, moments, chains and random state
            theta, m1, m2 = (resume["tensors"][k].numpy().copy() for k in ("theta", "m1", "m2"))
            chains = resume["tensors"]["chains"].numpy().copy()
            rng.bit_generator.state = resume["meta"]["rng"]
            first = int(resume["meta"]["step"]) + 1
        for step in range(first, p["steps"] + 1):
            h, J, V = self._unpack(theta, n)
            gibbs_sweep(chains, h, J, V, rng)
            grad = mu - pattern_features(chains, self.k_potential).mean(0) - p["l2"] * theta
            m1 = b1 * m1 + (1 - b1) * grad
            m2 = b2 * m2 + (1 - b2) * grad ** 2
            lr = p["lr"] * 0.5 * (1 + np.cos(np.pi * (step - 1) / p["steps"]))
            theta = theta + lr * (m1 / (1 - b1 ** step)) / (np.sqrt(m2 / (1 - b2 ** step)) + 1e-8)
            if progress is not None:
                progress.update(step, moment_error=float(np.abs(grad).max()))
            if step % self.GIBBS_CHUNK == 0 and step < p["steps"]:
                self._checkpoint_progress("gibbs", {"theta": theta, "m1": m1, "m2": m2, "chains": chains},
                                          {"step": step, "rng": rng.bit_generator.state})
        return theta

    # ---------------------------------------------------------------------- sample
    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        n = len(self.h_)
        total = n_windows * self.params_["n_timesteps"]
        if n <= self.params_["max_exact"]:
            states = all_patterns(n)
            return states[rng.choice(len(states), size=total, p=self.probabilities())]
        return self.gibbs_samples(total, rng)

    def probabilities(self) -> np.ndarray:
        """``(2^n,)`` probability of every pattern of :func:`all_patterns` (``n <= max_exact``)."""
        from scipy.special import softmax

        self._check_fitted()
        if getattr(self, "_probabilities", None) is None:
            self._probabilities = softmax(self.log_weights(all_patterns(len(self.h_))))
        return self._probabilities

    def gibbs_samples(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` patterns by Gibbs sampling (``burn_in`` sweeps, then a draw every ``thin`` sweeps)."""
        self._check_fitted()
        p = self.params_
        chains = min(p["mc_chains"], count)
        x = (rng.random((chains, len(self.h_))) < 1 / (1 + np.exp(-self.h_))).astype(np.uint8)
        for _ in range(p["burn_in"]):
            gibbs_sweep(x, self.h_, self.J_, self.V_, rng)
        out = []
        while sum(len(o) for o in out) < count:
            for _ in range(p["thin"]):
                gibbs_sweep(x, self.h_, self.J_, self.V_, rng)
            out.append(x.copy())
        return np.concatenate(out)[:count]

    def likelihood_method(self) -> str | None:
        """``"exact"`` while the partition function enumerates (``n <= max_exact``), else ``"ais"`` (see the module
        docstring)."""
        return "exact" if len(self.h_) <= self.params_["max_exact"] else "ais"

    def log_partition(self) -> tuple[float, float]:
        """``(log Z, standard error)`` in nats: exact (error 0) for ``n <= max_exact``, else by annealed importance
        sampling (seeded by ``seed``; computed once per fitted model)."""
        from scipy.special import logsumexp

        self._check_fitted()
        if getattr(self, "_log_z", None) is None:
            n, p = len(self.h_), self.params_
            if n <= p["max_exact"]:
                self._log_z = (float(logsumexp(self.log_weights(all_patterns(n)))), 0.0)
            else:
                rng = np.random.default_rng([p["seed"], 11])
                rate = self.gibbs_samples(p.get("mc_chains", 1000), rng).mean(0)
                self._log_z = ais_log_partition(self.h_, self.J_, self.V_, rate, p.get("ais_chains", 1000),
                                                p.get("ais_steps", 1000), rng)
        return self._log_z

    def likelihood_shared_se(self) -> float:
        """Standard error (nats per window) of the estimated ``log Z`` as it enters a window: ``t`` times its own."""
        return self.params_["n_timesteps"] * self.log_partition()[1]

    def log_likelihood(self, windows: np.ndarray) -> np.ndarray:
        """Natural-log probability of each window ``(B, t, n)``: ``(B,)``, its ``t`` bins independent.

        Exact for ``n <= max_exact``; beyond, with the partition function estimated by annealed importance
        sampling (:meth:`log_partition`), whose error all windows share (:meth:`likelihood_shared_se`).
        """
        x = self._checked_windows(windows)
        n = len(self.h_)
        return (self.log_weights(x.reshape(-1, n)) - self.log_partition()[0]).reshape(x.shape[:2]).sum(1)

    def _n_parameters(self) -> int:
        n = len(self.h_)
        return n + n * (n - 1) // 2 + (max(0, n - 2) if self.k_potential else 0)

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore(arrays)
        self._probabilities = self._log_z = None


def gibbs_sweep(x: np.ndarray, h: np.ndarray, J: np.ndarray, V: np.ndarray, rng: np.random.Generator) -> None:
    """One Gibbs sweep, in place, over every neuron of every chain ``x: (chains, n)`` uint8."""
    k = x.sum(1).astype(np.int64)
    xf = x.astype(np.float64)
    for i in range(x.shape[1]):
        k_rest = k - x[:, i]
        field = h[i] + xf @ J[:, i] + V[k_rest + 1] - V[k_rest]
        new = rng.random(len(x)) < 1.0 / (1.0 + np.exp(-field))
        x[:, i] = new
        xf[:, i] = new
        k = k_rest + new


def ais_log_partition(h: np.ndarray, J: np.ndarray, V: np.ndarray, rate: np.ndarray, chains: int, steps: int,
                      rng: np.random.Generator) -> tuple[float, float]:
    r"""``(log Z, standard error)`` of :math:`w(x) = \exp(h x + \frac12 x J x + V(k))` by annealed importance sampling.

    The path starts at independent neurons firing at ``rate`` (clipped to [1e-4, 1 - 1e-4]) and goes
    through :math:`\beta = 1/steps, \ldots, 1` (a Gibbs sweep of every chain at each); see the module
    docstring. The standard error of :math:`\log \hat Z` is that of the mean weight relative to the mean.
    """
    from scipy.special import logsumexp

    n = len(h)
    b = np.log(np.clip(rate, 1e-4, 1 - 1e-4)) - np.log1p(-np.clip(rate, 1e-4, 1 - 1e-4))  # base logits
    log_z0 = float(np.sum(np.logaddexp(0.0, b)))
    x = (rng.random((int(chains), n)) < 1 / (1 + np.exp(-b))).astype(np.uint8)

    def energy(x: np.ndarray) -> np.ndarray:  # log w(x) - log p0-weight(x)
        xf = x.astype(np.float64)
        return xf @ (h - b) + 0.5 * np.einsum("ni,ij,nj->n", xf, J, xf) + V[x.sum(1).astype(np.int64)]

    betas = np.linspace(0.0, 1.0, int(steps) + 1)
    log_w = np.zeros(len(x))
    for prev, beta in zip(betas[:-1], betas[1:]):
        log_w += (beta - prev) * energy(x)
        gibbs_sweep(x, (1 - beta) * b + beta * h, beta * J, beta * V, rng)
    log_mean = float(logsumexp(log_w) - np.log(len(log_w)))
    w = np.exp(log_w - log_w.max())
    se = float(np.std(w, ddof=1) / (np.sqrt(len(w)) * np.mean(w)))
    return log_z0 + log_mean, se


class Ising(_PairwiseMaxEnt):
    """Pairwise maximum-entropy (Ising) model of single-bin patterns (Schneidman et al. 2006); static."""

    registered_name = "ising"
    k_potential = False


class KPairwise(_PairwiseMaxEnt):
    """K-pairwise maximum-entropy model (Tkačik et al. 2013, 2014): pairwise plus a potential on the spike count; static."""

    registered_name = "kpairwise"
    k_potential = True
