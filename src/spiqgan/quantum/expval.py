r"""IQP circuits over whole windows, judged and trained from Pauli-Z expectation values.

One qubit per bit of a window: qubit ``s n + j`` is neuron ``j`` at step ``s`` (the row-major order
of a ``(t, n)`` window). The circuit is :math:`H^{\otimes m}\, e^{i \sum_g \theta_g Z_g}\, H^{\otimes m}`
on :math:`|0\rangle^{\otimes m}`, one generator :math:`Z_g = \prod_{k \in g} Z_k` per set of qubits
``g`` (as :mod:`spiqgan.quantum.families.iqp`, whose one-step circuit is the case ``t = 1``).

**Expectation values** (Van den Nest 2010; Recio-Armengol, Ahmed and Bowles 2025). For a set of
qubits ``a``,

.. math:: \langle Z_a \rangle = \mathbb{E}_{z \sim U\{0,1\}^m}
          \cos\Big(\sum_{g:\, |g \cap a| \text{ odd}} 2\theta_g\, (-1)^{g \cdot z}\Big),

an average of bounded terms, so ``S`` uniform ``z`` give an unbiased estimate with standard error at
most :math:`1/\sqrt S`. Only the generators that overlap ``a`` an odd number of times enter.
Generators here act on one or two qubits, so each qubit's local field (its own angle plus its
couplings to the others) is computed once per sample and shared by all operators
(:func:`iqp_terms`): an operator costs a sum over its own qubits and one cosine per sample.

**The bit-flip look-alike** (each generator flips its bits with probability :math:`\sin^2\theta_g`)
has the same one-generator marginals and exact expectation values
:math:`\langle Z_a\rangle = \prod_{g:\,|g\cap a| \text{ odd}} \cos 2\theta_g` (:func:`bitflip_expval`).

**MMD from expectation values.** With the Gaussian kernel
:math:`k(x, y) = e^{-|x-y|^2 / 2\sigma^2}` on bit strings, per bit
:math:`e^{-[x_k \ne y_k]/2\sigma^2} = (1 - p) + p\, Z_k(x) Z_k(y)` up to normalisation, with
:math:`p = (1 - e^{-1/2\sigma^2})/2`, so that

.. math:: \mathrm{MMD}^2(P, Q) = \sum_a p^{|a|} (1-p)^{m - |a|}
          \big(\langle Z_a\rangle_P - \langle Z_a\rangle_Q\big)^2
          = \mathbb{E}_{a \sim \mathrm{Bernoulli}(p)^m} \big(\langle Z_a\rangle_P - \langle Z_a\rangle_Q\big)^2 .

:func:`mmd2_terms` gives an unbiased term per sampled operator: the model's square from two
independent halves of the samples, the data's from the U-statistic over windows. Several bandwidths
average their kernels (:func:`bandwidth_for_weight` names a bandwidth by the mean weight of its
operators). All tensor functions are differentiable in ``theta`` and batched over operators.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["Generators", "window_generators", "OperatorSet", "operator_set", "random_signs", "iqp_terms",
           "iqp_expval", "bitflip_expval", "iqp_probabilities", "bitflip_probabilities", "sample_bitflip",
           "operators_from_sets", "operator_probability", "bandwidth_for_weight", "sample_operators",
           "parities", "data_expval", "moments_from_totals", "mmd2_terms"]


# ---------------------------------------------------------------- generators
@dataclass(frozen=True, eq=False)
class Generators:
    """The generators of an IQP circuit on ``n_qubits`` qubits.

    ``qubits``: ``(G, 2)`` the qubits of each generator, ``-1`` in the second column for a one-qubit
    generator; ``parameter``: ``(G,)`` which of the ``n_parameters`` angles each generator takes (shared
    angles: several generators, one parameter); ``names``: one label per parameter.
    """

    qubits: np.ndarray
    parameter: np.ndarray
    n_qubits: int
    n_parameters: int
    names: tuple[str, ...] = ()

    @property
    def n_generators(self) -> int:
        return int(self.qubits.shape[0])

    def __post_init__(self) -> None:
        if self.qubits.ndim != 2 or self.qubits.shape[1] != 2 or (self.qubits[:, 0] < 0).any():
            raise ValueError("generators act on one or two qubits: qubits must be (G, 2), -1 only in the second column.")

    def matrix(self) -> sp.csr_matrix:
        """``(G, m)`` 0/1 incidence of generators and qubits."""
        rows, cols = np.nonzero(self.qubits >= 0)
        return sp.csr_matrix((np.ones(rows.size, np.int32), (rows, self.qubits[rows, cols])),
                             shape=(self.n_generators, self.n_qubits))

    @cached_property
    def incidence_t(self) -> sp.csr_matrix:
        """``(m, G)``: the transposed incidence, kept (operator sets multiply by it)."""
        return sp.csr_matrix(self.matrix().T)

    @cached_property
    def coupling_layout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The local fields' layout: one-qubit generators and their qubits; the symmetric coupling matrix's
        entries ``(rows, cols)``, sorted, and the two-qubit generator at each."""
        single = np.flatnonzero(self.qubits[:, 1] < 0)
        pair = np.flatnonzero(self.qubits[:, 1] >= 0)
        a, b = self.qubits[pair, 0], self.qubits[pair, 1]
        rows, cols, gen = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([pair, pair])
        order = np.lexsort((cols, rows))
        return tuple(torch.as_tensor(v, dtype=torch.long) for v in
                     (single, self.qubits[single, 0], rows[order], cols[order], gen[order]))

    def angles(self, theta: torch.Tensor) -> torch.Tensor:
        """Each generator's angle ``(..., G)`` from the parameters ``(..., P)``."""
        return theta[..., torch.as_tensor(self.parameter, device=theta.device)]


