r"""Compare generated windows with real ones, against the noise floor of real data.

For each statistic of :mod:`spiqgan.statistics` the **error** between two sets
of windows is

========================  =======  ===========================================
statistic                 metric   error
========================  =======  ===========================================
``firing_rate``           MSE      mean over neurons of the squared difference
``covariance``            MSE      mean over neuron pairs (undefined for n = 1)
``k_probability``         MSE      mean over k = 0..n
``autocorrelogram``       MSE      mean over neurons and lags 1..min(t-1, L)
                                   where both are defined (undefined for t = 1)
``js_divergence``         JS       Jensen-Shannon divergence, base 2, of the
                                   window-pattern distributions (n t <= 20)
``spike_count``           W1       1-Wasserstein distance between the
                                   distributions of spikes per window
========================  =======  ===========================================

Noise floor, and why every error is computed between sets of equal size
-------------------------------------------------------------------------
Finite samples make every error positive even for a perfect model, and the
size of that bias depends on the number of windows. So spiqgan reads each
error as a multiple of the **noise floor**: the same error between two
disjoint halves of real data. The reference repeats are split at random into
two halves of repeats, ``R1`` and ``R2`` (whole repeats, so that windows of
the same repeat never fall on both sides); ``m`` windows are drawn from each
and ``2 m`` from the generated set, split into ``G1`` and ``G2``, with ``m``
the size of the smallest half (over all draws) or ``|G| // 2`` if smaller.
Then

.. math::

    \text{floor} = e(R_1, R_2), \qquad
    \text{error} = \tfrac12 \left[ e(G_1, R_2) + e(G_2, R_1) \right],

so that a model whose windows are distributed exactly like the reference
windows has ``error / floor`` close to 1 in expectation, whatever the
statistic. Both are averaged over ``n_draws`` random draws of the halves and
subsets (seeded): a single split would leave the floor, and so every ratio,
as noisy as one sample of it. ``ratio = error / floor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np

from . import statistics as st
from .data import check_windows
from .exceptions import DataError

__all__ = ["evaluate", "statistic_errors", "Evaluation", "ComparisonRow", "STATISTICS", "summary_statistics"]

#: (name, metric, human-readable label), in report order
STATISTICS: tuple[tuple[str, str, str], ...] = (
    ("firing_rate", "MSE", "firing rate"),
    ("covariance", "MSE", "pairwise covariance"),
    ("k_probability", "MSE", "k-probability"),
    ("autocorrelogram", "MSE", "autocorrelogram"),
    ("js_divergence", "JS", "pattern JS divergence"),
    ("spike_count", "W1", "spikes per window"),
)

#: the smallest number of windows per compared subset
MIN_WINDOWS = 10


def _mse(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return None
    return float(np.mean((a[ok] - b[ok]) ** 2))


def statistic_errors(
    generated: np.ndarray,
    reference: np.ndarray,
    *,
    max_lag: int = st.DEFAULT_MAX_LAG,
    js_max_bits: int = st.DEFAULT_JS_MAX_BITS,
) -> dict[str, float | None]:
    """Error of every statistic between two sets of windows (``None`` where undefined).

    ``generated`` and ``reference`` are ``(n_windows, t, n)`` with the same
    ``t`` and ``n``. Does not validate values (see :func:`evaluate`).
    """
    _, t, n = reference.shape
    errors: dict[str, float | None] = {
        "firing_rate": _mse(st.firing_rate(generated), st.firing_rate(reference)),
        "covariance": _mse(st.pairwise_covariance(generated), st.pairwise_covariance(reference)) if n > 1 else None,
        "k_probability": _mse(st.k_probability(generated), st.k_probability(reference)),
        "autocorrelogram": (
            _mse(st.autocorrelogram(generated, max_lag), st.autocorrelogram(reference, max_lag)) if t > 1 else None
        ),
        "js_divergence": st.js_divergence(generated, reference, max_bits=js_max_bits) if n * t <= js_max_bits else None,
        "spike_count": st.wasserstein_1(st.spike_counts(generated), st.spike_counts(reference)),
    }
    return errors


def _undefined_note(name: str, t: int, n: int, js_max_bits: int) -> str:
    if name == "covariance" and n == 1:
        return "n = 1: no pairs"
    if name == "autocorrelogram" and t == 1:
        return "t = 1: no lags"
    if name == "js_divergence" and n * t > js_max_bits:
        return f"n t = {n * t} > {js_max_bits}: too many patterns"
    return "undefined: no spikes"


@dataclass(frozen=True)
class ComparisonRow:
    """One statistic's error, noise floor and their ratio (``None`` where undefined)."""

    statistic: str
    metric: str
    error: float | None
    floor: float | None
    ratio: float | None
    note: str = ""


