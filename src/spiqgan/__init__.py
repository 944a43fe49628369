"""spiqgan: quantum GANs for synthetic neuronal spike trains (SpiQGAN), and the statistics to judge them.

Main entry points
-----------------
* :func:`spiqgan.loaders.load_raster`, :func:`spiqgan.loaders.load_dataset`: read spike data.
* :class:`spiqgan.data.SpikeRaster`: select neurons, split by repeats, cut windows.
* :mod:`spiqgan.statistics`: firing rate, covariance, k-probability, autocorrelogram, JS, W1.
* :func:`spiqgan.evaluation.evaluate`: errors against held-out data, with the noise floor.
"""

from .data import SpikeRaster, parse_neurons
from .evaluation import Evaluation, evaluate
from .exceptions import DataError, DataFileError, SpiqganError, StatisticError
from .loaders import load_dataset, load_raster

__version__ = "0.1.0"

__all__ = [
    "SpikeRaster",
    "parse_neurons",
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
