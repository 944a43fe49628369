"""The dichotomized Gaussian: orthant probabilities against scipy, rates and pairwise moments reproduced."""

from __future__ import annotations

import numpy as np
import pytest

from classical_helpers import correlated_windows
from spiqgan.models.classical.dg import DichotomizedGaussian, bivariate_orthant, latent_correlation


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
        model = DichotomizedGaussian(temporal=temporal, stimulus_locked=False).fit(x)
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
