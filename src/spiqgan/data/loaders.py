"""Reading spike data from files: MATLAB ``.mat``, NumPy ``.npy`` / ``.npz``, spike times.

Only this module (and :mod:`spiqgan.data.synthetic`, which makes data) creates
:class:`~spiqgan.data.raster.SpikeRaster` objects from outside sources. Every problem
with a file is reported as :class:`~spiqgan.exceptions.DataFileError` or
:class:`~spiqgan.exceptions.DataError` naming the file, what is wrong and the
fix.

Supported layouts
-----------------
=====================  ===========================  ===========================================
file                   array                        layout (``layout=`` overrides)
=====================  ===========================  ===========================================
``.mat`` (v4-v7)       2-D, key e.g. ``data``       ``bins,neurons``: repeats concatenated;
                                                    give ``repeat_length`` (953 for the retina)
``.mat`` (v4-v7)       3-D, key ``bint``            ``repeats,neurons,bins`` (the Marre et al.
                                                    2017 release, ``bint_fishmovie32_100.mat``)
``.npy`` / ``.npz``    2-D                          ``bins,neurons``
``.npy`` / ``.npz``    3-D                          ``repeats,bins,neurons`` (spiqgan's own order:
                                                    a file of windows ``(n_windows, t, n)`` is a
                                                    raster of ``n_windows`` repeats of ``t`` bins)
``.npz``               keys ``times``, ``neurons``  spike times in seconds and the neuron index of
                       (optional ``duration``)      each spike; binned with ``bin_ms``
``.nwb``               the ``units`` table          binned units; trials (or epochs) as repeats,
                                                    ``obs_intervals`` honoured (:mod:`spiqgan.data.nwb`,
                                                    the optional extra ``spiqgan[nwb]``)
=====================  ===========================  ===========================================

MATLAB v7.3 files are HDF5 files; scipy cannot read them. Re-save them in
MATLAB with ``save(name, var, '-v7')`` or convert them to ``.npz``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spiqgan.data.binning import bin_spike_times
from spiqgan.data.raster import DEFAULT_BIN_MS, SpikeRaster, as_binary, parse_neurons
from spiqgan.exceptions import DataError, DataFileError

__all__ = ["load_dataset", "load_raster", "load_samples", "bin_spike_times", "LAYOUTS", "read_toml"]

log = logging.getLogger(__name__)

LAYOUTS = ("bins,neurons", "neurons,bins", "repeats,bins,neurons", "repeats,neurons,bins")
_KNOWN_KEYS = ("bint", "data", "samples_batch_all", "spikes", "windows", "samples", "raster")


def _read_arrays(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """Read every array of a file into a dict; return it with the format name."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".mat":
            import scipy.io

            try:
                raw = scipy.io.loadmat(str(path))
            except NotImplementedError as exc:  # v7.3 = HDF5
                raise DataFileError(
                    f"{path}: this is a MATLAB v7.3 (HDF5) file, which spiqgan cannot read. Re-save it in MATLAB "
                    "with save(name, var, '-v7'), or convert it to .npz."
                ) from exc
            arrays = {k: v for k, v in raw.items() if not k.startswith("__") and isinstance(v, np.ndarray)}
            return arrays, "mat"
        if suffix == ".npy":
            with open(path, "rb") as fh:
                if fh.read(6) != b"\x93NUMPY":
                    raise DataFileError(f"{path}: not a NumPy .npy file (it lacks the .npy header); save the array "
                                        "with numpy.save, or give the file its own extension.")
            return {"array": np.load(path, allow_pickle=False)}, "npy"
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}, "npz"
    except DataFileError:
        raise
    except Exception as exc:  # a corrupt file can fail deep inside any reader
        raise DataFileError(
            f"{path}: cannot read this file as {suffix} ({type(exc).__name__}: {exc}). Check that it is a complete, "
            "uncorrupted file of that format."
        ) from exc
    raise DataFileError(f"{path}: unknown file type {suffix!r}; expected .mat, .npy, .npz or .nwb.")


def _pick_key(arrays: dict[str, np.ndarray], key: str | None, path: Path) -> str:
    if not arrays:
        raise DataFileError(f"{path}: the file holds no arrays.")
    if key is not None:
        if key not in arrays:
            raise DataFileError(f"{path}: no array named {key!r}; the file holds {sorted(arrays)}. Pass one of these as the key (--key).")
        return key
    if len(arrays) == 1:
        return next(iter(arrays))
    known = [k for k in _KNOWN_KEYS if k in arrays]
    if len(known) == 1:
        return known[0]
    raise DataFileError(f"{path}: several arrays {sorted(arrays)}; name the one with the spikes (--key NAME).")


