"""Circuits users bring: a PennyLane QNode or a Qiskit circuit as a Born machine's family.

The built-in ``cry`` circuit rebuilt by hand in each framework gives the built-in likelihood; a circuit with
interference gives Qiskit ``Statevector``'s probabilities, with the latent state and the memory on; sampling
follows the likelihood; a circuit that does not keep the contract is refused in one line."""

from __future__ import annotations

import itertools
import textwrap

import numpy as np
import pytest
import torch

from spiqgan.cli import main
from spiqgan.exceptions import ConfigError
from spiqgan.models import make_model

pytest.importorskip("pennylane")
pytest.importorskip("qiskit")

N = 3

CRY_QNODE = """
import pennylane as qml

N = {n}
dev = qml.device("default.qubit", wires=N)
PAIRS = [(i, j) for i in range(N) for j in range(i + 1, N)]  # spiqgan's pair order: row by row


@qml.qnode(dev, interface="torch")
def circuit(inputs, weights):
    for j in range(N):
        qml.RY(inputs[..., j], wires=j)
        for i in range(j):
            qml.CRY(weights[PAIRS.index((i, j))], wires=[i, j])
    return qml.probs(wires=range(N))


circuit.weight_shape = (len(PAIRS),)
"""

CRY_QISKIT = """
from qiskit.circuit import ParameterVector, QuantumCircuit

N = {n}
PAIRS = [(i, j) for i in range(N) for j in range(i + 1, N)]
inputs, w = ParameterVector("inputs", N), ParameterVector("w", len(PAIRS))
circuit = QuantumCircuit(N)
for j in range(N):
    circuit.ry(inputs[j], j)
    for i in range(j):
        circuit.cry(w[PAIRS.index((i, j))], i, j)
"""

# interference: Hadamards, phases of the inputs, entanglers and an ancilla (qubit N) that is never read out
INTERFERING_QISKIT = """
from qiskit.circuit import ParameterVector, QuantumCircuit

N = {n}
inputs, w = ParameterVector("inputs", N), ParameterVector("w", 3 * N + 1)
circuit = QuantumCircuit(N + 1)
for j in range(N):
    circuit.h(j)
    circuit.rz(inputs[j], j)
    circuit.rx(0.5 * inputs[j] + w[j], j)
for j in range(N - 1):
    circuit.rzz(w[N + j], j, j + 1)
    circuit.cx(j, j + 1)
circuit.crx(w[2 * N], 0, N)
circuit.u(w[2 * N + 1], w[2 * N + 2], 0.3, N)
circuit.cp(w[3 * N - 1], N, N - 1)
circuit.ryy(w[3 * N], 1, N)
circuit.rxx(0.7, 0, 2)
circuit.s(1)
circuit.measure_all()
"""

INTERFERING_QNODE = """
import pennylane as qml

N = {n}
dev = qml.device("default.qubit", wires=N + 1)
WEIGHT_SHAPE = (2, N + 1)


@qml.qnode(dev, interface="torch")
def circuit(inputs, weights):
    for j in range(N):
        qml.Hadamard(wires=j)
        qml.RZ(inputs[..., j], wires=j)
    qml.StronglyEntanglingLayers(weights.reshape(2, N + 1, 1).expand(2, N + 1, 3), wires=range(N + 1))
    return qml.probs(wires=range(N))
"""


def _file(tmp_path, name, source, n=N):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source.format(n=n)))
    return f"{path}:circuit"


def _windows(n_windows, t, n, seed=0):
    return (np.random.default_rng(seed).random((n_windows, t, n)) < 0.3).astype(np.uint8)


def _every(t, n):
    return np.array(list(itertools.product((0, 1), repeat=t * n)), dtype=np.uint8).reshape(-1, t, n)


def _with_values(model, values, x):
    """``model`` fitted briefly, then given ``values`` (another model's fitted arrays)."""
    model.fit(x)
    for k, v in values.items():
        setattr(model, k, np.asarray(v).copy())
    return model


@pytest.mark.parametrize("kw", [dict(latent="normal", latent_dim=1, memory=1),
                                dict(latent="states", latent_nodes=3, history=1)])
@pytest.mark.parametrize("source", [CRY_QNODE, CRY_QISKIT], ids=["pennylane", "qiskit"])
def test_the_cry_circuit_rebuilt_by_hand_gives_the_built_in_likelihood(tmp_path, source, kw):
    x = _windows(300, 2, N)
    built_in = make_model("cry", N, 2, steps=25, seed=1, **kw).fit(x)
    mine = _with_values(make_model(_file(tmp_path, "mine", source), N, 2, steps=2, seed=1, **kw),
                        {k: getattr(built_in, k) for k in built_in._FITTED}, x)
    every = _every(2, N)
    np.testing.assert_allclose(mine.log_likelihood(every), built_in.log_likelihood(every), rtol=0, atol=1e-9)
    assert abs(np.exp(mine.log_likelihood(every)).sum() - 1) < 1e-12