def summary_statistics(windows: np.ndarray, max_lag: int = st.DEFAULT_MAX_LAG) -> dict[str, np.ndarray]:
    """The statistics of one set of windows, for plots and reports."""
    return {
        "firing_rate": st.firing_rate(windows),
        "covariance": st.pairwise_covariance(windows),
        "k_probability": st.k_probability(windows),
        "autocorrelogram": st.autocorrelogram(windows, max_lag),
        "spike_count_mean": np.array([st.spike_counts(windows).mean()]),
    }


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    rows
        One :class:`ComparisonRow` per statistic, in :data:`STATISTICS` order.
    n_compared
        ``m``: windows in each compared subset.
    n_generated, n_reference
        Windows given.
    generated_stats, reference_stats
        :func:`summary_statistics` of all generated and all reference windows.
    """

    rows: list[ComparisonRow]
    n_compared: int
    n_generated: int
    n_reference: int
    n_timesteps: int
    n_neurons: int
    n_draws: int
    seed: int
    generated_stats: dict[str, np.ndarray] = field(repr=False)
    reference_stats: dict[str, np.ndarray] = field(repr=False)

    def row(self, statistic: str) -> ComparisonRow:
        for r in self.rows:
            if r.statistic == statistic:
                return r
        raise KeyError(statistic)

    def table(self) -> str:
        """The comparison as a plain-text table."""
        lines = [
            f"{'statistic':<24}{'metric':<8}{'error':>11}{'floor':>11}{'ratio':>11}  note",
            "-" * 72,
        ]
        labels = {name: label for name, _, label in STATISTICS}
        for r in self.rows:
            err = "-" if r.error is None else f"{r.error:.3g}"
            flo = "-" if r.floor is None else f"{r.floor:.3g}"
            rat = "-" if r.ratio is None else (f"{r.ratio:.2f}" if r.ratio < 1000 else f"{r.ratio:.3g}")
            lines.append(f"{labels[r.statistic]:<24}{r.metric:<8}{err:>11}{flo:>11}{rat:>11}  {r.note}".rstrip())
        lines.append(
            f"(n = {self.n_neurons}, t = {self.n_timesteps}; each error between subsets of {self.n_compared} windows, "
            f"mean of {self.n_draws} draws; ratio = error / floor)"
        )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict of the comparison and the summary statistics."""

        def arr(a: np.ndarray) -> list:
            return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=float).reshape(-1)]

        return {
            "n_neurons": self.n_neurons,
            "n_timesteps": self.n_timesteps,
            "n_generated": self.n_generated,
            "n_reference": self.n_reference,
            "n_compared": self.n_compared,
            "n_draws": self.n_draws,
            "seed": self.seed,
            "rows": [r.__dict__.copy() for r in self.rows],
            "generated_stats": {k: arr(v) for k, v in self.generated_stats.items()},
            "reference_stats": {k: arr(v) for k, v in self.reference_stats.items()},
            "autocorrelogram_shape": list(self.reference_stats["autocorrelogram"].shape),
        }


