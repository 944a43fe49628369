"""Models side by side at matched size: SpiQGAN and the classical models on the same data and statistics.

A comparison is a sweep (:mod:`spiqgan.experiments.sweep`) whose grid runs over ``model``,
``timesteps`` and, for the classical GANs, ``size``: every model trains on the
same training repeats and is judged on the same held-out repeats with the same
statistics, each in its own run folder, resumable like any sweep.
:func:`write_comparison` then writes, into ``SWEEP_DIR``:

``comparison.csv``
    one row per model and window length: trainable parameters, and each
    statistic's error and error / noise floor; first the reference rows, the
    training repeats judged like a model (:func:`reference_rows`);
``comparison.txt``
    the same as a table to read;
``comparison.png``
    error / noise floor against trainable parameters, one panel per statistic.

Over several **cells** (random groups of neurons, :func:`neuron_groups`; seeds; folds of blocked
cross-validation) every model is fitted in every cell, and :func:`comparison_verdicts` adds, to
``comparison.txt`` and as ``verdicts.csv``: per model and window length, the mean and range of each
ratio over the cells, and the paired held-out NLL difference to a baseline model, per cell (an
interval by bootstrap over held-out repeats, :func:`spiqgan.evaluation.likelihood.compare_nll`) and
over all cells (the per-window differences averaged over the cells that share held-out windows, then
one bootstrap over every held-out repeat), Bonferroni-corrected for the number of models x window
lengths compared: "better" only where the interval excludes 0, else "level".

``spiqgan compare`` is the command line of both steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spiqgan.io.atomic import write_csv, write_text
from spiqgan.evaluation.scoring import STATISTICS
from spiqgan.exceptions import DataError
from spiqgan.experiments.sweep import Sweep, finite, parse_sweep

__all__ = ["comparison_sweep", "comparison_rows", "comparison_table", "reference_rows", "write_comparison",
           "neuron_groups", "comparison_verdicts", "DEFAULT_MODELS",
           "DEFAULT_SIZES"]

#: the models of ``spiqgan compare`` unless told otherwise
DEFAULT_MODELS = ("cry", "iqp", "bitflip", "spiqgan", "bernoulli", "ising", "kpairwise", "dg", "wgan-mlp")
#: generator sizes of the classical GANs: matched to SpiQGAN's parameter count, and two fixed sizes
DEFAULT_SIZES: tuple[int | str, ...] = ("matched", 8, 64)


#: the held-out likelihood's columns of a comparison (bits per window; empty where a model has no exact likelihood)
NLL_COLUMNS = ("nll_bits", "nll_bits_low", "nll_bits_high", "nll_method", "nll_shared_se")


def neuron_groups(available: Sequence[int], size: int, count: int) -> list[list[int]]:
    """``count`` random groups of ``size`` of the ``available`` neurons: group ``g`` drawn with seed ``g``, sorted.

    Groups drawn from a pool smaller than ``count x size`` overlap (:func:`comparison_verdicts` says how
    much); the benchmarks draw the same groups of the 40 shared neurons.
    """
    available = [int(v) for v in available]
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= len(available):
        raise DataError(f"a group of {size!r} neurons cannot be drawn from {len(available)}; give a group size of "
                        f"1 to {len(available)}.")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise DataError(f"the number of groups must be a positive integer, got {count!r}.")
    return [sorted(available[i] for i in np.random.default_rng(g).choice(len(available), size, replace=False))
            for g in range(count)]


def comparison_sweep(data: dict[str, Any], neurons: str, timesteps: Sequence[int], models: Sequence[str],
                     sizes: Sequence[int | str] = DEFAULT_SIZES, fixed: dict[str, Any] | None = None, *,
                     groups: Sequence[Sequence[int]] | None = None, seeds: Sequence[int] | None = None,
                     folds: int = 1) -> Sweep:
    """The sweep of a comparison (checked like a sweep file: bad names give a one-line :class:`DataError`).

    ``groups``: groups of neurons to compare on (each a list of indices; ``neurons`` is then unused),
    ``seeds``: several seeds of every model, ``folds`` >= 2: blocked cross-validation, every fold held
    out in turn; each a grid axis, so that every model is fitted in every cell.
    """
    if not models:
        raise DataError("no models to compare; give --models, e.g. spiqgan,bernoulli,kpairwise.")
    grid: dict[str, list[Any]] = {"timesteps": list(timesteps), "model": list(models)}
    fixed = dict(fixed or {})
    if groups:
        grid["neurons"] = [",".join(map(str, g)) for g in groups]
    else:
        fixed["neurons"] = neurons
    if seeds is not None and len(seeds) > 1:
        grid["seed"] = list(seeds)
        fixed.pop("seed", None)
    if folds > 1:
        fixed["folds"] = int(folds)
        grid["fold"] = list(range(int(folds)))
    if any(m.startswith("wgan") for m in models):
        grid["size"] = list(sizes)
    return parse_sweep({"data": data, "fixed": fixed, "grid": grid}, "comparison")


def _label(row: dict[str, Any]) -> str:
    return f"{row['model']} ({row['size']})" if row.get("size") is not None else row["model"]


#: what tells the cells of a comparison apart (the neurons, the seed, the held-out fold)
CELL_KEYS = ("neurons", "seed", "fold")


def comparison_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The finished runs of a comparison (rows of :func:`spiqgan.experiments.sweep.collect`) as table rows."""
    out = []
    for r in rows:
        if r.get("status") != "done":
            continue
        row = {"label": _label(r), "model": r["model"], "size": r.get("size"), "timesteps": r["timesteps"],
               "n_parameters": r["n_parameters"], "run": r.get("run"), **{k: r.get(k) for k in CELL_KEYS}}
        for name, _, _ in STATISTICS:
            row[f"{name}_ratio"] = r.get(f"{name}_ratio")
            row[f"{name}_error"] = r.get(f"{name}_error")
        for key in NLL_COLUMNS:
            row[key] = r.get(key)
        out.append(row)
    return out


