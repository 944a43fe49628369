"""Annealed importance sampling of the maximum-entropy partition function: calibrated against enumeration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from spiqgan.evaluation.likelihood import compare_nll, held_out_nll
from spiqgan.experiments.runs import likelihood_arguments
from spiqgan.models.classical.maxent import Ising, KPairwise, ais_log_partition, all_patterns


def _random_model(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse-firing fields, couplings of both signs, a potential on the count: a retina-like K-pairwise model."""
    h = rng.normal(-2.5, 0.5, n)
    J = np.triu(rng.normal(0.0, 0.4, (n, n)), 1)
    V = np.concatenate([[0.0], rng.normal(0.0, 0.5, n)])
    return h, J + J.T, V


def _exact_log_z(h: np.ndarray, J: np.ndarray, V: np.ndarray) -> float:
    x = all_patterns(len(h)).astype(np.float64)
    return float(logsumexp(x @ h + 0.5 * np.einsum("ni,ij,nj->n", x, J, x) + V[x.sum(1).astype(np.int64)]))


def test_ais_z_scores_over_seeds_are_standard_normal():
    """(estimate - exact) / stated standard error over 40 seeds: mean near 0 and mean square near 1.

    Too small a stated error (or a bias) pushes the mean square above 2; too large a one below 0.4
    (chi-square with 40 degrees of freedom / 40 lies in [0.60, 1.48] with 95 % probability).
    """
    h, J, V = _random_model(12, np.random.default_rng(3))
    exact = _exact_log_z(h, J, V)
    x = all_patterns(12)
    weights = np.exp(x @ h + 0.5 * np.einsum("ni,ij,nj->n", x, J, x) + V[x.sum(1)] - exact)
    rate = weights @ x  # the model's own firing rates, as the model's log_partition estimates them
    z = []
    for seed in range(40):
        estimate, se = ais_log_partition(h, J, V, rate, 200, 100, np.random.default_rng(seed))
        assert 0 < se < 0.05
        z.append((estimate - exact) / se)
    z = np.array(z)
    assert abs(z.mean()) < 0.6, z
    assert 0.4 < np.mean(z ** 2) < 2.0, z


def test_a_poor_path_states_a_larger_error_not_a_wrong_one():
    """From a bad start (rates 0.5) and few steps, the stated error grows and still covers the exact value."""
    h, J, V = _random_model(10, np.random.default_rng(5))
    exact = _exact_log_z(h, J, V)
    good = ais_log_partition(h, J, V, np.full(10, 0.08), 500, 200, np.random.default_rng(0))
    poor = ais_log_partition(h, J, V, np.full(10, 0.5), 500, 5, np.random.default_rng(0))
    assert poor[1] > 3 * good[1]
    for estimate, se in (good, poor):
        assert abs(estimate - exact) < 4 * se


@pytest.fixture(scope="module")
def windows() -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out windows (t = 2) of a 10-neuron K-pairwise model, sampled exactly."""
    h, J, V = _random_model(10, np.random.default_rng(8))
    x = all_patterns(10)
    log_w = x @ h + 0.5 * np.einsum("ni,ij,nj->n", x, J, x) + V[x.sum(1)]
    p = np.exp(log_w - logsumexp(log_w))
    rng = np.random.default_rng(1)
    draw = lambda count: x[rng.choice(len(x), size=2 * count, p=p)].reshape(count, 2, 10)  # noqa: E731
    return draw(4000), draw(600)


@pytest.mark.parametrize("cls", [Ising, KPairwise])
def test_beyond_max_exact_the_likelihood_is_ais_and_agrees_with_enumeration(cls, windows):
    """A model fitted past ``max_exact`` (Gibbs fit) reports "ais", a shared error t times log Z's, and
    log-likelihoods within 4 standard errors of the same parameters enumerated."""
    train, test = windows
    model = cls(max_exact=8, steps=300, seed=0).fit(train)
    assert model.likelihood_method() == "ais"
    log_z, se = model.log_partition()
    assert model.likelihood_shared_se() == pytest.approx(2 * se)
    exact = _exact_log_z(model.h_, model.J_, model.V_)
    assert abs(log_z - exact) < 4 * se
    enumerated = model.log_weights(test.reshape(-1, 10)).reshape(-1, 2).sum(1) - 2 * exact
    np.testing.assert_allclose(model.log_likelihood(test), enumerated, atol=8 * se)
    again = cls(max_exact=8, steps=300, seed=0).fit(train)
    np.testing.assert_array_equal(again.log_likelihood(test), model.log_likelihood(test))  # seeded

    found = likelihood_arguments(model, test)
    assert found["likelihood_method"] == "ais" and found["likelihood_shared_se"] == pytest.approx(2 * se)


def test_the_shared_error_widens_the_nll_interval_and_the_difference():
    """An estimator's shared error enters the NLL's interval and a paired difference's, in quadrature."""
    rng = np.random.default_rng(0)
    lp = np.log(rng.uniform(0.01, 0.2, 3000))
    reps = np.repeat(np.arange(100), 30)
    plain = held_out_nll(lp, reps, n_timesteps=1, n_neurons=4)
    wide = held_out_nll(lp, reps, n_timesteps=1, n_neurons=4, shared_se=0.05, method="ais")
    assert wide.bits_per_window == plain.bits_per_window
    z = 1.959963984540054
    assert wide.high - wide.bits_per_window == pytest.approx(
        np.hypot(plain.high - plain.bits_per_window, z * 0.05 / np.log(2)))
    assert wide.low < plain.low and "shared standard error" in wide.line()
    a, b = lp, lp - 0.003
    tight = compare_nll(a, b, reps)
    loose = compare_nll(a, b, reps, shared_se=(0.004, 0.003))
    assert tight.verdict == "a better" and loose.verdict == "level"
    assert loose.high - loose.difference == pytest.approx(z * 0.005 / np.log(2), rel=1e-9)
