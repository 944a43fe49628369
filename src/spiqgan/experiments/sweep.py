"""Sweeps: a grid of training runs from one TOML file, each trained, sampled and evaluated in its own folder.

A sweep file has three tables::

    [data]                      # the data options of ``spiqgan train`` (all optional)
    path = "recording_40_neurons.mat"
    repeat_length = 953

    [fixed]                     # options shared by every run
    preset = "paper"
    steps = 1000

    [grid]                      # one run per combination, in this order
    n_neurons = [2, 4, 6, 8, 10]
    timesteps = [1, 2, 5]
    loss = ["k", "standard"]
    seed = [0, 1, 2]

Run options are ``n_neurons`` (neurons ``0 .. n-1``) or ``neurons`` (a
selection such as ``"0,5,7"``), ``timesteps``, ``stride``, ``folds`` and ``fold``
(blocked cross-validation: block ``fold`` of ``folds`` contiguous blocks of
repeats held out, :meth:`spiqgan.data.raster.SpikeRaster.fold`, instead of the
default split), ``preset``, ``model``
(SpiQGAN, ``qce2023`` or a classical model of :mod:`spiqgan.models.classical`) and every
hyperparameter of those models; each may be fixed or a grid axis. A run keeps
the options its model takes, so that one grid can compare models. Data options
(:data:`DATA_OPTIONS`) go in ``[data]``.

This module is the plan: reading and checking the file (:func:`load_sweep`),
expanding the grid into named runs (:meth:`Sweep.runs`), and reading back what
the run folders hold (:func:`run_status`, :func:`collect`). Running them is
:mod:`spiqgan.experiments.executors`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spiqgan.exceptions import DataError

__all__ = ["Sweep", "RunPlan", "load_sweep", "parse_sweep", "run_status", "collect", "DATA_OPTIONS", "RUN_OPTIONS", "finite",
           "RESULT_FILE", "ERROR_FILE"]

#: options of the ``[data]`` table and their types
DATA_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "path": str, "key": str, "repeat_length": int, "bin_ms": (int, float), "layout": str, "clip": bool,
    "allow_partial_repeat": bool,
    "test_fraction": (int, float),
}
#: run options that are not hyperparameters of the model
RUN_OPTIONS = ("n_neurons", "neurons", "timesteps", "stride", "folds", "fold", "preset")

#: a finished run's result, written last and atomically: its presence means "done"
RESULT_FILE = "result.json"
#: a run that raised: the error, so that the sweep can go on and the run can be retried
ERROR_FILE = "error.json"


def _takes(model: str) -> set[str]:
    """The options a run of ``model`` uses: run options and its own hyperparameters."""
    from spiqgan.models.registry import model_params

    return (set(RUN_OPTIONS) - {"preset"}) | {"model"} | set(model_params(model))  # preset: SpiQGAN's only


@dataclass(frozen=True)
class RunPlan:
    """One run of a sweep: its folder name and every option it trains with."""

    name: str
    options: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file: data options, fixed options, and the grid axes (in file order)."""

    data: dict[str, Any]
    fixed: dict[str, Any]
    grid: dict[str, list[Any]]

    def runs(self) -> list[RunPlan]:
        """Every combination of the grid, named by its grid values (``n_neurons-4_timesteps-5_loss-k``).

        A run keeps only the options its model takes (a grid over ``model``
        can hold SpiQGAN's and the classical models' options side by side);
        combinations that then coincide are one run.
        """
        axes = list(self.grid)
        out, seen = [], set()
        for values in itertools.product(*(self.grid[a] for a in axes)):
            options = {**self.fixed, **dict(zip(axes, values))}
            takes = _takes(options.get("model", "spiqgan"))
            options = {k: v for k, v in options.items() if k in takes}
            name = "_".join(f"{a}-{_slug(options[a])}" for a in axes if a in options) or "run"
            key = (name, repr(sorted(options.items())))
            if key not in seen:
                seen.add(key)
                out.append(RunPlan(name, options))
        names = [r.name for r in out]
        if len(set(names)) != len(names):
            raise DataError("two runs of the grid have the same name: grid values must differ after "
                            "turning them into folder names (letters, digits, '.', '-').")
        return out


def _slug(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text) or "none"


def _check_value(where: str, key: str, value: Any) -> None:
    if isinstance(value, (dict, list)):
        raise DataError(f"{where}: {key} = {value!r} is not a single value.")


