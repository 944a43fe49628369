"""Rasters, neuron selection, windowing and the train/test split."""

from __future__ import annotations

import numpy as np
import pytest

from spiqgan.data.raster import SpikeRaster, as_binary, check_windows, parse_neurons
from spiqgan.exceptions import DataError


def _raster(n_bins=7, n_neurons=2, repeat_length=4, seed=0):
    rng = np.random.default_rng(seed)
    return SpikeRaster((rng.random((n_bins, n_neurons)) < 0.5).astype(np.uint8), repeat_length=repeat_length,
                       allow_partial=True)


# ------------------------------------------------------------------ values
def test_as_binary_accepts_bool_int_float():
    for arr in (np.array([[True, False]]), np.array([[1, 0]]), np.array([[1.0, 0.0]])):
        out = as_binary(arr)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, [[1, 0]])


def test_as_binary_clips_counts_when_asked():
    np.testing.assert_array_equal(as_binary(np.array([[0, 3, 1]]), clip=True), [[0, 1, 1]])


@pytest.mark.parametrize(
    "values, match",
    [
        (np.array([[0.0, np.nan]]), "NaN or infinite"),
        (np.array([[0.0, np.inf]]), "NaN or infinite"),
        (np.array([[0.5, 1.0]]), r"non-integer values \(first 0.5 at index \(0, 0\)\)"),  # not np.float64(0.5)
        (np.array([[0, -1]]), "negative values"),
        (np.array([[0, 2, 1]]), "counts above 1 .*--clip"),
        (np.array([["a", "b"]]), "numeric array"),
        (np.zeros((0, 3)), "empty"),
    ],
)
def test_as_binary_errors(values, match):
    with pytest.raises(DataError, match=match):
        as_binary(values, source="f.mat")


# --------------------------------------------------------------- selection
@pytest.mark.parametrize(
    "selection, expected",
    [("0-3", [0, 1, 2, 3]), ("0,5,7", [0, 5, 7]), ("0-2, 8", [0, 1, 2, 8]), ("9", [9]), ([3, 1], [3, 1]), (None, list(range(10)))],
)
def test_parse_neurons(selection, expected):
    np.testing.assert_array_equal(parse_neurons(selection, 10), expected)


@pytest.mark.parametrize(
    "selection, match",
    [
        ("", "cannot read ''"),
        ("a-b", "cannot read 'a-b'"),
        ("3-1", "range 3-1 is empty"),
        ("0-10", "neuron index 10 is out of range: the data has 10 neurons"),
        ([-1], "neuron index -1 is out of range"),
        ("1,1", "selected twice"),
        ([], "selection is empty"),
    ],
)
def test_parse_neurons_errors(selection, match):
    with pytest.raises(DataError, match=match):
        parse_neurons(selection, 10)


def test_select_neurons_keeps_ids_and_order():
    r = _raster(n_neurons=5).select_neurons("4,1")
    np.testing.assert_array_equal(r.neuron_ids, [4, 1])
    np.testing.assert_array_equal(r.spikes, _raster(n_neurons=5).spikes[:, [4, 1]])


# ----------------------------------------------------------------- repeats
def test_repeats_with_short_last_repeat():
    r = _raster(n_bins=7, repeat_length=4)
    assert r.n_repeats == 2
    np.testing.assert_array_equal(r.repeat_lengths, [4, 3])


def test_split_holds_out_last_third_of_repeats():
    r = SpikeRaster(np.zeros((297 * 3, 1), np.uint8), repeat_length=3)
    train, test = r.split()
    assert (train.n_repeats, test.n_repeats) == (198, 99)
    r2 = SpikeRaster(np.arange(12).reshape(-1, 1) % 2, repeat_length=2)  # 6 repeats
    train, test = r2.split(0.5)
    np.testing.assert_array_equal(test.spikes, r2.spikes[6:])
    np.testing.assert_array_equal(train.spikes, r2.spikes[:6])


