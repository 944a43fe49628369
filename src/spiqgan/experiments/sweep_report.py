"""The report of a sweep: the paper's summary figures and tables, and one static HTML page.

``spiqgan report SWEEP_DIR`` writes into ``SWEEP_DIR/report/``:

``error_vs_neurons.png``, ``error_vs_timesteps.png``
    the mean-square error of k-probability and firing rate against n (mean
    over t and seeds) and against t (mean over n), one line per loss (per model in a comparison; the
    paper's Fig. S1);
``loss_difference.png`` and ``loss_difference.csv``
    K-loss minus standard-loss error over (n, t), per statistic (Fig. S1);
``patterns_n<N>_t1.png``
    at t = 1, JS against step and the pattern distributions generated with
    each loss against the held-out data (Fig. 2);
``ratios_n<N>.png``
    every statistic's error / noise floor against t for ``n = N``, one line per
    loss (Fig. 3, S2-S6);
``index.html``
    all of the above, the results table, and each run's training curve,
    pattern snapshots (Fig. 2: generated vs real, JS vs step) and rasters
    (S7-S11), linked from the run folders. Static: open it in a browser.

The aggregation (:func:`mean_by`, :func:`loss_difference`) is pure; figures
come from :mod:`spiqgan.evaluation.plotting`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Sequence

from spiqgan.io.atomic import write_csv, write_text
from spiqgan.evaluation.scoring import STATISTICS
from spiqgan.exceptions import DataError
from spiqgan.experiments.sweep import Sweep, collect, finite

__all__ = ["mean_by", "loss_difference", "write_report", "load_sweep_dir"]

#: the statistics of the paper's Fig. S1
S1_STATISTICS = ("k_probability", "firing_rate")


def load_sweep_dir(sweep_dir: str | Path) -> tuple[Sweep, list[dict[str, Any]]]:
    """The sweep of a sweep folder (its ``sweep.json``) and one row per run (see :func:`spiqgan.experiments.sweep.collect`)."""
    sweep_dir = Path(sweep_dir)
    plan = sweep_dir / "sweep.json"
    if not plan.is_file():
        raise DataError(f"{sweep_dir} is not a sweep folder (no sweep.json); run `spiqgan sweep --config SWEEP.toml --out {sweep_dir}` first (or `spiqgan compare ... --out {sweep_dir}`).")
    raw = json.loads(plan.read_text())
    sweep = Sweep(raw["data"], raw["fixed"], raw["grid"])
    return sweep, collect(sweep, sweep_dir)


def mean_by(rows: Sequence[dict[str, Any]], keys: Sequence[str], metric: str) -> dict[tuple, float]:
    """Mean of ``metric`` over the finished runs that share the values of ``keys`` (the other options averaged)."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        if r.get("status") != "done" or not finite(r.get(metric)):
            continue
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(float(r[metric]))
    return {k: sum(v) / len(v) for k, v in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0])))}


def loss_difference(rows: Sequence[dict[str, Any]], metric: str, a: str = "k", b: str = "standard") -> dict[tuple, float]:
    """``(n, t) -> mean metric with loss a - with loss b`` where both were run (negative: ``a`` better)."""
    means = mean_by(rows, ("n_neurons", "timesteps", "loss"), metric)
    out = {}
    for (n, t, loss), value in means.items():
        if loss == a and (n, t, b) in means:
            out[(n, t)] = value - means[(n, t, b)]
    return out


def _options(row: dict[str, Any], sweep: Sweep) -> str:
    return ", ".join(f"{k} = {row.get(k)}" for k in sweep.grid)


