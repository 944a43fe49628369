"""Sweeps: the grid file, running it resumably and loss-free, and the results table."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch

from spiqgan.cli import main
from spiqgan.exceptions import DataError
from spiqgan.experiments.sweep import load_sweep, parse_sweep, run_status
from spiqgan.experiments.executors import LocalExecutor, execute_run, run_sweep

#: tiny runs on the built-in synthetic data: a few seconds each
FIXED = dict(steps=4, eval_every=2, js_windows=100, batch_size=64, noise_samples=4)


def _sweep(**grid):
    return parse_sweep({"fixed": dict(FIXED), "grid": grid or {"n_neurons": [2, 3], "timesteps": [1, 2]}})


def _rows(path):
    return list(csv.DictReader(open(path)))


def test_the_grid_expands_in_file_order_with_readable_names():
    sweep = parse_sweep({"fixed": {"steps": 5}, "grid": {"n_neurons": [2, 4], "loss": ["k", "standard"],
                                                         "seed": [0, 1]}})
    runs = sweep.runs()
    assert len(runs) == 8
    assert runs[0].name == "n_neurons-2_loss-k_seed-0" and runs[-1].name == "n_neurons-4_loss-standard_seed-1"
    assert runs[1].options == {"steps": 5, "n_neurons": 2, "loss": "k", "seed": 1}


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"grid": {"n_neurons": [2]}, "extra": 1}, "unknown tables or keys"),
        ({"grid": {"n_neurons": [2], "learning_rate": [0.1]}}, "unknown option 'learning_rate'"),
        ({"fixed": {"repeat_length": 953}, "grid": {"n_neurons": [2]}}, "is a data option"),
        ({"data": {"path": 3}, "grid": {"n_neurons": [2]}}, "wrong type"),
        ({"data": {"pth": "x.mat"}, "grid": {"n_neurons": [2]}}, "unknown data option 'pth'"),
        ({"grid": {"n_neurons": 2}}, "must be a non-empty list"),
        ({"grid": {"n_neurons": []}}, "must be a non-empty list"),
        ({"grid": {"n_neurons": [2, 2]}}, "lists a value twice"),
        ({"fixed": {"seed": 0}, "grid": {"n_neurons": [2], "seed": [1]}}, "both fixed and in the grid"),
        ({"fixed": {"neurons": "0-3"}, "grid": {"n_neurons": [2]}}, "not both"),
        ({"grid": {"timesteps": [1]}}, "say which neurons"),
        ({"fixed": {"steps": [1, 2]}, "grid": {"n_neurons": [2]}}, "is not a single value"),
    ],
)
def test_bad_sweep_files_are_refused_with_the_reason(raw, message):
    with pytest.raises(DataError, match=message):
        parse_sweep(raw)


def test_the_command_line_reports_a_bad_sweep_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nn_neurons = [2]\nsteps = 'many'\n[fixed]\nlr = 1\n")
    assert main(["sweep", "--config", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spiqgan: error:") and "unknown option 'lr'" in err and "Traceback" not in err
    bad.write_text("[grid\n")
    assert main(["sweep", "--config", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_a_relative_data_path_is_relative_to_the_sweep_file(tmp_path):
    (tmp_path / "s.toml").write_text('[data]\npath = "data/x.npy"\n[grid]\nn_neurons = [2]\n')
    assert load_sweep(tmp_path / "s.toml").data["path"] == str((tmp_path / "data" / "x.npy").resolve())


@pytest.mark.slow
def test_a_sweep_runs_every_run_once_and_a_second_call_redoes_nothing(tmp_path):
    sweep = _sweep()
    log = io.StringIO()
    rows = run_sweep(sweep, tmp_path, executor=LocalExecutor(2), figures=False, stream=log)
    assert [r["status"] for r in rows] == ["done"] * 4
    table = _rows(tmp_path / "results.csv")
    assert [r["run"] for r in table] == [p.name for p in sweep.runs()]
    assert all(float(r["js_divergence_ratio"]) > 0 for r in table if r["timesteps"] == "1")
    assert "[4/4 done, 0 failed]" in log.getvalue()
    for plan in sweep.runs():
        run_dir = tmp_path / "runs" / plan.name
        result = json.loads((run_dir / "result.json").read_text())
        assert result["options"] == plan.options and result["metrics"]["steps"] == 4
        assert "step 4/4" in (run_dir / "train.log").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/*/result.json")}
    log = io.StringIO()
    run_sweep(sweep, tmp_path, executor=LocalExecutor(1), figures=False, stream=log)
    assert "4 already done, 0 to run" in log.getvalue()
    assert stamps == {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/*/result.json")}


def test_another_sweep_in_the_same_folder_is_refused(tmp_path):
    run_sweep(_sweep(n_neurons=[2]), tmp_path, executor=LocalExecutor(1), figures=False, stream=io.StringIO())
    with pytest.raises(Exception, match="holds a different sweep"):
        run_sweep(_sweep(n_neurons=[3]), tmp_path, executor=LocalExecutor(1), figures=False, stream=io.StringIO())


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(
        "[fixed]\n" + "".join(f"{k} = {v}\n" for k, v in FIXED.items())
        + "[grid]\nn_neurons = [2]\nlr_generator = [0.01, -1.0]\n")
    assert main(["sweep", "--config", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"), "--workers", "1",
                 "--no-figures"]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 runs done" in out and "lr_generator must be a positive number" in out
    table = {r["run"]: r for r in _rows(tmp_path / "out" / "results.csv")}
    assert table["n_neurons-2_lr_generator-0.01"]["status"] == "done"
    failed = table["n_neurons-2_lr_generator--1.0"]
    assert failed["status"] == "failed" and "lr_generator" in failed["error"]
    error = json.loads((tmp_path / "out" / "runs" / "n_neurons-2_lr_generator--1.0" / "error.json").read_text())
    assert "ConfigError" in error["error"] and "Traceback" in error["traceback"]


def test_a_killed_run_continues_from_its_checkpoint_exactly(tmp_path, monkeypatch):
    """Killed after its step-2 checkpoint, the run resumes there and ends as the uninterrupted run does."""
    from spiqgan import progress
    from spiqgan.experiments.runs import load_run

    plan = _sweep(n_neurons=[3], timesteps=[2]).runs()[0]
    straight = execute_run(plan, {}, tmp_path / "a", 1, False)
    assert straight["status"] == "done" and not straight["resumed"]

    update = progress.Progress.update

    def killed_at_step_3(self, step, **fields):
        if step == 3:
            raise KeyboardInterrupt  # what a kill looks like to the run: not an error to record
        update(self, step, **fields)

    monkeypatch.setattr(progress.Progress, "update", killed_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        execute_run(plan, {}, tmp_path / "b", 1, False)
    run_dir = tmp_path / "b" / "runs" / plan.name
    assert run_status(run_dir) == "partial" and not (run_dir / "error.json").exists()
    monkeypatch.setattr(progress.Progress, "update", update)
    again = execute_run(plan, {}, tmp_path / "b", 1, False)
    assert again["status"] == "done" and again["resumed"]
    assert "resumed at step 2" in (run_dir / "train.log").read_text()
    a, b = load_run(tmp_path / "a" / "runs" / plan.name), load_run(run_dir)
    assert torch.equal(a.generator_.rotations, b.generator_.rotations)
    assert json.loads((run_dir / "result.json").read_text())["metrics"] == \
        json.loads((tmp_path / "a" / "runs" / plan.name / "result.json").read_text())["metrics"]


def test_a_truncated_checkpoint_fails_the_run_every_time_until_deleted(tmp_path):
    """One rule: a corrupt checkpoint is never replaced silently (it used to restart from step 0 on the 2nd rerun)."""
    from spiqgan.experiments.runs import CHECKPOINT_LAST

    plan = _sweep(n_neurons=[3], timesteps=[2]).runs()[0]
    assert execute_run(plan, {}, tmp_path, 1, False)["status"] == "done"
    run_dir = tmp_path / "runs" / plan.name
    (run_dir / "result.json").unlink()  # as if killed after the checkpoint
    ckpt = run_dir / CHECKPOINT_LAST
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    for _ in range(2):
        outcome = execute_run(plan, {}, tmp_path, 1, False)
        assert outcome["status"] == "failed" and "delete" in outcome["error"] and str(ckpt) in outcome["error"]
        assert ckpt.stat().st_size == 200
    ckpt.unlink()
    assert execute_run(plan, {}, tmp_path, 1, False)["status"] == "done"


@pytest.mark.slow
def test_a_dask_sweep_survives_a_killed_worker(tmp_path):
    """A scheduler and two worker processes on loopback; one worker is killed while both are mid-run.

    The sweep still completes, with every run's result present exactly once.
    """
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    pytest.importorskip("distributed")
    from spiqgan.experiments.executors import DaskExecutor

    # the CLI modules run in this interpreter's process itself (no shim in between), so a kill is a real kill
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker"]
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([*scheduler, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], stderr=subprocess.DEVNULL)]
    try:
        for _ in range(300):
            if sched_file.exists():
                break
            time.sleep(0.1)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        workers = [subprocess.Popen([*worker, "--scheduler-file", str(sched_file), "--nthreads", "1",
                                     "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
                                    stderr=subprocess.DEVNULL, env=env) for _ in range(2)]
        procs += workers
        sweep = parse_sweep({"fixed": {**FIXED, "steps": 400, "eval_every": 10},
                             "grid": {"n_neurons": [2, 3], "timesteps": [1, 2]}})
        executor = DaskExecutor(str(sched_file))
        executor.client.wait_for_workers(2, timeout=60)
        pids = executor.client.run(os.getpid)  # worker address -> process id
        out = tmp_path / "sweep"
        rows: list = []
        thread = threading.Thread(target=lambda: rows.extend(
            run_sweep(sweep, out, executor=executor, figures=False, stream=io.StringIO())))
        thread.start()
        # wait for a run that has written a checkpoint and is still going, then kill the worker running it
        victim = None
        for _ in range(1200):
            # metrics.csv is rewritten with each checkpoint, one row per step: past step 10, a real checkpoint
            running = [m.parent.name for m in out.glob("runs/*/metrics.csv")
                       if len(m.read_text().splitlines()) > 12 and not (m.parent / "result.json").exists()]
            if running:
                victim = running[0]
                break
            time.sleep(0.05)
        assert victim is not None
        owner = [w for w, keys in executor.client.processing().items()
                 if any(k.startswith(f"spiqgan-{victim}-") for k in keys)]
        os.kill(pids[owner[0]], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
        executor.close()
        assert [r["status"] for r in rows] == ["done"] * 4
        table = _rows(out / "results.csv")
        assert sorted(r["run"] for r in table) == sorted(p.name for p in sweep.runs())
        assert len(list(out.glob("runs/*/result.json"))) == 4
        for plan in sweep.runs():
            result = json.loads((out / "runs" / plan.name / "result.json").read_text())
            assert result["metrics"]["steps"] == 400 and result["resumed"] == (plan.name == victim)
        # the killed run went on from its checkpoint on the other worker
        resumed = [line for line in (out / "runs" / victim / "train.log").read_text().splitlines()
                   if line.startswith("resumed at step")]
        assert len(resumed) == 1 and int(resumed[0].split()[3].rstrip(":")) >= 10
    finally:
        for p in procs:
            p.kill()
            p.wait()


@pytest.mark.parametrize("name", ["quick", "paper"])
def test_the_shipped_sweep_files_parse(name):
    from pathlib import Path

    sweep = load_sweep(Path(__file__).resolve().parents[2] / "sweeps" / f"{name}.toml")
    assert len(sweep.runs()) == {"quick": 8, "paper": 60}[name]
    assert all(r.options["preset"] == "paper" for r in sweep.runs())


@pytest.mark.slow
def test_the_quick_sweep_runs_from_the_command_line(tmp_path, capsys):
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / "sweeps" / "quick.toml"
    assert main(["sweep", "--config", str(config), "--out", str(tmp_path), "--workers", "2", "--no-figures"]) == 0
    assert "8 of 8 runs done" in capsys.readouterr().out
    table = _rows(tmp_path / "results.csv")
    assert len(table) == 8 and {r["status"] for r in table} == {"done"}
    assert {r["loss"] for r in table} == {"k", "standard"}
    # the report: the paper's summary figures, the K-minus-standard table, and one page
    assert main(["report", str(tmp_path)]) == 0
    report = tmp_path / "report"
    for name in ("error_vs_neurons.png", "error_vs_timesteps.png", "loss_difference.png", "ratios_n2.png",
                 "ratios_n4.png", "patterns_n2_t1.png", "patterns_n4_t1.png"):
        assert (report / name).stat().st_size > 1000
    diff = {(r["n_neurons"], r["timesteps"]): r for r in _rows(report / "loss_difference.csv")}
    assert set(diff) == {("2", "1"), ("2", "2"), ("4", "1"), ("4", "2")}
    by = {(r["n_neurons"], r["timesteps"], r["loss"]): float(r["firing_rate_error"]) for r in table}
    assert float(diff[("4", "2")]["firing_rate_error_k_minus_standard"]) == pytest.approx(
        by[("4", "2", "k")] - by[("4", "2", "standard")], rel=1e-6)
    page = (report / "index.html").read_text()
    assert "8 runs: 8 done, 0 failed" in page and all(r["run"] in page for r in table)
    assert "<img src='loss_difference.png'" in page


def test_report_aggregation():
    from spiqgan.experiments.sweep_report import loss_difference, mean_by

    rows = [dict(status="done", n_neurons=2, timesteps=1, loss="k", seed=0, e=1.0),
            dict(status="done", n_neurons=2, timesteps=1, loss="k", seed=1, e=3.0),
            dict(status="done", n_neurons=2, timesteps=1, loss="standard", seed=0, e=5.0),
            dict(status="done", n_neurons=4, timesteps=1, loss="k", seed=0, e=7.0),
            dict(status="failed", n_neurons=4, timesteps=1, loss="standard", seed=0, e=None),
            dict(status="done", n_neurons=4, timesteps=1, loss="standard", seed=1, e=float("nan"))]
    assert mean_by(rows, ("n_neurons", "loss"), "e") == {(2, "k"): 2.0, (2, "standard"): 5.0, (4, "k"): 7.0}
    assert loss_difference(rows, "e") == {(2, 1): -3.0}  # (4, 1) has no finished standard-loss run


def test_report_of_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "is not a sweep folder (no sweep.json)" in capsys.readouterr().err


def test_a_sweep_script_without_the_main_guard_names_the_cause(tmp_path):
    """The Python API's sweep example, saved and run without `if __name__ == "__main__":`, failed every run with a
    bare "worker lost: BrokenProcessPool"; the error now says what to do."""
    import subprocess
    import sys

    script = tmp_path / "ex.py"
    script.write_text(
        "from spiqgan.experiments.sweep import parse_sweep\n"
        "from spiqgan.experiments.executors import LocalExecutor, run_sweep\n"
        "sweep = parse_sweep({'data': {}, 'fixed': {'neurons': '0-1', 'model': 'bernoulli'}, "
        "'grid': {'timesteps': [1, 2]}})\n"
        f"run_sweep(sweep, {str(tmp_path / 'out')!r}, executor=LocalExecutor(2))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert 'a sweep must sit under `if __name__ == "__main__":`' in done.stdout + done.stderr
