r"""IQP circuits over whole windows (``iqp-window``) and their bit-flip look-alike (``bitflip-window``).

One circuit of ``t n`` qubits generates a whole window (:mod:`spiqgan.quantum.expval`): Z on every
bit, ZZ on every pair in one step, on one neuron across lags and across neurons and lags up to
``max_lag``, with one angle per (lag, neuron pair) shared by all steps (``shared``). Unlike the Born
machines (one circuit per step, ``n <= 16``), nothing enumerates ``2^(t n)`` outcomes: the fit
minimises an unbiased estimate of the MMD^2 with Gaussian kernels of several bandwidths, computed
from Pauli-Z expectation values (Recio-Armengol, Ahmed and Bowles 2025) that the IQP circuit gives by
the Van den Nest estimator and the bit-flip model exactly. So both go to hundreds of qubits.

The IQP circuit's samples are not classically available beyond :attr:`WindowIQP.SAMPLE_MAX_QUBITS`
(enumerated); it is judged from its expectation values instead (:meth:`WindowIQP.expval`,
:mod:`spiqgan.evaluation.moments`). The bit-flip model samples at any size. Both have an exact
likelihood up to :attr:`WindowIQP.SAMPLE_MAX_QUBITS` qubits.

**The start** is the bit-flip model that matches the training windows' firing probabilities and
pairwise correlations of every generator's qubits, in closed form in :math:`-\log\cos 2\theta_g` (the
look-alike's moments being products of :math:`\cos 2\theta_g`). It is
the same for both families: IQP starts where the look-alike is best, with the same one-qubit
marginals, and leaves it only where interference lowers the MMD.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from spiqgan.evaluation.statistics import pattern_indices, pattern_windows
from spiqgan.models.base import ArrayModel, HasLikelihood, ModelConfigError

__all__ = ["WindowIQP", "FAMILIES"]

#: the registered names (``--model``): the circuit with interference and its classical look-alike
FAMILIES = ("iqp-window", "bitflip-window")


def _weights(text: str) -> tuple[float, ...]:
    try:
        out = tuple(float(w) for w in str(text).split(","))
    except ValueError:
        out = ()
    if not out or any(not math.isfinite(w) or w <= 0 for w in out):
        raise ModelConfigError(f"kernel_weights must be positive numbers separated by commas (e.g. '1,2,4'), got {text!r}.")
    return out


class WindowIQP(ArrayModel, HasLikelihood):
    """An IQP circuit over whole windows, or its bit-flip look-alike, fitted by MMD from expectation values.

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    family
        ``"iqp-window"`` (interference) or ``"bitflip-window"`` (each generator flips its bits with
        probability :math:`\\sin^2\\theta`): set by the model's name.
    max_lag
        The longest lag, in bins, that a ZZ generator spans (0: only pairs in one step).
    shared
        One angle per neuron and per (lag, neuron pair) for all steps (a stationary window); otherwise one
        per generator.
    steps
        Adam steps of the fit.
    lr
        Adam's learning rate at the start; it decays to 0 along a cosine.
    n_operators
        Pauli-Z operators drawn per bandwidth and step (the MMD's Monte Carlo over operators).
    n_samples
        Samples of the IQP estimator per step (half for each of two independent estimates).
    batch
        Training windows per step (their expectation values are exact over the batch).
    kernel_weights
        The Gaussian kernels' bandwidths, named by the mean number of qubits of their operators, separated by
        commas: small weights see rates and pairs, larger ones higher orders.
    eval_samples
        Samples of the IQP estimator behind :meth:`expval` (the evaluation's expectation values).
    seed
        Seeds the fit (operators, estimator samples, batches) and, with the sample seed, sampling.
    """

    variant = "family"
    _FITTED = ("theta_",)
    CHOICES = {"family": FAMILIES}
    #: enumerated up to this many qubits (``t n``): exact likelihood, and sampling of the IQP circuit
    SAMPLE_MAX_QUBITS: ClassVar[int] = 20

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, family: str = "iqp-window",
                 max_lag: int = 1, shared: bool = True, steps: int = 400, lr: float = 0.002, n_operators: int = 256,
                 n_samples: int = 512, batch: int = 4096, kernel_weights: str = "1,2,4", eval_samples: int = 20000,
                 seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.family, self.max_lag, self.shared, self.steps, self.lr = family, max_lag, shared, steps, lr
        self.n_operators, self.n_samples, self.batch = n_operators, n_samples, batch
        self.kernel_weights, self.eval_samples = kernel_weights, eval_samples

    @classmethod
    def _accepts(cls, name: str) -> bool:
        return name in FAMILIES

    @property
    def interference(self) -> bool:
        return self.family == "iqp-window"

    def resolved_params(self) -> dict[str, Any]:
        p = super().resolved_params()
        if p["family"] not in FAMILIES:
            raise ModelConfigError(f"family must be one of {', '.join(FAMILIES)}, got {p['family']!r}.")
        self._check_positive(p, ("steps", "n_operators", "n_samples", "batch", "eval_samples"))
        self._check_positive(p, ("lr",), float)
        if isinstance(p["max_lag"], bool) or not isinstance(p["max_lag"], (int, np.integer)) or p["max_lag"] < 0:
            raise ModelConfigError(f"max_lag must be a non-negative integer, got {p['max_lag']!r}.")
        if not isinstance(p["shared"], (bool, np.bool_)):
            raise ModelConfigError(f"shared must be true or false, got {p['shared']!r}.")
        if p["n_samples"] < 2 and p["family"] == "iqp-window":
            raise ModelConfigError("n_samples must be at least 2: the IQP estimate is taken from two halves.")
        _weights(p["kernel_weights"])
        return p

    def progress_steps(self) -> int:
        return int(self.steps)

    # ------------------------------------------------------------ structure
    def generators(self):
        """The circuit's :class:`~spiqgan.quantum.expval.Generators` (the model is fitted, or its size is known)."""
        from spiqgan.quantum.expval import window_generators

        p = getattr(self, "params_", None) or self.get_params()
        return window_generators(int(p["n_timesteps"]), int(p["n_neurons"]), int(p["max_lag"]), shared=bool(p["shared"]))

    def _n_qubits(self) -> int:
        """``t n``: the circuit's qubits (the model is fitted, or its size is known)."""
        p = getattr(self, "params_", None) or self.get_params()
        return int(p["n_timesteps"]) * int(p["n_neurons"])

    def sigmas(self) -> list[float]:
        """The kernels' bandwidths on this window's ``t n`` bits (weights at most a third of the bits)."""
        from spiqgan.quantum.expval import bandwidth_for_weight

        m = self._n_qubits()
        return [bandwidth_for_weight(min(w, m / 3), m) for w in _weights(self.params_["kernel_weights"])]

    def describe(self, preset: str | None = None) -> str:
        p = self.get_params()
        if p["n_neurons"] is None or p["n_timesteps"] is None:
            return repr(self)
        g = self.generators()
        kind = "IQP circuit (interference)" if self.interference else "bit-flip look-alike (no interference)"
        return (f"{self.family}: one {kind} over the whole window, {g.n_qubits} qubits, {g.n_generators} generators, "
                f"{g.n_parameters} angles; fitted by MMD from Pauli-Z expectation values")

    def cost_summary(self, preview: dict[str, Any] | None = None) -> str:
        return (f"{self.steps} Adam steps of {self.n_operators} operators x {len(_weights(self.kernel_weights))} "
                f"bandwidths" + (f", {self.n_samples} estimator samples each" if self.interference else " (exact values)"))

    # ------------------------------------------------------------------ fit
    def _moment_start(self, x: np.ndarray, g) -> np.ndarray:
        r"""The bit-flip model matching the training windows' pairwise correlations and firing probabilities, per
        parameter (see the module docstring).

        In the look-alike, with :math:`u_g = -\log\cos 2\theta_g`, a two-qubit generator ``(a, b)`` gives
        :math:`\log\frac{\langle Z_a Z_b\rangle}{\langle Z_a\rangle\langle Z_b\rangle} = 2 u_{ab}` and a qubit
        :math:`-\log\langle Z_a\rangle = u_a + \sum_k u_{ak}`: the couplings first (a negative correlation, which
        the look-alike cannot make, at 0; shrunk where together they would take more than 90 % of a qubit's
        rate), then each qubit's own angle takes up the rest of its rate (at least 0); generators that share
        a parameter average.
        """
        xf = x.astype(np.float64)
        rate, joint = xf.mean(0), xf.T @ xf / len(xf)
        z1 = np.clip(1.0 - 2.0 * rate, 1e-6, 1.0)
        a_, b_ = g.qubits[:, 0], g.qubits[:, 1]
        pair, single = b_ >= 0, b_ < 0
        z2 = 1.0 - 2.0 * rate[a_[pair]] - 2.0 * rate[b_[pair]] + 4.0 * joint[a_[pair], b_[pair]]
        u = np.zeros(g.n_generators)
        u[pair] = np.maximum(0.5 * np.log(np.clip(z2, 1e-6, None) / (z1[a_[pair]] * z1[b_[pair]])), 0.0)
        u = self._average_by_parameter(u, g)
        coupled = np.zeros(g.n_qubits)
        np.add.at(coupled, a_[pair], u[pair])
        np.add.at(coupled, b_[pair], u[pair])
        # every flip of a pair adds to both rates: couplings that would take more than 90 % of a qubit's rate
        # shrink to that share (many weak correlations of a sparse neuron exceed its rate otherwise)
        room = np.minimum(1.0, 0.9 * -np.log(z1) / np.maximum(coupled, 1e-300))
        u[pair] *= np.minimum(room[a_[pair]], room[b_[pair]])
        u = self._average_by_parameter(u, g)
        coupled[:] = 0.0
        np.add.at(coupled, a_[pair], u[pair])
        np.add.at(coupled, b_[pair], u[pair])
        u[single] = np.maximum(-np.log(z1[a_[single]]) - coupled[a_[single]], 0.0)
        u = self._average_by_parameter(u, g)
        theta = np.zeros(g.n_parameters)
        theta[g.parameter] = 0.5 * np.arccos(np.exp(-np.minimum(u, 30.0)))
        return theta

    @staticmethod
    def _average_by_parameter(values: np.ndarray, g) -> np.ndarray:
        """Each generator's value replaced by the mean over the generators of its parameter."""
        total = np.bincount(g.parameter, weights=values, minlength=g.n_parameters)
        return (total / np.maximum(np.bincount(g.parameter, minlength=g.n_parameters), 1))[g.parameter]

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        import torch

        from spiqgan.quantum.expval import (bitflip_expval, data_expval, iqp_terms, mmd2_terms, operator_set,
                                            random_signs, sample_operators)

        g = self.generators()
        m = g.n_qubits
        flat = x.reshape(len(x), m)
        sigmas = self.sigmas()
        state = self._take_resume()
        if state is None:
            theta = torch.tensor(self._moment_start(flat, g), dtype=torch.float64, requires_grad=True)
            rng = np.random.default_rng([int(p["seed"]), 1])
            first, self.start_ = 0, theta.detach().numpy().copy()
        else:
            theta = torch.as_tensor(np.asarray(state["tensors"]["theta"]), dtype=torch.float64).clone().requires_grad_()
            self.start_ = np.asarray(state["tensors"]["start"])
            rng = np.random.default_rng()
            rng.bit_generator.state = state["meta"]["rng"]
            first = int(state["meta"]["step"])
        opt = torch.optim.Adam([theta], lr=float(p["lr"]))
        if state is not None:
            opt.state[theta] = {"step": torch.tensor(float(first)), "exp_avg": torch.as_tensor(state["tensors"]["exp_avg"]),
                                "exp_avg_sq": torch.as_tensor(state["tensors"]["exp_avg_sq"])}
        half, total = int(p["n_samples"]) // 2, int(p["steps"])
        for step in range(first, total):
            for group in opt.param_groups:  # cosine decay to 0: a noisy gradient's jitter dies out at the end
                group["lr"] = float(p["lr"]) * 0.5 * (1.0 + math.cos(math.pi * step / total))
            ops, _ = sample_operators(m, sigmas, int(p["n_operators"]), rng)
            opset = operator_set(ops, g)
            rows = flat[rng.integers(0, len(flat), int(p["batch"]))] if len(flat) > int(p["batch"]) else flat
            mean, square = (torch.as_tensor(v) for v in data_expval(rows, ops))
            if self.interference:
                terms = iqp_terms(theta, g, opset, random_signs(2 * half, m, rng))
                a, b = terms[:, :half].mean(1), terms[:, half:].mean(1)
            else:
                a = b = bitflip_expval(theta, g, opset)
            loss = mmd2_terms(a, b, mean, square).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            self.history_.append({"step": step + 1, "mmd2": float(loss.detach())})
            if progress is not None:
                progress.update(step + 1, mmd2=float(loss.detach()))
            adam = opt.state[theta]
            self._checkpoint_progress("adam", {"theta": theta.detach().numpy(), "start": self.start_,
                                               "exp_avg": adam["exp_avg"].numpy(), "exp_avg_sq": adam["exp_avg_sq"].numpy()},
                                      {"step": step + 1, "rng": rng.bit_generator.state})
        self.theta_ = theta.detach().numpy().copy()

    def _state(self) -> dict[str, Any]:
        return {"theta_": self.theta_, "start_": self.start_}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore(arrays)
        self.start_ = arrays.get("start_", self.theta_)

    # ------------------------------------------------------------ evaluate
    def expval(self, operators, *, n_samples: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """:math:`\\langle Z_a\\rangle` of the fitted model for 0/1 operators ``(O, t n)`` (qubit ``s n + j``: neuron
        ``j`` at step ``s``) and their standard errors (0 for the exact bit-flip values)."""
        import torch

        from spiqgan.quantum.expval import bitflip_expval, iqp_expval, operator_set

        self._check_fitted()
        g = self.generators()
        th = torch.as_tensor(self.theta_, dtype=torch.float64)
        opset = operator_set(operators, g)
        if not self.interference:
            values = bitflip_expval(th, g, opset).numpy()
            return values, np.zeros_like(values)
        values, se = iqp_expval(th, g, opset, int(n_samples or self.eval_samples),
                                np.random.default_rng([int(self.seed), 2, int(seed)]))
        return values.numpy(), se.numpy()

    @property
    def samples_classically(self) -> bool:
        """Whether :meth:`sample` can draw windows (the look-alike always; IQP by enumeration up to
        :attr:`SAMPLE_MAX_QUBITS` qubits)."""
        return not self.interference or self.likelihood_method() is not None

    def _probabilities(self) -> np.ndarray:
        import torch

        from spiqgan.quantum.expval import bitflip_probabilities, iqp_probabilities

        g = self.generators()
        if self.likelihood_method() is None:
            raise ModelConfigError(
                f"the exact distribution of {g.n_qubits} qubits does not enumerate (at most {self.SAMPLE_MAX_QUBITS}); "
                "judge the model from its expectation values (spiqgan evaluate does so).")
        th = torch.as_tensor(self.theta_, dtype=torch.float64)
        return (iqp_probabilities if self.interference else bitflip_probabilities)(th, g).numpy()

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        from spiqgan.quantum.expval import sample_bitflip

        g = self.generators()
        if not self.interference:
            return sample_bitflip(self.theta_, g, n_windows, rng)
        if not self.samples_classically:
            raise ModelConfigError(
                f"an IQP circuit of {g.n_qubits} qubits cannot be sampled classically here (at most "
                f"{self.SAMPLE_MAX_QUBITS} qubits enumerate): judge it from its expectation values "
                "(spiqgan evaluate RUN does so), or sample its exported circuit on hardware.")
        p = self._probabilities()
        return pattern_windows(rng.choice(p.size, size=n_windows, p=p / p.sum()), self.params_["n_timesteps"],
                               self.params_["n_neurons"])

    def likelihood_method(self) -> str | None:
        return "exact" if self._n_qubits() <= self.SAMPLE_MAX_QUBITS else None

    def likelihood_unavailable(self, windows: np.ndarray) -> str | None:
        if self.likelihood_method() is None:
            return (f"{self.family} over {self._n_qubits()} qubits has no "
                    f"likelihood here (it enumerates at most {self.SAMPLE_MAX_QUBITS}); the held-out MMD decides")
        return None

    def log_likelihood(self, windows: np.ndarray) -> np.ndarray:
        """Exact natural-log probability of each window ``(B, t, n)`` (enumerating ``2^(t n)``, ``t n <= 20``)."""
        idx = pattern_indices(self._checked_windows(windows))  # fitted, and windows of its (t, n)
        with np.errstate(divide="ignore"):
            return np.log(self._probabilities()[idx])
