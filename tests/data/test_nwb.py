"""NWB input: a units table binned into a raster, trials or epochs as repeats, obs_intervals honoured."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

pynwb = pytest.importorskip("pynwb")

from spiqgan.cli import main  # noqa: E402
from spiqgan.exceptions import DataError, DataFileError  # noqa: E402
from spiqgan.data.loaders import load_raster  # noqa: E402


def _write(path, units, trials=None, epochs=None, obs=None):
    """A small NWB file: ``units`` a list of spike-time arrays (s), ``trials``/``epochs`` (start, stop) lists."""
    f = pynwb.NWBFile(session_description="test", identifier="spiqgan-test",
                      session_start_time=datetime(2026, 1, 1, tzinfo=timezone.utc))
    for i, times in enumerate(units):
        kw = {"obs_intervals": obs[i]} if obs is not None else {}
        f.add_unit(spike_times=np.asarray(times, float), id=10 + i, **kw)
    for start, stop in trials or []:
        f.add_trial(start_time=start, stop_time=stop)
    for start, stop in epochs or []:
        f.add_epoch(start_time=start, stop_time=stop)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(f)
    return path


def test_units_binned_with_trials_as_repeats(tmp_path):
    # two trials of 0.1 s (5 bins of 20 ms) at 1.0 s and 2.0 s
    path = _write(tmp_path / "a.nwb", units=[[1.001, 1.045, 2.081, 5.0], [1.021, 2.0]],
                  trials=[(1.0, 1.1), (2.0, 2.1)])
    r = load_raster(path)
    assert (r.n_repeats, r.n_neurons, r.bin_ms) == (2, 2, 20.0)
    np.testing.assert_array_equal(r.repeat_lengths, [5, 5])
    np.testing.assert_array_equal(r.neuron_ids, [10, 11])
    expected = np.zeros((10, 2), np.uint8)
    expected[[0, 2, 9], 0] = 1       # 1.001 -> bin 0, 1.045 -> bin 2, 2.081 -> bin 4 of trial 2; 5.0 is in no trial
    expected[[1, 5], 1] = 1          # 1.021 -> bin 1, 2.0 -> bin 0 of trial 2
    np.testing.assert_array_equal(r.spikes, expected)


def test_epochs_when_there_are_no_trials_and_one_repeat_when_neither(tmp_path):
    units = [[0.005, 0.505], [0.03]]
    r = load_raster(_write(tmp_path / "e.nwb", units, epochs=[(0.0, 0.2), (0.4, 0.6)]))
    np.testing.assert_array_equal(r.repeat_lengths, [10, 10])
    assert r.spikes[0, 0] == 1 and r.spikes[15, 0] == 1 and r.spikes[1, 1] == 1
    whole = load_raster(_write(tmp_path / "w.nwb", units))
    assert whole.n_repeats == 1 and whole.spikes.sum() == 3


def test_obs_intervals_drop_unobserved_trials(tmp_path):
    units = [[0.01, 1.01], [0.03, 1.03]]
    obs = [[[0.0, 2.0]], [[0.0, 0.5]]]  # unit 1 not observed after 0.5 s: the second trial goes
    r = load_raster(_write(tmp_path / "o.nwb", units, trials=[(0.0, 0.2), (1.0, 1.2)], obs=obs))
    assert r.n_repeats == 1 and r.spikes.sum() == 2
    # without trials, the stretches every unit was observed in are the repeats
    r2 = load_raster(_write(tmp_path / "o2.nwb", units, obs=[[[0.0, 0.2], [1.0, 1.1]], [[0.0, 2.0]]]))
    np.testing.assert_array_equal(r2.repeat_lengths, [10, 5])


def test_nwb_errors(tmp_path):
    (tmp_path / "bad.nwb").write_bytes(b"not hdf5")
    with pytest.raises(DataFileError, match="cannot read this file as NWB"):
        load_raster(tmp_path / "bad.nwb")
    path = _write(tmp_path / "a.nwb", units=[[0.01]], trials=[(0.0, 0.1)])
    with pytest.raises(DataError, match="--repeat-length do not apply to an NWB file"):
        load_raster(path, repeat_length=953)
    with pytest.raises(DataError, match="spike counts above 1.*--clip"):
        load_raster(_write(tmp_path / "two.nwb", units=[[0.001, 0.002]], trials=[(0.0, 0.1)]))


def test_the_command_line_reads_nwb(tmp_path, capsys):
    rng = np.random.default_rng(0)
    units = [np.sort(rng.uniform(0, 20, 200)) for _ in range(3)]
    path = _write(tmp_path / "s.nwb", units, trials=[(2.0 * k, 2.0 * k + 1.9) for k in range(10)], )
    assert main(["evaluate", "--data", str(path), "--timesteps", "2", "--samples", "independent", "--clip"]) == 0
    assert "10 repeats" in capsys.readouterr().out


def _random_windows(seed=0, shape=(40, 5, 3)):
    return (np.random.default_rng(seed).random(shape) < 0.3).astype(np.uint8)


def test_written_windows_read_back_through_pynwb_and_spiqgan(tmp_path):
    import json

    from spiqgan.data.nwb import save_nwb

    x = _random_windows()
    path = save_nwb(tmp_path / "w.nwb", x, bin_ms=20.0, neuron_ids=[4, 7, 9], metadata={"model": "cry", "seed": 3})
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        np.testing.assert_array_equal(f.units.id[:], [4, 7, 9])
        assert len(f.trials) == 40
        np.testing.assert_allclose(f.trials["start_time"][:], np.arange(40) * 0.12)  # 5 bins and one between
        np.testing.assert_allclose(f.trials["stop_time"][:], np.arange(40) * 0.12 + 0.1)
        # neuron 1 of window 2 at step 3: a spike at the centre of bin 2 * 6 + 3 of the session
        times = np.asarray(f.units["spike_times"][1])
        assert (round(0.01 + 0.02 * 15, 12) in np.round(times, 12)) == bool(x[2, 3, 1])
        assert times.size == x[:, :, 1].sum()
        notes = json.loads(f.notes)
        assert notes["model"] == "cry" and notes["seed"] == 3 and notes["window_bins"] == 5 and notes["bin_ms"] == 20.0
    r = load_raster(path)  # spiqgan's own reader: trials as repeats
    np.testing.assert_array_equal(r.neuron_ids, [4, 7, 9])
    np.testing.assert_array_equal(r.windows(5), x)


def test_written_windows_read_back_through_pynapple(tmp_path):
    nap = pytest.importorskip("pynapple")
    from spiqgan.data.nwb import save_nwb

    x = _random_windows(1, (30, 4, 6))
    save_nwb(tmp_path / "w.nwb", x, bin_ms=20.0, neuron_ids=range(10, 16))
    data = nap.load_file(str(tmp_path / "w.nwb"))
    units, trials = data["units"], data["trials"]
    assert list(units.keys()) == list(range(10, 16)) and len(trials) == 30
    counts = units.count(0.02, ep=trials)  # binned per trial: 4 bins each
    back = np.asarray(counts.values).reshape(30, 4, 6)
    np.testing.assert_array_equal(back, x)


def test_bad_windows_are_refused_and_nothing_is_written(tmp_path):
    from spiqgan.data.nwb import save_nwb

    with pytest.raises(DataError, match=r"\(n_windows, t, n\) array of 0/1"):
        save_nwb(tmp_path / "a.nwb", np.full((2, 3, 2), 2))
    with pytest.raises(DataError, match="3 distinct integers"):
        save_nwb(tmp_path / "a.nwb", _random_windows(), neuron_ids=[1, 1, 2])
    assert list(tmp_path.iterdir()) == []


def test_spiqgan_sample_writes_nwb_with_what_drew_it(tmp_path, capsys):
    import json

    run = tmp_path / "run"
    assert main(["train", "--neurons", "0-2", "--timesteps", "2", "--steps", "5", "--out", str(run), "--no-progress",
                 "--no-figures"]) == 0
    assert main(["sample", str(run), "--windows", "300", "--seed", "4", "--out", str(tmp_path / "s.npy")]) == 0
    assert main(["sample", str(run), "--windows", "300", "--seed", "4", "--out", str(tmp_path / "s.nwb")]) == 0
    assert "wrote" in capsys.readouterr().out
    np.testing.assert_array_equal(load_raster(tmp_path / "s.nwb").windows(2), np.load(tmp_path / "s.npy"))
    with pynwb.NWBHDF5IO(str(tmp_path / "s.nwb"), "r") as io:
        notes = json.loads(io.read().notes)
    assert notes["model"] == "cry" and notes["seed"] == 4 and notes["which"] == "last" and notes["run"] == str(run)
    assert main(["sample", str(run), "--out", str(tmp_path / "s.h5")]) == 2
    assert ".npy or .nwb" in capsys.readouterr().err
