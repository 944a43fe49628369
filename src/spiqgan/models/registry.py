"""Every model by its ``--model`` name: build one, read its options, load a saved one.

================  ==============================================================  =====================
``--model``       model                                                           class
================  ==============================================================  =====================
``spiqgan``       the SpiQGAN patch quantum GAN (Wasserstein critic, K-loss)      :class:`~spiqgan.models.gan.SpiQGAN`
``qce2023``       the QCE 2023 patch quantum GAN                                  :class:`~spiqgan.models.gan.SpiQGAN`
``cry``           controlled-RY Born machine (the default)                        :class:`~spiqgan.models.born.BornMachine`
``iqp``           IQP Born machine                                                :class:`~spiqgan.models.born.BornMachine`
``bitflip``       bit-flip model, IQP's classical look-alike                      :class:`~spiqgan.models.born.BornMachine`
``bernoulli``     independent Bernoulli per neuron and time step                  :mod:`spiqgan.models.classical.bernoulli`
``ising``         pairwise maximum entropy (Schneidman et al. 2006)               :mod:`spiqgan.models.classical.maxent`
``kpairwise``     K-pairwise maximum entropy (Tkačik et al. 2014)                 :mod:`spiqgan.models.classical.maxent`
``dg``            dichotomized Gaussian (Macke et al. 2009)                       :mod:`spiqgan.models.classical.dg`
``wgan-mlp``      Wasserstein GAN, MLP generator                                  :mod:`spiqgan.models.classical.wgan`
``wgan-conv``     Wasserstein GAN, convolutional generator                        :mod:`spiqgan.models.classical.wgan`
================  ==============================================================  =====================

Every circuit family registered in :data:`spiqgan.quantum.families.FAMILIES` is a Born machine of
the same name. Classes are named as ``"module:Class"`` and imported only when asked for (the
Wasserstein GANs and SpiQGAN need torch). A class registered under several names takes the name as
its ``variant`` hyperparameter (SpiQGAN's ``model``, the Born machines' ``family``).

``FILE.py:NAME`` is a Born machine of the circuit ``NAME`` in the Python file ``FILE.py`` (a PennyLane QNode
or a Qiskit circuit; :mod:`spiqgan.quantum.families.user`).

Checkpoints store the registered name (``"model"`` in their header); checkpoints written before
(``"classical_model"``, or SpiQGAN's without a name) still load.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from spiqgan.models.base import Estimator, ModelConfigError, checkpoint_name
from spiqgan.quantum.families import FAMILIES

__all__ = ["MODELS", "QUANTUM_MODELS", "BORN_MODELS", "WINDOW_MODELS", "CLASSICAL_MODELS", "MODEL_NAMES", "DEFAULT_MODEL",
           "model_class", "model_params", "hyperparameters", "option_choices", "option_help", "make_model",
           "model_spec", "ModelSpec", "build_model", "load_model", "is_model_name"]

#: the SpiQGAN architectures (:class:`spiqgan.models.gan.SpiQGAN`'s ``model`` hyperparameter)
QUANTUM_MODELS = ("spiqgan", "qce2023")
#: the Born machines: one per circuit family of :mod:`spiqgan.quantum.families` (bitflip is classical)
BORN_MODELS = tuple(FAMILIES)
#: one circuit over the whole window, fitted from Pauli-Z expectation values (:mod:`spiqgan.models.window_iqp`)
WINDOW_MODELS = ("iqp-window", "bitflip-window")
#: the classical models
CLASSICAL_MODELS = ("bernoulli", "ising", "kpairwise", "rbm", "dg", "wgan-mlp", "wgan-conv")
#: the class of every Born machine, a user's circuit (``FILE.py:NAME``) included
BORN_MACHINE = "spiqgan.models.born:BornMachine"
#: every model: ``name -> "module:Class"``
MODELS: dict[str, str] = {
    "spiqgan": "spiqgan.models.gan:SpiQGAN",
    "qce2023": "spiqgan.models.gan:SpiQGAN",
    **{name: BORN_MACHINE for name in BORN_MODELS},
    **{name: "spiqgan.models.window_iqp:WindowIQP" for name in WINDOW_MODELS},
    "bernoulli": "spiqgan.models.classical.bernoulli:IndependentBernoulli",
    "ising": "spiqgan.models.classical.maxent:Ising",
    "kpairwise": "spiqgan.models.classical.maxent:KPairwise",
    "rbm": "spiqgan.models.classical.rbm:RBM",
    "dg": "spiqgan.models.classical.dg:DichotomizedGaussian",
    "wgan-mlp": "spiqgan.models.classical.wgan:WGAN_MLP",
    "wgan-conv": "spiqgan.models.classical.wgan:WGAN_Conv",
}
MODEL_NAMES = tuple(MODELS)
#: what ``spiqgan train`` fits without --model or --preset: the family that measured best per parameter
#: (benchmarks/born_fit.py)
DEFAULT_MODEL = "cry"
#: the models whose options the command line lists (qce2023 takes spiqgan's)
_OPTION_SOURCES = ("spiqgan",) + BORN_MODELS + WINDOW_MODELS + CLASSICAL_MODELS
#: keywords that are not options (the window's size; a class's variant, set by the name, is left out too)
_NOT_OPTIONS = ("n_neurons", "n_timesteps")


def is_model_name(name: Any) -> bool:
    """Whether ``name`` names a model: a registered one, or ``FILE.py:NAME`` (a circuit of the user's)."""
    from spiqgan.quantum.families.user import is_user_circuit

    return name in MODELS or is_user_circuit(name)


def model_class(name: str) -> type[Estimator]:
    """The class of model ``name`` (imported now); ``FILE.py:NAME``, a circuit of the user's, is a Born machine."""
    if not is_model_name(name):
        raise ModelConfigError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}, or FILE.py:NAME "
                               "for a circuit of yours (a PennyLane QNode or a Qiskit circuit).")
    module, _, cls = MODELS.get(name, BORN_MACHINE).partition(":")
    return getattr(importlib.import_module(module), cls)


