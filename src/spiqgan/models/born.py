r"""Born machines: patch generators of pairwise-coupled circuits, with a latent common input and memory.

A window ``(t, n)`` is generated as in SpiQGAN, one sub-generator per time step,
but each sub-generator is a circuit of :mod:`spiqgan.quantum.families` (one
trainable coupling per pair of neurons) instead of the paper's chain, and its
single-qubit angles are shifted by two inputs:

* a **latent common state** :math:`z \in \mathbb R^d`, drawn once per window and
  shared by every time step (SpiQGAN's shared noise, with few parameters): the
  angle of neuron ``j`` at step ``s`` gains :math:`\sum_k U_{sjk} z_k`, a
  low-rank loading (``d`` components, ``n d`` weights per step instead of a
  ``q x q`` mixing matrix). ``z`` takes the ``m^d`` values of the Gauss-Hermite
  rule of ``m = latent_nodes`` points per dimension, with its weights: a
  discrete stand-in for :math:`\mathcal N(0, I_d)` under which the likelihood
  is an exact finite sum (no Monte Carlo, no noise draws).
* or (``latent="states"``, the default of ``"cry"`` at ``t > 1``) **latent states**: a hidden Markov
  chain of ``m = latent_nodes`` states (:data:`DEFAULT_STATES`), the first drawn from fitted weights
  ``softmax(prior_)``, each next one from the row of the fitted transition matrix ``softmax(trans_)``
  of the one before; state ``k`` adds its own loading ``U_{sjk}`` to the angle of neuron ``j`` at
  step ``s`` (its value is the one-hot vector ``e_k``, so the loadings above serve unchanged). The
  time structure the neurons share is carried by the chain, which cannot excite itself; a model whose
  steps feed on their own history (memory) generated windows that ran away (issue 30,
  ``benchmarks/time_windows.py``), so with states there is no memory by default.
* **memory** of the last ``memory`` patterns (``"cry"`` only): the angle of
  neuron ``j`` at step ``s`` gains :math:`\sum_{l=1}^{L}\sum_i V_{l,ji} x_{s-l,i}`,
  a classically controlled rotation (on hardware: mid-circuit measurement and
  feed-forward). ``V`` is shared by all steps; steps before the window's first
  are taken at the training firing rates.

With both, the exact probability of a window is (for a latent that keeps its value; one that switches or
a chain of states sums over paths of values instead, by the forward algorithm)

.. math:: P(x) = \sum_k w_k \prod_{s=1}^{t} P_s(x_s \mid x_{s-L..s-1}, z_k),

each factor exact (:func:`spiqgan.quantum.families.distribution`), and the fit
is exact maximum likelihood (L-BFGS, float64) on the distinct training windows
weighted by their counts, with an L2 penalty ``l2`` on the couplings,
loadings and memory weights.

The other objective, ``objective="mmd"``, minimizes the maximum mean
discrepancy between the model's windows and the training windows under the
kernel :math:`k(x, y) = e^{-|x - y|^2 / 2\sigma^2}` on the ``m = t n`` bits
(``sigma = bandwidth``). It factorizes over bits, so in the Walsh basis it is
diagonal (:func:`mmd_squared`):

.. math:: \mathrm{MMD}^2 = 2^{-m} \sum_{S} (1 + a)^{m - |S|} (1 - a)^{|S|}
          \left(\langle Z_S \rangle_P - \langle Z_S \rangle_{\text{data}}\right)^2,
          \quad a = e^{-1/2\sigma^2},

a weighted sum over expectation values of Pauli-Z strings, the quantity IQP
circuits give cheaply on hardware. Here the ``<Z_S>`` come exactly from
``P`` over all ``2^m`` windows (``m <= 16``). Since it scores the model's own
windows (generated steps feed the memory), it needs no calibration.

It starts from the **independent model**: the single-qubit angles reproduce the
training firing rates of every neuron and step exactly when the couplings are
zero. Zero couplings and loadings are a saddle of the likelihood (the IQP
circuit, the bit-flip model and the latent loading have zero gradient there),
so they start at small random values of standard deviation ``init_scale``
(``0``: exactly the independent model).

Trainable parameters: ``t n`` angles, ``n(n-1)/2`` couplings (``t`` times that
with ``couplings="per_step"``), ``t n d`` loadings, ``L n^2`` memory
weights (less the ``n`` of each lag that the own history also has: a neuron's
memory of itself there is fixed at 0, as it would repeat the own-history weight),
``H n`` own-history weights, the count term's ``n`` and the latent's ``stay``; 65 at
``(n, t) = (10, 1)`` with ``d = 1``.

**The fit is preconditioned** (:meth:`BornMachine._scales`): L-BFGS works on every parameter
divided by :math:`1/\sqrt h`, ``h`` its Gauss-Newton curvature, which the data give in closed form
(each bit's Fisher information about its angle is 1), so that a rare neuron's coupling (curvature
its firing rate, hundreds of times under an angle's) moves as readily as an angle. Measured at
(40, 1) on the shared recording (``python benchmarks/fit_speed.py``): 167 evaluations to converge
against more than 530 (the 500-iteration limit) without it.

The circuit family is the hyperparameter ``family`` (the model's registered name: ``cry``,
``iqp``, ``bitflip``, or any other family registered in
:data:`spiqgan.quantum.families.FAMILIES`); the family object computes each step's probabilities,
samples and writes the gates (:mod:`spiqgan.quantum.families.base`). The bit-flip model is
classical (IQP's look-alike) and is here because it shares everything with IQP except the
interference.
"""

from __future__ import annotations

import math
import time
from statistics import NormalDist
from typing import Any

import numpy as np
import torch

from spiqgan.models.base import ArrayModel, HasCircuits, HasLikelihood, ModelConfigError, Previewable
from spiqgan.progress import warm_optimizers
from spiqgan.quantum.circuit import Circuit, Export
from spiqgan.quantum.families import FAMILIES, get_family
from spiqgan.quantum.families.user import UserCircuit, is_user_circuit
from spiqgan.quantum.families.base import CircuitFamily, pair_indices, walsh_hadamard
from spiqgan.quantum.statevector import bits_to_indices, indices_to_bits

__all__ = ["BornMachine", "BORN_CHOICES", "latent_rule", "mmd_squared", "COUNT_TERM_MIN_NEURONS"]

#: the allowed values of the Born machines' string hyperparameters
BORN_CHOICES: dict[str, tuple[str, ...]] = {"objective": ("likelihood", "mmd"), "couplings": ("shared", "per_step"),
                                            "latent": ("normal", "states"), "loadings": ("per_step", "shared")}
