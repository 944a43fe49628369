"""Aer sampling draws an independent random stream per job (the steps of a window come from several jobs)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from scipy.stats import chi2  # noqa: E402

from spiqgan.cli import main  # noqa: E402
from spiqgan.models import load_model  # noqa: E402


def test_windows_from_several_jobs_follow_the_exact_distribution(tmp_path):
    """`--memory 0 --history 0` at t = 3: one circuit per step, so each window takes its steps from three Aer
    jobs. With one seed for every job, a neuron spiked at steps 0 and 1 in 10 % of windows against 1.4 %
    exactly; now the fraction and a chi-square over the window patterns agree with the exact distribution."""
    run = tmp_path / "run"
    assert main(["train", "--neurons", "0-3", "--timesteps", "3", "--memory", "0", "--history", "0", "--out",
                 str(run), "--no-figures", "--no-progress"]) == 0
    out = tmp_path / "aer.npy"
    assert main(["sample", str(run), "--windows", "20000", "--seed", "11", "--backend", "aer", "--out",
                 str(out)]) == 0
    aer = np.load(out)
    model = load_model(run / "checkpoints" / "last.safetensors")
    codes = np.arange(2 ** 12)
    every = ((codes[:, None] >> np.arange(11, -1, -1)) & 1).astype(np.uint8).reshape(-1, 3, 4)
    p = np.exp(model.log_likelihood(every))
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    both = (every[:, 0] & every[:, 1]).any(1)  # some neuron spikes at steps 0 and 1
    exact, seen = float(p[both].sum()), float((aer[:, 0] & aer[:, 1]).any(1).mean())
    assert abs(seen - exact) < 5 * np.sqrt(exact * (1 - exact) / len(aer)), (seen, exact)
    # chi-square over the patterns expected at least 5 times, the rest pooled
    index = (aer.reshape(len(aer), -1).astype(np.int64) << np.arange(11, -1, -1)).sum(1)
    counts = np.bincount(index, minlength=2 ** 12)
    expected = p * len(aer)
    big = expected >= 5
    observed = np.append(counts[big], counts[~big].sum())
    wanted = np.append(expected[big], expected[~big].sum())
    statistic = float(((observed - wanted) ** 2 / wanted).sum())
    assert chi2.sf(statistic, len(observed) - 1) > 1e-4, statistic
    again = tmp_path / "again.npy"
    assert main(["sample", str(run), "--windows", "20000", "--seed", "11", "--backend", "aer", "--out",
                 str(again)]) == 0
    np.testing.assert_array_equal(np.load(again), aer)  # streams derived from --seed: reproducible