def _option_names(cls: type[Estimator]) -> list[str]:
    return [p for p in cls._param_names() if p not in _NOT_OPTIONS and p != cls.variant]


def model_params(name: str) -> list[str]:
    """The hyperparameters model ``name`` takes (besides ``n_neurons`` and ``n_timesteps``)."""
    cls = model_class(name)
    return _option_names(cls) + (["preset"] if cls.PRESETS else [])


def hyperparameters() -> dict[str, tuple[Any, list[str], bool]]:
    """Every hyperparameter of some model: ``name -> (default, models that take it, same default in all)``.

    SpiQGAN's come first; ``default`` is that of the first model that takes the option.
    """
    out: dict[str, tuple[Any, list[str], bool]] = {}
    for name in _OPTION_SOURCES:
        cls = model_class(name)
        params = inspect.signature(cls.__init__).parameters
        for key in _option_names(cls):
            default, users, same = out.get(key, (params[key].default, [], True))
            out[key] = (default, users + [name], same and params[key].default == default)
    return out


#: LaTeX in docstrings, as --help writes it
_MATH = ((r"\sim", "~"), (r"\pi", " pi"), (r"\gamma", " gamma"), (r"\mathcal N", "N"), (r"\text", ""), (r"\sum_d", "sum_d"), ("\\", ""), ("{", ""),
         ("}", ""))


def _plain(text: str) -> str:
    """The first sentence of a docstring's description, its reStructuredText markup removed (for ``--help``)."""
    def role(m: re.Match) -> str:
        inner = m.group(2)
        if m.group(1) != "math":
            return inner.split(".")[-1]
        for command, plain in _MATH:
            inner = inner.replace(command, plain)
        return " ".join(inner.split())

    text = re.sub(r":(math|class|func|mod|meth|data|attr):`~?([^`]*)`", role, text).replace("``", "")
    first = re.split(r"(?<=[.;])\s+(?=[A-Z(`])", text, maxsplit=1)[0]
    first = re.sub(r"\s*\(default [^)]*\)", "", first)  # --help says the default itself
    return " ".join(first.split()).rstrip(".; ")


def option_choices() -> dict[str, tuple[str, ...]]:
    """``hyperparameter -> its allowed values`` of every string hyperparameter of some model (all models' together)."""
    out: dict[str, tuple[str, ...]] = {}
    for name in _OPTION_SOURCES:
        for key, values in model_class(name).CHOICES.items():
            out[key] = tuple(dict.fromkeys(out.get(key, ()) + tuple(values)))
    return out


