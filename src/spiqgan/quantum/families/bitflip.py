r"""The bit-flip family (``"bitflip"``): the classical look-alike of the IQP circuit.

(Recio-Armengol, Ahmed and Bowles 2025, "Train on classical, deploy on quantum"): the same
generators and angles as :mod:`~spiqgan.quantum.families.iqp`, but each generator ``g`` (a neuron,
or a pair of neurons) flips its bits independently with probability :math:`\sin^2(\theta_g)`,
starting from silence. It matches the IQP circuit's one-generator marginals and has the same
parameter count; what separates the two is interference alone. As a circuit: one ancilla, rotated,
entangled with the generator's bits and reset, per generator (a coin tossed and forgotten).
"""

from __future__ import annotations

import numpy as np
import torch

from spiqgan.quantum.circuit import Angle, Circuit, latent_terms
from spiqgan.quantum.families.base import CircuitFamily, pair_indices, step_couplings

__all__ = ["BitFlip", "bitflip_distribution"]


def bitflip_distribution(theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    r"""Exact pattern distribution ``(..., 2**n)`` of the bit-flip model: generator ``g`` flips its bits with probability :math:`\sin^2\theta_g`."""
    n = theta.shape[-1]
    i, j = pair_indices(n)
    idx = torch.arange(2**n, device=theta.device)
    masks = [1 << (n - 1 - k) for k in range(n)] + [(1 << (n - 1 - a)) | (1 << (n - 1 - b))
                                                     for a, b in zip(i.tolist(), j.tolist())]
    flips = torch.sin(torch.cat([theta, pairs.expand(*theta.shape[:-1], pairs.shape[-1])], -1)) ** 2
    dist = torch.zeros(theta.shape[:-1] + (2**n,), dtype=theta.dtype, device=theta.device)
    dist[..., 0] = 1.0
    for g, mask in enumerate(masks):
        q = flips[..., g, None]
        dist = (1 - q) * dist + q * dist[..., idx ^ mask]
    return dist


class BitFlip(CircuitFamily):
    """The bit-flip family (see the module docstring)."""

    name = "bitflip"
    title = "bit-flip"
    interference = False
    ancillas = 1

    def distribution(self, theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return bitflip_distribution(theta, pairs)

    def add_step(self, circuit: Circuit, s: int, v: dict[str, np.ndarray], register: str, latent: list[str],
                 earlier: list[str]) -> None:
        r"""Each generator: ``ry(2 theta)`` on the ancilla, ``cx`` to its bits, reset (flip with probability :math:`\sin^2\theta`)."""
        c = circuit
        n = v["angles_"].shape[1]
        anc = n
        gens = [((j,), Angle(float(v["angles_"][s, j]), latent_terms(v["loadings_"][s, j], latent))) for j in range(n)]
        gens += [((int(i), int(j)), Angle(float(b)))
                 for (i, j), b in zip(zip(*np.triu_indices(n, 1)), step_couplings(v["pairs_"], s))]
        for targets, angle in gens:
            c.add("ry", anc, angle=angle.scaled(2.0))
            for j in targets:
                c.add("cx", anc, j)
            c.add("reset", anc)
        for j in range(n):
            c.add("measure", j, bit=(register, j))
