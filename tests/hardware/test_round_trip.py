"""Export round trip: for fixed inputs, the OpenQASM 3 (read by Qiskit), Qiskit and PennyLane circuits give spiqgan's exact distributions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spiqgan.hardware.circuits import circuits_of, lower_counts
from spiqgan.hardware.pennylane_io import load_pennylane, pennylane_source
from spiqgan.hardware.qasm import to_qasm3
from spiqgan.quantum.statevector import indices_to_bits

from hardware_helpers import all_windows, born_model, chain_generator, qiskit_distribution

TOL = 1e-9

CHAINS = {
    "paper": dict(preset="paper", n=3, t=2),
    "qce2023": dict(preset="qce2023", n=4, t=2),
    "chain-mixing": dict(preset=None, n=2, t=2, n_layers=2, n_ancillas=1, trainable_encoding=True, noise_mixing=True,
                         noise_sharing="per_timestep", noise_layers="first"),
}
BORNS = {
    "cry": dict(family="cry", n=3, t=2, memory=0, history=0, latent_dim=1),
    "cry-memory-count": dict(family="cry", n=3, t=3, memory=1, history=2, count_term=True, latent_dim=1),
    "cry-count-per-step": dict(family="cry", n=4, t=1, count_term=True, latent_dim=2, couplings="per_step"),
    "iqp": dict(family="iqp", n=3, t=2, latent_dim=1),
    "bitflip": dict(family="bitflip", n=3, t=2, latent_dim=1),
}


def _chain_case(name):
    kw = dict(CHAINS[name])
    gen = chain_generator(kw.pop("preset"), kw.pop("n"), kw.pop("t"), seed=3, **kw)
    noise = gen.draw_noise(1, torch.Generator().manual_seed(5))
    exact = gen.qubit_probabilities(noise)[0].detach().numpy()  # (t, 2**q), qubit 0 most significant
    export = circuits_of(gen)
    q = gen.config.n_qubits
    expected = []
    for s, circuit in enumerate(export.circuits):
        gamma = noise[0] if noise.dim() == 2 else noise[0, s]
        values = {f"gamma_{j}": float(gamma[j]) for j in range(q)}
        bits = indices_to_bits(torch.arange(2**q), q).numpy()
        measured = circuit.measured()  # (register, index) of each outcome bit
        # the qubit each measured bit reads: features first, then the ancillas
        f = gen.config.n_feature_qubits
        qubit_of = {("spikes", j): j for j in range(f)} | {("basis", j): j for j in range(f)} | \
                   {("ancilla", j): f + j for j in range(gen.config.n_ancillas)}
        dist: dict[tuple[int, ...], float] = {}
        for idx in range(2**q):
            key = tuple(int(bits[idx, qubit_of[b]]) for b in measured)
            dist[key] = dist.get(key, 0.0) + float(exact[s, idx])
        expected.append((circuit, values, dist))
    return export, expected


def _born_case(name):
    kw = dict(BORNS[name])
    model = born_model(kw.pop("family"), kw.pop("n"), kw.pop("t"), seed=4, **kw)
    p = model.params_
    t, n = p["n_timesteps"], p["n_neurons"]
    d = model.loadings_.shape[2]  # latent dimensions, or states (one-hot inputs: the default at t > 1)
    rng = np.random.default_rng(1)
    latent = rng.normal(size=(t, d))  # a different latent value at every step
    windows = all_windows(t, n)
    export = circuits_of(model)
    expected = []
    if export.window_circuit:
        logp = model.conditional_log_likelihood(windows, latent)
        values = {f"z_{k}_t{s}": float(latent[s, k]) for s in range(t) for k in range(d)}
        dist = {tuple(w.ravel()): float(np.exp(lp)) for w, lp in zip(windows, logp)}
        expected.append((export.circuits[0], values, dist))
    else:
        for s, circuit in enumerate(export.circuits):
            # steps are independent given the latent path: vary step s, hold the others silent, normalize
            steps = np.zeros((2**n, t, n), dtype=np.uint8)
            steps[:, s] = all_windows(1, n)[:, 0]
            logp = model.conditional_log_likelihood(steps, latent)
            probs = np.exp(logp - logp.max())
            probs = probs / probs.sum()
            dist = {tuple(pattern): float(pr) for pattern, pr in zip(steps[:, s], probs)}
            values = {f"z_{k}": float(latent[s, k]) for k in range(d)}
            expected.append((circuit, values, dist))
    return export, expected


CASES = [("chain", k) for k in CHAINS] + [("born", k) for k in BORNS]


def _case(kind, name):
    return _chain_case(name) if kind == "chain" else _born_case(name)


def _outputs_only(circuit, dist_all_bits, clbit_names):
    """Marginal of a distribution over every classical bit onto the circuit's own registers (no scratch bits)."""
    keep = [clbit_names.index(b) for b in circuit.measured()]
    out: dict[tuple[int, ...], float] = {}
    for bits, prob in dist_all_bits.items():
        key = tuple(bits[i] for i in keep)
        out[key] = out.get(key, 0.0) + prob
    return out


