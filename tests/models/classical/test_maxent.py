"""Ising and K-pairwise: exact fits against enumeration, Monte Carlo against exact, the published samples."""

from __future__ import annotations

import numpy as np
import pytest

from classical_helpers import correlated_windows
from spiqgan.models.classical.maxent import Ising, KPairwise, all_patterns, gibbs_sweep, pattern_features


def test_pattern_features_by_hand():
    x = np.array([[1, 0, 1], [1, 1, 1]])
    # x0 x1 x2 | x0x1 x0x2 x1x2 | k=1 k=2 k=3
    np.testing.assert_array_equal(pattern_features(x, True), [[1, 0, 1, 0, 1, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0, 1]])
    assert pattern_features(x, False).shape == (2, 6)
    assert all_patterns(3).tolist()[5] == [1, 0, 1]


@pytest.mark.parametrize("cls", [Ising, KPairwise])
def test_exact_fit_reproduces_the_data_moments(cls):
    x = correlated_windows(3000, 1, 5)
    model = cls(l2=1e-9, tol=1e-12).fit(x)
    q = model.probabilities()
    F = pattern_features(all_patterns(5), cls.k_potential)
    data = pattern_features(x[:, 0], cls.k_potential).mean(0)
    # maximum likelihood of an exponential family: model moments = data moments
    np.testing.assert_allclose(q @ F, data, atol=2e-4)
    assert model.n_parameters == 5 + 10 + (3 if cls is KPairwise else 0)


def test_kpairwise_reproduces_the_spike_count_distribution_that_ising_misses():
    x = correlated_windows(5000, 1, 6, seed=2)
    k_data = np.bincount(x.sum((1, 2)), minlength=7) / len(x)
    k_of = {}
    for cls in (Ising, KPairwise):
        model = cls().fit(x)
        k_of[cls] = model.probabilities() @ (all_patterns(6).sum(1)[:, None] == np.arange(7))
    assert np.abs(k_of[KPairwise] - k_data).max() < 1e-3
    assert np.abs(k_of[Ising] - k_data).max() > 3 * np.abs(k_of[KPairwise] - k_data).max()


def test_gibbs_sampler_draws_the_exact_distribution():
    x = correlated_windows(3000, 1, 4)
    model = KPairwise().fit(x)
    rng = np.random.default_rng(0)
    draws = model.gibbs_samples(40000, rng)
    freq = np.bincount(draws.astype(np.int64) @ (1 << np.arange(4)), minlength=16) / len(draws)
    tv = 0.5 * np.abs(freq - model.probabilities()).sum()
    assert tv < 0.02  # 16 cells, 40000 correlated draws: sampling TV is about 0.01


def test_monte_carlo_fit_agrees_with_the_exact_fit():
    x = correlated_windows(4000, 1, 5, seed=1)
    exact = KPairwise().fit(x)
    mc = KPairwise(max_exact=1, steps=1500, mc_chains=2000, seed=0).fit(x)  # forces Gibbs learning
    p_exact = exact.probabilities()
    F = pattern_features(all_patterns(5), True)
    draws = mc.sample(60000, seed=1)[:, 0]
    moments_mc = pattern_features(draws, True).mean(0)
    np.testing.assert_allclose(moments_mc, p_exact @ F, atol=0.01)
    assert mc.progress_steps() == 1500


def test_gibbs_sweep_leaves_a_single_unit_at_its_conditional():
    # one neuron, field h: P(x = 1) = sigmoid(h)
    x = np.zeros((200000, 1), dtype=np.uint8)
    gibbs_sweep(x, np.array([0.7]), np.zeros((1, 1)), np.zeros(2), np.random.default_rng(0))
    assert abs(x.mean() - 1 / (1 + np.exp(-0.7))) < 0.005


def test_maxent_windows_are_independent_patterns():
    x = correlated_windows(3000, 3, 4)
    s = Ising().fit(x).sample(30000, seed=0).astype(float)
    lag1 = np.mean(s[:, 0] * s[:, 1]) - s[:, 0].mean() * s[:, 1].mean()
    assert abs(lag1) < 0.003 and s.shape == (30000, 3, 4)


@pytest.mark.parametrize("cls", [Ising, KPairwise])
def test_likelihood_is_the_normalized_weight_per_bin(cls):
    x = correlated_windows(2000, 2, 4)
    model = cls().fit(x)
    probs = model.probabilities()
    idx = (x * 2 ** np.arange(4)).sum(-1)  # the index of each bin's pattern in all_patterns: neuron i is bit i
    np.testing.assert_allclose(model.log_likelihood(x), np.log(probs[idx]).sum(1), rtol=1e-12)
    beyond = cls(max_exact=3, steps=2, mc_chains=10, burn_in=1).fit(x)  # past enumeration: AIS (test_maxent_ais.py)
    assert beyond.likelihood_method() == "ais" and beyond.likelihood_shared_se() > 0


def test_kpairwise_fit_matches_the_published_kpairwise_samples_at_n10(recording_path, k_pairwise_path):
    from spiqgan.evaluation.scoring import evaluate
    from spiqgan.data.loaders import load_dataset, load_samples

    data = load_dataset(recording_path, repeat_length=953).select_neurons("0-9").windows(1)
    published = load_samples(k_pairwise_path, data_n_neurons=40, selection="0-9", timesteps=1)
    ours = KPairwise().fit(data).sample(len(published), seed=1)
    ratio = {r.statistic: r.ratio for r in evaluate(ours, published, seed=0).rows}
    # the same firing rates and covariances as the published samples, within the noise floor
    assert ratio["firing_rate"] < 1.5 and ratio["covariance"] < 1.5 and ratio["js_divergence"] < 1.5
    # and the data's k-probability, which the published 40-neuron model's marginal misses
    to_data = {r.statistic: r.ratio for r in evaluate(ours, data, seed=0).rows}
    published_to_data = {r.statistic: r.ratio for r in evaluate(published, data, seed=0).rows}
    assert to_data["k_probability"] < 1.5 < published_to_data["k_probability"]
