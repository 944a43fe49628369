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

from spiqgan.quantum.circuit import Angle, Circuit, CountAtLeast
from spiqgan.quantum.families.base import CircuitFamily, input_angles, lower_triangular, pattern_bits, step_couplings

__all__ = ["ControlledRY", "cry_log_conditionals", "cry_distribution", "cry_pattern_log_prob"]


def cry_log_conditionals(angles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\log P(x_j = 1 \mid \cdot)` and :math:`\log P(x_j = 0 \mid \cdot)` of total angles ``phi``: ``log sin^2(phi/2)``, ``log cos^2(phi/2)``."""
    tiny = torch.finfo(angles.dtype).tiny
    return torch.log((0.5 - 0.5 * torch.cos(angles)).clamp_min(tiny)), \
        torch.log((0.5 + 0.5 * torch.cos(angles)).clamp_min(tiny))


class _PatternLogProb(torch.autograd.Function):
    r"""``sum_j log P(x_j | phi_j)`` for angles ``phi = base[k] + inner[b]``, one fused pass with its own gradient.

    With ``s = 2 x - 1``, :math:`P(x_j) = \tfrac12(1 - s_j \cos\phi_j)` (``sin^2`` or ``cos^2`` of half
    the angle) and :math:`\partial_\phi \log P = s \sin\phi / (1 - s \cos\phi)`. The angle is a sum of a
    part per latent value and a part per window, so its cosine and sine come from theirs
    (:math:`\cos(a + b) = \cos a \cos b - \sin a \sin b`): no trigonometric function over the
    ``(K, B, t, n)`` tensor, only products, one division (when a gradient is asked; stored for the
    backward pass) and one log. A probability under the dtype's smallest normal is clamped there, with
    zero gradient (as ``clamp_min`` does).
    """

    @staticmethod
    def forward(ctx, base: torch.Tensor, inner: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        half = x - 0.5  # s / 2, (B, t, n)
        ca, sa = torch.cos(base)[:, None], torch.sin(base)[:, None]  # (K, 1, t, n)
        cb, sb = torch.cos(inner).mul_(half), torch.sin(inner).mul_(half)  # s cos(b) / 2, s sin(b) / 2
        # P = 1/2 - (s/2) cos(a + b) = 1/2 - ca (s cb / 2) + sa (s sb / 2)
        prob = torch.mul(ca, cb).neg_().addcmul_(sa, sb).add_(0.5)  # (K, B, t, n)
        tiny = torch.finfo(prob.dtype).tiny
        clamped = prob < tiny if float(prob.min()) < tiny else None
        if clamped is not None:
            prob.clamp_min_(tiny)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            # (s/2) sin(a + b) / P = (sa (s cb / 2) + ca (s sb / 2)) / P
            deriv = torch.mul(sa, cb).addcmul_(ca, sb).div_(prob)
            if clamped is not None:
                deriv.masked_fill_(clamped, 0.0)
            ctx.save_for_backward(deriv)
        return prob.log_().sum(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (deriv,) = ctx.saved_tensors
        g = deriv * grad[..., None]
        return (g.sum(1) if ctx.needs_input_grad[0] else None,
                g.sum(0) if ctx.needs_input_grad[1] else None, None)


def cry_pattern_log_prob(base: torch.Tensor, inner: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_j \log P(x_j \mid \phi_j)` of windows ``x: (B, t, n)`` under the angles ``base: (K, t, n)`` +
    ``inner: (B, t, n)``: ``(K, B, t)``, differentiable in ``base`` and ``inner`` (what
    :func:`cry_log_conditionals` gives, summed over the chosen bits, in one pass)."""
    return _PatternLogProb.apply(base, inner, x)


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
    memory_inputs = True
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
        return cry_pattern_log_prob(base, inner, x)  # (K, B, t)

    #: neurons drawn one by one between two matrix products of the couplings (see :meth:`sample`)
    SAMPLE_BLOCK = 8

    def sample(self, base: torch.Tensor, pairs: torch.Tensor, path: torch.Tensor, generator: torch.Generator,
               shift: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
               count: torch.Tensor | None = None) -> torch.Tensor:
        n_windows, (t, n) = path.shape[0], base.shape[1:]
        wl = lower_triangular(pairs, n).expand(t, n, n)
        # neuron-major (t, n, N): every neuron's row is contiguous, and each step is a (n, N) matrix
        steps = torch.empty(t, n, n_windows, dtype=base.dtype)
        counted = count is not None and count.numel() > 0
        for s in range(t):
            # the angles known before the step's first neuron (latent, memory of the steps before s)
            acc = base[:, s].index_select(0, path[:, s]).T.contiguous()  # (n, N)
            if shift is not None:
                acc += shift(steps, s)
            # x_j = 1 with probability sin^2(phi/2) = (1 - cos phi) / 2: u < (1 - cos phi) / 2 <=> cos phi < 1 - 2u,
            # and 1 - 2u is uniform on (-1, 1)
            level = torch.empty(n, n_windows, dtype=base.dtype).uniform_(-1.0, 1.0, generator=generator)
            if counted:  # c[k] of each window, k the earlier neurons of the step that fired (0 at first)
                fired = torch.zeros(n_windows, dtype=torch.long)
                term = count[0].expand(n_windows).clone()
            for j0 in range(0, n, self.SAMPLE_BLOCK):
                # the couplings from the neurons of the blocks before, in one matrix product; then from the
                # block's own earlier neurons, neuron by neuron
                j1 = min(n, j0 + self.SAMPLE_BLOCK)
                if j0:
                    acc[j0:j1].addmm_(wl[s, j0:j1, :j0], steps[s, :j0])
                for j in range(j0, j1):
                    angle = acc[j].addmv(steps[s, j0:j].T, wl[s, j, j0:j]) if j > j0 else acc[j]
                    if counted:
                        angle = angle + term
                    # 1 where cos(angle) < level (sign of a positive difference), else 0
                    bit = torch.sub(level[j], torch.cos(angle), out=steps[s, j]).clamp_(min=0).sign_()
                    if counted and j + 1 < n:  # spikes are sparse: update the windows where neuron j fired only
                        where = bit.nonzero().squeeze(1)
                        k = fired[where] + 1
                        fired[where] = k
                        term[where] = count[k]
        x = steps.to(torch.uint8).permute(2, 0, 1).contiguous()
        return x

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
        count = v["count_"]
        early = count.size > 0  # the count term conditions on measured neurons
        for j, (const, terms, conditioned) in enumerate(input_angles(v, s, latent, earlier)):
            if early:
                const += float(count[0])
            c.add("ry", j, angle=Angle(const, terms))
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
