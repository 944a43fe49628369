"""Aer sampling against the exact sampler (chi-square), the cost against Qiskit's transpiler, and the commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from spiqgan.cli import main
from spiqgan.hardware.circuits import circuits_of
from spiqgan.hardware.export import aer_sample, resources
from spiqgan.hardware.qasm import to_qasm3
from spiqgan.hardware.sampling import DeviceNoise, NoiseSpec, parse_noise_model

from hardware_helpers import all_windows, born_model, chain_generator


def _frequencies(drawn: np.ndarray, every: np.ndarray) -> np.ndarray:
    """How often each of ``every`` window occurs among ``drawn``."""
    return np.array([(drawn == w).all((1, 2)).sum() for w in every], dtype=float)


@pytest.mark.parametrize("family,n,t,kw", [
    ("cry", 3, 1, dict(latent_dim=1)),
    ("cry", 2, 3, dict(latent_dim=1, memory=1, count_term=True)),  # a window circuit: feed-forward, latent states
    ("cry", 2, 3, dict(latent="normal", latent_dim=1, memory=1)),  # a window circuit with a switching normal latent
    ("iqp", 3, 1, dict(latent_dim=1)),
    ("bitflip", 2, 2, dict(latent_dim=1)),
])
def test_aer_windows_follow_the_exact_distribution(qiskit, family, n, t, kw, chi_square_p):
    model = born_model(family, n, t, seed=2, **kw)
    export = circuits_of(model)
    windows = aer_sample(export, 6000, seed=11)
    every = all_windows(t, n)
    expected = np.exp(model.log_likelihood(every))
    assert abs(expected.sum() - 1) < 1e-9
    assert chi_square_p(windows, every, expected) > 1e-3
    # the test can fail: a model other than the one sampled is rejected
    other = np.exp(born_model(family, n, t, seed=3, **kw).log_likelihood(all_windows(t, n)))
    assert chi_square_p(windows, every, other) < 1e-6


@pytest.mark.parametrize("preset", ["paper", "qce2023"])
def test_aer_windows_of_the_presets_match_the_exact_sampler(qiskit, preset, chi_square_p):
    gen = chain_generator(preset, 2 if preset == "paper" else 4, 1, seed=1, n_layers=2)
    export = circuits_of(gen)
    n = gen.config.n_neurons
    windows = aer_sample(export, 3000, seed=5, shots=None if preset == "paper" else 200)
    exact = gen.sample(200000, generator=torch.Generator().manual_seed(9)).numpy()  # the exact sampler, many windows
    every = all_windows(1, n)
    assert chi_square_p(windows, every, _frequencies(exact, every) + 1e-12) > 1e-3


def test_noise_model_spec_parses_and_refuses_nonsense():
    assert parse_noise_model("depolarizing:0.001,0.01,readout:0.02") == NoiseSpec(0.001, 0.01, 0.02)
    assert parse_noise_model("readout:0.05") == NoiseSpec(0, 0, 0.05)
    assert parse_noise_model("depolarizing:0,1e-2") == NoiseSpec(0, 0.01, 0)
    assert parse_noise_model("fake_Sherbrooke") == DeviceNoise("fake_sherbrooke")
    for bad in ("", "depolarizing:0.1", "readout:0.7", "readout:x", "thermal:0.1", "depolarizing:-1,0", "fake-x"):
        with pytest.raises(Exception, match="noise-model"):
            parse_noise_model(bad)


def test_noise_makes_a_silent_generator_fire(qiskit):
    gen = chain_generator(None, 3, 1, n_layers=2, init="identity", init_scale=0.0, noise_scale=0.0)  # |000>: silent
    export = circuits_of(gen)
    assert aer_sample(export, 2000, seed=1).mean() == 0
    readout = aer_sample(export, 4000, seed=1, noise=NoiseSpec(readout=0.1)).mean()
    assert abs(readout - 0.1) < 0.015
    gates = aer_sample(export, 4000, seed=1, noise=NoiseSpec(p1=0.05, p2=0.2)).mean()
    assert 0.02 < gates < 0.5


@pytest.mark.parametrize("device", ["heavy-hex", "all-to-all"])
def test_resources_report_what_the_transpiler_reports(qiskit, device):
    from qiskit import transpile
    from qiskit.transpiler import CouplingMap

    from spiqgan.hardware.qiskit_io import heavy_hex_127

    cases = [circuits_of(chain_generator("paper", 4, 2)), circuits_of(born_model("cry", 4, 3, memory=1)),
             circuits_of(born_model("iqp", 3, 1))]
    for export in cases:
        report = resources(export, device, windows=100, transpiler_seeds=3)
        assert report["transpiler"]["seeds"] == [0, 1, 2]
        for circuit, got in zip(export.circuits, report["circuits"]):
            qc = qiskit.qasm3.loads(to_qasm3(circuit))  # independently: the exported text, read by Qiskit
            kw = dict(basis_gates=["cx", "rz", "sx", "x", "measure", "reset", "if_else"], optimization_level=1)
            if device == "heavy-hex":
                kw["coupling_map"] = CouplingMap([e for a, b in heavy_hex_127() for e in ((a, b), (b, a))])
            counts = []
            for seed in range(3):
                tqc = transpile(qc, seed_transpiler=seed, **kw)
                counts.append((sum(1 for inst in tqc.data if inst.operation.num_qubits == 2 and
                                   inst.operation.name == "cx"), tqc.depth()))
            assert (got["two_qubit_gates"], got["depth"]) == counts[got["seed"]] == min(counts)
            assert got["depth_range"] == [min(c[1] for c in counts), max(c[1] for c in counts)]
            assert got["two_qubit_gates_range"] == [min(c[0] for c in counts), max(c[0] for c in counts)]


def test_all_to_all_two_qubit_counts_match_the_models_own_counts(qiskit):
    gen = chain_generator("paper", 5, 1)
    chain = resources(circuits_of(gen), "all-to-all", windows=10)["circuits"][0]
    assert chain["two_qubit_gates"] == gen.resources()["two_qubit_gates_per_sub_generator"]
    model = born_model("cry", 4, 1, count_term=False)
    cry = resources(circuits_of(model), "all-to-all", windows=10)["circuits"][0]
    assert cry["two_qubit_gates"] == 2 * model.resources()["two_qubit_gates_per_sub_generator"]  # a CRY is two CX


def test_heavy_hex_map_is_ibms_127_qubit_lattice():
    from spiqgan.hardware.qiskit_io import heavy_hex_127

    edges = heavy_hex_127()
    degree = np.bincount(np.array(edges).ravel(), minlength=127)
    assert len(edges) == 144 and degree.max() == 3 and degree.min() == 1 and len(set(edges)) == 144


def test_export_sample_and_resources_commands(qiskit, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "cry", "--neurons", "0-2", "--timesteps", "2", "--steps", "20", "--out", str(run),
                 "--no-progress", "--no-figures"]) == 0
    for fmt, names in (("qasm3", {"window.qasm"}), ("qiskit", {"circuits.qpy"}), ("pennylane", {"circuits.py"})):
        out = tmp_path / fmt
        assert main(["export", str(run), "--format", fmt, "--out", str(out)]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert set(manifest["files"]) == names and manifest["neurons"] == [0, 1, 2] and manifest["n_timesteps"] == 2
    from qiskit import qpy

    with open(tmp_path / "qiskit" / "circuits.qpy", "rb") as fh:
        meta = qpy.load(fh)[0].metadata
    assert meta["model"] == "cry" and meta["neurons"] == [0, 1, 2] and meta["steps"] == {"spikes_0": 0, "spikes_1": 1}
    assert main(["export", str(run), "--format", "qasm3", "--out", str(tmp_path / "qasm3")]) == 2
    assert "not empty" in capsys.readouterr().err
    samples = tmp_path / "aer.npy"
    assert main(["sample", str(run), "--backend", "aer", "--windows", "300", "--noise-model", "readout:0.01",
                 "--out", str(samples)]) == 0
    assert np.load(samples).shape == (300, 2, 3)
    jobs = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Aer job ")]
    assert jobs and jobs[-1].split(" | ")[0].split()[-1].split("/")[0] == jobs[-1].split(" | ")[0].split("/")[-1]
    assert main(["sample", str(run), "--noise-model", "readout:0.01", "--out", str(tmp_path / "x.npy")]) == 2
    assert "belong to --backend aer" in capsys.readouterr().err
    assert main(["resources", str(run), "--device", "all-to-all", "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["circuits"][0]["two_qubit_gates"] > 0 and report["sampling"]["windows"] == 10000
    likelihood = report["training_per_step"]["parameter_shift_likelihood"]
    # the run's distinct training windows (train wrote windows.json), once null though the run had its data
    from spiqgan.data.loaders import load_dataset

    train_w = load_dataset(None).select_neurons("0-2").split()[0].windows(2)
    distinct = len(np.unique(train_w.reshape(len(train_w), -1), axis=0))
    assert likelihood["distinct_training_windows"] == distinct > 1 and not likelihood["per_distinct_training_window"]
    assert f"{distinct} distinct training windows" in likelihood["note"]


def test_a_classical_model_has_no_circuits(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "bernoulli", "--neurons", "0-2", "--out", str(run), "--no-progress",
                 "--no-figures"]) == 0
    assert main(["export", str(run), "--out", str(tmp_path / "e")]) == 2
    assert "classical model" in capsys.readouterr().err


def test_a_model_without_latent_state_samples_with_any_shots(qiskit, chi_square_p):
    """A circuit without inputs runs as one experiment per execution (several executions of it once failed)."""
    model = born_model("cry", 2, 1, latent_dim=0)
    export = circuits_of(model)
    assert export.circuits[0].inputs == ()
    windows = aer_sample(export, 3000, shots=1000, seed=2)  # three executions of the same circuit
    assert chi_square_p(windows, all_windows(1, 2), np.exp(model.log_likelihood(all_windows(1, 2)))) > 1e-3


def test_training_cost_counts_two_shifts_per_rotation_and_four_per_controlled_rotation(qiskit):
    cry = born_model("cry", 3, 1, latent_dim=1)  # 3 ry (2 shifts each) + 3 cry (4 each) = 18, at 3 latent values
    assert resources(circuits_of(cry), "all-to-all", windows=10)["training_per_step"][
        "parameter_shift_likelihood"]["executions"] == 3 * (1 + 18)
    iqp = born_model("iqp", 3, 2, latent_dim=1)  # per step: 3 rz + 3 pair rz = 12 shifts
    assert resources(circuits_of(iqp), "all-to-all", windows=10)["training_per_step"][
        "parameter_shift_likelihood"]["executions"] == 2 * 3 * (1 + 12)
    window = born_model("cry", 2, 2, latent_dim=1, memory=1, history=0)
    # step 0: 2 ry + 1 cry = 8; step 1: the same plus 4 conditioned memory ry = 16; 2 distinct windows below
    train = np.array([[[0, 1], [1, 1]], [[0, 1], [1, 1]], [[1, 1], [0, 0]]], dtype=np.uint8)
    cost = resources(circuits_of(window), "all-to-all", windows=10, training_windows=train)
    likelihood = cost["training_per_step"]["parameter_shift_likelihood"]
    assert likelihood["shift_terms"] == [[8, 16]] and likelihood["executions"] == 2 * 3 * ((1 + 8) + (1 + 16))
    chain = chain_generator("paper", 2, 1, n_layers=1)  # 3 qubits: 3 ry + 3 rz trained, the rx encoding not
    export = circuits_of(chain)
    export.hyperparameters = {"noise_samples": 4, "batch_size": 5}
    routes = resources(export, "all-to-all", windows=10)["training_per_step"]
    assert routes["parameter_shift_likelihood"]["executions"] == 4 * (1 + 12)
    assert routes["score_function"]["executions"] == 5 * (1 + 12)


def test_a_spiqgan_runs_best_generator_exports_and_samples_on_aer(qiskit, tmp_path):
    run = tmp_path / "run"
    config = tmp_path / "hp.toml"
    config.write_text("steps = 4\neval-every = 2\njs_windows = 100\n")
    assert main(["train", "--model", "spiqgan", "--neurons", "0-1", "--timesteps", "2", "--config", str(config),
                 "--out", str(run), "--no-progress", "--no-figures"]) == 0
    assert main(["export", str(run), "--which", "best", "--out", str(tmp_path / "q")]) == 0
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == ["manifest.json", "step_0.qasm", "step_1.qasm"]
    assert main(["sample", str(run), "--backend", "aer", "--which", "best", "--windows", "40",
                 "--out", str(tmp_path / "w.npy")]) == 0
    assert np.load(tmp_path / "w.npy").shape == (40, 2, 2)


def test_wide_circuits_sample_as_matrix_product_states(qiskit, chi_square_p):
    """Found sampling a 40-neuron chain: Aer's automatic method asked for 32 TiB and its failure surfaced deep inside."""
    from spiqgan.hardware.qiskit_io import AER_STATEVECTOR_MAX_QUBITS

    wide = chain_generator("paper", AER_STATEVECTOR_MAX_QUBITS + 16, 1, n_layers=2, backend="mps")
    windows = aer_sample(circuits_of(wide), 5, seed=1)
    assert windows.shape == (5, 1, AER_STATEVECTOR_MAX_QUBITS + 16)
    # the matrix-product-state method is exact: on a small chain it passes the same test as the statevector
    gen = chain_generator("paper", 2, 1, seed=1, n_layers=2)
    drawn = aer_sample(circuits_of(gen), 3000, seed=5, method="matrix_product_state")
    exact = gen.sample(200000, generator=torch.Generator().manual_seed(9)).numpy()
    assert chi_square_p(drawn, all_windows(1, 2), _frequencies(exact, all_windows(1, 2))) > 1e-3


