r"""Classical Wasserstein GANs: the SpiQGAN training with a classical generator.

The critic, the losses (Wasserstein with gradient penalty, the K-term on the
spike count) and the straight-through gradient through the binary samples are
those of SpiQGAN (:mod:`spiqgan.training.critic`, :mod:`spiqgan.training.losses`); only the
generator differs. It maps noise :math:`z \sim \mathcal N(0, I_{d})` to spike
probabilities :math:`p(z) \in (0, 1)^{t \times n}`, and a window is
:math:`x \sim \mathrm{Bernoulli}(p(z))`:

``wgan-mlp``
    ``z -> Linear(d, h) -> ReLU -> Linear(h, t n) -> sigmoid``.
``wgan-conv``
    Spike-GAN-style (Molano-Mazon et al. 2018), neurons as channels and
    convolutions over time, simplified to ``z -> Linear(d, c t) -> ReLU ->
    Conv1d(c, c, 3) -> ReLU -> Conv1d(c, n, 3) -> sigmoid`` (same padding).

Five critic updates per generator update (``n_critic=5``, the WGAN-GP recipe of
Gulrajani et al. 2017; SpiQGAN's paper uses 2): on neurons 0-9 of the
salamander recording at t = 1, 3000 steps, hidden size 64, held-out firing-rate
error fell from 268x to 14x the noise floor and k-probability from 80x to 42x
(one seed). Training longer (15000 steps), slower (learning rates 1e-4) or with
relaxed (probability) critic inputs did not do better.

``size`` is ``h`` or ``c``; ``"matched"`` picks the size whose parameter count
is closest to that of a default :class:`spiqgan.models.gan.SpiQGAN` generator for
the same ``(n, t)``. Only the generator's parameters count (the critic is
training scaffolding, as for SpiQGAN).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from spiqgan.training import losses
from spiqgan.training.critic import Critic, init_layer
from spiqgan.models.base import ModelConfigError, ArrayModel

__all__ = ["WGAN_MLP", "WGAN_Conv", "spiqgan_parameter_count"]


def spiqgan_parameter_count(n_neurons: int, n_timesteps: int, **options: Any) -> int:
    """Trainable parameters of a SpiQGAN generator for ``(n, t)`` (default settings unless given)."""
    from spiqgan.models.gan import SpiQGAN

    return SpiQGAN(n_neurons, n_timesteps, **options).count_parameters()


class _MLPGenerator(torch.nn.Module):
    def __init__(self, noise_dim: int, size: int, t: int, n: int) -> None:
        super().__init__()
        self.t, self.n = t, n
        self.net = torch.nn.Sequential(torch.nn.Linear(noise_dim, size), torch.nn.ReLU(), torch.nn.Linear(size, t * n))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).reshape(-1, self.t, self.n)

    @staticmethod
    def count(noise_dim: int, size: int, t: int, n: int) -> int:
        return size * (noise_dim + 1 + t * n) + t * n


class _ConvGenerator(torch.nn.Module):
    def __init__(self, noise_dim: int, size: int, t: int, n: int) -> None:
        super().__init__()
        self.t, self.size = t, size
        self.inp = torch.nn.Linear(noise_dim, size * t)
        self.conv1 = torch.nn.Conv1d(size, size, 3, padding=1)
        self.conv2 = torch.nn.Conv1d(size, n, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(z)).reshape(-1, self.size, self.t)
        h = self.conv2(torch.relu(self.conv1(h)))  # (batch, n, t)
        return torch.sigmoid(h).transpose(1, 2)

    @staticmethod
    def count(noise_dim: int, size: int, t: int, n: int) -> int:
        return (noise_dim + 1) * size * t + 3 * size * size + size + 3 * size * n + n


def _part(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of ``tensors`` under ``prefix``, without it."""
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _flat_optimizer(opt: torch.optim.Optimizer, prefix: str) -> dict[str, torch.Tensor]:
    """An optimizer's per-parameter state as flat named tensors (``prefix + "<index>.<name>"``)."""
    return {f"{prefix}{i}.{name}": torch.as_tensor(v).detach().clone()
            for i, entry in opt.state_dict()["state"].items() for name, v in entry.items()}


