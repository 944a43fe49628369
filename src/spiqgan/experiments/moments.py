r"""Judging models from expectation values: the moment table and the held-out MMD, with intervals.

* :func:`moment_replicates`: a model's moment statistics (:mod:`spiqgan.evaluation.moments`) from
  ``R`` independent replicates of its expectation values (``model.expval``), or from chunks of a
  sampled model's windows; :func:`spiqgan.evaluation.moments.compare_moments` turns them into the
  table against held-out data.
* :func:`heldout_mmd`: the MMD^2 between each model and the held-out windows, with Gaussian kernels of
  several bandwidths, from Pauli-Z expectation values (:mod:`spiqgan.quantum.expval`): unbiased on both
  sides (the model's square from two independent halves of its estimator or samples, the data's as a
  U-statistic). Operators come in chunks, each with fresh estimator samples, so chunks are independent.
  A model's interval resamples the chunks; the difference of two models (the same operators for both)
  resamples chunks and held-out repeats together, paired: the data enter the difference linearly,
  :math:`\Delta = a_1 a_2 - b_1 b_2 - (a_1 + a_2 - b_1 - b_2)\,\langle Z\rangle_{data}`.

Where no likelihood exists (hundreds of qubits), the held-out MMD is the deciding score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from spiqgan.evaluation.likelihood import DEFAULT_LEVEL, percentile_interval
from spiqgan.evaluation.moments import moment_pairs, moment_statistics, window_statistics
from spiqgan.evaluation.statistics import DEFAULT_MAX_LAG
from spiqgan.exceptions import DataError

__all__ = ["moment_replicates", "sample_replicates", "heldout_mmd", "MMDResult", "Expval", "windows_expval",
           "model_expval", "evaluate_moments", "judged_by_moments"]


def judged_by_moments(model: Any) -> bool:
    """Whether ``model`` is judged from expectation values: it has them and cannot be sampled classically."""
    return hasattr(model, "expval") and not getattr(model, "samples_classically", True)

#: ``expval(operators (O, m) csr, seed) -> (two independent estimates (2, O))``
Expval = Callable[[Any, int], np.ndarray]


def windows_expval(windows: np.ndarray) -> Expval:
    """The expectation values of a sampled model: two independent halves of its windows ``(N, t, n)``."""
    from spiqgan.quantum.expval import parities

    flat = windows.reshape(len(windows), -1)
    half = len(flat) // 2

    def expval(ops, seed: int) -> np.ndarray:
        dense = ops.toarray()
        return np.stack([parities(flat[:half], dense).mean(0, dtype=np.float64),
                         parities(flat[half:2 * half], dense).mean(0, dtype=np.float64)])
    return expval


def model_expval(model: Any, n_samples: int) -> Expval:
    """The expectation values of a model with ``expval`` (two independent estimates of ``n_samples`` each;
    the same twice where they are exact)."""
    def expval(ops, seed: int) -> np.ndarray:
        a, se = model.expval(ops, n_samples=n_samples, seed=2 * seed)
        if not np.any(se):
            return np.stack([a, a])
        return np.stack([a, model.expval(ops, n_samples=n_samples, seed=2 * seed + 1)[0]])
    return expval


#: operator-samples a moment table may spend (about 5 s at 1e8 per second): the estimator's samples per replicate
#: grow to fill it where there are few operators (covariances are small, and the floor with them)
MOMENT_BUDGET = 5e8


def moment_replicates(model: Any, t: int, n: int, *, replicates: int = 8, n_samples: int | None = None,
                      max_lag: int = DEFAULT_MAX_LAG) -> list[dict]:
    """The moment statistics of ``replicates`` independent estimates of a model's :math:`\\langle Z\\rangle` and
    :math:`\\langle ZZ\\rangle` (two where the model's values are exact); ``n_samples`` per replicate, by default
    the model's ``eval_samples`` shared out, or more, up to :data:`MOMENT_BUDGET`."""
    from spiqgan.quantum.expval import operators_from_sets

    m = t * n
    pairs = moment_pairs(t, n, min(t - 1, int(max_lag)))
    ops = operators_from_sets([(k,) for k in range(m)] + [tuple(q) for q in pairs.tolist()], m)
    if n_samples is None:
        n_samples = max(int(model.eval_samples) // int(replicates), int(MOMENT_BUDGET / (ops.shape[0] * int(replicates))))
    out = []
    for r in range(int(replicates)):
        values, se = model.expval(ops, n_samples=n_samples, seed=1000 + r)
        out.append(moment_statistics(values[:m], values[m:], t, n, max_lag))
        if not np.any(se):  # exact: one more identical replicate gives zero variance
            return out + [out[0]]
    return out


def sample_replicates(windows: np.ndarray, *, replicates: int = 20, max_lag: int = DEFAULT_MAX_LAG,
                      seed: int = 0) -> list[dict]:
    """The statistics of ``replicates`` disjoint random chunks of a sampled model's windows (their mean and its
    variance stand in for the model's exact statistic and the sampling error; random, not consecutive, so that
    drift along a file does not pass for sampling noise)."""
    order = np.random.default_rng([seed, 8]).permutation(len(windows))
    return [window_statistics(windows[chunk], max_lag) for chunk in np.array_split(order, int(replicates))]


@dataclass(frozen=True)
class MMDResult:
    """Held-out MMD^2 of each model (estimate, interval) and of every pair's difference (``a - b``), with the
    bandwidths and the number of operators."""

    models: dict[str, tuple[float, tuple[float, float]]]
    differences: dict[tuple[str, str], tuple[float, tuple[float, float]]]
    sigmas: tuple[float, ...]
    n_operators: int
    level: float

    def verdict(self, a: str, b: str) -> str:
        """``"a better"``, ``"b better"`` or ``"level"``: whether the paired interval of the difference excludes 0."""
        _, (lo, hi) = self.differences[(a, b)]
        return f"{a} better" if hi < 0 else f"{b} better" if lo > 0 else "level"


def heldout_mmd(models: dict[str, Expval], heldout: np.ndarray, repeats: np.ndarray, sigmas: list[float], *,
                chunks: int = 40, operators_per_chunk: int = 50, n_boot: int = 2000, level: float = DEFAULT_LEVEL,
                seed: int = 0) -> MMDResult:
    """Held-out MMD^2 of every model and the paired differences (see the module docstring)."""
    from spiqgan.quantum.expval import mmd2_terms, moments_from_totals, parities, sample_operators

    repeats = np.asarray(repeats)
    if repeats.shape != (len(heldout),):
        raise DataError(f"repeats must give one repeat per held-out window ({len(heldout)}), got shape {repeats.shape}.")
    flat = heldout.reshape(len(heldout), -1)
    units, which = np.unique(repeats, return_inverse=True)
    per_repeat_n = np.bincount(which).astype(np.float64)
    rng = np.random.default_rng([seed, 5])
    names = list(models)
    totals, terms = [], {k: [] for k in names}
    for c in range(int(chunks)):
        ops, _ = sample_operators(flat.shape[1], sigmas, int(operators_per_chunk), rng)
        parity = parities(flat, ops)
        total = np.zeros((len(units), ops.shape[0]))
        np.add.at(total, which, parity)
        totals.append(total)  # (repeats, O): sum of Z_a over each repeat's windows
        for k in names:
            terms[k].append(models[k](ops, c))  # (2, O)

    def data_side(weights: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return moments_from_totals(weights @ total, float(weights @ per_repeat_n))

    def mmd(k: str, chunk_ids: np.ndarray, weights: np.ndarray) -> float:
        return float(np.mean(np.concatenate([mmd2_terms(*terms[k][c], *data_side(weights, totals[c]))
                                             for c in chunk_ids])))

    def diff(a: str, b: str, chunk_ids: np.ndarray, weights: np.ndarray) -> float:
        out = []
        for c in chunk_ids:
            mean, _ = data_side(weights, totals[c])
            x, y = terms[a][c], terms[b][c]
            out.append(x[0] * x[1] - y[0] * y[1] - ((x[0] - y[0]) + (x[1] - y[1])) * mean)  # 0 for equal models
        return float(np.mean(np.concatenate(out)))

    every, ones = np.arange(int(chunks)), np.ones(len(units))
    boot_rng = np.random.default_rng([seed, 6])
    draws = [(boot_rng.integers(0, int(chunks), int(chunks)),
              boot_rng.multinomial(len(units), ones / len(units)).astype(np.float64)) for _ in range(int(n_boot))]
    single = {k: (mmd(k, every, ones), percentile_interval(np.array([mmd(k, c, ones) for c, _ in draws]), level))
              for k in names}
    pairs = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pairs[(a, b)] = (diff(a, b, every, ones),
                             percentile_interval(np.array([diff(a, b, c, w) for c, w in draws]), level))
    return MMDResult(single, pairs, tuple(sigmas), int(chunks) * int(operators_per_chunk) * len(sigmas), level)


def evaluate_moments(model: Any, heldout: np.ndarray, repeats: np.ndarray, *, train: np.ndarray | None = None,
                     replicates: int = 8, max_lag: int = DEFAULT_MAX_LAG, seed: int = 0) -> Any:
    """Judge a fitted model with ``expval`` (:class:`~spiqgan.models.window_iqp.WindowIQP`) from its expectation
    values: the moment table and the held-out MMD^2 with the model's own kernels (the training windows beside it)."""
    from spiqgan.evaluation.moments import MomentEvaluation, compare_moments, replicate_mean

    t, n = heldout.shape[1:]
    samples = max(2, int(model.eval_samples) // int(replicates))
    mean, var = replicate_mean(moment_replicates(model, t, n, replicates=replicates, max_lag=max_lag))
    rows = compare_moments(mean, var, heldout, repeats, max_lag=max_lag, seed=seed)
    models = {model.name: model_expval(model, samples)}
    if train is not None:
        models["training windows"] = windows_expval(train)
    result = heldout_mmd(models, heldout, repeats, model.sigmas(), seed=seed)
    note = (f"(MMD^2: Gaussian kernels of bandwidths {', '.join(f'{s:.2f}' for s in result.sigmas)} averaged, "
            f"{result.n_operators} Pauli-Z operators in chunks; {int(100 * result.level)} % intervals over the "
            "chunks (operators and estimator samples), the held-out windows fixed)")
    return MomentEvaluation(rows, result.models, note, len(heldout), t, n, int(replicates))
