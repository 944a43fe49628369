"""The classical Wasserstein GANs: they learn the rate, are seeded, and match SpiQGAN's size when asked."""

from __future__ import annotations

import numpy as np
import pytest

from classical_helpers import correlated_windows
from spiqgan.models.registry import make_model


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
