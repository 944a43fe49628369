"""The classical critics: the SpiQGAN Wasserstein critic and the QCE 2023 discriminator.

Both take windows flattened to ``(batch, t * n)`` (time step by time step,
neuron 0 first: the order of :func:`spiqgan.evaluation.statistics.pattern_indices`).
Weights are initialized from an explicit seed, never from torch's global
generator.
"""

from __future__ import annotations

import math

import torch

__all__ = ["Critic", "Discriminator"]


def init_layer(layer: torch.nn.Linear | torch.nn.Conv1d, generator: torch.Generator) -> None:
    """torch's default initialization of a Linear or Conv layer (Kaiming-uniform weights, uniform bias),
    drawn from an explicit generator instead of torch's global one."""
    torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(layer.weight[0].numel())  # fan-in
    torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class _MLP(torch.nn.Module):
    def __init__(self, n_inputs: int, hidden: int, seed: int | torch.Generator, sigmoid: bool) -> None:
        super().__init__()
        gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
        self.hidden = torch.nn.Linear(n_inputs, hidden)
        self.out = torch.nn.Linear(hidden, 1)
        init_layer(self.hidden, gen)
        init_layer(self.out, gen)
        self.sigmoid = sigmoid

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """``windows: (batch, t, n)`` or ``(batch, t * n)`` -> ``(batch,)``."""
        x = windows.reshape(windows.shape[0], -1).to(self.hidden.weight.dtype)
        y = self.out(torch.relu(self.hidden(x))).squeeze(-1)
        return torch.sigmoid(y) if self.sigmoid else y


class Critic(_MLP):
    """SpiQGAN critic: ``t n`` inputs, one hidden layer (64 ReLU units), linear output."""

    def __init__(self, n_inputs: int, hidden: int = 64, seed: int | torch.Generator = 0) -> None:
        super().__init__(n_inputs, hidden, seed, sigmoid=False)


class Discriminator(_MLP):
    """QCE 2023 discriminator: ``t n`` inputs, 16 hidden ReLU units, sigmoid output."""

    def __init__(self, n_inputs: int, hidden: int = 16, seed: int | torch.Generator = 0) -> None:
        super().__init__(n_inputs, hidden, seed, sigmoid=True)
