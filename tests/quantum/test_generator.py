"""The patch generator against an independent PennyLane implementation, and its properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spiqgan.quantum.generator import CircuitConfig, ConfigError, PatchGenerator, config_from_preset

pennylane_reference = pytest.importorskip("pennylane_reference", reason="PennyLane is a test dependency")

# complex128 against PennyLane default.qubit: outputs and every gradient agree to this
REFERENCE_TOL = 1e-10

CASES = [
    # (name, config, t)
    ("paper n1 a0", CircuitConfig(1, n_ancillas=0, n_layers=2), 2),
    ("paper n2 a1 l3", CircuitConfig(2, n_layers=3), 3),
    ("paper n3 a2", CircuitConfig(3, n_ancillas=2, n_layers=2), 1),
    ("first-layer noise, narrow, identity init", CircuitConfig(3, noise_layers="first", noise_scale=0.1, init="identity"), 2),
    ("trainable encoding", CircuitConfig(2, trainable_encoding=True, n_layers=3), 2),
    ("noise mixing", CircuitConfig(2, trainable_encoding=True, noise_mixing=True, n_layers=3), 2),
    ("noise mixing, per-timestep noise", CircuitConfig(2, trainable_encoding=True, noise_mixing=True, n_layers=2,
                                                       noise_sharing="per_timestep"), 2),
    ("per-timestep noise", CircuitConfig(2, noise_sharing="per_timestep", n_layers=2), 3),
    ("threshold readout", CircuitConfig(2, readout="threshold", n_layers=2), 2),
    ("qce2023 n2", config_from_preset("qce2023", 2, n_layers=3), 2),
    ("qce2023 n5 a2", config_from_preset("qce2023", 5, n_ancillas=2, n_layers=2), 2),
    ("qce2023 trainable encoding", config_from_preset("qce2023", 3, trainable_encoding=True, n_layers=2), 1),
]


@pytest.mark.parametrize("name, config, t", CASES, ids=[c[0] for c in CASES])
def test_outputs_and_gradients_match_pennylane(name, config, t):
    gen = PatchGenerator(config, t, dtype=torch.complex128, seed=7)
    if config.trainable_encoding:  # away from the initial ones / identity, so that every weight matters
        with torch.no_grad():
            gen.encoding_weights.add_(torch.randn(gen.encoding_weights.shape, generator=torch.Generator().manual_seed(3),
                                                  dtype=torch.float64))
    noise = gen.draw_noise(3, torch.Generator().manual_seed(11))
    out = gen(noise)
    ours = out.spike_probabilities if config.architecture == "qce2023" else out.probabilities
    weights = torch.linspace(-1.0, 2.0, ours.numel(), dtype=torch.float64).reshape(ours.shape)
    (ours * weights).sum().backward()

    rot = gen.rotations.detach().clone().requires_grad_()
    enc = gen.encoding_weights.detach().clone().requires_grad_()
    ref = pennylane_reference.reference_outputs(config, rot, enc, noise, t)
    (ref * weights).sum().backward()

    torch.testing.assert_close(ours.detach(), ref.detach(), rtol=0, atol=REFERENCE_TOL)
    torch.testing.assert_close(gen.rotations.grad, rot.grad, rtol=0, atol=REFERENCE_TOL)
    if config.trainable_encoding:
        torch.testing.assert_close(gen.encoding_weights.grad, enc.grad, rtol=0, atol=REFERENCE_TOL)


@pytest.mark.parametrize("n", range(1, 13))
def test_spiqgan_builds_for_n_1_to_12(n):
    t = 30
    gen = PatchGenerator(CircuitConfig(n), t)
    out = gen(gen.draw_noise(2))
    assert out.probabilities.shape == (2, t, 2**n)
    assert out.spike_probabilities.shape == (2, t, n)
    torch.testing.assert_close(out.probabilities.sum(-1), torch.ones(2, t), rtol=0, atol=1e-5)
    windows = gen.sample(3, 0)
    assert windows.shape == (3, t, n) and windows.dtype == torch.uint8


@pytest.mark.parametrize(
    "options",
    [dict(noise_layers="first"), dict(trainable_encoding=True), dict(noise_sharing="per_timestep"),
     dict(readout="threshold"), dict(init="identity", noise_scale=0.1), dict(n_ancillas=3, n_layers=7)],
)
def test_every_encoding_option_builds_at_n_12_t_30(options):
    gen = PatchGenerator(CircuitConfig(12, **options), 30)
    out = gen(gen.draw_noise(1))
    assert out.probabilities.shape == (1, 30, 4096)
    assert gen.sample(2, 0).shape == (2, 30, 12)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 16])
def test_qce2023_builds_up_to_16_neurons(n):
    gen = PatchGenerator(config_from_preset("qce2023", n), 30)
    assert gen.config.n_feature_qubits == max(1, math.ceil(math.log2(n)))
    act = gen(gen.draw_noise(2)).spike_probabilities
    assert act.shape == (2, 30, n)
    w = gen.sample(4, 1)
    # deterministic readout: active exactly when the activation exceeds 1/2
    assert w.shape == (4, 30, n)


def test_shared_noise_is_what_couples_time_steps():
    # identical sub-generators: with shared noise every time step gives the same distribution per sample
    cfg = CircuitConfig(2)
    gen = PatchGenerator(cfg, 3)
    with torch.no_grad():
        gen.rotations[1:] = gen.rotations[0]
    p = gen(gen.draw_noise(4, torch.Generator().manual_seed(0))).probabilities
    torch.testing.assert_close(p[:, 1], p[:, 0])
    gen_ind = PatchGenerator(CircuitConfig(2, noise_sharing="per_timestep"), 3)
    with torch.no_grad():
        gen_ind.rotations.copy_(gen.rotations)
    p = gen_ind(gen_ind.draw_noise(4, torch.Generator().manual_seed(0))).probabilities
    assert not torch.allclose(p[:, 1], p[:, 0])


def test_sampling_is_seeded_and_matches_exact_probabilities():
    gen = PatchGenerator(CircuitConfig(2, noise_scale=0.0), 1, dtype=torch.complex128)  # no noise: one distribution
    exact = gen(gen.draw_noise(1)).probabilities[0, 0].detach()
    w = gen.sample(40000, 5)
    assert torch.equal(w, gen.sample(40000, 5))
    idx = (w[:, 0, 0].long() << 1) | w[:, 0, 1].long()  # neuron 0 = most significant bit
    freq = torch.bincount(idx, minlength=4).double() / 40000
    # standard error <= 0.0025 at 40000 draws: 4 sigma
    torch.testing.assert_close(freq, exact, rtol=0, atol=0.01)


def test_identity_init_with_narrow_noise_starts_silent():
    # noise once, gamma <= 0.1 pi: each qubit stays |0> with probability >= cos^2(0.05 pi) = 0.976
    gen = PatchGenerator(CircuitConfig(4, noise_scale=0.1, noise_layers="first", init="identity", init_scale=0.0), 2)
    p = gen(gen.draw_noise(64, torch.Generator().manual_seed(0))).probabilities
    assert p[..., 0].min() > 0.976**4


def test_resources_and_paper_parameter_count():
    gen = PatchGenerator(CircuitConfig(4, n_layers=4), 5)
    r = gen.resources()
    # the paper's "8 n per time step" for 4 layers; the circuit really has 2 (n + a) 4 = 8 (n + 1)
    assert r["trainable_parameters_per_sub_generator"] == 8 * (4 + 1) == 40
    assert r["trainable_parameters"] == 200 == sum(p.numel() for p in gen.parameters() if p.requires_grad)
    assert r["two_qubit_gates_per_sub_generator"] == 4 * 4
    assert r["gate_steps_sequential"] == 4 * (3 + 4)
    # as-soon-as-possible depth: 3 rotations + a 4-deep chain, then each layer adds 3 + 2 (overlapping the chain)
    assert r["depth"] == (3 + 4) + 3 * 5
    # what an independent check transpiled: 11 qubits, 5 noisy layers, depth 33 (not the 65 once reported)
    assert PatchGenerator(CircuitConfig(10, n_layers=5), 1).resources()["depth"] == 33
    enc = PatchGenerator(CircuitConfig(4, n_layers=4, trainable_encoding=True, noise_layers="first"), 5)
    assert enc.resources()["trainable_parameters"] == sum(p.numel() for p in enc.parameters() if p.requires_grad)
    mix = PatchGenerator(CircuitConfig(4, n_layers=4, trainable_encoding=True, noise_mixing=True), 5)
    assert mix.resources()["trainable_parameters"] == 5 * (2 * 5 * 4 + 5 * 5 * 4)
    assert mix.resources()["trainable_parameters"] == sum(p.numel() for p in mix.parameters() if p.requires_grad)


def test_noise_mixing_starts_as_the_diagonal_encoding_and_can_share_one_component():
    noise = torch.rand(6, 3, generator=torch.Generator().manual_seed(0))
    diag = PatchGenerator(CircuitConfig(2, trainable_encoding=True), 2, seed=4)
    mix = PatchGenerator(CircuitConfig(2, trainable_encoding=True, noise_mixing=True), 2, seed=4)
    torch.testing.assert_close(mix(noise).probabilities, diag(noise).probabilities)
    # W = all rows equal to e_0: every qubit sees component 0, as the diagonal encoding fed (g0, g0, g0)
    with torch.no_grad():
        mix.encoding_weights.zero_()
        mix.encoding_weights[..., 0] = 1.0
    shared = noise[:, :1].expand(6, 3).contiguous()
    torch.testing.assert_close(mix(noise).probabilities, diag(shared).probabilities)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_neurons=0), "n_neurons must be an integer >= 1"),
        (dict(n_neurons=3, n_ancillas=-1), "n_ancillas must be an integer >= 0"),
        (dict(n_neurons=3, n_layers=0), "n_layers must be an integer >= 1"),
        (dict(n_neurons=3, noise_layers="some"), "noise_layers must be one of all, first"),
        (dict(n_neurons=3, noise_scale=5), "noise_scale must lie in"),
        (dict(n_neurons=3, readout="basis"), "belongs to the qce2023 circuit"),
        (dict(n_neurons=3, architecture="qce2023"), "basis-state readout only"),
        (dict(n_neurons=3, noise_mixing=True), "needs trainable_encoding=True"),
    ],
)
def test_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        CircuitConfig(**kwargs)


def test_backend_choice_and_errors():
    big = CircuitConfig(n_neurons=20, n_ancillas=1)
    with pytest.raises(ConfigError, match="21 qubits per sub-generator is more than the statevector limit of 20.*--backend mps"):
        PatchGenerator(big, 1, backend="statevector")
    assert PatchGenerator(big, 1).backend == "mps"  # auto
    with pytest.raises(ConfigError, match="backend must be one of auto, statevector, mps"):
        PatchGenerator(CircuitConfig(2), 1, backend="tensor")
    with pytest.raises(ConfigError, match="the mps backend simulates the spiqgan chain"):
        PatchGenerator(CircuitConfig(4, architecture="qce2023", readout="basis"), 1, backend="mps")


def test_generator_errors():
    with pytest.raises(ConfigError, match="n_timesteps must be an integer >= 1"):
        PatchGenerator(CircuitConfig(2), 0)
    with pytest.raises(ConfigError, match="dtype must be"):
        PatchGenerator(CircuitConfig(2), 1, dtype=torch.float32)
    with pytest.raises(ConfigError, match=r"noise must have shape \(4, 3\)"):
        PatchGenerator(CircuitConfig(2), 1)(torch.zeros(4, 2))
    with pytest.raises(ConfigError, match="unknown preset"):
        config_from_preset("nature", 3)


@pytest.mark.slow
def test_first_layer_noise_bounds_the_most_likely_pattern():
    """With gamma ~ U[0, pi] in the first layer only, no unitary puts more than lambda^4 = 0.448 on a pattern.

    Averaged over the noise, each qubit's state after RX(gamma)|0> has eigenvalues
    lambda = 1/2 + 1/pi = 0.818 and 1 - lambda; the best a unitary can do for one
    4-bit feature pattern (ancilla traced out) is lambda^5 + lambda^4 (1 - lambda) = lambda^4.
    The noise average is taken exactly enough by a 4-node Gauss-Legendre product grid.
    """
    import itertools

    lam = 0.5 + 1 / math.pi
    bound = lam**5 + lam**4 * (1 - lam)
    nodes, w = np.polynomial.legendre.leggauss(4)
    grid = np.array(list(itertools.product(range(4), repeat=5)))
    noise = torch.tensor((nodes[grid] + 1) * math.pi / 2)
    weights = torch.tensor(np.prod(w[grid] / 2, axis=1))
    gen = PatchGenerator(CircuitConfig(4, n_ancillas=1, noise_layers="first"), 1, dtype=torch.complex128, seed=0)
    opt = torch.optim.Adam(gen.parameters(), lr=0.05)
    for _ in range(150):
        p_silent = (gen(noise).probabilities[:, 0, 0] * weights).sum()
        opt.zero_grad()
        (-p_silent).backward()
        opt.step()
    final = (gen(noise).probabilities[:, 0, 0] * weights).sum().item()
    assert bound == pytest.approx(0.4484, abs=1e-4)
    # the optimizer is driven up to the bound (from about 0.09) and stops there
    assert bound - 1e-3 < final <= bound + 1e-6


def test_finite_shots_estimate_the_exact_distribution():
    gen = PatchGenerator(CircuitConfig(3), 2, dtype=torch.complex128)
    noise = gen.draw_noise(2, torch.Generator().manual_seed(0))
    exact = gen(noise).probabilities.detach()
    est = gen(noise, shots=50000, generator=torch.Generator().manual_seed(1)).probabilities
    again = gen(noise, shots=50000, generator=torch.Generator().manual_seed(1)).probabilities
    assert torch.equal(est, again)
    torch.testing.assert_close(est.sum(-1), torch.ones(2, 2, dtype=torch.float64))
    # standard error <= 0.0023 at 50000 shots: 5 sigma
    torch.testing.assert_close(est, exact, rtol=0, atol=0.012)
    qce = PatchGenerator(config_from_preset("qce2023", 3), 1, dtype=torch.complex128)
    z = qce.draw_noise(2, torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        qce(z, shots=200000, generator=torch.Generator().manual_seed(2)).spike_probabilities,
        qce(z).spike_probabilities.detach(), rtol=0, atol=0.01,
    )
    with pytest.raises(ConfigError, match="shots must be a positive integer"):
        gen(noise, shots=0)


@pytest.mark.parametrize("n", [2, 4])
def test_qce_readout_with_the_uniform_constant_is_never_silent_when_n_is_a_power_of_two(n):
    # the p_j of the 2^f basis states sum to 1, so some p_j >= 2^-f: at least one neuron is active
    for seed in range(3):
        gen = PatchGenerator(config_from_preset("qce2023", n), 1, seed=seed)
        w = gen.sample(2000, seed)
        assert (w.sum(dim=(1, 2)) >= 1).all()


def test_qce_readout_constant_above_one_half_allows_silence():
    # one feature qubit: p_0 + p_1 = 1, so both lie below c = 0.75 whenever neither exceeds it
    gen = PatchGenerator(config_from_preset("qce2023", 2, qce_offset=0.75), 1, seed=0)
    assert (gen.sample(2000, 0).sum(dim=(1, 2)) == 0).any()
    with pytest.raises(ConfigError, match="qce_offset must lie in"):
        config_from_preset("qce2023", 2, qce_offset=1.5)


@pytest.mark.parametrize("neurons, layers, backend", [(11, 5, "statevector"), (12, 5, "mps"), (6, 2, "mps"),
                                                     (15, 7, "statevector"), (19, 8, "mps")])
def test_auto_backend_follows_the_measured_crossover(neurons, layers, backend):
    # one ancilla: q = n + 1; the MPS above 2 l + 2 qubits
    assert PatchGenerator(CircuitConfig(neurons, n_layers=layers), 1).backend == backend
