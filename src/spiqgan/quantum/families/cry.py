r"""The controlled-RY family (``"cry"``): exact, no interference, neuron by neuron.

:math:`R_Y(\theta_j)` on every qubit, then for every pair :math:`i < j` a controlled
:math:`R_Y(W_{ji})` with control ``i`` and target ``j``, applied in the order of the targets. Every
rotation acting on qubit ``j`` is a :math:`R_Y`, its controls are already final, so

.. math:: P(x_j = 1 \mid x_{<j}) = \sin^2\!\Big(\tfrac12\big(\theta_j + \textstyle\sum_{i<j} W_{ji} x_i\big)\Big).

The amplitude of a pattern is one product of a cosine or a sine of half an angle per neuron: real,
of either sign (its magnitude is :math:`\sqrt{P(x)}`), but never a sum over paths, so there is no
interference. The circuit *is* a classical autoregressive model (a logistic-like network over a fixed neuron order)
written as a circuit, which is why its likelihood is a product of conditionals, computed neuron by
neuron for any ``n`` (no enumeration). That is also why its rotations may be conditioned on measured
spikes: memory of earlier steps and the count term (classically controlled rotations; on hardware,
mid-circuit measurement and feed-forward).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from spiqgan.quantum.circuit import Angle, Bit, Circuit, CountAtLeast, latent_terms
from spiqgan.quantum.families.base import CircuitFamily, lower_triangular, pattern_bits, step_couplings

__all__ = ["ControlledRY", "cry_log_conditionals", "cry_distribution"]


def cry_log_conditionals(angles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\log P(x_j = 1 \mid \cdot)` and :math:`\log P(x_j = 0 \mid \cdot)` of total angles ``phi``: ``log sin^2(phi/2)``, ``log cos^2(phi/2)``."""
    tiny = torch.finfo(angles.dtype).tiny
    return torch.log((0.5 - 0.5 * torch.cos(angles)).clamp_min(tiny)), \
        torch.log((0.5 + 0.5 * torch.cos(angles)).clamp_min(tiny))


def cry_distribution(theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Exact pattern distribution ``(..., 2**n)`` of the controlled-RY circuit, angles ``theta: (..., n)``, couplings ``(..., n(n-1)/2)``."""
    n = theta.shape[-1]
    bits = pattern_bits(n, theta.dtype, theta.device)  # (2**n, n)
    w = lower_triangular(pairs, n)  # (..., n, n)
    angles = theta[..., None, :] + torch.einsum("...ji,pi->...pj", w, bits)  # (..., 2**n, n)
    log1, log0 = cry_log_conditionals(angles)
    return torch.exp((bits * log1 + (1 - bits) * log0).sum(-1))


class ControlledRY(CircuitFamily):
    """The controlled-RY family (see the module docstring)."""

    name = "cry"
    title = "controlled-RY"
    interference = False
    conditional = True
    max_neurons = None

    def distribution(self, theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return cry_distribution(theta, pairs)

    def independent_angles(self, rates: torch.Tensor) -> torch.Tensor:
        r""":math:`2 \arcsin\sqrt r` (the angle of :math:`R_Y` is twice that of the amplitude)."""
        return 2 * torch.arcsin(torch.sqrt(rates.clamp(0.0, 1.0)))

    @staticmethod
    def _count(count: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor | float:
        """``c[k]``, ``k`` = how many of neurons ``0..j-1`` fired at the step, for every neuron of ``x: (..., n)``."""
        if count is None or not count.numel():
            return 0.0
        return count[(torch.cumsum(x, -1) - x).long()]

    def step_log_probs(self, base: torch.Tensor, pairs: torch.Tensor, x: torch.Tensor,
                       shift: torch.Tensor | None = None, count: torch.Tensor | None = None) -> torch.Tensor:
        n = x.shape[2]
        wl = lower_triangular(pairs, n).expand(x.shape[1], n, n)  # (t, n, n)
        inner = torch.einsum("bti,tji->btj", x, wl) + self._count(count, x)  # sum_{i<j} W_ji x_i (+ c_k)
        if shift is not None:
            inner = inner + shift
        log1, log0 = cry_log_conditionals(base[:, None] + inner[None])  # (K, B, t, n)
        return (x * log1 + (1 - x) * log0).sum(-1)

    def sample(self, base: torch.Tensor, pairs: torch.Tensor, path: torch.Tensor, generator: torch.Generator,
               shift: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
               count: torch.Tensor | None = None) -> torch.Tensor:
        n_windows, (t, n) = path.shape[0], base.shape[1:]
        angles = base[path, torch.arange(t)]  # (N, t, n)
        wl = lower_triangular(pairs, n).expand(t, n, n)
        x = torch.zeros(n_windows, t, n, dtype=base.dtype)
        counted = count is not None and count.numel() > 0
        for s in range(t):
            # only steps before s are read
            mem = shift(x, s) if shift is not None else torch.zeros(n_windows, n, dtype=base.dtype)
            for j in range(n):
                angle = angles[:, s, j] + mem[:, j] + x[:, s] @ wl[s, j]
                if counted:
                    angle = angle + count[x[:, s, :j].sum(1).long()]
                prob = 0.5 - 0.5 * torch.cos(angle)
                x[:, s, j] = (torch.rand(n_windows, generator=generator, dtype=base.dtype) < prob).to(base.dtype)
        return x.to(torch.uint8)

    def per_step_cost(self, n: int) -> str:
        return f"{n} conditionals"

    def add_step(self, circuit: Circuit, s: int, v: dict[str, np.ndarray], register: str, latent: list[str],
                 earlier: list[str]) -> None:
        """The controlled-RY circuit of step ``s`` (neurons on qubits ``0..n-1``), measured into ``register``.

        Memory and own history: rotations conditioned on the bits of ``earlier`` registers (steps before
        the window's first at the padding rates, bound); the count term: each neuron measured as soon as
        its rotations are done, the later ones conditioned on the count (:class:`CountAtLeast`).
        """
        c = circuit
        n = v["angles_"].shape[1]
        w = np.zeros((n, n))
        i_idx, j_idx = np.triu_indices(n, 1)
        w[j_idx, i_idx] = step_couplings(v["pairs_"], s)
        mem, own, pad, count = v["memory_"], v["own_"], v["pad_"], v["count_"]
        early = count.size > 0  # the count term conditions on measured neurons
        for j in range(n):
            const = float(v["angles_"][s, j])
            conditioned = []
            for lag in range(1, max(mem.shape[0], own.shape[0]) + 1):
                weights = np.zeros(n)
                if lag <= mem.shape[0]:
                    weights += mem[lag - 1][j]
                if lag <= own.shape[0]:
                    weights[j] += own[lag - 1][j]
                if s - lag < 0:  # before the window: the training rates
                    const += float(weights @ pad)
                else:
                    conditioned += [(float(weights[i]), Bit(earlier[s - lag], i)) for i in range(n) if weights[i] != 0]
            if early:
                const += float(count[0])
            c.add("ry", j, angle=Angle(const, latent_terms(v["loadings_"][s, j], latent)))
            for value, cond in conditioned:
                c.add("ry", j, angle=Angle(value), when=(cond,))
            if early:
                for m in range(1, j + 1):
                    c.add("ry", j, angle=Angle(float(count[m] - count[m - 1])), when=(CountAtLeast(register, m),))
            for i in range(j):
                if w[j, i] != 0:
                    c.add("cry", i, j, angle=Angle(float(w[j, i])))
            if early:
                c.add("measure", j, bit=(register, j))
        if not early:
            for j in range(n):
                c.add("measure", j, bit=(register, j))
