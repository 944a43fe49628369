"""IQP circuits over whole windows from Pauli-Z expectation values (spiqgan.quantum.expval).

Held to independent references: Qiskit's ``Statevector`` for the circuit, exact enumeration of all
``2**m`` outcomes for the expectation values (within 3 standard errors), their gradients and the MMD;
the bit-flip look-alike's sampler to its exact distribution by a chi-square test."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from spiqgan.quantum.expval import (Generators, bandwidth_for_weight, bitflip_expval, bitflip_probabilities,
                                    data_expval, iqp_expval, iqp_probabilities, mmd2_terms, operator_set,
                                    operators_from_sets, random_signs, sample_bitflip, sample_operators,
                                    window_generators)
from spiqgan.quantum.families.bitflip import bitflip_distribution
from spiqgan.quantum.families.iqp import iqp_distribution


def _parities(m: int) -> torch.Tensor:
    """``(2**m, m)`` +-1 of every outcome, qubit 0 the most significant bit."""
    idx = torch.arange(2**m)
    return (1 - 2 * ((idx[:, None] >> torch.arange(m - 1, -1, -1)) & 1)).double()


def _exact_expval(probabilities: torch.Tensor, ops: np.ndarray) -> torch.Tensor:
    """<Z_a> of a distribution over ``2**m`` outcomes for 0/1 operators ``(O, m)`` (by enumeration)."""
    s = _parities(ops.shape[1])
    a = torch.as_tensor(ops, dtype=torch.float64)
    return ((s[:, None, :] ** a[None]).prod(-1) * probabilities[:, None]).sum(0)


def _large_angles(g: Generators, seed: int) -> torch.Tensor:
    return torch.as_tensor(np.random.default_rng(seed).uniform(0, np.pi, g.n_parameters))


def test_the_window_generators_have_the_space_time_structure():
    g = window_generators(3, 2, max_lag=1)
    pairs = {tuple(sorted(r)) for r in g.qubits.tolist() if r[1] >= 0}
    assert {(0, 1), (2, 3), (4, 5)} <= pairs  # in one step
    assert {(0, 2), (1, 3), (0, 3), (1, 2), (2, 4)} <= pairs  # one neuron and across neurons, lag 1
    assert (0, 4) not in pairs  # lag 2 > max_lag
    # shared: z per neuron (2), one pair in a step (1), lag 1: 2 x 2 neuron pairs (4)
    assert g.n_parameters == 2 + 1 + 4 and g.n_generators == 6 + 3 + 2 * 4
    assert window_generators(3, 2, max_lag=1, shared=False).n_parameters == g.n_generators
    with pytest.raises(ValueError, match="one or two qubits"):
        Generators(np.array([[0, 1, 2]]), np.array([0]), 3, 1)


def test_the_window_circuit_is_qiskits():
    """H, exp(i sum theta_g Z_g), H on |0> (ZZ as rzz, Z as rz) against Qiskit's Statevector."""
    qiskit = pytest.importorskip("qiskit")
    from qiskit.quantum_info import Statevector

    g = window_generators(3, 2, max_lag=2, shared=False)
    theta = _large_angles(g, 0)
    qc = qiskit.QuantumCircuit(g.n_qubits)
    qc.h(range(g.n_qubits))
    for (a, b), p in zip(g.qubits.tolist(), g.parameter.tolist()):
        if b < 0:
            qc.rz(-2 * float(theta[p]), a)
        else:
            qc.rzz(-2 * float(theta[p]), a, b)
    qc.h(range(g.n_qubits))
    probs = Statevector(qc.reverse_bits()).probabilities()  # qubit 0 the most significant bit, as spiqgan
    assert np.abs(iqp_probabilities(theta, g).numpy() - probs).max() < 1e-12


def test_one_step_is_the_iqp_and_bitflip_families():
    g = window_generators(1, 5)
    theta = _large_angles(g, 1)
    assert torch.allclose(iqp_probabilities(theta, g), iqp_distribution(theta[:5], theta[5:]), atol=1e-14)
    assert torch.allclose(bitflip_probabilities(theta, g), bitflip_distribution(theta[:5], theta[5:]), atol=1e-14)


@pytest.mark.parametrize("t, n, max_lag, weight", [(1, 6, 1, 2.0), (3, 3, 2, 1.5), (4, 4, 1, 3.0)])
def test_the_estimator_agrees_with_enumeration_within_three_standard_errors(t, n, max_lag, weight):
    g = window_generators(t, n, max_lag)
    theta = _large_angles(g, t * n)
    m = g.n_qubits
    ops, _ = sample_operators(m, [bandwidth_for_weight(weight, m)], 40, np.random.default_rng(0))
    exact = _exact_expval(iqp_probabilities(theta, g), ops.toarray())
    est, se = iqp_expval(theta, g, ops, 4000, np.random.default_rng(1))
    live = se > 0  # the empty operator and operators no generator meets oddly are exactly 1
    assert live.sum() > 30
    assert torch.allclose(est[~live], exact[~live], atol=1e-12)
    z = ((est - exact)[live] / se[live]).abs()
    assert (z < 3).float().mean() > 0.97 and z.max() < 4.5  # one in a hundred beyond 3 SE by chance
    assert torch.allclose(bitflip_expval(theta, g, ops), _exact_expval(bitflip_probabilities(theta, g), ops.toarray()),
                          atol=1e-12)