def test_a_circuit_aer_cannot_run_is_one_clear_error(qiskit):
    from spiqgan.exceptions import SimulationError

    wide = chain_generator("paper", 40, 1, n_layers=1, backend="mps")
    with pytest.raises(SimulationError, match="could not run circuit step_0"):
        aer_sample(circuits_of(wide), 2, method="statevector")


def test_heavy_hex_takes_cx_either_way_along_an_edge(qiskit):
    """Found reading the cost: a one-way coupling map made the transpiler wrap reversed CX in Hadamards."""
    from spiqgan.hardware.circuits import Circuit
    from spiqgan.hardware.qiskit_io import transpiled_cost

    c = Circuit("both_ways", 2, (), {"spikes": 2})
    c.add("cx", 0, 1)
    c.add("cx", 1, 0)
    c.add("cx", 0, 1)
    for j in range(2):
        c.add("measure", j, bit=("spikes", j))
    hex_cost, flat = transpiled_cost(c, "heavy-hex"), transpiled_cost(c, "all-to-all")
    assert hex_cost["two_qubit_gates"] == flat["two_qubit_gates"] == 3
    assert hex_cost["depth"] == flat["depth"] == 4


@pytest.fixture(scope="module")
def runtime(qiskit):
    from conftest import _extra

    return _extra("qiskit_ibm_runtime")


