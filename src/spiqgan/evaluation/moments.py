r"""Statistics from expectation values: judging a model that cannot be sampled classically.

An IQP circuit over a whole window (:mod:`spiqgan.models.window_iqp`) gives Pauli-Z expectation
values, not windows. With :math:`E[x_k] = (1 - \langle Z_k\rangle)/2` and
:math:`E[x_k x_l] = (1 - \langle Z_k\rangle - \langle Z_l\rangle + \langle Z_k Z_l\rangle)/4` (qubit
``k = s n + j``: neuron ``j`` at step ``s``), every statistic of
:mod:`spiqgan.evaluation.statistics` that is a function of first and second moments follows exactly:
firing rate, pairwise covariance (pooled over the steps), autocorrelogram, lag cross-covariance and
the mean time course (:func:`moment_statistics`, the same definitions as the sampled ones, tested
against them). The k-probability and spikes per window need higher orders and are not computed here.

**Errors against held-out data, and their floor.** The model's statistic ``M`` (the mean over
``R`` independent replicates of its estimator, or over chunks of a sampled model's windows) is compared
with the statistic ``H`` of *all* held-out windows:

.. math:: \text{error} = \overline{(M - H)^2} - \overline{\widehat{\mathrm{Var}}(M)},

the estimator's own variance (from the replicates) taken out, so that the error is unbiased for the
squared difference of the model's exact statistic and ``H`` (squared differences as the sampled tables take
them: a neuron silent on one side only counts as 0 in the autocorrelogram). For a model distributed as the held-out
data, its expectation is the held-out statistic's own variance :math:`V_H`, and that is the floor:
two random halves of the held-out repeats give :math:`E\,\overline{(H_1 - H_2)^2} \approx 4 V_H`
(each half has twice the variance), so ``floor`` is a quarter of that, averaged over draws of the
halves; ``ratio = error / floor`` is about 1 for a model as good as the data allow. These ratios
compare the exact statistics with all held-out windows; the sampled tables of
:mod:`spiqgan.evaluation.scoring` compare subsets of equal size, so the two kinds of ratio are not
interchangeable, and every model of a moment table is scored by this one design. Where the
estimator's variance is larger than the floor, the statistic is ``n/a``: the estimator cannot
resolve the difference.

Pure numpy; the callers pass the expectation values (:mod:`spiqgan.experiments.moments`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spiqgan.evaluation import statistics as st
from spiqgan.evaluation.scoring import _squared_error
from spiqgan.exceptions import DataError

__all__ = ["MOMENT_STATISTICS", "moment_statistics", "window_statistics", "moment_pairs", "MomentRow",
           "compare_moments", "replicate_mean", "MomentEvaluation"]

#: (name, label) of the statistics that expectation values give, in report order
MOMENT_STATISTICS = (("firing_rate", "firing rate"), ("covariance", "pairwise covariance"),
                     ("autocorrelogram", "autocorrelogram"), ("lag_covariance", "lag cross-covariance"),
                     ("time_course", "mean time course"))


def moment_pairs(t: int, n: int, max_lag: int) -> np.ndarray:
    """``(P, 2)`` the qubit pairs ``k < l`` at most ``max_lag`` steps apart (same step included) whose
    :math:`\\langle Z_k Z_l\\rangle` :func:`moment_statistics` needs."""
    k, l_ = np.triu_indices(t * n, 1)
    keep = (l_ // n - k // n) <= max_lag
    return np.stack([k[keep], l_[keep]], 1)


def moment_statistics(z1: np.ndarray, z2: np.ndarray, t: int, n: int, max_lag: int = st.DEFAULT_MAX_LAG
                      ) -> dict[str, np.ndarray | None]:
    """The statistics of a window distribution from its :math:`\\langle Z_k\\rangle` ``(t n,)`` and the
    :math:`\\langle Z_k Z_l\\rangle` ``(P,)`` of :func:`moment_pairs` ``(t, n, min(t - 1, max_lag))``
    (``None``: undefined at this size, as the sampled statistic)."""
    m, lags = t * n, min(t - 1, int(max_lag))
    pairs = moment_pairs(t, n, lags)
    if z1.shape != (m,) or z2.shape != (len(pairs),):
        raise DataError(f"expected <Z> of {m} qubits and <ZZ> of {len(pairs)} pairs, got {z1.shape} and {z2.shape}.")
    e1 = (1.0 - z1) / 2.0
    e2 = np.full((m, m), np.nan)
    k, l_ = pairs[:, 0], pairs[:, 1]
    e2[k, l_] = e2[l_, k] = (1.0 - z1[k] - z1[l_] + z2) / 4.0
    course = e1.reshape(t, n)
    rate = course.mean(0)
    out: dict[str, np.ndarray | None] = {"firing_rate": rate, "time_course": course}
    if n > 1:
        same = np.mean([e2[s * n:(s + 1) * n, s * n:(s + 1) * n] for s in range(t)], axis=0)
        i, j = np.triu_indices(n, 1)
        out["covariance"] = (same - np.outer(rate, rate))[i, j]
    else:
        out["covariance"] = None
    if lags >= 1:
        lagged = np.zeros((lags, n, n))
        auto = np.zeros((n, lags))
        for tau in range(1, lags + 1):
            blocks = np.array([e2[s * n:(s + 1) * n, (s + tau) * n:(s + tau + 1) * n] for s in range(t - tau)])
            lead, late = course[:t - tau].mean(0), course[tau:].mean(0)
            lagged[tau - 1] = blocks.mean(0) - np.outer(lead, late)
            with np.errstate(invalid="ignore", divide="ignore"):
                opened = course[:t - tau].sum(0)
                auto[:, tau - 1] = np.where(opened > 0, np.einsum("sii->i", blocks) / np.where(opened > 0, opened, 1), np.nan)
        out["lag_covariance"], out["autocorrelogram"] = lagged, auto
    else:
        out["lag_covariance"] = out["autocorrelogram"] = None
    return out


def window_statistics(windows: np.ndarray, max_lag: int = st.DEFAULT_MAX_LAG) -> dict[str, np.ndarray | None]:
    """The same statistics of sampled windows ``(N, t, n)`` (:mod:`spiqgan.evaluation.statistics`)."""
    _, t, n = windows.shape
    return {"firing_rate": st.firing_rate(windows), "time_course": st.time_course(windows),
            "covariance": st.pairwise_covariance(windows) if n > 1 else None,
            "lag_covariance": st.lag_covariance(windows, max_lag) if t > 1 else None,
            "autocorrelogram": st.autocorrelogram(windows, max_lag) if t > 1 else None}


def replicate_mean(replicates: list[dict[str, np.ndarray | None]]) -> tuple[dict, dict]:
    """The mean over independent replicates of each statistic and the variance of that mean, per entry."""
    if len(replicates) < 2:
        raise DataError("the estimator's variance needs at least 2 independent replicates.")
    mean, var = {}, {}
    for name, _ in MOMENT_STATISTICS:
        if replicates[0][name] is None:
            mean[name] = var[name] = None
            continue
        stack = np.stack([r[name] for r in replicates])
        mean[name] = np.nanmean(stack, 0)
        var[name] = np.nanvar(stack, 0, ddof=1) / len(replicates)
    return mean, var


@dataclass(frozen=True)
class MomentRow:
    """One statistic of a moment table: ``error`` (the estimator's variance taken out), ``floor``, ``ratio``,
    and ``estimator``: the estimator's variance as a share of the floor (``n/a`` above 1)."""

    statistic: str
    label: str
    error: float | None
    floor: float | None
    ratio: float | None
    estimator: float | None
    note: str = ""


def _mse(name: str, a: np.ndarray, b: np.ndarray) -> float:
    """The sampled tables' squared error of statistic ``name`` (:mod:`spiqgan.evaluation.scoring`), NaN where undefined."""
    err = _squared_error(name, a, b)
    return float("nan") if err is None else err


def compare_moments(mean: dict, var: dict, heldout: np.ndarray, repeats: np.ndarray, *,
                    max_lag: int = st.DEFAULT_MAX_LAG, n_draws: int = 30, seed: int = 0) -> list[MomentRow]:
    """The moment table of a model (``mean``, ``var`` from :func:`replicate_mean`) against held-out windows
    ``(N, t, n)`` with their repeat of origin ``(N,)`` (see the module docstring)."""
    repeats = np.asarray(repeats)
    if repeats.shape != (len(heldout),):
        raise DataError(f"repeats must give one repeat per held-out window ({len(heldout)}), got shape {repeats.shape}.")
    units = np.unique(repeats)
    if len(units) < 2:
        raise DataError("the floor splits the held-out repeats into halves: at least 2 repeats are needed.")
    full = window_statistics(heldout, max_lag)
    rng = np.random.default_rng([seed, 3])
    halves = []
    for _ in range(int(n_draws)):
        first = rng.permutation(units)[: len(units) // 2]
        inside = np.isin(repeats, first)
        a, b = window_statistics(heldout[inside], max_lag), window_statistics(heldout[~inside], max_lag)
        halves.append({k: _mse(k, a[k], b[k]) / 4.0 for k, _ in MOMENT_STATISTICS if a[k] is not None})
    rows = []
    for name, label in MOMENT_STATISTICS:
        if mean[name] is None or full[name] is None:
            rows.append(MomentRow(name, label, None, None, None, None, "undefined at this size"))
            continue
        floor = float(np.mean([h[name] for h in halves]))
        noise = float(np.nanmean(var[name]))
        error = _mse(name, mean[name], full[name]) - noise
        share = noise / floor if floor > 0 else None
        if share is not None and share > 1:
            rows.append(MomentRow(name, label, None, floor, None, share, "n/a: the estimator's error exceeds the floor"))
            continue
        rows.append(MomentRow(name, label, error, floor, error / floor if floor > 0 else None, share,
                              "" if floor > 0 else "floor is 0"))
    return rows


@dataclass
class MomentEvaluation:
    """A model judged from expectation values: the moment table and the held-out MMD^2 (with the training
    repeats' own MMD^2 to the held-out ones beside it, where given)."""

    rows: list[MomentRow]
    mmd: dict[str, tuple[float, tuple[float, float]]]
    mmd_note: str
    n_reference: int
    n_timesteps: int
    n_neurons: int
    replicates: int

    def table(self) -> str:
        """The moment table and the held-out MMD^2, as text."""
        head = f"{'statistic':<22}  {'error':>10}  {'floor':>10}  {'ratio':>8}  {'estimator':>9}  note"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            def num(v, fmt):
                return "-" if v is None else format(v, fmt)
            share = "-" if r.estimator is None else f"{100 * r.estimator:.1f}%"
            lines.append(f"{r.label:<22}  {num(r.error, '10.3g')}  {num(r.floor, '10.3g')}  {num(r.ratio, '8.2f')}  "
                         f"{share:>9}  {r.note}")
        lines.append(f"(n = {self.n_neurons}, t = {self.n_timesteps}; from expectation values, {self.replicates} "
                     f"replicates; the exact statistic against all {self.n_reference} held-out windows, the estimator's "
                     "variance taken out; floor: the held-out statistic's own variance; estimator: its variance as a "
                     "share of the floor. k-probability and spikes per window: not computed from expectation values)")
        for name, (value, (lo, hi)) in self.mmd.items():
            lines.append(f"held-out MMD^2, {name}: {value:.3e} [{lo:.3e}, {hi:.3e}]")
        lines.append(self.mmd_note)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"kind": "moments", "n_reference": self.n_reference, "n_timesteps": self.n_timesteps,
                "n_neurons": self.n_neurons, "replicates": self.replicates,
                "rows": [r.__dict__ for r in self.rows],
                "mmd": {k: {"value": v, "interval": list(ci)} for k, (v, ci) in self.mmd.items()},
                "mmd_note": self.mmd_note}