@lru_cache(maxsize=None)
def option_help() -> dict[str, str]:
    """``hyperparameter -> one line``: the first sentence of its description in the models' numpydoc docstrings
    (the distinct ones, in the order of the models, joined by ``/``)."""
    texts: dict[str, list[str]] = {}
    for name in _OPTION_SOURCES:
        for key, text in model_class(name).param_docs().items():
            line = _plain(text)
            if line not in texts.setdefault(key, []):
                texts[key].append(line)
    return {key: " / ".join(lines) for key, lines in texts.items()}


def make_model(name: str, n_neurons: int | None, n_timesteps: int | None = 1, *, preset: str | None = None,
               **options: Any) -> Estimator:
    """A new, unfitted model ``name`` for windows ``(t, n)``; ``preset``: named settings (SpiQGAN's papers)."""
    cls = model_class(name)
    unknown = sorted(set(options) - set(model_params(name)))
    if unknown:
        raise ModelConfigError(f"model {name!r} does not take {', '.join(map(repr, unknown))}; it takes "
                               f"{', '.join(model_params(name))}.")
    if cls.variant is not None:
        default = inspect.signature(cls.__init__).parameters[cls.variant].default
        if preset is None or name != default:  # a preset's own variant stands unless another is named
            options = {**options, cls.variant: name}
    if preset is not None:
        return cls.from_preset(preset, n_neurons, n_timesteps, **options)
    return cls(n_neurons, n_timesteps, **options)


@dataclass(frozen=True)
class ModelSpec:
    """A model's name, preset and options, resolved from their sources (:func:`model_spec`); :meth:`build` makes it."""

    name: str
    preset: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, n_neurons: int | None, n_timesteps: int | None = 1) -> Estimator:
        """The unfitted model for windows ``(t, n)`` (:func:`make_model`)."""
        return make_model(self.name, n_neurons, n_timesteps, preset=self.preset, **self.options)


def model_spec(name: str | None = None, *, preset: str | None = None,
               config: str | Path | Mapping[str, Any] | None = None, **overrides: Any) -> ModelSpec:
    """A model's name, preset and options from their sources, in this order of precedence (last wins).

    The hyperparameters are the model's defaults, then ``preset``'s (a paper's settings), then
    ``config`` (a TOML file or a mapping, keys as the option names with ``-`` or ``_``; it may name
    ``model`` and ``preset``, which ``name`` and ``preset`` override), then ``overrides`` (``None``
    values are left out: not given). Without a name the model is ``config``'s, else SpiQGAN with a
    preset, else :data:`DEFAULT_MODEL`. What ``spiqgan train`` does with its options.
    """
    from spiqgan.data.loaders import read_toml
    from spiqgan.exceptions import DataError

    source = ""
    if config is None:
        raw: Mapping[str, Any] = {}
    elif isinstance(config, Mapping):
        raw = config
    else:
        source = f"{config}: "
        raw = read_toml(Path(config), "config file")
    known = set(hyperparameters())
    settings: dict[str, Any] = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        if k not in known and k not in ("model", "preset"):
            raise DataError(f"{source}unknown hyperparameter {key!r}; known: {', '.join(sorted(known | {'model'}))}.")
        settings[k] = value
    preset = preset or settings.pop("preset", None)
    settings.pop("preset", None)
    name = name or settings.pop("model", None) or ("spiqgan" if preset else DEFAULT_MODEL)
    settings.pop("model", None)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ModelConfigError(f"unknown hyperparameters {unknown}; known: {', '.join(sorted(known))}.")
    given = {k: v for k, v in overrides.items() if v is not None}
    return ModelSpec(name, preset, {**settings, **given})


def build_model(n_neurons: int | None, n_timesteps: int | None = 1, name: str | None = None, *,
                preset: str | None = None, config: str | Path | Mapping[str, Any] | None = None,
                **overrides: Any) -> Estimator:
    """The model of :func:`model_spec` for windows ``(t, n)``: defaults, preset, config file, overrides."""
    return model_spec(name, preset=preset, config=config, **overrides).build(n_neurons, n_timesteps)


def load_model(path: str | Path) -> Estimator:
    """Any model written by ``save``, of any registered name (checkpoints of earlier versions included)."""
    from spiqgan.io.checkpoint import load_checkpoint

    tensors, meta = load_checkpoint(path)
    return model_class(checkpoint_name(meta))._from_saved(tensors, meta, source=str(path))
