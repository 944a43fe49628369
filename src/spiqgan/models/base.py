r"""The estimator protocol every model follows, and the small mixins of optional abilities.

Scikit-learn style, as in nemos's ``BaseRegressor``:

* ``Model(n_neurons, n_timesteps, **hyperparameters)`` only stores its hyperparameters
  (:meth:`Estimator.get_params`, :meth:`Estimator.set_params`);
* :meth:`Estimator.fit` ``(windows) -> self`` sets the fitted attributes, whose names end in ``_``;
* :meth:`Estimator.sample` ``(n_windows, seed)`` draws ``(n_windows, t, n)`` uint8 windows, the same
  seed giving the same windows;
* :attr:`Estimator.n_parameters` counts the fitted model's free numbers (every model raises
  :class:`~spiqgan.exceptions.NotFittedError` before it is fitted);
* :meth:`Estimator.save` writes one checkpoint (tensors plus a JSON header, atomically, with the
  registered name of the model) and :meth:`Estimator.load` / :func:`spiqgan.models.load_model`
  read it back.

Optional abilities are mixins, so that callers ask ``isinstance(model, HasLikelihood)``:

* :class:`HasLikelihood`: the log-likelihood of windows (exact, or by an estimator with a standard
  error, :meth:`HasLikelihood.likelihood_method`), and :meth:`HasLikelihood.score`, the mean
  log-likelihood per window (nats; held-out windows for a held-out score);
* :class:`EstimatesLikelihood`: a Monte Carlo estimate of the log-likelihood with its standard error
  and bias (:class:`LikelihoodEstimate`); every :class:`HasLikelihood` model is one;
* :class:`HasCircuits`: gate-level circuits of the fitted generator (:mod:`spiqgan.hardware`);
* :class:`Previewable`: a timed first step before the fit (the command line's cost line).

:class:`ArrayModel` is the base of the models whose fitted state is a few named arrays, fitted in
one call (the classical models and the Born machines).
"""

from __future__ import annotations

import abc
import inspect
from dataclasses import dataclass
import math
import re
import time
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from spiqgan.data.raster import check_windows
from spiqgan.evaluation.statistics import pattern_windows
from spiqgan.exceptions import ConfigError, NotFittedError
from spiqgan.progress import as_progress

__all__ = ["Estimator", "ArrayModel", "HasLikelihood", "EstimatesLikelihood", "LikelihoodEstimate", "HasCircuits", "Previewable", "ModelConfigError",
           "NotFittedError", "param_docs", "history_to_json", "history_from_json", "checkpoint_name"]

#: a hyperparameter out of range (:class:`spiqgan.exceptions.ConfigError`)
ModelConfigError = ConfigError