def _optimizer_state(opt: torch.optim.Optimizer, flat: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The state dict of ``opt`` (its own parameter groups) with the per-parameter state of :func:`_flat_optimizer`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value.clone()
    return {"state": state, "param_groups": opt.state_dict()["param_groups"]}


class _ClassicalWGAN(ArrayModel):
    """A Wasserstein GAN with a classical generator (see the module docstring).

    Parameters
    ----------
    n_neurons, n_timesteps
        ``n`` and ``t`` of the windows (``None``: those of the training windows).
    size
        Hidden units (MLP) or channels (conv) of the generator, or ``"matched"`` to SpiQGAN's parameter count.
    noise_dim
        Dimension of the generator's noise.
    loss
        ``"k"`` (the K-loss, weight ``k_weight``) or ``"standard"`` (no K-term).
    k_weight
        ``K``.
    critic_hidden
        Hidden units of the critic.
    n_critic
        Critic updates per generator update.
    gp_weight
        Gradient-penalty weight.
    batch_size, lr_generator, lr_critic
        Batch size and Adam learning rates.
    steps
        Generator updates.
    seed
        Seeds the fit and sampling.
    """

    _net: type[torch.nn.Module] = _MLPGenerator
    CHOICES = {"loss": ("k", "standard")}

    def __init__(self, n_neurons: int | None = None, n_timesteps: int | None = None, *, size: int | str = "matched",
                 noise_dim: int = 8, loss: str = "k", k_weight: float = 1.0, critic_hidden: int = 64,
                 n_critic: int = 5, gp_weight: float = 10.0, batch_size: int = 256, lr_generator: float = 1e-3,
                 lr_critic: float = 1e-3, steps: int = 3000, seed: int = 0) -> None:
        super().__init__(n_neurons, n_timesteps, seed=seed)
        self.size, self.noise_dim, self.loss, self.k_weight = size, noise_dim, loss, k_weight
        self.critic_hidden, self.n_critic, self.gp_weight = critic_hidden, n_critic, gp_weight
        self.batch_size, self.lr_generator, self.lr_critic, self.steps = batch_size, lr_generator, lr_critic, steps

    def resolved_params(self) -> dict[str, Any]:
        p = super().resolved_params()
        self._check_positive(p, ("noise_dim", "critic_hidden", "n_critic", "batch_size", "steps"))
        self._check_positive(p, ("gp_weight", "lr_generator", "lr_critic"), float)
        if p["loss"] not in ("k", "standard"):
            raise ModelConfigError(f"loss must be 'k' or 'standard', got {p['loss']!r}.")
        if not (isinstance(p["k_weight"], (int, float)) and p["k_weight"] >= 0):
            raise ModelConfigError(f"k_weight must be >= 0, got {p['k_weight']!r}.")
        size = p["size"]
        if size != "matched" and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ModelConfigError(f"size must be a positive integer or 'matched', got {size!r}.")
        return p

    #: training steps between the chances to checkpoint a fit in progress (see ArrayModel)
    CHECKPOINT_STEPS = 100

    def progress_steps(self) -> int:
        return int(self.steps)

    def _resolve_size(self, p: dict[str, Any]) -> int:
        if p["size"] != "matched":
            return int(p["size"])
        t, n, d = p["n_timesteps"], p["n_neurons"], p["noise_dim"]
        target = spiqgan_parameter_count(n, t)
        return min(range(1, 4096), key=lambda s: abs(self._net.count(d, s, t, n) - target))

    def _build(self, p: dict[str, Any]) -> torch.nn.Module:
        self.size_ = self._resolve_size(p)
        net = self._net(p["noise_dim"], self.size_, p["n_timesteps"], p["n_neurons"]).double()
        gen = torch.Generator().manual_seed(p["seed"])
        for layer in net.modules():
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv1d)):
                init_layer(layer, gen)
        return net

    def _fit(self, x: np.ndarray, p: dict[str, Any], progress: Any | None) -> None:
        from spiqgan.training.loop import HISTORY_FIELDS

        gen = self._build(p)
        t, n = x.shape[1:]
        critic = Critic(t * n, hidden=p["critic_hidden"], seed=p["seed"] + 1).double()
        opt_g = torch.optim.Adam(gen.parameters(), lr=p["lr_generator"], betas=(0.5, 0.9))
        opt_c = torch.optim.Adam(critic.parameters(), lr=p["lr_critic"], betas=(0.5, 0.9))
        rng = torch.Generator().manual_seed(p["seed"] + 2)
        real_all = torch.as_tensor(x, dtype=torch.float64)
        target = float(real_all.sum(dim=(1, 2)).mean())
        k_weight = p["k_weight"] if p["loss"] == "k" else 0.0
        batch, start = p["batch_size"], time.perf_counter()

        def draw(count: int) -> tuple[torch.Tensor, torch.Tensor]:
            prob = gen(torch.randn(count, p["noise_dim"], generator=rng, dtype=torch.float64))
            hard = (torch.rand(prob.shape, generator=rng, dtype=torch.float64) < prob).to(prob.dtype)
            return hard + prob - prob.detach(), prob  # straight-through: the value is binary

        first = 1
        resume = self._take_resume()
        if resume is not None:  # continue the interrupted fit: both networks, both optimizers, the random stream
            saved = resume["tensors"]
            gen.load_state_dict(_part(saved, "gen."))
            critic.load_state_dict(_part(saved, "critic."))
            for name, opt in (("opt_g.", opt_g), ("opt_c.", opt_c)):
                opt.load_state_dict(_optimizer_state(opt, _part(saved, name)))
            rng.set_state(saved["rng"])
            first = int(resume["meta"]["step"]) + 1
        for step in range(first, p["steps"] + 1):
            for _ in range(p["n_critic"]):
                with torch.no_grad():
                    fake = draw(batch)[0]
                real = real_all[torch.randint(len(real_all), (batch,), generator=rng)]
                c_fake, c_real = critic(fake), critic(real)
                c_loss = losses.critic_loss(c_fake, c_real) + p["gp_weight"] * losses.gradient_penalty(
                    critic, real, fake, rng)
                opt_c.zero_grad(set_to_none=True)
                c_loss.backward()
                opt_c.step()
            fake, prob = draw(batch)
            adv = losses.generator_adversarial_loss(critic(fake))
            k = losses.k_term(prob.sum(dim=(1, 2)), target, k_weight)
            opt_g.zero_grad(set_to_none=True)
            (adv + k).backward()
            opt_g.step()
            row = {"step": step, "critic_loss": float(c_loss.detach()),
                   "wasserstein": float((c_real.mean() - c_fake.mean()).detach()),
                   "generator_loss": float((adv + k).detach()), "k_term": float(k.detach()) if k_weight else 0.0,
                   "spikes_generated": float(fake.detach().sum() / batch),
                   "spikes_real": target, "seconds": time.perf_counter() - start}
            self.history_.append({f: row.get(f, math.nan) for f in HISTORY_FIELDS})
            if progress is not None:
                progress.update(step, critic=row["critic_loss"], generator=row["generator_loss"])
            if step % self.CHECKPOINT_STEPS == 0 and step < p["steps"]:
                self._checkpoint_progress("wgan", {
                    **{f"gen.{k}": v.detach().clone() for k, v in gen.state_dict().items()},
                    **{f"critic.{k}": v.detach().clone() for k, v in critic.state_dict().items()},
                    **_flat_optimizer(opt_g, "opt_g."), **_flat_optimizer(opt_c, "opt_c."),
                    "rng": rng.get_state()}, {"step": step})
        self.generator_ = gen.eval()

    def _n_parameters(self) -> int:
        return sum(q.numel() for q in self.generator_.parameters())

    def _sample(self, n_windows: int, rng: np.random.Generator) -> np.ndarray:
        z = torch.as_tensor(rng.standard_normal((n_windows, self.params_["noise_dim"])))
        with torch.no_grad():
            prob = self.generator_(z).numpy()
        return rng.random(prob.shape) < prob

    def _state(self) -> dict[str, Any]:
        return {f"generator.{k}": v for k, v in self.generator_.state_dict().items()}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        gen = self._build(self.params_)
        gen.load_state_dict({k[len("generator."):]: torch.as_tensor(v) for k, v in arrays.items()})
        self.generator_ = gen.eval()


class WGAN_MLP(_ClassicalWGAN):
    """Wasserstein GAN (SpiQGAN's critic and losses) with a one-hidden-layer MLP generator."""

    registered_name = "wgan-mlp"
    _net = _MLPGenerator


class WGAN_Conv(_ClassicalWGAN):
    """Wasserstein GAN (SpiQGAN's critic and losses) with a Spike-GAN-style convolutional generator."""

    registered_name = "wgan-conv"
    _net = _ConvGenerator