def _three_cx():
    from spiqgan.hardware.circuits import Circuit

    c = Circuit("three_cx", 2, (), {"spikes": 2})
    for a, b in ((0, 1), (1, 0), (0, 1)):
        c.add("cx", a, b)
    for j in range(2):
        c.add("measure", j, bit=("spikes", j))
    return c


@pytest.mark.parametrize("device, native", [("fake_sherbrooke", "ecr"), ("fake_torino", "cz")])
def test_an_ibm_backends_native_gate_is_counted(runtime, device, native):
    """By hand: three CX on two neighbouring qubits are three native two-qubit gates (ECR on Eagle, CZ on Heron)
    and one-qubit gates around them; the generic heavy-hex map counts them as CX. Against an independent
    transpile onto the fake backend, seed by seed."""
    from qiskit import transpile

    from spiqgan.hardware.ibm import fake_backend
    from spiqgan.hardware.qiskit_io import to_qiskit, transpiled_cost

    got = transpiled_cost(_three_cx(), fake_backend(device), seeds=[0, 1, 2])
    assert got["two_qubit_gates"] == 3 and got["basis_gates"] == sorted([native, "rz", "sx", "x"])
    assert got["physical_qubits"] == (127 if device == "fake_sherbrooke" else 133)
    tqc = transpile(to_qiskit(_three_cx()), backend=fake_backend(device), optimization_level=1,
                    seed_transpiler=got["seed"])
    assert tqc.count_ops()[native] == 3 and "cx" not in tqc.count_ops() and got["depth"] == tqc.depth()


