"""Spike data in NWB files (Neurodata Without Borders, as on the DANDI archive): reading, and writing windows.

The optional extra ``spiqgan[nwb]`` (pynwb); nothing else in spiqgan imports
this module at load time. :func:`spiqgan.data.loaders.load_raster` calls
:func:`load_nwb` for a ``.nwb`` file, so ``--data FILE.nwb`` works everywhere.

What is read
------------
* **Spikes**: the ``units`` table's ``spike_times`` (seconds), one column of
  the raster per unit, in table order; ``neuron_ids`` are the units' ids.
* **Repeats**: the ``trials`` table when the file has one, else the
  ``epochs`` table, else the whole recording as one repeat (from the session
  start to the last spike or observation). Each repeat is binned from its
  ``start_time`` in bins of ``bin_ms``; a bin that would reach past its
  ``stop_time`` is left out, so repeats of equal duration get equal bins.
* **Observation intervals**: where the units table has ``obs_intervals``, a
  bin counts only if every unit was observed during all of it (a binary
  raster cannot say "not recorded"). A trial with an unobserved bin is dropped
  (logged); without trials the observed stretches become the repeats.

What is written
---------------
:func:`save_nwb` writes windows ``(n_windows, t, n)`` (generated ones, by ``spiqgan sample --out FILE.nwb``)
one after the other with one empty bin between them: window ``k`` covers bins ``[k (t + 1), k (t + 1) + t)``
from the session start, one trial per window (so that no analysis need guess where a window ends; the bin
between two trials belongs to neither: pynapple joins trials that touch), one unit per neuron with a spike
at the centre of each bin where the window has a 1. :func:`load_nwb` (trials as repeats) and pynapple's ``load_file`` read
it back to the same windows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from spiqgan.data.binning import bin_spike_times
from spiqgan.data.raster import DEFAULT_BIN_MS, SpikeRaster
from spiqgan.exceptions import DataError, DataFileError

__all__ = ["load_nwb", "save_nwb"]

log = logging.getLogger(__name__)


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sorted lists of ``[start, stop)`` intervals, ``(k, 2)``."""
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i, 0], b[j, 0]), min(a[i, 1], b[j, 1])
        if hi > lo:
            out.append((lo, hi))
        if a[i, 1] < b[j, 1]:
            i += 1
        else:
            j += 1
    return np.array(out, dtype=float).reshape(-1, 2)


def _observed(units: Any, n_units: int) -> np.ndarray | None:
    """The intervals in which every unit was observed, or ``None`` when the file does not say."""
    if "obs_intervals" not in units.colnames:
        return None
    common = None
    for i in range(n_units):
        iv = np.asarray(units["obs_intervals"][i], dtype=float).reshape(-1, 2)
        iv = iv[np.argsort(iv[:, 0])]
        common = iv if common is None else _intersect(common, iv)
    return common


def _table_intervals(table: Any) -> np.ndarray:
    return np.column_stack([np.asarray(table["start_time"][:], float), np.asarray(table["stop_time"][:], float)])


def load_nwb(path: str | Path, *, bin_ms: float = DEFAULT_BIN_MS, clip: bool = False,
             repeats: str = "auto") -> SpikeRaster:
    """A binned raster of an NWB file's units (see the module docstring).

    Parameters
    ----------
    path
        The ``.nwb`` file (HDF5).
    bin_ms
        Bin width in milliseconds.
    clip
        Count bins with several spikes of one unit as one spike instead of raising.
    repeats
        ``"auto"`` (trials, else epochs, else one), ``"trials"``, ``"epochs"``
        or ``"none"`` (the whole recording as one repeat).
    """
    try:
        from pynwb import NWBHDF5IO
    except ImportError as exc:
        raise DataFileError(f"{path}: reading NWB files needs pynwb: pip install 'spiqgan[nwb]'.") from exc

    path = Path(path)
    if repeats not in ("auto", "trials", "epochs", "none"):
        raise DataFileError(f"repeats must be 'auto', 'trials', 'epochs' or 'none', got {repeats!r}.")
    if not path.is_file():
        raise DataFileError(f"{path}: no such file. Check the path.")
    try:
        io = NWBHDF5IO(str(path), "r")
    except Exception as exc:  # not HDF5, not NWB, a newer schema: pynwb fails in many ways
        raise DataFileError(f"{path}: cannot read this file as NWB ({type(exc).__name__}: {exc}).") from exc
    with io:
        try:
            nwbfile = io.read()
        except Exception as exc:
            raise DataFileError(f"{path}: cannot read this file as NWB ({type(exc).__name__}: {exc}).") from exc
        units = nwbfile.units
        if units is None or len(units) == 0:
            raise DataFileError(f"{path}: the NWB file has no units table (sorted spikes); spiqgan bins the units' "
                                "spike times.")
        n_units = len(units)
        ids = np.asarray(units.id[:], dtype=np.int64)
        times = [np.asarray(units["spike_times"][i], dtype=float) for i in range(n_units)]
        observed = _observed(units, n_units)
        chosen = {"auto": "trials" if nwbfile.trials is not None and len(nwbfile.trials) else
                  ("epochs" if nwbfile.epochs is not None and len(nwbfile.epochs) else "none")}.get(repeats, repeats)
        table = getattr(nwbfile, chosen, None) if chosen != "none" else None
        if chosen != "none" and (table is None or len(table) == 0):
            raise DataFileError(f"{path}: the NWB file has no {chosen} table; use repeats='auto' or 'none'.")
        if table is not None:
            intervals = _table_intervals(table)
        else:
            end = max([t.max() for t in times if t.size] + ([observed[:, 1].max()] if observed is not None
                                                             and observed.size else []) + [0.0])
            intervals = np.array([[0.0, end + bin_ms / 1000.0]]) if observed is None else observed
    step = bin_ms / 1000.0
    pieces, kept = [], 0
    for start, stop in intervals:
        n_bins = int(np.floor((stop - start) / step + 1e-9))
        if n_bins < 1:
            continue
        if observed is not None and table is not None:
            inside = ((observed[:, 0] <= start + 1e-12) & (observed[:, 1] >= start + n_bins * step - 1e-12)).any()
            if not inside:
                log.info("%s: trial [%g, %g) s is not observed for every unit; dropped", path.name, start, stop)
                continue
        spk = [t[(t >= start) & (t < start + n_bins * step)] - start for t in times]
        neurons = np.concatenate([np.full(s.size, i, dtype=np.int64) for i, s in enumerate(spk)])
        raster = bin_spike_times(np.concatenate(spk), neurons, bin_ms=bin_ms, n_neurons=n_units,
                                 duration=n_bins * step, clip=clip, source=path.name)
        pieces.append(raster[:n_bins])
        kept += 1
    if not pieces:
        raise DataFileError(f"{path}: no {chosen if chosen != 'none' else 'recording'} interval of at least one "
                            f"{bin_ms:g} ms bin was observed for every unit.")
    lengths = np.array([p.shape[0] for p in pieces], dtype=np.int64)
    return SpikeRaster(np.concatenate(pieces), bin_ms=bin_ms, neuron_ids=ids, source=path.name,
                       boundaries=np.concatenate([[0], np.cumsum(lengths)]))


