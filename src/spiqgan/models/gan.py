"""``SpiQGAN``: the estimator users train, sample from, save and load.

Scikit-learn style (as in nemos): ``__init__`` only stores hyperparameters;
:meth:`SpiQGAN.fit` creates the fitted attributes, whose names end in ``_``;
randomness comes from ``seed``. ``SpiQGAN.from_preset("paper", ...)`` gives the
SpiQGAN paper's settings exactly, ``"qce2023"`` those of the QCE 2023 paper.
It follows the estimator protocol of :mod:`spiqgan.models.base` and is registered
as ``spiqgan`` and ``qce2023`` (its ``model`` hyperparameter).

The defaults that differ from the paper (noise range 0.1 pi, near-identity
initialization, generator learning rate 0.01, K-loss target from the whole
training set, exact or straight-through gradients) are the ones the
measurements in the project's fit-quality issue point to: the paper's noise
encoding cannot express sparse spiking (see :mod:`spiqgan.quantum.generator`).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np
import torch

from spiqgan.training import estimators as est
from spiqgan.io.checkpoint import flatten_optimizer, unflatten_optimizer
from spiqgan.training.critic import Critic, Discriminator
from spiqgan.data.raster import check_windows
from spiqgan.exceptions import NotFittedError
from spiqgan.models.base import (EstimatesLikelihood, Estimator, HasCircuits, LikelihoodEstimate, Previewable,
                                  history_from_json, history_to_json, param_docs)
from spiqgan.quantum.circuit import Export
from spiqgan.quantum.generator import PRESETS as CIRCUIT_PRESETS
from spiqgan.quantum.generator import (BACKENDS, CIRCUIT_CHOICES, CircuitConfig, ConfigError, PatchGenerator,
                                       chain_export, resolve_backend)
from spiqgan.progress import as_progress
from spiqgan.training.loop import HISTORY_FIELDS, TrainingState, train_steps

__all__ = ["SpiQGAN", "TRAINING_PRESETS", "PARAM_CHOICES", "NotFittedError"]


#: training settings of each paper; circuit settings come from spiqgan.quantum.generator.PRESETS
TRAINING_PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(model="spiqgan", objective="adversarial", loss="k", k_weight=1.0, k_target="batch", lipschitz="gp",
                  critic_hidden=64, n_critic=2, batch_size=32, lr_generator=0.05, lr_critic=0.002,
                  lr_schedule="constant", steps=1000),
    "qce2023": dict(model="qce2023", objective="adversarial", lr_schedule="constant", loss="standard", k_weight=0.0, critic_hidden=16, n_critic=1, batch_size=8,
                    lr_generator=7e-4, lr_critic=4e-4, steps=1000, estimator="relaxation"),
}

_CIRCUIT_FIELDS = ("n_ancillas", "n_layers", "noise_scale", "noise_layers", "noise_sharing", "trainable_encoding",
                   "noise_mixing", "readout", "init", "init_scale", "qce_offset")
_CHOICES = {
    "model": CIRCUIT_CHOICES["architecture"],
    "objective": ("adversarial", "likelihood", "hybrid"),
    "loss": ("k", "standard"),
    "k_target": ("batch", "dataset"),
    "estimator": ("auto",) + est.ESTIMATORS,
    "lipschitz": ("gp", "clip"),
    "lr_schedule": ("constant", "cosine"),
    "dtype": ("complex64", "complex128"),
    "backend": BACKENDS,
}
#: the allowed values of every string hyperparameter of SpiQGAN (training and circuit)
PARAM_CHOICES: dict[str, tuple[str, ...]] = {
    **_CHOICES, **{k: v for k, v in CIRCUIT_CHOICES.items() if k in _CIRCUIT_FIELDS},
}


#: values of the hyperparameters added since spiqgan 0.1 (the likelihood objective, the MPS backend)
#: that reproduce earlier runs
_BEFORE_LIKELIHOOD = dict(objective="adversarial", pretrain_steps=500, noise_samples=128, noise_mixing=False,
                          lr_schedule="constant", likelihood_block=0, backend="statevector")


class SpiQGAN(Estimator, HasCircuits, Previewable, EstimatesLikelihood):
    """A patch quantum GAN for binary spike windows ``(n_windows, t, n)``.

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows.
    model
        ``"spiqgan"`` (Wasserstein critic, K-loss) or ``"qce2023"`` (the QCE 2023
        circuit, discriminator and cross-entropy losses).
    n_ancillas, n_layers, noise_scale, noise_layers, noise_sharing, trainable_encoding, noise_mixing, readout, init, init_scale, qce_offset
        The circuit: see :class:`spiqgan.quantum.generator.CircuitConfig`.
    objective
        ``"adversarial"`` (the papers: critic and generator in turn),
        ``"likelihood"`` (maximum likelihood of the real windows, no critic: see
        :mod:`spiqgan.training.likelihood`) or ``"hybrid"`` (likelihood for the first
        ``pretrain_steps`` steps, adversarial after). Likelihood needs the
        ``"spiqgan"`` model with the ``"sample"`` readout.
    pretrain_steps
        Likelihood steps before the adversarial ones, for ``"hybrid"``.
    noise_samples
        ``K``, noise draws per step of the Monte Carlo likelihood.
    likelihood_block
        ``L``: fit the block composite likelihood of every ``L`` consecutive
        time steps (default 3), a less biased Monte Carlo estimate on long
        windows than the whole window's likelihood (see
        :mod:`spiqgan.training.likelihood`); ``0`` (or ``L >= t``): the whole window.
        The history's ``nll`` is the fitted objective, composite when ``L < t``.
    loss
        ``"k"`` (the K-loss, weight ``k_weight``) or ``"standard"`` (no K-term).
    k_weight
        ``K``.
    k_target
        Mean spikes per real window that the K-term pulls towards: of the real
        ``"batch"`` (paper) or of the whole training set (``"dataset"``).
    estimator
        Gradient through measurement: see :mod:`spiqgan.training.estimators`; ``"auto"``
        is ``"exact"`` where ``n t <= 14`` and ``"straight-through"`` beyond.
    lipschitz
        ``"gp"`` (gradient penalty, weight ``gp_weight``) or ``"clip"`` (weights
        clipped to ``[-clip_value, clip_value]``).
    gp_weight
        Weight of the gradient penalty.
    clip_value
        Bound of the critic's weights when clipping.
    critic_hidden
        Hidden units of the critic (64) or discriminator (16).
    n_critic
        Critic updates per generator update.
    batch_size
        Windows per step (real windows per critic update).
    lr_generator, lr_critic
        Adam learning rates of the generator and the critic.
    beta1, beta2
        Adam's moment decay rates.
    lr_schedule
        ``"constant"`` learning rates, or ``"cosine"`` decay to 0 over ``steps``.
    steps
        Generator updates.
    eval_every
        Steps between evaluations (JS divergence to the training windows) and checkpoints.
    js_windows
        Generated windows of each JS evaluation.
    seed
        Seeds every random draw of the fit.
    dtype
        ``"complex64"`` or ``"complex128"`` for the simulator.
    device
        ``"cpu"`` or a torch device such as ``"cuda"``: where the generator and
        critic run. Results on different devices agree to rounding, not bit for bit.
    backend
        The simulator: ``"statevector"`` (at most 20 qubits), ``"mps"`` (exact
        matrix-product states, any number of qubits; the likelihood objective) or
        ``"auto"``: the MPS above ``2 l + 2`` qubits (:func:`spiqgan.quantum.generator.auto_mps_qubits`).

    Attributes
    ----------
    generator_ : PatchGenerator
        The generator after the last step.
    critic_ : torch.nn.Module
    history_ : list of dict
        Per-step metrics (see :data:`spiqgan.training.loop.HISTORY_FIELDS`).
    best_step_, best_js_ : int or None, float or None
        The step with the lowest JS divergence (``None`` where JS is not computed).
    n_steps_ : int
        Steps trained.
    """

    registered_name = "spiqgan"
    variant = "model"
    PRESETS = tuple(TRAINING_PRESETS)
    CHOICES = PARAM_CHOICES
    KEEPS = ("last", "best", "start")

    def __init__(
        self,
        n_neurons: int,
        n_timesteps: int = 1,
        *,
        model: str = "spiqgan",
        n_ancillas: int = 1,
        n_layers: int = 5,
        noise_scale: float = 0.1,
        noise_layers: str = "all",
        noise_sharing: str = "shared",
        trainable_encoding: bool = True,
        noise_mixing: bool = True,
        readout: str = "sample",
        init: str = "identity",
        init_scale: float = 0.01,
        qce_offset: float | None = None,
        objective: str = "likelihood",
        pretrain_steps: int = 500,
        noise_samples: int = 128,
        likelihood_block: int = 3,
        loss: str = "k",
        k_weight: float = 1.0,
        k_target: str = "dataset",
        estimator: str = "auto",
        lipschitz: str = "gp",
        gp_weight: float = 10.0,
        clip_value: float = 0.01,
        critic_hidden: int = 64,
        n_critic: int = 2,
        batch_size: int = 1024,
        lr_generator: float = 0.02,
        lr_critic: float = 0.002,
        beta1: float = 0.9,
        beta2: float = 0.999,
        lr_schedule: str = "cosine",
        steps: int = 3000,
        eval_every: int = 50,
        js_windows: int = 2000,
        seed: int = 0,
        dtype: str = "complex64",
        device: str = "cpu",
        backend: str = "auto",
    ) -> None:
        for name, value in list(locals().items()):
            if name != "self":
                setattr(self, name, value)

    # --------------------------------------------------------------- params
    @classmethod
    def _accepts(cls, name: str) -> bool:
        return name in CIRCUIT_CHOICES["architecture"]

    @classmethod
    def param_docs(cls) -> dict[str, str]:
        """The docstrings' descriptions, the circuit's from :class:`~spiqgan.quantum.generator.CircuitConfig`."""
        circuit = param_docs(CircuitConfig)
        return {**super().param_docs(), **{k: circuit[k] for k in _CIRCUIT_FIELDS if k in circuit}}

    @classmethod
    def from_preset(cls, preset: str, n_neurons: int, n_timesteps: int = 1, **overrides: Any) -> "SpiQGAN":
        """The settings of a paper (``"paper"``: SpiQGAN; ``"qce2023"``), with any overrides."""
        if preset not in TRAINING_PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; expected one of {', '.join(TRAINING_PRESETS)}.")
        circuit = {k: v for k, v in CIRCUIT_PRESETS[preset].items() if k in _CIRCUIT_FIELDS}
        return cls(n_neurons, n_timesteps, **{**circuit, **TRAINING_PRESETS[preset], **overrides})

    def circuit_config(self) -> CircuitConfig:
        """The :class:`CircuitConfig` these hyperparameters describe."""
        return CircuitConfig(
            n_neurons=self.n_neurons, architecture=self.model, **{k: getattr(self, k) for k in _CIRCUIT_FIELDS}
        )

    def resolved_params(self) -> dict[str, Any]:
        """Hyperparameters checked, with ``estimator="auto"`` resolved. Raises ConfigError on bad values."""
        p = self.get_params()
        for name, allowed in _CHOICES.items():
            if p[name] not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(map(str, allowed))}; got {p[name]!r}.")
        for name in ("n_timesteps", "critic_hidden", "n_critic", "batch_size", "steps", "eval_every", "js_windows",
                     "noise_samples"):
            if isinstance(p[name], bool) or not isinstance(p[name], int) or p[name] < 1:
                raise ConfigError(f"{name} must be a positive integer, got {p[name]!r}.")
        for name in ("lr_generator", "lr_critic", "gp_weight", "clip_value"):
            if not (isinstance(p[name], (int, float)) and p[name] > 0 and math.isfinite(p[name])):
                raise ConfigError(f"{name} must be a positive number, got {p[name]!r}.")
        if isinstance(p["likelihood_block"], bool) or not isinstance(p["likelihood_block"], int) \
                or p["likelihood_block"] < 0:
            raise ConfigError(f"likelihood_block must be an integer >= 0 (0: the whole window), got "
                              f"{p['likelihood_block']!r}.")
        if isinstance(p["pretrain_steps"], bool) or not isinstance(p["pretrain_steps"], int) or p["pretrain_steps"] < 0:
            raise ConfigError(f"pretrain_steps must be an integer >= 0, got {p['pretrain_steps']!r}.")
        if p["objective"] != "adversarial" and (p["model"] != "spiqgan" or p["readout"] != "sample"):
            raise ConfigError(
                f"objective {p['objective']!r} needs the generator's outcome probabilities: use model 'spiqgan' with "
                f"readout 'sample' (got model {p['model']!r}, readout {p['readout']!r}), or objective 'adversarial'."
            )
        if not (isinstance(p["k_weight"], (int, float)) and p["k_weight"] >= 0):
            raise ConfigError(f"k_weight must be >= 0, got {p['k_weight']!r}.")
        for name in ("beta1", "beta2"):
            if not (0 <= p[name] < 1):
                raise ConfigError(f"{name} must lie in [0, 1), got {p[name]!r}.")
        if resolve_backend(self.circuit_config(), p["backend"]) == "mps" and p["objective"] != "likelihood":
            raise ConfigError(
                f"objective {p['objective']!r} draws windows through the whole outcome distribution, which the mps "
                f"backend does not form ({self.circuit_config().n_qubits} qubits): use objective 'likelihood' (the "
                "default), or --backend statevector with at most 20 qubits."
            )
        try:
            device = torch.device(p["device"])
        except (RuntimeError, TypeError) as exc:
            raise ConfigError(f"device {p['device']!r} is not a torch device; use 'cpu' or 'cuda'.") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for, but torch sees no CUDA GPU here; use --device cpu.")
        if p["estimator"] == "auto":
            if p["model"] == "qce2023" or p["readout"] != "sample":
                p["estimator"] = "relaxation"
            else:
                bits = p["n_neurons"] * p["n_timesteps"]
                p["estimator"] = "exact" if bits <= est.EXACT_MAX_BITS else "straight-through"
        return p

    def count_parameters(self) -> int:
        """Trainable parameters of the generator these hyperparameters give (angles, and encoding weights when
        trainable); the critic is training scaffolding and does not count. Needs no fit (unlike
        :attr:`n_parameters`, which counts the fitted model's)."""
        gen = self._state.generator if hasattr(self, "_state") else PatchGenerator(
            self.circuit_config(), self.n_timesteps, backend=self.backend)
        return int(sum(q.numel() for q in gen.parameters() if q.requires_grad))

    def _n_parameters(self) -> int:
        return self.count_parameters()

    def _is_fitted(self) -> bool:
        return hasattr(self, "_state")

    def describe(self, preset: str | None = None) -> str:
        p = self.resolved_params()
        t = p["n_timesteps"]
        block = p["likelihood_block"]
        composite = f", composite over blocks of {block} steps" if 0 < block < t else ""
        objective = {"likelihood": f"maximum likelihood ({p['noise_samples']} noise draws a step{composite})",
                     "hybrid": f"likelihood for {p['pretrain_steps']} steps, then adversarial "
                               f"(estimator {p['estimator']})",
                     "adversarial": f"adversarial, estimator {p['estimator']}"}[p["objective"]]
        return (f"{p['model']}, preset {preset or 'none (defaults)'}, {objective}, "
                f"{self.circuit_config().n_qubits} qubits x {t} sub-generators, {self.count_parameters()} trainable "
                f"parameters, {p['steps']} steps")

    def problem_size(self) -> int:
        """Amplitudes per noise draw and window, ``2^q t``."""
        return 2 ** self.circuit_config().n_qubits * self.n_timesteps

    def cost_summary(self, preview: dict[str, Any] | None = None) -> str:
        from spiqgan.progress import format_bytes
        from spiqgan.quantum import mps

        p = self.resolved_params()
        config = self.circuit_config()
        q, t, l = config.n_qubits, p["n_timesteps"], config.n_layers
        batch = p["noise_samples"] if p["objective"] == "likelihood" else p["batch_size"]
        itemsize = 16 if p["dtype"] == "complex128" else 8
        if resolve_backend(config, p["backend"]) == "mps":
            d = mps.bond_dimension(l)
            size = mps.mps_bytes(q, l, batch * t, itemsize)
            sim = (f"the mps backend, bond dimension {d} (exact); one MPS of {batch} x {t} x {q} sites of {d} x 2 x "
                   f"{d} amplitudes is {format_bytes(size)}")
        else:
            sim = (f"the statevector backend; one state of {batch} x {t} x 2^{q} amplitudes is "
                   f"{format_bytes(batch * t * 2 ** q * itemsize)}")
        return (f"{q} qubits x {t} sub-generators, {self.count_parameters()} trainable parameters, on {sim} (autograd "
                f"keeps several per layer)")

    #: peak memory of a training step / one simulated state: autograd keeps about this many per layer (measured:
    #: 29-30x the state at 5 layers, 15 and 17 qubits, likelihood steps of 128 noise draws)
    MEMORY_PER_LAYER = 6

    def peak_memory_bytes(self) -> int:
        """Estimated peak memory of a training step: the states of one batch (``noise_samples`` or ``batch_size``
        draws x t windows), about :attr:`MEMORY_PER_LAYER` copies per layer, plus the MPS's own."""
        from spiqgan.quantum import mps

        p = self.resolved_params()
        config = self.circuit_config()
        q, t, layers = config.n_qubits, p["n_timesteps"], config.n_layers
        batch = p["noise_samples"] if p["objective"] != "adversarial" else p["batch_size"]
        itemsize = 16 if p["dtype"] == "complex128" else 8
        if resolve_backend(config, p["backend"]) == "mps":
            state = mps.mps_bytes(q, layers, batch * t, itemsize)
        else:
            state = batch * t * 2 ** q * itemsize
        return int(state * (self.MEMORY_PER_LAYER * layers + 2))

    def memory_options(self) -> str:
        return ("lower --noise-samples (likelihood) or --batch-size (adversarial), use fewer neurons or time steps, "
                "or --backend mps")

    def progress_steps(self) -> int:
        """The steps :meth:`fit` reports to its progress object."""
        return int(self.steps)

    def preview(self, windows: np.ndarray) -> dict[str, Any]:
        """Before a fit: trainable parameters and the seconds of one training step, timed on a throw-away
        generator (the same hyperparameters and seed) on ``windows`` (the training windows)."""
        from spiqgan.progress import warm_optimizers
        from spiqgan.training.loop import train_step

        p = self.resolved_params()
        state = self._build(p)
        real = torch.as_tensor(np.asarray(windows), dtype=torch.float32, device=state.generator.rotations.device)
        warm_optimizers()
        start = time.perf_counter()
        train_step(state, p, real, float(real.sum(dim=(1, 2)).mean()))
        return {"parameters": self.count_parameters(), "seconds_per_step": time.perf_counter() - start, "steps": int(p["steps"])}

    # ----------------------------------------------------------------- build
    def _build(self, p: dict[str, Any]) -> TrainingState:
        torch_dtype = torch.complex128 if p["dtype"] == "complex128" else torch.complex64
        device = torch.device(p["device"])
        gen = PatchGenerator(self.circuit_config(), p["n_timesteps"], dtype=torch_dtype, seed=p["seed"],
                             backend=p["backend"]).to(device)
        est.check_estimator(p["estimator"], gen)
        n_inputs = p["n_neurons"] * p["n_timesteps"]
        critic_cls = Discriminator if p["model"] == "qce2023" else Critic
        critic = critic_cls(n_inputs, hidden=p["critic_hidden"], seed=p["seed"] + 1).to(device)
        betas = (p["beta1"], p["beta2"])
        return TrainingState(
            generator=gen,
            critic=critic,
            opt_generator=torch.optim.Adam(gen.parameters(), lr=p["lr_generator"], betas=betas),
            opt_critic=torch.optim.Adam(critic.parameters(), lr=p["lr_critic"], betas=betas),
            rng=torch.Generator(device=device).manual_seed(p["seed"] + 2),
            data_rng=torch.Generator().manual_seed(p["seed"] + 3),
        )

    # ------------------------------------------------------------------- fit
    def fit(
        self,
        windows: np.ndarray,
        *,
        starts: np.ndarray | None = None,
        progress: Any | None = None,
        on_eval: Callable[["SpiQGAN"], None] | None = None,
        resume: bool = False,
    ) -> "SpiQGAN":
        """Train on ``windows: (n_windows, t, n)`` 0/1.

        Parameters
        ----------
        starts
            Each window's start bin; accepted and not used (the GAN does not follow the stimulus).
        progress
            ``True`` for a progress line on standard error, or an object with
            ``update(step, **fields)`` (e.g. :class:`spiqgan.progress.Progress`).
        on_eval
            Called with the model after every JS evaluation (for checkpoints).
        resume
            Continue a fitted (or loaded) model up to ``steps`` instead of starting anew.
        """
        p = self.resolved_params()
        # likelihood batches are drawn with replacement from however many windows there are
        x = check_windows(windows, min_windows=1 if p["objective"] == "likelihood" else p["batch_size"],
                          what="training windows")
        self._check_shape(x, p)
        self._check_starts(starts, x.shape[0])
        if resume and hasattr(self, "_state"):
            state = self._state
        else:
            state = self._build(p)
        self._state = state
        self.params_ = p
        hook = None if on_eval is None else (lambda _state: on_eval(self))
        with as_progress(progress, self.progress_steps()) as bar:
            train_steps(state, p, x, max(0, p["steps"] - state.step), on_eval=hook, progress=bar)
        return self

    # fitted attributes, read from the training state
    def _fitted(self) -> TrainingState:
        if not hasattr(self, "_state"):
            raise NotFittedError("this SpiQGAN model is not trained yet; call fit(windows) or SpiQGAN.load(path).")
        return self._state

    @property
    def generator_(self) -> PatchGenerator:
        return self._fitted().generator

    @property
    def critic_(self) -> torch.nn.Module:
        return self._fitted().critic

    @property
    def history_(self) -> list[dict[str, float]]:
        return self._fitted().history

    @property
    def best_step_(self) -> int | None:
        return self._fitted().best_step

    @property
    def best_js_(self) -> float | None:
        return self._fitted().best_js

    @property
    def n_steps_(self) -> int:
        return self._fitted().step

    def generator_at(self, which: str = "last") -> PatchGenerator:
        """The generator after the ``"last"`` step, at the ``"best"`` step (lowest JS; the last one
        if JS was never computed) or at the ``"start"`` (before training)."""
        if which not in ("last", "best", "start"):
            raise ConfigError(f"which must be 'last', 'best' or 'start', got {which!r}.")
        state = self._fitted()
        weights = {"last": None, "best": state.best_generator, "start": state.initial_generator}[which]
        if weights is None:
            return state.generator
        gen = PatchGenerator(state.generator.config, state.generator.n_timesteps, dtype=state.generator.dtype,
                             backend=state.generator.backend)
        gen.load_state_dict(weights)
        return gen.to(state.generator.rotations.device)

    def sample(self, n_windows: int, seed: int = 0, *, which: str = "last") -> np.ndarray:
        """``n_windows`` binary windows ``(n_windows, t, n)`` uint8 from the ``"last"``, ``"best"`` or ``"start"`` generator."""
        n_windows = self._check_n_windows(n_windows)
        gen = self.generator_at(which)
        rng = torch.Generator(device=gen.rotations.device).manual_seed(int(seed))
        return gen.sample(n_windows, rng).cpu().numpy()

    #: noise draws of :meth:`estimate_log_likelihood` (fewer where the draws' log-probabilities of all windows
    #: would pass LIKELIHOOD_MEMORY values)
    LIKELIHOOD_DRAWS = 2048
    LIKELIHOOD_MEMORY = 2 ** 26

    def estimate_log_likelihood(self, windows: np.ndarray, *, noise_draws: int | None = None, seed: int = 0,
                                which: str = "last") -> LikelihoodEstimate | None:
        r"""Monte Carlo log-likelihood of each window over ``noise_draws`` noise draws (common to all windows).

        :math:`\log \frac1K \sum_k p(x \mid z_k)`, each term exact (:mod:`spiqgan.training.likelihood`):
        in expectation a lower bound on :math:`\log p(x)`, so the NLL is biased high; the estimate states
        that bias (delta method, not subtracted) and its standard error over the draws (shared by every
        window). By default :attr:`LIKELIHOOD_DRAWS` draws, fewer where windows x draws x mixtures (1, or
        ``t`` with noise per step) would pass :attr:`LIKELIHOOD_MEMORY` (at least 64): the stated error and
        bias are calibrated from a few tens of draws on (``tests/models/test_gan_likelihood.py``; with under
        ten, the error estimated from so few draws is itself unreliable). ``None`` for the
        deterministic readouts (``"threshold"``, the QCE 2023 basis readout), which put all probability on a
        few windows.
        """
        from spiqgan.training.likelihood import mixture_terms
        from spiqgan.quantum.statevector import window_log_probs

        gen = self.generator_at(which)
        cfg = gen.config
        if cfg.architecture == "qce2023" or cfg.readout != "sample":
            return None
        x = check_windows(windows)
        if x.shape[1:] != (gen.n_timesteps, cfg.n_neurons):
            raise ConfigError(f"windows have (t, n) = {x.shape[1:]}; this model generates "
                              f"({gen.n_timesteps}, {cfg.n_neurons}).")
        units = 1 if cfg.noise_sharing == "shared" else gen.n_timesteps  # mixtures per window
        k = (max(64, min(self.LIKELIHOOD_DRAWS, self.LIKELIHOOD_MEMORY // (len(x) * units)))
             if noise_draws is None else int(noise_draws))
        if k < 2:
            raise ConfigError(f"noise_draws must be at least 2, got {noise_draws!r}.")
        device = gen.rotations.device
        noise = gen.draw_noise(k, torch.Generator(device=device).manual_seed(int(seed)))
        terms = torch.empty((k, len(x), units), dtype=torch.float64)  # log p(window or step | draw)
        step = max(1, 2 ** 22 // (gen.n_timesteps * 2 ** cfg.n_qubits))  # draws at a time: bounded statevectors
        with torch.no_grad():
            for d in range(0, k, step):
                dist = None if gen.backend == "mps" else gen(noise[d:d + step]).probabilities
                for w in range(0, len(x), 4096):
                    part = torch.as_tensor(x[w:w + 4096], device=device)
                    logs = (gen(noise[d:d + step], windows=part).window_log_probs if dist is None
                            else window_log_probs(dist, part)).double().cpu()  # (draws, B, t)
                    terms[d:d + step, w:w + 4096] = logs.sum(-1, keepdim=True) if units == 1 else logs
        log_probs = torch.zeros(len(x), dtype=torch.float64)
        weight_sums = torch.zeros(k, dtype=torch.float64)
        bias = 0.0
        for u in range(units):  # the whole window, or each step where the noise is drawn per step
            log_mean, sums, b = mixture_terms(terms[:, :, u])
            log_probs += log_mean
            weight_sums += sums
            bias += float(b.sum())
        shared_se = float((weight_sums / len(x)).std(correction=1) / math.sqrt(k))
        return LikelihoodEstimate(log_probs.numpy(), f"monte carlo, {k} noise draws", shared_se, bias / len(x))

    def likelihood_unavailable(self, windows: np.ndarray) -> str | None:
        cfg = self.generator_at("last").config
        if cfg.architecture == "qce2023" or cfg.readout != "sample":
            return ("a deterministic readout (the QCE 2023 basis readout, or readout = threshold) puts all probability "
                    "on a few windows")
        return None

    def circuits(self, which: str = "last") -> Export:
        """The ``which`` generator as circuits, one per sub-generator (:func:`spiqgan.quantum.generator.chain_circuits`)."""
        return chain_export(self.generator_at(which), self.resolved_params())

    # ------------------------------------------------------------ save/load
    def _checkpoint(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The hyperparameters, the whole training state and the best generator.

        :meth:`save` writes them to one safetensors file (tensors) whose header holds the JSON rest,
        atomically; :meth:`load` restores it exactly, ready to sample or to continue training
        (``fit(..., resume=True)``).
        """
        state = self._fitted()
        tensors: dict[str, torch.Tensor] = {}
        for k, v in state.generator.state_dict().items():
            tensors[f"generator.{k}"] = v
        for k, v in state.critic.state_dict().items():
            tensors[f"critic.{k}"] = v
        for name in ("best_generator", "initial_generator"):
            for k, v in (getattr(state, name) or {}).items():
                tensors[f"{name}.{k}"] = v
        opt_g, meta_g = flatten_optimizer("opt_generator", state.opt_generator)
        opt_c, meta_c = flatten_optimizer("opt_critic", state.opt_critic)
        tensors.update(opt_g)
        tensors.update(opt_c)
        tensors["rng"] = state.rng.get_state()
        tensors["data_rng"] = state.data_rng.get_state()
        meta = {
            "params": self.get_params(),
            "step": state.step,
            "best_js": state.best_js,
            "best_step": state.best_step,
            "seconds": state.seconds,
            "opt_generator": meta_g,
            "opt_critic": meta_c,
            "history": history_to_json(state.history),
        }
        return tensors, meta

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> "SpiQGAN":
        """The model of a checkpoint already read (see :func:`spiqgan.io.checkpoint.load_checkpoint`)."""
        # hyperparameters that checkpoints of spiqgan 0.1 lack, with the behaviour those runs had
        model = cls(**{**_BEFORE_LIKELIHOOD, **meta["params"]})
        p = model.resolved_params()
        state = model._build(p)

        def part(prefix: str) -> dict[str, torch.Tensor]:
            return {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}

        state.generator.load_state_dict(part("generator"))
        state.critic.load_state_dict(part("critic"))
        state.best_generator = part("best_generator") or None
        state.initial_generator = part("initial_generator") or None
        state.opt_generator.load_state_dict(unflatten_optimizer("opt_generator", tensors, meta["opt_generator"]))
        state.opt_critic.load_state_dict(unflatten_optimizer("opt_critic", tensors, meta["opt_critic"]))
        state.rng.set_state(tensors["rng"])
        state.data_rng.set_state(tensors["data_rng"])
        state.step = int(meta["step"])
        state.best_js, state.best_step = meta["best_js"], meta["best_step"]
        state.seconds = float(meta["seconds"])
        state.history = history_from_json(meta["history"], HISTORY_FIELDS)
        model._state = state
        model.params_ = p
        return model