def test_a_native_gate_costs_depth_the_generic_map_does_not_see(runtime):
    """A window circuit on Sherbrooke (ECR, one direction per edge) is deeper than on the symmetric-CX heavy-hex
    map, as measured in the issue (e.g. 79 against 48)."""
    export = circuits_of(born_model("cry", 4, 3, memory=1))
    eagle = resources(export, "fake_sherbrooke", windows=10, transpiler_seeds=2)["circuits"][0]
    generic = resources(export, "heavy-hex", windows=10, transpiler_seeds=2)["circuits"][0]
    assert eagle["depth"] > generic["depth"] and eagle["depth_range"][0] <= eagle["depth"] <= eagle["depth_range"][1]


def test_a_circuit_wider_than_the_device_is_one_clear_error(runtime):
    from spiqgan.exceptions import ConfigError
    from spiqgan.hardware.circuits import Circuit
    from spiqgan.hardware.qiskit_io import transpiled_cost

    wide = Circuit("wide", 128, (), {"spikes": 128})
    for j in range(128):
        wide.add("measure", j, bit=("spikes", j))
    export = circuits_of(born_model("cry", 2, 1))
    export.circuits = [wide]
    for device in ("fake_sherbrooke", "heavy-hex"):
        with pytest.raises(ConfigError, match="needs 128 qubits and .* has 127"):
            resources(export, device, windows=10)
    with pytest.raises(ConfigError, match="not one of qiskit-ibm-runtime's fake backends"):
        resources(export, "fake_nowhere", windows=10)
    with pytest.raises(ConfigError, match="--device must be"):
        transpiled_cost(_three_cx(), "ring")


