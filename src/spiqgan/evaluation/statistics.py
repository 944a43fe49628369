r"""Statistics of binary spike windows, and the distances between two sets of windows.

Every function takes ``windows: (n_windows, t, n)`` of 0/1 values and returns
numpy arrays or floats; nothing here reads files or draws random numbers.
Bins are pooled over windows and time steps unless said otherwise: these are
the measures of the SpiQGAN paper (firing rate, covariance, k-probability,
autocorrelogram; the names follow Molano-Mazon et al. 2018, each definition
and how it relates to theirs is in its docstring) and of the QCE 2023 paper
(Jensen-Shannon divergence of pattern distributions), plus the distribution
of the spike count per window, the lag cross-covariance between neurons
(Spike-GAN's "lag covariance", within windows here) and the mean time course
within a window.

The functions check the number of dimensions of their input (a wrong shape
raises :class:`~spiqgan.exceptions.StatisticError`) but not that the values
are 0/1: use :func:`spiqgan.data.raster.check_windows` at the boundary.

Pattern encoding
----------------
A window is read as a bit string in row-major order, time step by time step,
neuron 0 first within a time step; the **first bit is the most significant**:
``index = sum_k bit_k * 2**(n*t - 1 - k)`` with ``k = s*n + i``. For ``t = 1``
this is the usual reading of the pattern ``x_0 x_1 ... x_{n-1}`` as a binary
number with neuron 0 as the most significant bit.
"""

from __future__ import annotations

import numpy as np

from spiqgan.exceptions import StatisticError

__all__ = [
    "firing_rate",
    "js_from_patterns",
    "pairwise_covariance",
    "k_probability",
    "autocorrelogram",
    "lag_covariance",
    "time_course",
    "pattern_indices",
    "pattern_windows",
    "pattern_distribution",
    "js_divergence",
    "spike_counts",
    "wasserstein_1",
    "count_tail",
    "spread_percentile",
    "saturated_fraction",
    "window_saturation",
    "DEFAULT_MAX_LAG",
    "DEFAULT_JS_MAX_BITS",
]

#: default largest lag of the autocorrelogram, in bins
DEFAULT_MAX_LAG = 10
#: JS divergence is computed only when a window has at most this many bits (n * t)
DEFAULT_JS_MAX_BITS = 20
#: the percentile of spikes per window that :func:`count_tail` reads (a runaway statistic)
COUNT_TAIL_PERCENTILE = 99.9
#: a neuron is saturated in a window when it fires in at least this share of the window's bins
SATURATED_SHARE = 0.8


