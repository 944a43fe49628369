"""Maximum likelihood: the Monte Carlo log-likelihood of real windows, and training with it."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from spiqgan.exceptions import SpiqganError
from spiqgan.quantum.generator import CircuitConfig, PatchGenerator
from spiqgan.training.likelihood import mean_log_likelihood, window_log_likelihood
from spiqgan.models.gan import SpiQGAN
from spiqgan.quantum.statevector import bits_to_indices, indices_to_bits
from spiqgan.evaluation.statistics import pattern_indices
from spiqgan.training.loop import learning_rate


def test_bits_to_indices_is_the_inverse_of_indices_to_bits_and_matches_pattern_indices():
    idx = torch.arange(32)
    bits = indices_to_bits(idx, 5)
    assert torch.equal(bits_to_indices(bits[:, None, :]), idx[:, None])
    windows = bits.numpy()[:, None, :]
    assert np.array_equal(pattern_indices(windows), bits_to_indices(torch.as_tensor(windows))[:, 0].numpy())


def _brute_force(probs: np.ndarray, window: np.ndarray, shared: bool) -> float:
    k, t, _ = probs.shape
    idx = [int("".join(map(str, window[s])), 2) for s in range(t)]
    if shared:
        return math.log(np.mean([np.prod([probs[j, s, idx[s]] for s in range(t)]) for j in range(k)]))
    return sum(math.log(np.mean([probs[j, s, idx[s]] for j in range(k)])) for s in range(t))


@pytest.mark.parametrize("shared", [True, False])
def test_log_likelihood_against_a_hand_computation(shared):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(3, 2))  # K = 3 noise draws, t = 2, n = 2
    windows = np.array([[[0, 1], [1, 1]], [[0, 0], [0, 0]], [[1, 0], [0, 1]]])
    got = window_log_likelihood(torch.as_tensor(probs), torch.as_tensor(windows), shared=shared)
    want = [_brute_force(probs, w, shared) for w in windows]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    assert mean_log_likelihood(torch.as_tensor(probs), torch.as_tensor(windows), shared=shared, chunk=2) == \
        pytest.approx(np.mean(want), rel=1e-12)


@pytest.mark.parametrize("sharing", ["shared", "per_timestep"])
def test_the_estimate_is_a_normalized_distribution_over_windows(sharing):
    """For fixed noise draws, exp(estimate) summed over all 2^(n t) windows is 1: a proper model, not just a score."""
    gen = PatchGenerator(CircuitConfig(2, noise_sharing=sharing), 3, dtype=torch.complex128, seed=1)
    out = gen(gen.draw_noise(5, torch.Generator().manual_seed(2)))
    every = torch.tensor(list(itertools.product([0, 1], repeat=6))).reshape(-1, 3, 2)
    ll = window_log_likelihood(out.probabilities, every, shared=sharing == "shared")
    assert float(torch.exp(ll.detach()).sum()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("block", [1, 2, 3])
def test_block_composite_likelihood_against_a_hand_computation(block):
    """Every block of L consecutive steps, each a mixture over the same draws, scaled by t / (L (t - L + 1))."""
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4), size=(5, 4))  # K = 5, t = 4, n = 2
    windows = rng.integers(0, 2, size=(6, 4, 2))
    got = window_log_likelihood(torch.as_tensor(probs), torch.as_tensor(windows), block=block)
    blocks = range(4 - block + 1)
    want = [4 / (block * len(blocks)) * sum(_brute_force(probs[:, s:s + block], w[s:s + block], True) for s in blocks)
            for w in windows]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_block_composite_likelihood_ends():
    """L = 1 is the product of the per-step mixtures; L >= t (or None) the whole window."""
    rng = np.random.default_rng(2)
    probs = torch.as_tensor(rng.dirichlet(np.ones(8), size=(3, 5)))
    windows = torch.as_tensor(rng.integers(0, 2, size=(4, 5, 3)))
    per_step = window_log_likelihood(probs, windows, shared=False)
    torch.testing.assert_close(window_log_likelihood(probs, windows, block=1), per_step)
    whole = window_log_likelihood(probs, windows)
    torch.testing.assert_close(window_log_likelihood(probs, windows, block=5), whole)
    torch.testing.assert_close(window_log_likelihood(probs, windows, block=9), whole)
    assert not torch.allclose(whole, per_step)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(SpiqganError, match="block must be a positive integer"):
            window_log_likelihood(probs, windows, block=bad)


def test_log_likelihood_errors():
    probs = torch.full((4, 2, 8), 1 / 8)
    with pytest.raises(SpiqganError, match="do not match the generator's"):
        window_log_likelihood(probs, torch.zeros(5, 2, 2))
    with pytest.raises(SpiqganError, match="expected probabilities"):
        window_log_likelihood(probs[0], torch.zeros(5, 2, 3))


def test_gradient_flows_to_every_parameter():
    gen = PatchGenerator(CircuitConfig(2, trainable_encoding=True, noise_mixing=True), 2, seed=0)
    out = gen(gen.draw_noise(4, torch.Generator().manual_seed(0)))
    (-window_log_likelihood(out.probabilities, torch.tensor([[[1, 0], [0, 0]]])).mean()).backward()
    assert gen.rotations.grad.abs().sum() > 0 and gen.encoding_weights.grad.abs().sum() > 0


def test_maximum_likelihood_recovers_independent_rates():
    rng = np.random.default_rng(0)
    rates = np.array([0.05, 0.3])
    x = (rng.random((20000, 1, 2)) < rates).astype(np.uint8)
    m = SpiQGAN(2, 1, steps=300, noise_samples=16, batch_size=512, lr_generator=0.05, eval_every=100,
                js_windows=2000).fit(x)
    entropy = -sum(p * math.log(p) + (1 - p) * math.log(1 - p) for p in rates)
    final_nll = np.mean([r["nll"] for r in m.history_[-50:]])
    assert final_nll == pytest.approx(entropy, abs=0.02)
    np.testing.assert_allclose(m.sample(20000, seed=1).mean(axis=(0, 1)), rates, atol=0.02)
    start = m.sample(20000, seed=1, which="start").mean(axis=(0, 1))
    assert np.abs(start - rates).max() > 0.1  # it started far away: the fit did the work


def test_fit_uses_the_block_composite_likelihood():
    """likelihood_block reaches the training step: L >= t is the whole window bit for bit, L = 1 is not."""
    rng = np.random.default_rng(3)
    x = (rng.random((500, 2, 2)) < 0.2).astype(np.uint8)

    def fit(block):
        return SpiQGAN(2, 2, steps=5, noise_samples=4, batch_size=64, eval_every=5, js_windows=100,
                       likelihood_block=block).fit(x)

    whole = fit(0)
    assert torch.equal(fit(2).generator_.rotations, whole.generator_.rotations)
    assert torch.equal(fit(7).generator_.rotations, whole.generator_.rotations)
    assert not torch.equal(fit(1).generator_.rotations, whole.generator_.rotations)


def test_cosine_learning_rate():
    assert learning_rate(0.02, 0, 100, "cosine") == pytest.approx(0.02)
    assert learning_rate(0.02, 50, 100, "cosine") == pytest.approx(0.01)
    assert learning_rate(0.02, 100, 100, "cosine") == pytest.approx(0.0, abs=1e-15)
    assert learning_rate(0.02, 70, 100, "constant") == 0.02
