r"""What a circuit family is: the object that owns a family's probabilities, sampling and gates.

A Born machine (:class:`spiqgan.models.born.BornMachine`) generates each time step of a window with
one circuit of a family: ``n`` qubits (plus the family's ancillas), qubit ``j`` = neuron ``j``,
single-qubit angles ``theta: (..., n)`` and one trainable coupling per pair of neurons,
``pairs: (..., n(n-1)/2)`` in the row order of :func:`pair_indices`. Qubit 0 is the most
significant bit of a pattern index (as in :mod:`spiqgan.quantum.statevector`).

A family is a subclass of :class:`CircuitFamily` in its own module, registered by name in
:data:`spiqgan.quantum.families.FAMILIES`; that is all a new family needs (it is then also a model,
``--model NAME``). It gives

* :meth:`~CircuitFamily.distribution`: the exact outcome distribution of one step's circuit;
* :meth:`~CircuitFamily.step_log_probs` and :meth:`~CircuitFamily.sample`: what the Born machine's
  likelihood and sampler ask (by default from :meth:`~CircuitFamily.distribution`, enumerating the
  ``2**n`` patterns; a family that goes neuron by neuron overrides them);
* :meth:`~CircuitFamily.independent_angles`: the angles of the independent model (the fit's start);
* :meth:`~CircuitFamily.add_step`: its gates, onto a :class:`~spiqgan.quantum.circuit.Circuit`.

All tensor functions are batched over leading axes and differentiable; they do not validate their
inputs (the Born machine checks at its boundary).
"""

from __future__ import annotations

import abc
from functools import lru_cache
from typing import Callable, ClassVar

import numpy as np
import torch

from spiqgan.quantum.circuit import Bit, Circuit, latent_terms
from spiqgan.quantum.statevector import bits_to_indices, indices_to_bits, sample_indices

__all__ = ["CircuitFamily", "pair_indices", "lower_triangular", "walsh_hadamard", "pattern_bits", "step_couplings",
           "input_angles"]


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


def pattern_bits(n: int, dtype: torch.dtype, device: torch.device | str | None = None) -> torch.Tensor:
    """``(2**n, n)`` bits of every pattern index, neuron 0 the most significant."""
    idx = torch.arange(2**n, device=device)
    return ((idx[:, None] >> torch.arange(n - 1, -1, -1, device=device)) & 1).to(dtype)


def input_angles(v: dict[str, np.ndarray], s: int, latent: list[str],
                 earlier: list[str]) -> list[tuple[float, tuple[tuple[str, float], ...], list[tuple[float, Bit]]]]:
    """Each neuron's input angle at step ``s`` of a Born machine's fitted arrays ``v``, as gates take it:
    ``(constant, latent terms, conditioned)``, ``conditioned`` the ``(angle, bit)`` that the memory and own
    history add when an earlier step's bit (of the registers ``earlier``) is 1; steps before the window's
    first are at the padding rates, in the constant."""
    n = v["angles_"].shape[1]
    mem, own, pad = v["memory_"], v["own_"], v["pad_"]
    out = []
    for j in range(n):
        const, conditioned = float(v["angles_"][s, j]), []
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
        out.append((const, latent_terms(v["loadings_"][s, j], latent), conditioned))
    return out


def step_couplings(pairs: np.ndarray, s: int) -> np.ndarray:
    """The couplings of step ``s``: ``pairs`` shared by all steps ``(n(n-1)/2,)``, or per step ``(t, n(n-1)/2)``."""
    return pairs if pairs.ndim == 1 else pairs[s]


