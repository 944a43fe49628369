r"""Losses of both papers' GANs.

SpiQGAN (Wasserstein GAN with the biologically informed K-loss)
---------------------------------------------------------------
Critic, batch of ``B`` generated windows :math:`G(z_j)` and real windows :math:`x_j`:

.. math:: L_C = \frac{1}{2B} \sum_j \left[ C(G(z_j)) - C(x_j) \right] + \lambda\, \mathrm{GP},

with the gradient penalty of Gulrajani et al. (2017),
:math:`\mathrm{GP} = \mathbb E_{\hat x} (\lVert \nabla_{\hat x} C(\hat x) \rVert_2 - 1)^2` on
random interpolates :math:`\hat x = \epsilon x + (1 - \epsilon) G(z)` (the paper does not
say how it keeps the critic Lipschitz; weight clipping is the other option).

Generator:

.. math:: L_G = -\frac1B \sum_j C(G(z_j)) + K \left| \frac1B \sum_j \sum_{s,i} G(z_j)_{s,i}
          - \bar N_{\text{real}} \right|.

The paper prints the K-term as :math:`-K (\sum_i G(z_j)^i - x_j^i)`, "the difference between
the number of spikes in a fake sample and those in a real sample"; taken literally,
minimizing it rewards more spikes. We implement the intended penalty: ``K`` times the
absolute difference between the mean number of spikes per generated and per real window.
:math:`\bar N_{\text{real}}` is the mean of the real batch (``k_target="batch"``) or of the
whole training set (``"dataset"``). ``K = 1``: the "K-loss"; ``K = 0``: the "standard loss".

QCE 2023 (standard GAN)
-----------------------
Binary cross-entropy: the discriminator minimizes
:math:`-\log D(x) - \log(1 - D(G(z)))`, the generator :math:`-\log D(G(z))` (the
non-saturating form).
"""

from __future__ import annotations

import torch

__all__ = ["critic_loss", "gradient_penalty", "generator_adversarial_loss", "k_term", "bce_discriminator_loss",
           "bce_generator_loss"]


def critic_loss(c_fake: torch.Tensor, c_real: torch.Tensor) -> torch.Tensor:
    """:math:`\\frac{1}{2B}\\sum_j [C(G(z_j)) - C(x_j)]` for critic outputs ``(B,)``."""
    return 0.5 * (c_fake.mean() - c_real.mean())


def gradient_penalty(
    critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """:math:`\\mathbb E (\\lVert \\nabla C(\\hat x) \\rVert_2 - 1)^2` on interpolates of ``real`` and ``fake`` ``(B, ...)``."""
    real = real.reshape(real.shape[0], -1)
    fake = fake.reshape(fake.shape[0], -1).to(real.dtype)
    eps = torch.rand(real.shape[0], 1, generator=generator, dtype=real.dtype, device=real.device)
    mix = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    grad, = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    return ((grad.norm(dim=1) - 1.0) ** 2).mean()


def generator_adversarial_loss(c_fake: torch.Tensor) -> torch.Tensor:
    """:math:`-\\frac1B \\sum_j C(G(z_j))`."""
    return -c_fake.mean()


def k_term(generated_counts: torch.Tensor, target: torch.Tensor | float, weight: float) -> torch.Tensor:
    """``weight * |mean(generated_counts) - target|``: spikes per generated window against the real mean.

    ``generated_counts: (B,)`` spikes per generated window (expected counts are fine
    and differentiable); ``target``: mean spikes per real window.
    """
    return weight * (generated_counts.mean() - target).abs()


def bce_discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """:math:`-\\log D(x) - \\log(1 - D(G(z)))`, averaged over the batch; ``D`` outputs in (0, 1)."""
    bce = torch.nn.functional.binary_cross_entropy
    return bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))


def bce_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """:math:`-\\log D(G(z))`, averaged over the batch."""
    return torch.nn.functional.binary_cross_entropy(d_fake, torch.ones_like(d_fake))
