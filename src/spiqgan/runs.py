"""A training run in a folder: train, checkpoint, evaluate on held-out data, write figures.

``RUN_DIR`` after :func:`train_run`
-----------------------------------
``config.json``
    the data options and the resolved hyperparameters (estimator resolved).
``metrics.csv``
    one row per step: losses, Wasserstein estimate, K-term, spikes per window,
    JS divergence (at evaluation steps), seconds; rewritten at every evaluation.
``checkpoints/last.safetensors``, ``checkpoints/best.safetensors``
    the whole training state after the last evaluation and at the step with the
    lowest JS (see :meth:`spiqgan.model.SpiQGAN.save`); written atomically at
    every evaluation.
``evaluation/``
    the held-out evaluation of the last generator (:mod:`spiqgan.report`), and
    ``evaluation_best/`` that of the best one when it differs.
``training.png``
    losses and JS versus step; ``snapshots.png`` pattern distributions and
    rasters at the start, the best step and the end (for n t <= 20).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO, Any

import numpy as np

from .atomic import write_csv, write_json
from .evaluation import Evaluation, evaluate
from .model import SpiQGAN
from .progress import Progress
from .report import save_evaluation, save_figure
from .statistics import DEFAULT_JS_MAX_BITS
from .training import HISTORY_FIELDS

__all__ = ["train_run", "load_run", "CHECKPOINT_LAST", "CHECKPOINT_BEST"]

log = logging.getLogger(__name__)

CHECKPOINT_LAST = Path("checkpoints") / "last.safetensors"
CHECKPOINT_BEST = Path("checkpoints") / "best.safetensors"


def load_run(run_dir: str | Path, which: str = "last"):
    """The model of a run folder (SpiQGAN or a classical model), from its last (or best) checkpoint."""
    from .baselines import load_model

    run_dir = Path(run_dir)
    path = run_dir / (CHECKPOINT_BEST if which == "best" else CHECKPOINT_LAST)
    return load_model(path)


def train_run(
    model: Any,
    train_windows: np.ndarray,
    test_windows: np.ndarray,
    test_repeats: np.ndarray,
    run_dir: str | Path,
    *,
    data_info: dict[str, Any] | None = None,
    progress: bool = True,
    figures: bool = True,
    resume: bool = False,
    log_stream: IO[str] | None = None,
) -> dict[str, Evaluation]:
    """Train ``model`` on ``train_windows``, writing the run folder; evaluate on the held-out windows.

    ``model``: a :class:`SpiQGAN` or a classical model of :mod:`spiqgan.baselines`
    (those have no intermediate checkpoints, best step or snapshots).

    ``resume``: continue a model loaded from the folder's last checkpoint up to
    its ``steps`` (see :meth:`SpiQGAN.fit`). ``log_stream``: where the progress
    lines go (standard error by default).
    Returns the evaluations (``"last"`` and, when it differs, ``"best"``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    params = model.resolved_params()
    write_json(run_dir / "config.json", {"data": data_info or {}, "model": params})

    def on_eval(m: SpiQGAN) -> None:
        m.save(run_dir / CHECKPOINT_LAST)
        if m.best_step_ is not None and m.best_step_ == m.n_steps_:
            m.save(run_dir / CHECKPOINT_BEST)
        write_csv(run_dir / "metrics.csv", m.history_, HISTORY_FIELDS)

    with Progress(model.progress_steps(), label="step ", enabled=progress, stream=log_stream) as bar:
        model.fit(train_windows, progress=bar, on_eval=on_eval, resume=resume)

    n_eval = test_windows.shape[0]
    results: dict[str, Evaluation] = {}
    which_list = ["last"] + (["best"] if model.best_step_ is not None and model.best_step_ != model.n_steps_ else [])
    for which in which_list:
        generated = model.sample(n_eval, seed=params["seed"] + 10, which=which)
        ev = evaluate(generated, test_windows, reference_repeats=test_repeats, seed=params["seed"])
        folder = run_dir / ("evaluation" if which == "last" else "evaluation_best")
        step = model.n_steps_ if which == "last" else model.best_step_
        save_evaluation(ev, generated, test_windows, folder, figures=figures,
                        metadata={**(data_info or {}), "generator": which, "step": step})
        results[which] = ev
    if figures:
        from . import plotting

        if model.history_:
            save_figure(plotting.plot_training(model.history_), run_dir / "training.png")
        t, n = train_windows.shape[1:]
        if isinstance(model, SpiQGAN) and n * t <= DEFAULT_JS_MAX_BITS:
            n_snap = 2000  # enough windows for the pattern distributions; the rasters show 500 bins
            snaps = {"start (step 0)": model.sample(n_snap, seed=params["seed"] + 20, which="start")}
            if model.best_step_ is not None:
                snaps[f"best (step {model.best_step_})"] = model.sample(n_snap, seed=params["seed"] + 20, which="best")
            snaps[f"end (step {model.n_steps_})"] = model.sample(n_snap, seed=params["seed"] + 20, which="last")
            save_figure(plotting.plot_snapshots(train_windows, snaps), run_dir / "snapshots.png")
    return results
