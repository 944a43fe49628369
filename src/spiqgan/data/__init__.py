"""Spike data in: rasters of repeats, windows and splits (:mod:`~spiqgan.data.raster`), file loaders
(:mod:`~spiqgan.data.loaders`, NWB in :mod:`~spiqgan.data.nwb`) and the built-in synthetic population
(:mod:`~spiqgan.data.synthetic`)."""

from spiqgan.data.loaders import load_dataset, load_raster, load_samples
from spiqgan.data.raster import DEFAULT_BIN_MS, DEFAULT_TEST_FRACTION, SpikeRaster, check_windows, parse_neurons

__all__ = ["SpikeRaster", "parse_neurons", "check_windows", "load_raster", "load_dataset", "load_samples",
           "DEFAULT_BIN_MS", "DEFAULT_TEST_FRACTION"]
