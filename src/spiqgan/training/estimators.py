r"""Gradients through measurement: how the critic's verdict reaches the circuit's parameters.

The generator's output is a *sampled* bitstring; sampling has no gradient. The
papers do not say how they pass one. Four estimators of
:math:`\nabla_\theta \mathbb E_{x \sim P_\theta(\cdot \mid z)}[C(x)]`:

``"relaxation"`` (a)
    The critic sees the per-neuron spike probabilities of each time step
    instead of bits (hard samples only at generation). Biased: the critic
    judges probabilities it never sees among real data.
``"straight-through"`` (b)
    Hard samples forward; backward, the gradient with respect to the bits is
    passed to the spike probabilities (:math:`x + p - \mathrm{sg}(p)`). Biased
    but low-variance.
``"reinforce"`` (c)
    Score function: :math:`\mathbb E[(C(x) - b)\, \nabla \log P_\theta(x \mid z)]`, with
    :math:`\log P(x \mid z) = \sum_s \log P_s(x_s \mid z)` and the leave-one-out
    batch mean as baseline ``b`` (keeps it unbiased). Needs only samples and
    their probabilities: the estimator a quantum computer could use.
``"exact"`` (d)
    The expectation over all :math:`2^{n t}` window patterns,
    :math:`\sum_x C(x) \prod_s P_s(x_s \mid z)`, exact and differentiable; for
    ``n t <=`` :data:`EXACT_MAX_BITS`.

For the deterministic readouts (``"threshold"``, the QCE ``"basis"``) there is
no sampling: ``"relaxation"`` feeds the continuous outputs and
``"straight-through"`` the thresholded ones with the continuous gradient.
"""

from __future__ import annotations

import torch

from spiqgan.quantum import statevector as sim
from spiqgan.exceptions import SpiqganError
from spiqgan.quantum.generator import GeneratorOutput, PatchGenerator

__all__ = ["ESTIMATORS", "EXACT_MAX_BITS", "check_estimator", "critic_input", "generator_windows", "generator_critic_term",
           "generated_spike_counts", "all_patterns"]

ESTIMATORS = ("relaxation", "straight-through", "reinforce", "exact")
#: the exact estimator enumerates 2^(n t) patterns: at most this many bits
EXACT_MAX_BITS = 14


def check_estimator(estimator: str, gen: PatchGenerator) -> None:
    """Raise if ``estimator`` does not apply to this generator's readout or size."""
    if estimator not in ESTIMATORS:
        raise SpiqganError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}.")
    bits = gen.config.n_neurons * gen.n_timesteps
    if gen.config.readout != "sample" and estimator in ("reinforce", "exact"):
        raise SpiqganError(
            f"the {gen.config.readout!r} readout is deterministic: there is no sampling to differentiate through. "
            "Use estimator 'relaxation' or 'straight-through'."
        )
    if estimator == "exact" and bits > EXACT_MAX_BITS:
        raise SpiqganError(
            f"the exact estimator enumerates 2^(n t) = 2^{bits} patterns; it is available for n t <= "
            f"{EXACT_MAX_BITS}. Use 'straight-through' or 'reinforce'."
        )


def _hard(gen: PatchGenerator, out: GeneratorOutput, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Hard windows (float) and, for the sample readout, the sampled pattern index per time step."""
    if gen.config.readout == "sample":
        idx = sim.sample_indices(out.probabilities.detach(), generator)
        return sim.indices_to_bits(idx, gen.config.n_neurons).to(out.spike_probabilities.dtype), idx
    return (out.spike_probabilities.detach() > 0.5).to(out.spike_probabilities.dtype), None


def critic_input(
    gen: PatchGenerator, out: GeneratorOutput, estimator: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The generated windows ``(B, t, n)`` the critic is trained on (detached)."""
    if estimator == "relaxation":
        return out.spike_probabilities.detach()
    return _hard(gen, out, generator)[0]


def generator_windows(
    gen: PatchGenerator, out: GeneratorOutput, estimator: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""The windows ``(B, t, n)`` the critic judges, differentiable for ``"relaxation"`` and ``"straight-through"``.

    Relaxation: the spike probabilities (or QCE activations). Straight-through: hard
    windows forward with the probabilities' gradient backward, :math:`x + p - \mathrm{sg}(p)`.
    """
    p = out.spike_probabilities
    if estimator == "relaxation":
        return p
    if estimator == "straight-through":
        return _hard(gen, out, generator)[0] + p - p.detach()
    raise SpiqganError(f"generator_windows is for 'relaxation' and 'straight-through', not {estimator!r}.")


def all_patterns(n_bits: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Every bit pattern, ``(2**n_bits, n_bits)``, index order, most significant bit first."""
    return sim.indices_to_bits(torch.arange(2**n_bits), n_bits).to(dtype)


def _joint(dist: torch.Tensor) -> torch.Tensor:
    """Joint distribution of whole windows ``(B, 2**(n t))`` from per-step ``(B, t, 2**n)`` (steps independent given z)."""
    joint = dist[:, 0]
    for s in range(1, dist.shape[1]):
        joint = (joint[:, :, None] * dist[:, s, None, :]).reshape(dist.shape[0], -1)
    return joint


def generator_critic_term(
    gen: PatchGenerator,
    out: GeneratorOutput,
    critic: torch.nn.Module,
    estimator: str,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A differentiable surrogate whose gradient estimates that of :math:`\\mathbb E[C(G(z))]`.

    Returns ``(surrogate, value)``: ``surrogate`` to back-propagate (its gradient
    with respect to the generator is the estimate), ``value`` the batch mean
    of the critic on the generated windows (for logging). The caller minimizes
    ``-surrogate``.
    """
    p = out.spike_probabilities
    if estimator in ("relaxation", "straight-through"):
        value = critic(generator_windows(gen, out, estimator, generator)).mean()
        return value, value.detach()
    if estimator == "reinforce":
        hard, idx = _hard(gen, out, generator)
        with torch.no_grad():
            c = critic(hard)
        logp = torch.log(out.probabilities.gather(-1, idx[..., None]).squeeze(-1).clamp_min(1e-30)).sum(-1)  # (B,)
        b = c.shape[0]
        baseline = (c.sum() - c) / max(b - 1, 1)  # leave-one-out: independent of the sample it is used with
        return ((c - baseline) * logp).mean(), c.mean()
    if estimator == "exact":
        n, t = gen.config.n_neurons, gen.n_timesteps
        windows = all_patterns(n * t, p.dtype).to(p.device).reshape(-1, t, n)
        c = critic(windows)  # (2**(n t),)
        value = (_joint(out.probabilities) * c).sum(-1).mean()
        return value, value.detach()
    raise SpiqganError(f"unknown estimator {estimator!r}")


def generated_spike_counts(gen: PatchGenerator, out: GeneratorOutput) -> torch.Tensor:
    """Spikes per generated window ``(B,)`` for the K-term, differentiable.

    The expected count :math:`\\sum_{s,i} P(x_{s,i} = 1 \\mid z)` for the sample
    readout (no sampling noise); for the deterministic readouts, the count of
    the thresholded output with the straight-through gradient.
    """
    if gen.config.readout == "sample":
        return out.spike_probabilities.sum(dim=(1, 2))
    return generator_windows(gen, out, "straight-through").sum(dim=(1, 2))