def _statevector_probs(qc, inputs, weights, n):
    """Qiskit's own probabilities of the neuron qubits, pattern bit 0 = qubit 0 the most significant."""
    from qiskit.quantum_info import Statevector

    names = {p: v for p, v in zip(sorted((p for p in qc.parameters if p.vector.name == "inputs"),
                                         key=lambda p: p.index), inputs)}
    others = [p for p in qc.parameters if p.vector.name != "inputs"]
    names.update(zip(others, weights))
    bound = qc.remove_final_measurements(inplace=False).assign_parameters(names)
    little = Statevector(bound).probabilities(qargs=list(range(n)))  # index bit k = qubit k
    return np.array([little[int("".join(map(str, bits))[::-1], 2)] for bits in itertools.product((0, 1), repeat=n)])


def test_a_circuit_with_interference_gives_qiskits_probabilities_with_latent_and_memory(tmp_path):
    from spiqgan.quantum.families import get_family

    spec = _file(tmp_path, "interfering", INTERFERING_QISKIT)
    family = get_family(spec)
    import importlib.util

    # the file's circuit as Qiskit builds it, apart from spiqgan's loading
    loader = importlib.util.spec_from_file_location("interfering_again", spec.rpartition(":")[0])
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    qc = module.circuit
    rng = np.random.default_rng(3)
    inputs, weights = rng.normal(size=(4, N)), rng.normal(size=family.n_weights)
    mine = family.probabilities(torch.as_tensor(inputs), torch.as_tensor(weights)).numpy()
    for b in range(4):
        np.testing.assert_allclose(mine[b], _statevector_probs(qc, inputs[b], weights, N), atol=1e-12)
    assert mine.std(0).max() > 0.01  # the inputs matter

    # a whole model: latent (2 Gauss-Hermite values that switch) and memory, against the sum over latent paths
    t = 2
    model = make_model(spec, N, t, latent="normal", latent_dim=1, latent_nodes=2, memory=1, steps=3, seed=2)
    model.fit(_windows(200, t, N))
    v = model._tensors()
    z, w = (a.numpy() for a in model._latent())
    keep = float(torch.sigmoid(v["stay_"])[0])
    every = _every(t, N)
    expected = np.zeros(len(every))
    angles, load = v["angles_"].numpy(), v["loadings_"].numpy()
    mem, pad = v["memory_"].numpy(), v["pad_"].numpy()
    for b, xw in enumerate(every):
        for path in itertools.product(range(len(w)), repeat=t):
            p = w[path[0]] * np.prod([keep * (path[s] == path[s - 1]) + (1 - keep) * w[path[s]] for s in range(1, t)])
            for s in range(t):
                before = xw[s - 1] if s else pad
                theta = angles[s] + load[s] @ z[path[s]] + mem[0] @ before
                p *= _statevector_probs(qc, theta, v["pairs_"].numpy(), N)[int("".join(map(str, xw[s])), 2)]
            expected[b] += p
    np.testing.assert_allclose(np.exp(model.log_likelihood(every)), expected, rtol=1e-9, atol=1e-14)


def test_a_pennylane_circuit_with_an_ancilla_and_a_template(tmp_path):
    import pennylane as qml

    spec = _file(tmp_path, "layers", INTERFERING_QNODE)
    model = make_model(spec, N, 1, latent_dim=1, steps=5, seed=0).fit(_windows(300, 1, N))
    every = _every(1, N)
    p = np.exp(model.log_likelihood(every))
    assert abs(p.sum() - 1) < 1e-12
    # against PennyLane's own state, latent value by latent value
    v, (z, w) = model._tensors(), model._latent()
    dev = qml.device("default.qubit", wires=N + 1)

    @qml.qnode(dev)
    def state(theta, weights):
        for j in range(N):
            qml.Hadamard(wires=j)
            qml.RZ(theta[j], wires=j)
        qml.StronglyEntanglingLayers(np.broadcast_to(weights.reshape(2, N + 1, 1), (2, N + 1, 3)), wires=range(N + 1))
        return qml.probs(wires=range(N))

    expected = sum(float(w[k]) * np.asarray(state((v["angles_"][0] + v["loadings_"][0] @ z[k]).numpy(),
                                                  v["pairs_"].numpy())) for k in range(len(w)))
    np.testing.assert_allclose(p, expected, atol=1e-12)


