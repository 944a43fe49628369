"""The Runtime recipe: PUBs of transpiled circuits and input arrays, run by qiskit-ibm-runtime's sampler in local mode."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from spiqgan.hardware.circuits import circuits_of
from spiqgan.hardware.export import aer_sample
from spiqgan.hardware.sampling import DeviceNoise

from hardware_helpers import all_windows, born_model


@pytest.fixture(scope="module")
def runtime(qiskit):
    from conftest import _extra

    return _extra("qiskit_ibm_runtime")


@pytest.fixture(scope="module")
def sherbrooke(runtime):
    from spiqgan.hardware.ibm import fake_backend

    return fake_backend("fake_sherbrooke")


def _p_value(windows: np.ndarray, expected: np.ndarray) -> float:
    flat = windows.reshape(len(windows), -1).astype(np.int64)
    counts = np.bincount((flat << np.arange(flat.shape[1] - 1, -1, -1)).sum(1), minlength=expected.size)
    want = expected / expected.sum() * len(windows)
    big = want >= 5
    return float(chisquare(np.append(counts[big], counts[~big].sum()), np.append(want[big], want[~big].sum())).pvalue)


def test_pubs_hold_one_row_per_input_setting_and_one_shot_count(sherbrooke):
    from spiqgan.hardware.ibm import runtime_plan

    model = born_model("cry", 2, 3, seed=2, latent_dim=1, memory=0, history=0)
    export = circuits_of(model)
    run = runtime_plan(export, 5000, sherbrooke, seed=3)
    assert len(run.pubs) == len(export.circuits) == 3  # one PUB per step circuit
    for (qc, values, shots), rows in zip(run.pubs, run.members):
        assert values.shape == (len(rows), len(qc.parameters)) and shots == max(e.shots for e in run.executions)
        assert set(qc.count_ops()) <= {"ecr", "rz", "sx", "x", "measure", "reset", "if_else", "barrier"}
        for row, k in enumerate(rows):  # each row binds its execution's inputs, in the circuit's parameter order
            assert values[row].tolist() == [run.executions[k].values[p.name] for p in qc.parameters]
    assert run.used_shots == 5000 * 3 <= run.shots


def _sampler(kind: str, backend):
    """Runtime's client-side sampler (what local_sampler gives), or the SamplerV2 primitive (deprecated from 0.50)."""
    from spiqgan.hardware.ibm import local_sampler

    if kind == "local_sampler":
        return local_sampler(backend)
    from qiskit_ibm_runtime import SamplerV2

    return SamplerV2(mode=backend)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("kind", ["local_sampler", "SamplerV2"])
def test_a_noiseless_local_run_follows_the_exact_distribution(sherbrooke, kind):
    """Three step circuits (three PUBs) at t = 3 on Sherbrooke's gates and map, noise off: the windows follow the
    model's exact distribution, and a seed reproduces them, through either sampler. With one simulator seed for
    every PUB of a job the PUBs drew the same random numbers and this chi-square failed (p 3e-9, measured)."""
    from qiskit_aer import AerSimulator

    from spiqgan.hardware.ibm import sampler_windows

    model = born_model("cry", 2, 3, seed=2, latent_dim=1, memory=0, history=0)
    export = circuits_of(model)
    ideal = _sampler(kind, AerSimulator.from_backend(sherbrooke, noise_model=None))
    windows = sampler_windows(export, 20000, ideal, sherbrooke, seed=3, simulator_seed=4)
    assert windows.shape == (20000, 3, 2)
    assert _p_value(windows, np.exp(model.log_likelihood(all_windows(3, 2)))) > 1e-3
    again = sampler_windows(export, 20000, ideal, sherbrooke, seed=3, simulator_seed=4)
    np.testing.assert_array_equal(again, windows)


def test_a_window_circuit_runs_on_the_fake_device_as_aer_runs_it(sherbrooke):
    """A window circuit (mid-circuit measurement, reset, feed-forward) through Runtime's sampler on Sherbrooke's
    calibrated noise: its firing rates agree with Aer's under the same noise (spiqgan's own path) within
    sampling error."""
    from spiqgan.hardware.ibm import local_sampler, sampler_windows

    model = born_model("cry", 2, 2, seed=1, latent_dim=1, memory=1)
    export = circuits_of(model)
    assert export.window_circuit
    runtime_w = sampler_windows(export, 4000, local_sampler(sherbrooke), sherbrooke, seed=5, simulator_seed=6)
    aer_w = aer_sample(export, 4000, seed=7, noise=DeviceNoise("fake_sherbrooke"))
    a, b = runtime_w.mean(0), aer_w.mean(0)
    se = np.sqrt(a * (1 - a) / len(runtime_w) + b * (1 - b) / len(aer_w))
    assert np.all(np.abs(a - b) < 5 * se + 1e-3), (a, b)
