"""The classical models: exact fits against enumeration, Monte Carlo against exact, DG against scipy, WGANs, I/O."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spiqgan.models.base import ModelConfigError
from spiqgan.models.classical.bernoulli import IndependentBernoulli
from spiqgan.models.classical.dg import DichotomizedGaussian
from spiqgan.models.classical.maxent import Ising, KPairwise
from spiqgan.models.registry import load_model, make_model, model_params
from spiqgan.models.classical.dg import bivariate_orthant, latent_correlation
from spiqgan.models.classical.maxent import all_patterns, gibbs_sweep, pattern_features
from spiqgan.exceptions import SpiqganError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "salamander-retina"


def correlated_windows(n_windows: int, t: int, n: int, seed: int = 0) -> np.ndarray:
    """Sparse windows with shared input across neurons and memory across steps (a DG-like toy)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n_windows, 1, 1)) + 0.6 * rng.standard_normal((n_windows, t, 1))
    z = -1.3 + 0.7 * common + 0.7 * rng.standard_normal((n_windows, t, n)) + np.linspace(-0.4, 0.4, n)
    return (z > 0).astype(np.uint8)


# ----------------------------------------------------------------------------------- Bernoulli
def test_bernoulli_fit_is_the_empirical_probability_per_time_step_and_neuron(tiny_windows):
    model = IndependentBernoulli().fit(tiny_windows)
    np.testing.assert_array_equal(model.probabilities_, [[0.5, 0.5], [1.0, 1.0], [0.5, 0.5]])
    assert model.n_parameters == 6


def test_bernoulli_sample_is_seeded_and_matches_probabilities():
    x = correlated_windows(4000, 2, 3)
    model = IndependentBernoulli().fit(x)
    a = model.sample(20000, seed=3)
    np.testing.assert_array_equal(a, model.sample(20000, seed=3))
    assert a.dtype == np.uint8 and a.shape == (20000, 2, 3)
    # binomial standard error <= 0.0036 at 20000 draws
    np.testing.assert_allclose(a.mean(axis=0), model.probabilities_, atol=0.015)


def test_unfitted_model_says_so():
    with pytest.raises(SpiqganError, match="not fitted yet"):
        IndependentBernoulli().sample(3)


# ------------------------------------------------------------------------------ maximum entropy
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


# ------------------------------------------------------------------------ dichotomized Gaussian
def test_bivariate_orthant_matches_scipy():
    from scipy.stats import multivariate_normal

    for a, b, rho in [(-1.75, -1.75, 0.3), (-1.75, -2.0, 0.95), (0.5, -1.0, -0.9), (-2.0, -2.0, 0.998), (1, 1, 0)]:
        ref = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([a, b])
        assert bivariate_orthant(a, b, rho) == pytest.approx(ref, abs=1e-7)


def test_latent_correlation_inverts_the_orthant_probability():
    rho = np.array([-0.5, 0.0, 0.2, 0.8])
    target = bivariate_orthant(-1.2, -1.6, rho)
    np.testing.assert_allclose(latent_correlation(-1.2, -1.6, target), rho, atol=1e-6)


def test_dg_reproduces_rates_and_pairwise_moments_static_and_temporal():
    x = correlated_windows(20000, 3, 4)
    for temporal in (False, True):
        model = DichotomizedGaussian(temporal=temporal).fit(x)
        s = model.sample(60000, seed=0).astype(float)
        rate = x.mean((0, 1))
        np.testing.assert_allclose(s.mean((0, 1)), rate, atol=0.01)
        same_bin = np.einsum("wsi,wsj->ij", s, s) / (s.shape[0] * 3)
        np.testing.assert_allclose(same_bin, np.einsum("wsi,wsj->ij", x.astype(float), x) / (x.shape[0] * 3),
                                   atol=0.01)
        lag1 = np.einsum("wi,wj->ij", s[:, 0], s[:, 1]) / len(s)
        lag1_data = np.einsum("wi,wj->ij", x[:, 0].astype(float), x[:, 1]) / len(x)
        if temporal:
            np.testing.assert_allclose(lag1, lag1_data, atol=0.01)
        else:  # static: the next bin is independent
            np.testing.assert_allclose(lag1, np.outer(s[:, 0].mean(0), s[:, 1].mean(0)), atol=0.01)
        assert model.n_parameters == 4 + 6 + (2 * 16 if temporal else 0)


