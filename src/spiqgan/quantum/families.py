r"""Circuit families with exact outcome distributions: controlled-RY, IQP, and IQP's classical look-alike.

The paper's chain (:mod:`spiqgan.quantum.generator`) entangles neighbours only and
needs many layers to couple distant neurons. The families here give every pair
of neurons one trainable coupling, as the pairwise maximum-entropy model does,
and their probabilities are exact and cheap, so they train by exact maximum
likelihood. Each acts on ``n`` qubits (no ancilla), qubit ``j`` = neuron ``j``,
qubit 0 the most significant bit of a pattern index (as in
:mod:`spiqgan.quantum.statevector`).

``"cry"``: controlled-RY circuit
    :math:`R_Y(\theta_j)` on every qubit, then for every pair :math:`i < j` a
    controlled :math:`R_Y(W_{ji})` with control ``i`` and target ``j``, applied
    in the order of the targets. Every rotation acting on qubit ``j`` is a
    :math:`R_Y`, its controls are already final, so

    .. math:: P(x_j = 1 \mid x_{<j}) = \sin^2\!\Big(\tfrac12\big(\theta_j + \textstyle\sum_{i<j} W_{ji} x_i\big)\Big).

    The state has real, non-negative amplitudes :math:`\sqrt{P(x)}`: there is no
    interference. The circuit *is* a classical autoregressive model (a
    logistic-like network over a fixed neuron order) written as a circuit,
    which is why its likelihood is a product of conditionals.

``"iqp"``: instantaneous quantum polynomial circuit
    Hadamards, :math:`\exp\big(i(\sum_j a_j Z_j + \sum_{i<j} b_{ij} Z_i Z_j)\big)`,
    Hadamards; equivalently :math:`\exp\big(i(\sum_j a_j X_j + \sum_{i<j} b_{ij} X_i X_j)\big)`
    on :math:`|0\rangle`. The amplitude of pattern ``x`` is a Walsh-Hadamard
    transform, :math:`\psi(x) = 2^{-n} \sum_z (-1)^{x\cdot z} e^{i \phi(z)}`,
    where the phases of many ``z`` interfere.

``"bitflip"``: the classical look-alike of the IQP circuit
    (Recio-Armengol, Ahmed and Bowles 2025, "Train on classical, deploy on
    quantum"): the same generators and angles, but each generator ``g`` (a
    neuron, or a pair of neurons) flips its bits independently with
    probability :math:`\sin^2(\theta_g)`, starting from silence. It matches the
    IQP circuit's one-generator marginals and has the same parameter count;
    what separates the two is interference alone.

All functions are batched over leading axes and differentiable.
"""

from __future__ import annotations

from functools import lru_cache

import torch

__all__ = ["FAMILIES", "INTERFERENCE", "pair_indices", "lower_triangular", "walsh_hadamard", "cry_log_conditionals",
           "cry_distribution", "iqp_distribution", "bitflip_distribution", "distribution", "independent_angles"]

#: the circuit families by name
FAMILIES = ("cry", "iqp", "bitflip")
#: whether a family's probabilities come from interfering amplitudes
INTERFERENCE = {"cry": False, "iqp": True, "bitflip": False}


@lru_cache(maxsize=None)
def _pairs(n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    i, j = torch.triu_indices(n, n, 1)
    return tuple(i.tolist()), tuple(j.tolist())


def pair_indices(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(i, j)`` of every pair ``i < j`` of ``n`` neurons, in row order: the layout of a pair-coupling vector."""
    i, j = _pairs(n)
    return torch.tensor(i, dtype=torch.long), torch.tensor(j, dtype=torch.long)


def lower_triangular(pairs: torch.Tensor, n: int) -> torch.Tensor:
    """Couplings ``(..., n(n-1)/2)`` as matrices ``(..., n, n)`` with ``W[j, i]`` (``i < j``) and zeros elsewhere."""
    i, j = pair_indices(n)
    out = pairs.new_zeros(pairs.shape[:-1] + (n, n))
    out[..., j, i] = pairs
    return out


def walsh_hadamard(values: torch.Tensor, n: int) -> torch.Tensor:
    r"""Unnormalized Walsh-Hadamard transform along the last axis (``2**n`` long): :math:`\sum_z (-1)^{x\cdot z} v_z`."""
    lead = values.shape[:-1]
    out = values.reshape(-1, 2**n)
    for k in range(n):
        view = out.reshape(-1, 2**k, 2, 2 ** (n - k - 1))
        a, b = view[:, :, 0], view[:, :, 1]
        out = torch.stack([a + b, a - b], dim=2).reshape(-1, 2**n)
    return out.reshape(*lead, 2**n)


def _pattern_bits(n: int, dtype: torch.dtype, device: torch.device | str | None = None) -> torch.Tensor:
    """``(2**n, n)`` bits of every pattern index, neuron 0 the most significant."""
    idx = torch.arange(2**n, device=device)
    return ((idx[:, None] >> torch.arange(n - 1, -1, -1, device=device)) & 1).to(dtype)


def cry_log_conditionals(angles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\log P(x_j = 1 \mid \cdot)` and :math:`\log P(x_j = 0 \mid \cdot)` of total angles ``phi``: ``log sin^2(phi/2)``, ``log cos^2(phi/2)``."""
    tiny = torch.finfo(angles.dtype).tiny
    return torch.log((0.5 - 0.5 * torch.cos(angles)).clamp_min(tiny)), \
        torch.log((0.5 + 0.5 * torch.cos(angles)).clamp_min(tiny))


def cry_distribution(theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Exact pattern distribution ``(..., 2**n)`` of the controlled-RY circuit, angles ``theta: (..., n)``, couplings ``(..., n(n-1)/2)``."""
    n = theta.shape[-1]
    bits = _pattern_bits(n, theta.dtype, theta.device)  # (2**n, n)
    w = lower_triangular(pairs, n)  # (..., n, n)
    angles = theta[..., None, :] + torch.einsum("...ji,pi->...pj", w, bits)  # (..., 2**n, n)
    log1, log0 = cry_log_conditionals(angles)
    return torch.exp((bits * log1 + (1 - bits) * log0).sum(-1))


def _pair_phase_table(n: int, dtype: torch.dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Z eigenvalues ``s = 1 - 2 z`` of every basis state ``(2**n, n)`` and their pair products ``(2**n, n(n-1)/2)``."""
    s = 1 - 2 * _pattern_bits(n, dtype, device)
    i, j = pair_indices(n)
    return s, s[:, i] * s[:, j]


def iqp_distribution(theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    r"""Exact pattern distribution ``(..., 2**n)`` of the IQP circuit with ``a = theta: (..., n)``, ``b = pairs: (..., n(n-1)/2)``."""
    n = theta.shape[-1]
    s, ss = _pair_phase_table(n, theta.dtype, theta.device)
    phase = theta @ s.T + pairs @ ss.T  # (..., 2**n)
    amp = walsh_hadamard(torch.polar(torch.ones_like(phase), phase), n) / 2**n
    return amp.real**2 + amp.imag**2


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


def distribution(family: str, theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Pattern distribution of ``family`` (see :data:`FAMILIES`): ``(..., 2**n)``."""
    fn = {"cry": cry_distribution, "iqp": iqp_distribution, "bitflip": bitflip_distribution}[family]
    return fn(theta, pairs)


def independent_angles(family: str, rates: torch.Tensor) -> torch.Tensor:
    """Single-qubit angles that give every neuron firing probability ``rates`` when all couplings are zero."""
    half = torch.arcsin(torch.sqrt(rates.clamp(0.0, 1.0)))
    return 2 * half if family == "cry" else half
