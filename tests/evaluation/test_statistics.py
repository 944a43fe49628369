"""Statistics against values computed by hand, closed forms and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats

from spiqgan.evaluation import statistics as st
from spiqgan.exceptions import StatisticError

EXACT = dict(rtol=0, atol=1e-12)


def test_firing_rate_by_hand(tiny_windows):
    # neuron 0 spikes in 4 of the 6 bins, neuron 1 in 4 of 6
    np.testing.assert_allclose(st.firing_rate(tiny_windows), [4 / 6, 4 / 6], **EXACT)
    # 20 ms bins: probability per bin * 50 = spikes per second
    np.testing.assert_allclose(st.firing_rate(tiny_windows, bin_ms=20.0), [4 / 6 * 50, 4 / 6 * 50], **EXACT)


def test_pairwise_covariance_by_hand(tiny_windows):
    # both neurons spike together in 3 of 6 bins: 1/2 - (2/3)(2/3) = 1/18
    np.testing.assert_allclose(st.pairwise_covariance(tiny_windows), [1 / 18], **EXACT)


def test_pairwise_covariance_pair_order():
    rng = np.random.default_rng(0)
    x = (rng.random((50, 4, 3)) < 0.4).astype(np.uint8)
    cov = np.cov(x.reshape(-1, 3).T.astype(float), bias=True)
    np.testing.assert_allclose(st.pairwise_covariance(x), [cov[0, 1], cov[0, 2], cov[1, 2]], rtol=0, atol=1e-12)


def test_k_probability_by_hand(tiny_windows):
    # spikes per bin: window 0: 1, 2, 0; window 1: 1, 2, 2
    np.testing.assert_allclose(st.k_probability(tiny_windows), [1 / 6, 2 / 6, 3 / 6], **EXACT)


def test_autocorrelogram_by_hand(tiny_windows):
    acg = st.autocorrelogram(tiny_windows, max_lag=5)
    assert acg.shape == (2, 2)  # lags 1..min(t-1, 5) = 1..2
    # neuron 0, lag 1: spikes opening a pair 3, followed by a spike 2; lag 2: 1 opened, 0 followed
    # neuron 1, lag 1: 3 opened, 2 followed; lag 2: 1 opened, 1 followed
    np.testing.assert_allclose(acg, [[2 / 3, 0.0], [2 / 3, 1.0]], **EXACT)
    np.testing.assert_allclose(st.autocorrelogram(tiny_windows, max_lag=1), [[2 / 3], [2 / 3]], **EXACT)


def test_autocorrelogram_equals_rate_for_independent_bins():
    rng = np.random.default_rng(1)
    x = (rng.random((20000, 6, 2)) < [0.1, 0.3]).astype(np.uint8)
    acg = st.autocorrelogram(x, max_lag=3)
    # statistical: 20000 * 5 opened pairs at rate 0.1 -> standard error of about 0.004
    np.testing.assert_allclose(acg, np.array([[0.1] * 3, [0.3] * 3]), atol=0.015)


def test_edge_cases_silent_neuron_t1_n1():
    x = np.zeros((4, 3, 2), dtype=np.uint8)
    x[:, :, 0] = 1
    np.testing.assert_array_equal(st.firing_rate(x), [1.0, 0.0])
    np.testing.assert_array_equal(st.pairwise_covariance(x), [0.0])
    acg = st.autocorrelogram(x)
    np.testing.assert_array_equal(acg[0], [1.0, 1.0])
    assert np.isnan(acg[1]).all()  # silent neuron: undefined, NaN
    assert st.autocorrelogram(np.ones((3, 1, 2), np.uint8)).shape == (2, 0)  # t = 1: no lags
    assert st.pairwise_covariance(np.ones((3, 2, 1), np.uint8)).shape == (0,)  # n = 1: no pairs
    np.testing.assert_array_equal(st.k_probability(np.zeros((2, 2, 3), np.uint8)), [1, 0, 0, 0])


def test_pattern_index_bit_order():
    # row-major, time step by time step, first bit most significant
    assert st.pattern_indices(np.array([[[1, 0], [0, 1]]]))[0] == 0b1001
    assert st.pattern_indices(np.array([[[1, 0, 1]]]))[0] == 0b101
    assert st.pattern_indices(np.array([[[0, 0, 1]]]))[0] == 1


def test_js_divergence_closed_forms():
    a = np.array([[[0]], [[0]]], dtype=np.uint8)  # P = {0: 1}
    b = np.array([[[0]], [[1]]], dtype=np.uint8)  # Q = {0: 1/2, 1: 1/2}
    c = np.array([[[1]], [[1]]], dtype=np.uint8)  # R = {1: 1}
    assert st.js_divergence(a, a) == 0.0
    assert st.js_divergence(a, c) == pytest.approx(1.0, abs=1e-12)  # disjoint supports: 1 bit
    # M = {0: 3/4, 1: 1/4}: JS = 1/2 log2(4/3) + 1/4 log2(2/3) + 1/4 log2(2)
    expected = 0.5 * np.log2(4 / 3) + 0.25 * np.log2(2 / 3) + 0.25
    assert st.js_divergence(a, b) == pytest.approx(expected, abs=1e-12)
    assert st.js_divergence(b, a) == pytest.approx(expected, abs=1e-12)


def test_js_divergence_matches_scipy():
    rng = np.random.default_rng(2)
    p = (rng.random((500, 2, 3)) < 0.3).astype(np.uint8)
    q = (rng.random((700, 2, 3)) < 0.2).astype(np.uint8)
    hp = np.bincount(st.pattern_indices(p), minlength=64) / 500
    hq = np.bincount(st.pattern_indices(q), minlength=64) / 700
    ref = scipy.spatial.distance.jensenshannon(hp, hq, base=2) ** 2
    assert st.js_divergence(p, q) == pytest.approx(ref, rel=1e-10)


def test_wasserstein_by_hand_and_scipy():
    # F_a = (2/3, 1, 1), F_b = (0, 2/3, 1) on 0, 1, 2: |2/3| + |1/3| = 1
    assert st.wasserstein_1([0, 0, 1], [1, 1, 2]) == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(3)
    a, b = rng.poisson(2.0, 300), rng.poisson(3.5, 450)
    assert st.wasserstein_1(a, b) == pytest.approx(scipy.stats.wasserstein_distance(a, b), rel=1e-10)


def test_spike_counts(tiny_windows):
    np.testing.assert_array_equal(st.spike_counts(tiny_windows), [3, 5])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: st.firing_rate(np.zeros((3, 2))), "expected windows of shape"),
        (lambda: st.k_probability(np.zeros((0, 2, 2))), "at least one window"),
        (lambda: st.autocorrelogram(np.zeros((2, 3, 2)), max_lag=0), "max_lag must be at least 1"),
        (lambda: st.js_divergence(np.zeros((2, 3, 8)), np.zeros((2, 3, 8))), "n \\* t = 24"),
        (lambda: st.js_divergence(np.zeros((2, 1, 2)), np.zeros((2, 1, 3))), "different shapes"),
        (lambda: st.pattern_indices(np.zeros((1, 8, 8))), "at most 62"),
        (lambda: st.wasserstein_1([], [1]), "at least one value"),
    ],
)
def test_statistic_errors(call, match):
    with pytest.raises(StatisticError, match=match):
        call()


def test_lag_covariance_by_hand(tiny_windows):
    # windows [[1,0],[1,1],[0,0]] and [[0,1],[1,1],[1,1]]; lag 1 pairs (s, s+1): 4 per neuron pair
    c = st.lag_covariance(tiny_windows, max_lag=2)
    assert c.shape == (2, 2, 2)
    lead = np.array([[1, 0], [1, 1], [0, 1], [1, 1]], float)
    lagged = np.array([[1, 1], [0, 0], [1, 1], [1, 1]], float)
    expected = lead.T @ lagged / 4 - np.outer(lead.mean(0), lagged.mean(0))
    np.testing.assert_allclose(c[0], expected, rtol=0, atol=1e-15)
    # C_01 is neuron 0 leading neuron 1: a spike of 0 followed by one of 1, never the other way round
    lead_lag = np.zeros((4, 4, 2), np.uint8)
    lead_lag[[0, 1, 2, 3], [0, 1, 2, 0], 0] = 1
    lead_lag[[0, 1, 2, 3], [1, 2, 3, 1], 1] = 1
    c01 = st.lag_covariance(lead_lag)[0]
    assert c01[0, 1] > 0.1 and c01[1, 0] < 0
    # lag 2: pairs (s=0, s=2) only: leads [1,0],[0,1]; lagged [0,0],[1,1]
    np.testing.assert_allclose(c[1], np.array([[1, 0], [0, 1]]).T @ np.array([[0, 0], [1, 1]]) / 2
                               - np.outer([0.5, 0.5], [0.5, 0.5]), atol=1e-15)
    assert st.lag_covariance(tiny_windows[:, :1]).shape == (0, 2, 2)


def test_lag_covariance_diagonal_is_the_autocovariance():
    rng = np.random.default_rng(3)
    w = (rng.random((500, 6, 3)) < 0.3).astype(np.uint8)
    c = st.lag_covariance(w, max_lag=3)
    lead, lagged = w[:, :-2, 1].reshape(-1).astype(float), w[:, 2:, 1].reshape(-1).astype(float)
    assert c[1, 1, 1] == pytest.approx(np.mean(lead * lagged) - lead.mean() * lagged.mean(), abs=1e-15)


def test_time_course_by_hand(tiny_windows):
    np.testing.assert_array_equal(st.time_course(tiny_windows), [[0.5, 0.5], [1.0, 1.0], [0.5, 0.5]])


def test_pattern_windows_inverts_pattern_indices():
    rng = np.random.default_rng(0)
    windows = (rng.random((200, 3, 4)) < 0.3).astype(np.uint8)
    np.testing.assert_array_equal(st.pattern_windows(st.pattern_indices(windows), 3, 4), windows)
    assert st.pattern_windows(np.array([1]), 2, 2).tolist() == [[[0, 0], [0, 1]]]  # the last bit the least significant
