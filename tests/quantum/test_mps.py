"""The matrix-product-state backend against the statevector, and its sampler against exact probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from spiqgan.quantum import mps
from spiqgan.quantum.generator import CircuitConfig, ConfigError, PatchGenerator

# complex128: probabilities and every gradient of the two backends agree to this
TOL = 1e-10

CASES = [
    # (name, config, t)
    ("no ancilla, one layer", CircuitConfig(3, n_ancillas=0, n_layers=1), 2),
    ("paper, 5 layers", CircuitConfig(4, n_layers=5), 2),
    ("two ancillas, 6 layers", CircuitConfig(3, n_ancillas=2, n_layers=6), 1),
    ("first-layer noise, narrow, identity init",
     CircuitConfig(4, noise_layers="first", noise_scale=0.1, init="identity", n_layers=3), 2),
    ("trainable encoding", CircuitConfig(3, trainable_encoding=True, n_layers=3), 2),
    ("noise mixing", CircuitConfig(3, trainable_encoding=True, noise_mixing=True, n_layers=3), 2),
    ("per-timestep noise", CircuitConfig(3, noise_sharing="per_timestep", n_layers=2), 3),
    ("threshold readout", CircuitConfig(3, readout="threshold", n_layers=2), 2),
    ("one qubit", CircuitConfig(1, n_ancillas=0, n_layers=3), 2),
    ("14 qubits", CircuitConfig(12, n_ancillas=2, n_layers=5), 1),
]


def _pair(config: CircuitConfig, t: int) -> tuple[PatchGenerator, PatchGenerator]:
    sv = PatchGenerator(config, t, dtype=torch.complex128, seed=3, backend="statevector")
    if config.trainable_encoding:  # away from the initial weights, so that every weight matters
        with torch.no_grad():
            sv.encoding_weights.add_(0.3 * torch.randn(sv.encoding_weights.shape, dtype=torch.float64,
                                                       generator=torch.Generator().manual_seed(1)))
    tn = PatchGenerator(config, t, dtype=torch.complex128, seed=3, backend="mps")
    tn.load_state_dict(sv.state_dict())
    return sv, tn


@pytest.mark.parametrize("name, config, t", CASES, ids=[c[0] for c in CASES])
def test_probabilities_and_gradients_equal_the_statevector(name, config, t):
    sv, tn = _pair(config, t)
    noise = sv.draw_noise(3, torch.Generator().manual_seed(5))
    a, b = sv(noise), tn(noise)
    np.testing.assert_allclose(b.probabilities.detach(), a.probabilities.detach(), rtol=0, atol=TOL)
    np.testing.assert_allclose(b.spike_probabilities.detach(), a.spike_probabilities.detach(), rtol=0, atol=TOL)
    np.testing.assert_allclose(b.probabilities.detach().sum(-1), 1.0, rtol=0, atol=TOL)
    # the likelihood route: log-probabilities of given windows, and their gradients
    windows = torch.randint(0, 2, (7, t, config.n_neurons), generator=torch.Generator().manual_seed(2))
    windows[3] = windows[0]  # a repeated window (computed once on the MPS backend)
    la, lb = sv(noise, windows=windows).window_log_probs, tn(noise, windows=windows).window_log_probs
    assert la.shape == lb.shape == (3, 7, t)
    np.testing.assert_allclose(lb.detach(), la.detach(), rtol=0, atol=TOL)
    weights = torch.linspace(0.5, 1.5, la.numel(), dtype=torch.float64).reshape(la.shape)
    spikes = torch.linspace(-1, 1, config.n_neurons, dtype=torch.float64)
    params = [p for p in sv.parameters()]
    grads_sv = torch.autograd.grad((la * weights).sum() + (sv(noise).spike_probabilities * spikes).sum(), params)
    grads_tn = torch.autograd.grad((lb * weights).sum() + (tn(noise).spike_probabilities * spikes).sum(),
                                   list(tn.parameters()))
    for g_sv, g_tn in zip(grads_sv, grads_tn):
        assert float(g_sv.abs().max()) > 1e-6  # the loss depends on every parameter group
        np.testing.assert_allclose(g_tn, g_sv, rtol=0, atol=TOL)


def test_bond_dimension_is_two_to_the_layers():
    gen = PatchGenerator(CircuitConfig(6, n_layers=4), 1, backend="mps")
    gates = gen._layer_matrices(gen.draw_noise(2)[:, None, :])
    sites = mps.chain_mps(gates)
    assert [s.shape[1] for s in sites] == [1] + [16] * 6
    assert [s.shape[3] for s in sites] == [16] * 6 + [1]
    assert gen.resources()["bond_dimension"] == 16 and gen.resources()["backend"] == "mps"


def test_forty_one_qubits_are_normalized_and_marginals_agree():
    # beyond the statevector: the distribution of 10 neurons with 31 ancillas traced out sums to 1,
    # and its bit marginals are the environments' spike probabilities
    gen = PatchGenerator(CircuitConfig(10, n_ancillas=31, n_layers=4), 1, dtype=torch.complex128, backend="auto")
    assert gen.backend == "mps"
    with torch.no_grad():
        out = gen(gen.draw_noise(2, torch.Generator().manual_seed(0)))
    dist = out.probabilities[:, 0]
    np.testing.assert_allclose(dist.sum(-1), 1.0, rtol=0, atol=1e-12)
    bits = (torch.arange(1024)[:, None] >> torch.arange(9, -1, -1)) & 1
    np.testing.assert_allclose(dist @ bits.double(), out.spike_probabilities[:, 0], rtol=0, atol=1e-12)


def _fixed_circuit(config: CircuitConfig, copies: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    gen = PatchGenerator(config, 1, dtype=torch.complex128, seed=11, backend="mps")
    noise = gen.draw_noise(1, torch.Generator().manual_seed(4))
    sites = mps.chain_mps(gen._layer_matrices(noise[:, None, :]))
    sites = [s.detach() for s in sites]
    exact = mps.all_pattern_probabilities(sites, config.n_neurons)[0]
    return [s.expand(copies, *s.shape[1:]) for s in sites], exact


def test_sampling_passes_a_chi_square_test_against_exact_probabilities():
    config = CircuitConfig(4, n_ancillas=1, n_layers=3, noise_scale=0.5)
    sites, exact = _fixed_circuit(config, 40000)
    bits = mps.sample(sites, 4, torch.Generator().manual_seed(0))
    idx = (bits.long() * torch.tensor([8, 4, 2, 1])).sum(-1)
    observed = torch.bincount(idx, minlength=16).double().numpy()
    expected = exact.numpy() * observed.sum()
    assert chisquare(observed, expected).pvalue > 1e-3
    # the test has power: the same counts against the distribution of another noise draw fail it
    other = PatchGenerator(config, 1, dtype=torch.complex128, seed=11, backend="mps")
    noise = other.draw_noise(1, torch.Generator().manual_seed(99))
    with torch.no_grad():
        wrong = mps.all_pattern_probabilities(mps.chain_mps(other._layer_matrices(noise[:, None, :])), 4)[0]
    assert chisquare(observed, wrong.numpy() * observed.sum()).pvalue < 1e-6


def test_generator_sampling_on_mps_matches_the_statevector_in_distribution():
    config = CircuitConfig(3, n_layers=3, noise_scale=0.3, init="identity", init_scale=0.8)
    sv = PatchGenerator(config, 2, seed=5, backend="statevector")
    tn = PatchGenerator(config, 2, seed=5, backend="mps")
    a = sv.sample(20000, 1).numpy().reshape(20000, -1).mean(0)
    b = tn.sample(20000, 2).numpy().reshape(20000, -1).mean(0)
    assert tn.sample(5, 0).shape == (5, 2, 3)
    np.testing.assert_allclose(b, a, atol=0.02)  # rates of 6 bits, each within ~5 standard errors


def test_mps_errors_say_what_to_do():
    gen = PatchGenerator(CircuitConfig(13, n_layers=2), 1, backend="mps")
    noise = gen.draw_noise(2)
    with pytest.raises(ConfigError, match="shots .* statevector backend"):
        gen(noise, shots=10)
    out = gen(noise)
    assert out.probabilities is None  # 13 neurons: the whole distribution is not formed
    with pytest.raises(ConfigError, match="draw windows with sample"):
        gen.readout(out)
    with pytest.raises(ConfigError, match=r"windows must have shape \(B, 1, 13\)"):
        gen(noise, windows=torch.zeros(4, 1, 12))