def _nll_cell(r: dict[str, Any]) -> str:
    """``NLL [low, high]`` in bits per window, or ``-`` where the model has no exact likelihood."""
    if not finite(r.get("nll_bits")):
        return "-"
    return f"{r['nll_bits']:.4f} [{r['nll_bits_low']:.4f}, {r['nll_bits_high']:.4f}]"


def comparison_table(rows: Sequence[dict[str, Any]]) -> str:
    """A fixed-width table: one line per model and window length, error / noise floor per statistic, and the
    held-out NLL with its interval where the model has an exact likelihood."""
    names = [(name, label) for name, _, label in STATISTICS]
    widths = [max(9, len(label)) + 2 for _, label in names]  # whole headers, never cut
    head = (f"{'model':<26}{'t':>4}{'params':>9}" + "".join(f"{label:>{w}}" for (_, label), w in zip(names, widths))
            + f"  {'held-out NLL, bits per window [95 % interval]'}")
    lines = [head, "-" * len(head)]
    for r in sorted(rows, key=lambda r: (r["timesteps"], -1 if r["n_parameters"] is None else r["n_parameters"])):
        cells = "".join(f"{r[f'{n}_ratio']:>{w}.3g}" if finite(r.get(f"{n}_ratio")) else f"{'-':>{w}}"
                        for (n, _), w in zip(names, widths))
        params = "-" if r["n_parameters"] is None else r["n_parameters"]
        lines.append(f"{r['label']:<26}{r['timesteps']:>4}{params:>9}{cells}  {_nll_cell(r)}".rstrip())
    lines.append("(error / noise floor on held-out repeats; 1 = as close as two halves of the real data; NLL: "
                 "held-out negative log-likelihood, lower is better, exact or estimated as nll_method in "
                 "comparison.csv says, interval by bootstrap over held-out repeats)")
    return "\n".join(lines) + "\n"


#: the label of the reference row: the training repeats judged like a model
REFERENCE = "training repeats"


