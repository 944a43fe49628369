"""The stimulus-locked dichotomized Gaussian: its solver, its fit to a known truth, its errors and old checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from classical_helpers import locked_truth

from spiqgan.data.raster import SpikeRaster
from spiqgan.models.base import ModelConfigError
from spiqgan.models.classical.dg import DichotomizedGaussian, _plackett_terms, bivariate_orthant, locked_correlation


def test_plackett_terms_give_the_orthant_probability_and_its_derivative():
    a, b = np.array([-1.7, 0.3, -2.5]), np.array([-1.2, -0.8, -2.9])
    for rho in (-0.6, 0.0, 0.45, 0.95):
        cdf, dens = _plackett_terms(a, b, np.full(3, rho))
        np.testing.assert_allclose(cdf, bivariate_orthant(a, b, rho), atol=1e-9)
        h = 1e-6
        numeric = (bivariate_orthant(a, b, rho + h) - bivariate_orthant(a, b, rho - h)) / (2 * h)
        np.testing.assert_allclose(dens, numeric, rtol=1e-5, atol=1e-10)


def test_locked_correlation_inverts_the_pooled_orthant_probability():
    rng = np.random.default_rng(1)
    a, b = rng.normal(-1.5, 0.8, (30, 5)), rng.normal(-1.5, 0.8, (30, 5))
    weights = rng.integers(1, 10, 30).astype(float)
    rho = np.array([-0.4, 0.0, 0.3, 0.7, 0.92])
    target = (weights[:, None] * bivariate_orthant(a, b, rho[None, :])).sum(0) / weights.sum()
    np.testing.assert_allclose(locked_correlation(a, b, weights, target), rho, atol=1e-7)


def test_locked_dg_reproduces_rates_per_bin_and_pooled_moments():
    x = locked_truth(120, 40, 4)
    raster = SpikeRaster(x, repeat_length=40)
    for t in (1, 4):
        w, starts = raster.windows(t, return_starts=True)
        model = DichotomizedGaussian().fit(w, starts=starts)
        s = model.sample(40 * len(w), seed=0).astype(float)
        xf = w.astype(float)
        np.testing.assert_allclose(s.mean((0, 1)), xf.mean((0, 1)), atol=0.006)
        same_bin = lambda v: np.einsum("wsi,wsj->ij", v, v) / (v.shape[0] * v.shape[1])  # noqa: E731
        np.testing.assert_allclose(same_bin(s), same_bin(xf), atol=0.006)
        if t > 1:
            lag1 = lambda v: np.einsum("wsi,wsj->ij", v[:, :-1], v[:, 1:]) / (v.shape[0] * (t - 1))  # noqa: E731
            np.testing.assert_allclose(lag1(s), lag1(xf), atol=0.006)
        assert model.n_parameters == 40 * 4 + 6 + (3 * 16 if t > 1 else 0)


def test_locked_dg_fits_the_k_probability_that_the_stationary_one_misses():
    # the measurement behind the fix: a stimulus-driven population's pooled pairwise moments admit no stationary
    # DG, and its k-probability is missed (salamander, 40 neurons: 378x the floor); following the stimulus fits it
    x = locked_truth(150, 60, 12, seed=3)
    w, starts = SpikeRaster(x, repeat_length=60).windows(1, return_starts=True)

    def k_prob(v):
        return np.bincount(v.reshape(len(v), -1).sum(1), minlength=13) / len(v)

    data = k_prob(w)
    locked = k_prob(DichotomizedGaussian().fit(w, starts=starts).sample(20 * len(w), seed=0))
    stationary = k_prob(DichotomizedGaussian(stimulus_locked=False).fit(w).sample(20 * len(w), seed=0))
    assert np.abs(locked - data).max() < 0.01
    assert np.abs(stationary - data).max() > 3 * np.abs(locked - data).max()


def test_a_bin_never_fired_in_training_gets_the_prior_not_half_a_spike():
    x = locked_truth(50, 20, 3).reshape(50, 20, 3)
    x[:, :, 0] = 0
    x[::3, [0, 7, 14], 0] = 1  # neuron 0 fires only at bins 0, 7, 14 of some repeats: never at bin 1
    x = x.reshape(-1, 3)
    w, starts = SpikeRaster(x, repeat_length=20).windows(1, return_starts=True)
    model = DichotomizedGaussian(rate_prior=1.0).fit(w, starts=starts)
    from scipy.special import ndtr

    mean_rate = w[:, 0, 0].mean()
    assert ndtr(model.mean_[1, 0]) == pytest.approx(mean_rate / 51, rel=1e-6)


def test_locked_dg_refuses_windows_without_starts_or_repeats():
    x = locked_truth(20, 30, 3)
    w, starts = SpikeRaster(x, repeat_length=30).windows(1, return_starts=True)
    with pytest.raises(ModelConfigError, match="starts"):
        DichotomizedGaussian().fit(w)
    with pytest.raises(ModelConfigError, match="stimulus_locked=false"):
        DichotomizedGaussian().fit(w, starts=np.arange(len(w)))  # every bin seen once: no repeats
    with pytest.raises(ModelConfigError, match="one non-negative integer start bin"):
        DichotomizedGaussian().fit(w, starts=starts[:-1])
    with pytest.raises(ModelConfigError, match="rate_prior"):
        DichotomizedGaussian(rate_prior=0).fit(w, starts=starts)


def test_locked_dg_saves_and_loads_and_old_checkpoints_load_stationary(tmp_path):
    from spiqgan.models import load_model

    x = locked_truth(30, 20, 3)
    w, starts = SpikeRaster(x, repeat_length=20).windows(2, return_starts=True)
    model = DichotomizedGaussian().fit(w, starts=starts)
    model.save(tmp_path / "dg.pt")
    again = load_model(tmp_path / "dg.pt")
    np.testing.assert_array_equal(again.sample(50, seed=4), model.sample(50, seed=4))
    # a checkpoint written before the stimulus-locked DG: no stimulus_locked, no start_weights_
    old = DichotomizedGaussian(stimulus_locked=False).fit(w)
    tensors, meta = old._checkpoint()
    del tensors["start_weights_"]
    del meta["params"]["stimulus_locked"]
    restored = DichotomizedGaussian._from_checkpoint(tensors, meta)
    assert restored.params_["stimulus_locked"] is False
    np.testing.assert_array_equal(restored.sample(50, seed=4), old.sample(50, seed=4))