def test_sampling_a_user_circuit_with_memory_follows_its_likelihood(tmp_path, chi_square_p):
    """Windows drawn step by step (each step's input angles from the steps drawn before) against the exact
    probabilities of all 64 windows: Pearson's chi-square, whose tolerance is the number of windows drawn."""
    spec = _file(tmp_path, "interfering", INTERFERING_QISKIT)
    t = 2
    model = make_model(spec, N, t, latent_dim=1, latent_nodes=3, memory=1, steps=10, seed=4).fit(_windows(300, t, N))
    every = _every(t, N)
    drawn = model.sample(40000, seed=5)
    assert chi_square_p(drawn, every, np.exp(model.log_likelihood(every))) > 1e-3
    other = make_model(spec, N, t, latent_dim=1, latent_nodes=3, steps=10, seed=4).fit(_windows(300, t, N, seed=9))
    assert chi_square_p(drawn, every, np.exp(other.log_likelihood(every))) < 1e-6


@pytest.mark.parametrize("source, message", [
    ("import pennylane as qml\ndev = qml.device('default.qubit', wires=3)\n@qml.qnode(dev)\n"
     "def circuit(inputs, weights):\n    return qml.probs(wires=range(3))\n", "declare the weights' shape"),
    ("from qiskit import QuantumCircuit\nfrom qiskit.circuit import Parameter\ncircuit = QuantumCircuit(3)\n"
     "circuit.rx(Parameter('a'), 0)\n", r"ParameterVector\('inputs', n\)"),
    ("from qiskit.circuit import QuantumCircuit, ParameterVector\nx = ParameterVector('inputs', 3)\n"
     "circuit = QuantumCircuit(3)\ncircuit.rx(x[0] * x[1], 0)\n", "not linear"),
    ("from qiskit.circuit import QuantumCircuit, ParameterVector\nx = ParameterVector('inputs', 3)\n"
     "circuit = QuantumCircuit(3)\ncircuit.rv(x[0], x[1], x[2], 0)\n", "is not supported"),
    ("import pennylane as qml\ndev = qml.device('default.qubit', wires=2)\n@qml.qnode(dev)\n"
     "def circuit(inputs, weights):\n    qml.RY(inputs[..., 0], 0)\n    return qml.probs(wires=range(2))\n"
     "WEIGHT_SHAPE = ()\n", "probabilities of 2 qubits, but the data has 3 neurons"),
    ("circuit = 3\n", "must be a PennyLane QNode or a Qiskit QuantumCircuit"),
    ("raise RuntimeError('broken')\n", "RuntimeError: broken"),
    ("x = 1\n", "defines no 'circuit'"),
])
def test_a_circuit_that_breaks_the_contract_is_refused_in_one_line(tmp_path, source, message):
    path = tmp_path / "bad.py"
    path.write_text(source)
    with pytest.raises(ConfigError, match=message) as info:
        make_model(f"{path}:circuit", 3, 1).resolved_params()
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="no file"):
        make_model(f"{tmp_path / 'nowhere.py'}:circuit", 3, 1).resolved_params()


