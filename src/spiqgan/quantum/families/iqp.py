r"""The IQP family (``"iqp"``): instantaneous quantum polynomial circuits, with interference.

Hadamards, :math:`\exp\big(i(\sum_j a_j Z_j + \sum_{i<j} b_{ij} Z_i Z_j)\big)`, Hadamards;
equivalently :math:`\exp\big(i(\sum_j a_j X_j + \sum_{i<j} b_{ij} X_i X_j)\big)` on
:math:`|0\rangle`. The amplitude of pattern ``x`` is a Walsh-Hadamard transform,
:math:`\psi(x) = 2^{-n} \sum_z (-1)^{x\cdot z} e^{i \phi(z)}`, where the phases of many ``z``
interfere. The likelihood enumerates the ``2**n`` patterns of a step (``n <= 16``).
"""

from __future__ import annotations

import numpy as np
import torch

from spiqgan.quantum.circuit import Angle, Circuit, latent_terms
from spiqgan.quantum.families.base import CircuitFamily, pair_indices, pattern_bits, step_couplings, walsh_hadamard

__all__ = ["IQP", "iqp_distribution"]


def _pair_phase_table(n: int, dtype: torch.dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Z eigenvalues ``s = 1 - 2 z`` of every basis state ``(2**n, n)`` and their pair products ``(2**n, n(n-1)/2)``."""
    s = 1 - 2 * pattern_bits(n, dtype, device)
    i, j = pair_indices(n)
    return s, s[:, i] * s[:, j]


def iqp_distribution(theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    r"""Exact pattern distribution ``(..., 2**n)`` of the IQP circuit with ``a = theta: (..., n)``, ``b = pairs: (..., n(n-1)/2)``."""
    n = theta.shape[-1]
    s, ss = _pair_phase_table(n, theta.dtype, theta.device)
    phase = theta @ s.T + pairs @ ss.T  # (..., 2**n)
    amp = walsh_hadamard(torch.polar(torch.ones_like(phase), phase), n) / 2**n
    return amp.real**2 + amp.imag**2


class IQP(CircuitFamily):
    """The IQP family (see the module docstring)."""

    name = "iqp"
    title = "IQP"
    interference = True

    def distribution(self, theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return iqp_distribution(theta, pairs)

    def add_step(self, circuit: Circuit, s: int, v: dict[str, np.ndarray], register: str, latent: list[str],
                 earlier: list[str]) -> None:
        r"""H, :math:`e^{i(\sum a Z + \sum b ZZ)}` as ``rz(-2a)`` and ``cx, rz(-2b), cx``, H, measure."""
        c = circuit
        n = v["angles_"].shape[1]
        for j in range(n):
            c.add("h", j)
        for j in range(n):
            c.add("rz", j, angle=Angle(float(v["angles_"][s, j]), latent_terms(v["loadings_"][s, j], latent)).scaled(-2.0))
        for (i, j), b in zip(zip(*np.triu_indices(n, 1)), step_couplings(v["pairs_"], s)):
            c.add("cx", int(i), int(j))
            c.add("rz", int(j), angle=Angle(-2.0 * float(b)))
            c.add("cx", int(i), int(j))
        for j in range(n):
            c.add("h", j)
        for j in range(n):
            c.add("measure", j, bit=(register, j))