#: from this many neurons ``count_term=None`` turns the count term on. Measured at t = 1 with one seed
#: (``python benchmarks/born_variants.py NxT [--first F] cry cry:count_term=1``), k-probability error /
#: floor without -> with it: n = 10 (neurons 0-9) 9.13 -> 13.8; n = 15: 29.9 -> 24.6 (0-14), 5.67 -> 7.28
#: (20-34); n = 20: 23.4 -> 12.3 (0-19), 18.5 -> 13.1 (20-39); n = 40: 65.5 -> 11.0. Synchronous events
#: among many neurons are what pairwise couplings miss (why Tkacik et al. added the K-potential).
COUNT_TERM_MIN_NEURONS = 20
#: ``latent="states"`` starts as a ladder of population gains: state ``k`` shifts every angle by this times the
#: normal quantile of ``(k + 1/2) / m``
STATE_GAIN = 0.3
#: states of ``latent="states"`` when ``latent_nodes`` is not given. Held-out NLL at (10, 10), groups 1 and 2 of
#: ``benchmarks/time_windows.py``: 48 states better than 32 by 0.33 and 0.51 bits per window (paired intervals
#: excluding 0; ``--models cry,k32=cry:latent_nodes=32``); each state costs fit time (more was not tried)
DEFAULT_STATES = 48
#: the most bits (t n) a window may have for the MMD objective, which enumerates every window
MMD_MAX_BITS = 16
#: (latent value, window, step, neuron) angles one chunk of the likelihood holds at once
CHUNK_ELEMENTS = 2**20
#: the most such angles whose derivatives a likelihood evaluation keeps for its backward pass (1 GiB in
#: float64); above, it evaluates every chunk twice (without and with the gradient) instead
KEEP_ELEMENTS = 2**27


