"""What every classical model shares with :class:`spiqgan.model.SpiQGAN`: the estimator API.

``Model(n_neurons, n_timesteps, **hyperparameters)`` only stores its
hyperparameters; :meth:`fit` sets the fitted arrays (names ending in ``_``);
:meth:`sample` draws ``(n_windows, t, n)`` uint8 windows from an explicit seed;
:attr:`n_parameters` counts the fitted free numbers; :meth:`save` and
:meth:`load` use the project's checkpoint format (tensors plus a JSON header,
written atomically). A subclass names its fitted arrays in ``_FITTED`` and
implements ``_fit`` and ``_sample``.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from spiqgan.progress import as_progress
from spiqgan.data.raster import check_windows
from spiqgan.exceptions import ConfigError, NotFittedError

__all__ = ["WindowModel", "ModelConfigError", "NotFittedError"]

#: a hyperparameter out of range: the same error as SpiQGAN's (:class:`spiqgan.exceptions.ConfigError`)
ModelConfigError = ConfigError


class WindowModel:
    """Base of the classical models of spike windows ``(n_windows, t, n)``."""

    #: the name of the model in ``--model`` and in the registry
    name: ClassVar[str] = ""
    #: the fitted arrays (saved and loaded)
    _FITTED: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, seed: int = 0) -> None:
        self.n_neurons, self.n_timesteps, self.seed = n_neurons, n_timesteps, seed

    # ------------------------------------------------------------ params
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names()}

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
    def fit(self, windows: np.ndarray, *, progress: Any | None = None,
            on_eval: Callable[["WindowModel"], None] | None = None, resume: bool = False) -> "WindowModel":
        """Fit to training windows ``(n_windows, t, n)``; ``progress`` as in :meth:`SpiQGAN.fit`.

        ``on_eval`` is called once, after the fit (classical fits are not
        checkpointed part-way); ``resume`` refits from the start.
        """
        p = self.resolved_params()
        x = check_windows(windows, what="training windows")
        # (t, n) not given: those of the windows (scikit-learn style)
        p["n_timesteps"] = x.shape[1] if p["n_timesteps"] is None else p["n_timesteps"]
        p["n_neurons"] = x.shape[2] if p["n_neurons"] is None else p["n_neurons"]
        if x.shape[1:] != (p["n_timesteps"], p["n_neurons"]):
            raise ModelConfigError(
                f"training windows have (t, n) = {x.shape[1:]}, but the model was made for "
                f"({p['n_timesteps']}, {p['n_neurons']}); select {p['n_neurons']} neurons and windows of "
                f"{p['n_timesteps']} bins.")
        self.params_ = p
        self.history_: list[dict[str, float]] = []
        with as_progress(progress, self.progress_steps()) as bar:
            self._fit(x, p, bar)
        self._fitted_flag = True
        if on_eval is not None:
            on_eval(self)
        return self

    def progress_steps(self) -> int:
        """The steps :meth:`fit` reports to its progress object (1: a fit in one go)."""
        return 1

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not getattr(self, "_fitted_flag", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(windows) or load(path).")

    # the attributes a training run reads (see spiqgan.experiments.runs.train_run)
    best_step_ = None
    best_js_ = None

    @property
    def n_steps_(self) -> int:
        return len(getattr(self, "history_", []))

    @property
    def n_parameters(self) -> int:
        """Free numbers of the fitted model."""
        self._check_fitted()
        return int(self._n_parameters())

    def _n_parameters(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------ sample
    def sample(self, n_windows: int, seed: int = 0, *, which: str = "last") -> np.ndarray:
        """``n_windows`` windows ``(n_windows, t, n)`` uint8; the same seed gives the same windows.

        ``which``: only ``"last"`` (a classical fit has no intermediate generators).
        """
        self._check_fitted()
        if which != "last":
            raise ModelConfigError(f"{type(self).__name__} keeps only its fitted model: which must be 'last', "
                                   f"got {which!r}.")
        if isinstance(n_windows, bool) or not isinstance(n_windows, (int, np.integer)) or n_windows < 1:
            raise ModelConfigError(f"n_windows must be a positive integer, got {n_windows!r}.")
        out = self._sample(int(n_windows), np.random.default_rng(seed))
        return out.reshape(int(n_windows), self.params_["n_timesteps"], self.params_["n_neurons"]).astype(np.uint8)

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # --------------------------------------------------------- save/load
    def _state(self) -> dict[str, Any]:
        """Fitted torch modules or numpy arrays to save; subclasses may add more."""
        return {k: getattr(self, k) for k in self._FITTED}

    def save(self, path: str | Path) -> Path:
        """Hyperparameters and fitted arrays in one checkpoint file, written atomically."""
        import torch

        from spiqgan.io.checkpoint import save_checkpoint

        self._check_fitted()
        tensors = {k: torch.as_tensor(np.ascontiguousarray(v)) for k, v in self._state().items()}
        history = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                   for row in self.history_]
        params = {**self.get_params(), "n_neurons": self.params_["n_neurons"],
                  "n_timesteps": self.params_["n_timesteps"]}
        return save_checkpoint(path, tensors, {"classical_model": self.name, "params": params, "history": history})

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, Any], meta: dict[str, Any]) -> "WindowModel":
        model = cls(**meta["params"])
        model.params_ = model.resolved_params()
        model.history_ = [{k: (math.nan if v is None else v) for k, v in row.items()} for row in meta["history"]]
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

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        shown = {k: v for k, v in self.get_params().items()
                 if k in ("n_neurons", "n_timesteps") or v != defaults[k].default}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"
