"""Spike rasters, neuron selection, windows and the train/test split.

Layout used everywhere in spiqgan
---------------------------------
* A **raster** is a binary array ``spikes: (n_bins, n_neurons)`` of dtype
  ``uint8`` (1 = at least one spike in that bin). Recordings made of repeated
  trials (the salamander retina watched the same movie 297 times) are stored
  repeat after repeat; ``boundaries: (n_repeats + 1,)`` holds the first bin of
  each repeat and, last, ``n_bins``. Repeats need not all have the same length
  (a file whose length is not a multiple of the repeat length ends with a
  shorter repeat).
* A **window** is ``t`` consecutive bins of one repeat for the selected
  neurons; a batch of windows is ``windows: (n_windows, t, n_neurons)``, uint8.
  No window crosses a repeat boundary.

Tiling
------
:meth:`SpikeRaster.windows` cuts non-overlapping windows by default
(``stride = t``): consecutive windows are then as close to independent as the
data allow, and every bin is used at most once. ``stride < t`` gives sliding
windows (more, overlapping, correlated windows). Within each repeat the
windows start at bins ``0, stride, 2 * stride, ...`` while they fit; the last
``(length - t) % stride`` bins of a repeat are not used. A repeat shorter than
``t`` gives no window.

Train/test split
----------------
:meth:`SpikeRaster.split` holds out whole repeats: by default the **last
third** of the repeats (``round(n_repeats / 3)``, at least one) is the test
set, the rest the training set. For the salamander recording that is repeats
0-197 for training and 198-296 held out. Splitting by repeats keeps windows of
the same stimulus time in both sets while no bin is shared.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from spiqgan.exceptions import DataError

__all__ = [
    "SpikeRaster",
    "as_binary",
    "parse_neurons",
    "check_windows",
    "DEFAULT_BIN_MS",
    "DEFAULT_TEST_FRACTION",
]

log = logging.getLogger(__name__)

DEFAULT_BIN_MS = 20.0
DEFAULT_TEST_FRACTION = 1.0 / 3.0


def as_binary(values: np.ndarray, *, source: str = "array", clip: bool = False) -> np.ndarray:
    """Check that ``values`` are spike indicators and return them as ``uint8``.

    Parameters
    ----------
    values
        Any numeric array of 0/1 (bool, integer or float).
    source
        Where the values came from, for the error message (e.g. a file name).
    clip
        Spike *counts* (non-negative integers, some above 1) are an error
        unless ``clip`` is true; then every count >= 1 becomes 1.

    Raises
    ------
    DataError
        Non-numeric dtype, NaN or infinite values, negative or fractional
        values, counts above 1 without ``clip``, or an empty array.
    """
    arr = np.asarray(values)
    if arr.size == 0:
        raise DataError(f"{source}: the spike array is empty (shape {arr.shape}); expected at least one bin and one neuron.")
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise DataError(
            f"{source}: expected a numeric array of 0/1 spike indicators, got dtype {arr.dtype}. "
            "Convert it to integers (0 = no spike, 1 = spike) first."
        )
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"{source}: {int(bad.sum())} NaN or infinite values (first at index {first}); "
                "expected 0/1 spike indicators. Remove or fill the missing bins before loading."
            )
        frac = arr != np.round(arr)
        if frac.any():
            first = tuple(int(i) for i in np.argwhere(frac)[0])
            raise DataError(
                f"{source}: {int(frac.sum())} non-integer values (first {arr[first].item()!r} at index {first}); "
                "expected 0/1 spike indicators, not rates or probabilities. Threshold or sample them first."
            )
    lo = arr.min()
    if lo < 0:
        raise DataError(f"{source}: negative values (minimum {lo}); expected 0/1 spike indicators.")
    hi = arr.max()
    if hi > 1:
        n_over = int((arr > 1).sum())
        if not clip:
            raise DataError(
                f"{source}: {n_over} bins hold spike counts above 1 (maximum {int(hi)}); spiqgan models binary "
                "spike patterns. Pass clip=True (command line: --clip) to count any number of spikes in a bin "
                "as one spike, or use a smaller bin width."
            )
        log.info("%s: clipped %d bins with counts above 1 to 1", source, n_over)
        arr = np.minimum(arr, 1)
    return arr.astype(np.uint8)


_NEURON_TOKEN = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_neurons(selection: str | Sequence[int] | None, n_neurons: int) -> np.ndarray:
    """Turn a neuron selection into an array of column indices.

    Parameters
    ----------
    selection
        ``None`` (all neurons), a string of indices and inclusive ranges such as
        ``"0-3"``, ``"0,5,7"`` or ``"0-3,8"``, or a sequence of integers.
        Indices are 0-based columns of the raster, in the order given.
    n_neurons
        Number of neurons in the raster, to check the range.

    Returns
    -------
    np.ndarray
        ``(n_selected,)`` int64 indices.
    """
    if selection is None:
        return np.arange(n_neurons, dtype=np.int64)
    if isinstance(selection, str):
        indices: list[int] = []
        for token in selection.split(","):
            match = _NEURON_TOKEN.match(token)
            if match is None:
                raise DataError(
                    f"neuron selection {selection!r}: cannot read {token.strip()!r}; "
                    "expected indices and ranges such as '0-3', '0,5,7' or '0-3,8'."
                )
            start = int(match.group(1))
            stop = int(match.group(2)) if match.group(2) is not None else start
            if stop < start:
                raise DataError(f"neuron selection {selection!r}: range {start}-{stop} is empty; write it as {stop}-{start}.")
            indices.extend(range(start, stop + 1))
    else:
        try:
            indices = [int(i) for i in selection]
        except (TypeError, ValueError) as exc:
            raise DataError(f"neuron selection {selection!r}: expected integers, a string like '0-3', or None.") from exc
    if not indices:
        raise DataError("the neuron selection is empty; select at least one neuron, e.g. '0-3'.")
    arr = np.asarray(indices, dtype=np.int64)
    out = arr[(arr < 0) | (arr >= n_neurons)]
    if out.size:
        raise DataError(
            f"neuron index {int(out[0])} is out of range: the data has {n_neurons} neurons "
            f"(valid indices 0-{n_neurons - 1})."
        )
    uniq, counts = np.unique(arr, return_counts=True)
    if (counts > 1).any():
        raise DataError(f"neuron {int(uniq[counts > 1][0])} is selected twice; select each neuron once.")
    return arr


def check_windows(windows: np.ndarray, *, min_windows: int = 1, what: str = "windows") -> np.ndarray:
    """Validate a batch of windows ``(n_windows, t, n_neurons)`` and return it as C-contiguous uint8.

    Raises :class:`DataError` for the wrong number of dimensions, values other
    than 0/1, or fewer than ``min_windows`` windows (e.g. fewer than a batch).
    Any memory layout is taken (``scipy.io.loadmat`` gives Fortran order); the
    result is C-ordered, as the models' reshapes and torch views expect.
    """
    arr = np.asarray(windows)
    if arr.ndim != 3:
        raise DataError(
            f"{what}: expected a 3-D array (n_windows, n_timesteps, n_neurons), got {arr.ndim}-D with shape {arr.shape}."
        )
    if arr.shape[0] < min_windows:
        raise DataError(
            f"{what}: {arr.shape[0]} windows, but at least {min_windows} are needed; use more data, "
            "fewer time steps per window, a smaller stride, or a smaller batch."
        )
    return np.ascontiguousarray(as_binary(arr, source=what))


@dataclass(frozen=True)
class SpikeRaster:
    """A binary spike raster made of repeats (trials) of a recording.

    Parameters
    ----------
    spikes
        ``(n_bins, n_neurons)`` 0/1 array, repeats concatenated in time.
    repeat_length
        Bins per repeat. ``None``: one continuous repeat. ``n_bins`` must be a
        multiple of it: a remainder usually means a wrong repeat length, which
        would misalign every repeat and the held-out split.
    allow_partial
        Accept a last repeat shorter than ``repeat_length`` (kept as it is). The
        one legitimate case we know is a file of model samples whose length is
        not a whole number of repeats, such as the published K-pairwise samples
        (283032 rows, 953-bin repeats).
    bin_ms
        Bin width in milliseconds.
    neuron_ids
        Original index of each column (defaults to ``0..n_neurons-1``).
    source
        Where the data came from, for messages and reports.
    clip
        Clip spike counts above 1 to 1 instead of raising.
    """

    spikes: np.ndarray
    repeat_length: int | None = None
    bin_ms: float = DEFAULT_BIN_MS
    neuron_ids: np.ndarray | None = None
    source: str = "array"
    boundaries: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    clip: bool = field(default=False, repr=False)
    allow_partial: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        spikes = np.asarray(self.spikes)
        if spikes.ndim != 2:
            raise DataError(
                f"{self.source}: expected a 2-D raster (n_bins, n_neurons), got {spikes.ndim}-D with shape {spikes.shape}."
            )
        spikes = as_binary(spikes, source=self.source, clip=self.clip)
        n_bins, n_neurons = spikes.shape
        if not (isinstance(self.bin_ms, (int, float)) and np.isfinite(self.bin_ms) and self.bin_ms > 0):
            raise DataError(f"bin width must be a positive number of milliseconds, got {self.bin_ms!r}.")
        if self.boundaries is None:
            length = n_bins if self.repeat_length is None else _positive_int(self.repeat_length, "repeat length")
            boundaries = np.append(np.arange(0, n_bins, length), n_bins).astype(np.int64)
            if n_bins % length and not self.allow_partial:
                raise DataError(
                    f"{self.source}: {n_bins} bins is not a multiple of the repeat length {length} "
                    f"({n_bins // length} repeats and {n_bins % length} bins left over), so the repeats would be "
                    "misaligned. Check the repeat length (953 for the salamander recording); if a shorter last "
                    "repeat is intended, as in a file of model samples, allow it (--allow-partial-repeat, "
                    "allow_partial_repeat=True)."
                )
            if n_bins % length:
                log.info(
                    "%s: %d bins is not a multiple of the repeat length %d; the last repeat has %d bins",
                    self.source, n_bins, length, n_bins % length,
                )
        else:
            boundaries = np.asarray(self.boundaries, dtype=np.int64)
            if boundaries[0] != 0 or boundaries[-1] != n_bins or (np.diff(boundaries) <= 0).any():
                raise DataError(f"{self.source}: repeat boundaries must rise strictly from 0 to {n_bins}.")
        ids = np.arange(n_neurons) if self.neuron_ids is None else np.asarray(self.neuron_ids, dtype=np.int64)
        if ids.shape != (n_neurons,):
            raise DataError(f"{self.source}: {ids.size} neuron ids for {n_neurons} neurons.")
        spikes.setflags(write=False)
        object.__setattr__(self, "spikes", spikes)
        object.__setattr__(self, "boundaries", boundaries)
        object.__setattr__(self, "neuron_ids", ids)
        object.__setattr__(self, "bin_ms", float(self.bin_ms))

    # ----------------------------------------------------------------- shape
    @property
    def n_bins(self) -> int:
        return int(self.spikes.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.spikes.shape[1])

    @property
    def n_repeats(self) -> int:
        return int(self.boundaries.size - 1)

    @property
    def repeat_lengths(self) -> np.ndarray:
        """``(n_repeats,)`` bins in each repeat."""
        return np.diff(self.boundaries)

    def __repr__(self) -> str:
        lengths = np.unique(self.repeat_lengths)
        rl = str(int(lengths[0])) if lengths.size == 1 else f"{int(lengths.min())}-{int(lengths.max())}"
        return (
            f"SpikeRaster({self.source!r}: {self.n_repeats} repeats x {rl} bins, {self.n_neurons} neurons, "
            f"{self.bin_ms:g} ms bins)"
        )

    # ------------------------------------------------------------- selection
    def select_neurons(self, selection: str | Sequence[int] | None) -> "SpikeRaster":
        """Keep the given neurons (see :func:`parse_neurons`), in the order given."""
        idx = parse_neurons(selection, self.n_neurons)
        return SpikeRaster(
            self.spikes[:, idx], bin_ms=self.bin_ms, neuron_ids=self.neuron_ids[idx],
            source=self.source, boundaries=self.boundaries,
        )

    def select_repeats(self, repeats: Sequence[int] | np.ndarray) -> "SpikeRaster":
        """Keep the given repeats (indices into ``0..n_repeats-1``), in the order given."""
        reps = np.asarray(repeats, dtype=np.int64).reshape(-1)
        if reps.size == 0:
            raise DataError(f"{self.source}: no repeats selected.")
        if reps.min() < 0 or reps.max() >= self.n_repeats:
            raise DataError(f"{self.source}: repeat index out of range 0-{self.n_repeats - 1}.")
        pieces = [self.spikes[self.boundaries[r]: self.boundaries[r + 1]] for r in reps]
        lengths = np.array([p.shape[0] for p in pieces], dtype=np.int64)
        return SpikeRaster(
            np.concatenate(pieces, axis=0), bin_ms=self.bin_ms, neuron_ids=self.neuron_ids,
            source=self.source, boundaries=np.concatenate([[0], np.cumsum(lengths)]),
        )

    def split(self, test_fraction: float = DEFAULT_TEST_FRACTION) -> tuple["SpikeRaster", "SpikeRaster"]:
        """Split by whole repeats into ``(train, test)``; the test set is the last repeats.

        ``n_test = max(1, round(n_repeats * test_fraction))``; the default holds
        out the last third.
        """
        if not (0.0 < test_fraction < 1.0):
            raise DataError(f"test fraction must lie strictly between 0 and 1, got {test_fraction!r}.")
        if self.n_repeats < 2:
            raise DataError(
                f"{self.source}: one repeat only, so it cannot be split by repeats into train and test sets. "
                "Give the repeat length (--repeat-length BINS); for a continuous recording, a block length "
                "cuts it into blocks that play the role of repeats."
            )
        n_test = min(self.n_repeats - 1, max(1, int(round(self.n_repeats * test_fraction))))
        n_train = self.n_repeats - n_test
        return self.select_repeats(np.arange(n_train)), self.select_repeats(np.arange(n_train, self.n_repeats))

    def fold(self, k: int, n_folds: int) -> tuple["SpikeRaster", "SpikeRaster"]:
        """Blocked cross-validation: ``(train, test)`` with block ``k`` of ``n_folds`` contiguous blocks of repeats
        held out (``k = 0 .. n_folds - 1``; block sizes differ by at most one repeat).

        The recording drifts over its repeats, so one split into the first and last repeats mixes drift into
        every verdict; judging on each block in turn shows how much. With ``n_folds = 3`` the last fold holds
        out the same repeats as :meth:`split`'s default when the repeats divide by 3.
        """
        if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
            raise DataError(f"n_folds must be an integer of at least 2, got {n_folds!r}.")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < n_folds:
            raise DataError(f"fold must be an integer in 0 .. {n_folds - 1}, got {k!r}.")
        if self.n_repeats < n_folds:
            raise DataError(f"{self.source}: {self.n_repeats} repeats cannot make {n_folds} folds; use fewer folds.")
        blocks = np.array_split(np.arange(self.n_repeats), n_folds)
        test = blocks[int(k)]
        train = np.concatenate([b for i, b in enumerate(blocks) if i != int(k)])
        return self.select_repeats(train), self.select_repeats(test)

    # --------------------------------------------------------------- windows
    def windows(
        self, timesteps: int, stride: int | None = None, *, return_repeats: bool = False, return_starts: bool = False
    ) -> np.ndarray | tuple[np.ndarray, ...]:
        """Cut windows of ``timesteps`` bins that never cross a repeat boundary.

        Parameters
        ----------
        timesteps
            Bins per window, ``t``.
        stride
            Bins between window starts; default ``t`` (non-overlapping).
        return_repeats
            Also return the repeat index of each window.
        return_starts
            Also return the bin of its repeat at which each window starts (its time in the stimulus,
            what a stimulus-locked model is fitted with).

        Returns
        -------
        windows : np.ndarray
            ``(n_windows, t, n_neurons)`` uint8, repeat by repeat in order.
        repeats : np.ndarray
            ``(n_windows,)`` repeat index of each window (only if asked).
        starts : np.ndarray
            ``(n_windows,)`` start bin of each window in its repeat (only if asked; after ``repeats``).
        """
        t = _positive_int(timesteps, "timesteps")
        step = t if stride is None else _positive_int(stride, "stride")
        longest = int(self.repeat_lengths.max())
        if t > longest:
            raise DataError(
                f"{self.source}: windows of {t} bins are longer than a repeat ({longest} bins); "
                "choose fewer time steps or give the right --repeat-length."
            )
        chunks, reps, starts = [], [], []
        for r in range(self.n_repeats):
            seg = self.spikes[self.boundaries[r]: self.boundaries[r + 1]]
            if seg.shape[0] < t:
                continue
            view = np.lib.stride_tricks.sliding_window_view(seg, t, axis=0)[::step]  # (k, n, t)
            chunks.append(view.transpose(0, 2, 1))
            reps.append(np.full(view.shape[0], r, dtype=np.int64))
            starts.append(np.arange(view.shape[0], dtype=np.int64) * step)
        windows = np.ascontiguousarray(np.concatenate(chunks, axis=0), dtype=np.uint8)
        out = (windows,) + ((np.concatenate(reps),) if return_repeats else ()) + \
            ((np.concatenate(starts),) if return_starts else ())
        return out if len(out) > 1 else windows


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