def load_raster(
    path: str | Path | np.ndarray,
    *,
    key: str | None = None,
    repeat_length: int | None = None,
    bin_ms: float = DEFAULT_BIN_MS,
    layout: str | None = None,
    clip: bool = False,
    allow_partial_repeat: bool = False,
) -> SpikeRaster:
    """Load a binary spike raster from a ``.mat``, ``.npy``, ``.npz`` or ``.nwb`` file, or an array.

    Parameters
    ----------
    path
        The file (see the module docstring for the layouts), or an array
        already in memory: 2-D ``(bins, neurons)`` or 3-D
        ``(repeats, bins, neurons)``, as for a ``.npy`` file.
    key
        Array name inside a ``.mat`` / ``.npz`` file; inferred when the file holds
        one array, or one of the usual names (``bint``, ``data``, ...).
    repeat_length
        Bins per repeat for a 2-D raster of concatenated repeats (953 for the
        salamander recording). For a 3-D array it is the bin axis and must match.
        Without it a 2-D raster is one continuous repeat.
    bin_ms
        Bin width in ms (for spike times, the width to bin with).
    layout
        One of :data:`LAYOUTS`, to override the default for the array's dimensions.
    clip
        Count bins with spike counts above 1 as one spike instead of raising.
    allow_partial_repeat
        Accept a last repeat shorter than ``repeat_length`` (see
        :class:`~spiqgan.data.raster.SpikeRaster`); otherwise a remainder is an error.

    Returns
    -------
    SpikeRaster
    """
    if isinstance(path, np.ndarray):
        return _raster_from_array(path, "npy", "array", layout=layout, repeat_length=repeat_length, bin_ms=bin_ms,
                                  clip=clip, allow_partial=allow_partial_repeat)
    if not isinstance(path, (str, Path)):
        raise TypeError(f"expected a file path or a numpy array of spikes, got {type(path).__name__}.")
    if Path(path).suffix.lower() == ".nwb":
        given = [f"--{n}" for n, v in (("key", key), ("repeat-length", repeat_length), ("layout", layout)) if v]
        if given:
            raise DataError(f"{path}: {', '.join(given)} do not apply to an NWB file: its units, trials and epochs "
                            "tables say what they would; leave them out.")
        from spiqgan.data.nwb import load_nwb

        return load_nwb(path, bin_ms=bin_ms, clip=clip)
    return _raster_from_file(Path(path), key=key, layout=layout, repeat_length=repeat_length, bin_ms=bin_ms, clip=clip,
                             allow_partial=allow_partial_repeat)


def _raster_from_file(path: Path, *, key: str | None, **options: Any) -> SpikeRaster:
    """The raster of a file; ``options`` are :func:`_raster_from_array`'s (``layout``, ``repeat_length``, ...)."""
    contents, fmt, source = _read_spike_array(path, key)
    if fmt != "times":
        return _raster_from_array(contents, fmt, source, **options)
    spikes = bin_spike_times(
        contents["times"], contents["neurons"], bin_ms=options["bin_ms"],
        n_neurons=int(contents["n_neurons"]) if "n_neurons" in contents else None,
        duration=float(contents["duration"]) if "duration" in contents else None,
        clip=options["clip"], source=source,
    )
    return SpikeRaster(spikes, repeat_length=options["repeat_length"], bin_ms=options["bin_ms"], source=source,
                       allow_partial=options["allow_partial"])


def _read_spike_array(path: Path, key: str | None) -> tuple[Any, str, str]:
    """``(array, format, source)`` of a spike file; for an ``.npz`` of spike times ``(arrays, "times", source)``."""
    if not path.exists():
        raise DataFileError(f"{path}: no such file. Check the path.")
    if path.is_dir():
        raise DataFileError(f"{path}: is a folder; expected a .mat, .npy, .npz or .nwb file.")
    arrays, fmt = _read_arrays(path)
    if fmt == "npz" and key is None and {"times", "neurons"} <= set(arrays):
        return arrays, "times", path.name
    name = _pick_key(arrays, key, path)
    return arrays[name], fmt, (f"{path.name}:{name}" if fmt != "npy" else path.name)


def _raster_from_array(
    arr: np.ndarray, fmt: str, source: str, *, layout: str | None, repeat_length: int | None, bin_ms: float, clip: bool,
    allow_partial: bool = False,
) -> SpikeRaster:
    if arr.ndim not in (2, 3):
        raise DataFileError(
            f"{source}: expected a 2-D raster (bins, neurons) or a 3-D array of repeats, got {arr.ndim}-D with shape "
            f"{arr.shape}."
        )
    if layout is None:
        layout = "bins,neurons" if arr.ndim == 2 else ("repeats,neurons,bins" if fmt == "mat" else "repeats,bins,neurons")
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}.")
    if len(layout.split(",")) != arr.ndim:
        raise DataFileError(f"{source}: layout {layout!r} names {len(layout.split(','))} axes but the array has shape {arr.shape}.")
    # validate values before reshaping, so that error indices refer to the file's array
    arr = as_binary(arr, source=source, clip=clip)
    if layout == "neurons,bins":
        arr = arr.T
    if arr.ndim == 3:
        if layout == "repeats,neurons,bins":
            arr = arr.transpose(0, 2, 1)
        n_rep, n_bins, n_neu = arr.shape
        if repeat_length is not None and repeat_length != n_bins:
            raise DataError(
                f"{source}: the repeat length is {n_bins} bins in this {layout} array, but {repeat_length} was given; "
                "leave the repeat length out for 3-D arrays."
            )
        repeat_length = n_bins
        arr = arr.reshape(n_rep * n_bins, n_neu)
    return SpikeRaster(np.ascontiguousarray(arr), repeat_length=repeat_length, bin_ms=bin_ms, source=source,
                       allow_partial=allow_partial)


