"""The training loops: SpiQGAN's Wasserstein GAN with the K-loss, and the QCE 2023 GAN.

One step of the SpiQGAN loop (``n_critic = 2`` in the paper):

1. ``n_critic`` times: draw a real batch and a generated one (the critic sees
   what :func:`spiqgan.training.estimators.critic_input` gives), minimize
   :func:`spiqgan.training.losses.critic_loss` plus the gradient penalty (or clip the
   weights afterwards);
2. draw noise, minimize ``-E[C(G(z))]`` (estimated by the chosen gradient
   estimator) plus the K-term on the spike count.

The QCE 2023 loop alternates one discriminator and one generator step with
binary cross-entropy losses.

``objective="likelihood"`` trains the generator alone, by maximum likelihood
of real windows (:mod:`spiqgan.training.likelihood`); ``"hybrid"`` does that for the
first ``pretrain_steps`` steps and continues adversarially. With
``lr_schedule="cosine"`` both learning rates decay from their value to 0 over
``steps`` (a pure function of the step, so a resumed run is exact).

Every ``eval_every`` steps (and at the first and last), when ``n t <= 20``,
the Jensen-Shannon divergence between ``js_windows`` generated windows (always
drawn with the same seed, so that successive values differ by the model, not
by the draw) and the training windows is recorded; the generator with the
lowest JS is kept (``best``) besides the last one: the QCE 2023 paper saw its
best step followed by mode collapse.

All randomness comes from two explicit ``torch.Generator`` objects (noise,
sampling and gradient-penalty mixing; real batches), so that the same seed
gives the same run, bit for bit, on the same machine.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from spiqgan.training import estimators as est
from spiqgan.training import losses
from spiqgan.training.likelihood import combine_log_likelihood
from spiqgan.quantum.generator import PatchGenerator
from spiqgan.evaluation.statistics import DEFAULT_JS_MAX_BITS, js_divergence

__all__ = ["TrainingState", "train_steps", "train_step", "step_objective", "learning_rate", "generated_js", "HISTORY_FIELDS"]

#: columns of the per-step metrics (``metrics.csv``)
HISTORY_FIELDS = (
    "step", "critic_loss", "wasserstein", "generator_loss", "k_term", "nll", "spikes_generated", "spikes_real", "js",
    "seconds",
)


@dataclass
class TrainingState:
    """Everything a run needs to continue exactly where it stopped."""

    generator: PatchGenerator
    critic: torch.nn.Module
    opt_generator: torch.optim.Optimizer
    opt_critic: torch.optim.Optimizer
    rng: torch.Generator
    data_rng: torch.Generator
    step: int = 0
    best_js: float | None = None
    best_step: int | None = None
    best_generator: dict[str, torch.Tensor] | None = None
    initial_generator: dict[str, torch.Tensor] | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def generated_js(generator: PatchGenerator, reference: np.ndarray, n_windows: int, seed: int) -> float | None:
    """JS divergence between ``n_windows`` generated windows (drawn with ``seed``) and ``reference``; ``None`` if n t > 20."""
    _, t, n = reference.shape
    if n * t > DEFAULT_JS_MAX_BITS:
        return None
    rng = torch.Generator(device=generator.rotations.device).manual_seed(seed)
    samples = generator.sample(n_windows, rng).cpu().numpy()
    return js_divergence(samples, reference)


def _batch_index(state: TrainingState, n: int, batch: int) -> torch.Tensor:
    """Indices of a random real batch, drawn on the CPU (``data_rng``) and moved to the device."""
    return torch.randint(n, (batch,), generator=state.data_rng).to(state.generator.rotations.device)


def _record(state: TrainingState, row: dict[str, float]) -> None:
    state.history.append({k: row.get(k, math.nan) for k in HISTORY_FIELDS})


def _wgan_step(state: TrainingState, p: dict[str, Any], real_all: torch.Tensor, target_all: float) -> dict[str, float]:
    gen, critic = state.generator, state.critic
    batch = p["batch_size"]
    c_loss_value = w_value = 0.0
    # the generator does not change during the critic updates: draw all their windows in one pass
    with torch.no_grad():
        out = gen(gen.draw_noise(p["n_critic"] * batch, state.rng))
        fakes = est.critic_input(gen, out, p["estimator"], state.rng).to(real_all.dtype).split(batch)
    for fake in fakes:
        real = real_all[_batch_index(state, real_all.shape[0], batch)]
        c_fake, c_real = critic(fake), critic(real)
        loss = losses.critic_loss(c_fake, c_real)
        if p["lipschitz"] == "gp":
            loss = loss + p["gp_weight"] * losses.gradient_penalty(critic, real, fake, state.rng)
        state.opt_critic.zero_grad(set_to_none=True)
        loss.backward()
        state.opt_critic.step()
        if p["lipschitz"] == "clip":
            with torch.no_grad():
                for param in critic.parameters():
                    param.clamp_(-p["clip_value"], p["clip_value"])
        c_loss_value = float(loss.detach())
        w_value = float((c_real.mean() - c_fake.mean()).detach())
    real = real_all[_batch_index(state, real_all.shape[0], batch)]
    out = gen(gen.draw_noise(batch, state.rng))
    surrogate, value = est.generator_critic_term(gen, out, critic, p["estimator"], state.rng)
    counts = est.generated_spike_counts(gen, out)
    target = real.sum(dim=(1, 2)).mean() if p["k_target"] == "batch" else torch.tensor(target_all, dtype=counts.dtype)
    k_weight = p["k_weight"] if p["loss"] == "k" else 0.0
    kt = losses.k_term(counts, target, k_weight)
    g_loss = -surrogate + kt
    state.opt_generator.zero_grad(set_to_none=True)
    g_loss.backward()
    state.opt_generator.step()
    return {
        "critic_loss": c_loss_value,
        "wasserstein": w_value,
        "generator_loss": float(-value + kt.detach()),
        "k_term": float(kt.detach()),
        "spikes_generated": float(counts.detach().mean()),
        "spikes_real": float(target),
    }


def _bce_step(state: TrainingState, p: dict[str, Any], real_all: torch.Tensor, target_all: float) -> dict[str, float]:
    gen, disc = state.generator, state.critic
    batch = p["batch_size"]
    real = real_all[_batch_index(state, real_all.shape[0], batch)]
    with torch.no_grad():
        out = gen(gen.draw_noise(batch, state.rng))
        fake = est.critic_input(gen, out, p["estimator"], state.rng).to(real.dtype)
    d_loss = losses.bce_discriminator_loss(disc(real), disc(fake))
    state.opt_critic.zero_grad(set_to_none=True)
    d_loss.backward()
    state.opt_critic.step()
    out = gen(gen.draw_noise(batch, state.rng))
    g_loss = losses.bce_generator_loss(disc(est.generator_windows(gen, out, p["estimator"], state.rng)))
    state.opt_generator.zero_grad(set_to_none=True)
    g_loss.backward()
    state.opt_generator.step()
    counts = est.generated_spike_counts(gen, out)
    return {
        "critic_loss": float(d_loss.detach()),
        "generator_loss": float(g_loss.detach()),
        "spikes_generated": float(counts.detach().mean()),
        "spikes_real": float(real.sum(dim=(1, 2)).mean()),
    }


def _likelihood_step(state: TrainingState, p: dict[str, Any], real_all: torch.Tensor, target_all: float) -> dict[str, float]:
    gen = state.generator
    real = real_all[_batch_index(state, real_all.shape[0], min(p["batch_size"], real_all.shape[0]))]
    out = gen(gen.draw_noise(p["noise_samples"], state.rng), windows=real)
    shared = gen.config.noise_sharing == "shared"
    nll = -combine_log_likelihood(out.window_log_probs, shared=shared, block=p.get("likelihood_block") or None).mean()
    state.opt_generator.zero_grad(set_to_none=True)
    nll.backward()
    state.opt_generator.step()
    row = {"generator_loss": float(nll.detach()), "nll": float(nll.detach()),
           "spikes_real": float(real.sum(dim=(1, 2)).mean())}
    if gen.backend == "statevector":  # on the MPS backend the spike probabilities cost environments: not logged
        row["spikes_generated"] = float(out.spike_probabilities.detach().sum(dim=(1, 2)).mean())
    return row


def step_objective(params: dict[str, Any], step: int) -> str:
    """What step ``step`` (0-based) optimizes: ``"likelihood"``, ``"adversarial"`` or ``"bce"`` (QCE 2023)."""
    if params["model"] == "qce2023":
        return "bce"
    objective = params.get("objective", "adversarial")
    if objective == "hybrid":
        return "likelihood" if step < params["pretrain_steps"] else "adversarial"
    return objective


def learning_rate(base: float, step: int, total: int, schedule: str) -> float:
    """The learning rate of step ``step`` (0-based) of ``total``: ``"constant"``, or ``"cosine"`` decay from ``base`` to 0."""
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))
    return base


def _set_learning_rates(state: TrainingState, params: dict[str, Any]) -> None:
    schedule = params.get("lr_schedule", "constant")
    for opt, base in ((state.opt_generator, params["lr_generator"]), (state.opt_critic, params["lr_critic"])):
        for group in opt.param_groups:
            group["lr"] = learning_rate(base, state.step, params["steps"], schedule)


_STEPS = {"likelihood": _likelihood_step, "adversarial": _wgan_step, "bce": _bce_step}


def train_step(state: TrainingState, params: dict[str, Any], real_all: torch.Tensor, target_all: float) -> dict[str, float]:
    """One training step on real windows ``real_all: (N, t, n)`` float.

    Adversarial: ``n_critic`` critic updates, then one generator update;
    likelihood: one generator update on the Monte Carlo log-likelihood of a real
    batch (:mod:`spiqgan.training.likelihood`); hybrid: likelihood for the first
    ``pretrain_steps`` steps, adversarial after. ``target_all`` is the mean spike
    count per real window (the K-loss target with ``k_target="dataset"``). Does
    not advance ``state.step``, record, or evaluate: :func:`train_steps` does.
    Returns the step's metrics.
    """
    return _STEPS[step_objective(params, state.step)](state, params, real_all, target_all)


def train_steps(
    state: TrainingState,
    params: dict[str, Any],
    windows: np.ndarray,
    n_steps: int,
    *,
    on_eval: Callable[[TrainingState], None] | None = None,
    progress: Any | None = None,
) -> TrainingState:
    """Run ``n_steps`` training steps from ``state.step`` on training ``windows: (N, t, n)`` uint8.

    ``params`` are the resolved hyperparameters of :class:`spiqgan.models.gan.SpiQGAN`.
    ``on_eval(state)`` is called after every evaluation (to write checkpoints).
    """
    real_all = torch.as_tensor(windows, dtype=torch.float32, device=state.generator.rotations.device)
    target_all = float(real_all.sum(dim=(1, 2)).mean())

    def evaluate_now() -> float | None:
        js = generated_js(state.generator, windows, params["js_windows"], params["seed"] + 1)
        if js is not None and (state.best_js is None or js < state.best_js):
            state.best_js, state.best_step = js, state.step
            state.best_generator = copy.deepcopy({k: v.detach().clone() for k, v in state.generator.state_dict().items()})
        return js

    if state.step == 0 and not state.history:
        state.initial_generator = {k: v.detach().clone() for k, v in state.generator.state_dict().items()}
        _record(state, {"step": 0, "js": evaluate_now(), "seconds": 0.0})
        if on_eval is not None:
            on_eval(state)
    end = state.step + int(n_steps)
    last_js = state.history[-1]["js"] if state.history else math.nan
    while state.step < end:
        start = time.perf_counter()
        _set_learning_rates(state, params)
        row = train_step(state, params, real_all, target_all)
        state.seconds += time.perf_counter() - start
        state.step += 1
        row["step"] = state.step
        row["seconds"] = state.seconds
        evaluated = state.step % params["eval_every"] == 0 or state.step == end
        if evaluated:
            js = evaluate_now()
            row["js"] = js if js is not None else math.nan
            last_js = row["js"]
        _record(state, row)
        if progress is not None:
            losses_now = ({"NLL": row["nll"]} if "nll" in row else
                          {"critic": row["critic_loss"], "generator": row["generator_loss"]})
            progress.update(state.step, **losses_now,
                            JS=None if last_js is None or math.isnan(last_js) else last_js)
        if evaluated and on_eval is not None:
            on_eval(state)
    return state
