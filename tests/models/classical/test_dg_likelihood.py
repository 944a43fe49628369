"""The dichotomized Gaussian's held-out likelihood: GHK orthant probabilities against independent references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from classical_helpers import locked_truth

from spiqgan.data.raster import SpikeRaster
from spiqgan.models.classical.dg import DichotomizedGaussian, orthant_log_probability

PATTERNS = np.array(list(itertools.product([0, 1], repeat=4)))
CORR = np.array([[1.0, 0.5, 0.2, -0.1], [0.5, 1.0, 0.4, 0.2], [0.2, 0.4, 1.0, 0.6], [-0.1, 0.2, 0.6, 1.0]])
MEANS = np.array([[-0.8, -0.2, -1.1, -0.5], [0.3, -1.4, -0.6, -0.9]])
WEIGHTS = np.array([0.3, 0.7])


def scipy_orthant(x: np.ndarray, mean: np.ndarray, corr: np.ndarray) -> float:
    """P(sign(mean + w) = 2x - 1), w ~ N(0, corr), by scipy's (Genz's) multivariate normal CDF."""
    s = np.where(x, 1.0, -1.0)
    flip = corr * np.outer(s, s)  # P(-s w < s mean)
    return float(multivariate_normal(np.zeros(len(s)), flip, abseps=1e-10, releps=1e-6, maxpts=10 ** 6).cdf(s * mean))


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    one = np.log([scipy_orthant(x, MEANS[0], CORR) for x in PATTERNS])
    mix = np.log([sum(w * scipy_orthant(x, m, CORR) for w, m in zip(WEIGHTS, MEANS)) for x in PATTERNS])
    return {"one": one, "mixture": mix}


@pytest.mark.parametrize("case", ["one", "mixture"])
def test_ghk_estimates_match_scipy_with_calibrated_errors(reference, case):
    means, weights = (MEANS[0], None) if case == "one" else (MEANS, WEIGHTS)
    z = []
    for seed in range(25):
        log_p, var, bias = orthant_log_probability(PATTERNS, means, CORR, weights=weights, draws=300, seed=seed)
        assert np.all(bias <= 0) and np.allclose(var, -2 * bias)
        z.append((log_p - reference[case]) / np.sqrt(var))
    z = np.concatenate(z)  # 25 seeds x 16 patterns
    assert 0.6 < np.mean(z ** 2) < 1.5, np.mean(z ** 2)
    assert abs(np.mean(z)) < 0.2, np.mean(z)


def test_independent_units_are_exact_and_probabilities_sum_to_one():
    from scipy.special import log_ndtr

    mean = np.array([-0.5, 0.2, -1.3])
    pats = PATTERNS[:8, 1:]
    log_p, var, _ = orthant_log_probability(pats, mean, np.eye(3), draws=5, seed=0)
    exact = np.where(pats, log_ndtr(mean), log_ndtr(-mean)).sum(1)
    np.testing.assert_allclose(log_p, exact, atol=1e-12)
    assert np.all(var < 1e-20)
    log_p, var, _ = orthant_log_probability(PATTERNS, MEANS, CORR, weights=WEIGHTS, draws=2000, seed=1)
    p = np.exp(log_p)
    assert abs(p.sum() - 1) < 4 * np.sqrt(np.sum(p ** 2 * var))


def test_orthant_estimates_refuse_mismatched_shapes_and_too_few_draws():
    with pytest.raises(ValueError, match="need means"):
        orthant_log_probability(PATTERNS, MEANS[0, :3], CORR)
    with pytest.raises(ValueError, match="at least 2"):
        orthant_log_probability(PATTERNS, MEANS[0], CORR, draws=1)


def locked_windows(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """t = 2, n = 2 windows of a stimulus-driven toy recording, with their start bins."""
    rng = np.random.default_rng(seed)
    n_rep, n_bins = 40, 12
    drive = -1.0 + 0.8 * np.sin(np.arange(n_bins))[:, None] + 0.2 * rng.standard_normal((n_bins, 2))
    common = rng.standard_normal((n_rep, n_bins, 1))
    z = drive + 0.6 * common + 0.8 * rng.standard_normal((n_rep, n_bins, 2))
    raster = SpikeRaster((z > 0).astype(np.uint8).reshape(-1, 2), repeat_length=n_bins)
    return raster.windows(2, return_starts=True)


@pytest.mark.parametrize("locked,temporal", [(True, True), (True, False), (False, True)])
def test_dg_likelihood_matches_the_frequencies_of_its_own_samples(locked, temporal):
    """The window probabilities the estimate gives are those its sampler draws (mixture over start bins,
    time structure, bit order): checked against the empirical frequencies of 2 million samples."""
    w, starts = locked_windows()
    model = DichotomizedGaussian(stimulus_locked=locked, temporal=temporal).fit(w, starts=starts)
    pats = PATTERNS.reshape(16, 2, 2)
    est = model.estimate_log_likelihood(pats, draws=4000)
    assert est.method.startswith("orthant probabilities (GHK)")
    assert ("stimulus start bins" in est.method) == locked
    sample = model.sample(2_000_000, seed=3).reshape(-1, 4)
    codes = sample @ (1 << np.arange(3, -1, -1))
    freq = np.bincount(codes, minlength=16) / len(codes)
    p = np.exp(est.log_probs)
    means, corr, weights = model._window_gaussian()
    _, var, _ = orthant_log_probability(PATTERNS, means, corr, weights=weights, draws=4000, seed=(0, 0))
    se = np.sqrt(p ** 2 * var + p * (1 - p) / len(codes))
    z = (p - freq) / se
    assert np.max(np.abs(z)) < 4.5, z
    assert abs(p.sum() - 1) < 0.01


def test_dg_shared_error_counts_repeated_windows_and_default_draws_favour_frequent_ones():
    w, starts = locked_windows()
    model = DichotomizedGaussian().fit(w, starts=starts)
    draws = model.likelihood_draws(np.array([90, 5, 5]))
    assert draws[0] == np.ceil(model.LIKELIHOOD_DRAWS * 3 * 0.9) and draws[1] == model.LIKELIHOOD_DRAWS
    est = model.estimate_log_likelihood(w)
    assert est.shared_se > 0 and est.bias <= 0
    again = model.estimate_log_likelihood(w)
    np.testing.assert_array_equal(est.log_probs, again.log_probs)  # seeded
    other = model.estimate_log_likelihood(w, seed=1)
    assert not np.array_equal(est.log_probs, other.log_probs)


def test_dg_likelihood_is_na_where_the_orthants_are_too_costly(monkeypatch):
    w, starts = locked_windows()
    model = DichotomizedGaussian().fit(w, starts=starts)
    assert model.likelihood_unavailable(w) is None
    monkeypatch.setattr(DichotomizedGaussian, "LIKELIHOOD_WORK", 10.0)
    assert model.likelihood_draws(np.array([3, 4])) is None
    assert model.estimate_log_likelihood(w) is None
    # the report says n/a and why
    from spiqgan.evaluation.scoring import evaluate
    from spiqgan.experiments.runs import likelihood_arguments

    args = likelihood_arguments(model, w)
    assert set(args) == {"likelihood_note"} and "orthant probabilities in 4 dimensions" in args["likelihood_note"]
    ev = evaluate(model.sample(len(w), seed=0), w, **args)
    assert ev.likelihood is None and "held-out NLL: n/a (orthant probabilities in 4 dimensions" in ev.table()
    assert ev.to_dict()["likelihood_note"] == args["likelihood_note"]


def test_default_eigenvalue_floor_keeps_the_latent_gaussian_away_from_degenerate():
    """A stimulus-driven toy population at t = 8: the pooled lagged targets admit no joint Gaussian. Clipped at
    1e-6 (the old default) the repaired matrix kept directions of almost no variance and held-out windows that
    cross them got a log-probability of thousands of nats; at the default floor the held-out NLL is that of a
    model of these windows (``python benchmarks/dg_floor.py``: on the recording at (10, 10), 1500-4300 bits
    per window at 1e-6, 10-17 at 0.1, the statistics unchanged)."""
    x = locked_truth(60, 40, 4, seed=1)
    train, test = SpikeRaster(x, repeat_length=40).split()
    w, starts = train.windows(8, return_starts=True)
    held = test.windows(8)
    model = DichotomizedGaussian().fit(w, starts=starts)
    assert model.eigenvalue_floor == 0.1
    assert np.linalg.eigvalsh(model.correlation_).min() > 0.05
    nll = -model.estimate_log_likelihood(held, draws=300).log_probs.mean()
    old = DichotomizedGaussian(eigenvalue_floor=1e-6).fit(w, starts=starts)
    nll_old = -old.estimate_log_likelihood(held, draws=300).log_probs.mean()
    assert nll < 8 * 4 * np.log(2) < 100 < nll_old, (nll, nll_old)  # below the 32 bits of a coin per unit


def test_eigenvalue_floor_is_checked():
    from spiqgan.models.base import ModelConfigError

    for bad in (0, -0.1, 1.0, "0.1"):
        with pytest.raises(ModelConfigError, match="eigenvalue_floor"):
            DichotomizedGaussian(eigenvalue_floor=bad).fit(np.zeros((10, 1, 2), dtype=np.uint8))