def test_blocked_folds_hold_out_each_block_once():
    rng = np.random.default_rng(0)
    r = SpikeRaster((rng.random((3 * 10, 2)) < 0.5).astype(np.uint8), repeat_length=3)  # 10 repeats
    held = []
    for k in range(3):
        train, test = r.fold(k, 3)
        assert train.n_repeats + test.n_repeats == 10
        held.append(test.spikes)
    np.testing.assert_array_equal(np.concatenate(held), r.spikes)  # blocks of 4, 3, 3 repeats, in order
    assert [h.shape[0] // 3 for h in held] == [4, 3, 3]
    train, test = r.fold(1, 3)
    np.testing.assert_array_equal(train.spikes, np.concatenate([r.spikes[:12], r.spikes[21:]]))
    r297 = SpikeRaster(np.zeros((297 * 2, 1), np.uint8), repeat_length=2)
    assert r297.fold(2, 3)[1].spikes.shape == r297.split()[1].spikes.shape  # the default split's repeats


@pytest.mark.parametrize("k, n, match", [(3, 3, "fold must be an integer in 0 .. 2"), (0, 1, "at least 2"),
                                         (0, 11, "10 repeats cannot make 11 folds")])
def test_bad_folds_are_one_clear_error(k, n, match):
    r = SpikeRaster(np.zeros((3 * 10, 2), np.uint8), repeat_length=3)
    with pytest.raises(DataError, match=match):
        r.fold(k, n)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: SpikeRaster(np.zeros(5)), "expected a 2-D raster"),
        (lambda: SpikeRaster(np.zeros((5, 2)), repeat_length=0), "repeat length must be a positive integer"),
        (lambda: SpikeRaster(np.zeros((5, 2)), bin_ms=-1), "bin width"),
        (lambda: SpikeRaster(np.zeros((5, 2))).split(), "one repeat only.*--repeat-length"),
        (lambda: _raster().split(1.0), "strictly between 0 and 1"),
        (lambda: _raster().windows(5), "windows of 5 bins are longer than a repeat \\(4 bins\\)"),
        (lambda: _raster().windows(0), "timesteps must be a positive integer"),
        (lambda: _raster().windows(2, stride=0), "stride must be a positive integer"),
        (lambda: _raster().select_neurons("0-5"), "out of range"),
    ],
)
def test_raster_errors(call, match):
    with pytest.raises(DataError, match=match):
        call()


# ----------------------------------------------------------------- windows
def test_windows_by_hand():
    spikes = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [1, 1], [0, 1]], np.uint8)
    r = SpikeRaster(spikes, repeat_length=4, allow_partial=True)  # repeats: bins 0-3 and 4-6
    w, reps = r.windows(2, return_repeats=True)
    # non-overlapping: repeat 0 -> starts 0, 2; repeat 1 (3 bins) -> start 0 only
    np.testing.assert_array_equal(w, [spikes[0:2], spikes[2:4], spikes[4:6]])
    np.testing.assert_array_equal(reps, [0, 0, 1])
    w1 = r.windows(2, stride=1)
    # sliding: starts 0, 1, 2 in repeat 0 and 4, 5 in repeat 1 -- never 3 (it would cross)
    np.testing.assert_array_equal(w1, [spikes[0:2], spikes[1:3], spikes[2:4], spikes[4:6], spikes[5:7]])
    assert w.dtype == np.uint8 and w.shape == (3, 2, 2)
    w2, reps2, starts = r.windows(2, stride=1, return_repeats=True, return_starts=True)
    np.testing.assert_array_equal(w2, w1)
    np.testing.assert_array_equal(reps2, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(starts, [0, 1, 2, 0, 1])  # the bin of its repeat where each window starts
    np.testing.assert_array_equal(r.windows(2, return_starts=True)[1], [0, 2, 0])


def test_windows_never_cross_repeats():
    rng = np.random.default_rng(5)
    r = SpikeRaster((rng.random((50, 3)) < 0.5).astype(np.uint8), repeat_length=7, allow_partial=True)
    w, reps = r.windows(3, stride=2, return_repeats=True)
    starts_seen = {}
    for win, rep in zip(w, reps):
        seg = r.spikes[r.boundaries[rep]: r.boundaries[rep + 1]]
        k = starts_seen.get(rep, 0)
        np.testing.assert_array_equal(win, seg[2 * k: 2 * k + 3])
        starts_seen[rep] = k + 1
    # 7 full repeats x starts 0, 2, 4; the 1-bin tail repeat gives none
    assert sum(starts_seen.values()) == len(w) == 21


@pytest.mark.parametrize(
    "windows, min_windows, match",
    [
        (np.zeros((4, 2)), 1, "expected a 3-D array"),
        (np.zeros((4, 2, 2)), 32, "4 windows, but at least 32 are needed"),
        (np.full((4, 2, 2), 2), 1, "counts above 1"),
    ],
)
def test_check_windows_errors(windows, min_windows, match):
    with pytest.raises(DataError, match=match):
        check_windows(windows, min_windows=min_windows)