def write_report(sweep_dir: str | Path) -> Path:
    """Write ``SWEEP_DIR/report/`` (figures, tables, ``index.html``); returns the page's path."""
    from spiqgan.evaluation import plotting
    from spiqgan.evaluation.report import save_figure

    sweep_dir = Path(sweep_dir)
    sweep, rows = load_sweep_dir(sweep_dir)
    out = sweep_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    done = [r for r in rows if r["status"] == "done"]
    for r in rows:  # fixed options are columns too, and n_neurons is known for neuron selections
        if "n_neurons" not in r and isinstance(r.get("neurons"), str):
            r["n_neurons"] = r["neurons"]
        r.setdefault("timesteps", 1)
        r.setdefault("loss", sweep.fixed.get("loss", "k"))
    figures: list[tuple[str, str]] = []  # (file, caption)
    has = {k: len({r.get(k) for r in done}) > 1 for k in ("n_neurons", "timesteps", "loss", "model")}
    group = "model" if has["model"] else "loss"  # one line per model in a comparison, else per loss
    if done:
        if has["model"]:
            from spiqgan.experiments.compare import comparison_rows, reference_rows

            stats = [name for name, _, _ in STATISTICS]
            table = reference_rows(sweep, sorted({r["timesteps"] for r in done})) + comparison_rows(done)
            save_figure(plotting.plot_error_vs_parameters(table, stats), out / "comparison.png")
            figures.append(("comparison.png", "Error / noise floor against trainable parameters, one marker per "
                                              "model (spiqgan compare)."))
        for axis, label in (("n_neurons", "neurons n"), ("timesteps", "time steps t")):
            series = {stat: mean_by(done, (axis, group), f"{stat}_error") for stat in S1_STATISTICS}
            fig = plotting.plot_sweep_lines(series, xlabel=label, ylabel="MSE (held-out)", group=group)
            name = f"error_vs_{'neurons' if axis == 'n_neurons' else 'timesteps'}.png"
            save_figure(fig, out / name)
            figures.append((name, f"Mean-square error against {label}, averaged over the other options; one line "
                                  f"per {group} (the paper's Fig. S1)."))
        if has["loss"] and not has["model"]:
            diffs = {stat: loss_difference(done, f"{stat}_error") for stat in S1_STATISTICS}
            if any(diffs.values()):
                save_figure(plotting.plot_loss_difference(diffs), out / "loss_difference.png")
                figures.append(("loss_difference.png", "K-loss minus standard-loss error over (n, t): blue, the "
                                                       "K-loss is better (the paper's Fig. S1)."))
                table = [{"n_neurons": n, "timesteps": t, **{f"{s}_error_k_minus_standard": diffs[s].get((n, t))
                                                             for s in S1_STATISTICS}}
                         for n, t in sorted({key for d in diffs.values() for key in d})]
                write_csv(out / "loss_difference.csv", table, list(table[0]))
        if has["loss"] and not has["model"]:
            figures += _fig2(sweep, done, sweep_dir, out)
        for n in sorted({r["n_neurons"] for r in done}, key=str):
            sub = [r for r in done if r["n_neurons"] == n]
            series = {name: mean_by(sub, ("timesteps", group), f"{name}_ratio") for name, _, _ in STATISTICS}
            series = {k: v for k, v in series.items() if v}
            fig = plotting.plot_sweep_lines(series, xlabel="time steps t", ylabel="error / noise floor", log=True,
                                            group=group)
            save_figure(fig, out / f"ratios_n{n}.png")
            figures.append((f"ratios_n{n}.png", f"n = {n}: every statistic's error / noise floor against t, one line "
                                                f"per {group} (the paper's Fig. 3, S2-S6)."))
    page = _html(sweep, rows, figures, sweep_dir)
    return write_text(out / "index.html", page)


def _fig2(sweep: Sweep, done: list[dict[str, Any]], sweep_dir: Path, out: Path) -> list[tuple[str, str]]:
    """Per n at t = 1: JS against step and the patterns generated with each loss against the real ones.

    The first run (in plan order) of each (n, loss) is shown; its last generator draws 5000 windows.
    """
    import csv

    from spiqgan.evaluation import plotting
    from spiqgan.evaluation.report import save_figure
    from spiqgan.experiments.runs import load_run
    from spiqgan.experiments.executors import run_windows

    figures = []
    t1 = [r for r in done if r["timesteps"] == 1]
    for n in sorted({r["n_neurons"] for r in t1}, key=str):
        first: dict[str, dict[str, Any]] = {}
        for r in t1:
            if r["n_neurons"] == n:
                first.setdefault(r["loss"], r)
        histories, samples = {}, {}
        for loss, r in sorted(first.items()):
            run_dir = sweep_dir / "runs" / r["run"]
            with open(run_dir / "metrics.csv", newline="") as fh:
                histories[loss] = [{"step": int(row["step"]), "js": float(row["js"]) if row.get("js") else None}
                                   for row in csv.DictReader(fh)]
            samples[loss] = load_run(run_dir).sample(5000, seed=0)
        plan = next(p for p in sweep.runs() if p.name == next(iter(first.values()))["run"])
        reference = run_windows(plan.options, sweep.data)[1]
        name = f"patterns_n{n}_t1.png"
        save_figure(plotting.plot_loss_comparison(histories, samples, reference, title=f"n = {n}"), out / name)
        figures.append((name, f"n = {n}, t = 1: JS divergence against step, and the pattern distributions generated "
                              "with each loss against the held-out data (the paper's Fig. 2)."))
    return figures


