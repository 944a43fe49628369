"""Binning spike times into a binary raster: pure computation, used by the loaders of spike-time files."""

from __future__ import annotations

import numpy as np

from spiqgan.data.raster import DEFAULT_BIN_MS, as_binary
from spiqgan.exceptions import DataError

__all__ = ["bin_spike_times"]


def bin_spike_times(
    times: np.ndarray,
    neurons: np.ndarray,
    *,
    bin_ms: float = DEFAULT_BIN_MS,
    n_neurons: int | None = None,
    duration: float | None = None,
    clip: bool = False,
    source: str = "spike times",
) -> np.ndarray:
    """Bin spike times into a binary raster.

    Parameters
    ----------
    times
        ``(n_spikes,)`` spike times in seconds, from 0 (the start of the recording).
    neurons
        ``(n_spikes,)`` neuron index (0-based) of each spike.
    bin_ms
        Bin width in milliseconds; bin ``b`` covers ``[b * bin_ms, (b + 1) * bin_ms)`` ms.
    n_neurons
        Number of neurons (default: the largest index + 1).
    duration
        Recording length in seconds (default: up to the last spike).
    clip
        Count bins with several spikes as one spike instead of raising.

    Returns
    -------
    np.ndarray
        ``(n_bins, n_neurons)`` uint8 raster.
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    neurons = np.asarray(neurons).reshape(-1)
    if times.shape != neurons.shape:
        raise DataError(f"{source}: {times.size} spike times but {neurons.size} neuron indices; give one index per spike.")
    if times.size and not np.isfinite(times).all():
        raise DataError(f"{source}: spike times contain NaN or infinite values.")
    if times.size and times.min() < 0:
        raise DataError(f"{source}: negative spike time {times.min()} s; times are seconds from the recording start.")
    if neurons.size and (not np.issubdtype(neurons.dtype, np.integer) or neurons.min() < 0):
        raise DataError(f"{source}: neuron indices must be non-negative integers.")
    if not (bin_ms > 0):
        raise DataError(f"bin width must be positive, got {bin_ms!r} ms.")
    n = int(neurons.max()) + 1 if n_neurons is None and neurons.size else int(n_neurons or 0)
    if n < 1:
        raise DataError(f"{source}: no spikes and no neuron count; give n_neurons.")
    if neurons.size and neurons.max() >= n:
        raise DataError(f"{source}: neuron index {int(neurons.max())} but only {n} neurons.")
    bins = np.floor(times * 1000.0 / bin_ms).astype(np.int64)
    if duration is None:
        n_bins = int(bins.max()) + 1 if bins.size else 0
    else:
        n_bins = int(np.ceil(duration * 1000.0 / bin_ms - 1e-9))
        if bins.size and bins.max() >= n_bins:
            raise DataError(f"{source}: a spike at {times.max()} s lies beyond the duration {duration} s.")
    if n_bins < 1:
        raise DataError(f"{source}: the recording is empty; give a duration.")
    counts = np.zeros((n_bins, n), dtype=np.int64)
    np.add.at(counts, (bins, neurons.astype(np.int64)), 1)
    return as_binary(counts, source=source, clip=clip)