# --------------------------------------------------------------------------------------- WGANs
@pytest.mark.parametrize("name", ["wgan-mlp", "wgan-conv"])
def test_wgan_learns_the_rate_and_is_seeded(name):
    x = correlated_windows(2000, 2, 3)
    a = make_model(name, 3, 2, steps=300, batch_size=128, size=16).fit(x)
    b = make_model(name, 3, 2, steps=300, batch_size=128, size=16).fit(x)
    np.testing.assert_array_equal(a.sample(500, seed=1), b.sample(500, seed=1))
    s = a.sample(20000, seed=2)
    before = make_model(name, 3, 2, steps=1, size=16).fit(x).sample(20000, seed=2)
    # 300 steps bring the spike count near the data's (about 1.1 per window), from about 3 at the start
    assert abs(s.sum((1, 2)).mean() - x.sum((1, 2)).mean()) < 0.5 * abs(before.sum((1, 2)).mean() - x.sum((1, 2)).mean())
    assert len(a.history_) == 300 and a.n_steps_ == 300


@pytest.mark.parametrize("name", ["wgan-mlp", "wgan-conv"])
def test_wgan_matched_size_is_closest_to_spiqgan(name):
    from spiqgan.models.gan import SpiQGAN

    x = correlated_windows(300, 2, 3)
    target = SpiQGAN(3, 2).count_parameters()
    model = make_model(name, 3, 2, steps=1, batch_size=64).fit(x)
    counts = [make_model(name, 3, 2, steps=1, batch_size=64, size=s).fit(x).n_parameters
              for s in (model.size_ - 1, model.size_ + 1) if s >= 1]
    assert all(abs(model.n_parameters - target) <= abs(c - target) for c in counts)


# ------------------------------------------------------------------------------ registry and I/O
@pytest.mark.parametrize("name", ["bernoulli", "ising", "kpairwise", "dg", "wgan-mlp", "wgan-conv"])
def test_save_and_load_give_the_same_samples(name, tmp_path):
    x = correlated_windows(500, 2, 3)
    options = {"steps": 5, "batch_size": 32} if name.startswith("wgan") else {}
    model = make_model(name, 3, 2, **options).fit(x)
    path = model.save(tmp_path / "m.safetensors")
    again = load_model(path)
    assert type(again) is type(model) and again.n_parameters == model.n_parameters
    np.testing.assert_array_equal(again.sample(300, seed=4), model.sample(300, seed=4))


def test_make_model_errors_are_clear():
    with pytest.raises(ModelConfigError, match="does not take 'n_layers'"):
        make_model("ising", 3, 1, n_layers=2)
    with pytest.raises(ModelConfigError, match="unknown model 'boltzmann'"):
        make_model("boltzmann", 3, 1)
    with pytest.raises(ModelConfigError, match="takes none"):
        make_model("dg", 3, 1, preset="paper")
    with pytest.raises(ModelConfigError, match="size must be"):
        make_model("wgan-mlp", 3, 1, size=0).fit(correlated_windows(10, 1, 3))
    with pytest.raises(ModelConfigError, match=r"\(t, n\) = \(1, 3\)"):
        make_model("dg", 4, 1).fit(correlated_windows(10, 1, 3))
    assert "preset" in model_params("spiqgan") and "temporal" in model_params("dg")


def test_make_model_builds_spiqgan_with_its_presets():
    from spiqgan.models.gan import SpiQGAN

    m = make_model("spiqgan", 3, 2, preset="paper")
    assert isinstance(m, SpiQGAN) and m.batch_size == 32
    assert make_model("qce2023", 3, 1, preset="qce2023").model == "qce2023"
    assert make_model("spiqgan", 3, 1, preset="qce2023").model == "qce2023"


# --------------------------------------------------------------- K-pairwise on the shared recording
@pytest.mark.skipif(not (SHARED / "k_pairwise_samples_40_neurons.mat").is_file(), reason="needs ../shared data")
def test_kpairwise_fit_matches_the_published_kpairwise_samples_at_n10():
    from spiqgan.evaluation.scoring import evaluate
    from spiqgan.data.loaders import load_dataset, load_samples

    data = load_dataset(SHARED / "recording_40_neurons.mat", repeat_length=953).select_neurons("0-9").windows(1)
    published = load_samples(SHARED / "k_pairwise_samples_40_neurons.mat", data_n_neurons=40, selection="0-9",
                             timesteps=1)
    ours = KPairwise().fit(data).sample(len(published), seed=1)
    ratio = {r.statistic: r.ratio for r in evaluate(ours, published, seed=0).rows}
    # the same firing rates and covariances as the published samples, within the noise floor
    assert ratio["firing_rate"] < 1.5 and ratio["covariance"] < 1.5 and ratio["js_divergence"] < 1.5
    # and the data's k-probability, which the published 40-neuron model's marginal misses
    to_data = {r.statistic: r.ratio for r in evaluate(ours, data, seed=0).rows}
    published_to_data = {r.statistic: r.ratio for r in evaluate(published, data, seed=0).rows}
    assert to_data["k_probability"] < 1.5 < published_to_data["k_probability"]
