"""Running a sweep: each run trains, samples and evaluates in its own folder; executors run them in parallel.

Loss-free and resumable, whatever stops it:

* a finished run has ``result.json`` (written last, atomically) and is never redone;
* a run killed mid-way left ``checkpoints/last.safetensors`` and continues from it
  (the same steps as an uninterrupted run: see :meth:`SpiQGAN.fit`);
* a run that raised writes ``error.json`` and the sweep goes on; the next
  invocation retries it.

``SWEEP_DIR`` holds ``sweep.json`` (the plan), ``runs/<name>/`` (a
:func:`spiqgan.experiments.runs.train_run` folder plus ``train.log`` and the result) and
``results.csv`` (one row per run, rewritten as runs finish).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from spiqgan.io.atomic import write_csv, write_json
from spiqgan.exceptions import SpiqganError
from spiqgan.experiments.sweep import ERROR_FILE, RESULT_FILE, RUN_OPTIONS, RunPlan, Sweep, collect, run_status

__all__ = ["execute_run", "run_windows", "run_sweep", "write_results", "LocalExecutor", "DaskExecutor"]


@functools.lru_cache(maxsize=4)
def _raster(data_items: tuple):
    from spiqgan.data.loaders import load_dataset

    data = dict(data_items)
    # the [data] options are load_dataset's own keywords (test_fraction is the split's); its defaults apply
    return load_dataset(data.pop("path", None), **{k: v for k, v in data.items() if k != "test_fraction"})


def run_windows(options: dict[str, Any], data: dict[str, Any]):
    """A run's windows ``(train_w, test_w, test_repeats, train_starts)``: training and held-out windows, the
    held-out windows' repeats and the training windows' start bins (for a stimulus-locked model). The held-out
    repeats are those of the data's split, or block ``fold`` of ``folds`` where the options give them."""
    from spiqgan.data.raster import DEFAULT_TEST_FRACTION

    raster = _raster(tuple(sorted(data.items())))
    selection = f"0-{int(options['n_neurons']) - 1}" if "n_neurons" in options else options["neurons"]
    raster = raster.select_neurons(selection)
    t, stride = options.get("timesteps", 1), options.get("stride")
    if options.get("folds"):  # blocked cross-validation: block `fold` of the repeats held out
        train, test = raster.fold(int(options["fold"]), int(options["folds"]))
    else:
        train, test = raster.split(data.get("test_fraction", DEFAULT_TEST_FRACTION))
    test_w, test_reps = test.windows(t, stride, return_repeats=True)
    train_w, train_starts = train.windows(t, stride, return_starts=True)
    return train_w, test_w, test_reps, train_starts


def _model_and_windows(options: dict[str, Any], data: dict[str, Any]):
    from spiqgan.models.registry import make_model

    train_w, test_w, test_reps, train_starts = run_windows(options, data)
    t, n = train_w.shape[1:]
    hyper = {k: v for k, v in options.items() if k not in RUN_OPTIONS and k != "model"}
    model = make_model(options.get("model", "spiqgan"), n, t, preset=options.get("preset"), **hyper)
    return model, train_w, test_w, test_reps, train_starts


def _metrics(results: dict, model) -> dict[str, Any]:
    out: dict[str, Any] = {"n_parameters": model.n_parameters, "steps": model.n_steps_, "best_step": model.best_step_,
                           "best_js": model.best_js_}
    for which, ev in results.items():
        prefix = "" if which == "last" else "best_"
        for r in ev.rows:
            for part in ("error", "floor", "ratio"):
                out[f"{prefix}{r.statistic}_{part}"] = getattr(r, part)
        if ev.likelihood is not None:  # held-out NLL in bits per window and its interval
            score = ev.likelihood.to_dict()
            out.update({f"{prefix}nll_bits": score["bits_per_window"], f"{prefix}nll_bits_low": score["low"],
                        f"{prefix}nll_bits_high": score["high"], f"{prefix}nll_method": score["method"],
                        f"{prefix}nll_shared_se": score["shared_se"]})
    return out