@pytest.mark.parametrize("source", [CRY_QISKIT, CRY_QNODE], ids=["qiskit", "pennylane"])
def test_train_sample_evaluate_compare_export_and_a_changed_file_through_the_command_line(tmp_path, monkeypatch,
                                                                                         capsys, source):
    """Every command with a circuit of the user's; the comparison's workers are other processes, which load the
    file by the absolute path the run records."""
    monkeypatch.chdir(tmp_path)
    _file(tmp_path, "ansatz", source)
    data = tmp_path / "data.npy"
    np.save(data, (np.random.default_rng(0).random((1200, N)) < 0.3).astype(np.uint8))
    common = ["--data", str(data), "--repeat-length", "100", "--timesteps", "2"]
    assert main(["train", *common, "--model", "ansatz.py:circuit", "--steps", "5", "--out", "run", "--no-progress",
                 "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "held-out NLL" in out and "user circuit" in out
    assert main(["sample", "run", "--windows", "200", "--out", "s.npy"]) == 0
    assert main(["evaluate", *common, "--samples", "s.npy"]) == 0
    assert main(["compare", *common, "--models", "cry,ansatz.py:circuit", "--steps", "5", "--out", "cmp",
                 "--no-figures", "--workers", "2"]) == 0
    table = capsys.readouterr().out
    assert str(tmp_path / "ansatz.py") + ":circuit" in table
    assert main(["export", "run", "--format", "qasm3", "--out", "qasm"]) == 0
    assert main(["sample", "run", "--backend", "aer", "--windows", "100", "--out", "aer.npy"]) == 0
    assert np.load("aer.npy").shape == (100, 2, N)
    qasm = next((tmp_path / "qasm").glob("*.qasm")).read_text()
    assert "ry(" in qasm and "cx " in qasm and "measure" in qasm  # cry in the export basis
    capsys.readouterr()
    # the file changes: resuming and loading the run are refused, in one line each
    (tmp_path / "ansatz.py").write_text((tmp_path / "ansatz.py").read_text() + "\nCHANGED = True\n")
    assert main(["train", *common, "--model", "ansatz.py:circuit", "--steps", "5", "--out", "run",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "the file has changed since" in err and len(err.strip().splitlines()) == 1
    assert main(["sample", "run", "--windows", "10", "--out", "t.npy"]) == 2
    assert "the file has changed since" in capsys.readouterr().err


def test_the_documented_example_trains_and_starts_as_the_independent_model():
    """``examples/hardware_efficient.py`` (the user guide's example): a PennyLane template, 4 neurons."""
    from pathlib import Path

    from spiqgan.quantum.families import get_family

    spec = f"{Path(__file__).resolve().parents[2] / 'examples' / 'hardware_efficient.py'}:circuit"
    family = get_family(spec)
    rates = torch.tensor([[0.1, 0.5, 0.2, 0.05]], dtype=torch.float64)
    # at zero weights the CZ layers only add phases: the independent model of the rates, as the contract says
    probs = family.probabilities(family.independent_angles(rates), torch.zeros(family.n_weights, dtype=torch.float64))
    bits = torch.as_tensor(_every(1, 4)[:, 0], dtype=torch.float64)
    independent = (bits * rates + (1 - bits) * (1 - rates)).prod(-1)
    torch.testing.assert_close(probs[0], independent, rtol=0, atol=1e-12)
    assert not torch.allclose(family.probabilities(family.independent_angles(rates),
                                                   torch.full((family.n_weights,), 0.4, dtype=torch.float64))[0],
                              independent, atol=1e-3)
    x = _windows(400, 2, 4)
    fitted = make_model(spec, 4, 2, steps=20).fit(x)
    assert fitted._latent_kind(fitted.params_) == "states"  # the default at t > 1, as for cry
    every = _every(2, 4)
    assert abs(np.exp(fitted.log_likelihood(every)).sum() - 1) < 1e-12
    baseline = make_model("bernoulli", 4, 2).fit(x)
    assert -fitted.log_likelihood(x).mean() < -baseline.log_likelihood(x).mean() + 0.05


@pytest.mark.parametrize("kw", [dict(latent_nodes=3), dict(latent_nodes=3, memory=1)], ids=["steps", "window"])
@pytest.mark.parametrize("source", [INTERFERING_QISKIT, INTERFERING_QNODE], ids=["qiskit", "pennylane"])
def test_an_exported_circuit_samples_through_aer_as_its_likelihood_says(tmp_path, chi_square_p, kw, source):
    """Export writes the circuit with its weights bound and spiqgan's input angles as latent inputs, memory as
    conditioned rotations in one window circuit (ancilla reset between steps); Aer's windows against the exact
    probabilities of all 64 windows (Pearson's chi-square: the tolerance is the number of windows). A QNode's
    gates come from PennyLane's decomposition, their angles' dependence on the inputs by probing."""
    pytest.importorskip("qiskit_aer")
    from spiqgan.hardware.circuits import circuits_of
    from spiqgan.hardware.export import aer_sample

    spec = _file(tmp_path, "interfering", source)
    t = 2
    model = make_model(spec, N, t, steps=10, seed=4, **kw).fit(_windows(300, t, N))
    export = circuits_of(model)
    assert len(export.circuits) == (1 if "memory" in kw else t)
    assert export.circuits[0].n_qubits == N + 1  # the ancilla
    every = _every(t, N)
    drawn = aer_sample(export, 6000, seed=3)
    expected = np.exp(model.log_likelihood(every))
    assert chi_square_p(drawn, every, expected) > 1e-3
    other = make_model(spec, N, t, steps=10, seed=4, **kw).fit(_windows(300, t, N, seed=9))
    assert chi_square_p(drawn, every, np.exp(other.log_likelihood(every))) < 1e-6


def test_a_qnode_whose_gates_depend_on_its_inputs_is_not_exported(tmp_path):
    from spiqgan.hardware.circuits import circuits_of

    source = """
import pennylane as qml
dev = qml.device("default.qubit", wires=3)
WEIGHT_SHAPE = ()


@qml.qnode(dev, interface="torch")
def circuit(inputs, weights):
    for j in range(3):
        qml.RY(inputs[..., j] ** 2, wires=j)
    return qml.probs(wires=range(3))
"""
    model = make_model(_file(tmp_path, "square", source), N, 1, steps=3).fit(_windows(100, 1, N))
    with pytest.raises(ConfigError, match="not linear in its inputs and weights"):
        circuits_of(model)
