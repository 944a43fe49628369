"""The independent-Bernoulli reference model."""

from __future__ import annotations

import numpy as np
import pytest

from spiqgan.baselines import IndependentBernoulli
from spiqgan.exceptions import SpiqganError


def test_fit_is_the_empirical_probability_per_time_step_and_neuron(tiny_windows):
    model = IndependentBernoulli().fit(tiny_windows)
    np.testing.assert_array_equal(model.probabilities_, [[0.5, 0.5], [1.0, 1.0], [0.5, 0.5]])
    assert model.n_parameters == 6


def test_sample_is_seeded_and_matches_probabilities():
    p = np.array([[0.1, 0.5], [0.9, 0.0]])
    model = IndependentBernoulli()
    model.probabilities_ = p
    a = model.sample(20000, seed=3)
    np.testing.assert_array_equal(a, model.sample(20000, seed=3))
    assert a.dtype == np.uint8 and a.shape == (20000, 2, 2)
    # binomial standard error <= 0.0036 at 20000 draws
    np.testing.assert_allclose(a.mean(axis=0), p, atol=0.015)


def test_unfitted_model_says_so():
    with pytest.raises(SpiqganError, match="not fitted yet"):
        IndependentBernoulli().sample(3)
