"""Writing an evaluation to a folder: JSON report, text table, figures.

Every file is written atomically (:mod:`spiqgan.io.atomic`): an interrupted run
leaves either the previous file or the new one, never half of one.

Files written to ``out_dir``
----------------------------
``evaluation.json``
    the comparison rows (error, floor, ratio per statistic), the summary
    statistics of both sets and the ``metadata`` given (data, neurons, ...).
``evaluation.txt``
    the table as printed.
``statistics.png``
    generated versus real firing rates, covariances, k-probabilities and
    autocorrelograms, with the identity line.
``patterns.png``
    window-pattern probabilities, real and generated (only for n t <= 20).
``rasters.png``
    real and generated windows side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spiqgan.evaluation import plotting
from spiqgan.io.atomic import atomic_path, write_json, write_text
from spiqgan.evaluation.scoring import Evaluation
from spiqgan.evaluation.statistics import DEFAULT_JS_MAX_BITS

__all__ = ["save_evaluation", "save_evaluation_figures", "save_figure"]


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically (the format follows the suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path


def save_evaluation(
    evaluation: Evaluation,
    generated: np.ndarray,
    reference: np.ndarray,
    out_dir: str | Path,
    *,
    metadata: dict | None = None,
    figures: bool = True,
) -> dict[str, Path]:
    """Write the report, then the figures, of ``evaluation`` to ``out_dir``; return the paths written.

    ``evaluation`` may be a :class:`~spiqgan.evaluation.moments.MomentEvaluation` (a model judged from
    expectation values), which has no generated windows: ``generated`` is ``None`` and ``figures`` false.

    The JSON and the table are written first, so that a failure while drawing
    (a full disk, say) cannot lose them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "json": write_json(out / "evaluation.json", {"metadata": metadata or {}, **evaluation.to_dict()}),
        "table": write_text(out / "evaluation.txt", evaluation.table() + "\n"),
    }
    if figures:
        meta = metadata or {}
        title = " ".join(str(v) for v in (meta.get("samples"), "vs", meta.get("reference", "held-out"), "data")
                         if v is not None)
        written.update(save_evaluation_figures(evaluation, generated, reference, out, title=title))
    return written


def save_evaluation_figures(evaluation: Evaluation, generated: np.ndarray, reference: np.ndarray,
                            out_dir: str | Path, *, title: str | None = None) -> dict[str, Path]:
    """The figures of :func:`save_evaluation` (``statistics.png``, ``patterns.png``, ``rasters.png``)."""
    out = Path(out_dir)
    written = {"statistics": save_figure(
        plotting.plot_statistics(evaluation.generated_stats, evaluation.reference_stats, title=title),
        out / "statistics.png")}
    if evaluation.n_neurons * evaluation.n_timesteps <= DEFAULT_JS_MAX_BITS:
        written["patterns"] = save_figure(plotting.plot_pattern_distribution(generated, reference), out / "patterns.png")
    written["rasters"] = save_figure(plotting.plot_rasters(generated, reference), out / "rasters.png")
    return written
