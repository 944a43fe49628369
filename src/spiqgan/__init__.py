"""spiqgan: quantum GANs for synthetic neuronal spike trains (SpiQGAN), and the statistics to judge them.

Main entry points
-----------------
* :func:`spiqgan.loaders.load_raster`, :func:`spiqgan.loaders.load_dataset`: read spike data.
* :class:`spiqgan.data.SpikeRaster`: select neurons, split by repeats, cut windows.
* :mod:`spiqgan.statistics`: firing rate, covariance, k-probability, autocorrelogram, JS, W1.
* :func:`spiqgan.evaluation.evaluate`: errors against held-out data, with the noise floor.
* :class:`spiqgan.generator.PatchGenerator`: the patch quantum generator (SpiQGAN and QCE 2023 circuits).
"""

from .data import SpikeRaster, parse_neurons
from .evaluation import Evaluation, evaluate
from .exceptions import DataError, DataFileError, SpiqganError, StatisticError
from .loaders import load_dataset, load_raster

__version__ = "0.1.0"


def __getattr__(name: str):
    # the generator needs torch (about 2 s to import): load it only when asked for
    if name in ("CircuitConfig", "PatchGenerator"):
        from . import generator

        return getattr(generator, name)
    raise AttributeError(f"module 'spiqgan' has no attribute {name!r}")

__all__ = [
    "SpikeRaster",
    "parse_neurons",
    "CircuitConfig",
    "PatchGenerator",
    "Evaluation",
    "evaluate",
    "load_dataset",
    "load_raster",
    "SpiqganError",
    "DataError",
    "DataFileError",
    "StatisticError",
    "__version__",
]
