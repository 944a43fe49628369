"""The circuit families against PennyLane circuits built from their descriptions, and their properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from spiqgan.quantum.families import FAMILIES, get_family
from spiqgan.quantum.families.base import lower_triangular, pattern_bits, walsh_hadamard
from spiqgan.quantum.families.bitflip import bitflip_distribution

qml = pytest.importorskip("pennylane", reason="PennyLane is a test dependency")

TOL = 1e-10


def _pennylane_probs(family: str, theta: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The circuit of ``family`` gate by gate in PennyLane default.qubit (float64), written from the docstring."""
    n = len(theta)
    dev = qml.device("default.qubit", wires=n)
    pair_list = list(itertools.combinations(range(n), 2))

    @qml.qnode(dev)
    def circuit():
        if family == "cry":
            for j in range(n):
                qml.RY(theta[j], wires=j)
            for (i, j), w in sorted(zip(pair_list, pairs), key=lambda pw: pw[0][1]):  # in the order of the targets
                qml.CRY(w, wires=[i, j])
        else:  # iqp: H, exp(i(sum a Z + sum b ZZ)), H;  exp(i a Z) = RZ(-2a), exp(i b ZZ) = IsingZZ(-2b)
            for j in range(n):
                qml.Hadamard(wires=j)
            for j in range(n):
                qml.RZ(-2 * theta[j], wires=j)
            for (i, j), b in zip(pair_list, pairs):
                qml.IsingZZ(-2 * b, wires=[i, j])
            for j in range(n):
                qml.Hadamard(wires=j)
        return qml.probs(wires=range(n))

    return np.asarray(circuit())


@pytest.mark.parametrize("family", ["cry", "iqp"])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_family_matches_pennylane(family, n):
    rng = np.random.default_rng(n)
    theta, pairs = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n * (n - 1) // 2)
    ours = get_family(family).distribution(torch.tensor(theta), torch.tensor(pairs)).numpy()
    np.testing.assert_allclose(ours, _pennylane_probs(family, theta, pairs), atol=TOL)


def test_cry_amplitudes_are_one_signed_product_per_pattern():
    """The controlled-RY state is real with amplitude prod_j cos or sin of half neuron j's total angle (no sum over
    paths: no interference), and some amplitudes are negative (what the docs and benchmarks/cry_amplitudes.py say)."""
    n = 3
    rng = np.random.default_rng(5)
    theta, pairs = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n * (n - 1) // 2)
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def state():
        for j in range(n):
            qml.RY(theta[j], wires=j)
        for (i, j), w in sorted(zip(itertools.combinations(range(n), 2), pairs), key=lambda pw: pw[0][1]):
            qml.CRY(w, wires=[i, j])
        return qml.state()

    bits = pattern_bits(n, torch.float64).numpy()
    phi = theta[None] + bits @ lower_triangular(torch.tensor(pairs), n).numpy().T
    ours = np.where(bits == 1, np.sin(phi / 2), np.cos(phi / 2)).prod(-1)
    reference = np.asarray(state())
    np.testing.assert_allclose(reference.imag, 0, atol=TOL)
    np.testing.assert_allclose(ours, reference.real, atol=TOL)
    assert (ours < -0.01).any()


def _bitflip_by_enumeration(theta: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Every combination of generators flipping, with its probability: the definition, for small n."""
    n = len(theta)
    gens = [(j,) for j in range(n)] + list(itertools.combinations(range(n), 2))
    q = np.sin(np.concatenate([theta, pairs])) ** 2
    dist = np.zeros(2**n)
    for flips in itertools.product((0, 1), repeat=len(gens)):
        x = np.zeros(n, dtype=int)
        prob = 1.0
        for g, f, qg in zip(gens, flips, q):
            prob *= qg if f else 1 - qg
            if f:
                x[list(g)] ^= 1
        dist[int("".join(map(str, x)), 2)] += prob
    return dist


@pytest.mark.parametrize("n", [1, 2, 3])
def test_bitflip_matches_enumeration(n):
    rng = np.random.default_rng(10 + n)
    theta, pairs = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n * (n - 1) // 2)
    ours = bitflip_distribution(torch.tensor(theta), torch.tensor(pairs)).numpy()
    np.testing.assert_allclose(ours, _bitflip_by_enumeration(theta, pairs), atol=TOL)


def test_bitflip_matches_iqp_one_generator_marginals():
    """The look-alike's defining property: <Z_j> agrees with the IQP circuit's for single-neuron generators only."""
    rng = np.random.default_rng(3)
    theta, pairs = torch.tensor(rng.uniform(-1, 1, 3)), torch.zeros(3, dtype=torch.float64)
    bits = pattern_bits(3, torch.float64)
    for family in ("iqp", "bitflip"):
        rates = get_family(family).distribution(theta, pairs) @ bits
        torch.testing.assert_close(rates, torch.sin(theta) ** 2, atol=TOL, rtol=0)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_independent_angles_reproduce_rates_and_batch(family):
    rates = torch.tensor([[0.01, 0.3, 0.5, 0.99], [0.2, 0.0, 1.0, 0.05]], dtype=torch.float64)
    dist = get_family(family).distribution(get_family(family).independent_angles(rates), torch.zeros(6, dtype=torch.float64))
    assert dist.shape == (2, 16)
    torch.testing.assert_close(dist.sum(-1), torch.ones(2, dtype=torch.float64), atol=TOL, rtol=0)
    torch.testing.assert_close(dist @ pattern_bits(4, torch.float64), rates, atol=TOL, rtol=0)


def test_walsh_hadamard_is_the_hadamard_matrix():
    n = 3
    h = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=torch.float64)
    full = h
    for _ in range(n - 1):
        full = torch.kron(full, h)
    v = torch.randn(5, 2**n, dtype=torch.float64)
    torch.testing.assert_close(walsh_hadamard(v, n), v @ full.T)


def test_lower_triangular_layout():
    w = lower_triangular(torch.arange(1.0, 4.0), 3)
    assert w.tolist() == [[0, 0, 0], [1, 0, 0], [2, 3, 0]]