def save_nwb(path: str | Path, windows: np.ndarray, *, bin_ms: float = DEFAULT_BIN_MS,
             neuron_ids: Sequence[int] | None = None, description: str = "windows of binary spike trains",
             metadata: dict[str, Any] | None = None, session_start: datetime | None = None) -> Path:
    """Write ``windows`` ``(n_windows, t, n)`` of 0/1 as an NWB file (see the module docstring); returns ``path``.

    Parameters
    ----------
    path
        A ``.nwb`` file, written atomically (a partial file never takes its name).
    windows
        The windows; bins of ``bin_ms`` milliseconds.
    neuron_ids
        The units' ids (e.g. the recording's neuron indices); ``0 .. n-1`` by default.
    description
        The file's session description.
    metadata
        Written as JSON into the file's ``notes`` beside the bin width and window length (e.g. the model, the
        run and the seed): ``json.loads(nwbfile.notes)`` reads it back.
    session_start
        The session start time (timezone-aware); the time of writing by default.
    """
    import json
    import uuid

    try:
        import pynwb
        from pynwb.epoch import TimeIntervals
    except ImportError as exc:
        raise DataFileError(f"{path}: writing NWB files needs pynwb: pip install 'spiqgan[nwb]'.") from exc
    import pandas as pd

    from spiqgan.io.atomic import atomic_path

    x = np.asarray(windows)
    if x.ndim != 3 or x.shape[0] < 1 or not np.isin(x, (0, 1)).all():
        raise DataError(f"windows must be a non-empty (n_windows, t, n) array of 0/1, got shape {x.shape}.")
    n_windows, t, n = x.shape
    ids = np.arange(n) if neuron_ids is None else np.asarray(neuron_ids, dtype=np.int64)
    if ids.shape != (n,) or len(set(ids.tolist())) != n:
        raise DataError(f"neuron_ids must be {n} distinct integers (one per neuron), got {list(ids)}.")
    if not bin_ms > 0:
        raise DataError(f"bin_ms must be positive, got {bin_ms}.")
    step = bin_ms / 1000.0
    starts = np.arange(n_windows) * (t + 1) * step  # a bin between windows: trials that touch are one to pynapple
    nwbfile = pynwb.NWBFile(
        session_description=description, identifier=str(uuid.uuid4()),
        session_start_time=session_start or datetime.now(timezone.utc),
        notes=json.dumps({"bin_ms": bin_ms, "window_bins": t, "n_windows": n_windows, **(metadata or {})}),
        trials=TimeIntervals.from_dataframe(pd.DataFrame({"start_time": starts, "stop_time": starts + t * step}),
                                            name="trials"))
    flat = np.concatenate([x, np.zeros((n_windows, 1, n), x.dtype)], 1).reshape(n_windows * (t + 1), n)
    for j in range(n):  # bin k (t + 1) + s of the session is window k's step s
        bins = np.flatnonzero(flat[:, j])
        nwbfile.add_unit(spike_times=(bins + 0.5) * step, id=int(ids[j]))
    path = Path(path)
    with atomic_path(path) as tmp, pynwb.NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwbfile)
    return path