def _data_description(sweep: Sweep) -> str:
    """Which data a sweep used: the file (or the built-in synthetic data), its options and the neurons."""
    data = dict(sweep.data)
    source = data.pop("path", None) or "the built-in synthetic dataset"
    neurons = sweep.fixed.get("neurons") or sweep.grid.get("neurons") or sweep.grid.get("n_neurons") \
        or sweep.fixed.get("n_neurons")
    options = ", ".join(f"{k} = {v}" for k, v in data.items())
    return f"{source}" + (f" ({options})" if options else "") + (f"; neurons {neurons}" if neurons else "")


def _html(sweep: Sweep, rows: list[dict[str, Any]], figures: list[tuple[str, str]], sweep_dir: Path) -> str:
    esc = html.escape
    done = sum(r["status"] == "done" for r in rows)
    failed = [r for r in rows if r["status"] == "failed"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>spiqgan sweep</title><style>",
        "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "img{max-width:100%}figure{margin:1em 0}figcaption{color:#444}.failed{color:#b00}",
        "</style></head><body>",
        f"<h1>spiqgan sweep: {esc(str(sweep_dir))}</h1>",
        f"<p>Data: {esc(_data_description(sweep))}.</p>",
        f"<p>{len(rows)} runs: {done} done, {len(failed)} failed, {len(rows) - done - len(failed)} not finished. "
        f"Grid: {esc(', '.join(f'{k} in {v}' for k, v in sweep.grid.items()))}; fixed: "
        f"{esc(', '.join(f'{k} = {v}' for k, v in sweep.fixed.items()) or 'none')}.</p>",
    ]
    for name, caption in figures:
        parts.append(f"<figure><img src='{esc(name)}' alt='{esc(caption)}'><figcaption>{esc(caption)}</figcaption></figure>")
    stats = [name for name, _, _ in STATISTICS]
    labels = {name: label for name, _, label in STATISTICS}
    parts.append("<h2>Runs</h2><p>Error / noise floor on held-out repeats (last generator).</p><table><tr><th>run</th>"
                 "<th>status</th>" + "".join(f"<th>{esc(labels[s])}</th>" for s in stats) + "</tr>")
    for r in rows:
        cells = "".join(f"<td>{r[f'{s}_ratio']:.3g}</td>" if finite(r.get(f"{s}_ratio")) else "<td>-</td>"
                        for s in stats)
        status = r["status"] if r["status"] != "failed" else f"<span class='failed'>failed: {esc(r['error'])}</span>"
        parts.append(f"<tr><td style='text-align:left'>{esc(r['run'])}</td><td>{status}</td>{cells}</tr>")
    parts.append("</table><h2>Each run</h2><p>Training curve and JS against step; pattern distributions and "
                 "rasters, generated against real (the paper's Fig. 2 and S7-S11).</p>")
    for r in rows:
        if r["status"] != "done":
            continue
        base = Path("..") / "runs" / r["run"]
        images = [p for p in ("training.png", "snapshots.png", "evaluation/rasters.png", "evaluation/patterns.png")
                  if (sweep_dir / "runs" / r["run"] / p).is_file()]
        parts.append(f"<details><summary>{esc(r['run'])} ({esc(_options(r, sweep))})</summary>"
                     + ("".join(f"<img src='{esc(str(base / p))}' alt='{esc(p)}'>" for p in images)
                        or "<p>no figures (run with figures on)</p>") + "</details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