@lru_cache(maxsize=32)
def window_generators(t: int, n: int, max_lag: int = 1, *, shared: bool = True) -> Generators:
    """The generators of a window ``(t, n)``: Z on each bit; ZZ on every pair in one step, on one neuron across
    lags ``1..max_lag`` and across neurons and lags ``1..max_lag`` (the space-time structure of the temporal
    maximum-entropy and DG models).

    ``shared``: one angle per (neuron) and per (lag, neuron, neuron) for all steps (a stationary window);
    otherwise one angle per generator. Cached: the same window gets the same object, with its layouts.
    """
    qubits, keys = [], []
    for s in range(t):
        for j in range(n):
            qubits.append((s * n + j, -1))
            keys.append(f"z{j}" if shared else f"z{s},{j}")
    for s in range(t):
        for i in range(n):
            for j in range(i + 1, n):
                qubits.append((s * n + i, s * n + j))
                keys.append(f"zz0:{i},{j}" if shared else f"zz{s},{i};{s},{j}")
    for lag in range(1, min(max_lag, t - 1) + 1):
        for s in range(t - lag):
            for i in range(n):
                for j in range(n):
                    qubits.append((s * n + i, (s + lag) * n + j))
                    keys.append(f"zz{lag}:{i},{j}" if shared else f"zz{s},{i};{s + lag},{j}")
    names = tuple(dict.fromkeys(keys))
    index = {k: p for p, k in enumerate(names)}
    return Generators(np.asarray(qubits, dtype=np.int64).reshape(-1, 2), np.asarray([index[k] for k in keys], np.int64),
                      t * n, len(names), names)


# ------------------------------------------------------------------ operators
def operators_from_sets(sets: list[tuple[int, ...]] | list[list[int]], m: int) -> sp.csr_matrix:
    """``(O, m)`` 0/1 operators (rows: the qubits of each :math:`Z_a`) from lists of qubits."""
    rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    cols = np.fromiter((q for s in sets for q in s), dtype=np.int64, count=rows.size)
    return sp.csr_matrix((np.ones(rows.size, np.int32), (rows, cols)), shape=(len(sets), m))


def operator_probability(sigma: float) -> float:
    r"""The chance :math:`p = (1 - e^{-1/2\sigma^2})/2` that a bit belongs to an operator of bandwidth ``sigma``."""
    return 0.5 * (1.0 - math.exp(-1.0 / (2.0 * sigma**2)))