def test_a_fake_backends_calibrated_noise_reads_out_at_its_calibrated_error(runtime):
    """Three qubits measured in |0> and in |1> (after X) on Sherbrooke: each bit reads wrong at the readout error of
    the physical qubit measured (P(1 | 0) and P(0 | 1) of the backend's calibration, on the qubits the transpiler
    chose; a |1> also decays over the measurement's duration at the qubit's T1), within sampling error and the X
    gate's error."""
    from spiqgan.hardware import ibm
    from spiqgan.hardware.circuits import Circuit
    from spiqgan.hardware.qiskit_io import aer_outcomes, to_qiskit

    backend = ibm.fake_backend("fake_sherbrooke")
    shots = 8000
    for flip in (0, 1):
        c = Circuit(f"prepared_{flip}", 3, (), {"spikes": 3})
        for j in range(3):
            if flip:
                c.add("x", j)
            c.add("measure", j, bit=("spikes", j))
        bits = aer_outcomes([c], [(0, {}, shots)], seed=3, backend=backend)[0]["spikes"]
        where = ibm.measured_qubits(ibm.transpile_for(to_qiskit(c), backend))
        error = ibm.readout_errors(backend, [where[("spikes", j)] for j in range(3)])[:, flip]
        wrong = (bits != flip).mean(0)
        assert error.min() > 0
        if flip:  # a |1> also relaxes during the readout (T1 over the measurement's duration): P(0 | 1) and more
            physical = [where[("spikes", j)] for j in range(3)]
            decay = np.array([1 - np.exp(-backend.target["measure"][(q,)].duration / backend.qubit_properties(q).t1)
                              for q in physical])
            error = decay * (1 - ibm.readout_errors(backend, physical)[:, 0]) + (1 - decay) * error
        assert np.all(np.abs(wrong - error) < 5 * np.sqrt(error * (1 - error) / shots) + 1e-3), (flip, wrong, error)
