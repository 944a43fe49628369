"""The independent Bernoulli model: the empirical probability per step and neuron, seeded sampling, its likelihood."""

from __future__ import annotations

import numpy as np
import pytest

from classical_helpers import correlated_windows
from spiqgan.exceptions import SpiqganError
from spiqgan.models.classical.bernoulli import IndependentBernoulli


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


def test_bernoulli_likelihood_by_hand():
    x = np.array([[[1, 0]], [[0, 0]], [[1, 1]], [[0, 0]]], dtype=np.uint8)  # p = (1/2, 1/4)
    model = IndependentBernoulli().fit(x)
    expected = np.log([0.5 * 0.75, 0.5 * 0.75, 0.5 * 0.25, 0.5 * 0.75])
    np.testing.assert_allclose(model.log_likelihood(x), expected, rtol=1e-14)
    assert model.score(x) == pytest.approx(expected.mean(), rel=1e-14)
    assert model.log_likelihood(np.array([[[1, 1]]], dtype=np.uint8))[0] == pytest.approx(np.log(0.5 * 0.25))