def bandwidth_for_weight(weight: float, m: int) -> float:
    """The bandwidth whose operators on ``m`` qubits have ``weight`` qubits on average (``0 < weight < m/2``)."""
    p = weight / m
    if not 0 < p < 0.5:
        raise ValueError(f"an operator weight must lie in (0, m/2) = (0, {m / 2}), got {weight}.")
    return math.sqrt(-1.0 / (2.0 * math.log(1.0 - 2.0 * p)))


def sample_operators(m: int, sigmas: list[float] | tuple[float, ...], n_operators: int,
                     rng: np.random.Generator) -> tuple[sp.csr_matrix, np.ndarray]:
    """``n_operators`` operators per bandwidth, each bit in with chance :func:`operator_probability`:
    ``(B n_operators, m)`` and the bandwidth index of each row."""
    blocks = [sp.csr_matrix((rng.random((n_operators, m)) < operator_probability(s)).astype(np.int32))
              for s in sigmas]
    return sp.vstack(blocks, format="csr"), np.repeat(np.arange(len(sigmas)), n_operators)


# ------------------------------------------------------------- operator sets
@dataclass(frozen=True)
class OperatorSet:
    """What the estimators need of operators ``(O, m)`` against generators, found once (sparse products).

    ``odd_rows, odd_cols``: the (operator, generator) pairs of odd overlap; ``qubit_rows, qubit_cols``:
    each operator's qubits; ``inner_rows, inner_cols``: the two-qubit generators that lie inside each
    operator (all sorted by operator).
    """

    n_operators: int
    odd_rows: torch.Tensor
    odd_cols: torch.Tensor
    qubit_rows: torch.Tensor
    qubit_cols: torch.Tensor
    inner_rows: torch.Tensor
    inner_cols: torch.Tensor


def _row_pairs(matrix: sp.spmatrix, keep: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The (row, column) of a sparse matrix's entries (those where ``keep``), sorted by row and column."""
    coo = sp.csr_matrix(matrix).sorted_indices().tocoo()
    rows, cols = (coo.row, coo.col) if keep is None else (coo.row[keep(coo.data, coo.col)], coo.col[keep(coo.data, coo.col)])
    return torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)


def operator_set(operators: sp.csr_matrix, generators: Generators) -> OperatorSet:
    """The :class:`OperatorSet` of ``operators`` ``(O, m)`` 0/1 and ``generators``."""
    ops = sp.csr_matrix(operators, dtype=np.int32)
    if ops.shape[1] != generators.n_qubits:
        raise ValueError(f"operators act on {ops.shape[1]} qubits, the circuit has {generators.n_qubits}.")
    counts = ops @ generators.incidence_t
    is_pair = generators.qubits[:, 1] >= 0
    return OperatorSet(int(ops.shape[0]), *_row_pairs(counts, lambda d, c: d % 2 == 1), *_row_pairs(ops),
                       *_row_pairs(counts, lambda d, c: (d == 2) & is_pair[c]))


class _RowsMatmul(torch.autograd.Function):
    """``out[r] = sum over entries e of row r: values[e] * dense[cols[e]]`` (a CSR product), differentiable in
    ``values`` and ``dense``; ``rows`` sorted."""

    @staticmethod
    def forward(ctx, crow, rows, cols, values, dense, n_rows):  # noqa: D102
        ctx.save_for_backward(crow, cols, values, dense)
        with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used here is tested
            warnings.simplefilter("ignore", UserWarning)
            matrix = torch.sparse_csr_tensor(crow, cols, values, (n_rows, dense.shape[0]), check_invariants=False)
            return matrix @ dense

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        crow, cols, values, dense = ctx.saved_tensors
        grad_values = grad_dense = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            matrix = torch.sparse_csr_tensor(crow, cols, values, (grad.shape[0], dense.shape[0]), check_invariants=False)
            if ctx.needs_input_grad[3]:  # d/d values[e] = grad[row e] . dense[col e], only at the entries
                grad_values = torch.sparse.sampled_addmm(matrix, grad, dense.T, beta=0.0).values()
            if ctx.needs_input_grad[4]:
                grad_dense = matrix.t().to_sparse_csr() @ grad
        return None, None, None, grad_values, grad_dense, None