def _cells(sweep: Sweep) -> list[dict[str, Any]]:
    """Every cell of a comparison: ``{"neurons", "seed", "fold"}`` (a value, or ``None`` where the sweep has no such
    axis or option)."""
    import itertools

    values = {k: sweep.grid.get(k, [sweep.fixed.get(k)]) for k in CELL_KEYS}
    return [dict(zip(CELL_KEYS, v)) for v in itertools.product(*(values[k] for k in CELL_KEYS))]


def _cell_tag(row: dict[str, Any], sweep: Sweep) -> str:
    """``g1 s0 f2``: the cell of a row, by the axes the comparison has (empty for a single cell)."""
    parts = []
    if "neurons" in sweep.grid:
        parts.append(f"g{sweep.grid['neurons'].index(row['neurons'])}")
    if "seed" in sweep.grid:
        parts.append(f"s{row['seed']}")
    if "fold" in sweep.grid:
        parts.append(f"f{row['fold']}")
    return " ".join(parts)


def reference_rows(sweep: Sweep, timesteps: Sequence[int]) -> list[dict[str, Any]]:
    """The training repeats judged on the held-out repeats like a model, one row per window length (and group of
    neurons and fold, where the comparison has several).

    What any model fitted to the training repeats can hope for where the
    recording drifts between the first and the last repeats (firing rates do):
    a ratio above 1 here is the attainable level, not a model's fault.
    """
    from spiqgan.evaluation.scoring import evaluate
    from spiqgan.experiments.executors import run_windows

    out = []
    cells = {(c["neurons"], c["fold"]): c for c in _cells(sweep)}.values()  # the data do not depend on the seed
    for t in timesteps:
        for cell in cells:
            options = {k: v for k, v in sweep.fixed.items() if k in ("neurons", "n_neurons", "stride", "folds")}
            options.update({k: cell[k] for k in ("neurons", "fold") if cell[k] is not None})
            train_w, test_w, test_reps, _ = run_windows({**options, "timesteps": t}, sweep.data)
            ev = evaluate(train_w, test_w, reference_repeats=test_reps, seed=int(sweep.fixed.get("seed", 0)))
            row = {"label": REFERENCE, "model": REFERENCE, "size": None, "timesteps": t, "n_parameters": None,
                   "run": None, **cell, "seed": None, **{k: None for k in NLL_COLUMNS}}  # the data have no likelihood
            for r in ev.rows:
                row[f"{r.statistic}_ratio"] = r.ratio
                row[f"{r.statistic}_error"] = r.error
            out.append(row)
    return out


