"""Readout mitigation on the pattern distribution: exact inversion, the nearest distribution, calibration, the option."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spiqgan.cli import main
from spiqgan.exceptions import ConfigError
from spiqgan.hardware.mitigation import mitigated_distribution, nearest_distribution, readout_confusion, unconfuse


def _simplex_projection(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the probability simplex by Duchi et al. (2008), an independent reference."""
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1
    rho = np.flatnonzero(u - cumulative / np.arange(1, len(v) + 1) > 0)[-1]
    return np.maximum(v - cumulative[rho] / (rho + 1), 0)


def test_the_nearest_distribution_is_the_euclidean_projection_onto_the_simplex():
    rng = np.random.default_rng(0)
    for size in (2, 5, 64, 1000):
        for _ in range(20):
            q = rng.normal(size=size) * rng.choice([0.01, 0.3, 1.0])
            q += (1 - q.sum()) / size  # quasi-probabilities: sum 1, some negative
            np.testing.assert_allclose(nearest_distribution(q), _simplex_projection(q), atol=1e-12)
    p = rng.dirichlet(np.ones(16))
    np.testing.assert_allclose(nearest_distribution(p), p, atol=1e-15)  # a distribution is its own nearest


def _confusion_matrix(errors: np.ndarray) -> np.ndarray:
    """The full 2^d x 2^d readout matrix, pattern by pattern (bit 0 the highest): independent of unconfuse."""
    d = len(errors)
    patterns = np.array(list(itertools.product((0, 1), repeat=d)))
    m = np.ones((2 ** d, 2 ** d))
    for k in range(d):
        e01, e10 = errors[k]
        flip = np.where(patterns[None, :, k] == 0, np.where(patterns[:, None, k] == 1, e01, 1 - e01),
                        np.where(patterns[:, None, k] == 0, e10, 1 - e10))
        m *= flip  # m[read, true]
    return m


def test_unconfusing_the_expected_readout_recovers_the_true_distribution():
    rng = np.random.default_rng(1)
    d = 5
    errors = rng.uniform(0.005, 0.1, size=(d, 2))
    p = rng.dirichlet(np.ones(2 ** d) * 0.3)
    read = _confusion_matrix(errors) @ p
    assert abs(read.sum() - 1) < 1e-12 and np.abs(read - p).sum() > 0.05
    np.testing.assert_allclose(unconfuse(read, errors), p, atol=1e-13)


def test_mitigation_undoes_sampled_readout_errors():
    """20,000 windows of a (2, 3) distribution read through 5 % readout error: the total variation from the true
    distribution falls from about 0.1 to the sampling error's level."""
    rng = np.random.default_rng(2)
    t, n = 3, 2
    p = rng.dirichlet(np.ones(2 ** (t * n)) * 0.5)
    codes = rng.choice(p.size, size=20000, p=p)
    true = ((codes[:, None] >> np.arange(t * n - 1, -1, -1)) & 1).reshape(-1, t, n)
    read = true ^ (rng.random(true.shape) < 0.05)
    empirical = lambda w: np.bincount((w.reshape(len(w), -1) << np.arange(t * n - 1, -1, -1)).sum(1),  # noqa: E731
                                      minlength=p.size) / len(w)
    sampling = 0.5 * np.abs(empirical(true) - p).sum()
    raw = 0.5 * np.abs(empirical(read) - p).sum()
    mitigated = 0.5 * np.abs(mitigated_distribution(read, np.full((t, n, 2), 0.05)) - p).sum()
    assert raw > 3 * sampling and mitigated < 1.6 * sampling, (sampling, raw, mitigated)


def test_bad_errors_and_sizes_are_refused():
    windows = np.zeros((10, 2, 2), dtype=np.uint8)
    with pytest.raises(ConfigError, match="shape"):
        mitigated_distribution(windows, np.zeros((2, 3, 2)))
    with pytest.raises(ConfigError, match="carries no information"):
        mitigated_distribution(windows, np.full((2, 2, 2), 0.5))
    with pytest.raises(ConfigError, match="over 20"):
        mitigated_distribution(np.zeros((10, 3, 7), dtype=np.uint8), np.zeros((3, 7, 2)))


def test_a_fake_backends_confusion_comes_from_calibration_circuits_on_the_qubits_read(qiskit):
    """Per window bit, the calibration's P(1|0) is the backend's calibrated error on the physical qubit behind it
    (each step's circuit transpiled as Aer sampling transpiles it), within sampling error."""
    pytest.importorskip("qiskit_ibm_runtime")
    from spiqgan.hardware.circuits import circuits_of
    from spiqgan.hardware.ibm import fake_backend, measured_qubits, readout_errors
    from spiqgan.hardware.qiskit_io import to_qiskit, transpile_for
    from spiqgan.hardware.sampling import DeviceNoise

    from hardware_helpers import born_model

    export = circuits_of(born_model("cry", 2, 2, seed=2, latent_dim=1, memory=0, history=0))
    errors = readout_confusion(export, DeviceNoise("fake_sherbrooke"), shots=20000)
    backend = fake_backend("fake_sherbrooke")
    for step, circuit in enumerate(export.circuits):
        read = measured_qubits(transpile_for(to_qiskit(circuit), backend))
        calibrated = readout_errors(backend, [read[("spikes", j)] for j in range(2)])
        assert np.all(np.abs(errors[step, :, 0] - calibrated[:, 0]) < 5 * np.sqrt(calibrated[:, 0] / 20000) + 1e-3)
        # from |1> the qubit also relaxes during the readout: at least the calibrated P(0|1)
        assert np.all(errors[step, :, 1] > calibrated[:, 1] - 5 * np.sqrt(calibrated[:, 1] / 20000) - 1e-3)
    assert errors.shape == (2, 2, 2)


def test_the_sample_option_writes_raw_and_mitigated_windows(qiskit, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--neurons", "0-1", "--timesteps", "2", "--steps", "20", "--out", str(run), "--no-progress",
                 "--no-figures"]) == 0
    out = tmp_path / "m.npy"
    assert main(["sample", str(run), "--backend", "aer", "--noise-model", "readout:0.05", "--mitigate-readout",
                 "--windows", "3000", "--out", str(out)]) == 0
    raw, mitigated = np.load(tmp_path / "m.raw.npy"), np.load(out)
    assert raw.shape == mitigated.shape == (3000, 2, 2)
    assert mitigated.mean() < raw.mean()  # a sparse model: readout errors mostly add spikes, mitigation removes them
    assert main(["sample", str(run), "--backend", "aer", "--noise-model", "readout:0.05", "--mitigate-readout",
                 "--out", str(tmp_path / "other.npy")]) == 0
    (tmp_path / "again.raw.npy").write_bytes(b"")
    assert main(["sample", str(run), "--backend", "aer", "--noise-model", "readout:0.05", "--mitigate-readout",
                 "--out", str(tmp_path / "again.npy")]) == 2
    assert "again.raw.npy exists" in capsys.readouterr().err
    assert main(["sample", str(run), "--backend", "aer", "--mitigate-readout", "--out", str(tmp_path / "x.npy")]) == 2
    assert "give --noise-model too" in capsys.readouterr().err
