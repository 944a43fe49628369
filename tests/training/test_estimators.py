"""Gradient estimators against the exact gradient on cases with a known answer."""

from __future__ import annotations

import pytest
import torch

from spiqgan.training import estimators as est
from spiqgan.exceptions import SpiqganError
from spiqgan.quantum.generator import CircuitConfig, PatchGenerator


class LinearCritic(torch.nn.Module):
    """C(x) = a . x: E[C] = a . p, so every estimator has a closed-form target."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.a = a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1).to(self.a.dtype) @ self.a


class QuadraticCritic(torch.nn.Module):
    """C(x) = (a . x)^2: not linear, so straight-through is biased but REINFORCE is not."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.a = a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.reshape(x.shape[0], -1).to(self.a.dtype) @ self.a) ** 2


def _grad(gen, noise, critic, estimator, seed):
    gen.zero_grad()
    out = gen(noise)
    surrogate, _ = est.generator_critic_term(gen, out, critic, estimator, torch.Generator().manual_seed(seed))
    surrogate.backward()
    return gen.rotations.grad.clone()


@pytest.fixture
def setup():
    gen = PatchGenerator(CircuitConfig(2, n_layers=2), 1, dtype=torch.complex128, seed=3)
    noise = gen.draw_noise(1, torch.Generator().manual_seed(4)).expand(4000, -1).contiguous()
    return gen, noise


def test_exact_estimator_is_the_gradient_of_the_expectation(setup):
    gen, noise = setup
    a = torch.tensor([0.7, -1.3], dtype=torch.float64)
    critic = LinearCritic(a)
    exact = _grad(gen, noise[:1], critic, "exact", 0)
    # E[C] = a . p for a linear critic: its gradient by autograd is the truth
    gen.zero_grad()
    (gen(noise[:1]).spike_probabilities[0, 0] @ a).backward()
    torch.testing.assert_close(exact, gen.rotations.grad, rtol=0, atol=1e-12)


def test_straight_through_is_exact_for_a_linear_critic(setup):
    gen, noise = setup
    critic = LinearCritic(torch.tensor([0.7, -1.3], dtype=torch.float64))
    torch.testing.assert_close(
        _grad(gen, noise[:50], critic, "straight-through", 1), _grad(gen, noise[:1], critic, "exact", 0),
        rtol=0, atol=1e-12,
    )


def test_reinforce_is_unbiased(setup):
    gen, noise = setup
    critic = QuadraticCritic(torch.tensor([0.7, -1.3], dtype=torch.float64))
    exact = _grad(gen, noise[:1], critic, "exact", 0)
    estimates = torch.stack([_grad(gen, noise, critic, "reinforce", seed) for seed in range(10)])
    mean = estimates.mean(0)
    stderr = estimates.std(0) / estimates.shape[0] ** 0.5
    # 10 x 4000 samples: the mean estimate lies within 5 standard errors of the exact gradient
    assert ((mean - exact).abs() <= 5 * stderr + 1e-9).all()
    # and the relaxation is visibly biased for this critic (a control that the test can fail)
    relax = _grad(gen, noise[:1], critic, "relaxation", 0)
    assert not torch.allclose(relax, exact, atol=1e-3)


def test_exact_joint_over_time_steps_matches_enumeration():
    gen = PatchGenerator(CircuitConfig(2, n_layers=2), 3, dtype=torch.complex128, seed=0)
    out = gen(gen.draw_noise(2, torch.Generator().manual_seed(0)))
    joint = est._joint(out.probabilities)
    assert joint.shape == (2, 64)
    torch.testing.assert_close(joint.sum(-1), torch.ones(2, dtype=torch.float64))
    # pattern index = x_0 * 16 + x_1 * 4 + x_2 (time step 0 most significant)
    d = out.probabilities
    assert torch.isclose(joint[1, 0b10_01_11], d[1, 0, 0b10] * d[1, 1, 0b01] * d[1, 2, 0b11])


@pytest.mark.parametrize(
    "config, t, estimator, match",
    [
        (CircuitConfig(2), 1, "magic", "estimator must be one of"),
        (CircuitConfig(2, readout="threshold"), 1, "reinforce", "deterministic"),
        (CircuitConfig(4), 4, "exact", "2\\^16 patterns"),
    ],
)
def test_estimator_errors(config, t, estimator, match):
    with pytest.raises(SpiqganError, match=match):
        est.check_estimator(estimator, PatchGenerator(config, t))