def history_to_json(history: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Per-step metrics as JSON can hold them: NaN (not computed at that step) as ``None``."""
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in history]


def history_from_json(rows: list[dict[str, Any]], fields: tuple[str, ...] | None = None) -> list[dict[str, float]]:
    """The inverse of :func:`history_to_json`; with ``fields``, every row gets exactly those keys (NaN where absent)."""
    if fields is None:
        return [{k: (math.nan if v is None else v) for k, v in row.items()} for row in rows]
    return [{k: (math.nan if row.get(k) is None else row[k]) for k in fields} for row in rows]


def param_docs(cls: type) -> dict[str, str]:
    """``hyperparameter -> description`` from the numpydoc ``Parameters`` sections of ``cls``'s docstrings.

    A line ``a, b, c`` documents each of the names; the description is the indented text below it,
    joined into one line. A class's own docstring comes first, then those of the classes it inherits from.
    """
    out: dict[str, str] = {}
    for klass in cls.__mro__:  # a subclass's own docstring first, then those it inherits from
        doc = inspect.cleandoc(klass.__dict__.get("__doc__") or "")
        match = re.search(r"^Parameters\n-+\n(.*?)(?:^\S[^\n]*\n-+\n|\Z)", doc, flags=re.S | re.M)
        if not match:
            continue
        names: list[str] = []
        text: list[str] = []
        for line in match.group(1).splitlines() + ["end"]:
            if line and not line[0].isspace():
                for name in names:
                    out.setdefault(name, " ".join(text).strip())
                names, text = [n.strip() for n in line.split(":")[0].split(",") if n.strip()], []
            elif line.strip():
                text.append(line.strip())
    return out


def checkpoint_name(meta: dict[str, Any]) -> str:
    """The registered name of the model a checkpoint holds: ``"model"`` in its header since spiqgan 0.2;
    before, ``"classical_model"`` (classical models and Born machines) or SpiQGAN's ``model`` hyperparameter."""
    return meta.get("model") or meta.get("classical_model") or meta["params"].get("model", "spiqgan")


class Estimator(abc.ABC):
    """A generative model of binary spike windows ``(n_windows, t, n)``: the protocol of every model.

    Subclasses implement :meth:`fit`, :meth:`sample`, :meth:`_n_parameters`, :meth:`resolved_params`,
    :meth:`_checkpoint` and :meth:`_from_checkpoint`, and document every hyperparameter in a numpydoc
    ``Parameters`` section (the command line's option help is read from it).
    """

    #: the name in ``--model`` and in the registry (:mod:`spiqgan.models.registry`)
    registered_name: ClassVar[str] = ""
    #: for a class registered under several names: the hyperparameter the name sets (``None``: one name)
    variant: ClassVar[str | None] = None
    #: named settings (a paper's) that :meth:`from_preset` applies; none by default
    PRESETS: ClassVar[tuple[str, ...]] = ()
    #: the fitted states :meth:`sample` can draw from (``which``)
    KEEPS: ClassVar[tuple[str, ...]] = ("last",)
    #: the allowed values of the string hyperparameters
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}

    # ------------------------------------------------------------------ hyperparameters
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to ``__init__``."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> "Estimator":
        """Change hyperparameters; an unknown name is a :class:`ModelConfigError`."""
        unknown = set(params) - set(self._param_names())
        if unknown:
            raise ModelConfigError(f"unknown hyperparameters {sorted(unknown)} of {type(self).__name__}; it takes "
                                   f"{', '.join(self._param_names())}.")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    @classmethod
    def param_docs(cls) -> dict[str, str]:
        """``hyperparameter -> description`` from the class's numpydoc docstrings (see :func:`param_docs`)."""
        return param_docs(cls)

    @property
    def name(self) -> str:
        """The registered name of this model (its ``variant`` hyperparameter where it has one)."""
        return str(getattr(self, self.variant)) if self.variant else self.registered_name

    @abc.abstractmethod
    def resolved_params(self) -> dict[str, Any]:
        """The hyperparameters checked (``ModelConfigError`` on a bad value), defaults that depend on others resolved."""

    @classmethod
    def from_preset(cls, preset: str, n_neurons: int, n_timesteps: int = 1, **overrides: Any) -> "Estimator":
        """The named settings ``preset`` (see :attr:`PRESETS`), with any overrides."""
        raise ModelConfigError(f"--preset is a paper's SpiQGAN settings; model {cls.registered_name or cls.__name__!r} "
                               "takes none.")

    def _check_shape(self, x: np.ndarray, p: dict[str, Any], what: str = "training windows") -> None:
        """Windows ``x`` must have the ``(t, n)`` the model was made for."""
        if x.shape[1:] != (p["n_timesteps"], p["n_neurons"]):
            raise ModelConfigError(
                f"{what} have (t, n) = {x.shape[1:]}, but the model was made for "
                f"({p['n_timesteps']}, {p['n_neurons']}); select {p['n_neurons']} neurons and windows of "
                f"{p['n_timesteps']} bins.")

    #: whether :meth:`fit` needs each window's start bin (``starts``): the model follows the stimulus
    uses_stimulus_time: ClassVar[bool] = False

    @staticmethod
    def _check_starts(starts: Any, n_windows: int) -> np.ndarray | None:
        """``starts`` as ``(n_windows,)`` int64 start bins (``None`` stays ``None``)."""
        if starts is None:
            return None
        arr = np.asarray(starts)
        if arr.shape != (n_windows,) or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
            raise ModelConfigError(
                f"starts must hold one non-negative integer start bin per training window ({n_windows}), got "
                f"shape {arr.shape} of {arr.dtype}; take them from SpikeRaster.windows(t, return_starts=True).")
        return arr.astype(np.int64)

    @staticmethod
    def _check_n_windows(n_windows: Any) -> int:
        if isinstance(n_windows, bool) or not isinstance(n_windows, (int, np.integer)) or n_windows < 1:
            raise ModelConfigError(f"n_windows must be a positive integer, got {n_windows!r}.")
        return int(n_windows)

    # ------------------------------------------------------------------ fit and sample
    @abc.abstractmethod
    def fit(self, windows: np.ndarray, *, starts: np.ndarray | None = None, progress: Any | None = None,
            on_eval: Callable[["Estimator"], None] | None = None, resume: bool = False) -> "Estimator":
        """Fit to training windows ``(n_windows, t, n)``; returns ``self``.

        ``starts``: ``(n_windows,)`` the bin of its repeat at which each window starts
        (``SpikeRaster.windows(t, return_starts=True)``); only a model that follows the stimulus
        (``uses_stimulus_time``) reads it, the others accept and ignore it.
        ``progress``: ``True`` for a progress line on standard error, or an object with
        ``update(step, **fields)``; ``on_eval(model)`` is called whenever the model is worth
        checkpointing; ``resume``: continue a fitted (or loaded) model instead of starting anew.
        """

    @abc.abstractmethod
    def sample(self, n_windows: int, seed: int = 0, *, which: str = "last") -> np.ndarray:
        """``n_windows`` windows ``(n_windows, t, n)`` uint8; the same seed gives the same windows.

        ``which``: ``"last"`` (the fitted model), or ``"best"`` / ``"start"`` for a model that keeps them.
        """

    def progress_steps(self) -> int:
        """The steps :meth:`fit` reports to its progress object (1: a fit in one go)."""
        return 1

    def _is_fitted(self) -> bool:
        return bool(getattr(self, "_fitted_flag", False))

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(windows) or load(path).")

    @property
    def n_parameters(self) -> int:
        """Free numbers of the fitted model (what a fit adjusts; a GAN's critic does not count)."""
        self._check_fitted()
        return int(self._n_parameters())

    @abc.abstractmethod
    def _n_parameters(self) -> int:
        """The count behind :attr:`n_parameters` (the model is fitted)."""

    # what a training run reads (spiqgan.experiments.runs); a model without intermediate steps keeps these
    best_step_: int | None = None
    best_js_: float | None = None

    @property
    def n_steps_(self) -> int:
        """Steps (iterations) the fit has taken."""
        return len(getattr(self, "history_", []))

    @property
    def finished_(self) -> bool:
        """Whether the fit is complete (a run that is complete is evaluated again, not refitted)."""
        return self._is_fitted() and self.n_steps_ >= self.progress_steps()

    # ------------------------------------------------------------------ cost
    def describe(self, preset: str | None = None) -> str:
        """The model in one line, before a fit (the command line's ``model:`` line); ``preset``: its named settings."""
        return repr(self)

    def problem_size(self) -> int | None:
        """Amplitudes a simulator holds per draw and window (``None``: no simulator); sets the thread count."""
        return None

    def cost_summary(self, preview: dict[str, Any] | None = None) -> str:
        """What a fit will cost, in words (the command line's cost line); ``preview`` from :meth:`Previewable.preview`."""
        return "a classical fit (its parameters are counted after it)"

    def peak_memory_bytes(self) -> int | None:
        """Estimated peak memory of a fit (bytes), where the model knows it (checked before a fit); else ``None``."""
        return None

    def memory_options(self) -> str:
        """What lowers :meth:`peak_memory_bytes`, in words (for the refusal's message)."""
        return ""

    # ------------------------------------------------------------------ save and load
    @abc.abstractmethod
    def _checkpoint(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The fitted state as ``(tensors, JSON metadata)``; :meth:`save` adds the model's name."""

    def save(self, path: str | Path) -> Path:
        """Hyperparameters and fitted state in one checkpoint file, written atomically."""
        from spiqgan.io.checkpoint import save_checkpoint

        tensors, meta = self._checkpoint()
        return save_checkpoint(path, tensors, {"model": self.name, **meta})

    @classmethod
    def load(cls, path: str | Path) -> "Estimator":
        """A model written by :meth:`save` (it must be one of this class; :func:`spiqgan.models.load_model` reads any)."""
        from spiqgan.io.checkpoint import load_checkpoint

        return cls._from_saved(*load_checkpoint(path), source=str(path))

    @classmethod
    def _accepts(cls, name: str) -> bool:
        """Whether a checkpoint of registered name ``name`` is a model of this class."""
        return name == cls.registered_name

    @classmethod
    def _from_saved(cls, tensors: dict[str, Any], meta: dict[str, Any], source: str = "the checkpoint") -> "Estimator":
        """The model of a checkpoint already read, its name checked (checkpoints of earlier versions included)."""
        name = checkpoint_name(meta)
        if not cls._accepts(name):
            raise ModelConfigError(f"{source} holds a model {name!r}, not a {cls.__name__}; read it with "
                                   "spiqgan.models.load_model.")
        if cls.variant is not None and cls.variant not in meta["params"]:  # a Born machine saved before its family
            meta = {**meta, "params": {**meta["params"], cls.variant: name}}
        return cls._from_checkpoint(tensors, meta)

    @classmethod
    @abc.abstractmethod
    def _from_checkpoint(cls, tensors: dict[str, Any], meta: dict[str, Any]) -> "Estimator":
        """The model of a checkpoint already read (see :func:`spiqgan.io.checkpoint.load_checkpoint`)."""

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        shown = {k: v for k, v in self.get_params().items()  # the size, the variant (which model), what differs
                 if k in ("n_neurons", "n_timesteps", self.variant) or v != defaults[k].default}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


@dataclass(frozen=True)
class LikelihoodEstimate:
    """Log-probabilities of windows from an estimator, with what is known of its error.

    Attributes
    ----------
    log_probs
        ``(B,)`` natural-log probability of each window (estimated).
    method
        How they were computed (``"exact"``, ``"ais, ..."``, ``"monte carlo, ..."``), said in reports.
    shared_se
        Standard error, in nats per window, of an error that every window shares (an estimated
        log-partition function; noise draws common to all windows). A bootstrap over windows does
        not see it; :func:`spiqgan.evaluation.likelihood.held_out_nll` adds it to the interval.
    bias
        Estimated mean bias of ``log_probs`` in nats per window (negative: the log-probabilities are
        too low, the NLL too high), ``0`` for an unbiased or exact method; stated, not subtracted.
    """

    log_probs: np.ndarray
    method: str = "exact"
    shared_se: float = 0.0
    bias: float = 0.0


class EstimatesLikelihood(abc.ABC):
    """Ability: the log-likelihood of windows, exact or estimated, with the estimator's error."""

    @abc.abstractmethod
    def estimate_log_likelihood(self, windows: np.ndarray) -> LikelihoodEstimate | None:
        """The log-probability of each window ``(B, t, n)`` with its method and errors, or ``None`` where this
        fitted model has none (e.g. a deterministic readout)."""

    def likelihood_unavailable(self, windows: np.ndarray) -> str | None:
        """Why :meth:`estimate_log_likelihood` gives ``None`` for these windows (``None`` where it gives one)."""
        return None


class HasLikelihood(EstimatesLikelihood):
    """Ability: the probability of windows, exact (or, where a partition function does not enumerate, by a
    seeded estimator whose error all windows share: :meth:`likelihood_shared_se`)."""

    @abc.abstractmethod
    def log_likelihood(self, windows: np.ndarray) -> np.ndarray:
        """Natural-log probability of each window ``(B, t, n)``: ``(B,)``."""

    def likelihood_method(self) -> str | None:
        """How :meth:`log_likelihood` is computed for this fitted model (``"exact"``, or an estimator such as
        ``"ais"``), or ``None`` where it cannot be."""
        return "exact"

    def likelihood_shared_se(self) -> float:
        """Standard error (nats per window) of the error that every window's log-likelihood shares: 0 when exact."""
        return 0.0

    def estimate_log_likelihood(self, windows: np.ndarray) -> LikelihoodEstimate | None:
        method = self.likelihood_method()
        if method is None:
            return None
        return LikelihoodEstimate(np.asarray(self.log_likelihood(windows), dtype=np.float64), method,
                                  float(self.likelihood_shared_se()))

    #: :meth:`stratified_sample` enumerates windows of at most this many bits (``t n``)
    STRATIFIED_MAX_BITS: ClassVar[int] = 16

    def stratified_sample(self, n_windows: int, seed: int = 0) -> np.ndarray:
        """``n_windows`` windows whose pattern counts are the model's exact probabilities times ``n_windows``.

        Every one of the ``2^(t n)`` patterns is scored by :meth:`log_likelihood`, its expected count
        rounded by largest remainder (so the counts add up to ``n_windows``), and the windows shuffled
        (``seed``). Statistics of these windows are the model's own up to that rounding: unlike a
        random sample, they carry no sampling noise, and random subsets of them are distributed as
        random samples of the model are (to a factor ``1 - size / n_windows`` on variances). For
        ``t n`` up to :attr:`STRATIFIED_MAX_BITS`; ``ModelConfigError`` beyond.
        """
        t, n = self.params_["n_timesteps"], self.params_["n_neurons"]  # type: ignore[attr-defined]
        bits = t * n
        if bits > self.STRATIFIED_MAX_BITS:
            raise ModelConfigError(f"a stratified sample enumerates all 2^(t n) windows; t n = {bits} is more than "
                                   f"{self.STRATIFIED_MAX_BITS}: draw a random sample instead.")
        n_windows = Estimator._check_n_windows(n_windows)
        windows = pattern_windows(np.arange(2 ** bits), t, n)  # pattern_indices' order
        log_p = np.asarray(self.log_likelihood(windows), dtype=np.float64)
        p = np.exp(log_p - log_p.max())
        expected = n_windows * p / p.sum()
        counts = np.floor(expected).astype(np.int64)
        short = n_windows - int(counts.sum())
        if short > 0:  # largest remainders first
            counts[np.argsort(-(expected - counts), kind="stable")[:short]] += 1
        out = np.repeat(windows, counts, axis=0)
        return out[np.random.default_rng(seed).permutation(len(out))]

    def score(self, windows: np.ndarray) -> float:
        r"""Mean log-likelihood per window, :math:`\frac1B \sum_b \log P(x_b)` in nats (higher is better).

        Given held-out windows, the held-out log-likelihood that maximum-entropy work reports.
        """
        return float(np.mean(self.log_likelihood(windows)))


def _fault_point(phase: str, _counts: dict[str, int] = {}) -> None:  # noqa: B006 - per-process counter
    """Tests' fault injection: ``SPIQGAN_FAULT_AT="phase:k"`` kills this process (SIGKILL, as ``kill -9``) right
    after the k-th checkpoint of ``phase``."""
    import os

    target = os.environ.get("SPIQGAN_FAULT_AT")
    if not target:
        return
    _counts[phase] = _counts.get(phase, 0) + 1
    name, _, k = target.partition(":")
    if name == phase and str(_counts[phase]) == k:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class HasCircuits(abc.ABC):
    """Ability: the fitted generator as gate-level circuits (:mod:`spiqgan.quantum.circuit`)."""

    @abc.abstractmethod
    def circuits(self, which: str = "last") -> Any:
        """An :class:`~spiqgan.quantum.circuit.Export` of the ``which`` generator (trained angles bound)."""


class Previewable(abc.ABC):
    """Ability: before a fit, its trainable parameters and one step, timed."""

    @abc.abstractmethod
    def preview(self, windows: np.ndarray) -> dict[str, Any]:
        """``{"parameters", "seconds_per_step", "steps"}``: one step timed on the training ``windows``."""


class ArrayModel(Estimator):
    """A model whose fitted state is a few named arrays, fitted in one call.

    ``Model(n_neurons=None, n_timesteps=None, ...)``: ``(t, n)`` not given are those of the
    training windows. A subclass names its fitted arrays in ``_FITTED`` and implements ``_fit`` and
    ``_sample``. ``fit(..., resume=True)`` of a fitted model keeps it: the fit is complete.

    **A long fit checkpoints part-way.** A subclass whose fit iterates calls
    :meth:`_checkpoint_progress` with its phase and what continuing needs (tensors and JSON); at most
    every :attr:`CHECKPOINT_EVERY_S` seconds (environment ``SPIQGAN_CHECKPOINT_EVERY_S``) that state
    goes to ``on_eval`` (``spiqgan train`` writes it as the run's last checkpoint, atomically). A model
    loaded from such a checkpoint is not fitted; ``fit(..., resume=True)`` hands the state back to
    ``_fit`` (:meth:`_take_resume`), which continues so that the result is bit-identical to a fit never
    interrupted (tested by killing fits at named points: ``SPIQGAN_FAULT_AT="phase:k"`` kills the process
    right after the k-th checkpoint of that phase, for tests).
    """

    #: seconds between checkpoints of a fit in progress
    CHECKPOINT_EVERY_S: ClassVar[float] = 60.0

    #: the fitted arrays (saved and loaded)
    _FITTED: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, seed: int = 0) -> None:
        self.n_neurons, self.n_timesteps, self.seed = n_neurons, n_timesteps, seed

    def resolved_params(self) -> dict[str, Any]:
        """The hyperparameters, checked (``ModelConfigError`` on a bad value)."""
        p = self.get_params()
        for k in ("n_neurons", "n_timesteps"):
            if p[k] is not None and (isinstance(p[k], bool) or not isinstance(p[k], (int, np.integer)) or p[k] < 1):
                raise ModelConfigError(f"{k} must be a positive integer, got {p[k]!r}.")
        if isinstance(p["seed"], bool) or not isinstance(p["seed"], (int, np.integer)):
            raise ModelConfigError(f"seed must be an integer, got {p['seed']!r}.")
        return {"model": self.name, **p}

    def _check_positive(self, p: dict[str, Any], names: tuple[str, ...], kind: type = int) -> None:
        for k in names:
            v = p[k]
            ok = (not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= 1) if kind is int else \
                (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0)
            if not ok:
                raise ModelConfigError(f"{k} must be a positive {'integer' if kind is int else 'number'}, got {v!r}.")

    # --------------------------------------------------------------- fit
    def fit(self, windows: np.ndarray, *, starts: np.ndarray | None = None, progress: Any | None = None,
            on_eval: Callable[["Estimator"], None] | None = None, resume: bool = False) -> "ArrayModel":
        """Fit to training windows ``(n_windows, t, n)``; see :meth:`Estimator.fit`.

        ``on_eval`` is called once, after the fit (a fit in one call is not checkpointed part-way);
        ``resume`` of a fitted model returns it unchanged.
        """
        p = self.resolved_params()
        x = check_windows(windows, what="training windows")
        # (t, n) not given: those of the windows (scikit-learn style)
        p["n_timesteps"] = x.shape[1] if p["n_timesteps"] is None else p["n_timesteps"]
        p["n_neurons"] = x.shape[2] if p["n_neurons"] is None else p["n_neurons"]
        self._check_shape(x, p)
        starts = self._check_starts(starts, x.shape[0])
        partial = getattr(self, "_resume", None) is not None  # loaded from a checkpoint of a fit in progress
        if resume and (self._is_fitted() or partial):
            if self.params_ != p:
                raise ModelConfigError("resume continues the fitted model with its own hyperparameters; these differ "
                                       "(fit without resume to start anew).")
            if self._is_fitted():
                return self
        else:
            self._resume = None
            self.history_: list[dict[str, float]] = []
        self._starts = starts
        self.params_ = p
        self._fitted_flag = False
        self._on_eval, self._last_checkpoint = on_eval, time.monotonic()
        try:
            with as_progress(progress, self.progress_steps()) as bar:
                self._fit(x, p, bar)
        finally:
            self._starts = self._on_eval = self._resume = None  # data and hooks, not state: never kept
        self._fitted_flag = True
        if on_eval is not None:
            on_eval(self)
        return self

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _take_resume(self) -> dict[str, Any] | None:
        """The state of an interrupted fit to continue (``{"phase", "tensors", "meta"}``), once; else ``None``."""
        state, self._resume = getattr(self, "_resume", None), None
        return state

    def _checkpoint_progress(self, phase: str, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
        """Hand the state of the fit in progress to ``on_eval`` (at most every :attr:`CHECKPOINT_EVERY_S`)."""
        import os

        hook = getattr(self, "_on_eval", None)
        if hook is None:
            return
        every = float(os.environ.get("SPIQGAN_CHECKPOINT_EVERY_S", self.CHECKPOINT_EVERY_S))
        if time.monotonic() - self._last_checkpoint < every:
            return
        self._fit_state = {"phase": phase, "tensors": tensors, "meta": meta}
        try:
            hook(self)
        finally:
            self._fit_state = None
        self._last_checkpoint = time.monotonic()
        _fault_point(phase)

    @property
    def finished_(self) -> bool:
        return self._is_fitted()

    @property
    def n_steps_(self) -> int:
        """Steps the fit has taken: those of its history, or the step an interrupted fit's checkpoint names."""
        resume = getattr(self, "_resume", None)
        if resume is not None and "step" in resume.get("meta", {}):
            return int(resume["meta"]["step"])
        return len(getattr(self, "history_", []))

    def _n_parameters(self) -> int:
        return sum(int(np.asarray(getattr(self, k)).size) for k in self._FITTED)

    # ------------------------------------------------------------ sample
    def sample(self, n_windows: int, seed: int = 0, *, which: str = "last") -> np.ndarray:
        """``n_windows`` windows ``(n_windows, t, n)`` uint8; the same seed gives the same windows.

        ``which``: only ``"last"`` (a fit in one call has no intermediate models).
        """
        self._check_fitted()
        self._check_which(which)
        n_windows = self._check_n_windows(n_windows)
        out = self._sample(n_windows, np.random.default_rng(seed))
        return out.reshape(n_windows, self.params_["n_timesteps"], self.params_["n_neurons"]).astype(np.uint8)

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_which(self, which: str) -> None:
        """A fit in one call keeps only its fitted model: ``which`` must be ``"last"``."""
        if which != "last":
            raise ModelConfigError(f"{type(self).__name__} keeps only its fitted model: which must be 'last', "
                                   f"got {which!r}.")

    def _checked_windows(self, windows: np.ndarray) -> np.ndarray:
        """Fitted model and windows of its ``(t, n)``: the windows as checked uint8."""
        self._check_fitted()
        x = check_windows(windows, what="windows")
        self._check_shape(x, self.params_, what="windows")
        return x

    # --------------------------------------------------------- save/load
    def _state(self) -> dict[str, Any]:
        """Fitted torch modules or numpy arrays to save; subclasses may add more."""
        return {k: getattr(self, k) for k in self._FITTED}

    def _checkpoint(self) -> tuple[dict[str, Any], dict[str, Any]]:
        import torch

        params = {**self.get_params(), "n_neurons": self.params_["n_neurons"],
                  "n_timesteps": self.params_["n_timesteps"]}
        state = getattr(self, "_fit_state", None)
        if state is not None:  # a fit in progress: what continuing it needs
            tensors = {f"fit/{k}": torch.as_tensor(np.ascontiguousarray(v)) if not torch.is_tensor(v) else v.detach()
                       for k, v in state["tensors"].items()}
            return tensors, {"params": params, "history": history_to_json(self.history_),
                             "fit_state": {"phase": state["phase"], "meta": state["meta"]}}
        self._check_fitted()
        tensors = {k: torch.as_tensor(np.ascontiguousarray(v)) for k, v in self._state().items()}
        return tensors, {"params": params, "history": history_to_json(self.history_)}

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, Any], meta: dict[str, Any]) -> "ArrayModel":
        model = cls(**meta["params"])
        model.params_ = model.resolved_params()
        model.history_ = history_from_json(meta["history"])
        if "fit_state" in meta:  # an interrupted fit: not fitted; fit(resume=True) continues it
            model._resume = {**meta["fit_state"], "tensors": {k[4:]: v for k, v in tensors.items()
                                                              if k.startswith("fit/")}}
            model._fitted_flag = False
            return model
        model._restore({k: v.numpy() for k, v in tensors.items()})
        model._fitted_flag = True
        return model

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        missing = [k for k in self._FITTED if k not in arrays]
        if missing:
            raise ModelConfigError(f"the checkpoint of model {self.name!r} has no {', '.join(missing)}: it was written "
                                   "by another version of spiqgan or is damaged; train the run again.")
        for k in self._FITTED:
            setattr(self, k, arrays[k])