def _max_difference(got: dict, want: dict) -> float:
    keys = set(got) | set(want)
    return max(abs(got.get(k, 0.0) - want.get(k, 0.0)) for k in keys)


def _clbit_names(qc):
    return [(qc.find_bit(b).registers[0][0].name, qc.find_bit(b).registers[0][1]) for b in qc.clbits]


@pytest.mark.parametrize("kind,name", CASES)
def test_qiskit_its_qpy_file_and_its_qasm3_reading_give_the_exact_distribution(qiskit, kind, name, tmp_path):
    from qiskit import qpy

    from spiqgan.hardware.qiskit_io import to_qiskit, write_qpy

    export, expected = _case(kind, name)
    with open(write_qpy(tmp_path / "c.qpy", export.circuits, {"model": "m"}), "rb") as fh:
        from_file = qpy.load(fh)
    for k, (circuit, values, want) in enumerate(expected):
        # the file says what each circuit is (its metadata was empty)
        assert from_file[k].metadata == {"model": "m", "description": circuit.description, "steps": circuit.steps,
                                         "inputs": list(circuit.inputs)}
        for qc in (to_qiskit(circuit), from_file[k], qiskit.qasm3.loads(to_qasm3(circuit))):
            got = _outputs_only(circuit, qiskit_distribution(qc, values), _clbit_names(qc))
            assert abs(sum(got.values()) - 1) < TOL
            assert _max_difference(got, want) < TOL, (name, circuit.name)


@pytest.mark.parametrize("kind,name", CASES)
def test_pennylane_gives_the_exact_distribution(pennylane, kind, name):
    qml = pennylane
    export, expected = _case(kind, name)
    functions = load_pennylane(pennylane_source(export.circuits))
    for circuit, values, want in expected:
        # the written <name>_probs is a QNode's function as it stands (a bare <name> returns a dict of bits)
        probs = qml.QNode(functions[f"{circuit.name}_probs"], qml.device("default.qubit"), mcm_method="tree-traversal")
        got_array = np.asarray(probs(**values)).ravel()
        got = {tuple(int(b) for b in np.binary_repr(i, len(circuit.measured()))): float(p)
               for i, p in enumerate(got_array)}
        assert _max_difference(got, want) < TOL, (name, circuit.name)


def test_qasm3_declares_inputs_and_names_the_registers():
    gen = chain_generator("paper", 3, 2)
    text = to_qasm3(circuits_of(gen).circuits[1])
    assert "input float[64] gamma_0;" in text and "input float[64] gamma_3;" in text
    assert "bit[3] spikes;  // time step 1" in text and "spikes[2] = measure q[2];" in text


def test_lowering_the_count_term_keeps_where_each_step_begins():
    model = born_model("cry", 3, 2, memory=1, count_term=True)
    window = circuits_of(model).circuits[0]
    lowered = lower_counts(window)
    assert len(lowered.step_starts) == 2 and lowered.step_starts[0] == 0
    # the second step begins with the resets of the reused qubits, in both
    assert window.ops[window.step_starts[1]].name == lowered.ops[lowered.step_starts[1]].name == "reset"
    assert lowered.step_starts[1] > window.step_starts[1]  # the thermometer updates of step 0 came first
    assert "count_spikes_0" in lowered.registers and lowered.n_qubits == window.n_qubits + 1
