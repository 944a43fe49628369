"""A training run in a folder: train, checkpoint, evaluate on held-out data, write figures.

``RUN_DIR`` after :func:`train_run`
-----------------------------------
``config.json``
    the data options and the resolved hyperparameters (estimator resolved).
``windows.json``
    how many training and held-out windows the run saw, and how many distinct training windows
    (what a window circuit's likelihood costs on a device: ``spiqgan resources``).
``metrics.csv``
    one row per step: losses, Wasserstein estimate, K-term, spikes per window,
    JS divergence (at evaluation steps), seconds; rewritten at every evaluation.
``checkpoints/last.safetensors``, ``checkpoints/best.safetensors``
    the whole training state after the last evaluation and at the step with the
    lowest JS (see :meth:`spiqgan.models.base.Estimator.save`); written atomically at
    every evaluation.
``evaluation/``
    the held-out evaluation of the last generator (:mod:`spiqgan.evaluation.report`), and
    ``evaluation_best/`` that of the best one when it differs.
``training.png``
    losses and JS versus step; ``snapshots.png`` pattern distributions and
    rasters at the start, the best step and the end (for n t <= 20).

Resuming, and one run per folder
--------------------------------
A folder holds one run of one configuration (``config.json``: data options
and hyperparameters). Training into a folder that holds a checkpoint of the
same configuration continues from that checkpoint, exactly as if it had never
stopped (:meth:`SpiQGAN.fit` with ``resume``); a finished run is only
re-evaluated. A folder of another configuration is refused with the options
that differ, unless ``force`` clears it first. A checkpoint that cannot be
read (truncated, or its checksum does not match) is never replaced silently:
the run fails, naming the file, until it is deleted or ``force`` is given.
While a process uses a folder it holds an OS lock on ``RUN_DIR/.lock``; a
second process is refused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import numpy as np

from spiqgan.io.atomic import write_csv, write_json, write_npy
from spiqgan.experiments.moments import evaluate_moments, judged_by_moments
from spiqgan.io.checkpoint import CheckpointError
from spiqgan.evaluation.scoring import Evaluation, evaluate
from spiqgan.exceptions import RunFolderError
from spiqgan.models.base import EstimatesLikelihood, HasLikelihood
from spiqgan.progress import Progress
from spiqgan.evaluation.report import save_evaluation, save_evaluation_figures, save_figure
from spiqgan.evaluation.statistics import DEFAULT_JS_MAX_BITS
from spiqgan.training.loop import HISTORY_FIELDS

__all__ = ["train_run", "load_run", "saved_config", "likelihood_arguments", "prepare_run", "run_lock", "CHECKPOINT_LAST", "CHECKPOINT_BEST", "RUN_FILES",
           "LOG_LIKELIHOOD_FILE", "check_out_folder", "check_config",
           "check_data_options", "WINDOWS_FILE"]

log = logging.getLogger(__name__)

CHECKPOINT_LAST = Path("checkpoints") / "last.safetensors"
CHECKPOINT_BEST = Path("checkpoints") / "best.safetensors"
CONFIG_FILE = "config.json"
#: the run's window counts (training, distinct training, held-out)
WINDOWS_FILE = "windows.json"
#: the model's natural-log probability of each held-out window, in window order (where it has a likelihood)
LOG_LIKELIHOOD_FILE = Path("evaluation") / "held_out_log_likelihood.npy"
LOCK_FILE = ".lock"
#: what train_run writes into a run folder (``force`` removes these, and nothing else)
RUN_FILES = (CONFIG_FILE, WINDOWS_FILE, "metrics.csv", "checkpoints", "evaluation", "evaluation_best", "training.png",
             "snapshots.png")


def load_run(run_dir: str | Path, which: str = "last"):
    """The model of a run folder (any model of :mod:`spiqgan.models`), from its last (or best) checkpoint."""
    from spiqgan.models.registry import load_model

    run_dir = Path(run_dir)
    path = run_dir / (CHECKPOINT_BEST if which == "best" else CHECKPOINT_LAST)
    return load_model(path)


def likelihood_arguments(model: Any, windows: np.ndarray) -> dict[str, Any]:
    """What :func:`~spiqgan.evaluation.scoring.evaluate` needs to report ``model``'s held-out NLL on ``windows``:
    its log-probabilities (exact or estimated), how they were computed (an estimator's bias said there) and the
    estimator's shared standard error; where the model has no likelihood, why."""
    if not isinstance(model, EstimatesLikelihood):
        return {"likelihood_note": "an implicit generator: samples only, no likelihood"}
    found = model.estimate_log_likelihood(windows)
    if found is None:
        return {"likelihood_note": model.likelihood_unavailable(windows) or "none for this model"}
    method = found.method
    if found.bias:
        method += f", estimated bias {-found.bias / np.log(2):+.1e} bits per window on the NLL (not subtracted)"
    return {"log_likelihood": found.log_probs, "likelihood_method": method, "likelihood_shared_se": found.shared_se}


#: a model with an enumerable exact likelihood is judged on this many times the held-out windows, stratified
EVAL_MULTIPLE = 10
#: any other model gets enough windows for every ratio's sampling standard error to be under this ...
SAMPLING_SE_TARGET = 0.03
#: ... at most this many times the held-out windows, and at most this many seconds of drawing (the environment
#: variables SPIQGAN_EVAL_MAX_MULTIPLE and SPIQGAN_EVAL_BUDGET_S lower or raise them, in worker processes too)
SAMPLING_MAX_MULTIPLE = 256
SAMPLING_BUDGET_S = 120.0


def _sampling_limits() -> tuple[int, float]:
    """``(max multiple, budget in seconds)``: the module's values unless the environment sets them."""
    import os

    try:
        multiple = int(os.environ.get("SPIQGAN_EVAL_MAX_MULTIPLE", SAMPLING_MAX_MULTIPLE))
        budget = float(os.environ.get("SPIQGAN_EVAL_BUDGET_S", SAMPLING_BUDGET_S))
    except ValueError as exc:
        from spiqgan.exceptions import ConfigError

        raise ConfigError(f"SPIQGAN_EVAL_MAX_MULTIPLE and SPIQGAN_EVAL_BUDGET_S must be numbers: {exc}") from None
    return max(1, multiple), budget


def evaluate_model(model: Any, test_windows: np.ndarray, test_repeats: np.ndarray | None, *, sample_seed: int,
                   which: str = "last", **evaluate_options: Any) -> tuple[Evaluation, np.ndarray, str]:
    """Judge ``model`` on held-out windows: ``(evaluation, generated windows, how they were drawn)``.

    A fitted model with an exact likelihood over at most ``HasLikelihood.STRATIFIED_MAX_BITS`` bits is
    judged on ``EVAL_MULTIPLE`` times the held-out windows, stratified on its exact distribution
    (:meth:`~spiqgan.models.base.HasLikelihood.stratified_sample`): no sampling noise. Any other model on
    a random sample (seeded by ``sample_seed``) of as many windows as held out; while some ratio's
    sampling standard error (``ComparisonRow.sampling_se``, which falls as one over the square root of
    the windows) is above ``SAMPLING_SE_TARGET``, it draws more, as many as that standard error says are
    needed (at most three times), up to ``SAMPLING_MAX_MULTIPLE`` times the held-out windows and what
    ``SAMPLING_BUDGET_S`` seconds of drawing give at the rate of the first sample, and is judged
    again (``python benchmarks/sample_spread.py``). ``evaluate_options`` go to
    :func:`~spiqgan.evaluation.scoring.evaluate`.
    """
    import time

    def judge(generated: np.ndarray) -> Evaluation:
        return evaluate(generated, test_windows, reference_repeats=test_repeats, **evaluate_options)

    n_ref = len(test_windows)
    t, n = model.params_["n_timesteps"], model.params_["n_neurons"]
    if (which == "last" and isinstance(model, HasLikelihood) and t * n <= HasLikelihood.STRATIFIED_MAX_BITS
            and model.likelihood_method() == "exact"):
        count = EVAL_MULTIPLE * n_ref
        windows = model.stratified_sample(count, seed=sample_seed)
        return judge(windows), windows, f"{count} windows stratified on the exact distribution"
    start = time.perf_counter()
    windows = model.sample(n_ref, seed=sample_seed, which=which)
    rate = n_ref / max(time.perf_counter() - start, 1e-9)  # windows drawn per second
    ev = judge(windows)
    reason = "sampling standard errors under the target"
    max_multiple, budget = _sampling_limits()
    limits = {f"{max_multiple} x held-out": max_multiple * n_ref, f"{budget:.0f} s of drawing": int(rate * budget)}
    for round_ in range(1, 4):  # the first estimate of the needed windows can fall short: at most 3 more draws
        worst = _worst_sampling_se(ev)
        if worst <= SAMPLING_SE_TARGET:
            break
        needed = int(np.ceil(1.2 * len(windows) * (worst / SAMPLING_SE_TARGET) ** 2))
        count = min(needed, *limits.values())
        reason = f"limited by {min(limits, key=limits.get)}" if count < needed else reason
        if count <= len(windows):
            break
        more = model.sample(count - len(windows), seed=sample_seed + 1_000_003 * round_, which=which)
        windows = np.concatenate([windows, more])
        ev = judge(windows)
    return ev, windows, (f"{len(windows)} windows drawn with seed {sample_seed} ({reason}; largest sampling "
                         f"standard error {100 * _worst_sampling_se(ev):.1f} %)")


#: statistics left out of the sampling target: the runaway statistics read the extreme tail (the 99.9th percentile
#: of a subset, a rare saturation), whose standard error falls slowly; their check uses every generated window
UNTARGETED = ("count_tail", "saturated")


def _worst_sampling_se(ev: Evaluation) -> float:
    return max((r.sampling_se for r in ev.rows if r.sampling_se is not None and r.statistic not in UNTARGETED),
               default=0.0)


@contextmanager
def run_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold an exclusive OS lock on ``run_dir`` (``flock`` on ``RUN_DIR/.lock``) for the ``with`` block.

    A second process asking for the same folder gets :class:`RunFolderError`
    at once. The lock goes with the process: a killed run leaves no stale lock.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} is a file; the run folder must be a folder (choose another --out).")
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks here
        log.warning("no file locking on this platform: do not train twice into %s at once", run_dir)
        yield run_dir
        return
    fh = open(run_dir / LOCK_FILE, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunFolderError(f"{run_dir} is in use by another spiqgan run ({holder}); wait for it to finish, "
                                 "or write to another folder.") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        yield run_dir
    finally:
        fh.close()


def check_out_folder(out: str | Path, *, what: str = "--out", lock: bool = True) -> None:
    """Refuse at once, before any data is loaded, an output folder that cannot be used: a file, a place without
    write permission, or (``lock``: a run folder) one that another process holds locked. Creates nothing."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{what} {out} is a file; give a folder (choose another {what}).")
    existing = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunFolderError(f"{what} {out}: cannot write into {existing} (permission denied); choose another "
                             f"{what}.")
    if lock and (out / LOCK_FILE).is_file():
        with run_lock(out):  # another process's lock refuses here; this one is released at once
            pass


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """``"key: old -> new"`` for every leaf where two JSON-like dicts differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            out += _differences(old.get(k, "(absent)"), new.get(k, "(absent)"), f"{prefix}{k}.")
        return out
    return [] if old == new else [f"{prefix.rstrip('.')}: {old!r} -> {new!r}"]


def clear_run(run_dir: str | Path) -> None:
    """Remove what :func:`train_run` wrote into ``run_dir`` (:data:`RUN_FILES`); other files stay."""
    for name in RUN_FILES:
        path = Path(run_dir) / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def saved_config(run_dir: str | Path) -> dict[str, Any]:
    """The run folder's ``config.json`` as read before the data is loaded: ``{}`` where there is none yet or it
    cannot be read (which :func:`check_config` names)."""
    try:
        saved = json.loads((Path(run_dir) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return saved if isinstance(saved, dict) else {}


def check_data_options(run_dir: str | Path, data_info: dict[str, Any]) -> None:
    """Refuse (:class:`RunFolderError`) at once a run folder whose ``config.json`` names other data options than
    ``data_info`` (those known before the data is loaded: file, time steps, stride, split), with what differs."""
    saved = saved_config(run_dir).get("data")
    if not isinstance(saved, dict):
        return
    new = json.loads(json.dumps(data_info))
    _refuse_other(run_dir, [d for k in new if k in saved for d in _differences(saved[k], new[k], f"data.{k}.")])


def check_model_options(run_dir: str | Path, params_for: Callable[[int], dict[str, Any]]) -> None:
    """Refuse (:class:`RunFolderError`) at once a run folder whose ``config.json`` names other model options than
    ``params_for(n)`` gives for the saved run's number of neurons ``n``: the model's options are compared before
    the data is loaded (a change of neurons is found by :func:`check_config` once it is)."""
    saved = saved_config(run_dir)
    try:
        n, old = len(saved["data"]["neurons"]), saved["model"]
    except (KeyError, TypeError):
        return  # no configuration yet, or one that check_config will name
    new = json.loads(json.dumps(params_for(n)))
    _refuse_changed_circuit(run_dir, old, new)
    _refuse_other(run_dir, _differences(old, new, "model."))


def _refuse_changed_circuit(run_dir: str | Path, old: Any, new: Any) -> None:
    """A run of a circuit of the user's whose file has changed since: refused in one line that says so."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return
    was, now = old.get("circuit_sha256"), new.get("circuit_sha256")
    if was and now and was != now and old.get("family") == new.get("family"):
        raise RunFolderError(f"{run_dir} was fitted with circuit {old['family']} at SHA-256 {was[:12]}, and the file "
                             f"has changed since (now {now[:12]}); restore that file to resume, or use another folder "
                             "or --force.")


def _refuse_other(run_dir: str | Path, diff: list[str]) -> None:
    """:class:`RunFolderError` naming what differs (at most six of ``diff``), where anything does."""
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        raise RunFolderError(f"{run_dir} holds a run of another configuration ({shown}); use another folder, "
                             "or --force to replace that run.")


def check_config(run_dir: str | Path, config: dict[str, Any]) -> None:
    """Refuse (:class:`RunFolderError`) a run folder that holds a run of another configuration than ``config``, or
    run files without a configuration: what :func:`prepare_run` checks first, and ``spiqgan train`` before its
    timed first step."""
    run_dir = Path(run_dir)
    config = json.loads(json.dumps(config))  # as it reads back from config.json
    config_file = run_dir / CONFIG_FILE
    if config_file.is_file():
        try:
            saved = json.loads(config_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RunFolderError(f"{config_file} is not readable JSON ({exc}); use --force to replace the run, "
                                 "or another folder.") from None
        _refuse_changed_circuit(run_dir, saved.get("model") if isinstance(saved, dict) else None, config.get("model"))
        _refuse_other(run_dir, _differences(saved, config))
    elif any((run_dir / name).exists() for name in RUN_FILES):
        raise RunFolderError(f"{run_dir} holds run files without {CONFIG_FILE}; use another folder, or --force to "
                             "replace them.")


def prepare_run(model: Any, run_dir: str | Path, config: dict[str, Any], *, force: bool = False) -> tuple[Any, bool]:
    """Check ``run_dir`` against this run's ``config``; return ``(model, resume)``.

    ``config`` is what :func:`train_run` writes to ``config.json``. The same
    configuration with a last checkpoint: that checkpoint's model and
    ``resume=True``. Another configuration: :class:`RunFolderError` naming the
    options that differ, or with ``force`` the folder's run files are removed
    and the run starts anew. A checkpoint that cannot be read raises its
    :class:`~spiqgan.io.checkpoint.CheckpointError` (see the module docstring).
    """
    from spiqgan.models.registry import load_model

    run_dir = Path(run_dir)
    config_file, checkpoint = run_dir / CONFIG_FILE, run_dir / CHECKPOINT_LAST
    if force:
        clear_run(run_dir)
        return model, False
    check_config(run_dir, config)
    if not checkpoint.is_file():
        return model, False
    try:
        saved_model = load_model(checkpoint)
    except CheckpointError as exc:
        raise CheckpointError(f"{exc} The run cannot continue from it: delete {checkpoint} to start the run over "
                              "(or use --force).") from exc
    if saved_model.get_params() != model.get_params():
        raise RunFolderError(f"{checkpoint} was written with other hyperparameters than {config_file} says; use "
                             "--force to replace the run.")
    return saved_model, True


def train_run(
    model: Any,
    train_windows: np.ndarray,
    test_windows: np.ndarray,
    test_repeats: np.ndarray,
    run_dir: str | Path,
    *,
    train_starts: np.ndarray | None = None,
    data_info: dict[str, Any] | None = None,
    progress: bool = True,
    figures: bool = True,
    force: bool = False,
    log_stream: IO[str] | None = None,
    on_results: Callable[[Any, dict[str, Evaluation]], None] | None = None,
    estimated: bool = False,
) -> tuple[Any, dict[str, Evaluation]]:
    """Train ``model`` on ``train_windows`` in ``run_dir``; evaluate on the held-out windows.

    ``model``: any model of :mod:`spiqgan.models` (one fitted in one call has no intermediate
    checkpoints, best step or snapshots). ``train_starts``: each training window's start bin in
    its repeat, for a model that follows the stimulus (``model.uses_stimulus_time``).

    A folder that holds a checkpoint of the same configuration is resumed
    from it; another configuration is refused unless ``force`` (see the module
    docstring). The folder is locked while the run uses it. ``log_stream``:
    where progress and status lines go (standard error by default).
    ``on_results(model, evaluations)`` is called once the evaluations are
    written (JSON and text) and before any figure is drawn, so that a failure
    while drawing cannot lose them. ``estimated``: the caller has said what the
    fit will take (the command line's cost line), so the progress line does not
    give a second estimate.

    Returns the trained model (the resumed one when the run continued) and the
    evaluations (``"last"`` and, when it differs, ``"best"``).
    """
    import sys

    run_dir = Path(run_dir)
    stream = log_stream if log_stream is not None else sys.stderr
    params = model.resolved_params()
    config = {"data": data_info or {}, "model": params}
    with run_lock(run_dir):
        model, resume = prepare_run(model, run_dir, config, force=force)
        if resume:
            done = model.finished_
            stream.write(f"finished run found in {run_dir}; evaluating it again\n" if done else
                         f"resumed at step {model.n_steps_} from {run_dir / CHECKPOINT_LAST}\n")
            stream.flush()
        write_json(run_dir / CONFIG_FILE, config)
        flat = np.asarray(train_windows).reshape(len(train_windows), -1)
        write_json(run_dir / WINDOWS_FILE, {"training_windows": int(flat.shape[0]),
                                            "distinct_training_windows": int(len(np.unique(flat, axis=0))),
                                            "held_out_windows": int(len(test_windows))})

        def on_eval(m: Any) -> None:
            m.save(run_dir / CHECKPOINT_LAST)
            if m.best_step_ is not None and m.best_step_ == m.n_steps_:
                m.save(run_dir / CHECKPOINT_BEST)
            extra = tuple(k for k in (m.history_[0] if m.history_ else {}) if k not in HISTORY_FIELDS)  # e.g. mmd2
            write_csv(run_dir / "metrics.csv", m.history_, HISTORY_FIELDS + extra)

        with Progress(model.progress_steps(), label="step ", enabled=progress, stream=log_stream,
                      estimate=not estimated) as bar:
            model.fit(train_windows, starts=train_starts, progress=bar, on_eval=on_eval, resume=resume)

        n_eval = test_windows.shape[0]
        results: dict[str, Evaluation] = {}
        samples: dict[str, np.ndarray] = {}
        which_list = ["last"] + (["best"] if model.best_step_ is not None and model.best_step_ != model.n_steps_
                                 else [])
        if "best" not in which_list and (run_dir / "evaluation_best").exists():
            shutil.rmtree(run_dir / "evaluation_best")  # of an earlier state of this run: the best is now the last
        if judged_by_moments(model):  # no classical samples: the moment table and the held-out MMD
            if progress:
                stream.write(f"evaluating the fitted circuit from expectation values on {n_eval} held-out windows ...\n")
                stream.flush()
            results["last"] = evaluate_moments(model, test_windows, test_repeats, train=train_windows, seed=params["seed"])
            save_evaluation(results["last"], None, test_windows, _evaluation_dir(run_dir, "last"), figures=False,
                            metadata={**(data_info or {}), "generator": "last", "step": model.n_steps_})
            which_list = []
        for which in which_list:
            if progress:
                stream.write(f"evaluating the {which} generator on {n_eval} held-out windows ...\n")
                stream.flush()
            likelihood = likelihood_arguments(model, test_windows) if which == "last" else {}
            results[which], samples[which], drawn = evaluate_model(
                model, test_windows, test_repeats, sample_seed=params["seed"] + 10, which=which, seed=params["seed"],
                **likelihood)
            step = model.n_steps_ if which == "last" else model.best_step_
            save_evaluation(results[which], samples[which], test_windows, _evaluation_dir(run_dir, which),
                            figures=False, metadata={**(data_info or {}), "generator": which, "step": step,
                                                          "generated": drawn})
            if "log_likelihood" in likelihood:  # per held-out window, for paired comparisons (spiqgan compare)
                write_npy(run_dir / LOG_LIKELIHOOD_FILE, np.asarray(likelihood["log_likelihood"], dtype=np.float64))
        if on_results is not None:
            on_results(model, results)
        if figures:
            _run_figures(model, params, train_windows, test_windows, run_dir, results, samples, data_info)
    return model, results


def _evaluation_dir(run_dir: Path, which: str) -> Path:
    return run_dir / ("evaluation" if which == "last" else "evaluation_best")


def _run_figures(model: Any, params: dict[str, Any], train_windows: np.ndarray, test_windows: np.ndarray,
                 run_dir: Path, results: dict[str, Evaluation], samples: dict[str, np.ndarray],
                 data_info: dict[str, Any] | None) -> None:
    from spiqgan.evaluation import plotting

    for which, ev in results.items():
        if which not in samples:  # judged from expectation values: no windows to draw
            continue
        step = model.n_steps_ if which == "last" else model.best_step_
        title = f"{params.get('model', type(model).__name__)}, {which} generator (step {step}) vs held-out data"
        save_evaluation_figures(ev, samples[which], test_windows, _evaluation_dir(run_dir, which), title=title)
    if model.history_:
        save_figure(plotting.plot_training(model.history_), run_dir / "training.png")
    t, n = train_windows.shape[1:]
    if "start" in model.KEEPS and n * t <= DEFAULT_JS_MAX_BITS:
        n_snap = 2000  # enough windows for the pattern distributions; the rasters show 500 bins
        snaps = {"start (step 0)": model.sample(n_snap, seed=params["seed"] + 20, which="start")}
        if model.best_step_ is not None and model.best_step_ != model.n_steps_:
            snaps[f"best (step {model.best_step_})"] = model.sample(n_snap, seed=params["seed"] + 20, which="best")
        last = f"end (step {model.n_steps_})" + (", best" if model.best_step_ == model.n_steps_ else "")
        snaps[last] = model.sample(n_snap, seed=params["seed"] + 20, which="last")
        save_figure(plotting.plot_snapshots(train_windows, snaps), run_dir / "snapshots.png")