def _check(windows: np.ndarray) -> np.ndarray:
    arr = np.asarray(windows)
    if arr.ndim != 3:
        raise StatisticError(
            f"expected windows of shape (n_windows, n_timesteps, n_neurons), got {arr.ndim}-D with shape {arr.shape}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise StatisticError(f"expected at least one window, time step and neuron, got shape {arr.shape}.")
    return arr


def firing_rate(windows: np.ndarray, bin_ms: float | None = None) -> np.ndarray:
    r"""Firing rate of each neuron.

    .. math:: r_i = \frac{1}{W t} \sum_{w=1}^{W} \sum_{s=1}^{t} x_{w,s,i}

    Parameters
    ----------
    windows
        ``(n_windows, t, n)`` 0/1.
    bin_ms
        If given, return spikes per second, :math:`r_i \cdot 1000 / \text{bin\_ms}`.

    Returns
    -------
    np.ndarray
        ``(n,)`` spike probability per bin (or Hz).
    """
    x = _check(windows)
    rate = x.reshape(-1, x.shape[2]).mean(axis=0, dtype=np.float64)
    return rate * (1000.0 / bin_ms) if bin_ms is not None else rate


def pairwise_covariance(windows: np.ndarray) -> np.ndarray:
    r"""Covariance of every neuron pair in the same bin.

    .. math:: c_{ij} = \langle x_i x_j \rangle - \langle x_i \rangle \langle x_j \rangle, \quad i < j,

    with :math:`\langle\cdot\rangle` the mean over all :math:`N = W t` bins of
    all windows: the biased 1/N estimator. Molano-Mazon et al. 2018 use
    ``np.cov`` (the unbiased 1/(N-1) estimator); the two differ by the factor
    N / (N - 1), under 1e-4 relative for the tens of thousands of bins
    compared here, and by nothing in an error / noise-floor ratio beyond that.

    Returns
    -------
    np.ndarray
        ``(n * (n - 1) / 2,)``, pairs in the order of ``np.triu_indices(n, k=1)``
        (0-1, 0-2, ..., 1-2, ...). Empty for ``n = 1``.
    """
    x = _check(windows)
    n = x.shape[2]
    flat = x.reshape(-1, n).astype(np.float64)
    mean = flat.mean(axis=0)
    second = flat.T @ flat / flat.shape[0]
    cov = second - np.outer(mean, mean)
    return cov[np.triu_indices(n, k=1)]


def k_probability(windows: np.ndarray) -> np.ndarray:
    r"""Probability that exactly ``k`` of the ``n`` neurons spike in the same bin.

    .. math:: P(k) = \frac{1}{W t} \sum_{w,s} \mathbb{1}\left[\sum_i x_{w,s,i} = k\right], \quad k = 0, \dots, n

    Returns
    -------
    np.ndarray
        ``(n + 1,)``, sums to 1.
    """
    x = _check(windows)
    n = x.shape[2]
    k = x.reshape(-1, n).sum(axis=1, dtype=np.int64)
    return np.bincount(k, minlength=n + 1).astype(np.float64) / k.size


def autocorrelogram(windows: np.ndarray, max_lag: int = DEFAULT_MAX_LAG) -> np.ndarray:
    r"""Autocorrelogram of each neuron: the probability of a spike ``tau`` bins after a spike.

    Computed from the pairs of bins that lie inside the same window:

    .. math:: A_i(\tau) = \frac{\sum_w \sum_{s=1}^{t-\tau} x_{w,s,i}\, x_{w,s+\tau,i}}
                               {\sum_w \sum_{s=1}^{t-\tau} x_{w,s,i}},
              \quad \tau = 1, \dots, \min(t - 1, L).

    For a neuron firing independently from bin to bin :math:`A_i(\tau)` equals
    its firing rate; bursts raise it above the rate at short lags.

    This is a conditional probability per neuron, one-sided (positive lags).
    Molano-Mazon et al. 2018 define theirs otherwise: spike pairs summed over
    neurons, two-sided, divided by the lag-0 count (so it is 1 at lag 0). Both
    have the same shape in :math:`\tau` for one neuron; ours keeps neurons
    apart, so that a model cannot trade one neuron's bursts for another's.

    Parameters
    ----------
    windows
        ``(n_windows, t, n)`` 0/1.
    max_lag
        Largest lag :math:`L` in bins.

    Returns
    -------
    np.ndarray
        ``(n, min(t - 1, max_lag))``. For ``t = 1`` the array has no columns.
        Entries are NaN where the neuron has no spike in the bins that open a
        pair (a silent neuron): the conditional probability is undefined.
    """
    x = _check(windows)
    if int(max_lag) < 1:
        raise StatisticError(f"max_lag must be at least 1, got {max_lag!r}.")
    t, n = x.shape[1], x.shape[2]
    n_lags = min(t - 1, int(max_lag))
    out = np.full((n, n_lags), np.nan)
    xf = x.astype(np.float64)
    for lag in range(1, n_lags + 1):
        lead = xf[:, :-lag, :]
        joint = (lead * xf[:, lag:, :]).sum(axis=(0, 1))
        opened = lead.sum(axis=(0, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, lag - 1] = np.where(opened > 0, joint / np.where(opened > 0, opened, 1.0), np.nan)
    return out


def lag_covariance(windows: np.ndarray, max_lag: int = 1) -> np.ndarray:
    r"""Cross-covariance between neurons ``tau`` bins apart, within windows.

    .. math:: C_{ij}(\tau) = \langle x_{s,i}\, x_{s+\tau,j} \rangle
              - \langle x_{s,i} \rangle \langle x_{s+\tau,j} \rangle,
              \quad \tau = 1, \dots, \min(t - 1, L),

    with :math:`\langle\cdot\rangle` the mean over windows and the
    :math:`t - \tau` starts :math:`s` whose pair lies inside the window (1/N
    estimator, as :func:`pairwise_covariance`). :math:`C(\tau)` is not
    symmetric: :math:`C_{ij}(\tau)` is neuron ``i`` leading neuron ``j``. This is
    Spike-GAN's "lag covariance" (Molano-Mazon et al. 2018), computed within
    windows; the diagonal is each neuron's autocovariance.

    Returns
    -------
    np.ndarray
        ``(min(t - 1, L), n, n)``; no rows for ``t = 1``.
    """
    x = _check(windows)
    if int(max_lag) < 1:
        raise StatisticError(f"max_lag must be at least 1, got {max_lag!r}.")
    t, n = x.shape[1], x.shape[2]
    n_lags = min(t - 1, int(max_lag))
    out = np.zeros((n_lags, n, n))
    xf = x.astype(np.float64)
    for lag in range(1, n_lags + 1):
        lead = xf[:, :-lag, :].reshape(-1, n)
        lagged = xf[:, lag:, :].reshape(-1, n)
        out[lag - 1] = lead.T @ lagged / lead.shape[0] - np.outer(lead.mean(axis=0), lagged.mean(axis=0))
    return out


def time_course(windows: np.ndarray) -> np.ndarray:
    r"""Mean activity of each neuron at each time step of a window.

    .. math:: m_{s,i} = \frac{1}{W} \sum_{w=1}^{W} x_{w,s,i}

    Spike-GAN's "mean time course" (Molano-Mazon et al. 2018). Windows cut at
    fixed phases of a repeated stimulus carry its time course; a generator
    with one sub-generator per time step can match it step by step.

    Returns
    -------
    np.ndarray
        ``(t, n)`` spike probability per time step and neuron.
    """
    x = _check(windows)
    return x.mean(axis=0, dtype=np.float64)


def pattern_indices(windows: np.ndarray) -> np.ndarray:
    """Integer index of each window's pattern (see the module docstring for the bit order).

    Returns
    -------
    np.ndarray
        ``(n_windows,)`` int64. Raises for windows of more than 62 bits.
    """
    x = _check(windows)
    bits = x.shape[1] * x.shape[2]
    if bits > 62:
        raise StatisticError(f"windows of {bits} bits (n * t) cannot be indexed as 64-bit integers; at most 62.")
    weights = np.left_shift(np.int64(1), np.arange(bits - 1, -1, -1, dtype=np.int64))
    return x.reshape(x.shape[0], bits).astype(np.int64) @ weights


def pattern_windows(indices: np.ndarray, t: int, n: int) -> np.ndarray:
    """The windows ``(len(indices), t, n)`` uint8 of pattern indices: the inverse of :func:`pattern_indices`."""
    codes = np.asarray(indices, dtype=np.int64)
    bits = t * n
    return ((codes[:, None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8).reshape(len(codes), t, n)


def pattern_distribution(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical distribution over the window patterns that occur.

    Returns
    -------
    patterns : np.ndarray
        ``(n_observed,)`` sorted pattern indices.
    probabilities : np.ndarray
        ``(n_observed,)`` relative frequencies, summing to 1.
    """
    patterns, counts = np.unique(pattern_indices(windows), return_counts=True)
    return patterns, counts / counts.sum()


def js_divergence(p_windows: np.ndarray, q_windows: np.ndarray, max_bits: int = DEFAULT_JS_MAX_BITS) -> float:
    r"""Jensen-Shannon divergence (base 2) between the pattern distributions of two sets of windows.

    .. math:: \mathrm{JS}(P, Q) = \tfrac12 \mathrm{KL}(P \,\|\, M) + \tfrac12 \mathrm{KL}(Q \,\|\, M),
              \quad M = \tfrac12 (P + Q),

    over all :math:`2^{n t}` window patterns, with :math:`P, Q` the relative
    frequencies (patterns seen in neither set contribute nothing). In
    :math:`[0, 1]` bits. The plug-in estimate is biased upwards by finite
    samples, which is why :mod:`spiqgan.evaluation.scoring` compares it to a noise
    floor computed with the same number of windows.

    Raises
    ------
    StatisticError
        If the windows have different shapes or more than ``max_bits`` bits.
    """
    p, q = _check(p_windows), _check(q_windows)
    if p.shape[1:] != q.shape[1:]:
        raise StatisticError(f"windows of different shapes {p.shape[1:]} and {q.shape[1:]} cannot be compared.")
    bits = p.shape[1] * p.shape[2]
    if bits > max_bits:
        raise StatisticError(
            f"JS divergence over 2^{bits} patterns (n * t = {bits}) is not estimable from samples; "
            f"it is computed for n * t <= {max_bits}."
        )
    return js_from_patterns(pattern_indices(p), pattern_indices(q))


def js_from_patterns(p_patterns: np.ndarray, q_patterns: np.ndarray) -> float:
    """:func:`js_divergence` of two sets of windows given by their :func:`pattern_indices`."""
    pp, pc = np.unique(p_patterns, return_counts=True)
    qp, qc = np.unique(q_patterns, return_counts=True)
    support = np.union1d(pp, qp)
    P = np.zeros(support.size)
    Q = np.zeros(support.size)
    P[np.searchsorted(support, pp)] = pc / pc.sum()
    Q[np.searchsorted(support, qp)] = qc / qc.sum()
    M = 0.5 * (P + Q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / M[nz])))

    return max(0.0, 0.5 * kl(P) + 0.5 * kl(Q))


def spike_counts(windows: np.ndarray) -> np.ndarray:
    """Total number of spikes in each window, ``(n_windows,)`` int64."""
    x = _check(windows)
    return x.reshape(x.shape[0], -1).sum(axis=1, dtype=np.int64)


def wasserstein_1(a: np.ndarray, b: np.ndarray) -> float:
    r"""1-Wasserstein (earth mover's) distance between two samples of integers.

    .. math:: W_1(F_a, F_b) = \sum_{k} \left| F_a(k) - F_b(k) \right|

    with :math:`F` the empirical cumulative distribution functions, summed over
    the integers from the smallest to the largest value seen. Used on
    :func:`spike_counts` of two sets of windows.
    """
    a = np.asarray(a, dtype=np.int64).reshape(-1)
    b = np.asarray(b, dtype=np.int64).reshape(-1)
    if a.size == 0 or b.size == 0:
        raise StatisticError("the Wasserstein distance needs at least one value on each side.")
    lo = min(a.min(), b.min())
    hi = max(a.max(), b.max())
    fa = np.cumsum(np.bincount(a - lo, minlength=hi - lo + 1)) / a.size
    fb = np.cumsum(np.bincount(b - lo, minlength=hi - lo + 1)) / b.size
    return float(np.abs(fa - fb)[:-1].sum())


def spread_percentile(hist: np.ndarray, percentile: float) -> np.ndarray:
    r"""The percentile of integer values 0, 1, ... of distribution ``hist: (..., C)`` (rows summing to 1), each value
    ``c`` spread uniformly over :math:`[c - \tfrac12, c + \tfrac12]`.

    For a discrete variable the ordinary percentile jumps from one integer to the next, so two samples of the
    same distribution often agree exactly and the error between them is 0 or 1. Spreading each value over
    its unit interval makes the distribution function piecewise linear and the percentile
    :math:`c - \tfrac12 + (q - F(c - 1)) / p(c)` move continuously with the probabilities; it is the
    ordinary percentile to within half a unit.
    """
    h = np.asarray(hist, dtype=np.float64)
    flat = h.reshape(-1, h.shape[-1])
    q = percentile / 100.0
    cdf = np.cumsum(flat, -1)
    c = np.minimum((cdf < q).sum(-1), h.shape[-1] - 1)  # the first value whose F reaches q
    rows = np.arange(flat.shape[0])
    before = cdf[rows, c] - flat[rows, c]
    mass = flat[rows, c]
    inside = np.where(mass > 0, (q - before) / np.where(mass > 0, mass, 1.0), 1.0)
    return (c - 0.5 + np.clip(inside, 0.0, 1.0)).reshape(h.shape[:-1])


def count_tail(windows: np.ndarray, percentile: float = COUNT_TAIL_PERCENTILE) -> float:
    """The ``percentile`` (default 99.9th) of spikes per window, each count spread over its unit interval
    (:func:`spread_percentile`): how far the busiest windows go. A model that generates from its own history
    and excites itself shows here first."""
    counts = spike_counts(windows)
    if counts.size == 0:
        raise StatisticError("the count tail needs at least one window.")
    return float(spread_percentile(np.bincount(counts) / counts.size, percentile))


def window_saturation(windows: np.ndarray, share: float = SATURATED_SHARE) -> np.ndarray:
    """Per window, the fraction of its neurons that fire in at least ``share`` of its bins, ``(n_windows,)``."""
    x = _check(windows)
    need = int(np.ceil(share * x.shape[1] - 1e-9))  # 0.8 * 30 is 24.000000000000004 in floating point
    return (x.sum(axis=1, dtype=np.int64) >= max(need, 1)).mean(axis=1)


def saturated_fraction(windows: np.ndarray, share: float = SATURATED_SHARE) -> float:
    """The fraction of (window, neuron) pairs where the neuron fires in at least ``share`` (80 %) of the window's bins.

    Real retinal neurons rarely fire in 8 of 10 consecutive 20 ms bins; a self-exciting model's neurons lock
    on. At ``t = 1`` it is the mean firing rate (every spike fills its one bin).
    """
    return float(window_saturation(windows, share).mean())