def latent_rule(dim: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes ``(nodes**dim, dim)`` and weights (summing to 1) of a standard normal in ``dim`` dimensions."""
    if dim == 0:
        return np.zeros((1, 0)), np.ones(1)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    weights = np.meshgrid(*([w] * dim), indexing="ij")
    return np.stack([g.ravel() for g in grids], 1), np.prod([v.ravel() for v in weights], 0)


def mmd_squared(p: torch.Tensor, q: torch.Tensor, n_bits: int, bandwidth: float) -> torch.Tensor:
    r"""MMD\ :sup:`2` of two distributions over ``2**n_bits`` bit strings (last axis) under the Gaussian kernel.

    ``k(x, y) = a^{|x - y|}`` with ``a = exp(-1 / 2 bandwidth^2)`` and ``|x - y|`` the Hamming
    distance; equal to ``(p - q) K (p - q)`` but computed from the Walsh spectrum of ``p - q``
    (the Pauli-Z expectation values), in ``O(m 2^m)`` instead of ``O(4^m)``.
    """
    a = math.exp(-1.0 / (2.0 * bandwidth**2))
    spectrum = walsh_hadamard(p - q, n_bits)
    order = indices_to_bits(torch.arange(2**n_bits), n_bits).sum(-1).to(p.dtype)  # |S| of every Walsh index
    eig = (1 + a) ** (n_bits - order) * (1 - a) ** order
    return (eig * spectrum**2).sum(-1) / 2**n_bits


class BornMachine(ArrayModel, HasLikelihood, HasCircuits, Previewable):
    """A patch Born machine of one circuit family (see the module docstring).

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    family
        The circuit family of every step (:data:`spiqgan.quantum.families.FAMILIES`): ``"cry"``,
        ``"iqp"`` or ``"bitflip"``; the model's registered name.
    latent
        ``"normal"`` (a Gauss-Hermite rule for ``z``) or ``"states"`` (a hidden Markov chain of
        ``latent_nodes`` states); ``None``: states for ``"cry"`` at ``t > 1`` with ``latent_dim > 0``,
        else normal.
    latent_dim
        ``d``, dimensions of the normal latent (0: none, for either kind).
    latent_nodes
        ``m``, Gauss-Hermite points per latent dimension (``m^d`` latent values), or the number of
        states; ``None``: 12 points, or :data:`DEFAULT_STATES` states.
    memory
        ``L``, earlier patterns each step is conditioned on (full couplings; families that condition on
        spikes, such as ``"cry"``, only); ``None``: 1 for those on windows longer than one step with the
        normal latent, else 0.
    history
        ``H``, earlier steps of each neuron's own spikes each step is conditioned on (one weight per
        lag and neuron; ``"cry"`` only); ``None``: ``t - 1`` for ``"cry"``, else 0.
    switching
        For ``t > 1``: the latent value may change between steps (kept with a fitted
        probability, else redrawn) instead of staying fixed for the whole window.
    count_term
        (``"cry"`` only) add ``c_k`` to neuron ``j``'s angle, ``k`` the number of neurons
        ``0..j-1`` that fired at the step: ``n`` parameters shared by all steps and neurons, a
        classically controlled rotation on the count (the autoregressive cousin of the
        K-pairwise model's potential on the number of neurons firing). ``None``: on for ``"cry"``
        from :data:`COUNT_TERM_MIN_NEURONS` neurons.
    calibrate
        Rounds of rate calibration after a likelihood fit with memory (see :meth:`_calibrate`).
    couplings
        ``"shared"``: one coupling per pair for all steps; ``"per_step"``: one per pair and step.
    loadings
        ``"per_step"``: a loading per step, neuron and latent dimension (or state); ``"shared"``: one for
        every step (measured worse with states: a state is then a level, not a time course).
    objective
        ``"likelihood"`` (exact maximum likelihood) or ``"mmd"`` (exact MMD over all
        windows, ``t n <= 16``; see the module docstring).
    bandwidth
        ``sigma`` of the MMD kernel, in bits.
    init_scale
        Standard deviation of the initial couplings, loadings and memory weights.
    steps
        Largest number of L-BFGS iterations.
    l2
        L2 penalty per window on couplings, loadings and memory weights.
    tol
        Stop when an iteration changes the mean log-likelihood by less than this.
    seed
        Seeds the initial values and sampling.

    Attributes
    ----------
    angles_, pairs_, loadings_, memory_, own_, count_, stay_, prior_, trans_, pad_ : np.ndarray
        ``(t, n)``, ``(n(n-1)/2,)`` or ``(t, n(n-1)/2)``, ``(t, n, d)`` (``(t, n, m)`` with states; ``1`` for
        ``t`` where shared), ``(L, n, n)``, ``(H, n)``, ``(n,)`` or ``(0,)``, ``(1,)`` or ``(0,)`` (the normal
        latent's log-odds of keeping its value), ``(m,)`` or ``(0,)`` (the first state's log-weights),
        ``(m, m)`` or ``(0, 0)`` (the transitions' log-weights, row: the state before), ``(n,)`` (the
        firing rates standing in for the patterns before a window).
    """

    variant = "family"
    CHOICES = BORN_CHOICES
    _FITTED = ("angles_", "pairs_", "loadings_", "memory_", "own_", "count_", "stay_", "prior_", "trans_", "pad_")

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, family: str = "cry",
                 latent: str | None = None, latent_dim: int = 1,
                 latent_nodes: int | None = None, memory: int | None = None, history: int | None = None,
                 switching: bool = True, count_term: bool | None = None, calibrate: int = 5,
                 couplings: str = "shared", loadings: str = "per_step", objective: str = "likelihood", bandwidth: float = 1.0,
                 init_scale: float = 0.05, steps: int = 500, l2: float = 1e-4, tol: float = 1e-9,
                 seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.family = family
        self.latent, self.latent_dim, self.latent_nodes = latent, latent_dim, latent_nodes
        self.memory, self.couplings, self.loadings = memory, couplings, loadings
        self.history, self.switching, self.calibrate, self.count_term = history, switching, calibrate, count_term
        self.init_scale, self.steps, self.l2, self.tol = init_scale, steps, l2, tol
        self.objective, self.bandwidth = objective, bandwidth

    # ------------------------------------------------------------ params
    @classmethod
    def _accepts(cls, name: str) -> bool:
        return name in FAMILIES or is_user_circuit(name)

    @property
    def circuit_family(self) -> CircuitFamily:
        """The family object of the ``family`` hyperparameter."""
        if self.family not in FAMILIES and not is_user_circuit(self.family):
            raise ModelConfigError(f"family must be one of {', '.join(map(repr, FAMILIES))} or a circuit of yours, "
                                   f"FILE.py:NAME; got {self.family!r}.")
        return get_family(self.family)

    def resolved_params(self) -> dict[str, Any]:
        family = self.circuit_family
        p = super().resolved_params()
        self._check_positive(p, ("steps",))
        self._check_positive(p, ("tol", "bandwidth"), float)
        for k in ("latent_dim", "calibrate") + tuple(k for k in ("memory", "history") if p[k] is not None):
            if isinstance(p[k], bool) or not isinstance(p[k], (int, np.integer)) or p[k] < 0:
                raise ModelConfigError(f"{k} must be an integer >= 0, got {p[k]!r}.")
        for k in ("init_scale", "l2"):
            if isinstance(p[k], bool) or not isinstance(p[k], (int, float)) or not math.isfinite(p[k]) or p[k] < 0:
                raise ModelConfigError(f"{k} must be a number >= 0, got {p[k]!r}.")
        for k, allowed in BORN_CHOICES.items():
            if p[k] not in allowed and not (k == "latent" and p[k] is None):
                raise ModelConfigError(f"{k} must be one of {', '.join(map(repr, allowed))}, got {p[k]!r}.")
        bits = (p["n_neurons"] or 0) * (p["n_timesteps"] or 0)
        if p["objective"] == "mmd" and bits > MMD_MAX_BITS:
            raise ModelConfigError(f"objective 'mmd' enumerates all 2**(t n) windows; t n = {bits} is more than "
                                   f"{MMD_MAX_BITS} bits. Use objective 'likelihood', or fewer neurons or steps.")
        if p["latent_nodes"] is not None:
            self._check_positive(p, ("latent_nodes",))
        nodes = self._nodes(p)
        if self._latent_kind(p) == "normal" and nodes ** p["latent_dim"] > 4096:
            raise ModelConfigError(f"latent_nodes ** latent_dim = {p['latent_nodes']}**{p['latent_dim']} latent values "
                                   "is more than 4096; use fewer nodes or dimensions.")
        if self._latent_kind(p) == "states" and not 2 <= nodes <= 256:
            raise ModelConfigError(f"latent 'states' takes latent_nodes states, from 2 to 256; got {nodes}.")
        for k in ("memory", "history", "count_term"):
            if p[k] and not (family.conditional if k == "count_term" else family.memory_inputs):
                raise ModelConfigError(f"{k} conditions rotations on measured spikes, which only the 'cry' family "
                                       f"does; model {self.name!r} takes {k}={False if k == 'count_term' else 0}.")
        if isinstance(family, UserCircuit):
            if p["n_neurons"] is not None:
                family.check(p["n_neurons"])
            p["circuit_sha256"] = family.sha256  # a run resumes only with the same file
        most = family.max_neurons
        if p["n_neurons"] is not None and most is not None and p["n_neurons"] > most:
            window = f" or '{self.name}-window' (one circuit over the whole window, fitted from expectation values)" \
                if f"{self.name}-window" in ("iqp-window", "bitflip-window") else ""
            raise ModelConfigError(f"{self.name} enumerates 2**n patterns per step; n = {p['n_neurons']} is more "
                                   f"than {most} neurons. Model 'cry' (neuron by neuron, any n){window} "
                                   "takes more.")
        return p

    def _memory(self, p: dict[str, Any], key: str = "memory") -> int:
        """Lags of ``memory`` (full matrices; default 1) or ``history`` (own spikes; default all ``t - 1``) in use."""
        t = p["n_timesteps"]
        if p[key] is None:
            if not self.circuit_family.conditional:  # by default only where it is cheap: neuron by neuron
                return 0
            if key == "memory":  # with states, none: the latent carries what neurons share over time
                return 0 if self._latent_kind(p) == "states" else min(1, t - 1)
            return t - 1
        return min(int(p[key]), t - 1)

    def _count_term(self, p: dict[str, Any]) -> bool:
        """Whether the fit has the count term: as asked, or (``None``) for cry from ``COUNT_TERM_MIN_NEURONS``."""
        if p["count_term"] is None:
            return self.circuit_family.conditional and p["n_neurons"] >= COUNT_TERM_MIN_NEURONS
        return bool(p["count_term"])

    def _n_parameters(self) -> int:
        own_lags = min(np.asarray(self.memory_).shape[0], np.asarray(self.own_).shape[0])  # memory diagonals fixed at 0
        # a softmax's logits are free up to a constant: one fewer per distribution (the prior, each transition row)
        softmax = int(np.asarray(self.prior_).size > 0) + int(np.asarray(self.trans_).shape[0])
        return sum(int(np.asarray(getattr(self, k)).size) for k in self._FITTED if k != "pad_") \
            - own_lags * int(self.params_["n_neurons"]) - softmax

    # ------------------------------------------------------------ model
    def _tensors(self) -> dict[str, torch.Tensor]:
        return {k: torch.as_tensor(np.asarray(getattr(self, k)), dtype=torch.float64) for k in self._FITTED}

    @classmethod
    def _latent_kind(cls, p: dict[str, Any]) -> str:
        """``latent`` as given, or (``None``) ``"states"`` for ``"cry"`` and the user's circuits in windows of more than
        one step with a latent (``latent_dim > 0``), else ``"normal"``."""
        if p["latent"] is not None:
            return p["latent"]
        family = get_family(p["family"]) if p["family"] in FAMILIES or is_user_circuit(p["family"]) else None
        timed = family is not None and family.memory_inputs  # cry, or a circuit of yours
        return "states" if timed and (p["n_timesteps"] or 1) > 1 and p["latent_dim"] > 0 else "normal"

    @classmethod
    def _shared_loadings(cls, p: dict[str, Any]) -> bool:
        """Whether the steps share one loading per neuron and latent dimension (``loadings="shared"``)."""
        return p["loadings"] == "shared"

    @classmethod
    def _nodes(cls, p: dict[str, Any]) -> int:
        """``latent_nodes`` as given, or (``None``) :data:`DEFAULT_STATES` states or 12 Gauss-Hermite nodes."""
        if p["latent_nodes"] is not None:
            return int(p["latent_nodes"])
        return DEFAULT_STATES if cls._latent_kind(p) == "states" else 12

    @classmethod
    def _latent_count(cls, p: dict[str, Any]) -> int:
        """How many values the latent takes: ``m^d`` Gauss-Hermite nodes, or ``m`` states."""
        return cls._nodes(p) if cls._latent_kind(p) == "states" else cls._nodes(p) ** p["latent_dim"]

    def _latent(self, p: dict[str, Any] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The latent values and weights of the hyperparameters ``p`` (default: the fitted ones).

        ``latent="states"``: the ``m`` states as one-hot vectors (so that a loading is a state's own shift of
        an angle), with equal weights standing in for the fitted ``prior_`` (see :meth:`_log_prior`).
        """
        p = self.params_ if p is None else p
        if self._latent_kind(p) == "states":
            k = self._nodes(p)
            return torch.eye(k, dtype=torch.float64), torch.full((k,), 1.0 / k, dtype=torch.float64)
        z, w = latent_rule(p["latent_dim"], self._nodes(p))
        return torch.as_tensor(z, dtype=torch.float64), torch.as_tensor(w, dtype=torch.float64)

    @staticmethod
    def _step_angles(v: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        """Angles of every latent value (``z: (K, d)``, or ``(K, t, d)`` per step) and step without memory: ``(K, t, n)``."""
        loadings = v["loadings_"].expand(v["angles_"].shape[0], -1, -1)  # shared by the steps: (1, n, d)
        return v["angles_"][None] + torch.einsum("tnd,ktd->ktn" if z.dim() == 3 else "tnd,kd->ktn", loadings, z)

    def _memory_term(self, v: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """``sum_l V_l x_{s-l} + h_l * x_{s-l}`` for windows ``x: (B, t, n)``, earlier steps at the pad: ``(B, t, n)``."""
        mem, own = v["memory_"], v["own_"]
        b, t, n = x.shape
        lags = max(mem.shape[0], own.shape[0])
        padded = torch.cat([v["pad_"].expand(b, lags, n), x], 1)
        out = torch.zeros((b, t, n), dtype=x.dtype)
        for lag in range(1, lags + 1):
            before = padded[:, lags - lag: lags - lag + t]  # x_{s - lag} for every step s
            if lag <= mem.shape[0]:
                out = out + before @ mem[lag - 1].T
            if lag <= own.shape[0]:
                out = out + before * own[lag - 1]
        return out

    @staticmethod
    def _memory_step(v: dict[str, torch.Tensor], steps: torch.Tensor, s: int) -> torch.Tensor:
        """Step ``s``'s memory term for windows drawn neuron-major, ``steps: (t, n, N)`` (only steps before ``s``
        read): ``(n, N)``, what :meth:`_memory_term` gives at step ``s``, transposed (sampling, step by step)."""
        mem, own, pad = v["memory_"], v["own_"], v["pad_"]
        out = torch.zeros(steps.shape[1:], dtype=pad.dtype)
        before_window = torch.zeros_like(pad)
        for lag in range(1, max(mem.shape[0], own.shape[0]) + 1):
            drawn = s - lag >= 0
            if lag <= mem.shape[0]:
                if drawn:
                    out.addmm_(mem[lag - 1], steps[s - lag])
                else:
                    before_window += mem[lag - 1] @ pad
            if lag <= own.shape[0]:
                if drawn:
                    out.addcmul_(own[lag - 1][:, None], steps[s - lag])
                else:
                    before_window += own[lag - 1] * pad
        return out.add_(before_window[:, None])

    def _checkpoint(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, meta = super()._checkpoint()
        family = self.circuit_family
        if isinstance(family, UserCircuit):  # the file it was fitted with, to refuse another on loading
            meta["circuit"] = {"path": family.path, "sha256": family.sha256}
        return tensors, meta

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, Any], meta: dict[str, Any]) -> "BornMachine":
        saved = meta.get("circuit")
        if saved is not None:
            now = get_family(meta["params"]["family"]).sha256
            if now != saved["sha256"]:
                raise ModelConfigError(f"this model was fitted with circuit {meta['params']['family']} at SHA-256 "
                                       f"{saved['sha256'][:12]}, and the file has changed since (now {now[:12]}); "
                                       "restore that file, or train again.")
        return super()._from_checkpoint(tensors, meta)

    def _memory_shifts(self, v: dict[str, torch.Tensor]) -> bool:
        """Whether the steps' angles take the memory term: a family that takes one, with memory or own history."""
        return self.circuit_family.memory_inputs and bool(v["memory_"].shape[0] or v["own_"].shape[0])

    def _log_likelihood(self, v: dict[str, torch.Tensor], x: torch.Tensor, z: torch.Tensor,
                        logw: torch.Tensor) -> torch.Tensor:
        """Exact ``log P(x)`` of windows ``x: (B, t, n)`` float64, ``(B,)``; without gradients, in chunks."""
        per_step = self._step_log_probs(v, x, z) if torch.is_grad_enabled() else self._chunked_step_log_probs(v, x, z)
        return self._forward(per_step, logw, v)

    def _chunked_step_log_probs(self, v: dict[str, torch.Tensor], x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """:meth:`_step_log_probs` of ``x`` in chunks of :meth:`_chunk` windows (bounded temporaries), ``(K, B, t)``."""
        chunk = self._chunk(z, x)
        # the memory term once for all windows (without the latent's K it is small): per chunk, its many lags
        # were thousands of small operations per evaluation (85 chunks x 29 lags at (10, 30) with 48 states)
        shift = self._memory_term(v, x) if self._memory_shifts(v) else None
        return torch.cat([self._step_log_probs(v, x[i:i + chunk], z, None if shift is None else shift[i:i + chunk])
                          for i in range(0, x.shape[0], chunk)], 1)

    def _step_log_probs(self, v: dict[str, torch.Tensor], x: torch.Tensor, z: torch.Tensor,
                        shift: torch.Tensor | None = None) -> torch.Tensor:
        """``log P_s(x_s | earlier steps, z_k)``: what each step's circuit gives each window's pattern, ``(K, B, t)``
        (``shift``: the memory term of ``x``, computed here if not given)."""
        family = self.circuit_family
        if shift is None and self._memory_shifts(v):
            shift = self._memory_term(v, x)
        return family.step_log_probs(self._step_angles(v, z), v["pairs_"], x, shift, v["count_"])

    @staticmethod
    def _log_prior(v: dict[str, torch.Tensor], logw: torch.Tensor) -> torch.Tensor:
        """Log-weights of the latent values at a window's first step: the fitted ``prior_`` (states), else ``logw``."""
        return torch.log_softmax(v["prior_"], 0) if v["prior_"].numel() else logw

    @classmethod
    def _forward(cls, per_step: torch.Tensor, logw: torch.Tensor, v: dict[str, torch.Tensor]) -> torch.Tensor:
        r"""``log P(x)`` from ``log P(x_s | ..., z_k)``, ``(K, B, t)``, summed over the latent's paths (forward algorithm).

        Normal latent: it keeps its value from one step to the next with probability
        :math:`\rho = \sigma(\text{stay})` and is redrawn from its weights otherwise;
        with no ``stay`` parameter it keeps its value for the whole window. States: the first
        step's state has the weights ``softmax(prior_)`` and each next one is drawn from the row of the
        transition matrix ``softmax(trans_, rows)`` of the one before.
        """
        logw = cls._log_prior(v, logw)
        stay, trans = v["stay_"], v["trans_"]
        if trans.numel() == 0 and stay.numel() == 0:
            return torch.logsumexp(per_step.sum(-1) + logw[:, None], dim=0)
        # the steps as views in one go: indexing per_step[..., s] step by step had each step's backward fill a
        # zero tensor of all the steps (t of them: at t = 30 a third of an evaluation's time)
        steps = per_step.unbind(-1)
        if trans.numel():
            a = torch.softmax(trans, 1)  # (K, K): a[i, k] = P(k next | i now)
            alpha = logw[:, None] + steps[0]  # (K, B)
            for step in steps[1:]:  # in probability space, each window scaled by its largest term
                top = alpha.max(0, keepdim=True).values
                alpha = step + torch.log(a.T @ torch.exp(alpha - top)) + top
            return torch.logsumexp(alpha, dim=0)
        log_keep, log_jump = torch.nn.functional.logsigmoid(stay), torch.nn.functional.logsigmoid(-stay)
        alpha = logw[:, None] + steps[0]  # (K, B)
        for step in steps[1:]:
            jump = log_jump + logw[:, None] + torch.logsumexp(alpha, dim=0, keepdim=True)
            alpha = step + torch.logaddexp(log_keep + alpha, jump)
        return torch.logsumexp(alpha, dim=0)

    def log_likelihood(self, windows: np.ndarray) -> np.ndarray:
        """Exact natural-log probability of each window ``(B, t, n)``: ``(B,)``."""
        x = self._checked_windows(windows)
        z, w = self._latent()
        with torch.no_grad():
            out = self._log_likelihood(self._tensors(), torch.as_tensor(x, dtype=torch.float64), z, torch.log(w))
        return out.numpy()

    def conditional_log_likelihood(self, windows: np.ndarray, latent: np.ndarray) -> np.ndarray:
        """Exact ``log P(x | z_1 .. z_t)`` of each window ``(B, t, n)`` given the latent value at every step, ``latent: (t, d)``
        (with states, ``d`` is their number and a state's value its one-hot vector).

        What a circuit of :meth:`circuits` gives for those inputs (the latent path fixed).
        """
        self._check_fitted()
        x = np.asarray(windows, dtype=np.float64)
        p = self.params_
        d = np.asarray(self.loadings_).shape[2]  # latent dimensions, or states (their one-hot values)
        z = torch.as_tensor(np.asarray(latent, dtype=np.float64).reshape(1, p["n_timesteps"], d))
        none = torch.zeros(0, dtype=torch.float64)
        fixed = {**self._tensors(), "stay_": none, "prior_": none, "trans_": none}
        with torch.no_grad():
            return self._log_likelihood(fixed, torch.as_tensor(x), z, torch.zeros(1, dtype=torch.float64)).numpy()

    # ------------------------------------------------------------ fit
    def progress_steps(self) -> int:
        return int(self.steps)

    def _initial(self, x: np.ndarray, p: dict[str, Any]) -> dict[str, torch.Tensor]:
        t, n = p["n_timesteps"], p["n_neurons"]
        rng = torch.Generator().manual_seed(int(p["seed"]))
        rates = torch.as_tensor(x.mean(0, dtype=np.float64))  # (t, n)
        n_pairs = self.circuit_family.n_couplings(n)
        scale = float(p["init_scale"])

        def small(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=rng, dtype=torch.float64) * scale

        states = self._latent_kind(p) == "states"
        k = self._nodes(p)
        if states:  # a ladder of population gains (every neuron's angle shifted alike), told apart by small noise
            ladder = torch.as_tensor([NormalDist().inv_cdf((i + 0.5) / k) for i in range(k)], dtype=torch.float64)
            loadings = STATE_GAIN * ladder.expand(t, n, k) + small(t, n, k)
        else:
            loadings = small(t, n, p["latent_dim"])
        if self._shared_loadings(p):  # one loading per neuron and latent dimension, for every step
            loadings = loadings[:1].clone()
        switching = t > 1 and p["switching"]
        return {"angles_": self.circuit_family.independent_angles(rates),
                "pairs_": small(n_pairs) if p["couplings"] == "shared" else small(t, n_pairs),  # or the circuit's weights
                "loadings_": loadings,
                "memory_": small(self._memory(p), n, n),
                "own_": small(self._memory(p, "history"), n),
                # a bias by how many earlier neurons fired at the step (zero: the independent start)
                "count_": torch.zeros(n if self._count_term(p) else 0, dtype=torch.float64),
                # the latent's log-odds of keeping its value from one step to the next (0.9 at the start)
                "stay_": torch.full((1 if not states and p["latent_dim"] and switching else 0,), math.log(9.0),
                                    dtype=torch.float64),
                # states: the first step's log-weights (equal at the start) and the transitions' log-odds (a state
                # kept with probability 0.9 at the start, the others equally likely)
                "prior_": torch.zeros(k if states else 0, dtype=torch.float64),
                "trans_": (math.log(9.0 * (k - 1)) * torch.eye(k, dtype=torch.float64) if states and switching
                           else torch.zeros(0, 0, dtype=torch.float64)),
                "pad_": rates.mean(0)}

    def preview(self, windows: np.ndarray) -> dict[str, Any]:
        """Before a fit: its trainable parameters and the seconds of one objective evaluation (a step).

        Times the loss and its gradient once, at the start values, on ``windows`` (the training windows).
        """
        from spiqgan.data.raster import check_windows

        p = self.resolved_params()
        x = check_windows(windows, what="training windows")
        p["n_timesteps"], p["n_neurons"] = x.shape[1:]
        values = self._initial(x, p)
        trained = {k: v.requires_grad_() for k, v in values.items() if k != "pad_"}
        loss = self._objective(x, p)
        warm_optimizers()
        start = time.perf_counter()
        loss({**trained, "pad_": values["pad_"]})
        seconds = time.perf_counter() - start
        scale = self._scales(x, p, values)  # a scale of 0: fixed (the memory diagonals the own history has)
        softmax = int(values["prior_"].numel() > 0) + values["trans_"].shape[0]  # free up to a constant, as counted
        return {"parameters": sum(int((scale[k] > 0).sum()) for k in trained) - softmax, "seconds_per_step": seconds,
                "steps": int(p["steps"])}

    #: L-BFGS iterations between the chances to checkpoint a fit in progress (see ArrayModel)
    LBFGS_CHUNK = 20

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        from spiqgan.training.lbfgs import ResumableLBFGS

        resume = self._take_resume()
        if resume is not None and resume["phase"] == "lbfgs" and not resume["meta"].get("preconditioned"):
            resume = None  # from a version whose L-BFGS ran on unscaled parameters: its state does not carry over
        values = self._initial(x, p)
        memory = p["objective"] == "likelihood" and bool(self._memory(p) or self._memory(p, "history"))
        first_round = 0
        if resume is None or resume["phase"] == "lbfgs":
            scale = self._scales(x, p, values)
            trained = {k: torch.nn.Parameter(torch.where(scale[k] > 0, v / scale[k], 0.0))
                       for k, v in values.items() if k != "pad_"}
            loss = self._objective(x, p)
            key = "nll" if p["objective"] == "likelihood" else "generator_loss"  # a column of metrics.csv
            lbfgs = ResumableLBFGS(list(trained.values()), max_iter=int(p["steps"]),
                                   max_eval=int(p["steps"]) * 5 // 4, tol=p["tol"], history_size=50,
                                   chunk=self.LBFGS_CHUNK)
            if resume is not None:  # continue the interrupted fit where its checkpoint left it
                with torch.no_grad():
                    for k, v in trained.items():
                        v.copy_(resume["tensors"][f"param.{k}"])
                lbfgs.restore({k[6:]: v for k, v in resume["tensors"].items() if k.startswith("lbfgs.")},
                              resume["meta"]["lbfgs"])
            if hasattr(progress, "restart"):  # torch.optim's first use imports for seconds: not a step
                progress.restart()

            def closure() -> torch.Tensor:
                lbfgs.opt.zero_grad()
                now = {k: v * scale[k] for k, v in trained.items()}
                total = loss({**now, "pad_": values["pad_"]})
                if p["l2"] > 0:
                    reg = 0.5 * p["l2"] * sum(((trained[k] * scale[k]) ** 2).sum() for k in ("pairs_", "loadings_", "memory_", "own_"))
                    reg.backward()
                    total = total + reg.detach()
                if not lbfgs.repeat:  # a chunk's start re-evaluates the last point: one record of it
                    self.history_.append({"step": len(self.history_) + 1, key: float(total)})
                    if progress is not None and len(self.history_) <= p["steps"]:
                        progress.update(len(self.history_), **{key: float(total)})
                return total

            def on_chunk(opt: ResumableLBFGS) -> None:
                tensors, meta = opt.state()
                self._checkpoint_progress("lbfgs", {**{f"param.{k}": v.detach().clone() for k, v in trained.items()},
                                                    **{f"lbfgs.{k}": v for k, v in tensors.items()}},
                                          {"lbfgs": meta, "preconditioned": True})

            lbfgs.run(closure, on_chunk)
            done = len(self.history_)
            if done < p["steps"] and hasattr(progress, "finish"):  # L-BFGS stopped early: say so, not "150/500"
                progress.finish(done, "converged (L-BFGS: the objective's change fell under tol)",
                                **{key: self.history_[-1][key]} if done else {})
            for k, v in trained.items():
                setattr(self, k, (v.detach() * scale[k]).numpy().copy())
        else:  # interrupted during the calibration rounds: the fitted arrays of the last round done
            self._restore({k: v.numpy() for k, v in resume["tensors"].items() if k in self._FITTED})
            first_round = int(resume["meta"]["round"])
        self.pad_ = values["pad_"].numpy().copy()
        if memory:
            self._calibrate(x.mean(0, dtype=np.float64), p, first_round=first_round)

    def _scales(self, x: np.ndarray, p: dict[str, Any], values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        r"""How far each parameter may move for the same change of the fit: :math:`1/\sqrt{h}`, ``h`` its curvature.

        The Fisher information of one bit about its angle is 1 at every angle (``p = sin^2(phi/2)``:
        :math:`p'^2 / p(1-p) = 1`), so each parameter's Gauss-Newton curvature is the summed square of
        what it adds to the angles: 1 for an angle and (``z`` standard normal) a loading; the mean of
        ``x_{s,i}`` over steps and windows for the coupling from neuron ``i`` (and for the memory and own
        history, of the step it reads, the pad before the window); the frequency of ``k`` earlier neurons
        firing for ``c_k``. Rare neurons' couplings have a curvature hundreds of times smaller than an
        angle's; L-BFGS on parameters divided by these scales sees them all alike (Jacobi preconditioning).
        The L2 penalty's curvature is added, and every curvature is at least ``1e-4``.
        """
        t, n = x.shape[1:]
        k = self._latent_count(p)
        xf = torch.as_tensor(x.mean(0, dtype=np.float64))  # (t, n): E[x_si]
        pad = values["pad_"]
        floor, l2 = 1e-4, float(p["l2"])

        def before(lag: int) -> torch.Tensor:  # sum over steps of E[x_{s - lag}], pad squared before the window
            return xf[:max(0, t - lag)].sum(0) + min(lag, t) * pad**2

        if self.circuit_family.pairwise:
            i, j = pair_indices(n)
            pairs = xf[:, i] if values["pairs_"].dim() == 2 else xf.sum(0)[i]
        else:  # a circuit's own weights: no closed form of their curvature, unscaled
            pairs = torch.ones_like(values["pairs_"])
        mem, own = values["memory_"], values["own_"]
        memory = torch.stack([before(lag)[None, :].expand(n, n) for lag in range(1, mem.shape[0] + 1)]) \
            if mem.shape[0] else torch.zeros_like(mem)
        history = torch.stack([before(lag) for lag in range(1, own.shape[0] + 1)]) if own.shape[0] else torch.zeros_like(own)
        count = values["count_"]
        if count.numel():
            earlier = torch.as_tensor(np.cumsum(x, -1, dtype=np.int64) - x)  # (N, t, n): neurons before j that fired
            count = torch.bincount(earlier.reshape(-1), minlength=n)[:n].to(torch.float64) / x.shape[0]
        h = {"angles_": torch.ones_like(values["angles_"]), "pairs_": pairs + l2,
             # z standard normal: E z^2 = 1; a state's one-hot value: about the share of the state, 1 / K to start
             # (and t times that where the steps share it)
             "loadings_": torch.full_like(values["loadings_"], (1.0 / k if self._latent_kind(p) == "states" else 1.0)
                                          * (t if self._shared_loadings(p) else 1)) + l2,
             "memory_": memory + l2, "own_": history + l2,
             "count_": count, "stay_": torch.ones_like(values["stay_"]), "prior_": torch.ones_like(values["prior_"]),
             "trans_": torch.ones_like(values["trans_"]), "pad_": torch.ones_like(pad)}
        scale = {k: v.clamp_min(floor).rsqrt() for k, v in h.items()}
        # a neuron's memory of its own spikes at a lag the own history has too is that history's weight again:
        # fixed at 0 (scale 0), not a second parameter that only the L2 penalty tells apart (a flat direction)
        both = min(mem.shape[0], own.shape[0])
        scale["memory_"][:both, torch.arange(n), torch.arange(n)] = 0.0
        return scale

    def _objective(self, x: np.ndarray, p: dict[str, Any]):
        """``loss(values)`` of the configured objective on the windows ``x``, its gradient accumulated."""
        z, w = self._latent(p)
        return (self._likelihood_loss if p["objective"] == "likelihood" else self._mmd_loss)(x, p, z, torch.log(w))

    def _likelihood_loss(self, x: np.ndarray, p: dict[str, Any], z: torch.Tensor, logw: torch.Tensor):
        """``loss(values)``: the mean negative log-likelihood of the windows ``x``, its gradient accumulated."""
        unique, counts = np.unique(x.reshape(x.shape[0], -1), axis=0, return_counts=True)
        xu = torch.as_tensor(unique.reshape(-1, *x.shape[1:]), dtype=torch.float64)
        weight = torch.as_tensor(counts / counts.sum(), dtype=torch.float64)
        chunk = self._chunk(z, xu)
        kept = z.shape[0] * xu[0].numel() * xu.shape[0] <= KEEP_ELEMENTS

        def loss(v: dict[str, torch.Tensor]) -> torch.Tensor:
            # every window's per-step log-probabilities (K, B, t), the heavy part, chunk by chunk, each chunk's
            # graph kept (its stored derivatives: 8 bytes per element) unless too large; then the latent's
            # forward algorithm over all windows at once (many small steps: once, not per chunk)
            if kept:
                total = -(self._forward(self._chunked_step_log_probs(v, xu, z), logw, v) * weight).sum()
                total.backward()
                return total.detach()
            # each chunk is evaluated twice, so its graph is built twice: on leaves, whose gradients are then
            # sent back through the graph of ``v`` (e.g. the fit's rescaling) once, not once per chunk
            leaves = {k: u.detach().requires_grad_(u.requires_grad) for k, u in v.items()}
            with torch.no_grad():
                per_step = self._chunked_step_log_probs(leaves, xu, z)
            per_step.requires_grad_()
            total = -(self._forward(per_step, logw, leaves) * weight).sum()
            total.backward()
            # the memory term once for all chunks here too (as in _chunked_step_log_probs), each chunk's part a leaf
            shift = self._memory_term(leaves, xu) if self._memory_shifts(leaves) else None
            parts = [] if shift is None else [u.detach().requires_grad_() for u in shift.split(chunk)]
            for c, i in enumerate(range(0, xu.shape[0], chunk)):  # each chunk again, with its gradient now known
                self._step_log_probs(leaves, xu[i:i + chunk], z, parts[c] if parts else None) \
                    .backward(per_step.grad[:, i:i + chunk])
            if parts:
                shift.backward(torch.cat([u.grad for u in parts]))
            sent = [k for k, u in v.items() if u.requires_grad and leaves[k].grad is not None]
            torch.autograd.backward([v[k] for k in sent], [leaves[k].grad for k in sent])
            return total.detach()

        return loss

    @staticmethod
    def _chunk(z: torch.Tensor, x: torch.Tensor) -> int:
        """Windows per chunk of the likelihood: ``CHUNK_ELEMENTS`` (latent value, window, step, neuron) angles."""
        return max(1, CHUNK_ELEMENTS // (z.shape[0] * x.shape[1] * x.shape[2]))

    def _mmd_loss(self, x: np.ndarray, p: dict[str, Any], z: torch.Tensor, logw: torch.Tensor):
        """``loss(values)``: MMD^2 between the model's and the data's window distributions (exact), per
        its value at the independent start (so that ``tol`` means the same at any scale), gradient accumulated."""
        t, n = x.shape[1:]
        bits = t * n
        every = indices_to_bits(torch.arange(2**bits), bits).reshape(-1, t, n).to(torch.float64)
        flat = bits_to_indices(torch.as_tensor(x.reshape(x.shape[0], 1, bits)))[:, 0]
        data = torch.bincount(flat, minlength=2**bits).to(torch.float64) / x.shape[0]
        independent = torch.as_tensor(x.mean(0, dtype=np.float64)).clamp(1e-12, 1 - 1e-12)  # (t, n)
        scale = mmd_squared(torch.exp((every * independent.log() + (1 - every) * (1 - independent).log()).sum((1, 2))),
                            data, bits, p["bandwidth"]).clamp_min(1e-300)

        def loss(v: dict[str, torch.Tensor]) -> torch.Tensor:
            value = mmd_squared(torch.exp(self._log_likelihood(v, every, z, logw)), data, bits, p["bandwidth"]) / scale
            value.backward()
            return value.detach()

        return loss

    def _calibrate(self, rates: np.ndarray, p: dict[str, Any], windows: int = 50000, step: float = 0.7,
                   first_round: int = 0) -> None:
        r"""Shift the single-qubit angles until the model's own firing rates are the training rates.

        With memory, the likelihood fits each step given *real* earlier steps; a
        generated window feeds back its own, and small errors compound (a
        self-exciting neuron drifts up or down over the window). ``calibrate``
        rounds of: draw ``windows`` windows, and move each neuron's angles (at every
        step alike) by ``step`` times the difference of :math:`2\arcsin\sqrt r`
        between its training rate and its drawn rate, averaged over the steps (per
        step, the draws are too few for rare neurons; below 1, because the feedback
        amplifies a shift and a full step overshoots).
        """
        self._fitted_flag = True
        angles = self.circuit_family.independent_angles
        target = angles(torch.as_tensor(rates.mean(0))).numpy()
        for round_ in range(first_round, int(p["calibrate"])):
            drawn = self._sample(windows, np.random.default_rng([int(p["seed"]), round_])).mean((0, 1), dtype=np.float64)
            now = angles(torch.as_tensor(drawn)).numpy()
            # the rate rises with |angle|: move each angle away from 0 to raise it
            self.angles_ = self.angles_ + step * np.sign(np.sin(self.angles_)) * (target - now)[None]
            if round_ + 1 < int(p["calibrate"]):  # a checkpoint between rounds (a resume starts the next one)
                self._checkpoint_progress("calibrate", {k: getattr(self, k) for k in self._FITTED},
                                          {"round": round_ + 1})

    # ------------------------------------------------------------ sample
    #: windows drawn per chunk (each with its own generator, seeded from the caller's: the windows do not
    #: depend on how many chunks run at once); bounds the sampler's working memory
    SAMPLE_CHUNK = 2**15

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        seeds = rng.integers(2**63, size=-(-n_windows // self.SAMPLE_CHUNK))
        sizes = [min(self.SAMPLE_CHUNK, n_windows - i * self.SAMPLE_CHUNK) for i in range(len(seeds))]
        v = self._tensors()
        workers = min(len(seeds), torch.get_num_threads())
        if workers <= 1:
            parts = [self._sample_chunk(v, size, int(seed)) for size, seed in zip(sizes, seeds)]
        else:  # torch releases the GIL in its kernels: the chunks' many small operations overlap
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                parts = list(pool.map(lambda a: self._sample_chunk(v, *a), zip(sizes, map(int, seeds))))
        t, n = self.params_["n_timesteps"], self.params_["n_neurons"]
        return np.concatenate(parts) if parts else np.zeros((0, t, n), dtype=np.uint8)

    def _sample_chunk(self, v: dict[str, torch.Tensor], n_windows: int, seed: int) -> np.ndarray:
        """``n_windows`` windows drawn with a generator seeded by ``seed``."""
        t = self.params_["n_timesteps"]
        z, w = self._latent()
        gen = torch.Generator().manual_seed(seed)
        if v["prior_"].numel():
            w = torch.softmax(v["prior_"], 0)
        which = torch.multinomial(w, n_windows, replacement=True, generator=gen)  # the latent value at step 0
        states = [which]
        if v["trans_"].numel():  # each next state from the row of the one before: inverse of its cumulative sum
            rows = torch.cumsum(torch.softmax(v["trans_"], 1), 1)
            rows[:, -1] = 1.0
            for _ in range(1, t):
                u = torch.rand(n_windows, 1, generator=gen, dtype=torch.float64)
                states.append(torch.searchsorted(rows[states[-1]], u).squeeze(1).clamp_(max=rows.shape[0] - 1))
        elif v["stay_"].numel():  # keep it with probability sigmoid(stay), else redraw it
            keep = torch.sigmoid(v["stay_"])[0]
            for _ in range(1, t):
                redraw = torch.multinomial(w, n_windows, replacement=True, generator=gen)
                kept = torch.rand(n_windows, generator=gen, dtype=torch.float64) < keep
                states.append(torch.where(kept, states[-1], redraw))
        else:
            states *= t
        path = torch.stack(states, 1)  # (N, t)
        family = self.circuit_family
        with torch.no_grad():
            shift = (lambda steps, s: self._memory_step(v, steps, s)) if self._memory_shifts(v) else None
            return family.sample(self._step_angles(v, z), v["pairs_"], path, gen, shift, v["count_"]).numpy()

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        # checkpoints written before the count term or the latent states existed have none
        super()._restore({"count_": np.zeros(0), "prior_": np.zeros(0), "trans_": np.zeros((0, 0)), **arrays})

    # ------------------------------------------------------------ cost and circuits
    def cost_summary(self, preview: dict[str, Any] | None = None) -> str:
        p = self.resolved_params()
        latent = self._latent_count(p)
        params = f"{preview['parameters']} trainable parameters, " if preview is not None else ""
        return (f"{self.n_neurons} qubits x {self.n_timesteps} sub-generators, {params}exact likelihood of the "
                f"distinct training windows under {latent} latent value(s), "
                f"{self.circuit_family.per_step_cost(self.n_neurons)} per step, {p['steps']} L-BFGS iterations at most")

    def resources(self) -> dict[str, Any]:
        """Qubits, trainable parameters and two-qubit gates per sub-generator (the circuit a device would run)."""
        self._check_fitted()
        p = self.params_
        n, t, mem = p["n_neurons"], p["n_timesteps"], self._memory(p)
        return {"family": self.family, "interference": self.circuit_family.interference, "qubits": n,
                "sub_generators": t, "latent_values": self._latent_count(p),
                "two_qubit_gates_per_sub_generator": n * (n - 1) // 2, "memory": mem,
                "trainable_parameters": self.n_parameters}

    def circuits(self, which: str = "last") -> Export:
        """The fitted model as circuits: one per time step, inputs ``z_0 .. z_{d-1}`` (the latent value).

        A model whose steps condition on earlier ones (``memory``, ``history``) is one *window* circuit
        instead: its ``n`` qubits are measured into ``spikes_s``, reset, and reused for the next step,
        whose rotations are conditioned on the measured bits (feed-forward); its inputs are ``z_k_t{s}``,
        the latent value at step ``s``. The gates of a step are the family's
        (:meth:`~spiqgan.quantum.families.base.CircuitFamily.add_step`).
        """
        self._check_fitted()
        self._check_which(which)
        p = self.params_
        t, n = p["n_timesteps"], p["n_neurons"]
        v = {k: np.asarray(getattr(self, k), dtype=np.float64) for k in self._FITTED}
        d = v["loadings_"].shape[2]  # latent dimensions, or states (one-hot)
        v["loadings_"] = np.broadcast_to(v["loadings_"], (t,) + v["loadings_"].shape[1:])  # shared by the steps: each its own
        family = self.circuit_family
        windowed = t > 1 and self._memory_shifts(v)
        z, w = self._latent()
        keep = 1.0 / (1.0 + math.exp(-float(v["stay_"][0]))) if v["stay_"].size else 1.0
        if windowed:
            regs = {f"spikes_{s}": n for s in range(t)}
            latent_by_step = [[f"z_{k}_t{s}" for k in range(d)] for s in range(t)]
            c = Circuit("window", n + family.ancillas, tuple(x for names in latent_by_step for x in names), regs,
                        steps={f"spikes_{s}": s for s in range(t)},
                        description=f"a whole window of {t} steps: {family.title} circuits on {n} qubits, measured, "
                                    "reset and reused; each step's rotations conditioned on the earlier steps' spikes")
            c.step_starts = []
            for s in range(t):
                c.step_starts.append(len(c.ops))
                if s:
                    for j in range(n + family.ancillas):
                        c.add("reset", j)
                family.add_step(c, s, v, f"spikes_{s}", latent_by_step[s], list(regs))
            circuits = [c]
        else:
            circuits = []
            latent = [f"z_{k}" for k in range(d)]
            for s in range(t):
                c = Circuit(f"step_{s}", n + family.ancillas, tuple(latent), {"spikes": n}, steps={"spikes": s},
                            description=f"time step {s} of {t}: {family.title} circuit on {n} qubits"
                                        + (" and one ancilla" if family.ancillas == 1 else
                                           f" and {family.ancillas} ancillas" if family.ancillas else ""))
                family.add_step(c, s, v, "spikes", latent, [])
                circuits.append(c)
        if v["prior_"].size:  # states: one-hot values, the fitted first-step weights and transition matrix
            prior = np.exp(v["prior_"] - v["prior_"].max())
            inputs = {"kind": "latent", "values": z.numpy().tolist(), "weights": (prior / prior.sum()).tolist(),
                      "dimensions": d, "states": d}
            if v["trans_"].size:
                a = np.exp(v["trans_"] - v["trans_"].max(1, keepdims=True))
                inputs["transitions"] = (a / a.sum(1, keepdims=True)).tolist()
                inputs["rule"] = ("each window draws a state from the weights for its first step; at every later step "
                                  "it draws the next state from the row of transitions of the state before (a Markov "
                                  "chain); step s's circuit gets the one-hot value of the state at step s as its z inputs")
            else:
                inputs["rule"] = ("each window draws a state from the weights and keeps it for every step; each "
                                  "step's circuit gets its one-hot value as its z inputs")
        else:
            inputs = {"kind": "latent", "values": z.numpy().tolist(), "weights": w.numpy().tolist(),
                      "keep_probability": keep, "dimensions": d,
                      "rule": "each window draws a latent value from the weights for its first step; at every later "
                              "step it keeps the value with keep_probability, else draws anew; step s's circuit gets "
                              "the value at step s as its z inputs"}
        return Export(self.name, n, t, circuits, inputs, hyperparameters=dict(p))