def test_the_estimators_gradient_is_unbiased():
    g = window_generators(2, 3, 1)
    m = g.n_qubits
    theta = _large_angles(g, 5).requires_grad_()
    ops, _ = sample_operators(m, [bandwidth_for_weight(2.0, m)], 30, np.random.default_rng(2))
    coef = torch.as_tensor(np.random.default_rng(3).normal(size=ops.shape[0]))
    (coef @ _exact_expval(iqp_probabilities(theta, g), ops.toarray())).backward()
    exact = theta.grad.clone()
    rng, opset, grads = np.random.default_rng(4), operator_set(ops, g), []
    for _ in range(20):
        theta.grad = None
        (coef @ iqp_expval(theta, g, opset, 2000, rng)[0]).backward()
        grads.append(theta.grad.clone())
    grads = torch.stack(grads)
    se = grads.std(0) / np.sqrt(len(grads))
    assert ((grads.mean(0) - exact).abs() < 4 * se + 1e-12).all()
    assert (se < 0.2 * exact.abs().max()).all()  # the check has power


def test_the_bitflip_sampler_follows_its_distribution(chi_square_p):
    g = window_generators(2, 3, 1)
    theta = _large_angles(g, 6)
    draws = sample_bitflip(theta.numpy(), g, 40000, np.random.default_rng(0))
    every = np.array(list(itertools.product([0, 1], repeat=g.n_qubits)), dtype=np.uint8)  # qubit 0 most significant
    probs = bitflip_probabilities(theta, g).numpy()
    assert chi_square_p(draws.reshape(-1, 2, 3), every.reshape(-1, 2, 3), probs) > 1e-3
    other = bitflip_probabilities(_large_angles(g, 7), g).numpy()
    assert chi_square_p(draws.reshape(-1, 2, 3), every.reshape(-1, 2, 3), other) < 1e-6


def test_the_mmd_from_expectation_values_is_the_kernel_mmd():
    """The mean over sampled operators (two bandwidths) of the squared differences of expectation values against
    (p - q)^T K (p - q) by enumeration, K the mean of the two Gaussian kernels."""
    g = window_generators(2, 3, 1)
    m = g.n_qubits
    p = iqp_probabilities(_large_angles(g, 8), g)
    q = bitflip_probabilities(_large_angles(g, 9), g)
    sigmas = [bandwidth_for_weight(1.0, m), bandwidth_for_weight(2.5, m)]
    bits = (1 - _parities(m)) / 2
    distance = (bits[:, None, :] != bits[None, :, :]).sum(-1).double()
    exact = np.mean([float((p - q) @ torch.exp(-distance / (2 * s**2)) @ (p - q)) for s in sigmas])
    ops, _ = sample_operators(m, sigmas, 20000, np.random.default_rng(10))
    model, data = _exact_expval(p, ops.toarray()), _exact_expval(q, ops.toarray())
    terms = mmd2_terms(model, model, data, data**2)
    assert torch.allclose(terms, (model - data) ** 2, atol=1e-14)
    se = float(terms.std()) / np.sqrt(terms.numel())
    assert abs(float(terms.mean()) - exact) < 3 * se
    assert se < 0.05 * exact  # the check has power


def test_the_datas_square_is_unbiased():
    """The U-statistic square of data_expval averages to <Z_a>^2; the plug-in square is off by (1 - <Z_a>^2) / N."""
    rng = np.random.default_rng(11)
    ops = operators_from_sets([(0,), (0, 1), (1, 2)], 3)
    rates = np.array([0.2, 0.4, 0.1])
    truth = np.array([1 - 2 * 0.2, (1 - 0.4) * (1 - 0.8), (1 - 0.8) * (1 - 0.2)])
    n, squares, plug_in = 10, [], []
    for _ in range(4000):
        mean, square = data_expval((rng.random((n, 3)) < rates).astype(np.uint8), ops)
        squares.append(square)
        plug_in.append(mean**2)
    squares, plug_in = np.array(squares), np.array(plug_in)
    se = squares.std(0) / np.sqrt(len(squares))
    assert (np.abs(squares.mean(0) - truth**2) < 3 * se).all()
    assert (np.abs(plug_in.mean(0) - truth**2) > 5 * se).all()


def test_random_signs_are_fair_and_seeded():
    a = random_signs(1000, 50, np.random.default_rng(0))
    assert set(a.unique().tolist()) == {-1.0, 1.0} and a.shape == (50, 1000)
    assert abs(float(a.mean())) < 4 / np.sqrt(a.numel())
    assert torch.equal(a, random_signs(1000, 50, np.random.default_rng(0)))
