"""Loading spike data from .mat, .npy, .npz and spike times; every bad-input case."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from spiqgan.exceptions import DataError, DataFileError
from spiqgan.data.loaders import bin_spike_times, load_dataset, load_raster, load_samples


@pytest.fixture
def raster2d():
    rng = np.random.default_rng(0)
    return (rng.random((30, 4)) < 0.3).astype(np.uint8)  # 3 repeats of 10 bins


def test_mat_2d_with_repeat_length(tmp_path, raster2d):
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"data": raster2d})
    r = load_raster(path, repeat_length=10)
    np.testing.assert_array_equal(r.spikes, raster2d)
    assert (r.n_repeats, r.n_neurons, r.bin_ms) == (3, 4, 20.0)


def test_mat_bint_layout_repeats_neurons_bins(tmp_path):
    rng = np.random.default_rng(1)
    bint = (rng.random((3, 5, 7)) < 0.3).astype(np.uint8)  # (repeats, neurons, bins), as the 2017 release
    path = tmp_path / "bint_fishmovie32_100.mat"
    scipy.io.savemat(path, {"bint": bint})
    r = load_raster(path)
    assert (r.n_repeats, r.n_bins, r.n_neurons) == (3, 21, 5)
    for rep in range(3):
        np.testing.assert_array_equal(r.spikes[rep * 7: rep * 7 + 7], bint[rep].T)
    # windows of a repeat are the release's bins in order
    np.testing.assert_array_equal(r.windows(7)[2], bint[2].T)


def test_npy_2d_and_3d(tmp_path, raster2d):
    np.save(tmp_path / "r.npy", raster2d)
    assert load_raster(tmp_path / "r.npy", repeat_length=10).n_repeats == 3
    windows = raster2d.reshape(3, 10, 4)
    np.save(tmp_path / "w.npy", windows)  # (repeats, bins, neurons) == windows (n_windows, t, n)
    r = load_raster(tmp_path / "w.npy")
    np.testing.assert_array_equal(r.windows(10), windows)


def test_npz_key_and_layout_override(tmp_path, raster2d):
    np.savez(tmp_path / "r.npz", spikes=raster2d.T, other=np.zeros(3))
    r = load_raster(tmp_path / "r.npz", key="spikes", layout="neurons,bins", repeat_length=10)
    np.testing.assert_array_equal(r.spikes, raster2d)


def test_npz_known_key_is_inferred(tmp_path, raster2d):
    np.savez(tmp_path / "r.npz", spikes=raster2d, labels=np.arange(3))
    np.testing.assert_array_equal(load_raster(tmp_path / "r.npz").spikes, raster2d)


def test_bin_spike_times_by_hand():
    # 20 ms bins: 0.005 s -> bin 0, 0.021 -> bin 1, 0.039 -> bin 1, 0.061 -> bin 3
    raster = bin_spike_times([0.005, 0.021, 0.061, 0.039], [0, 1, 0, 2], bin_ms=20, duration=0.1)
    expected = np.zeros((5, 3), np.uint8)
    expected[0, 0] = expected[1, 1] = expected[3, 0] = expected[1, 2] = 1
    np.testing.assert_array_equal(raster, expected)


def test_spike_times_npz(tmp_path):
    np.savez(tmp_path / "st.npz", times=np.array([0.001, 0.05, 0.41]), neurons=np.array([0, 1, 1]), duration=0.6)
    r = load_raster(tmp_path / "st.npz", repeat_length=10)
    assert (r.n_bins, r.n_neurons, r.n_repeats) == (30, 2, 3)
    np.testing.assert_array_equal(np.flatnonzero(r.spikes[:, 1]), [2, 20])


def test_spike_times_counts_need_clip():
    with pytest.raises(DataError, match="counts above 1"):
        bin_spike_times([0.001, 0.002], [0, 0], bin_ms=20)
    np.testing.assert_array_equal(bin_spike_times([0.001, 0.002], [0, 0], bin_ms=20, clip=True), [[1]])


def test_clip_for_count_rasters(tmp_path):
    np.save(tmp_path / "c.npy", np.array([[0, 2], [1, 0]]))
    with pytest.raises(DataError, match="c.npy: 1 bins hold spike counts above 1 .*--clip"):
        load_raster(tmp_path / "c.npy")
    np.testing.assert_array_equal(load_raster(tmp_path / "c.npy", clip=True).spikes, [[0, 1], [1, 0]])


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif name.endswith(".mat"):
        scipy.io.savemat(path, content)
    elif name.endswith(".npz"):
        np.savez(path, **content)
    else:
        np.save(path, content)
    return path


@pytest.mark.parametrize(
    "name, content, kwargs, error, match",
    [
        ("a.mat", {"data": np.ones((4, 2))}, {"key": "bint"}, DataFileError, "no array named 'bint'; the file holds \\['data'\\]"),
        ("a.mat", {"x": np.ones((4, 2)), "y": np.ones((4, 2))}, {}, DataFileError, r"several arrays .* \(--key NAME\)"),
        ("a.mat", b"not a mat file at all", {}, DataFileError, "cannot read this file as .mat"),
        ("a.npy", b"\x93NUMPY garbage", {}, DataFileError, "cannot read this file as .npy"),
        ("a.npz", b"PK\x03\x04 truncated", {}, DataFileError, "cannot read this file as .npz"),
        ("a.csv", b"0,1\n1,0\n", {}, DataFileError, "unknown file type '.csv'"),
        ("a.npy", np.ones(5), {}, DataFileError, "got 1-D"),
        ("a.npy", np.ones((2, 2, 2, 2)), {}, DataFileError, "got 4-D"),
        ("a.npy", np.array([[0.0, np.nan]]), {}, DataError, "a.npy: 1 NaN"),
        ("a.npy", np.array([[0, 0.5]]), {}, DataError, "non-integer"),
        ("a.npy", np.ones((2, 3, 4)), {"repeat_length": 5}, DataError, "repeat length is 3 bins .* but 5 was given"),
        ("a.npy", np.ones((3, 4)), {"layout": "repeats,bins,neurons"}, DataFileError, "names 3 axes"),
        ("a.npy", np.ones((3, 4)), {"layout": "time,cells"}, DataError, "unknown layout"),
        ("a.npy", np.zeros((0, 4)), {}, DataError, "empty"),
        ("a.npz", {"times": np.array([0.1, -0.1]), "neurons": np.array([0, 1])}, {}, DataError, "negative spike time"),
        ("a.npz", {"times": np.array([0.1]), "neurons": np.array([0, 1])}, {}, DataError, "1 spike times but 2 neuron"),
    ],
)
def test_load_errors(tmp_path, name, content, kwargs, error, match):
    path = _write(tmp_path, name, content)
    with pytest.raises(error, match=match):
        load_raster(path, **kwargs)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        load_raster(tmp_path / "nope.mat")
    with pytest.raises(DataFileError, match="is a folder"):
        load_raster(tmp_path)


def test_load_samples_selects_neurons_when_sizes_match_the_data(tmp_path, raster2d):
    np.save(tmp_path / "s.npy", raster2d)  # 4 neurons, like the data
    w = load_samples(tmp_path / "s.npy", data_n_neurons=4, selection="1,3", timesteps=5)
    np.testing.assert_array_equal(w, raster2d[:, [1, 3]].reshape(6, 5, 2))
    np.save(tmp_path / "g.npy", raster2d[:, :2].reshape(6, 5, 2))  # already the 2 selected neurons
    w = load_samples(tmp_path / "g.npy", data_n_neurons=4, selection="1,3", timesteps=5)
    assert w.shape == (6, 5, 2)
    with pytest.raises(DataError, match="samples have 3 neurons, but the data has 4 and 2 are selected"):
        np.save(tmp_path / "h.npy", raster2d[:, :3])
        load_samples(tmp_path / "h.npy", data_n_neurons=4, selection="1,3", timesteps=5)


def test_load_dataset_default_is_synthetic_and_rejects_file_options():
    r = load_dataset(neurons="0-3")
    assert r.source == "synthetic" and r.n_neurons == 4
    with pytest.raises(DataError, match="repeat length given without a data file"):
        load_dataset(repeat_length=953)


def test_shared_recording(recording_path):
    r = load_raster(recording_path, repeat_length=953)
    assert (r.n_bins, r.n_neurons, r.n_repeats) == (283041, 40, 297)
    assert r.spikes.mean() == pytest.approx(0.0403, abs=5e-4)
    train, test = r.split()
    assert (train.n_repeats, test.n_repeats) == (198, 99)
    assert test.windows(10).shape == (99 * 95, 10, 40)


def test_shared_k_pairwise_samples_have_a_short_last_repeat(k_pairwise_path):
    with pytest.raises(DataError, match="283032 bins is not a multiple of the repeat length 953.*--allow-partial-repeat"):
        load_raster(k_pairwise_path, repeat_length=953)
    r = load_raster(k_pairwise_path, repeat_length=953, allow_partial_repeat=True)
    assert r.n_repeats == 297 and r.repeat_lengths[-1] == 283032 - 296 * 953


def test_wrong_repeat_length_is_an_error(recording_path):
    # 1000 instead of 953 used to give 284 misaligned repeats silently
    with pytest.raises(DataError, match="283041 bins is not a multiple of the repeat length 1000"):
        load_raster(recording_path, repeat_length=1000)


def test_load_raster_takes_an_array():
    arr = (np.random.default_rng(0).random((12, 3)) < 0.3).astype(np.uint8)
    r = load_raster(arr, repeat_length=4)
    assert (r.n_repeats, r.n_neurons) == (3, 3)
    np.testing.assert_array_equal(r.spikes, arr)
    r3 = load_raster(arr.reshape(3, 4, 3))  # repeats, bins, neurons
    np.testing.assert_array_equal(r3.boundaries, [0, 4, 8, 12])
    with pytest.raises(TypeError, match="expected a file path or a numpy array"):
        load_raster([[0, 1]])


def test_samples_of_windows_ignore_the_recording_repeat_length(tmp_path):
    # spiqgan sample writes (n_windows, t, n); the data's repeat length (953) must not be applied to it
    windows = (np.random.default_rng(1).random((20, 5, 4)) < 0.3).astype(np.uint8)
    np.save(tmp_path / "s.npy", windows)
    w = load_samples(tmp_path / "s.npy", data_n_neurons=4, selection=None, timesteps=5, repeat_length=953)
    np.testing.assert_array_equal(w, windows)
