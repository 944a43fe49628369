r"""A batched statevector simulator in torch: small pure functions, differentiable by autograd.

Conventions (written down once, tested in ``tests/test_simulator.py``)
-----------------------------------------------------------------------
* A state of ``q`` qubits is ``state: (batch, 2**q)`` complex (``complex64`` by
  default, ``complex128`` on request). The batch axis is always there: every
  function takes and returns batched tensors.
* **Qubit 0 is the most significant bit** of a basis-state index (the
  convention of PennyLane's ``qml.probs`` and of most textbooks):
  ``index = sum_k b_k * 2**(q - 1 - k)``, with ``b_k`` the value of qubit ``k``.
  The generators put the ``n`` feature qubits (neurons) first, qubits
  ``0..n-1``, and the ancillas last, so that neuron 0 is the most significant
  bit of a pattern, as in :func:`spiqgan.statistics.pattern_indices`, and
  tracing out the ancillas is a sum over the last axis.
* Gates are applied without forming ``2**q x 2**q`` matrices: a single-qubit
  gate touches the state viewed as ``(batch, 2**k, 2, 2**(q-k-1))``; a CNOT
  chain, a fixed basis permutation, is one gather.

The functions do not validate their inputs (shapes, dtypes); the generators
that call them do.
"""

from __future__ import annotations

from functools import lru_cache

import torch

__all__ = [
    "zero_state",
    "rx_matrix",
    "ry_matrix",
    "rz_matrix",
    "apply_single_qubit",
    "apply_single_qubit_layer",
    "cnot_chain_permutation",
    "apply_permutation",
    "probabilities",
    "marginal_first",
    "bit_marginals",
    "sample_indices",
    "shot_estimate",
    "indices_to_bits",
    "MAX_QUBITS",
]

#: largest number of qubits a generator accepts: the state of one sample and
#: sub-generator holds 2**q amplitudes (8 MiB at q = 20 in complex64)
MAX_QUBITS = 20


def zero_state(batch: int, n_qubits: int, dtype: torch.dtype = torch.complex64, device: torch.device | str | None = None) -> torch.Tensor:
    """``(batch, 2**n_qubits)`` copies of ``|0...0>``."""
    state = torch.zeros(batch, 2**n_qubits, dtype=dtype, device=device)
    state[:, 0] = 1.0
    return state


def _real_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.complex128 else torch.float32


