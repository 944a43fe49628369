"""Held-out NLL and its bootstrap intervals: by hand, coverage at the nominal rate, power, and in the reports."""

from __future__ import annotations

import numpy as np
import pytest

from spiqgan.evaluation.likelihood import bootstrap_means, compare_nll, held_out_nll
from spiqgan.exceptions import DataError

#: synthetic truths: independent neurons with these spike probabilities (t = 1, n = 4)
P_TRUE = np.array([0.1, 0.3, 0.05, 0.5])
P_NEAR = np.array([0.11, 0.3, 0.05, 0.5])  # a planted small difference: KL(P_TRUE || P_NEAR) = 7.6e-4 bits


def _log_probs(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.where(x == 1, np.log(p), np.log1p(-p)).sum(-1)


def _entropy_bits(p: np.ndarray) -> float:
    return float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)).sum())


def _cross_entropy_bits(p: np.ndarray, q: np.ndarray) -> float:
    return float(-(p * np.log2(q) + (1 - p) * np.log2(1 - q)).sum())


def _draw(rng: np.random.Generator, repeats: int = 40, per_repeat: int = 50) -> tuple[np.ndarray, np.ndarray]:
    x = (rng.random((repeats * per_repeat, 4)) < P_TRUE).astype(np.uint8)
    return x, np.repeat(np.arange(repeats), per_repeat)


def test_the_score_by_hand():
    log_probs = np.log([0.5, 0.25, 0.125, 0.5])
    score = held_out_nll(log_probs, np.array([0, 0, 1, 1]), n_timesteps=2, n_neurons=3, n_boot=200)
    assert score.bits_per_window == pytest.approx(7 / 4) and score.bits_per_bin == pytest.approx(7 / 8)
    assert score.n_repeats == 2 and score.n_windows == 4
    # two repeats of means 1.5 and 2: every resampled mean is 1.5, 1.75 or 2
    assert 1.5 <= score.low <= score.bits_per_window <= score.high <= 2.0
    assert "held-out NLL 1.7500 bits per window" in score.line()


def test_bootstrap_resamples_whole_repeats():
    values = np.array([1.0, 1.0, 5.0])  # repeat 0: two windows of 1, repeat 1: one window of 5
    means = bootstrap_means(values, np.array([3, 3, 8]), n_boot=400, seed=1)
    # draws: {0, 0} -> 1, {1, 1} -> 5, {0, 1} -> (1 + 1 + 5) / 3
    np.testing.assert_allclose(np.unique(means.round(12)), [1.0, 7 / 3, 5.0])
    assert means.shape == (400,)


def test_the_interval_covers_the_true_cross_entropy_at_the_nominal_rate():
    """200 synthetic held-out sets of 40 repeats from a known truth: the 95 % interval of the true model's NLL
    covers the truth's entropy, and that of another model its cross-entropy, about 95 % of the time."""
    rng = np.random.default_rng(0)
    covered = np.zeros(2)
    trials = 200
    for i in range(trials):
        x, reps = _draw(rng)
        for k, (q, truth) in enumerate([(P_TRUE, _entropy_bits(P_TRUE)), (P_NEAR, _cross_entropy_bits(P_TRUE, P_NEAR))]):
            score = held_out_nll(_log_probs(x, q), reps, n_timesteps=1, n_neurons=4, n_boot=500, seed=i)
            covered[k] += score.low <= truth <= score.high
    rate = covered / trials
    # binomial sd at 0.95 and 200 trials: 0.015; the percentile bootstrap runs a little narrow on 40 repeats
    assert np.all(rate > 0.89) and np.all(rate <= 1.0), rate


def test_the_paired_difference_covers_the_true_kl_and_finds_a_planted_difference():
    """NLL(near) - NLL(true) has expectation KL(true || near): the paired interval covers it at about the nominal
    rate, and with enough held-out data it excludes 0 (the planted difference is found)."""
    rng = np.random.default_rng(1)
    kl = _cross_entropy_bits(P_TRUE, P_NEAR) - _entropy_bits(P_TRUE)
    trials, covered = 200, 0
    for i in range(trials):
        x, reps = _draw(rng)
        d = compare_nll(_log_probs(x, P_NEAR), _log_probs(x, P_TRUE), reps, names=("near", "true"), n_boot=500, seed=i)
        covered += d.low <= kl <= d.high
    assert covered / trials > 0.89
    x, reps = _draw(rng, repeats=200, per_repeat=500)  # 100,000 windows
    d = compare_nll(_log_probs(x, P_NEAR), _log_probs(x, P_TRUE), reps, names=("near", "true"))
    assert d.verdict == "true better" and d.low > 0
    same = compare_nll(_log_probs(x, P_TRUE), _log_probs(x, P_TRUE), reps, names=("a", "b"))
    assert same.verdict == "level" and same.difference == 0


def test_pairing_narrows_the_interval():
    """Both models see the same resampled repeats: what the repeats share cancels in the difference."""
    rng = np.random.default_rng(2)
    x, reps = _draw(rng)
    a, b = _log_probs(x, P_NEAR), _log_probs(x, P_TRUE)
    d = compare_nll(a, b, reps)
    sa, sb = held_out_nll(a, reps, n_timesteps=1, n_neurons=4), held_out_nll(b, reps, n_timesteps=1, n_neurons=4)
    assert (d.high - d.low) < 0.2 * min(sa.high - sa.low, sb.high - sb.low)


@pytest.mark.parametrize("call, match", [
    (lambda: held_out_nll(np.zeros(3), np.arange(4), n_timesteps=1, n_neurons=1), "repeats has 4 entries for 3"),
    (lambda: held_out_nll(np.array([np.nan]), None, n_timesteps=1, n_neurons=1), "NaN"),
    (lambda: compare_nll(np.zeros(3), np.zeros(4)), "scored 3 and 4 windows"),
])
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(DataError, match=match):
        call()


def test_evaluate_reports_the_nll_where_a_log_likelihood_is_given():
    from spiqgan.evaluation.scoring import evaluate

    rng = np.random.default_rng(3)
    x, reps = _draw(rng, repeats=10, per_repeat=100)
    windows = x[:, None, :]
    generated = (rng.random((1000, 1, 4)) < P_TRUE).astype(np.uint8)
    plain = evaluate(generated, windows, reference_repeats=reps, n_draws=2)
    assert plain.likelihood is None and "held-out NLL" not in plain.table()
    ev = evaluate(generated, windows, reference_repeats=reps, n_draws=2, log_likelihood=_log_probs(x, P_TRUE))
    assert ev.likelihood.bits_per_window == pytest.approx(-_log_probs(x, P_TRUE).mean() / np.log(2))
    assert ev.likelihood.n_repeats == 10 and "held-out NLL" in ev.table()
    assert ev.to_dict()["likelihood"]["method"] == "exact"
    with pytest.raises(DataError, match="log_likelihood has 3 values for 1000 reference windows"):
        evaluate(generated, windows, reference_repeats=reps, n_draws=2, log_likelihood=np.zeros(3))
