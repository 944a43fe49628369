r"""The restricted Boltzmann machine: latent-variable maximum entropy (Köster et al. 2014), exact.

A window's ``d = t n`` bits ``v`` (time step by time step) and ``h`` binary hidden units,

.. math:: P(v, h) = \frac{1}{Z} \exp\left(b^\top v + c^\top h + v^\top W h\right),

so that a pattern's probability is :math:`P(v) = e^{-F(v)} / Z` with the free energy
:math:`F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j + v^\top W_{\cdot j})`, and the partition
function sums over the hidden states, not over the patterns,

.. math:: \log Z = \log \sum_{h \in \{0,1\}^{h}} \exp\Big(c^\top h + \sum_{v_i} \operatorname{softplus}(b_i + W_{i\cdot} h)\Big).

With ``hidden`` up to 16 that sum is exact however many neurons there are, and so are the
likelihood, its gradient (the fit maximises the exact log-likelihood of the training windows,
L-BFGS, with an L2 penalty on ``W``) and sampling (a hidden state from its exact marginal, then the
bits given it: no Markov chain). Köster, Sohl-Dickstein, Gray & Olshausen (PLoS Comput. Biol. 2014)
found it the best model of retinal and cortical population patterns per parameter; it is the
strongest classical reference of matched size here. ``d + h + d h`` parameters.

The window is one pattern of ``t n`` bits (like the independent model, not stationary in time).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spiqgan.models.base import ArrayModel, HasLikelihood, ModelConfigError
from spiqgan.models.classical.maxent import all_patterns

__all__ = ["RBM", "MAX_HIDDEN"]

#: the partition function enumerates 2^hidden states: at most this many hidden units
MAX_HIDDEN = 16


class RBM(ArrayModel, HasLikelihood):
    """Restricted Boltzmann machine with an exact likelihood (hidden units enumerated).

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    hidden
        Hidden units, 1 to 16 (``None``: ``t n``, at most 16).
    l2
        L2 penalty on the couplings ``W``, per training window (1e-4 cost 0.005 bits per window of the
        training likelihood on 10 salamander neurons, more than the differences between models).
    steps
        Largest number of L-BFGS iterations.
    tol
        Convergence tolerance of L-BFGS (on the gradient's largest component).
    seed
        Seeds the couplings' start and sampling.

    Attributes
    ----------
    visible_bias_ : np.ndarray
        ``(d,)`` ``b``, ``d = t n``.
    hidden_bias_ : np.ndarray
        ``(h,)`` ``c``.
    weights_ : np.ndarray
        ``(d, h)`` ``W``.
    """

    registered_name = "rbm"
    _FITTED = ("visible_bias_", "hidden_bias_", "weights_")

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, hidden: int | None = None,
                 l2: float = 1e-6, steps: int = 1000, tol: float = 1e-7, seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.hidden, self.l2, self.steps, self.tol = hidden, l2, steps, tol

    def resolved_params(self) -> dict[str, Any]:
        p = super().resolved_params()
        self._check_positive(p, ("steps",))
        self._check_positive(p, ("l2", "tol"), float)
        if p["hidden"] is not None:
            self._check_positive(p, ("hidden",))
            if p["hidden"] > MAX_HIDDEN:
                raise ModelConfigError(f"hidden must be at most {MAX_HIDDEN} (the likelihood enumerates 2^hidden "
                                       f"states), got {p['hidden']}.")
        return p

    def _n_hidden(self, d: int) -> int:
        h = self.params_["hidden"]
        return min(d, MAX_HIDDEN) if h is None else int(h)

    # ------------------------------------------------------------------ exact terms (torch, float64)
    @staticmethod
    def _hidden_states(h: int):
        """``(2^h, h)`` float64: every hidden state, in :func:`spiqgan.models.classical.maxent.all_patterns`' order."""
        import torch

        return torch.as_tensor(all_patterns(h), dtype=torch.float64)

    @classmethod
    def _hidden_log_weights(cls, b, c, w):
        """``(2^h,)`` unnormalized log-probability of every hidden state, the visible units summed out (in chunks:
        memory ``chunk x d``); its logsumexp is ``log Z``."""
        import torch

        return torch.cat([chunk @ c + torch.nn.functional.softplus(b + chunk @ w.T).sum(1)
                          for chunk in torch.split(cls._hidden_states(c.shape[0]), 4096)])

    @classmethod
    def _log_z(cls, b, c, w):
        """``log Z`` by enumerating the hidden states."""
        import torch

        return torch.logsumexp(cls._hidden_log_weights(b, c, w), 0)

    @staticmethod
    def _neg_free_energy(v, b, c, w):
        import torch

        return v @ b + torch.nn.functional.softplus(c + v @ w).sum(1)

    # ------------------------------------------------------------------ fit
    #: L-BFGS iterations between the chances to checkpoint a fit in progress (see ArrayModel)
    LBFGS_CHUNK = 20
    #: L-BFGS also stops where a step or the objective's change (nats per window) falls under this
    CHANGE_TOL = 1e-12

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        import torch

        from spiqgan.training.lbfgs import ResumableLBFGS

        n_win = x.shape[0]
        flat = x.reshape(n_win, -1)
        d = flat.shape[1]
        h = self._n_hidden(d)
        patterns, counts = np.unique(flat, axis=0, return_counts=True)
        v = torch.as_tensor(patterns, dtype=torch.float64)
        weight = torch.as_tensor(counts / n_win, dtype=torch.float64)
        rate = np.clip(flat.mean(0, dtype=np.float64), 1e-4, 1 - 1e-4)
        rng = np.random.default_rng(p["seed"])
        start = np.concatenate([np.log(rate / (1 - rate)), np.zeros(h), 0.01 * rng.standard_normal(d * h)])
        theta = torch.nn.Parameter(torch.as_tensor(start, dtype=torch.float64))
        # stop on the gradient's size (tol), as scipy's L-BFGS-B did: a change of the objective under tol happens
        # near the saddle at W = 0 that the fit starts beside, long before the optimum
        lbfgs = ResumableLBFGS([theta], max_iter=int(p["steps"]), max_eval=int(p["steps"]) * 5 // 4,
                               tol=self.CHANGE_TOL, tol_grad=p["tol"], history_size=50, chunk=self.LBFGS_CHUNK)
        resume = self._take_resume()
        if resume is not None:  # continue the interrupted fit where its checkpoint left it
            with torch.no_grad():
                theta.copy_(resume["tensors"]["theta"])
            lbfgs.restore({k[6:]: t for k, t in resume["tensors"].items() if k.startswith("lbfgs.")},
                          resume["meta"]["lbfgs"])

        def loss() -> torch.Tensor:
            b, c, w = theta[:d], theta[d:d + h], theta[d + h:].reshape(d, h)
            nll = -(weight * self._neg_free_energy(v, b, c, w)).sum() + self._log_z(b, c, w)
            return nll + p["l2"] * (w ** 2).sum()

        def closure() -> torch.Tensor:
            lbfgs.opt.zero_grad()
            value = loss()
            value.backward()
            return value.detach()

        def on_chunk(opt: ResumableLBFGS) -> None:
            tensors, meta = opt.state()
            self._checkpoint_progress("lbfgs", {"theta": theta.detach().clone(),
                                                **{f"lbfgs.{k}": t for k, t in tensors.items()}},
                                      {"lbfgs": meta, "step": opt.iterations})

        lbfgs.run(closure, on_chunk)
        with torch.no_grad():
            final = float(loss())
        fitted = theta.detach().numpy()
        self.visible_bias_, self.hidden_bias_ = fitted[:d].copy(), fitted[d:d + h].copy()
        self.weights_ = fitted[d + h:].reshape(d, h).copy()
        self.history_.append({"step": lbfgs.iterations, "nll": final})
        if progress is not None:
            progress.update(1)

    def _tensors(self):
        import torch

        return tuple(torch.as_tensor(a, dtype=torch.float64) for a in
                     (self.visible_bias_, self.hidden_bias_, self.weights_))

    # ------------------------------------------------------------------ likelihood and sampling
    def log_likelihood(self, windows: np.ndarray) -> np.ndarray:
        """Exact natural-log probability of each window ``(B, t, n)``: ``(B,)``."""
        import torch

        x = self._checked_windows(windows)
        b, c, w = self._tensors()
        with torch.no_grad():
            log_z = self._log_z(b, c, w)
            out = [self._neg_free_energy(torch.as_tensor(chunk.reshape(len(chunk), -1), dtype=torch.float64),
                                         b, c, w) - log_z for chunk in np.array_split(x, max(1, len(x) // 65536))]
        return torch.cat(out).numpy()

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        import torch

        b, c, w = self._tensors()
        with torch.no_grad():
            p_h = torch.softmax(self._hidden_log_weights(b, c, w), 0).numpy()  # the hidden marginal
        h = all_patterns(len(c))[rng.choice(len(p_h), n_windows, p=p_h / p_h.sum())]
        p_v = 1.0 / (1.0 + np.exp(-(self.visible_bias_ + h @ self.weights_.T)))
        return rng.random(p_v.shape) < p_v

    def _n_parameters(self) -> int:
        d, h = self.weights_.shape
        return d + h + d * h