def rx_matrix(theta: torch.Tensor, dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    r""":math:`R_X(\theta) = \begin{pmatrix} \cos\frac\theta2 & -i\sin\frac\theta2 \\ -i\sin\frac\theta2 & \cos\frac\theta2 \end{pmatrix}`, shape ``theta.shape + (2, 2)``."""
    c = torch.cos(theta / 2).to(dtype)
    s = torch.sin(theta / 2).to(dtype)
    return torch.stack([torch.stack([c, -1j * s], -1), torch.stack([-1j * s, c], -1)], -2)


def ry_matrix(theta: torch.Tensor, dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    r""":math:`R_Y(\theta) = \begin{pmatrix} \cos\frac\theta2 & -\sin\frac\theta2 \\ \sin\frac\theta2 & \cos\frac\theta2 \end{pmatrix}`, shape ``theta.shape + (2, 2)``."""
    c = torch.cos(theta / 2).to(dtype)
    s = torch.sin(theta / 2).to(dtype)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def rz_matrix(theta: torch.Tensor, dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    r""":math:`R_Z(\theta) = \mathrm{diag}(e^{-i\theta/2}, e^{i\theta/2})`, shape ``theta.shape + (2, 2)``."""
    phase = torch.exp(-0.5j * theta.to(dtype))
    zero = torch.zeros_like(phase)
    return torch.stack([torch.stack([phase, zero], -1), torch.stack([zero, phase.conj()], -1)], -2)


def apply_single_qubit(state: torch.Tensor, matrix: torch.Tensor, wire: int, n_qubits: int) -> torch.Tensor:
    """Apply one 2x2 gate per batch element, ``matrix: (batch, 2, 2)``, to qubit ``wire``.

    Returns a new ``(batch, 2**n_qubits)`` state.
    """
    return _apply_block(state, matrix, wire, 1, n_qubits)


def _apply_block(state: torch.Tensor, matrix: torch.Tensor, first: int, width: int, n_qubits: int) -> torch.Tensor:
    """Apply ``matrix: (batch, 2**width, 2**width)`` to the adjacent qubits ``first .. first+width-1``."""
    batch = state.shape[0]
    view = state.reshape(batch, 2**first, 2**width, 2 ** (n_qubits - first - width))
    return torch.matmul(matrix[:, None], view).reshape(batch, -1)


def _kron_pair(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched Kronecker product of 2x2 gates on adjacent qubits ``(batch, 2, 2) x2 -> (batch, 4, 4)``."""
    return (a[:, :, None, :, None] * b[:, None, :, None, :]).reshape(a.shape[0], 4, 4)


def apply_single_qubit_layer(state: torch.Tensor, matrices: torch.Tensor, n_qubits: int) -> torch.Tensor:
    """Apply ``matrices: (batch, n_qubits, 2, 2)``, one gate on every qubit (they commute).

    Gates on neighbouring qubits are fused in pairs into one 4x4 gate: half the
    passes over the state. Measured at q = 11, batch 960, complex64, forward and
    backward of one layer: 0.49 s one gate at a time with element-wise updates,
    0.16 s with one batched matmul per gate, 0.10 s with pairs (triples: 0.19 s).
    """
    wire = 0
    while wire < n_qubits:
        if wire + 1 < n_qubits:
            state = _apply_block(state, _kron_pair(matrices[:, wire], matrices[:, wire + 1]), wire, 2, n_qubits)
            wire += 2
        else:
            state = _apply_block(state, matrices[:, wire], wire, 1, n_qubits)
            wire += 1
    return state


@lru_cache(maxsize=64)
def _cnot_chain_permutation_cached(n_qubits: int) -> tuple[int, ...]:
    import numpy as np

    index = np.arange(2**n_qubits)
    bits = (index[:, None] >> (n_qubits - 1 - np.arange(n_qubits))) & 1  # (2**q, q), qubit 0 = MSB
    # CNOT(0, 1), CNOT(1, 2), ... in this order: target j+1 flips by the *updated* control j
    for j in range(n_qubits - 1):
        bits[:, j + 1] ^= bits[:, j]
    image = (bits << (n_qubits - 1 - np.arange(n_qubits))).sum(axis=1)  # basis |i> -> |image[i]>
    source = np.empty_like(image)
    source[image] = index  # new amplitude at index k comes from source[k]
    return tuple(int(i) for i in source)


def cnot_chain_permutation(n_qubits: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Gather indices of the chain ``CNOT(0,1) CNOT(1,2) ... CNOT(q-2,q-1)`` (applied in that order).

    ``new_state[:, k] = state[:, perm[k]]``. Shape ``(2**n_qubits,)`` int64.
    """
    return torch.tensor(_cnot_chain_permutation_cached(n_qubits), dtype=torch.int64, device=device)


def apply_permutation(state: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Permute basis amplitudes: ``state[:, perm]``."""
    return state.index_select(1, perm)


def probabilities(state: torch.Tensor) -> torch.Tensor:
    """Born probabilities ``|amplitude|**2``, real ``(batch, 2**q)``."""
    return state.real**2 + state.imag**2


def marginal_first(probs: torch.Tensor, n_keep: int, n_qubits: int) -> torch.Tensor:
    """Distribution of the first ``n_keep`` qubits (the last ones traced out), ``(batch, 2**n_keep)``."""
    return probs.reshape(probs.shape[0], 2**n_keep, 2 ** (n_qubits - n_keep)).sum(-1)


def bit_marginals(dist: torch.Tensor, n_bits: int) -> torch.Tensor:
    """``P(bit k = 1)`` for each of ``n_bits`` bits of a distribution ``(..., 2**n_bits)``; shape ``(..., n_bits)``."""
    lead = dist.shape[:-1]
    view = dist.reshape(*lead, *([2] * n_bits))
    out = []
    for k in range(n_bits):
        dims = [len(lead) + j for j in range(n_bits) if j != k]
        out.append(view.sum(dim=dims)[..., 1] if dims else view[..., 1])
    return torch.stack(out, dim=-1)


def sample_indices(dist: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One basis index per row of ``dist: (..., K)``, drawn from it; shape ``dist.shape[:-1]``."""
    flat = dist.reshape(-1, dist.shape[-1]).clamp_min(0)
    idx = torch.multinomial(flat, 1, replacement=True, generator=generator).squeeze(-1)
    return idx.reshape(dist.shape[:-1])


def shot_estimate(dist: torch.Tensor, shots: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Relative frequencies of ``shots`` measurements of each row of ``dist: (..., K)``, as on hardware.

    Not differentiable. Same shape as ``dist``.
    """
    flat = dist.detach().reshape(-1, dist.shape[-1]).clamp_min(0)
    draws = torch.multinomial(flat, shots, replacement=True, generator=generator)  # (rows, shots)
    counts = torch.zeros_like(flat).scatter_add_(1, draws, torch.ones_like(draws, dtype=flat.dtype))
    return (counts / shots).reshape(dist.shape)


def indices_to_bits(indices: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Bits of basis indices, most significant first: ``(...,)`` -> ``(..., n_bits)`` uint8."""
    shifts = torch.arange(n_bits - 1, -1, -1, device=indices.device)
    return ((indices[..., None] >> shifts) & 1).to(torch.uint8)
