r"""Held-out log-likelihood, in bits, with paired bootstrap intervals over held-out repeats.

A model with an exact likelihood (:class:`spiqgan.models.base.HasLikelihood`) is judged by the
mean negative log-likelihood of the held-out windows,

.. math:: \mathrm{NLL} = -\frac{1}{B} \sum_{b=1}^{B} \log_2 P(x_b) \quad \text{bits per window},

the cross-entropy of the model on the held-out data (lower is better; the held-out data's own
entropy is the unattainable floor), and per bin (divided by ``t``) as the literature reports it.
Unlike the error ratios of :mod:`spiqgan.evaluation.scoring` it needs no generated windows, so
it carries no sampling noise of the model's side.

Intervals come from a bootstrap over **held-out repeats**, the unit of independence (windows of one
repeat share the stimulus and the state of the recording): ``n_boot`` times, draw as many repeats
as there are with replacement, and take the mean over all their windows; the interval is the
percentile interval of those means. The difference between two models uses the *same* resampled
repeats for both (a paired bootstrap), so the variation that both share (which repeats were held
out) cancels. :func:`compare_nll` says ``"better"`` only where the interval of the difference
excludes 0, else ``"level"``.

Where the log-probabilities are estimated (a partition function by annealed importance sampling,
a mixture over noise draws by Monte Carlo), the estimator's error that every window shares is not
seen by a bootstrap over windows: given its standard error ``shared_se`` (nats per window), each end
of the interval moves away from the estimate by :math:`\sqrt{d^2 + (z\,\mathrm{se})^2}`, ``d`` the
bootstrap's own distance and ``z`` the normal quantile of the level (the two errors independent).

Pure numpy: the callers pass the per-window log-probabilities (natural log, as the models give them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from spiqgan.exceptions import DataError

__all__ = ["LikelihoodScore", "NLLDifference", "held_out_nll", "compare_nll", "bootstrap_means",
           "percentile_interval", "widen", "DEFAULT_BOOT", "DEFAULT_LEVEL"]

#: bootstrap draws; the percentile interval's ends move by well under 1 % of its width from 2000 on
DEFAULT_BOOT = 2000
#: the intervals' nominal coverage
DEFAULT_LEVEL = 0.95
LN2 = float(np.log(2.0))


def _groups(n: int, repeats: np.ndarray | None) -> np.ndarray:
    """Group index ``(n,)`` of each window: its repeat (or each window its own group)."""
    if repeats is None:
        return np.arange(n)
    reps = np.asarray(repeats).reshape(-1)
    if reps.size != n:
        raise DataError(f"repeats has {reps.size} entries for {n} windows; give one repeat index per window.")
    return np.unique(reps, return_inverse=True)[1].reshape(-1)


def bootstrap_means(values: np.ndarray, repeats: np.ndarray | None = None, *, n_boot: int = DEFAULT_BOOT,
                    seed: int = 0) -> np.ndarray:
    """``(n_boot,)`` means of ``values`` ``(n, ...)`` over windows of repeats drawn with replacement.

    Each draw takes as many repeats as there are, with replacement, and averages ``values`` over all
    their windows (a repeat drawn twice counts twice). Trailing axes of ``values`` are kept:
    ``(n_boot, ...)``; columns resampled together are paired. Does not validate ``values``.
    """
    values = np.asarray(values, dtype=np.float64)
    group = _groups(values.shape[0], repeats)
    n_groups = int(group.max()) + 1
    sums = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(sums, group, values)
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    rng = np.random.default_rng([seed, 7])
    flat = sums.reshape(n_groups, -1)
    out = np.empty((int(n_boot), flat.shape[1]))
    chunk = max(1, 2**22 // n_groups)  # draws at a time: a few tens of MB whatever the number of repeats
    for start in range(0, int(n_boot), chunk):
        draws = rng.integers(0, n_groups, size=(min(chunk, int(n_boot) - start), n_groups))
        out[start:start + draws.shape[0]] = flat[draws].sum(1) / counts[draws].sum(1)[:, None]
    return out.reshape((int(n_boot),) + values.shape[1:])


def percentile_interval(means: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap means ``(n_boot,)``."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail], axis=0)
    return float(low), float(high)


def widen(estimate: float, low: float, high: float, se: float, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """``(low, high)`` widened by an independent error of standard error ``se`` (see the module docstring)."""
    if not se:
        return low, high
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    return (estimate - float(np.hypot(estimate - low, z * se)), estimate + float(np.hypot(high - estimate, z * se)))


@dataclass(frozen=True)
class LikelihoodScore:
    """A model's held-out NLL in bits per window, its interval and how it was computed (see the module docstring)."""

    bits_per_window: float
    low: float
    high: float
    n_windows: int
    n_repeats: int
    n_timesteps: int
    n_neurons: int
    method: str = "exact"
    level: float = DEFAULT_LEVEL
    n_boot: int = DEFAULT_BOOT
    #: standard error (bits per window) of the estimator's error that all windows share, inside the interval
    shared_se: float = 0.0

    @property
    def bits_per_bin(self) -> float:
        """NLL per time bin of a window (``t`` bins of ``n`` neurons)."""
        return self.bits_per_window / self.n_timesteps

    def line(self) -> str:
        """One line for a report."""
        shared = f", and the estimator's shared standard error {self.shared_se:.4f}" if self.shared_se else ""
        return (f"held-out NLL {self.bits_per_window:.4f} bits per window, {100 * self.level:.0f} % interval "
                f"[{self.low:.4f}, {self.high:.4f}] ({self.bits_per_bin:.4f} bits per bin; {self.method}; "
                f"bootstrap over {self.n_repeats} held-out repeats, {self.n_windows} windows{shared})")

    def to_dict(self) -> dict:
        def finite(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        out = asdict(self)
        for key in ("bits_per_window", "low", "high"):
            out[key] = finite(out[key])
        out["bits_per_bin"] = finite(self.bits_per_bin)
        return out


def _nll_bits(log_probs: np.ndarray) -> np.ndarray:
    lp = np.asarray(log_probs, dtype=np.float64).reshape(-1)
    if np.isnan(lp).any():
        raise DataError("log-probabilities hold NaN; a model's log_likelihood gives finite values or -inf.")
    return -lp / LN2


def held_out_nll(log_probs: np.ndarray, repeats: np.ndarray | None = None, *, n_timesteps: int, n_neurons: int,
                 method: str = "exact", n_boot: int = DEFAULT_BOOT, level: float = DEFAULT_LEVEL,
                 seed: int = 0, shared_se: float = 0.0) -> LikelihoodScore:
    r"""The mean NLL in bits of windows whose natural-log probabilities are ``log_probs`` ``(B,)``.

    ``repeats`` ``(B,)``: the held-out repeat of each window (the bootstrap's unit); ``None``: each
    window on its own. A window of probability 0 makes the NLL infinite (and says so by ``inf``).
    ``shared_se``: standard error in **nats** per window of an estimator's error that all windows
    share (:attr:`spiqgan.models.base.LikelihoodEstimate.shared_se`), added to the interval.
    """
    bits = _nll_bits(log_probs)
    if bits.size == 0:
        raise DataError("no windows to score.")
    group = _groups(bits.size, repeats)
    se_bits = float(shared_se) / LN2
    with np.errstate(invalid="ignore"):
        low, high = percentile_interval(bootstrap_means(bits, group, n_boot=n_boot, seed=seed), level)
        low, high = widen(float(bits.mean()), low, high, se_bits, level)
    return LikelihoodScore(float(bits.mean()), low, high, int(bits.size), int(group.max()) + 1, int(n_timesteps),
                           int(n_neurons), method, float(level), int(n_boot), se_bits)


@dataclass(frozen=True)
class NLLDifference:
    """``NLL(a) - NLL(b)`` in bits per window, its paired-bootstrap interval, and the verdict."""

    name_a: str
    name_b: str
    difference: float
    low: float
    high: float
    level: float = DEFAULT_LEVEL

    @property
    def verdict(self) -> str:
        """``"<a> better"`` or ``"<b> better"`` where the interval excludes 0, else ``"level"``."""
        if self.high < 0:
            return f"{self.name_a} better"
        if self.low > 0:
            return f"{self.name_b} better"
        return "level"

    def line(self) -> str:
        return (f"NLL {self.name_a} - {self.name_b}: {self.difference:+.4f} bits per window, "
                f"{100 * self.level:.0f} % interval [{self.low:+.4f}, {self.high:+.4f}]: {self.verdict}")


def compare_nll(log_probs_a: np.ndarray, log_probs_b: np.ndarray, repeats: np.ndarray | None = None, *,
                names: tuple[str, str] = ("a", "b"), n_boot: int = DEFAULT_BOOT, level: float = DEFAULT_LEVEL,
                seed: int = 0, shared_se: tuple[float, float] = (0.0, 0.0)) -> NLLDifference:
    """Two models on the same held-out windows: the difference of their NLLs with a paired bootstrap interval.

    ``shared_se``: each model's estimator error shared by all windows (nats per window, as in
    :func:`held_out_nll`); independent of each other, they add in quadrature to the interval.
    """
    a, b = _nll_bits(log_probs_a), _nll_bits(log_probs_b)
    if a.shape != b.shape:
        raise DataError(f"the two models scored {a.size} and {b.size} windows; score the same held-out windows.")
    difference = float((a - b).mean())
    with np.errstate(invalid="ignore"):
        low, high = percentile_interval(bootstrap_means(a - b, repeats, n_boot=n_boot, seed=seed), level)
        low, high = widen(difference, low, high, float(np.hypot(*shared_se)) / LN2, level)
    return NLLDifference(names[0], names[1], difference, low, high, float(level))
