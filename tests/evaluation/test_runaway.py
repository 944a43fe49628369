"""The runaway statistics: the tail of spikes per window and the saturated fraction, against held-out data."""

import numpy as np
import pytest

from spiqgan.evaluation import statistics as st
from spiqgan.evaluation.scoring import evaluate, runaway_check


def test_saturation_counts_windows_where_a_neuron_fires_in_80_percent_of_bins():
    x = np.zeros((3, 30, 2), dtype=np.uint8)
    x[0, :24, 0] = 1  # 24 of 30 bins: saturated (0.8 * 30 is 24.000000000000004 in floating point)
    x[1, :23, 1] = 1  # 23 of 30: not
    x[2, :, :] = 1  # both neurons in every bin
    assert st.window_saturation(x).tolist() == [0.5, 0.0, 1.0]
    assert st.saturated_fraction(x) == pytest.approx(0.5)
    y = np.zeros((2, 10, 1), dtype=np.uint8)
    y[0, 2:10] = 1  # 8 of 10
    assert st.saturated_fraction(y) == 0.5


def test_the_count_tail_is_the_999th_percentile_of_spikes_per_window_spread_over_unit_intervals():
    # 1000 windows: 990 with no spike, 8 with 1, 2 with 5; F(4) = 0.998, p(5) = 0.002: 99.9 % is halfway into 5's interval
    x = np.zeros((1000, 5, 1), dtype=np.uint8)
    x[990:998, 0] = 1
    x[998:, :] = 1
    assert st.count_tail(x) == pytest.approx(5.0)
    assert st.count_tail(x, 99.4) == pytest.approx(1.0)  # halfway into 1's interval (F(0) = 0.99, p(1) = 0.008)
    assert st.count_tail(x, 49.5) == pytest.approx(0.0)
    assert st.count_tail(x, 100.0) == pytest.approx(5.5)
    rng = np.random.default_rng(0)
    y = (rng.random((20000, 4, 3)) < 0.3).astype(np.uint8)
    assert abs(st.count_tail(y) - np.percentile(y.sum((1, 2)), 99.9)) <= 0.5  # within half a spike of the ordinary one


def test_the_spread_percentile_moves_continuously_where_the_ordinary_one_jumps():
    p = np.array([0.5, 0.496, 0.004])
    q = np.array([0.5, 0.494, 0.006])
    for h in (p, q):  # the ordinary 99.9th percentile is 2 for both
        assert np.percentile(np.repeat([0, 1, 2], np.rint(h * 2000).astype(int)), 99.9) == 2.0
    a, b = st.spread_percentile(np.stack([p, q]), 99.9)
    assert a == pytest.approx(1.5 + 0.003 / 0.004) and b == pytest.approx(1.5 + 0.005 / 0.006) and a < b


def _recording(rng, n_windows, runaway=0.0):
    """Independent spikes at rate 0.1; in a share ``runaway`` of windows neuron 0 locks on from a random bin."""
    x = (rng.random((n_windows, 10, 5)) < 0.1).astype(np.uint8)
    locked = np.flatnonzero(rng.random(n_windows) < runaway)
    for w in locked:
        x[w, rng.integers(0, 3):, 0] = 1
    return x


def test_a_self_exciting_generator_lands_above_the_held_out_interval_and_a_faithful_one_inside():
    rng = np.random.default_rng(1)
    # real data has a few long bursts too (2 in 1000 windows), the runaway model ten times as many
    held_out, repeats = _recording(rng, 4000, 0.002), np.repeat(np.arange(40), 100)
    faithful, runaway = _recording(rng, 40000, 0.002), _recording(rng, 40000, runaway=0.02)
    inside = runaway_check(faithful, held_out, repeats)
    above = runaway_check(runaway, held_out, repeats)
    assert [r.inside for r in inside] == [True, True]
    assert [r.inside for r in above] == [False, False]
    assert all(r.generated > r.interval[1] for r in above)
    assert above[1].held_out == st.saturated_fraction(held_out)
    # in every evaluation, with their ratios: the runaway one far above the floor
    ev = evaluate(runaway, held_out, reference_repeats=repeats, n_draws=5)
    assert len(ev.runaway) == 2 and "above" in ev.table()
    assert ev.row("saturated").ratio > 10 and evaluate(faithful, held_out, reference_repeats=repeats,
                                                        n_draws=5).row("saturated").ratio < 3


def test_at_one_bin_only_the_tail_is_checked():
    rng = np.random.default_rng(2)
    x = (rng.random((2000, 1, 6)) < 0.2).astype(np.uint8)
    ev = evaluate(x[:1000], x[1000:], reference_repeats=np.repeat(np.arange(10), 100), n_draws=3)
    assert [r.statistic.split(",")[0] for r in ev.runaway] == ["spikes per window"]
    assert ev.row("saturated").ratio is None and ev.row("saturated").note == "t = 1: one bin"
    assert ev.to_dict()["runaway"][0]["inside"] in (True, False)


def test_held_out_windows_with_no_saturated_neuron_give_the_poisson_bound_of_a_zero_count():
    """At (10, 30) no held-out window of the recording has a saturated neuron, so every bootstrap replicate is 0 and
    the interval was [0, 0]: a model that saturates once in a million pairs was "outside". The bound of a count of 0
    over the (window, neuron) pairs replaces it, and still catches a runaway model."""
    from spiqgan.evaluation.scoring import zero_count_bound

    rng = np.random.default_rng(3)
    held_out, repeats = _recording(rng, 4000), np.repeat(np.arange(40), 100)
    assert st.saturated_fraction(held_out) == 0.0
    rare, runaway = _recording(rng, 40000, 0.00005), _recording(rng, 40000, 0.02)
    checked = runaway_check(rare, held_out, repeats)[1]
    bound = -np.log(0.025) / (4000 * 5)  # every (window, neuron) pair a trial
    assert checked.held_out == 0.0 and checked.interval == (0.0, pytest.approx(bound))
    assert 0 < checked.generated < bound and checked.inside
    assert not runaway_check(runaway, held_out, repeats)[1].inside
    assert 100 * zero_count_bound(100, 0.95) == pytest.approx(3.689, abs=1e-3)
    with pytest.raises(ValueError, match="positive number of trials"):
        zero_count_bound(0)
