"""All errors that spiqgan raises on purpose.

Every error raised at a public boundary (loaders, estimators, the command
line) says what was wrong, what was expected and how to fix it. The command
line catches :class:`SpiqganError` and prints its message without a
traceback.
"""

from __future__ import annotations

__all__ = ["SpiqganError", "DataError", "DataFileError", "StatisticError", "ConfigError", "NotFittedError",
           "RunFolderError", "SimulationError"]


class SpiqganError(Exception):
    """Base class of the errors spiqgan raises on purpose."""


class DataError(SpiqganError, ValueError):
    """Spike data with the wrong shape, values or size for what was asked."""


class DataFileError(DataError):
    """A data file that cannot be read or does not hold a usable spike raster."""


class StatisticError(SpiqganError, ValueError):
    """A statistic that is not defined for the given windows (e.g. JS with too many bins)."""


class ConfigError(SpiqganError, ValueError):
    """A model or generator configuration that cannot be built: a hyperparameter out of range."""


class NotFittedError(SpiqganError):
    """A model that has not been trained (or loaded) yet."""


class RunFolderError(SpiqganError):
    """A run folder that is in use by another process, or holds a run of another configuration."""


class SimulationError(SpiqganError):
    """A simulator outside spiqgan (Qiskit Aer) could not run a circuit: too wide for the memory, say."""
