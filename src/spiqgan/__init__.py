"""spiqgan: quantum and classical generative models of neuronal spike trains, and the statistics to judge them.

Main entry points
-----------------
* :func:`spiqgan.data.loaders.load_raster`, :func:`spiqgan.data.loaders.load_dataset`: read spike data.
* :class:`spiqgan.data.raster.SpikeRaster`: select neurons, split by repeats, cut windows.
* :mod:`spiqgan.evaluation.statistics`: firing rate, covariance, k-probability, autocorrelogram, JS, W1.
* :func:`spiqgan.evaluation.scoring.evaluate`: errors against held-out data, with the noise floor.
* :class:`spiqgan.quantum.generator.PatchGenerator`: the patch quantum generator (SpiQGAN and QCE 2023 circuits).
* :mod:`spiqgan.models`: the models users fit, sample from, save and load (:func:`spiqgan.models.make_model`,
  :class:`spiqgan.models.gan.SpiQGAN`, the Born machines and the classical references).

The package is laid out by the stages of the data's walk, each importing only from those before it:
:mod:`spiqgan.io` (atomic writes, checkpoints), :mod:`spiqgan.data`, :mod:`spiqgan.evaluation`,
:mod:`spiqgan.quantum`, :mod:`spiqgan.training`, then the models (:mod:`spiqgan.models`),
:mod:`spiqgan.experiments` and :mod:`spiqgan.hardware`, and :mod:`spiqgan.cli` on top.
"""

from spiqgan.data.raster import SpikeRaster, parse_neurons
from spiqgan.evaluation.scoring import Evaluation, evaluate
from spiqgan.exceptions import DataError, DataFileError, SpiqganError, StatisticError
from spiqgan.data.loaders import load_dataset, load_raster

__version__ = "0.1.0"


def __getattr__(name: str):
    # the generator needs torch (about 2 s to import): load it only when asked for
    if name in ("CircuitConfig", "PatchGenerator"):
        from spiqgan.quantum import generator

        return getattr(generator, name)
    if name == "SpiQGAN":
        from spiqgan.models.gan import SpiQGAN

        return SpiQGAN
    raise AttributeError(f"module 'spiqgan' has no attribute {name!r}")

__all__ = [
    "SpikeRaster",
    "parse_neurons",
    "CircuitConfig",
    "PatchGenerator",
    "SpiQGAN",
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