def execute_run(plan: RunPlan, data: dict[str, Any], sweep_dir: str | Path, threads: int = 1,
                figures: bool = True) -> dict[str, Any]:
    """Train, sample and evaluate one run in ``SWEEP_DIR/runs/<name>``; returns ``{"name", "status", ...}``.

    Never raises for a failing run: the error goes to ``error.json`` and the
    status is ``"failed"``. A finished run is returned as it is; a killed one
    continues from its last checkpoint.
    """
    import torch

    from spiqgan.experiments.runs import train_run

    run_dir = Path(sweep_dir) / "runs" / plan.name
    if run_status(run_dir) == "done":
        return {"name": plan.name, "status": "done", "skipped": True}
    torch.set_num_threads(threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / ERROR_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        model, train_w, test_w, test_reps, train_starts = _model_and_windows(plan.options, data)
        with open(run_dir / "train.log", "a", encoding="utf-8") as log:
            log.write(f"run {plan.name}\n")
            log.flush()
            # a killed run continues from its checkpoint (train_run); a corrupt one fails, every time
            trained, results = train_run(model, train_w, test_w, test_reps, run_dir, train_starts=train_starts,
                                         data_info={**data, **plan.options}, figures=figures, log_stream=log)
        resumed = trained is not model
        result = {"name": plan.name, "options": plan.options, "resumed": resumed,
                  "seconds": time.perf_counter() - start, "metrics": _metrics(results, trained)}
        write_json(run_dir / RESULT_FILE, result)
        return {"name": plan.name, "status": "done", "skipped": False, "resumed": resumed}
    except Exception as exc:  # a failing run must not stop the sweep: record it
        message = f"{type(exc).__name__}: {exc}"
        write_json(run_dir / ERROR_FILE, {"name": plan.name, "options": plan.options, "error": message,
                                          "traceback": traceback.format_exc()})
        return {"name": plan.name, "status": "failed", "error": message}


def _lost(job: tuple, exc: BaseException) -> dict[str, Any]:
    """The outcome of a run whose worker died before it could report (killed, out of memory)."""
    hint = ""
    if type(exc).__name__ == "BrokenProcessPool":
        hint = (" (a worker process died at start or while running: run from a script, a sweep must sit under "
                "`if __name__ == \"__main__\":`, since each worker imports the script; else the worker ran out of "
                "memory or was killed)")
    return {"name": job[0].name, "status": "failed", "error": f"worker lost: {type(exc).__name__}: {exc}{hint}"}


class LocalExecutor:
    """Runs on this machine: ``workers`` processes (default: every core), one torch thread each.

    ``map(fn, jobs)`` yields ``fn(*job)`` for every job (``job[0]`` a :class:`RunPlan`)
    in the order they finish; a job whose worker died yields a ``"failed"`` outcome.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def map(self, fn: Callable[..., dict], jobs: list[tuple]) -> Iterator[dict[str, Any]]:
        if self.workers == 1:
            for job in jobs:
                yield fn(*job)
            return
        # spawn: a fresh interpreter per worker, safe with torch's thread pools
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(fn, *job): job for job in jobs}
            for fut in as_completed(futures):
                try:
                    yield fut.result()
                except Exception as exc:  # BrokenProcessPool and the like: the run is retried next time
                    yield _lost(futures[fut], exc)


class DaskExecutor:
    """Runs on a Dask distributed cluster (the optional extra ``spiqgan[dask]``).

    ``address``: a scheduler address (``"tcp://host:8786"``) or a scheduler file
    (``dask scheduler --scheduler-file F``); ``None`` starts a ``LocalCluster`` of
    ``workers`` single-threaded processes on this machine. Or pass a ``client``,
    e.g. of a dask-jobqueue ``SLURMCluster``. Runs go to whichever worker is
    free; when a worker dies its runs are rescheduled on the others (Dask's
    ``allowed-failures``), and resume from their checkpoints there.
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None, client: Any = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise SpiqganError("the Dask executor needs the dask extra: pip install 'spiqgan[dask]'.") from exc
        self._own = client is None
        if client is not None:
            self.client = client
        elif address is None:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
            self.client = Client(cluster)
        elif Path(address).is_file():
            self.client = Client(scheduler_file=address)
        else:
            self.client = Client(address)

    def map(self, fn: Callable[..., dict], jobs: list[tuple]) -> Iterator[dict[str, Any]]:
        from distributed import as_completed as dask_completed

        # pure=False: a run is a side effect on the sweep folder, never a cached value
        tag = uuid.uuid4().hex[:8]  # keys unique to this call: other sweeps may share the scheduler
        futures = {self.client.submit(fn, *job, key=f"spiqgan-{job[0].name}-{tag}", pure=False): job for job in jobs}
        for fut in dask_completed(list(futures)):
            try:
                yield fut.result()
            except Exception as exc:  # KilledWorker after repeated worker deaths: retried next invocation
                yield _lost(futures[fut], exc)

    def close(self) -> None:
        if self._own:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()


def write_results(sweep: Sweep, sweep_dir: str | Path) -> Path:
    """``SWEEP_DIR/results.csv``: one row per run of the plan (options, status, metrics), written atomically."""
    rows = collect(sweep, sweep_dir)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    return write_csv(Path(sweep_dir) / "results.csv", rows, fields)


def run_sweep(sweep: Sweep, sweep_dir: str | Path, *, executor: Any | None = None, figures: bool = True,
              stream: IO[str] | None = None) -> list[dict[str, Any]]:
    """Run every run of ``sweep`` that is not done yet; return the rows of ``results.csv``.

    Progress: one line per finished run on ``stream`` (runs done / total, failures).
    """
    import sys

    sweep_dir = Path(sweep_dir)
    stream = stream if stream is not None else sys.stderr
    plan_file = sweep_dir / "sweep.json"
    plan = {"data": sweep.data, "fixed": sweep.fixed, "grid": sweep.grid}
    if plan_file.is_file() and json.loads(plan_file.read_text()) != plan:
        raise SpiqganError(f"{sweep_dir} holds a different sweep (see {plan_file}); use another --out folder, "
                           "or delete that one.")
    write_json(plan_file, plan)
    runs = sweep.runs()
    todo = [r for r in runs if run_status(sweep_dir / "runs" / r.name) != "done"]
    executor = executor or LocalExecutor()
    done, failed = len(runs) - len(todo), 0
    stream.write(f"sweep: {len(runs)} runs, {done} already done, {len(todo)} to run\n")
    stream.flush()
    jobs = [(r, sweep.data, str(sweep_dir), 1, figures) for r in todo]
    for outcome in executor.map(execute_run, jobs):
        if outcome["status"] == "done":
            done += 1
        else:
            failed += 1
        note = f"failed: {outcome['error']}" if outcome["status"] == "failed" else (
            "resumed" if outcome.get("resumed") else "done")
        stream.write(f"[{done}/{len(runs)} done, {failed} failed] {outcome['name']}: {note}\n")
        stream.flush()
        write_results(sweep, sweep_dir)
    write_results(sweep, sweep_dir)
    return collect(sweep, sweep_dir)