def _rows_matmul(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, dense: torch.Tensor,
                 n_rows: int) -> torch.Tensor:
    crow = torch.zeros(n_rows + 1, dtype=torch.long)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n_rows), 0)
    return _RowsMatmul.apply(crow, rows, cols, values, dense, n_rows)


# ----------------------------------------------------------- expectation values
def random_signs(n_samples: int, m: int, rng: np.random.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``(m, S)`` uniform +-1: qubit by sample."""
    bits = np.unpackbits(np.frombuffer(rng.bytes(m * ((n_samples + 7) // 8)), dtype=np.uint8)).reshape(m, -1)
    return torch.from_numpy(bits[:, :n_samples].astype(np.int8) * -2 + 1).to(dtype)


def iqp_terms(theta: torch.Tensor, generators: Generators, operators: OperatorSet, z: torch.Tensor) -> torch.Tensor:
    r"""The Monte Carlo terms :math:`\cos\big(\sum_{g \text{ odd}} 2\theta_g (-1)^{g\cdot z}\big)` ``(O, S)`` of each
    operator and sample (``z: (m, S)`` of +-1); their mean over samples estimates :math:`\langle Z_a\rangle`.

    The phase goes through each qubit's local field: with :math:`z_q F_q = z_q (2\theta_q +
    \sum_{(q,k)} 2\theta_{qk} z_k)`, the phase of ``a`` is :math:`\sum_{q\in a} z_q F_q - 2 \sum_{g \subset a}
    2\theta_g z_g` (a generator inside ``a`` meets it twice, an even number of times). The fields are
    shared by all operators, so an operator costs a few row sums, not one per generator.
    """
    z = z.to(theta.dtype)
    m, angles = generators.n_qubits, 2.0 * generators.angles(theta)
    single, single_qubit, rows, cols, gen = generators.coupling_layout
    field = theta.new_zeros(m).index_add(0, single_qubit, angles[single])
    field = field[:, None] + _rows_matmul(rows, cols, angles[gen], z, m)
    phase = _rows_matmul(operators.qubit_rows, operators.qubit_cols,
                         torch.ones(operators.qubit_rows.numel(), dtype=theta.dtype), z * field, operators.n_operators)
    if operators.inner_rows.numel():
        ends = torch.as_tensor(generators.qubits)[operators.inner_cols]
        inner = angles[operators.inner_cols][:, None] * z[ends[:, 0]] * z[ends[:, 1]]
        phase = phase - 2.0 * phase.new_zeros(phase.shape).index_add(0, operators.inner_rows, inner)
    return torch.cos(phase)


def iqp_expval(theta: torch.Tensor, generators: Generators, operators: sp.csr_matrix | OperatorSet, n_samples: int,
               rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Unbiased estimates of :math:`\langle Z_a\rangle` ``(O,)`` of the IQP circuit and their standard errors ``(O,)``,
    from ``n_samples`` uniform ``z`` (the same for every operator)."""
    if not isinstance(operators, OperatorSet):
        operators = operator_set(operators, generators)
    terms = iqp_terms(theta, generators, operators, random_signs(n_samples, generators.n_qubits, rng, theta.dtype))
    mean = terms.mean(1)
    if n_samples < 2:
        return mean, torch.full_like(mean, math.nan)
    square = (terms.detach() ** 2).mean(1)
    return mean, ((square - mean.detach() ** 2).clamp_min(0.0) / (n_samples - 1)).sqrt()


def bitflip_expval(theta: torch.Tensor, generators: Generators, operators: sp.csr_matrix | OperatorSet) -> torch.Tensor:
    r"""Exact :math:`\langle Z_a\rangle = \prod_{g \text{ odd}} \cos 2\theta_g` ``(O,)`` of the bit-flip model."""
    if not isinstance(operators, OperatorSet):
        operators = operator_set(operators, generators)
    c = torch.cos(2.0 * generators.angles(theta)[operators.odd_cols])
    log_abs = theta.new_zeros(operators.n_operators).index_add(0, operators.odd_rows, torch.log(c.abs()))
    negative = torch.zeros(operators.n_operators, dtype=torch.long).index_add(0, operators.odd_rows, (c < 0).long())
    return torch.exp(log_abs) * (1 - 2 * (negative % 2)).to(theta.dtype)


# ---------------------------------------------------------- exact (small m)
def iqp_probabilities(theta: torch.Tensor, generators: Generators) -> torch.Tensor:
    """Exact distribution ``(2**m,)`` of the IQP circuit (qubit 0 the most significant bit; ``m <= 24``)."""
    from spiqgan.quantum.families.base import pattern_bits, walsh_hadamard

    m = generators.n_qubits
    z = 1 - 2 * pattern_bits(m, theta.dtype)
    ext = torch.cat([z, z.new_ones(z.shape[0], 1)], 1)  # padding -1 reads the column of ones
    q = torch.as_tensor(generators.qubits)
    phase = (ext[:, q[:, 0]] * ext[:, q[:, 1]]) @ generators.angles(theta)
    amp = walsh_hadamard(torch.polar(torch.ones_like(phase), phase), m) / 2**m
    return amp.real**2 + amp.imag**2


def bitflip_probabilities(theta: torch.Tensor, generators: Generators) -> torch.Tensor:
    """Exact distribution ``(2**m,)`` of the bit-flip model (qubit 0 the most significant bit)."""
    m = generators.n_qubits
    idx = torch.arange(2**m)
    flips = torch.sin(generators.angles(theta)) ** 2
    dist = theta.new_zeros(2**m)
    dist[0] = 1.0
    for g, row in enumerate(generators.qubits):
        mask = sum(1 << (m - 1 - int(q)) for q in row if q >= 0)
        dist = (1 - flips[g]) * dist + flips[g] * dist[idx ^ mask]
    return dist


def sample_bitflip(theta: np.ndarray, generators: Generators, n: int, rng: np.random.Generator,
                   chunk: int = 4096) -> np.ndarray:
    """``n`` exact samples ``(n, m)`` uint8 of the bit-flip model: each generator flips its bits with chance
    :math:`\\sin^2\\theta_g`, the flips added mod 2."""
    q = np.sin(np.asarray(theta)[generators.parameter]) ** 2
    incidence = generators.matrix()
    out = np.empty((n, generators.n_qubits), np.uint8)
    for start in range(0, n, chunk):
        flips = sp.csr_matrix((rng.random((min(chunk, n - start), q.size)) < q).astype(np.int32))
        out[start:start + chunk] = ((flips @ incidence).toarray() % 2).astype(np.uint8)
    return out


# ------------------------------------------------------------------------ MMD
def parities(bits: np.ndarray, operators: sp.csr_matrix | np.ndarray) -> np.ndarray:
    """:math:`Z_a(x) = (-1)^{x \\cdot a}` of each window ``(N, m)`` of 0/1 and operator ``(O, m)``: ``(N, O)``."""
    ops = operators.toarray() if sp.issparse(operators) else operators
    overlap = np.asarray(bits, dtype=np.float32) @ np.asarray(ops, dtype=np.float32).T  # counts up to m: exact
    return 1.0 - 2.0 * np.mod(overlap, 2.0)


def data_expval(bits: np.ndarray, operators: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    r"""The data's :math:`\langle Z_a\rangle` ``(O,)`` over ``N`` windows ``(N, m)`` of 0/1, and the unbiased estimate of its
    square, :math:`\frac{1}{N(N-1)}\sum_{i \ne j} Z_a(x_i) Z_a(x_j)`."""
    return moments_from_totals(parities(bits, operators).sum(0, dtype=np.float64), len(bits))


def moments_from_totals(total: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the unbiased square (:func:`data_expval`) from the sums of :math:`Z_a` over ``n`` windows."""
    return total / n, (total**2 - n) / (n * (n - 1))


def mmd2_terms(model_a: torch.Tensor, model_b: torch.Tensor, data_mean: torch.Tensor,
               data_square: torch.Tensor) -> torch.Tensor:
    r"""Unbiased terms ``(O,)`` of :math:`(\langle Z_a\rangle_{model} - \langle Z_a\rangle_{data})^2` from two independent
    estimates of the model's value (equal when it is exact) and the data's mean and unbiased square
    (:func:`data_expval`); their mean over operators drawn as in :func:`sample_operators` is an unbiased MMD^2."""
    return model_a * model_b - (model_a + model_b) * data_mean + data_square
