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

``spiqgan compare`` is the command line of both steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from spiqgan.io.atomic import write_csv, write_text
from spiqgan.evaluation.scoring import STATISTICS
from spiqgan.exceptions import DataError
from spiqgan.experiments.sweep import Sweep, finite, parse_sweep

__all__ = ["comparison_sweep", "comparison_rows", "comparison_table", "reference_rows", "write_comparison",
           "DEFAULT_MODELS",
           "DEFAULT_SIZES"]

#: the models of ``spiqgan compare`` unless told otherwise
DEFAULT_MODELS = ("cry", "iqp", "bitflip", "spiqgan", "bernoulli", "ising", "kpairwise", "dg", "wgan-mlp")
#: generator sizes of the classical GANs: matched to SpiQGAN's parameter count, and two fixed sizes
DEFAULT_SIZES: tuple[int | str, ...] = ("matched", 8, 64)


#: the held-out likelihood's columns of a comparison (bits per window; empty where a model has no exact likelihood)
NLL_COLUMNS = ("nll_bits", "nll_bits_low", "nll_bits_high")


def comparison_sweep(data: dict[str, Any], neurons: str, timesteps: Sequence[int], models: Sequence[str],
                     sizes: Sequence[int | str] = DEFAULT_SIZES, fixed: dict[str, Any] | None = None) -> Sweep:
    """The sweep of a comparison (checked like a sweep file: bad names give a one-line :class:`DataError`)."""
    if not models:
        raise DataError("no models to compare; give --models, e.g. spiqgan,bernoulli,kpairwise.")
    grid: dict[str, list[Any]] = {"timesteps": list(timesteps), "model": list(models)}
    if any(m.startswith("wgan") for m in models):
        grid["size"] = list(sizes)
    return parse_sweep({"data": data, "fixed": {"neurons": neurons, **(fixed or {})}, "grid": grid}, "comparison")


def _label(row: dict[str, Any]) -> str:
    return f"{row['model']} ({row['size']})" if row.get("size") is not None else row["model"]


def comparison_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The finished runs of a comparison (rows of :func:`spiqgan.experiments.sweep.collect`) as table rows."""
    out = []
    for r in rows:
        if r.get("status") != "done":
            continue
        row = {"label": _label(r), "model": r["model"], "size": r.get("size"), "timesteps": r["timesteps"],
               "n_parameters": r["n_parameters"]}
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
    lines.append("(error / noise floor on held-out repeats; 1 = as close as two halves of the real data; NLL: exact "
                 "held-out negative log-likelihood, lower is better, interval by bootstrap over held-out repeats)")
    return "\n".join(lines) + "\n"


#: the label of the reference row: the training repeats judged like a model
REFERENCE = "training repeats"


def reference_rows(sweep: Sweep, timesteps: Sequence[int]) -> list[dict[str, Any]]:
    """The training repeats judged on the held-out repeats like a model, one row per window length.

    What any model fitted to the training repeats can hope for where the
    recording drifts between the first and the last repeats (firing rates do):
    a ratio above 1 here is the attainable level, not a model's fault.
    """
    from spiqgan.evaluation.scoring import evaluate
    from spiqgan.experiments.executors import run_windows

    out = []
    for t in timesteps:
        options = {k: v for k, v in sweep.fixed.items() if k in ("neurons", "n_neurons", "stride")}
        train_w, test_w, test_reps, _ = run_windows({**options, "timesteps": t}, sweep.data)
        ev = evaluate(train_w, test_w, reference_repeats=test_reps, seed=int(sweep.fixed.get("seed", 0)))
        row = {"label": REFERENCE, "model": REFERENCE, "size": None, "timesteps": t, "n_parameters": None,
               **{k: None for k in NLL_COLUMNS}}  # the data have no likelihood
        for r in ev.rows:
            row[f"{r.statistic}_ratio"] = r.ratio
            row[f"{r.statistic}_error"] = r.error
        out.append(row)
    return out


def write_comparison(sweep: Sweep, sweep_dir: str | Path, figures: bool = True) -> dict[str, Path]:
    """Write ``comparison.csv``, ``comparison.txt`` and (``figures``) ``comparison.png`` into ``sweep_dir``."""
    from spiqgan.experiments.sweep import collect

    sweep_dir = Path(sweep_dir)
    rows = comparison_rows(collect(sweep, sweep_dir))
    if not rows:
        raise DataError(f"{sweep_dir}: no finished runs to compare yet.")
    rows = reference_rows(sweep, sorted({r["timesteps"] for r in rows})) + rows
    written = {"csv": write_csv(sweep_dir / "comparison.csv", rows, list(rows[0])),
               "txt": write_text(sweep_dir / "comparison.txt", comparison_table(rows))}
    if figures:
        from spiqgan.evaluation.plotting import plot_error_vs_parameters
        from spiqgan.evaluation.report import save_figure

        stats = [name for name, _, _ in STATISTICS if any(finite(r.get(f"{name}_ratio")) for r in rows)]
        written["png"] = save_figure(plot_error_vs_parameters(rows, stats), sweep_dir / "comparison.png")
    return written