def parse_sweep(raw: dict[str, Any], source: str = "sweep file") -> Sweep:
    """Check a sweep's tables (as read from TOML) and return the :class:`Sweep`.

    Raises :class:`DataError` naming the offending key and what would fix it.
    """
    unknown_tables = set(raw) - {"data", "fixed", "grid"}
    if unknown_tables:
        raise DataError(f"{source}: unknown tables or keys {sorted(unknown_tables)} at the top level; a sweep has "
                        "[data], [fixed] and [grid].")
    for table in ("data", "fixed", "grid"):
        if not isinstance(raw.get(table, {}), dict):
            raise DataError(f"{source}: {table} must be a table ([{table}]).")
    data, fixed, grid = (dict(raw.get(t, {})) for t in ("data", "fixed", "grid"))
    for key, value in data.items():
        if key not in DATA_OPTIONS:
            raise DataError(f"{source}: unknown data option {key!r}; known: {', '.join(DATA_OPTIONS)}.")
        kind = DATA_OPTIONS[key]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise DataError(f"{source}: data option {key} = {value!r} has the wrong type.")
    from spiqgan.models.registry import MODEL_NAMES, is_model_name

    models = grid.get("model", [fixed.get("model", "spiqgan")])
    for model in models if isinstance(models, list) else [models]:
        if not is_model_name(model):
            raise DataError(f"{source}: unknown model {model!r}; known: {', '.join(MODEL_NAMES)}, or FILE.py:NAME "
                            "(a circuit of yours).")
    # an option must be one that some model of the sweep takes
    known = set().union(*(_takes(m) for m in models))
    for where, table in (("[fixed]", fixed), ("[grid]", grid)):
        for key in table:
            if key in DATA_OPTIONS:
                raise DataError(f"{source} {where}: {key!r} is a data option; put it in the [data] table.")
            if key not in known:
                raise DataError(f"{source} {where}: unknown option {key!r} for model {', '.join(models)}; known: "
                                f"{', '.join(sorted(known))}.")
    for key, value in fixed.items():
        _check_value(f"{source} [fixed]", key, value)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise DataError(f"{source} [grid]: {key} must be a non-empty list of values, got {values!r}.")
        for v in values:
            _check_value(f"{source} [grid]", key, v)
        if len(set(map(repr, values))) != len(values):
            raise DataError(f"{source} [grid]: {key} lists a value twice.")
    both = set(fixed) & set(grid)
    if both:
        raise DataError(f"{source}: {sorted(both)} both fixed and in the grid; keep one.")
    chosen = set(fixed) | set(grid)
    if "n_neurons" in chosen and "neurons" in chosen:
        raise DataError(f"{source}: give n_neurons (neurons 0 .. n-1) or neurons (a selection), not both.")
    if "n_neurons" not in chosen and "neurons" not in chosen:
        raise DataError(f"{source}: say which neurons: n_neurons (neurons 0 .. n-1) or neurons ('0-3', '0,5,7').")
    if ("fold" in chosen) != ("folds" in chosen):
        raise DataError(f"{source}: give folds (how many blocks of repeats) and fold (which one is held out) together.")
    folds = fixed.get("folds", 2)
    if "folds" in grid or isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise DataError(f"{source}: folds must be one fixed integer of at least 2, got {grid.get('folds', folds)!r}.")
    for fold in grid.get("fold", [fixed.get("fold", 0)]):
        if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < folds:
            raise DataError(f"{source}: fold must be an integer in 0 .. {folds - 1} (folds = {folds}), got {fold!r}.")
    return Sweep(data, fixed, grid)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file (TOML)."""
    from spiqgan.data.loaders import read_toml

    path = Path(path)
    raw = read_toml(path, "sweep file")
    sweep = parse_sweep(raw, str(path))
    data_path = sweep.data.get("path")
    if data_path is not None and not Path(data_path).is_absolute():
        # relative to the sweep file, so that a sweep folder can be moved with its data
        sweep = Sweep({**sweep.data, "path": str((path.parent / data_path).resolve())}, sweep.fixed, sweep.grid)
    return sweep


def finite(v: Any) -> bool:
    """Whether a metric of a results row is a finite number (not missing, None or NaN)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def run_status(run_dir: str | Path) -> str:
    """``"done"`` (a result), ``"failed"`` (an error), ``"partial"`` (a checkpoint, killed mid-run) or ``"new"``."""
    from spiqgan.experiments.runs import CHECKPOINT_LAST

    run_dir = Path(run_dir)
    if (run_dir / RESULT_FILE).is_file():
        return "done"
    if (run_dir / ERROR_FILE).is_file():
        return "failed"
    if (run_dir / CHECKPOINT_LAST).is_file():
        return "partial"
    return "new"


def collect(sweep: Sweep, sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per run of the plan: its options, status, and for finished runs every metric of its result."""
    sweep_dir = Path(sweep_dir)
    rows = []
    for plan in sweep.runs():
        run_dir = sweep_dir / "runs" / plan.name
        row: dict[str, Any] = {"run": plan.name, **plan.options, "status": run_status(run_dir)}
        if row["status"] == "done":
            row.update(json.loads((run_dir / RESULT_FILE).read_text())["metrics"])
        elif row["status"] == "failed":
            row["error"] = json.loads((run_dir / ERROR_FILE).read_text())["error"]
        rows.append(row)
    return rows
