"""The statevector simulator: closed forms, qubit order, sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spiqgan.quantum import statevector as sim

TOL = dict(rtol=0, atol=1e-12)


def _angles(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_rotation_matrices_on_zero_closed_form():
    theta = _angles(0.3, 1.7)
    zero = sim.zero_state(2, 1, torch.complex128)
    rx = sim.apply_single_qubit(zero, sim.rx_matrix(theta, torch.complex128), 0, 1)
    ry = sim.apply_single_qubit(zero, sim.ry_matrix(theta, torch.complex128), 0, 1)
    rz = sim.apply_single_qubit(zero, sim.rz_matrix(theta, torch.complex128), 0, 1)
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    torch.testing.assert_close(rx, torch.stack([c + 0j, -1j * s], -1), **TOL)
    torch.testing.assert_close(ry, torch.stack([c + 0j, s + 0j], -1), **TOL)
    torch.testing.assert_close(rz, torch.stack([torch.exp(-0.5j * theta), 0 * theta + 0j], -1), **TOL)


def test_rx_probability_gradient_closed_form():
    # P(1) after RX(theta)|0> is sin^2(theta/2); its derivative is sin(theta)/2
    theta = _angles(0.4, 2.2).requires_grad_()
    state = sim.apply_single_qubit(sim.zero_state(2, 1, torch.complex128), sim.rx_matrix(theta, torch.complex128), 0, 1)
    p1 = sim.probabilities(state)[:, 1]
    p1.sum().backward()
    torch.testing.assert_close(p1.detach(), torch.sin(theta.detach() / 2) ** 2, **TOL)
    torch.testing.assert_close(theta.grad, torch.sin(theta.detach()) / 2, **TOL)


def test_qubit_zero_is_the_most_significant_bit():
    # X (RX(pi) up to phase) on qubit 0 of 3 qubits: |000> -> |100> = index 4
    x = sim.rx_matrix(_angles(math.pi), torch.complex128)
    state = sim.apply_single_qubit(sim.zero_state(1, 3, torch.complex128), x, 0, 3)
    assert int(sim.probabilities(state).argmax()) == 0b100
    state = sim.apply_single_qubit(sim.zero_state(1, 3, torch.complex128), x, 2, 3)
    assert int(sim.probabilities(state).argmax()) == 0b001


@pytest.mark.parametrize("n_qubits", [2, 3, 5])
def test_cnot_chain_on_every_basis_state(n_qubits):
    # CNOT(0,1) then CNOT(1,2) ...: bit j+1 becomes the XOR of bits 0..j+1 (prefix parity)
    perm = sim.cnot_chain_permutation(n_qubits)
    for index in range(2**n_qubits):
        bits = [(index >> (n_qubits - 1 - k)) & 1 for k in range(n_qubits)]
        out = list(np.cumsum(bits) % 2)
        expected = sum(b << (n_qubits - 1 - k) for k, b in enumerate(out))
        state = torch.zeros(1, 2**n_qubits, dtype=torch.complex128)
        state[0, index] = 1
        assert int(sim.apply_permutation(state, perm).abs().argmax()) == expected


def test_layer_probabilities_sum_to_one_and_marginals():
    g = torch.Generator().manual_seed(0)
    angles = torch.rand(4, 3, generator=g, dtype=torch.float64) * 6
    mats = sim.ry_matrix(angles, torch.complex128) @ sim.rx_matrix(angles * 0.7, torch.complex128)
    state = sim.apply_layer(sim.zero_state(4, 3, torch.complex128), mats, 3, entangle=False)
    probs = sim.probabilities(state)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4, dtype=torch.float64), **TOL)
    # product state: P(qubit k = 1) is that qubit's own |<1|U|0>|^2
    single = (mats[..., 1, 0].abs() ** 2)
    torch.testing.assert_close(sim.bit_marginals(probs, 3), single, **TOL)
    torch.testing.assert_close(sim.marginal_first(probs, 1, 3)[:, 1], single[:, 0], **TOL)


def test_sampling_frequencies_match_probabilities():
    dist = torch.tensor([[0.5, 0.25, 0.125, 0.125]], dtype=torch.float64).expand(200000, 4)
    idx = sim.sample_indices(dist, torch.Generator().manual_seed(3))
    freq = torch.bincount(idx, minlength=4).double() / idx.numel()
    # binomial standard error <= 0.0012 at 200000 draws: 5 sigma
    torch.testing.assert_close(freq, dist[0], rtol=0, atol=0.006)
    again = sim.sample_indices(dist, torch.Generator().manual_seed(3))
    assert torch.equal(idx, again)


def test_indices_to_bits_msb_first():
    bits = sim.indices_to_bits(torch.tensor([0b1011, 0b0001]), 4)
    assert bits.tolist() == [[1, 0, 1, 1], [0, 0, 0, 1]] and bits.dtype == torch.uint8


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4, 5, 7, 9])
@pytest.mark.parametrize("entangle", [True, False])
def test_fused_layer_equals_gate_by_gate(n_qubits, entangle):
    g = torch.Generator().manual_seed(n_qubits)
    state = torch.randn(3, 2**n_qubits, dtype=torch.complex128, generator=g)
    angles = torch.rand(3, n_qubits, 2, generator=g, dtype=torch.float64) * 6
    mats = (sim.rz_matrix(angles[..., 0], torch.complex128) @ sim.ry_matrix(angles[..., 1], torch.complex128)).requires_grad_()
    expected = state
    for wire in range(n_qubits):
        expected = sim.apply_single_qubit(expected, mats[:, wire], wire, n_qubits)
    if entangle:
        expected = sim.apply_permutation(expected, sim.cnot_chain_permutation(n_qubits))
    fused = sim.apply_layer(state, mats, n_qubits, entangle=entangle)
    torch.testing.assert_close(fused, expected, rtol=0, atol=1e-12)
    weights = torch.randn(2**n_qubits, dtype=torch.float64, generator=g)
    (g1,) = torch.autograd.grad((sim.probabilities(fused) * weights).sum(), mats)
    (g2,) = torch.autograd.grad((sim.probabilities(expected) * weights).sum(), mats)
    torch.testing.assert_close(g1, g2, rtol=0, atol=1e-12)


@pytest.mark.parametrize("encoding", ["rx", "ry", None])
def test_fused_rotation_equals_the_product_of_its_gates(encoding):
    g = torch.Generator().manual_seed(1)
    theta, phi, alpha = (torch.rand(5, 3, generator=g, dtype=torch.float64) * 7 - 1 for _ in range(3))
    fused = sim.fused_rotation(theta, phi, None if encoding is None else alpha, encoding or "rx", torch.complex128)
    expected = sim.rz_matrix(phi, torch.complex128) @ sim.ry_matrix(theta, torch.complex128)
    if encoding == "rx":
        expected = expected @ sim.rx_matrix(alpha, torch.complex128)
    elif encoding == "ry":
        expected = expected @ sim.ry_matrix(alpha, torch.complex128)
    torch.testing.assert_close(fused, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_kron_gates_value_and_gradient(k):
    g = torch.Generator().manual_seed(k)
    mats = torch.randn(3, k, 2, 2, dtype=torch.complex128, generator=g).requires_grad_()
    out = sim.kron_gates(mats)
    expected = mats[:, 0]
    for j in range(1, k):  # reference: torch.kron per sample
        expected = torch.stack([torch.kron(expected[i], mats[i, j]) for i in range(3)])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    weights = torch.randn(out.shape, dtype=torch.complex128, generator=g)
    (ours,) = torch.autograd.grad((out * weights).real.sum(), mats)
    (ref,) = torch.autograd.grad((expected * weights).real.sum(), mats)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
