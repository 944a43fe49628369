"""Losses on hand-made critic outputs; the K-term's sign."""

from __future__ import annotations

import math

import pytest
import torch

from spiqgan.training import losses


def test_critic_loss_by_hand():
    # 1/(2B) sum_j [C(fake_j) - C(real_j)] with B = 2: ((1 + 3) - (0 + 2)) / 4 = 0.5
    assert losses.critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])).item() == 0.5


def test_generator_adversarial_loss_by_hand():
    assert losses.generator_adversarial_loss(torch.tensor([1.0, 3.0])).item() == -2.0


def test_k_term_by_hand_and_sign():
    counts = torch.tensor([3.0, 5.0], requires_grad=True)  # mean 4 spikes per generated window
    kt = losses.k_term(counts, torch.tensor(1.5), weight=2.0)
    assert kt.item() == pytest.approx(2.0 * 2.5)
    kt.backward()
    # too many spikes: descending the gradient lowers the generated counts towards the real mean
    assert (counts.grad > 0).all()
    counts2 = torch.tensor([0.5, 0.5], requires_grad=True)
    losses.k_term(counts2, torch.tensor(1.5), weight=1.0).backward()
    assert (counts2.grad < 0).all()  # too few spikes: the step raises them
    assert losses.k_term(torch.tensor([2.0]), 2.0, weight=1.0).item() == 0.0


def test_gradient_penalty_of_a_linear_critic():
    # C(x) = w . x has gradient w everywhere: GP = (|w| - 1)^2 exactly
    critic = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))
    real, fake = torch.rand(5, 3), torch.rand(5, 3)
    gp = losses.gradient_penalty(lambda x: critic(x).squeeze(-1), real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)


def test_bce_losses_by_hand():
    d_real, d_fake = torch.tensor([0.8]), torch.tensor([0.3])
    assert losses.bce_discriminator_loss(d_real, d_fake).item() == pytest.approx(-math.log(0.8) - math.log(0.7))
    assert losses.bce_generator_loss(d_fake).item() == pytest.approx(-math.log(0.3))
