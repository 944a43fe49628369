"""Classical models of spike windows, on the same footing as SpiQGAN.

Every model has the estimator API of :class:`spiqgan.model.SpiQGAN`
(``fit(windows)``, ``sample(n_windows, seed)``, ``n_parameters``, ``save``,
``load``), so that ``spiqgan train --model NAME`` trains any of them into a run
folder and ``spiqgan compare`` puts them side by side:

================  ==================================================  ===================
``--model``       model                                               time
================  ==================================================  ===================
``bernoulli``     independent Bernoulli per neuron and time step      per step
``ising``         pairwise maximum entropy (Schneidman et al. 2006)   static
``kpairwise``     K-pairwise maximum entropy (Tkačik et al. 2014)     static
``dg``            dichotomized Gaussian (Macke et al. 2009)           temporal (stationary)
``wgan-mlp``      Wasserstein GAN, MLP generator                      temporal
``wgan-conv``     Wasserstein GAN, convolutional generator            temporal
``bitflip``       bit-flip model, IQP's classical look-alike           latent state
================  ==================================================  ===================

The Born machines of :mod:`spiqgan.born` (``cry``, ``iqp``, and ``bitflip``,
which is classical) are registered here with the rest.

:func:`make_model` builds any of them, or SpiQGAN (``spiqgan``, ``qce2023``);
:func:`load_model` reads any saved model back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spiqgan.baselines.base import ModelConfigError, NotFittedError, WindowModel
from spiqgan.baselines.bernoulli import IndependentBernoulli
from spiqgan.baselines.dg import DichotomizedGaussian
from spiqgan.baselines.maxent import Ising, KPairwise

__all__ = ["IndependentBernoulli", "Ising", "KPairwise", "DichotomizedGaussian", "WindowModel", "CLASSICAL_MODELS",
           "QUANTUM_MODELS", "BORN_MODELS", "DEFAULT_MODEL", "MODEL_NAMES", "make_model", "hyperparameters", "load_model", "model_class", "model_params",
           "ModelConfigError", "NotFittedError"]

#: the SpiQGAN architectures (:class:`spiqgan.model.SpiQGAN`'s ``model`` hyperparameter)
QUANTUM_MODELS = ("spiqgan", "qce2023")
#: the Born machines of spiqgan.born: pairwise-coupled circuits with exact likelihoods (bitflip is classical)
BORN_MODELS = ("cry", "iqp", "bitflip")
#: the classical models by name (the WGANs are imported with torch, when asked for)
CLASSICAL_MODELS = ("bernoulli", "ising", "kpairwise", "dg", "wgan-mlp", "wgan-conv")
MODEL_NAMES = QUANTUM_MODELS + BORN_MODELS + CLASSICAL_MODELS
#: what ``spiqgan train`` fits without --model or --preset: the family that measured best per parameter
#: (benchmarks/born_fit.py)
DEFAULT_MODEL = "cry"


def model_class(name: str) -> type:
    """The class of a model name (``SpiQGAN`` for the quantum ones)."""
    if name in QUANTUM_MODELS:
        from spiqgan.model import SpiQGAN

        return SpiQGAN
    if name in ("wgan-mlp", "wgan-conv"):
        from spiqgan.baselines.wgan import WGAN_Conv, WGAN_MLP

        return WGAN_MLP if name == "wgan-mlp" else WGAN_Conv
    if name in BORN_MODELS:
        from spiqgan.born import BORN_MODELS as born

        return born[name]
    classes = {c.name: c for c in (IndependentBernoulli, Ising, KPairwise, DichotomizedGaussian)}
    if name not in classes:
        raise ModelConfigError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}.")
    return classes[name]


def model_params(name: str) -> list[str]:
    """The hyperparameters model ``name`` takes (besides ``n_neurons`` and ``n_timesteps``)."""
    names = [p for p in model_class(name)._param_names() if p not in ("n_neurons", "n_timesteps", "model")]
    return names + (["preset"] if name in QUANTUM_MODELS else [])


def hyperparameters() -> dict[str, tuple[Any, list[str], bool]]:
    """Every hyperparameter of some model: ``name -> (default, models that take it, same default in all)``.

    SpiQGAN's come first; ``default`` is that of the first model that takes the option.
    """
    import inspect

    out: dict[str, tuple[Any, list[str], bool]] = {}
    for name in ("spiqgan",) + BORN_MODELS + CLASSICAL_MODELS:
        for key, param in inspect.signature(model_class(name).__init__).parameters.items():
            if key in ("self", "n_neurons", "n_timesteps", "model"):
                continue
            default, users, same = out.get(key, (param.default, [], True))
            out[key] = (default, users + [name], same and param.default == default)
    return out


def make_model(name: str, n_neurons: int, n_timesteps: int = 1, *, preset: str | None = None, **options: Any):
    """A new, unfitted model ``name`` for windows ``(t, n)``; ``preset`` (a paper's settings) is for SpiQGAN only."""
    cls = model_class(name)
    unknown = sorted(set(options) - set(model_params(name)))
    if unknown:
        raise ModelConfigError(f"model {name!r} does not take {', '.join(map(repr, unknown))}; it takes "
                               f"{', '.join(model_params(name))}.")
    if name in QUANTUM_MODELS:
        if preset is None or name != "spiqgan":  # a preset's own architecture stands unless another is named
            options = {**options, "model": name}
        return cls.from_preset(preset, n_neurons, n_timesteps, **options) if preset else cls(n_neurons, n_timesteps,
                                                                                             **options)
    if preset is not None:
        raise ModelConfigError(f"--preset is a paper's SpiQGAN settings; model {name!r} takes none.")
    return cls(n_neurons, n_timesteps, **options)


def load_model(path: str | Path):
    """Any model written by ``save``: a classical one, or SpiQGAN."""
    from spiqgan.io.checkpoint import load_checkpoint

    tensors, meta = load_checkpoint(path)
    name = meta.get("classical_model")
    if name is None:
        from spiqgan.model import SpiQGAN

        return SpiQGAN._from_checkpoint(tensors, meta)  # read once: the checksum is not computed twice
    return model_class(name)._from_checkpoint(tensors, meta)
