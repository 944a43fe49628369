"""Figures: generated versus real statistics, pattern distributions, rasters.

The only module that uses matplotlib, imported when a function is called.
Figures are built with :class:`matplotlib.figure.Figure` (not ``pyplot``), so
nothing global changes and nothing is shown: each function takes ``ax=None``
(or ``axes=None``), draws, and returns the figure; the caller saves it.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from spiqgan.evaluation import statistics as st

__all__ = ["model_color", "MODEL_COLORS", "plot_statistics", "plot_pattern_distribution", "plot_rasters", "plot_training", "plot_snapshots",
           "plot_fit_quality", "plot_sweep_lines", "plot_loss_difference",
           "plot_loss_comparison", "plot_error_vs_parameters"]

_GEN = "tab:red"
_REF = "0.2"

#: one colour per model, in every figure (comparison, sweep report, fit quality)
MODEL_COLORS = {
    "spiqgan": _GEN, "defaults": _GEN, "qce2023": "tab:pink", "paper preset": "tab:purple",
    "bernoulli": "0.55", "independent": "0.55", "ising": "tab:cyan", "kpairwise": "tab:blue",
    "K-pairwise": "tab:blue", "dg": "tab:green", "dichotomized Gaussian": "tab:green", "wgan-mlp": "tab:orange",
    "wgan-conv": "tab:brown", "training repeats": "black", "training data": "black",
    "cry": "tab:olive", "iqp": "magenta", "bitflip": "navy", "rbm": "teal", "iqp-window": "darkviolet",
    "bitflip-window": "steelblue",
    "spiqgan chain (mps)": _GEN, "published kpairwise": "tab:blue", "published dg": "tab:green",
}


def model_color(name: str) -> str:
    """The colour of a model (or of a group that is not a model: a stable colour of the tab10 cycle)."""
    if name in MODEL_COLORS:
        return MODEL_COLORS[name]
    import zlib

    return f"C{zlib.crc32(str(name).encode()) % 10}"


def _new_figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _panels(count: int, axes: Sequence[Any] | None, size: tuple[float, float]) -> tuple[Any, Sequence[Any]]:
    """``(figure, axes)``: the given axes, or a new figure of ``count`` panels, up to 3 a row, each ``size``."""
    if axes is not None:
        return axes[0].figure, axes
    cols = min(3, max(1, count))
    rows = (count + cols - 1) // cols
    fig = _new_figure((size[0] * cols, size[1] * rows))
    return fig, np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)


def _scatter_identity(ax: Any, real: np.ndarray, generated: np.ndarray, title: str, log: bool = False) -> None:
    real = np.asarray(real, dtype=float).reshape(-1)
    generated = np.asarray(generated, dtype=float).reshape(-1)
    ok = np.isfinite(real) & np.isfinite(generated)
    zero = np.zeros_like(ok)
    if log:  # zeros cannot sit on a log axis: draw them at a floor below every positive value, as triangles
        ok &= (real > 0) | (generated > 0)  # zero in both: nothing to show
        positive = np.concatenate([real[ok & (real > 0)], generated[ok & (generated > 0)]])
        zero = ok & ((real <= 0) | (generated <= 0)) & (positive.size > 0)
        if positive.size:
            low = positive.min() / 10
            real, generated = np.where(real > 0, real, low), np.where(generated > 0, generated, low)
        ok &= (real > 0) & (generated > 0)
    ax.set_title(title)
    ax.set_xlabel("real")
    ax.set_ylabel("generated")
    if not ok.any():
        ax.text(0.5, 0.5, "undefined", ha="center", va="center", transform=ax.transAxes, color="0.5")
        return
    x, y = real[ok], generated[ok]
    plain = ~zero[ok]
    ax.scatter(x[plain], y[plain], s=14, color=_GEN, alpha=0.75, edgecolor="none")
    if zero.any():
        ax.scatter(real[zero], generated[zero], s=22, marker="v", color=_GEN, alpha=0.75, edgecolor="none",
                   label="a zero, drawn at the floor")
        ax.legend(fontsize=7, loc="upper left")
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    pad = 0.05 * (hi - lo) if not log and hi > lo else 0.0
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=1, ls="--", zorder=0)


def plot_statistics(
    generated_stats: dict[str, np.ndarray], reference_stats: dict[str, np.ndarray], axes: Sequence[Any] | None = None,
    title: str | None = None,
) -> Any:
    """Generated versus real: every statistic that is defined for these windows.

    Firing rates, pairwise covariances (n > 1), k-probabilities (log axes;
    zeros drawn as triangles at the floor), autocorrelograms, lag
    cross-covariances and mean time courses (t > 1) as scatters against the
    identity line, and the distribution of spikes per window as two curves.

    Parameters
    ----------
    generated_stats, reference_stats
        Dicts as returned by :func:`spiqgan.evaluation.scoring.summary_statistics`.
    axes
        Axes to draw into, one per panel shown; default a new figure.
    title
        The figure's title (model, data, step).
    """
    panels = [("firing_rate", "firing rate (spikes / bin)", False)]
    if np.size(reference_stats["covariance"]):
        panels.append(("covariance", "pairwise covariance", False))
    panels.append(("k_probability", "k-probability", True))
    if np.size(reference_stats["autocorrelogram"]):
        panels += [("autocorrelogram", "autocorrelogram", False), ("lag_covariance", "lag cross-covariance", False),
                   ("time_course", "mean time course", False)]
    show_counts = "spike_count_distribution" in reference_stats
    fig, axes = _panels(len(panels) + show_counts, axes, (4.2, 3.6))
    for ax, (key, label, log) in zip(axes, panels):
        if key in reference_stats:
            _scatter_identity(ax, reference_stats[key], generated_stats[key], label, log=log)
    if show_counts:
        ax = axes[len(panels)]
        for stats, name, color in ((reference_stats, "real", _REF), (generated_stats, "generated", _GEN)):
            dist = np.asarray(stats["spike_count_distribution"], dtype=float)
            ax.plot(np.flatnonzero(dist > 0), dist[dist > 0], marker="o", ms=3, color=color, label=name)
        ax.set_yscale("log")
        ax.set_title("spikes per window")
        ax.set_xlabel("spikes")
        ax.set_ylabel("probability")
        ax.legend(fontsize=8)
    for ax in list(axes)[len(panels) + show_counts:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def plot_pattern_distribution(
    generated: np.ndarray, reference: np.ndarray, ax: Any | None = None, max_patterns: int = 64
) -> Any:
    """Probabilities of window patterns, real and generated (log scale).

    The patterns are ordered by decreasing real probability; at most
    ``max_patterns`` are shown (all when ``2^(n t)`` is that small, so that
    patterns the model never makes show as gaps and those it makes that real
    data never does show at the right).
    """
    if ax is None:
        fig = _new_figure((8, 3.6))
        ax = fig.subplots()
    fig = ax.figure
    rp, rw = st.pattern_distribution(reference)
    gp, gw = st.pattern_distribution(generated)
    support = np.union1d(rp, gp)
    real = np.zeros(support.size)
    gen = np.zeros(support.size)
    real[np.searchsorted(support, rp)] = rw
    gen[np.searchsorted(support, gp)] = gw
    order = np.lexsort((-gen, -real))[:max_patterns]
    x = np.arange(order.size)
    ax.bar(x - 0.2, real[order], width=0.4, color=_REF, label="real")
    ax.bar(x + 0.2, gen[order], width=0.4, color=_GEN, label="generated")
    ax.set_yscale("log")
    bits = reference.shape[1] * reference.shape[2]
    ax.set_xlabel(f"pattern (ordered by real probability; {order.size} of {support.size} seen, 2^{bits} possible)")
    ax.set_ylabel("probability")
    if bits <= 6:
        ax.set_xticks(x, [format(int(p), f"0{bits}b") for p in support[order]], rotation=90, fontsize=7)
    ax.legend()
    return fig


def plot_rasters(
    generated: np.ndarray, reference: np.ndarray, n_bins: int = 300, axes: Sequence[Any] | None = None
) -> Any:
    """Real and generated windows laid end to end as rasters (neuron versus bin).

    Shows about ``n_bins`` bins of each: whole windows, separated by faint lines.
    """
    if axes is None:
        fig = _new_figure((12, 4.5))
        axes = fig.subplots(2, 1, sharex=True)
    fig = axes[0].figure
    for ax, windows, title, color in ((axes[0], reference, "real", _REF), (axes[1], generated, "generated", _GEN)):
        t, n = windows.shape[1], windows.shape[2]
        k = max(1, min(windows.shape[0], n_bins // t))
        raster = windows[:k].reshape(k * t, n)
        s, i = np.nonzero(raster)
        ax.scatter(s, i, marker="|", s=40, color=color, linewidths=1.2)
        if t > 1:
            for b in range(t, k * t, t):
                ax.axvline(b - 0.5, color="0.85", lw=0.6, zorder=0)
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_yticks(range(0, n, max(1, n // 8)))
        ax.set_xlim(-0.5, k * t - 0.5)
        ax.set_ylabel("neuron")
        ax.set_title(f"{title}: {k} windows of {t} bins")
    axes[-1].set_xlabel("bin")
    return fig


def plot_training(history: Sequence[dict[str, float]], axes: Sequence[Any] | None = None) -> Any:
    """Losses and JS divergence versus step, from a training history (``SpiQGAN.history_``)."""
    def column(key: str) -> tuple[np.ndarray, np.ndarray]:
        step = np.array([row["step"] for row in history], dtype=float)
        val = np.array([row.get(key, np.nan) for row in history], dtype=float)
        ok = np.isfinite(val)
        return step[ok], val[ok]

    critic = ("critic", (("critic_loss", "critic loss"), ("wasserstein", "Wasserstein estimate")))
    panels = [critic] if any(column(k)[0].size for k, _ in critic[1]) else []  # likelihood training: no critic
    panels.append(("generator", (("nll", "negative log-likelihood (nats per window)"),
                                 ("generator_loss", "generator loss (adversarial, or MMD² relative to the start)"),
                                 ("k_term", "K-term"))))
    js = column("js")[0].size > 0  # a fit that never computed JS (likelihood fits, n t > 20) gets no empty panel
    if axes is None:
        fig = _new_figure((4.4 * (len(panels) + js), 3.6))
        axes = np.atleast_1d(fig.subplots(1, len(panels) + js))
    fig = axes[0].figure
    for ax, (title, curves) in zip(axes, panels):
        drawn = False
        for key, label in curves:
            x, y = column(key)
            if key == "generator_loss":  # likelihood steps log their NLL here too: keep the adversarial ones
                nll_steps = set(column("nll")[0].tolist())
                keep = np.array([v not in nll_steps for v in x], dtype=bool)
                x, y = x[keep], y[keep]
            if x.size:
                ax.plot(x, y, lw=1, label=label)
                drawn = True
        ax.set_title(title)
        ax.set_xlabel("step")
        if drawn:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
    if js and len(axes) > len(panels):
        ax = axes[len(panels)]
        x, y = column("js")
        ax.plot(x, y, "o-", ms=3, color=_GEN)
        best = int(np.argmin(y))
        ax.plot(x[best], y[best], "*", ms=12, color="k", label=f"best: step {int(x[best])}, JS {y[best]:.3g}")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_title("JS divergence to training data")
        ax.set_xlabel("step")
    return fig


def plot_snapshots(reference: np.ndarray, snapshots: dict[str, np.ndarray], n_bins: int = 500) -> Any:
    """Pattern distributions (top row) and rasters of ``n_bins`` bins (bottom row) at several training stages.

    ``snapshots`` maps a title (e.g. ``"start (step 0)"``) to generated windows;
    as in Figure 1 of the QCE 2023 paper.
    """
    k = len(snapshots) + 1
    fig = _new_figure((4.2 * k, 6))
    axes = fig.subplots(2, k, squeeze=False)
    columns = [("real (training data)", reference, _REF)] + [(title, w, _GEN) for title, w in snapshots.items()]
    for j, (title, windows, color) in enumerate(columns):
        if j:
            plot_pattern_distribution(windows, reference, ax=axes[0, j], max_patterns=32)
        else:  # the real distribution alone, ordered and labelled as in the other panels
            patterns, prob = st.pattern_distribution(reference)
            order = np.argsort(-prob, kind="stable")[:32]
            x = np.arange(order.size)
            axes[0, j].bar(x - 0.2, prob[order], width=0.4, color=_REF, label="real")
            axes[0, j].set_yscale("log")
            axes[0, j].set_ylabel("probability")
            bits = reference.shape[1] * reference.shape[2]
            if bits <= 6:  # bit strings, as plot_pattern_distribution labels them
                axes[0, j].set_xticks(x, [format(int(v), f"0{bits}b") for v in patterns[order]], rotation=90,
                                      fontsize=7)
            axes[0, j].set_xlabel("pattern")
        axes[0, j].set_title(title)
        t, n = windows.shape[1], windows.shape[2]
        w = max(1, min(windows.shape[0], n_bins // t))
        raster = windows[:w].reshape(w * t, n)
        s_idx, i_idx = np.nonzero(raster)
        ax = axes[1, j]
        ax.scatter(s_idx, i_idx, marker="|", s=30, color=color, linewidths=1)
        ax.set_xlim(-0.5, w * t - 0.5)
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_yticks(range(0, n, max(1, n // 8)))
        ax.set_xlabel("bin")
        ax.set_ylabel("neuron")
        ax.set_title(f"{w * t} bins {'real' if j == 0 else 'generated'}")
    return fig


_MODEL_STYLE = {
    "defaults": dict(color=MODEL_COLORS["defaults"], marker="o"),
    "paper preset": dict(color=MODEL_COLORS["paper preset"], marker="v"),
    "independent": dict(color=MODEL_COLORS["independent"], marker="s"),
    "K-pairwise": dict(color=MODEL_COLORS["K-pairwise"], marker="D"),
    "dichotomized Gaussian": dict(color=MODEL_COLORS["dichotomized Gaussian"], marker="^"),
    "training data": dict(color=MODEL_COLORS["training data"], marker="_"),
}


def plot_fit_quality(table: Sequence[dict], statistics: Sequence[tuple[str, str]], axes: Sequence[Any] | None = None) -> Any:
    """Error / noise floor per statistic and window size, one series per model (mean and spread over seeds).

    ``table``: rows with ``model``, ``n``, ``t`` and ``ratios`` (statistic -> list
    of error / floor, one per seed), as written by ``benchmarks/fit_quality.py``;
    ``statistics``: ``(name, label)`` pairs, one panel each. Models other than the
    defaults, the paper preset, the three reference models and the training data are left out.
    """
    rows = [r for r in table if r["model"] in _MODEL_STYLE]
    sizes = sorted({(r["n"], r["t"]) for r in rows}, key=lambda s: (s[1], s[0]))
    if axes is None:
        cols = 3
        fig = _new_figure((4.2 * cols, 3.4 * ((len(statistics) + cols - 1) // cols)))
        axes = fig.subplots((len(statistics) + cols - 1) // cols, cols).reshape(-1)
    else:
        fig = axes[0].figure
    models = [m for m in _MODEL_STYLE if any(r["model"] == m for r in rows)]
    width = 0.8 / max(1, len(models))
    for ax, (name, label) in zip(axes, statistics):
        for i, model in enumerate(models):
            xs, ys, lo, hi = [], [], [], []
            for j, size in enumerate(sizes):
                vals = [v for r in rows if r["model"] == model and (r["n"], r["t"]) == size
                        for v in r["ratios"].get(name, []) if v is not None and v > 0]
                if vals:
                    xs.append(j - 0.4 + width * (i + 0.5))
                    ys.append(float(np.mean(vals)))
                    lo.append(ys[-1] - min(vals))
                    hi.append(max(vals) - ys[-1])
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], ls="none", capsize=2, label=model, ms=5, **_MODEL_STYLE[model])
        ax.axhline(1.0, color="0.3", lw=1, ls="--")
        ax.set_yscale("log")
        ax.set_title(label)
        ax.set_xticks(range(len(sizes)), [f"({n},{t})" for n, t in sizes], rotation=45, fontsize=8)
        ax.set_ylabel("error / noise floor")
    for ax in list(axes)[len(statistics):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    axes[0].set_xlabel("(n, t)")
    return fig


def _label(name: str) -> str:
    from spiqgan.evaluation.scoring import STATISTICS

    return {n: label for n, _, label in STATISTICS}.get(name, name.replace("_", " "))


def plot_sweep_lines(series: dict[str, dict[tuple, float]], xlabel: str, ylabel: str, log: bool = False,
                     axes: Sequence[Any] | None = None, group: str = "loss") -> Any:
    """One panel per statistic: ``{statistic: {(x, group): value}}``, a line per group (e.g. per loss)."""
    names = list(series)
    fig, axes = _panels(len(names), axes, (4.2, 3.2))
    for ax, name in zip(axes, names):
        groups = sorted({g for _, g in series[name]}, key=str)
        for g in groups:
            pts = sorted(((x, v) for (x, gg), v in series[name].items() if gg == g), key=lambda p: p[0])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=str(g),
                    color=model_color(str(g)) if group == "model" else None)
        xs = sorted({x for x, _ in series[name]}, key=str)
        if all(isinstance(x, (int, float)) for x in xs):
            ax.set_xticks(sorted(xs))
        if log:
            ax.set_yscale("log")
        ax.set_title(_label(name))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if groups:
            ax.legend(fontsize=8, title=group, title_fontsize=8)
    for ax in list(axes)[len(names):]:
        ax.set_visible(False)
    return fig


def plot_loss_difference(diffs: dict[str, dict[tuple, float]], axes: Sequence[Any] | None = None) -> Any:
    """Heat maps over (n, t) of ``{statistic: {(n, t): error with K-loss - error with standard loss}}``."""
    names = [k for k, v in diffs.items() if v]
    if axes is None:
        fig = _new_figure((4.6 * len(names), 3.6))
        axes = np.atleast_1d(fig.subplots(1, len(names))).reshape(-1)
    else:
        fig = axes[0].figure
    for ax, name in zip(axes, names):
        ns = sorted({n for n, _ in diffs[name]})
        ts = sorted({t for _, t in diffs[name]})
        grid = np.full((len(ns), len(ts)), np.nan)
        for (n, t), v in diffs[name].items():
            grid[ns.index(n), ts.index(t)] = v
        bound = float(np.nanmax(np.abs(grid))) or 1.0
        im = ax.imshow(grid, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto", origin="lower")
        ax.set_xticks(range(len(ts)), [str(t) for t in ts])
        ax.set_yticks(range(len(ns)), [str(n) for n in ns])
        ax.set_xlabel("time steps t")
        ax.set_ylabel("neurons n")
        ax.set_title(f"{_label(name)}: K-loss - standard")
        for i in range(len(ns)):
            for j in range(len(ts)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if abs(grid[i, j]) > 0.6 * bound else "black")
        fig.colorbar(im, ax=ax, shrink=0.8, label="MSE difference")
    return fig


def plot_loss_comparison(histories: dict[str, Sequence[dict[str, float]]], samples: dict[str, np.ndarray],
                         reference: np.ndarray, title: str = "") -> Any:
    """JS against step, and the pattern distribution of each loss's generator against the real one (Fig. 2).

    ``histories``: per loss, rows with ``step`` and ``js`` (NaN or missing
    where not evaluated); ``samples``: per loss, generated windows ``(m, 1, n)``.
    """
    fig = _new_figure((5.6 * (1 + len(samples)), 3.6))
    axes = np.atleast_1d(fig.subplots(1, 1 + len(samples))).reshape(-1)
    for loss, rows in histories.items():
        pts = [(r["step"], r["js"]) for r in rows if r.get("js") is not None and np.isfinite(r["js"])]
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=str(loss))
    from matplotlib.ticker import MaxNLocator

    axes[0].set_xlabel("step", fontsize=12)
    axes[0].set_ylabel("JS divergence to the training data", fontsize=12)
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize=11, title="loss", title_fontsize=11)
    axes[0].set_title(title, fontsize=13)
    for ax, (loss, windows) in zip(axes[1:], samples.items()):
        plot_pattern_distribution(windows, reference, ax=ax, max_patterns=32)
        ax.set_title(f"{title}, {loss} loss: patterns" if title else f"{loss} loss: patterns", fontsize=13)
        ax.xaxis.label.set_fontsize(12)
        ax.yaxis.label.set_fontsize(12)
    for ax in axes:
        ax.tick_params(labelsize=11)
    return fig


def plot_error_vs_parameters(rows: Sequence[dict[str, Any]], statistics: Sequence[str],
                             axes: Sequence[Any] | None = None) -> Any:
    """Error / noise floor against trainable parameters, one panel per statistic, one marker per model.

    ``rows``: ``{"label", "model", "timesteps", "n_parameters", "<statistic>_ratio"}``
    (as :func:`spiqgan.experiments.compare.comparison_rows` gives); marker filled for the
    first window length, open for the others.
    """
    fig, axes = _panels(len(statistics), axes, (4.4, 3.4))
    references = [r for r in rows if r.get("n_parameters") is None]  # e.g. the training repeats: no parameters
    rows = [r for r in rows if r.get("n_parameters") is not None]
    models = list(dict.fromkeys(r["model"] for r in rows))
    ts = sorted({r["timesteps"] for r in rows} | {r["timesteps"] for r in references})
    colors = {m: model_color(m) for m in models + [r["model"] for r in references]}
    # models of the same size at the same t (cry, iqp, bitflip) side by side, not on one point: a small
    # multiplicative offset of the parameter axis, in the order of the models
    same = {}
    for r in rows:
        same.setdefault((r["n_parameters"], r["timesteps"]), []).append(r["model"])
    dodge = {}
    for (size, t), ms in same.items():
        order = list(dict.fromkeys(ms))
        for i, m in enumerate(order):
            dodge[(size, t, m)] = 1.06 ** (i - (len(order) - 1) / 2)
    markers = "osD^v<>"
    styles = (":", "-.", "--", "-")
    for ax, name in zip(axes, statistics):
        for r in references:
            v = r.get(f"{name}_ratio")
            if v is not None and np.isfinite(v) and v > 0:
                ax.axhline(v, color=colors[r["model"]], lw=1, ls=styles[ts.index(r["timesteps"]) % len(styles)])
        for r in rows:
            v = r.get(f"{name}_ratio")
            if v is None or not np.isfinite(v) or v <= 0:
                continue
            k = ts.index(r["timesteps"])
            ax.plot(r["n_parameters"] * dodge[(r["n_parameters"], r["timesteps"], r["model"])], v,
                    marker=markers[k % len(markers)], ls="none", ms=7,
                    color=colors[r["model"]], mfc=colors[r["model"]] if k == 0 else "none")
        # the sizes of one model at one t joined by a line (e.g. the WGANs)
        for m in models:
            for t in ts:
                pts = sorted((r["n_parameters"], r.get(f"{name}_ratio")) for r in rows
                             if r["model"] == m and r["timesteps"] == t and r.get(f"{name}_ratio") is not None)
                if len(pts) > 1:
                    ax.plot(*zip(*pts), color=colors[m], lw=0.8, alpha=0.6)
        ax.axhline(1.0, color="0.3", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(_label(name))
        ax.set_xlabel("trainable parameters")
        ax.set_ylabel("error / noise floor")
    for ax in list(axes)[len(statistics):]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[m], marker="o", ls="none", label=m) for m in models]
    handles += [Line2D([], [], color=colors[r["model"]], ls=styles[ts.index(r["timesteps"]) % len(styles)],
                       label=f"{r['model']} (t = {r['timesteps']})") for r in references]
    handles += [Line2D([], [], color="0.3", marker=markers[k % len(markers)], ls="none",
                       mfc="0.3" if k == 0 else "none", label=f"t = {t}") for k, t in enumerate(ts)]
    axes[0].legend(handles=handles, fontsize=7)
    return fig