def load_samples(
    path: str | Path | np.ndarray,
    *,
    data_n_neurons: int,
    selection: str | Sequence[int] | None,
    timesteps: int,
    key: str | None = None,
    repeat_length: int | None = None,
    layout: str | None = None,
    clip: bool = False,
    allow_partial_repeat: bool = False,
    split_windows: bool = False,
) -> np.ndarray:
    """Load generated (or model, or other real) samples as windows ``(n_windows, t, n)``.

    A 3-D array of windows ``(n_windows, t, n)`` (what ``spiqgan sample``
    writes) is used as it is, whatever ``repeat_length`` says: its repeats are
    its windows. Its windows must have ``timesteps`` bins: longer ones are cut
    into pieces of ``timesteps`` bins only with ``split_windows`` (else a
    :class:`DataError` says so). A 2-D raster (such as the K-pairwise samples in a ``.mat``
    file) is cut into non-overlapping windows of ``timesteps`` bins that never
    cross a repeat of ``repeat_length`` bins (``None``: one continuous repeat).
    The neuron selection is applied when the samples have as many neurons as
    the data (``data_n_neurons``); samples that already have exactly the
    selected number of neurons are used as they are.
    """
    contents, fmt, source = (path, "npy", "samples") if isinstance(path, np.ndarray) else \
        _read_spike_array(Path(path), key)
    if fmt != "times" and contents.ndim == 3 and layout is None:
        repeat_length = None  # a file of windows: the repeat length of the recording does not apply
        if contents.shape[1] != timesteps and not split_windows:
            name = "the samples" if isinstance(path, np.ndarray) else str(path)
            raise DataError(f"{name} holds windows of t = {contents.shape[1]} bins, but {timesteps} are asked for; "
                            f"give --timesteps {contents.shape[1]}, or --split-windows to cut each window into "
                            f"pieces of {timesteps} bins.")
    options = dict(layout=layout, repeat_length=repeat_length, bin_ms=DEFAULT_BIN_MS, clip=clip,
                   allow_partial=allow_partial_repeat)
    raster = _raster_from_file(Path(path), key=key, **options) if fmt == "times" else \
        _raster_from_array(contents, fmt, source, **options)
    n_selected = int(parse_neurons(selection, data_n_neurons).size)
    if raster.n_neurons == data_n_neurons:
        raster = raster.select_neurons(selection)
    elif raster.n_neurons != n_selected:
        raise DataError(
            f"{path if not isinstance(path, np.ndarray) else 'samples'}: the samples have {raster.n_neurons} "
            f"neurons, but the data has {data_n_neurons} and {n_selected} are selected; give samples of either size."
        )
    return raster.windows(timesteps)


def load_dataset(
    path: str | Path | None = None,
    *,
    key: str | None = None,
    repeat_length: int | None = None,
    bin_ms: float = DEFAULT_BIN_MS,
    layout: str | None = None,
    clip: bool = False,
    neurons: str | Sequence[int] | None = None,
    allow_partial_repeat: bool = False,
    synthetic_neurons: int | None = None,
) -> SpikeRaster:
    """Load a raster from ``path`` (or the built-in synthetic default when ``None``) and select neurons.

    The built-in default is :func:`spiqgan.data.synthetic.retina_like` with
    :data:`spiqgan.data.synthetic.DEFAULT_SYNTHETIC` (``synthetic_neurons`` neurons instead of its 16 if
    given); the file options must then be left out.
    """
    if path is None:
        from spiqgan.data.synthetic import DEFAULT_SYNTHETIC, retina_like

        given = [name for name, v in (("key", key), ("repeat length", repeat_length), ("layout", layout)) if v is not None]
        if given:
            raise DataError(f"{' and '.join(given)} given without a data file; give the file too (--data PATH).")
        size = {} if synthetic_neurons is None else {"n_neurons": synthetic_neurons}
        raster = retina_like(**{**DEFAULT_SYNTHETIC, **size}, bin_ms=bin_ms)
    else:
        if synthetic_neurons is not None:
            raise DataError("synthetic neurons given with a data file; they size the built-in population only "
                            "(leave out --data, or --synthetic-neurons).")
        raster = load_raster(path, key=key, repeat_length=repeat_length, bin_ms=bin_ms, layout=layout, clip=clip,
                             allow_partial_repeat=allow_partial_repeat)
    return raster.select_neurons(neurons)


def read_toml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """The tables of a TOML file (a training config or a sweep), or a DataError naming the file and the problem."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such {what}.")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc}).") from exc
