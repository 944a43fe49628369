r"""Exact matrix-product-state simulation of the SpiQGAN chain circuit, differentiable in torch.

Why it is exact
---------------
A layer of the SpiQGAN circuit is a gate on every qubit, then ``CNOT(0, 1)``,
``CNOT(1, 2)``, ..., ``CNOT(q-2, q-1)`` in that order. The chain maps a basis
state ``|b>`` to ``|b'>`` with :math:`b'_k = b_0 \oplus \dots \oplus b_k` (each
target flips by the *updated* control): a permutation whose matrix-product
operator carries one bit, the running parity, from site to site. Applying it to
a matrix-product state (MPS) of bond dimension ``D`` gives one of bond ``2D``,
and single-qubit gates keep the bond. So ``l`` layers on ``|0...0>`` give an MPS
of bond dimension :math:`2^l` *exactly*, at any number of qubits, with no
truncation (32 for the paper's 5 layers), whatever the noise encoding.

Conventions
-----------
* An MPS of ``q`` sites is a list of ``q`` tensors ``(batch, D_left, 2, D_right)``
  (``D_left = 1`` at site 0, ``D_right = 1`` at site ``q-1``), qubit 0 first, as in
  :mod:`spiqgan.quantum.statevector` (qubit 0 the most significant bit). The batch
  axis (noise draws times sub-generators) is always there.
* The ``n`` feature qubits are sites ``0..n-1``, the ancillas the rest, traced out.
* Environments are ``(batch, D, D)`` Hermitian matrices: the right environment
  at the cut before site ``j`` is the state of sites ``j..q-1`` traced out.

What it computes, and what each costs per batch element (``D = 2^l``)
----------------------------------------------------------------------
* :func:`chain_mps`: the MPS from the fused gates of every layer, ``O(q l D^2)``.
* :func:`pattern_probabilities`: :math:`p(x) = \lVert A_0[x_0] \cdots A_{n-1}[x_{n-1}]\, E \rVert`
  for given patterns ``x`` (a row vector times one small matrix per neuron, then the
  ancillas' environment ``E``): ``O(n D^2)`` per pattern, so a likelihood needs only
  the patterns that occur (each distinct one once), never the ``2^n`` others.
* :func:`spike_probabilities`: every neuron's marginal from left and right
  environments, ``O(q D^3)``.
* :func:`sample`: exact sequential sampling, neuron by neuron, against cached right
  environments, ``O(q D^3 + n D^2)`` per sample.

Why torch and not a tensor-network library: the contractions are a chain of
batched matrix products of one fixed shape that torch runs and differentiates
directly (autograd, complex128, CUDA) with no new dependency; quimb (through
autoray) or PennyLane's ``default.tensor`` (quimb underneath, no batching over noise
draws, differentiation by parameter shift) would add a dependency and a conversion
at every step for no gain on this one circuit shape.

The functions do not validate their inputs; the generator that calls them does.
"""

from __future__ import annotations

import torch

__all__ = ["chain_mps", "right_environments", "pattern_probabilities", "spike_probabilities", "sample",
           "all_pattern_probabilities", "bond_dimension", "mps_bytes"]


def bond_dimension(n_layers: int) -> int:
    """The bond dimension of ``n_layers`` layers of the chain circuit: ``2 ** n_layers``."""
    return 2**n_layers


def mps_bytes(n_qubits: int, n_layers: int, batch: int, itemsize: int) -> int:
    """Bytes of the MPS of ``batch`` circuits (``q`` sites of ``D x 2 x D``), the unit the simulator holds per layer."""
    d = bond_dimension(n_layers)
    return batch * n_qubits * 2 * d * d * itemsize


def _apply_chain(sites: list[torch.Tensor]) -> list[torch.Tensor]:
    """The CNOT chain as an MPO that carries the running parity ``c``: bond ``D -> 2D``.

    Site ``j``'s new tensor is ``A'[(a, c), b', (b, c')] = A[a, b' xor c, b] * [c' == b']``; the
    parity enters site 0 as 0 and leaves the last site summed (it equals that site's bit).
    """
    q = len(sites)
    if q == 1:
        return sites
    out = []
    for j, a in enumerate(sites):
        batch, dl, _, dr = a.shape
        if j == q - 1:  # the parity leaves summed: A'[(a, c), b', b] = A[a, b' xor c, b]
            out.append(torch.stack([a, a.flip(2)], 2).reshape(batch, 2 * dl, 2, dr))
            continue
        # A'[(a, c), b', (b, c')] is zero unless c' = b': written into zeros (the parity c is 0 at site 0)
        parities = 1 if j == 0 else 2
        new = a.new_zeros(batch, dl, parities, 2, dr, 2)
        for c in range(parities):
            for bit in range(2):
                new[:, :, c, bit, :, bit] = a[:, :, bit ^ c]
        out.append(new.reshape(batch, parities * dl, 2, 2 * dr))
    return out


def chain_mps(gates: torch.Tensor) -> list[torch.Tensor]:
    """The exact MPS of the chain circuit on ``|0...0>``, from ``gates: (batch, l, q, 2, 2)``.

    Layer ``k`` applies ``gates[:, k, j]`` to qubit ``j`` for every ``j``, then the CNOT chain
    (the generator's fused gates, :meth:`spiqgan.quantum.generator.PatchGenerator._layer_matrices`).
    Returns ``q`` tensors ``(batch, D_left, 2, D_right)``, bond ``2^l`` inside.
    """
    batch, n_layers, q = gates.shape[:3]
    # the first layer acts on |0>: its gate's first column is the whole site
    sites = [gates[:, 0, j, :, 0].reshape(batch, 1, 2, 1) for j in range(q)]
    sites = _apply_chain(sites)
    for k in range(1, n_layers):
        sites = [torch.einsum("bij,bxjy->bxiy", gates[:, k, j], a) for j, a in enumerate(sites)]
        sites = _apply_chain(sites)
    return sites