class CircuitFamily(abc.ABC):
    """A family of pairwise-coupled circuits, one per time step of a Born machine (see the module docstring)."""

    #: the name in the registry and in ``--model``
    name: ClassVar[str] = ""
    #: what the circuit is called in words (circuit descriptions)
    title: ClassVar[str] = ""
    #: whether the probabilities come from interfering amplitudes
    interference: ClassVar[bool] = False
    #: whether a step's rotations may be conditioned on measured spikes (memory of earlier steps, the count
    #: term): the family's likelihood and sampling go neuron by neuron
    conditional: ClassVar[bool] = False
    #: the most neurons it takes (``None``: any); the default likelihood enumerates ``2**n`` patterns per step
    max_neurons: ClassVar[int | None] = 16
    #: ancilla qubits of its circuit, after the ``n`` neuron qubits
    ancillas: ClassVar[int] = 0
    #: whether the memory of earlier steps (``memory``, ``history``) may shift a step's angles: a
    #: :attr:`conditional` family's rotations conditioned on measured spikes, or a whole step's circuit
    #: enumerated once per window's angles (a user's circuit)
    memory_inputs: ClassVar[bool] = False
    #: whether its couplings are one per pair of neurons (their fit's scale comes from the pairs' rates)
    pairwise: ClassVar[bool] = True

    def n_couplings(self, n: int) -> int:
        """How many couplings (trainable weights besides the angles) one step's circuit of ``n`` neurons has."""
        return n * (n - 1) // 2

    @abc.abstractmethod
    def distribution(self, theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Exact pattern distribution ``(..., 2**n)`` of angles ``theta: (..., n)`` and couplings ``(..., n(n-1)/2)``."""

    def independent_angles(self, rates: torch.Tensor) -> torch.Tensor:
        r"""Angles that give every neuron firing probability ``rates`` when all couplings are zero: :math:`\arcsin\sqrt r`."""
        return torch.arcsin(torch.sqrt(rates.clamp(0.0, 1.0)))

    def step_log_probs(self, base: torch.Tensor, pairs: torch.Tensor, x: torch.Tensor,
                       shift: torch.Tensor | None = None, count: torch.Tensor | None = None) -> torch.Tensor:
        """``log P_s(x_s | z_k)`` of windows ``x: (B, t, n)`` float under angles ``base: (K, t, n)``: ``(K, B, t)``.

        ``shift: (B, t, n)`` (angles added per window: memory) and ``count: (n,)`` (the count term) are for
        :attr:`conditional` families only.
        """
        dist = self.distribution(base, pairs)  # (K, t, 2**n)
        idx = bits_to_indices(x.to(torch.uint8))  # (B, t)
        logp = torch.log(dist.clamp_min(torch.finfo(dist.dtype).tiny))
        steps = torch.arange(x.shape[1])
        return logp[:, steps[None, :], idx]

    def sample(self, base: torch.Tensor, pairs: torch.Tensor, path: torch.Tensor, generator: torch.Generator,
               shift: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
               count: torch.Tensor | None = None) -> torch.Tensor:
        """Windows ``(N, t, n)`` uint8, window ``i`` at step ``s`` under the angles ``base[path[i, s], s]``.

        ``base: (K, t, n)``, ``path: (N, t)`` latent indices; ``shift(steps, s)`` gives the per-window angles
        that the steps already drawn imply at step ``s``, neuron-major: ``steps: (t, n, N)`` float (the bits
        drawn; only steps before ``s`` are read), result ``(n, N)`` (:attr:`conditional` families only).
        """
        n = base.shape[-1]
        steps = torch.arange(base.shape[1])
        dist = self.distribution(base, pairs)  # (K, t, 2**n)
        return indices_to_bits(sample_indices(dist[path, steps], generator), n)

    def per_step_cost(self, n: int) -> str:
        """What one step's likelihood enumerates, in words."""
        return f"2^{n} patterns"

    @abc.abstractmethod
    def add_step(self, circuit: Circuit, s: int, v: dict[str, np.ndarray], register: str, latent: list[str],
                 earlier: list[str]) -> None:
        """Append step ``s``'s gates and measurements (into ``register``) to ``circuit``.

        ``v``: the Born machine's fitted arrays (float64), ``latent``: the names of the latent inputs of
        this step; ``earlier``: the registers of the steps before (a window circuit; conditional families).
        """
