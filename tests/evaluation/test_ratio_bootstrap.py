"""Intervals of error / noise floor over bootstrap replicates of the held-out repeats, paired across models."""

from __future__ import annotations

import numpy as np
import pytest

from spiqgan.evaluation.scoring import STATISTICS, bootstrap_ratios, evaluate
from spiqgan.exceptions import DataError

P = np.array([[0.05, 0.1, 0.2], [0.08, 0.12, 0.15]])


def _windows(count: int, p: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.random((count, p.shape[0], 1)) < 0.3
    return ((rng.random((count,) + p.shape) < p) | (common & (rng.random((count,) + p.shape) < 0.3))).astype(np.uint8)


@pytest.fixture(scope="module")
def judged():
    ref = _windows(2000, P, 0)
    reps = np.arange(2000) // 50  # 40 repeats
    generated = {"truth": _windows(20000, P, 1), "truth again": _windows(20000, P, 2),
                 "too active": _windows(20000, 1.6 * P, 3)}
    return ref, reps, generated, bootstrap_ratios(generated, ref, reps, n_boot=60, seed=0)


def test_a_wrong_model_is_worse_than_the_truth_and_two_samples_of_the_truth_are_level(judged):
    ref, reps, generated, boot = judged
    assert boot.n_boot == 60 and boot.n_repeats == 40
    for stat in ("firing_rate", "k_probability", "spike_count"):
        assert boot.verdict("truth", "too active", stat) == "truth better", stat
        low, high = boot.difference("truth", "too active", stat)
        assert low <= high < 0
    # two samples of one model differ by their own sampling noise, which resampling the held-out repeats does not
    # see: without it in the replicates, they were "better" than each other on firing rate and autocorrelogram
    levels = [boot.verdict("truth", "truth again", s) for s, _, _ in STATISTICS]
    assert levels.count("level") >= len([v for v in levels if v != "n/a"]) - 1, levels


def test_the_intervals_hold_the_evaluations_ratios(judged):
    ref, reps, generated, boot = judged
    for model in ("truth", "too active"):
        ev = evaluate(generated[model], ref, reference_repeats=reps, seed=0)
        for row in ev.rows:
            interval = boot.interval(model, row.statistic)
            if row.ratio is None:
                assert interval is None
                continue
            low, high = interval
            assert low <= high and low < row.ratio * 1.5 and row.ratio < high * 1.5, (model, row.statistic)


def test_paired_differences_are_narrower_than_the_models_own_intervals(judged):
    _, _, _, boot = judged
    d_low, d_high = boot.difference("truth", "truth again", "covariance")
    a_low, a_high = boot.interval("truth", "covariance")
    assert d_high - d_low < a_high - a_low


def test_bad_input_is_one_clear_error():
    ref = _windows(200, P, 0)
    with pytest.raises(DataError, match="reference_repeats has 3 entries"):
        bootstrap_ratios({"a": ref}, ref, np.arange(3))
    with pytest.raises(DataError, match="no generated windows"):
        bootstrap_ratios({}, ref, np.arange(200) // 10)
    with pytest.raises(DataError, match=r"\(t, n\)"):
        bootstrap_ratios({"a": ref[:, :1]}, ref, np.arange(200) // 10)