def _random_halves(
    n_reference: int, reference_repeats: np.ndarray | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two disjoint halves of the reference windows: half the repeats each, drawn at random."""
    if reference_repeats is None:
        perm = rng.permutation(n_reference)
        return perm[: n_reference // 2], perm[n_reference // 2:]
    reps = np.asarray(reference_repeats).reshape(-1)
    if reps.size != n_reference:
        raise DataError(f"reference_repeats has {reps.size} entries for {n_reference} reference windows.")
    _, rank = np.unique(reps, return_inverse=True)
    n_groups = int(rank.max()) + 1
    if n_groups < 2:
        raise DataError(
            "the reference windows come from a single repeat, so no two disjoint halves of repeats exist for the "
            "noise floor; use more repeats or pass reference_repeats=None to split windows at random."
        )
    first = np.zeros(n_groups, dtype=bool)
    first[rng.permutation(n_groups)[: n_groups // 2]] = True
    in_first = first[rank]
    return np.flatnonzero(in_first), np.flatnonzero(~in_first)


def evaluate(
    generated: np.ndarray,
    reference: np.ndarray,
    *,
    reference_repeats: np.ndarray | None = None,
    max_lag: int = st.DEFAULT_MAX_LAG,
    js_max_bits: int = st.DEFAULT_JS_MAX_BITS,
    n_draws: int = 10,
    seed: int = 0,
) -> Evaluation:
    """Errors of generated windows against reference windows, with the noise floor.

    Parameters
    ----------
    generated
        ``(n_generated, t, n)`` 0/1 windows of the model.
    reference
        ``(n_reference, t, n)`` 0/1 real windows (held-out data).
    reference_repeats
        ``(n_reference,)`` repeat index of each reference window, to split the
        reference into halves by repeats (see the module docstring); ``None``
        splits the windows at random.
    max_lag
        Largest lag of the autocorrelogram.
    js_max_bits
        JS divergence only for ``n t`` up to this.
    n_draws
        Random draws of the compared subsets to average over.
    seed
        Seed of those draws.
    """
    gen = check_windows(generated, what="generated windows")
    ref = check_windows(reference, what="reference windows")
    if gen.shape[1:] != ref.shape[1:]:
        raise DataError(
            f"generated windows have (t, n) = {gen.shape[1:]} but the reference has {ref.shape[1:]}; "
            "select the same neurons and number of time steps."
        )
    if int(n_draws) < 1:
        raise DataError(f"n_draws must be at least 1, got {n_draws!r}.")
    _, t, n = ref.shape
    rng = np.random.default_rng(seed)
    splits = [_random_halves(ref.shape[0], reference_repeats, rng) for _ in range(int(n_draws))]
    smallest_half = min(min(h1.size, h2.size) for h1, h2 in splits)
    m = min(smallest_half, gen.shape[0] // 2)
    if m < MIN_WINDOWS:
        raise DataError(
            f"too few windows to compare: {gen.shape[0]} generated and {ref.shape[0]} reference windows give "
            f"subsets of {m}, at least {MIN_WINDOWS} are needed. Generate more samples or use more reference data."
        )
    names = [name for name, _, _ in STATISTICS]
    errs = {k: [] for k in names}
    floors = {k: [] for k in names}
    kw = dict(max_lag=max_lag, js_max_bits=js_max_bits)
    for half1, half2 in splits:
        r1 = ref[rng.choice(half1, m, replace=False)]
        r2 = ref[rng.choice(half2, m, replace=False)]
        g = gen[rng.choice(gen.shape[0], 2 * m, replace=False)]
        floor = statistic_errors(r1, r2, **kw)
        e1 = statistic_errors(g[:m], r2, **kw)
        e2 = statistic_errors(g[m:], r1, **kw)
        for k in names:
            floors[k].append(floor[k])
            errs[k].append(None if e1[k] is None or e2[k] is None else 0.5 * (e1[k] + e2[k]))

    def mean(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else float(np.mean(values))

    rows = []
    for name, metric, _ in STATISTICS:
        err, flo = mean(errs[name]), mean(floors[name])
        note = ""
        ratio = None
        if err is None or flo is None:
            note = _undefined_note(name, t, n, js_max_bits)
        elif flo > 0:
            ratio = err / flo
        else:
            note = "floor is 0"
        rows.append(ComparisonRow(name, metric, err, flo, ratio, note))
    return Evaluation(
        rows=rows, n_compared=m, n_generated=gen.shape[0], n_reference=ref.shape[0], n_timesteps=t, n_neurons=n,
        n_draws=int(n_draws), seed=int(seed),
        generated_stats=summary_statistics(gen, max_lag), reference_stats=summary_statistics(ref, max_lag),
    )