def _held_out(sweep: Sweep, sweep_dir: Path, plan: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A finished run's log-probability of each held-out window and the windows' repeats, or ``None``."""
    from spiqgan.experiments.executors import run_windows
    from spiqgan.experiments.runs import LOG_LIKELIHOOD_FILE

    path = sweep_dir / "runs" / plan.name / LOG_LIKELIHOOD_FILE
    if not path.is_file():
        return None
    _, _, repeats, _ = run_windows(plan.options, sweep.data)
    log_probs = np.load(path)
    if log_probs.shape != repeats.shape:
        raise DataError(f"{path}: {log_probs.size} log-probabilities for {repeats.size} held-out windows; rerun that "
                        "run (remove its folder).")
    return log_probs, repeats


def comparison_verdicts(sweep: Sweep, sweep_dir: str | Path, rows: Sequence[dict[str, Any]],
                        baseline: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Over the cells of a comparison: mean ratios, and each model's paired held-out NLL difference to ``baseline``.

    ``baseline``: a model of the comparison with a likelihood (default: the first such one in the
    order of ``--models``). Returns the text and the rows of ``verdicts.csv`` (see the module docstring).
    """
    from spiqgan.evaluation.likelihood import (LN2, NLLDifference, bootstrap_means, compare_nll, percentile_interval,
                                               widen)

    sweep_dir = Path(sweep_dir)
    rows = [r for r in rows if r["model"] != REFERENCE]
    plans = {plan.name: plan for plan in sweep.runs()}
    held: dict[str, Any] = {}  # each run's held-out log-probabilities, read once (a baseline serves every model)

    def held_out(row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
        if row["run"] not in held:
            held[row["run"]] = _held_out(sweep, sweep_dir, plans[row["run"]])
        return held[row["run"]]

    def direction(d: NLLDifference) -> str:  # the verdict from the side of the model compared with the baseline
        return {f"{d.name_a} better": "better", f"{d.name_b} better": "worse"}.get(d.verdict, "level")

    cells = _cells(sweep)
    lines = [f"Over {len(cells)} cells (" + ", ".join(
        f"{len(sweep.grid[k])} {name}" for k, name in (("neurons", "groups of neurons"), ("seed", "seeds"),
                                                     ("fold", "folds")) if k in sweep.grid) + "):"]
    if "neurons" in sweep.grid:
        groups = [set(map(int, g.split(","))) for g in sweep.grid["neurons"]]
        for i, g in enumerate(sweep.grid["neurons"]):
            lines.append(f"  group g{i}: neurons {g}")
        shared = [len(a & b) for i, a in enumerate(groups) for b in groups[i + 1:]]
        if shared:
            lines.append(f"  neurons two groups share: {min(shared)} to {max(shared)} (mean {np.mean(shared):.1f})")
    names = [(name, label) for name, _, label in STATISTICS]
    lines += ["", "Error / noise floor, mean over the cells [lowest, highest]:"]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    timesteps = sorted({r["timesteps"] for r in rows})
    for t in timesteps:
        for label in labels:
            mine = [r for r in rows if r["label"] == label and r["timesteps"] == t]
            cells_text = []
            for name, head in names:
                v = [r[f"{name}_ratio"] for r in mine if finite(r.get(f"{name}_ratio"))]
                if v:
                    cells_text.append(f"{head} {np.mean(v):.3g} [{min(v):.3g}, {max(v):.3g}]")
            if mine:
                lines.append(f"  {label}, t = {t} ({len(mine)} cells): " + "; ".join(cells_text))
    with_nll = [m for m in dict.fromkeys(r["label"] for r in rows if finite(r.get("nll_bits")))]
    if baseline is None:
        baseline = with_nll[0] if with_nll else None
    out_rows: list[dict[str, Any]] = []
    if baseline is None or baseline not in with_nll:
        lines += ["", f"No paired NLL verdicts: {'no model has' if baseline is None else baseline + ' has no'} "
                      "held-out likelihood here."]
        return "\n".join(lines) + "\n", out_rows
    others = [m for m in with_nll if m != baseline]
    n_tests = max(1, len(others) * len(timesteps))
    level = 1 - 0.05 / n_tests
    lines += ["", f"Held-out NLL difference to {baseline}, bits per window (negative: the model fits better), "
                  f"intervals at {100 * level:.2f} % (95 % Bonferroni-corrected for {n_tests} comparisons), paired "
                  "bootstrap over held-out repeats; an estimator's shared error (AIS, Monte Carlo) inside:"]
    key = lambda r: tuple(r.get(k) for k in CELL_KEYS)  # noqa: E731
    for t in timesteps:
        base = {key(r): r for r in rows if r["label"] == baseline and r["timesteps"] == t}
        for label in others:
            per_cell, tally, by_fold = [], {"better": 0, "level": 0, "worse": 0}, {}
            for r in (r for r in rows if r["label"] == label and r["timesteps"] == t):
                b = base.get(key(r))
                found = None if b is None else (held_out(r), held_out(b))
                if found is None or found[0] is None or found[1] is None:
                    continue
                (la, reps), (lb, _) = found
                se = tuple(float(x.get("nll_shared_se") or 0.0) * LN2 for x in (r, b))
                d = compare_nll(la, lb, reps, names=(label, baseline), level=level, shared_se=se)
                verdict = direction(d)
                tally[verdict] += 1
                per_cell.append(f"{_cell_tag(r, sweep) or 'cell'} {d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]")
                by_fold.setdefault(r.get("fold"), []).append(((lb - la) / LN2, reps, se))
                out_rows.append({"model": label, "baseline": baseline, "timesteps": t, "cell": _cell_tag(r, sweep),
                                 "difference_bits": d.difference, "low": d.low, "high": d.high, "verdict": verdict,
                                 "level": level})
            if not by_fold:
                continue
            # cells of one fold share their held-out windows: average there, then one bootstrap over all repeats
            diffs, reps, n_cells, var = [], [], 0, 0.0
            for i, (fold, parts) in enumerate(sorted(by_fold.items(), key=lambda kv: str(kv[0]))):
                diffs.append(np.mean([p[0] for p in parts], axis=0))
                reps.append(np.asarray(parts[0][1], dtype=np.int64) + 10 ** 6 * i)
                n_cells += len(parts)
                var += sum(a ** 2 + b ** 2 for _, _, (a, b) in parts)
            diff = np.concatenate(diffs)
            mean = float(diff.mean())
            low, high = percentile_interval(bootstrap_means(diff, np.concatenate(reps), seed=0), level)
            low, high = widen(mean, low, high, float(np.sqrt(var)) / n_cells / LN2, level)
            verdict = direction(NLLDifference(label, baseline, mean, low, high, level))
            lines.append(f"  {label} - {baseline}, t = {t}: {mean:+.4f} [{low:+.4f}, {high:+.4f}] over all cells: "
                         f"{verdict}; cells better / level / worse: {tally['better']} / {tally['level']} / "
                         f"{tally['worse']}")
            lines.append(f"    per cell: {'; '.join(per_cell)}")
            out_rows.append({"model": label, "baseline": baseline, "timesteps": t, "cell": "all", "difference_bits": mean,
                             "low": low, "high": high, "verdict": verdict, "level": level})
    return "\n".join(lines) + "\n", out_rows


def write_comparison(sweep: Sweep, sweep_dir: str | Path, figures: bool = True,
                     baseline: str | None = None) -> dict[str, Path]:
    """Write ``comparison.csv``, ``comparison.txt`` and (``figures``) ``comparison.png`` into ``sweep_dir``; over
    several cells also ``verdicts.csv``, and the verdicts below the table (:func:`comparison_verdicts`)."""
    from spiqgan.experiments.sweep import collect

    sweep_dir = Path(sweep_dir)
    rows = comparison_rows(collect(sweep, sweep_dir))
    if not rows:
        raise DataError(f"{sweep_dir}: no finished runs to compare yet.")
    if baseline is not None and baseline not in {r["label"] for r in rows}:
        raise DataError(f"--baseline {baseline} is not a model of this comparison; give one of "
                        f"{', '.join(dict.fromkeys(r['label'] for r in rows))}.")
    rows = reference_rows(sweep, sorted({r["timesteps"] for r in rows})) + rows
    several = len(_cells(sweep)) > 1
    table_rows = [{**r, "label": f"{r['label']} {_cell_tag(r, sweep)}".strip()} for r in rows] if several else rows
    text = comparison_table(table_rows)
    written = {"csv": write_csv(sweep_dir / "comparison.csv", rows, list(rows[0]))}
    if several:
        verdicts, verdict_rows = comparison_verdicts(sweep, sweep_dir, rows, baseline)
        text += "\n" + verdicts
        if verdict_rows:
            written["verdicts"] = write_csv(sweep_dir / "verdicts.csv", verdict_rows, list(verdict_rows[0]))
    written["txt"] = write_text(sweep_dir / "comparison.txt", text)
    if figures:
        from spiqgan.evaluation.plotting import plot_error_vs_parameters
        from spiqgan.evaluation.report import save_figure

        stats = [name for name, _, _ in STATISTICS if any(finite(r.get(f"{name}_ratio")) for r in rows)
                 and not (name == "time_course" and all(r["timesteps"] == 1 for r in rows))]  # = firing rate at t = 1
        written["png"] = save_figure(plot_error_vs_parameters(rows, stats), sweep_dir / "comparison.png")
    return written
