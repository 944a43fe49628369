"""Long fits survive kills: a run killed (SIGKILL) at a named point resumes and ends bit-identical to one never killed.

Each case runs ``spiqgan train`` in a subprocess with checkpoints at every chance
(``SPIQGAN_CHECKPOINT_EVERY_S=0``) and ``SPIQGAN_FAULT_AT=phase:k`` (a kill right after the k-th
checkpoint of that phase), reruns the same command, and compares the final checkpoint with an
uninterrupted run's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from spiqgan.models import load_model
from spiqgan.training.lbfgs import ResumableLBFGS

CASES = {
    # the default model (cry Born machine with memory): L-BFGS chunks, then the rate-calibration rounds
    "default, during L-BFGS": (["--neurons", "0-4", "--timesteps", "3"], "lbfgs:2"),
    "default, during calibration": (["--neurons", "0-4", "--timesteps", "3"], "calibrate:2"),
    # K-pairwise fitted by Boltzmann learning (the fit beyond max_exact neurons), Adam and Gibbs chains
    "K-pairwise, Gibbs fit": (["--model", "kpairwise", "--neurons", "0-4", "--max-exact", "3", "--steps", "300"],
                              "gibbs:3"),
    # the RBM (exact likelihood, L-BFGS in chunks over all its parameters)
    "RBM, L-BFGS": (["--model", "rbm", "--neurons", "0-5", "--timesteps", "2", "--hidden", "4"], "lbfgs:3"),
    # a classical WGAN (Adam on generator and critic, a torch random stream)
    # the stimulus-locked temporal DG (its latent correlations solved one lag after another)
    "DG, lags": (["--model", "dg", "--neurons", "0-4", "--timesteps", "4"], "lags:2"),
    # an IQP circuit over the whole window (Adam on an MMD estimate: operators, estimator samples, batches)
    "IQP window, Adam": (["--model", "iqp-window", "--neurons", "0-4", "--timesteps", "3", "--steps", "12"], "adam:5"),
    "WGAN": (["--model", "wgan-mlp", "--neurons", "0-3", "--timesteps", "2", "--steps", "300"], "wgan:2"),
}


def _history(model) -> list[dict]:
    """The fit's history without wall-clock times, NaN (a field the model does not record) as None."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items() if k != "seconds"}
            for row in model.history_]


def _train(args: list[str], out, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPIQGAN_CHECKPOINT_EVERY_S": "0", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "spiqgan", "train", *args, "--out", str(out), "--no-figures",
                           "--no-progress", "--threads", "1"], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("case", list(CASES))
def test_a_killed_fit_resumes_bit_identical(case, tmp_path):
    args, fault = CASES[case]
    clean = _train(args, tmp_path / "clean")
    assert clean.returncode == 0, clean.stderr
    killed = _train(args, tmp_path / "killed", {"SPIQGAN_FAULT_AT": fault})
    assert killed.returncode == -9, killed.stderr  # killed as kill -9 would
    partial = load_model(tmp_path / "killed" / "checkpoints" / "last.safetensors")
    assert not partial.finished_ and partial.n_steps_ > 0
    again = _train(args, tmp_path / "killed")
    assert again.returncode == 0, again.stderr
    assert f"resumed at step {partial.n_steps_} from" in again.stderr
    a = load_model(tmp_path / "clean" / "checkpoints" / "last.safetensors")
    b = load_model(tmp_path / "killed" / "checkpoints" / "last.safetensors")
    state_a, state_b = a._state(), b._state()  # every fitted array (a WGAN's: its generator's weights)
    assert state_a and set(state_a) == set(state_b)
    for k, v in state_a.items():
        np.testing.assert_array_equal(np.asarray(state_b[k]), np.asarray(v), err_msg=k)
    assert _history(a) == _history(b)
    finished = _train(args, tmp_path / "killed")  # a finished run is evaluated again, never refitted
    assert "finished run found" in finished.stderr and "resumed" not in finished.stderr


def _problem(chunk: int, max_iter: int, max_eval: int, tol: float):
    torch.manual_seed(0)
    a, b = torch.randn(40, 8, dtype=torch.float64), torch.randn(40, dtype=torch.float64)
    w = torch.nn.Parameter(torch.zeros(8, dtype=torch.float64))
    opt = ResumableLBFGS([w], max_iter=max_iter, max_eval=max_eval, tol=tol, chunk=chunk)
    records: list[float] = []

    def closure() -> torch.Tensor:
        opt.opt.zero_grad()
        loss = torch.nn.functional.softplus(a @ w - b).sum() + 0.01 * (w ** 4).sum()
        loss.backward()
        if not opt.repeat:
            records.append(float(loss.detach()))
        return loss.detach()

    return w, opt, closure, records


@pytest.mark.parametrize("max_iter, max_eval, tol", [(200, 250, 1e-12), (6, 1000, 0.0), (100, 9, 0.0)])
@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_chunked_lbfgs_is_one_call_bit_for_bit(max_iter, max_eval, tol, chunk):
    """Converged, stopped by the iteration budget, stopped by the evaluation budget: the chunks reach the same
    parameters and evaluate the same points as one step() call with the whole budget; and a state saved after
    a chunk continues the same way in a new optimizer."""
    w1, opt1, closure1, rec1 = _problem(10 ** 9, max_iter, max_eval, tol)
    opt1.run(closure1)
    w2, opt2, closure2, rec2 = _problem(chunk, max_iter, max_eval, tol)
    saved = {}

    def stop_after_first(opt: ResumableLBFGS) -> None:
        if not saved:
            saved["state"], saved["w"], saved["records"] = opt.state(), w2.detach().clone(), list(rec2)

    opt2.run(closure2, stop_after_first)
    assert torch.equal(w2, w1) and rec2 == rec1
    if saved:
        w3, opt3, closure3, rec3 = _problem(chunk, max_iter, max_eval, tol)
        with torch.no_grad():
            w3.copy_(saved["w"])
        rec3.extend(saved["records"])
        opt3.restore(*saved["state"])
        opt3.run(closure3)
        assert torch.equal(w3, w1) and rec3 == rec1
