"""The built-in synthetic population: seeded, and retina-like as documented."""

from __future__ import annotations

import numpy as np
import pytest

from spiqgan.evaluation import statistics as st
from spiqgan.exceptions import DataError
from spiqgan.data.synthetic import DEFAULT_SYNTHETIC, retina_like


def test_seeded():
    a, b, c = retina_like(seed=1, n_repeats=4), retina_like(seed=1, n_repeats=4), retina_like(seed=2, n_repeats=4)
    np.testing.assert_array_equal(a.spikes, b.spikes)
    assert not np.array_equal(a.spikes, c.spikes)


def test_retina_like_statistics():
    r = retina_like(**DEFAULT_SYNTHETIC)
    assert (r.n_repeats, r.n_neurons, r.repeat_lengths[0]) == (60, 16, 953)
    w = r.windows(10)
    rate = st.firing_rate(w)
    # median target 0.04 per bin with a log-normal spread: the population mean stays near it
    assert 0.03 < rate.mean() < 0.06
    assert (st.pairwise_covariance(w) > 0).mean() > 0.9  # positive pairwise correlations
    acg = st.autocorrelogram(w, max_lag=4)
    # bursts: a spike is followed by another at lag 1-2 well above the rate
    assert (acg[:, 0] > 1.5 * rate).all() and (acg[:, 1] > 1.5 * rate).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_neurons": 0}, "n_neurons must be a positive integer"), ({"rate": 0.7}, "rate must lie"), ({"p_stay": 1.0}, "p_stay")],
)
def test_errors(kwargs, match):
    with pytest.raises(DataError, match=match):
        retina_like(**kwargs)