def _contract_env(a: torch.Tensor, env: torch.Tensor) -> torch.Tensor:
    """``sum_b A[b] env A[b]^dagger``: the right environment one site further left, ``(batch, Dl, Dl)``."""
    batch, dl, _, dr = a.shape
    left = a.reshape(batch, dl * 2, dr) @ env  # (B, Dl*2, Dr)
    return (left.reshape(batch, dl, 2 * dr) @ a.reshape(batch, dl, 2 * dr).conj().transpose(1, 2))


def right_environments(sites: list[torch.Tensor], start: int = 0) -> list[torch.Tensor]:
    """Right environments ``R_j`` (sites ``j..q-1`` traced out) for ``j = start..q``; ``R_q = 1``.

    ``R_j`` is ``(batch, D_left(j), D_left(j))``; the list's item ``j - start``.
    """
    a = sites[-1]
    env = torch.ones(a.shape[0], 1, 1, dtype=a.dtype, device=a.device)
    envs = [env]
    for j in range(len(sites) - 1, start - 1, -1):
        env = _contract_env(sites[j], env)
        envs.append(env)
    return envs[::-1]


def _quadratic(v: torch.Tensor, env: torch.Tensor) -> torch.Tensor:
    """``Re(v env v^dagger)`` for row vectors ``v: (batch, P, D)`` and ``env: (batch, D, D)``: ``(batch, P)``."""
    w = v @ env
    return (w.real * v.real + w.imag * v.imag).sum(-1)


def pattern_probabilities(sites: list[torch.Tensor], bits: torch.Tensor) -> torch.Tensor:
    """Exact probability of each pattern of the first ``n`` qubits, the others traced out.

    ``bits: (P, n)`` 0/1 (the same patterns for every batch element). Returns
    ``(batch, P)`` real, differentiable: per pattern a row vector through one small matrix per
    neuron, then the environment of the ancillas.
    """
    n = bits.shape[1]
    batch = sites[0].shape[0]
    env = right_environments(sites, start=n)[0]  # the ancillas, traced out: (B, D, D)
    choose = bits.to(torch.bool)
    v = None
    for j in range(n):
        a = sites[j]
        _, dl, _, dr = a.shape
        if v is None:  # site 0: D_left = 1, the row vector is the site itself
            u = a.reshape(batch, 1, 2, dr).expand(batch, bits.shape[0], 2, dr)
        else:
            u = (v @ a.reshape(batch, dl, 2 * dr)).reshape(batch, -1, 2, dr)
        v = torch.where(choose[None, :, j, None], u[:, :, 1], u[:, :, 0])
    return _quadratic(v, env)


def all_pattern_probabilities(sites: list[torch.Tensor], n: int) -> torch.Tensor:
    """The whole distribution of the first ``n`` qubits, ``(batch, 2**n)``, neuron 0 the most significant bit."""
    index = torch.arange(2**n, device=sites[0].device)
    bits = (index[:, None] >> torch.arange(n - 1, -1, -1, device=index.device)) & 1
    return pattern_probabilities(sites, bits)


def spike_probabilities(sites: list[torch.Tensor], n: int) -> torch.Tensor:
    """``P(qubit j measures 1)`` for the first ``n`` qubits, ``(batch, n)``, from left and right environments."""
    rights = right_environments(sites, start=0)
    a0 = sites[0]
    left = torch.ones(a0.shape[0], 1, 1, dtype=a0.dtype, device=a0.device)
    out = []
    for j in range(n):
        a = sites[j]
        one = a[:, :, 1]  # (B, Dl, Dr)
        # sum_xw L[x, w] (A[1] R A[1]^dagger)[x, w], L the left environment
        m = one @ rights[j + 1] @ one.conj().transpose(1, 2)
        out.append((left * m).sum((1, 2)).real)
        left = torch.einsum("bxw,bxiy,bwiz->byz", left, a, a.conj())
    return torch.stack(out, dim=1)


def sample(sites: list[torch.Tensor], n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One exact sample of the first ``n`` qubits per batch element, ``(batch, n)`` uint8.

    Neuron by neuron: the probability of each next bit given the ones drawn is a quadratic
    form of the row vector so far with the cached right environment. The row vector is
    renormalized at every site (the conditional probabilities are ratios).
    """
    with torch.no_grad():
        rights = right_environments(sites, start=0)
        batch = sites[0].shape[0]
        real = torch.float64 if sites[0].dtype == torch.complex128 else torch.float32
        u = torch.rand(batch, n, generator=generator, dtype=real, device=sites[0].device)
        v = torch.ones(batch, 1, 1, dtype=sites[0].dtype, device=sites[0].device)
        bits = torch.zeros(batch, n, dtype=torch.uint8, device=sites[0].device)
        for j in range(n):
            a = sites[j]
            _, dl, _, dr = a.shape
            cand = (v @ a.reshape(batch, dl, 2 * dr)).reshape(batch, 2, dr)  # (B, bit, Dr)
            p = _quadratic(cand, rights[j + 1]).clamp_min(0)  # (B, 2)
            one = u[:, j] * (p[:, 0] + p[:, 1]) >= p[:, 0]
            bits[:, j] = one.to(torch.uint8)
            v = torch.where(one[:, None], cand[:, 1], cand[:, 0])
            v = (v / v.abs().pow(2).sum(-1, keepdim=True).sqrt().clamp_min(1e-300))[:, None, :]
        return bits
