"""The models users fit, quantum and classical, behind one estimator protocol.

* :mod:`spiqgan.models.base`: the protocol (:class:`~spiqgan.models.base.Estimator`) and the mixins of
  optional abilities (likelihood, circuits, a timed preview);
* :mod:`spiqgan.models.registry`: every model by its ``--model`` name (:func:`make_model`,
  :func:`build_model`, :func:`load_model`);
* :mod:`spiqgan.models.gan`: the SpiQGAN patch quantum GAN and the QCE 2023 variant;
* :mod:`spiqgan.models.born`: Born machines of the circuit families of :mod:`spiqgan.quantum.families`
  (the default, ``cry``);
* :mod:`spiqgan.models.classical`: independent, maximum-entropy, dichotomized-Gaussian and
  Wasserstein-GAN references.

Classes are imported when first asked for (SpiQGAN and the GANs need torch).
"""

from __future__ import annotations

from spiqgan.models.base import (ArrayModel, Estimator, HasCircuits, HasLikelihood, ModelConfigError, NotFittedError,
                                 Previewable)
from spiqgan.models.registry import (BORN_MODELS, CLASSICAL_MODELS, DEFAULT_MODEL, MODEL_NAMES, MODELS,
                                     QUANTUM_MODELS, build_model, hyperparameters, load_model, make_model,
                                     model_class, model_params)

__all__ = ["Estimator", "ArrayModel", "HasLikelihood", "HasCircuits", "Previewable", "ModelConfigError",
           "NotFittedError", "MODELS", "MODEL_NAMES", "QUANTUM_MODELS", "BORN_MODELS", "CLASSICAL_MODELS",
           "DEFAULT_MODEL", "make_model", "build_model", "load_model", "model_class", "model_params",
           "hyperparameters", "SpiQGAN", "BornMachine", "IndependentBernoulli", "Ising", "KPairwise",
           "RBM", "DichotomizedGaussian", "WGAN_MLP", "WGAN_Conv"]

_LAZY = {"SpiQGAN": "spiqgan", "BornMachine": "cry", "IndependentBernoulli": "bernoulli", "Ising": "ising",
         "KPairwise": "kpairwise", "RBM": "rbm", "DichotomizedGaussian": "dg", "WGAN_MLP": "wgan-mlp", "WGAN_Conv": "wgan-conv"}


def __getattr__(name: str):
    if name in _LAZY:
        return model_class(_LAZY[name])
    raise AttributeError(f"module 'spiqgan.models' has no attribute {name!r}")
