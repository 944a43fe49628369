r"""Compare generated windows with real ones, against the noise floor of real data.

For each statistic of :mod:`spiqgan.evaluation.statistics` the **error** between two sets
of windows is

========================  =======  ===========================================
statistic                 metric   error
========================  =======  ===========================================
``firing_rate``           MSE      mean over neurons of the squared difference
``covariance``            MSE      mean over neuron pairs (undefined for n = 1)
``k_probability``         MSE      mean over k = 0..n
``autocorrelogram``       MSE      mean over neurons and lags 1..min(t-1, L);
                                   a neuron silent in one set counts as 0 there
                                   (undefined for t = 1)
``lag_covariance``        MSE      mean over neuron pairs (i leading j, i = j
                                   included) and lags 1..min(t-1, L)
                                   (undefined for t = 1)
``time_course``           MSE      mean over time steps and neurons
``js_divergence``         JS       Jensen-Shannon divergence, base 2, of the
                                   window-pattern distributions (n t <= 20)
``spike_count``           W1       1-Wasserstein distance between the
                                   distributions of spikes per window
``count_tail``            SE       squared difference of the 99.9th
                                   percentiles of spikes per window (each
                                   count spread over its unit interval)
``saturated``             SE       squared difference of the fractions of
                                   (window, neuron) pairs firing in at least
                                   80 % of the bins (undefined for t = 1)
========================  =======  ===========================================

The last two are **runaway statistics**: a model that generates each step from
its own earlier ones can excite itself into windows no recording has. Beside
their ratios, :func:`runaway_check` places the generated values inside or
outside the held-out data's own interval (:attr:`Evaluation.runaway`).

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

The generated side uses every generated window, not ``2 m`` of them per draw
(a model's own sampling noise would otherwise stay in every ratio: one model's
k-probability ratio moved 70 % between sample seeds). For the seven statistics
whose error is a mean squared difference, ``e(G_1, R_2)`` is estimated by the
statistic of all ``N`` generated windows against ``R_2``, plus the variance that
``m`` windows would add beyond ``N``: :math:`V(m) - V(N)`, with :math:`V(c)` the
mean variance of the statistic's entries over chunks of ``c`` windows (50, or up
to 500 while each holds at least ``m / 2``) and
:math:`V(m) = V(c) c / m`. This has the expectation of the subset design (within
1.5 % in the tests; the autocorrelogram, a ratio, +4 %). JS, spikes per window and its tail
average every generated subset of ``m`` windows in each draw. ``sampling_se``
is the error's relative standard error from the generated windows' sampling
(the term linear in the generated statistic's noise, from the chunks; the
spread of the subsets for JS, W1 and the tail), what another sample of as many windows
would move the ratio by. A model whose exact distribution enumerates is
best judged on a stratified sample (:meth:`spiqgan.models.base.HasLikelihood.stratified_sample`),
which has none.

The floor depends on the reference, the seed and ``m`` alone: the halves and
reference subsets come from one random stream, the generated subsets from
another (:func:`noise_floor`, computed once and cached). Every model given at
least ``2 m`` windows is therefore judged against the same floor; a smaller
set lowers ``m`` (the table says so). ``floor_se`` is the floor's relative
standard error over the draws: ratios of two models that differ by less than
about twice it are ties.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field

import numpy as np

from spiqgan.evaluation import statistics as st
from spiqgan.evaluation.likelihood import (DEFAULT_BOOT, DEFAULT_LEVEL, LikelihoodScore, bootstrap_means, held_out_nll,
                                           percentile_interval)
from spiqgan.data.raster import check_windows
from spiqgan.exceptions import DataError

__all__ = ["evaluate", "noise_floor", "DEFAULT_DRAWS", "NoiseFloor", "statistic_errors", "Evaluation", "ComparisonRow", "STATISTICS",
           "summary_statistics", "bootstrap_ratios", "RatioBootstrap", "runaway_check", "Runaway"]

#: (name, metric, human-readable label), in report order
STATISTICS: tuple[tuple[str, str, str], ...] = (
    ("firing_rate", "MSE", "firing rate"),
    ("covariance", "MSE", "pairwise covariance"),
    ("k_probability", "MSE", "k-probability"),
    ("autocorrelogram", "MSE", "autocorrelogram"),
    ("lag_covariance", "MSE", "lag cross-covariance"),
    ("time_course", "MSE", "mean time course"),
    ("js_divergence", "JS", "pattern JS divergence"),
    ("spike_count", "W1", "spikes per window"),
    ("count_tail", "SE", "spikes/window, 99.9 %"),
    ("saturated", "SE", "saturated (80 % bins)"),
)

#: the smallest number of windows per compared subset
MIN_WINDOWS = 10
#: draws of halves and subsets averaged. Measured on neurons 0-9 of the salamander recording (held-out
#: repeats, an independent model; python benchmarks/floor_spread.py): the floor's relative standard error
#: is 8-11 % for firing rate and covariance and 27 % for k-probability with 10 draws; 5-8 % and 16 % with
#: 30, at 3 s (t = 1) and 11 s (t = 10) per evaluation on 2 cores. Ratios closer than about twice the
#: 'floor se' column are ties.
DEFAULT_DRAWS = 30


def _mse(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return None
    return float(np.mean((a[ok] - b[ok]) ** 2))


def _mse_silent_as_zero(a: np.ndarray, b: np.ndarray) -> float | None:
    """MSE where an entry undefined on one side only (a silent neuron's conditional probability) counts as 0.

    Dropping those entries let a model win the autocorrelogram by silencing a
    neuron; an entry undefined on both sides is left out.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    either = np.isfinite(a) | np.isfinite(b)
    if not either.any():
        return None
    return float(np.mean((np.nan_to_num(a[either]) - np.nan_to_num(b[either])) ** 2))


#: the statistics whose error is a mean squared difference of a vector of values (the others, from subsets: JS, W1, the count tail)
MSE_STATISTICS = ("firing_rate", "covariance", "k_probability", "autocorrelogram", "lag_covariance", "time_course",
                  "saturated")
#: the generated windows are cut into this many chunks to estimate a statistic's variance (at most) ...
VARIANCE_CHUNKS = 50
#: ... or into as many as hold m / 2 windows each, up to this many (measured: with 50 chunks, the noise of the
#: correction moved cry's k-probability ratio at (10, 10) by 14 % between sample seeds of 2.4 million windows)
MAX_VARIANCE_CHUNKS = 500
#: JS, W1 and the count tail: at most this many generated subsets of m windows per draw (each draw takes others)
MAX_SUBSETS = 16


def _vectors(windows: np.ndarray, max_lag: int) -> dict[str, np.ndarray | None]:
    """The values behind every mean-squared-error statistic of one set of windows (``None``: undefined)."""
    _, t, n = windows.shape
    return {
        "firing_rate": st.firing_rate(windows),
        "covariance": st.pairwise_covariance(windows) if n > 1 else None,
        "k_probability": st.k_probability(windows),
        "autocorrelogram": st.autocorrelogram(windows, max_lag) if t > 1 else None,
        "lag_covariance": st.lag_covariance(windows, max_lag) if t > 1 else None,
        "time_course": st.time_course(windows),
        "saturated": np.array([st.saturated_fraction(windows)]) if t > 1 else None,
    }


def _tail(counts: np.ndarray) -> float:
    """The 99.9th spread percentile of spikes per window (:func:`~spiqgan.evaluation.statistics.spread_percentile`)."""
    return float(st.spread_percentile(np.bincount(counts) / counts.size, st.COUNT_TAIL_PERCENTILE))


def _tail_error(a: np.ndarray, b: np.ndarray) -> float:
    """Squared difference of the 99.9th spread percentiles of two samples of spikes per window."""
    return (_tail(a) - _tail(b)) ** 2


def _squared_error(name: str, a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return (_mse_silent_as_zero if name == "autocorrelogram" else _mse)(a, b)


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
    return _WindowPair.of(generated, reference, max_lag, js_max_bits).errors()


@dataclass(frozen=True)
class _GeneratedSide:
    """What the generated windows contribute, computed once (see :func:`evaluate`)."""

    vectors: dict[str, np.ndarray | None]  # every MSE statistic of all the generated windows
    unit_variance: dict[str, float]  # its mean variance over its entries, times the windows it is computed from
    chunks: list[dict[str, np.ndarray | None]]  # the same statistics of each chunk
    chunk_scale: float  # chunk size / all generated windows: a chunk's variance times this is the whole set's
    patterns: np.ndarray | None  # pattern index of every generated window (JS)
    counts: np.ndarray  # spikes in every generated window (W1)
    n_chunks: int  # behind unit_variance

    @property
    def n_windows(self) -> int:
        return len(self.counts)

    def correction(self, name: str, m: int) -> float:
        """The variance that ``m`` windows add to a statistic beyond that of all the generated windows."""
        return self.unit_variance[name] * (1.0 / m - 1.0 / self.n_windows)

    def linear_variance(self, name: str, reference: np.ndarray) -> float:
        """Variance, over generated samples, of the error's term linear in the generated statistic's noise,
        ``2 mean_j (g_j - r_j) (g_j - mu_j)``: what sampling adds to the error to first order."""
        g = np.nan_to_num(np.asarray(self.vectors[name], dtype=float).reshape(-1))
        d = g - np.nan_to_num(np.asarray(reference, dtype=float).reshape(-1))
        u = [2.0 * np.mean(d * (np.nan_to_num(np.asarray(v[name], dtype=float).reshape(-1)) - g))
             for v in self.chunks]
        return float(np.var(u, ddof=1) * self.chunk_scale) if len(u) > 1 else 0.0


def _generated_side(gen: np.ndarray, max_lag: int, js_max_bits: int, rng: np.random.Generator,
                    m: int | None = None) -> _GeneratedSide:
    """The generated windows' statistics and the variance correction of the module docstring.

    Chunks: ``VARIANCE_CHUNKS``, or more (up to ``MAX_VARIANCE_CHUNKS``) while each keeps at least ``m / 2``
    windows: the correction's own noise falls as one over the square root of the chunks.
    """
    n_gen, t, n = gen.shape
    vectors = _vectors(gen, max_lag)
    k = int(min(VARIANCE_CHUNKS, n_gen // MIN_WINDOWS))
    if m is not None:
        k = max(k, int(min(MAX_VARIANCE_CHUNKS, n_gen // max(MIN_WINDOWS, m // 2))))
    c = n_gen // k
    order = rng.permutation(n_gen)[: k * c].reshape(k, c)
    per_chunk = [_vectors(gen[idx], max_lag) for idx in order]
    unit_variance = {}
    for name in MSE_STATISTICS:
        if vectors[name] is None:
            continue
        values = np.stack([np.asarray(v[name], dtype=float).reshape(-1) for v in per_chunk])
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an entry undefined in most chunks (a silent neuron)
            var_chunk = np.nanvar(values, axis=0, ddof=1)
            var_c = float(np.nanmean(var_chunk)) if np.isfinite(var_chunk).any() else 0.0
        unit_variance[name] = var_c * c  # the variance of a statistic ~ 1 / windows
    patterns = st.pattern_indices(gen) if n * t <= js_max_bits else None
    return _GeneratedSide(vectors, unit_variance, per_chunk, c / n_gen, patterns, st.spike_counts(gen), k)


@dataclass(frozen=True)
class _WindowPair:
    """Two sets of windows and what the errors need of them: a draw's reference subsets ``(R2, R1)``, or any
    two sets (:func:`statistic_errors`)."""

    vectors: tuple[dict[str, np.ndarray | None], dict[str, np.ndarray | None]]
    counts: tuple[np.ndarray, np.ndarray]
    patterns: tuple[np.ndarray, np.ndarray] | None

    @classmethod
    def of(cls, first: np.ndarray, second: np.ndarray, max_lag: int, js_max_bits: int) -> "_WindowPair":
        _, t, n = first.shape
        pats = (st.pattern_indices(first), st.pattern_indices(second)) if n * t <= js_max_bits else None
        return cls((_vectors(first, max_lag), _vectors(second, max_lag)),
                   (st.spike_counts(first), st.spike_counts(second)), pats)

    def errors(self) -> dict[str, float | None]:
        """Every statistic's error between the two sets (``None`` where undefined), in :data:`STATISTICS` order."""
        a, b = self.vectors
        out: dict[str, float | None] = {k: _squared_error(k, a[k], b[k]) for k in MSE_STATISTICS}
        out["js_divergence"] = None if self.patterns is None else st.js_from_patterns(*self.patterns)
        out["spike_count"] = st.wasserstein_1(*self.counts)
        out["count_tail"] = _tail_error(*self.counts)
        return {name: out[name] for name, _, _ in STATISTICS}


def _draw_pairs(reference: np.ndarray, reference_repeats: np.ndarray | None, rng: np.random.Generator,
                n_draws: int, m: int | None, max_lag: int, js_max_bits: int
                ) -> tuple[int, list[tuple[np.ndarray, np.ndarray]], list[_WindowPair]]:
    """``n_draws`` random halves of the reference by repeats and a subset of ``m`` windows of each (default: the
    smallest half's size): ``(m, [(r1, r2)] indices, [pair (R2, R1)])``, what a noise floor is made of."""
    splits = [_random_halves(reference.shape[0], reference_repeats, rng) for _ in range(int(n_draws))]
    smallest = min(min(h1.size, h2.size) for h1, h2 in splits)
    m = smallest if m is None else min(int(m), smallest)
    draws, pairs = [], []
    for half1, half2 in splits:
        r1, r2 = rng.choice(half1, m, replace=False), rng.choice(half2, m, replace=False)
        draws.append((r1, r2))
        pairs.append(_WindowPair.of(reference[r2], reference[r1], max_lag, js_max_bits))
    return m, draws, pairs


def _errors(side: _GeneratedSide, draws: list[_WindowPair], m: int, rng: np.random.Generator,
            max_subsets: int | None = None) -> tuple[dict[str, list[float | None]], dict[str, list[float]]]:
    """Per draw, every statistic's error of the generated side against the draw's halves, and its sampling variance.

    Generated subset ``k`` of ``m`` windows (JS, W1, the count tail) is compared with half ``k % 2``: G1 with R2, G2 with R1;
    ``max_subsets`` caps how many (all by default).
    """
    names = [name for name, _, _ in STATISTICS]
    errs: dict[str, list[float | None]] = {k: [] for k in names}
    noise: dict[str, list[float]] = {k: [] for k in names}  # per draw, the error's variance from sampling
    n_subsets = side.n_windows // m  # JS, W1, tail: every generated window in a subset of m, per draw
    if max_subsets is not None:
        n_subsets = max(2, min(n_subsets, max_subsets))
    # JS, W1, tail: the draws' subsets are as many independent ones as used, at most as many as the windows hold
    independent = max(1, min(len(draws) * n_subsets, side.n_windows // m))
    for h in draws:
        for name in MSE_STATISTICS:
            e = [_squared_error(name, side.vectors[name], v[name]) for v in h.vectors]
            errs[name].append(None if None in e else 0.5 * (e[0] + e[1]) + side.correction(name, m))
            if None not in e:
                middle = 0.5 * (np.nan_to_num(h.vectors[0][name]) + np.nan_to_num(h.vectors[1][name]))
                # the linear term, and the correction's own noise (a variance estimated from n_chunks chunks)
                own = side.correction(name, m) ** 2 * 2.0 / max(side.n_chunks - 1, 1)
                noise[name].append(side.linear_variance(name, middle) + own)
        take = n_subsets * m
        order = (rng.permutation(side.n_windows)[:take] if 2 * take >= side.n_windows else
                 rng.choice(side.n_windows, take, replace=False)).reshape(n_subsets, m)
        per_subset = {"spike_count": [st.wasserstein_1(side.counts[idx], h.counts[i % 2])
                                      for i, idx in enumerate(order)],
                      "count_tail": [_tail_error(side.counts[idx], h.counts[i % 2]) for i, idx in enumerate(order)],
                      "js_divergence": None}
        if side.patterns is not None and h.patterns is not None:
            per_subset["js_divergence"] = [st.js_from_patterns(side.patterns[idx], h.patterns[i % 2])
                                           for i, idx in enumerate(order)]
        for name, values in per_subset.items():
            errs[name].append(None if values is None else float(np.mean(values)))
            if values is not None and len(values) > 1:  # the mean's variance, from the spread between subsets
                noise[name].append(float(np.var(values, ddof=1)) / independent)
    return errs, noise


def _undefined_note(name: str, t: int, n: int, js_max_bits: int) -> str:
    if name == "covariance" and n == 1:
        return "n = 1: no pairs"
    if name in ("autocorrelogram", "lag_covariance") and t == 1:
        return "t = 1: no lags"
    if name == "saturated" and t == 1:
        return "t = 1: one bin"
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
    floor_se: float | None = None  # relative standard error of the floor over the draws
    sampling_se: float | None = None  # relative standard error of the error from the generated windows' sampling


def summary_statistics(windows: np.ndarray, max_lag: int = st.DEFAULT_MAX_LAG) -> dict[str, np.ndarray]:
    """The statistics of one set of windows, for plots and reports."""
    return {
        "firing_rate": st.firing_rate(windows),
        "covariance": st.pairwise_covariance(windows),
        "k_probability": st.k_probability(windows),
        "autocorrelogram": st.autocorrelogram(windows, max_lag),
        "lag_covariance": st.lag_covariance(windows, max_lag),
        "time_course": st.time_course(windows),
        "spike_count_distribution": np.bincount(st.spike_counts(windows),
                                                minlength=windows.shape[1] * windows.shape[2] + 1) / windows.shape[0],
        "spike_count_mean": np.array([st.spike_counts(windows).mean()]),
    }


@dataclass(frozen=True)
class Runaway:
    """A runaway statistic of generated windows beside the held-out data's value and its interval
    (:func:`runaway_check`)."""

    statistic: str
    generated: float
    held_out: float
    interval: tuple[float, float]
    level: float

    @property
    def inside(self) -> bool:
        """Whether the generated value lies in the held-out data's interval."""
        return self.interval[0] <= self.generated <= self.interval[1]

    def line(self) -> str:
        where = "inside" if self.inside else ("above" if self.generated > self.interval[1] else "below")
        return (f"{self.statistic}: generated {self.generated:.4g}, held-out {self.held_out:.4g} "
                f"[{self.interval[0]:.4g}, {self.interval[1]:.4g}] ({where})")


#: the runaway statistics of :func:`runaway_check`, as :attr:`Runaway.statistic` names them
RUNAWAY_LABELS = {"count_tail": "spikes per window, 99.9th percentile",
                  "saturated": "(window, neuron) pairs firing in >= 80 % of bins"}


def runaway_check(generated: np.ndarray, reference: np.ndarray, reference_repeats: np.ndarray | None = None, *,
                  n_boot: int = DEFAULT_BOOT, level: float = DEFAULT_LEVEL, seed: int = 0) -> list[Runaway]:
    """The runaway statistics of ``generated`` windows against the held-out ``reference``'s percentile interval.

    The 99.9th percentile of spikes per window (:func:`~spiqgan.evaluation.statistics.count_tail`) and the
    saturated fraction (:func:`~spiqgan.evaluation.statistics.saturated_fraction`, ``t > 1`` only), each of
    the generated windows beside the reference's value with its ``level`` bootstrap interval over
    ``reference_repeats`` (whole repeats drawn with replacement; every window alone where ``None``):
    the range that other recordings of the same cells would give.
    """
    gen = check_windows(generated, what="generated windows")
    ref = check_windows(reference, what="reference windows")
    counts = st.spike_counts(ref)
    width = int(counts.max()) + 1
    one_hot = np.zeros((ref.shape[0], width))
    one_hot[np.arange(ref.shape[0]), counts] = 1.0
    columns = [one_hot] + ([st.window_saturation(ref)[:, None]] if ref.shape[1] > 1 else [])
    boot = bootstrap_means(np.concatenate(columns, 1), reference_repeats, n_boot=n_boot, seed=seed)
    tails = st.spread_percentile(boot[:, :width], st.COUNT_TAIL_PERCENTILE)
    out = [Runaway(RUNAWAY_LABELS["count_tail"], st.count_tail(gen), st.count_tail(ref),
                   percentile_interval(tails, level), level)]
    if ref.shape[1] > 1:
        held_out = st.saturated_fraction(ref)
        interval = percentile_interval(boot[:, width], level)
        if held_out == 0.0:  # every replicate is 0 too: the bound of a Poisson count of 0 instead
            interval = (0.0, zero_count_bound(ref.shape[0] * ref.shape[2], level))
        out.append(Runaway(RUNAWAY_LABELS["saturated"], st.saturated_fraction(gen), held_out, interval, level))
    return out


def zero_count_bound(n_independent: float, level: float = DEFAULT_LEVEL) -> float:
    """The upper end of the two-sided ``level`` interval of a rate of which ``n_independent`` trials showed none.

    A Poisson count of 0 puts the mean under ``-log((1 - level) / 2)`` (3.69 at 95 %; the "rule of three"
    is its one-sided 95 % form), so the rate per trial under that over ``n_independent``. For the saturated
    fraction the trials are the reference's (window, neuron) pairs. Where windows overlap (a stride under
    ``t``), one long burst shows in several of them, the pairs are not independent and the bound is stricter
    than it should be: a model found inside it is inside. With the bootstrap's interval, [0, 0], any model
    that ever saturates would be "outside", however rarely.
    """
    if n_independent <= 0:
        raise ValueError(f"zero_count_bound needs a positive number of trials, got {n_independent}")
    return float(-np.log((1.0 - level) / 2.0) / n_independent)


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    rows
        One :class:`ComparisonRow` per statistic, in :data:`STATISTICS` order.
    n_compared
        ``m``: windows in each compared subset.
    n_compared_max
        The largest ``m`` the reference allows; when ``n_compared`` is smaller
        (too few generated windows) the floor is not the one other models get.
    n_generated, n_reference
        Windows given.
    generated_stats, reference_stats
        :func:`summary_statistics` of all generated and all reference windows.
    likelihood
        The model's held-out NLL with its interval (:mod:`spiqgan.evaluation.likelihood`), where
        the model's log-likelihood of the reference windows was given; else ``None``.
    likelihood_note
        Where there is no held-out NLL, why (e.g. "an implicit generator: samples only"), said in the report.
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
    n_compared_max: int | None = None
    likelihood: LikelihoodScore | None = None
    likelihood_note: str | None = None
    #: statistic -> 95 % bootstrap interval of its ratio over held-out repeats (:func:`bootstrap_ratios`), if asked
    ratio_intervals: dict[str, tuple[float, float] | None] | None = None
    #: the runaway statistics, generated against the held-out data's interval (:func:`runaway_check`)
    runaway: list[Runaway] = field(default_factory=list)

    def row(self, statistic: str) -> ComparisonRow:
        for r in self.rows:
            if r.statistic == statistic:
                return r
        raise KeyError(statistic)

    def table(self) -> str:
        """The comparison as a plain-text table."""
        lines = [
            f"{'statistic':<24}{'metric':<8}{'error':>11}{'floor':>11}{'floor se':>10}{'ratio':>11}{'sample se':>11}"
            + ("" if self.ratio_intervals is None else f"{'ratio, 95 %':>18}") + "  note",
            "-" * (93 + (0 if self.ratio_intervals is None else 18)),
        ]
        labels = {name: label for name, _, label in STATISTICS}
        for r in self.rows:
            err = "-" if r.error is None else f"{r.error:.3g}"
            flo = "-" if r.floor is None else f"{r.floor:.3g}"
            se = "-" if r.floor_se is None else f"{100 * r.floor_se:.1f}%"
            rat = "-" if r.ratio is None else (f"{r.ratio:.2f}" if r.ratio < 1000 else f"{r.ratio:.3g}")
            gse = "-" if r.sampling_se is None else f"{100 * r.sampling_se:.1f}%"
            interval = "" if self.ratio_intervals is None else (
                f"{'-':>18}" if self.ratio_intervals.get(r.statistic) is None else
                f"{'[%.3g, %.3g]' % self.ratio_intervals[r.statistic]:>18}")
            lines.append(f"{labels[r.statistic]:<24}{r.metric:<8}{err:>11}{flo:>11}{se:>10}{rat:>11}{gse:>11}"
                         f"{interval}  {r.note}".rstrip())
        lines.append(
            f"(n = {self.n_neurons}, t = {self.n_timesteps}; each error between subsets of {self.n_compared} windows, "
            f"mean of {self.n_draws} draws; ratio = error / floor; floor se: its relative standard error; sample se: "
            f"the ratio's relative standard error from the {self.n_generated} generated windows' sampling)"
        )
        if self.ratio_intervals is not None:
            lines.append("(ratio, 95 %: percentile interval over bootstrap replicates of the held-out repeats, each with "
                         "its own floor, and of the sample's own noise)")
        for r in self.runaway:
            lines.append(f"runaway, {r.line()}")
        if self.likelihood is not None:
            lines.append(self.likelihood.line())
        elif self.likelihood_note:
            lines.append(f"held-out NLL: n/a ({self.likelihood_note})")
        if self.n_compared_max is not None and self.n_compared < self.n_compared_max:
            lines.append(f"(only {self.n_generated} generated windows: subsets of {self.n_compared}, not "
                         f"{self.n_compared_max}, so this floor differs from that of a model given at least "
                         f"{2 * self.n_compared_max} windows)")
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
            "n_compared_max": self.n_compared_max,
            "n_draws": self.n_draws,
            "seed": self.seed,
            "rows": [r.__dict__.copy() for r in self.rows],
            "likelihood": None if self.likelihood is None else self.likelihood.to_dict(),
            "likelihood_note": self.likelihood_note,
            "runaway": [{"statistic": r.statistic, "generated": r.generated, "held_out": r.held_out,
                         "interval": list(r.interval), "level": r.level, "inside": r.inside} for r in self.runaway],
            "ratio_intervals": None if self.ratio_intervals is None else
            {k: None if v is None else list(v) for k, v in self.ratio_intervals.items()},
            "generated_stats": {k: arr(v) for k, v in self.generated_stats.items()},
            "reference_stats": {k: arr(v) for k, v in self.reference_stats.items()},
            "autocorrelogram_shape": list(self.reference_stats["autocorrelogram"].shape),
            "stats_shapes": {k: list(np.shape(v)) for k, v in self.reference_stats.items()},
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


@dataclass(frozen=True)
class NoiseFloor:
    """The noise floor of a reference set (see the module docstring): what :func:`noise_floor` returns.

    ``draws``: per draw, the indices ``(r1, r2)`` of the two reference subsets
    of ``m`` windows; ``floors``: per draw, every statistic's error between them.
    """

    m: int
    draws: list[tuple[np.ndarray, np.ndarray]]
    floors: list[dict[str, float | None]]

    def mean(self, name: str) -> float | None:
        values = [f[name] for f in self.floors]
        return None if any(v is None for v in values) else float(np.mean(values))

    def relative_se(self, name: str) -> float | None:
        """Standard error of the mean floor over the draws, relative to it."""
        values = [f[name] for f in self.floors]
        mean = self.mean(name)
        if mean is None or mean <= 0 or len(values) < 2:
            return None
        return float(np.std(values, ddof=1) / np.sqrt(len(values)) / mean)


_FLOOR_CACHE: dict[tuple, NoiseFloor] = {}
_FLOOR_CACHE_SIZE = 8


def noise_floor(
    reference: np.ndarray,
    reference_repeats: np.ndarray | None = None,
    *,
    m: int | None = None,
    max_lag: int = st.DEFAULT_MAX_LAG,
    js_max_bits: int = st.DEFAULT_JS_MAX_BITS,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> NoiseFloor:
    """The noise floor of ``reference``: errors between two disjoint halves of repeats, ``n_draws`` times.

    A function of its arguments alone (its own random stream, seeded by
    ``seed``), computed once per set of arguments and cached. ``m``: windows
    per subset (default: the size of the smallest half over all draws).
    Does not validate (see :func:`evaluate`).
    """
    key = (hashlib.sha1(np.ascontiguousarray(reference).tobytes()).hexdigest(), reference.shape,
           None if reference_repeats is None else hashlib.sha1(np.asarray(reference_repeats).tobytes()).hexdigest(),
           m, max_lag, js_max_bits, n_draws, seed)
    if key in _FLOOR_CACHE:
        return _FLOOR_CACHE[key]
    m, draws, pairs = _draw_pairs(reference, reference_repeats, np.random.default_rng([seed, 0]), n_draws, m,
                                  max_lag, js_max_bits)
    floor = NoiseFloor(m=m, draws=draws, floors=[p.errors() for p in pairs])
    if len(_FLOOR_CACHE) >= _FLOOR_CACHE_SIZE:
        _FLOOR_CACHE.pop(next(iter(_FLOOR_CACHE)))
    _FLOOR_CACHE[key] = floor
    return floor


def evaluate(
    generated: np.ndarray,
    reference: np.ndarray,
    *,
    reference_repeats: np.ndarray | None = None,
    max_lag: int = st.DEFAULT_MAX_LAG,
    js_max_bits: int = st.DEFAULT_JS_MAX_BITS,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    log_likelihood: np.ndarray | None = None,
    likelihood_method: str = "exact",
    likelihood_shared_se: float = 0.0,
    likelihood_note: str | None = None,
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
        Largest lag of the autocorrelogram and the lag cross-covariance.
    js_max_bits
        JS divergence only for ``n t`` up to this.
    n_draws
        Random draws of the compared subsets to average over.
    seed
        Seed of those draws: the reference's (:func:`noise_floor`) and the
        generated set's come from two separate streams.
    log_likelihood
        ``(n_reference,)`` the model's natural-log probability of each reference window, where it
        has one: the evaluation then holds the held-out NLL with a bootstrap interval over
        ``reference_repeats`` (:func:`spiqgan.evaluation.likelihood.held_out_nll`).
    likelihood_method
        How ``log_likelihood`` was computed (``"exact"``, or an estimator's name), said in the report.
    likelihood_shared_se
        The estimator's error that all windows share, in nats per window (0 when exact), inside the
        NLL's interval.
    likelihood_note
        Without ``log_likelihood``: why the model has none here, said in the report.
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
    kw = dict(max_lag=max_lag, js_max_bits=js_max_bits)
    floor = noise_floor(ref, reference_repeats, n_draws=int(n_draws), seed=seed, **kw)
    smallest = floor.m
    m = min(smallest, gen.shape[0] // 2)
    if m < MIN_WINDOWS:
        raise DataError(
            f"too few windows to compare: {gen.shape[0]} generated and {ref.shape[0]} reference windows give "
            f"subsets of {m}, at least {MIN_WINDOWS} are needed. Generate more samples or use more reference data."
        )
    if m < smallest:  # too few generated windows: the floor at their subset size
        floor = noise_floor(ref, reference_repeats, m=m, n_draws=int(n_draws), seed=seed, **kw)
    rng = np.random.default_rng([seed, 1])  # the generated side's own stream
    side = _generated_side(gen, max_lag, js_max_bits, rng, m)
    halves = [_WindowPair.of(ref[r2], ref[r1], max_lag, js_max_bits) for r1, r2 in floor.draws]
    errs, noise = _errors(side, halves, m, rng, MAX_SUBSETS)

    rows = []
    for name, metric, _ in STATISTICS:
        err = None if any(v is None for v in errs[name]) else float(np.mean(errs[name]))
        flo = floor.mean(name)
        note = ""
        ratio = None
        if err is None or flo is None:
            note = _undefined_note(name, t, n, js_max_bits)
        elif flo > 0:
            ratio = err / flo
        else:
            note = "floor is 0"
        sampling = float(np.sqrt(np.mean(noise[name])) / err) if err and noise[name] else None
        rows.append(ComparisonRow(name, metric, err, flo, ratio, note, floor.relative_se(name), sampling))
    likelihood = None
    if log_likelihood is not None:
        lp = np.asarray(log_likelihood, dtype=np.float64).reshape(-1)
        if lp.size != ref.shape[0]:
            raise DataError(f"log_likelihood has {lp.size} values for {ref.shape[0]} reference windows; give the "
                            "model's log-probability of every reference window.")
        likelihood = held_out_nll(lp, reference_repeats, n_timesteps=t, n_neurons=n, method=likelihood_method,
                                  seed=seed, shared_se=likelihood_shared_se)
    return Evaluation(
        rows=rows, n_compared=m, n_generated=gen.shape[0], n_reference=ref.shape[0], n_timesteps=t, n_neurons=n,
        n_draws=int(n_draws), seed=int(seed), n_compared_max=smallest,
        generated_stats=summary_statistics(gen, max_lag), reference_stats=summary_statistics(ref, max_lag),
        likelihood=likelihood, likelihood_note=None if likelihood is not None else likelihood_note,
        runaway=runaway_check(gen, ref, reference_repeats, seed=seed),
    )


#: bootstrap replicates of :func:`bootstrap_ratios` (each with its own floor)
DEFAULT_RATIO_BOOT = 200
#: the least share of replicates where a ratio is defined (its floor above 0) for :class:`RatioBootstrap`'s intervals
MIN_DEFINED = 0.9


@dataclass
class RatioBootstrap:
    """What :func:`bootstrap_ratios` returns: each model's ratios in every replicate of the held-out repeats.

    ``replicates[model][statistic]``: ``(n_boot,)`` ratios (NaN where undefined); the replicates are shared
    by all models (the same resampled repeats and the same floor), so differences between models are paired.
    A rare statistic's floor (the count tail, the saturated fraction) can be 0 in a few replicates, where two
    halves happen to agree exactly: the intervals use the replicates where it is defined, provided they are
    at least :data:`MIN_DEFINED` of all (else ``None``).
    """

    replicates: dict[str, dict[str, np.ndarray]]
    n_boot: int
    n_repeats: int
    level: float = DEFAULT_LEVEL

    def interval(self, model: str, statistic: str, level: float | None = None) -> tuple[float, float] | None:
        """Percentile interval of ``model``'s ratio on ``statistic`` (``None`` where undefined)."""
        return self._interval(self.replicates[model][statistic], level)

    def _interval(self, values: np.ndarray, level: float | None) -> tuple[float, float] | None:
        defined = np.isfinite(values)
        if defined.mean() < MIN_DEFINED:
            return None
        return percentile_interval(values[defined], self.level if level is None else level)

    def difference(self, a: str, b: str, statistic: str, level: float | None = None) -> tuple[float, float] | None:
        """Paired percentile interval of ``ratio(a) - ratio(b)`` on ``statistic`` (``None`` where undefined)."""
        return self._interval(self.replicates[a][statistic] - self.replicates[b][statistic], level)

    def verdict(self, a: str, b: str, statistic: str, level: float | None = None) -> str:
        """``"<a> better"`` (lower error) or ``"<b> better"`` where the paired interval excludes 0, else ``"level"``."""
        interval = self.difference(a, b, statistic, level)
        if interval is None:
            return "n/a"
        if interval[1] < 0:
            return f"{a} better"
        if interval[0] > 0:
            return f"{b} better"
        return "level"


def bootstrap_ratios(
    generated: dict[str, np.ndarray],
    reference: np.ndarray,
    reference_repeats: np.ndarray,
    *,
    n_boot: int = DEFAULT_RATIO_BOOT,
    n_draws: int = 2,
    max_subsets: int = 4,
    max_lag: int = st.DEFAULT_MAX_LAG,
    js_max_bits: int = st.DEFAULT_JS_MAX_BITS,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> RatioBootstrap:
    """Every model's error / noise floor over bootstrap replicates of the held-out repeats, paired across models.

    Each replicate draws as many held-out repeats as there are, with replacement, and judges every
    model's generated windows against them as :func:`evaluate` does (its own floor from ``n_draws``
    random halves of the drawn repeats, every copy of a repeat drawn more than once in the same half;
    JS, W1 and the count tail from at most ``max_subsets`` generated subsets per draw), plus a normal draw of the
    generated side's own sampling error (what :attr:`ComparisonRow.sampling_se` measures, independent
    between models): so the spread of the replicates is what the choice of held-out repeats and each
    model's sample leave uncertain. ``generated``: name -> windows ``(N, t, n)``.
    """
    ref = check_windows(reference, what="reference windows")
    reps = np.asarray(reference_repeats).reshape(-1)
    if reps.size != ref.shape[0]:
        raise DataError(f"reference_repeats has {reps.size} entries for {ref.shape[0]} reference windows.")
    if not generated:
        raise DataError("no generated windows to judge; give at least one model's windows.")
    if int(n_boot) < 2:
        raise DataError(f"n_boot must be at least 2, got {n_boot!r}.")
    _, rank = np.unique(reps, return_inverse=True)
    n_rep = int(rank.max()) + 1
    members = [np.flatnonzero(rank == r) for r in range(n_rep)]
    rng = np.random.default_rng([seed, 11])
    sides = {}
    for name, windows in generated.items():
        gen = check_windows(windows, what=f"generated windows of {name}")
        if gen.shape[1:] != ref.shape[1:]:
            raise DataError(f"{name}'s windows have (t, n) = {gen.shape[1:]} but the reference has {ref.shape[1:]}.")
        sides[name] = _generated_side(gen, max_lag, js_max_bits, rng, ref.shape[0] // 2)
    names = [s for s, _, _ in STATISTICS]
    out = {model: {s: np.full(int(n_boot), np.nan) for s in names} for model in generated}
    for b in range(int(n_boot)):
        drawn = rng.integers(0, n_rep, n_rep)
        idx = np.concatenate([members[r] for r in drawn])
        original = np.repeat(drawn, [len(members[r]) for r in drawn])  # copies of a repeat stay in one half
        m, _, draws = _draw_pairs(ref[idx], original, rng, n_draws, None, max_lag, js_max_bits)
        floors = [p.errors() for p in draws]
        for model, side in sides.items():
            mm = min(m, side.n_windows // 2)
            errs, noise = _errors(side, draws, mm, rng, max_subsets)
            for s in names:
                if any(v is None for v in errs[s]) or any(f[s] is None for f in floors):
                    continue
                floor = float(np.mean([f[s] for f in floors]))
                # the generated side's own noise, which resampling the held-out repeats does not see
                sampling = float(np.sqrt(np.mean(noise[s]))) if noise[s] else 0.0
                if floor > 0:
                    error = max(0.0, float(np.mean(errs[s])) + sampling * rng.standard_normal())
                    out[model][s][b] = error / floor
    return RatioBootstrap(out, int(n_boot), n_rep, float(level))
