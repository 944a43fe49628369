"""SpiQGAN's Monte Carlo held-out likelihood: its stated standard error and bias are calibrated."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spiqgan.evaluation.scoring import evaluate
from spiqgan.experiments.runs import likelihood_arguments
from spiqgan.models.gan import SpiQGAN
from spiqgan.training.likelihood import mixture_terms


@pytest.fixture(scope="module", params=["shared", "per_timestep"])
def fitted(request) -> tuple[SpiQGAN, np.ndarray, float]:
    """A small fitted model (noise shared by the steps or drawn per step: a mixture per window or per step), 500
    windows, and their mean log-likelihood with 2^17 noise draws (error under 1e-3)."""
    rng = np.random.default_rng(0)
    x = (rng.random((3000, 3, 2)) < 0.3).astype(np.uint8)
    model = SpiQGAN(2, 3, steps=20, seed=0, noise_sharing=request.param).fit(x)
    reference = model.estimate_log_likelihood(x[:200], noise_draws=2 ** 17, seed=99)
    return model, x[:200], float(reference.log_probs.mean())


@pytest.mark.parametrize("draws", [32, 256])
def test_z_scores_over_seeds_are_standard_normal_and_the_bias_is_as_stated(fitted, draws):
    """Over 60 seeds: (estimate - stated bias - reference) / stated error has mean near 0 and mean square near 1,
    and the estimate's mean offset from the reference is the stated bias. chi-square
    with 60 degrees of freedom / 60 lies in [0.53, 1.60] with 99.9 % probability."""
    model, x, reference = fitted
    z, offset, bias = [], [], []
    for seed in range(60):
        e = model.estimate_log_likelihood(x, noise_draws=draws, seed=seed)
        assert e.method == f"monte carlo, {draws} noise draws" and e.shared_se > 0 and e.bias < 0
        z.append((e.log_probs.mean() - e.bias - reference) / e.shared_se)
        offset.append(e.log_probs.mean() - reference)
        bias.append(e.bias)
    z = np.array(z)
    assert abs(z.mean()) < 0.6, z
    assert 0.5 < np.mean(z ** 2) < 1.7, z
    assert np.mean(offset) == pytest.approx(np.mean(bias), abs=3 * np.std(offset) / np.sqrt(60))


def test_mixture_terms_against_hand_computation():
    log_terms = torch.log(torch.tensor([[0.1, 0.5], [0.3, 0.5]], dtype=torch.float64))  # K = 2 draws, B = 2 windows
    log_mean, sums, bias = mixture_terms(log_terms)
    np.testing.assert_allclose(log_mean.numpy(), np.log([0.2, 0.5]))
    np.testing.assert_allclose(sums.numpy(), [0.5 + 1.0, 1.5 + 1.0])  # relative weights r = p / mean, summed
    np.testing.assert_allclose(bias.numpy(), [-np.var([0.5, 1.5], ddof=1) / 4, 0.0])


def test_deterministic_readouts_have_no_likelihood_and_the_evaluation_states_the_estimate(fitted):
    model, x, _ = fitted
    thresholded = SpiQGAN(2, 3, steps=2, readout="threshold", objective="adversarial", seed=0).fit(np.tile(x, (6, 1, 1)))
    assert thresholded.estimate_log_likelihood(x) is None
    assert likelihood_arguments(thresholded, x) == {"likelihood_note": thresholded.likelihood_unavailable(x)}
    assert "deterministic readout" in thresholded.likelihood_unavailable(x) and model.likelihood_unavailable(x) is None
    with pytest.raises(Exception, match="noise_draws"):
        model.estimate_log_likelihood(x, noise_draws=1)
    with pytest.raises(Exception, match=r"\(t, n\)"):
        model.estimate_log_likelihood(x[:, :2])
    found = likelihood_arguments(model, x)
    assert "monte carlo, 2048 noise draws, estimated bias +" in found["likelihood_method"]
    ev = evaluate(x, x, log_likelihood=found["log_likelihood"], likelihood_method=found["likelihood_method"],
                  likelihood_shared_se=found["likelihood_shared_se"])
    assert ev.likelihood.shared_se == pytest.approx(found["likelihood_shared_se"] / np.log(2))
    assert "monte carlo" in ev.likelihood.line() and "shared standard error" in ev.likelihood.line()
