r"""The patch quantum generator: ``t`` sub-generators, one per time step, each the same circuit.

Two circuits are built from one description, :class:`CircuitConfig`:

**SpiQGAN** (``architecture="spiqgan"``, the default). Per sub-generator
``q = n + a`` qubits (``n`` feature qubits = neurons, first; ``a`` ancillas,
last), starting in ``|0...0>``, then ``l`` layers of

1. noise encoding :math:`R_X(w_{j}\gamma_j)` on every qubit ``j``, with
   :math:`\gamma_j \sim U[0, s\pi]` (paper: :math:`s = 1`, :math:`w = 1`), in every
   layer (``noise_layers="all"``, data re-uploading, the paper) or in the first only;
2. trainable :math:`R_Y(\theta_{j})` then :math:`R_Z(\phi_{j})` on every qubit;
3. ``CNOT(j, j+1)`` for ``j = 0 .. q-2``, in that order.

Measuring the feature qubits (ancillas traced out) gives one ``n``-bit pattern,
neuron 0 the most significant bit. One noise vector per sample is shared by
all ``t`` sub-generators (``noise_sharing="shared"``, what couples the time
steps) or drawn per sub-generator (``"per_timestep"``).

**QCE 2023** (``architecture="qce2023"``). Noise encoded once, by
:math:`R_Y(\gamma_j)`, :math:`\gamma \sim U[0, \pi]`, on all qubits; then ``l``
layers of :math:`R_Y, R_Z` on every qubit and the CNOT chain. The ancilla is
measured and the feature register's distribution conditioned on it being
``|0>`` (post-selection, as in PennyLane's patch-GAN demo) gives
:math:`p_j = P(\text{features} = j \mid \text{ancilla} = 0)`; neuron ``j`` is
basis state ``j``, so ``n`` neurons need :math:`f = \max(1, \lceil\log_2 n\rceil)`
feature qubits. Post-processing: :math:`\sigma(p_j - c)`, with ``c`` the
uniform value :math:`2^{-f}` (the paper says only that the constant depends on
the system size: we take the probability of a basis state under a uniform
distribution), and the neuron is active when :math:`\sigma(p_j - c) > 0.5`,
i.e. :math:`p_j > 2^{-f}`. Deterministic given the noise.

Parameter counts
----------------
A SpiQGAN sub-generator has :math:`2 q l` trainable angles (plus :math:`q l'`
encoding weights when they are trainable, :math:`l'` the layers with noise, or
:math:`q^2 l'` with ``noise_mixing``).
The paper states "8 times the number of neurons per time step" for 4 layers;
with the ancilla the circuit really has :math:`2 (n + a) \cdot 4 = 8 (n + a)`:
:meth:`PatchGenerator.resources` reports the real count.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Literal

import torch

from spiqgan.quantum import mps
from spiqgan.quantum.circuit import Angle, Circuit, Export
from spiqgan.quantum import statevector as sim
from spiqgan.exceptions import ConfigError

__all__ = ["CircuitConfig", "PatchGenerator", "GeneratorOutput", "PRESETS", "CIRCUIT_CHOICES", "ConfigError",
           "config_from_preset", "BACKENDS", "resolve_backend", "auto_mps_qubits", "MPS_FULL_DISTRIBUTION_MAX", "chain_circuits", "chain_export"]


Architecture = Literal["spiqgan", "qce2023"]

#: the allowed values of the circuit's string options
CIRCUIT_CHOICES: dict[str, tuple[str, ...]] = {
    "architecture": ("spiqgan", "qce2023"),
    "noise_layers": ("all", "first"),
    "noise_sharing": ("shared", "per_timestep"),
    "readout": ("sample", "threshold", "basis"),
    "init": ("uniform", "identity"),
}

#: the simulators a generator runs on (``"auto"`` picks one by the number of qubits)
BACKENDS = ("auto", "statevector", "mps")


def auto_mps_qubits(n_layers: int) -> int:
    """``"auto"`` simulates chain circuits of more qubits than ``2 l + 2`` as matrix-product states.

    The statevector's step costs ``~ l 2^q``, the MPS's ``~ q 4^l`` per distinct pattern, so the
    crossover moves by two qubits per layer. Measured likelihood steps (64 noise draws, 256 sparse
    windows, one thread; ``python benchmarks/mps_scaling.py --crossover [--layers 3|7]``): equal
    times at q = 8 for l = 3 and q = 12 for l = 5; at l = 7 the MPS is 1.7x faster at q = 16, 2.3x
    slower at q = 14.
    """
    return 2 * n_layers + 2

#: the most neurons for which the MPS backend also returns the whole outcome distribution
MPS_FULL_DISTRIBUTION_MAX = 12


def resolve_backend(config: "CircuitConfig", backend: str = "auto") -> str:
    """``"statevector"`` or ``"mps"`` for a circuit: the one asked for, checked, or ``auto``'s choice.

    Raises :class:`ConfigError` for a statevector beyond :data:`~spiqgan.quantum.statevector.MAX_QUBITS`
    qubits (naming the MPS backend) and for the MPS backend on a circuit that is not the SpiQGAN chain.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}.")
    q = config.n_qubits
    if backend == "auto":
        backend = "mps" if config.architecture == "spiqgan" and q > auto_mps_qubits(config.n_layers) else "statevector"
    if backend == "mps" and config.architecture != "spiqgan":
        raise ConfigError(f"the mps backend simulates the spiqgan chain circuit; the {config.architecture} circuit "
                          f"({q} qubits) runs on the statevector backend: use --backend statevector or auto.")
    if backend == "statevector" and q > sim.MAX_QUBITS:
        raise ConfigError(
            f"{q} qubits per sub-generator is more than the statevector limit of {sim.MAX_QUBITS}: it holds 2**q "
            f"amplitudes per sample and time step ({2 ** q * 8 / 2**20:.0f} MiB each in complex64). Use "
            "--backend mps (exact matrix-product states, any number of qubits) or auto, or fewer neurons."
        )
    return backend


@dataclass(frozen=True)
class CircuitConfig:
    r"""Hyperparameters of one sub-generator circuit and its readout.

    Parameters
    ----------
    n_neurons
        ``n``, neurons per time step.
    n_ancillas
        ``a``, ancilla qubits (default 1).
    n_layers
        ``l``, layers (default 5).
    architecture
        ``"spiqgan"`` or ``"qce2023"`` (see the module docstring).
    noise_scale
        ``s``: :math:`\gamma \sim U[0, s\pi]` (paper: 1).
    noise_layers
        ``"all"`` (re-uploaded in every layer, SpiQGAN paper) or ``"first"``.
    noise_sharing
        ``"shared"``: one noise vector per sample for all time steps (paper);
        ``"per_timestep"``: one per sub-generator.
    trainable_encoding
        Learn a weight ``w`` per qubit, layer and sub-generator in
        :math:`R_X(w\gamma)` (Perez-Salinas et al. 2020); off in the paper (``w = 1``).
    noise_mixing
        With ``trainable_encoding``: every encoded angle is a trainable linear
        combination of all the noise components,
        :math:`R_X(\sum_d W_{jd}\gamma_d)` on qubit ``j`` (per layer and
        sub-generator), starting at :math:`W = I` (the diagonal encoding). A
        noise component can then drive every qubit and, with shared noise,
        every time step: a common input, the source of positive correlations
        in space and time.
    readout
        ``"sample"``: measured bitstrings (SpiQGAN); ``"threshold"``: neuron
        active when its spike probability exceeds 0.5 (the QCE 2023 rule on
        per-neuron probabilities); ``"basis"``: the QCE 2023 basis-state readout
        (the only readout of ``"qce2023"``).
    init
        Trainable angles drawn ``"uniform"`` in :math:`[0, 2\pi)`, or
        ``"identity"``: :math:`\mathcal N(0, \text{init\_scale}^2)`, so that with a
        small noise range training starts near ``|0...0>``, a silent population.
    init_scale
        Standard deviation of the ``"identity"`` initialization.
    qce_offset
        The constant ``c`` of the QCE 2023 readout (neuron ``j`` active when
        :math:`p_j > c`); ``None``: the uniform value :math:`2^{-f}`. With that
        value and ``n = 2^f`` neurons, some :math:`p_j \ge 2^{-f}` always (they sum
        to 1), so at least one neuron fires in every bin: silence cannot be
        expressed. A larger ``c`` allows it.
    """

    n_neurons: int
    n_ancillas: int = 1
    n_layers: int = 5
    architecture: Architecture = "spiqgan"
    noise_scale: float = 1.0
    noise_layers: Literal["all", "first"] = "all"
    noise_sharing: Literal["shared", "per_timestep"] = "shared"
    trainable_encoding: bool = False
    noise_mixing: bool = False
    readout: Literal["sample", "threshold", "basis"] = "sample"
    init: Literal["uniform", "identity"] = "uniform"
    init_scale: float = 0.01
    qce_offset: float | None = None

    def __post_init__(self) -> None:
        def positive(name: str, value: object, minimum: int) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")

        positive("n_neurons", self.n_neurons, 1)
        positive("n_ancillas", self.n_ancillas, 0)
        positive("n_layers", self.n_layers, 1)
        for name, allowed in CIRCUIT_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}.")
        if not (isinstance(self.noise_scale, (int, float)) and 0 <= self.noise_scale <= 2):
            raise ConfigError(f"noise_scale must lie in [0, 2] (gamma ~ U[0, s pi]), got {self.noise_scale!r}.")
        if not (isinstance(self.init_scale, (int, float)) and self.init_scale >= 0):
            raise ConfigError(f"init_scale must be >= 0, got {self.init_scale!r}.")
        if self.qce_offset is not None and not (isinstance(self.qce_offset, (int, float)) and 0 < self.qce_offset < 1):
            raise ConfigError(f"qce_offset must lie in (0, 1) or be None (uniform value), got {self.qce_offset!r}.")
        if self.noise_mixing and not self.trainable_encoding:
            raise ConfigError("noise_mixing learns the encoding weights: it needs trainable_encoding=True.")
        if self.architecture == "qce2023" and self.readout != "basis":
            raise ConfigError("the qce2023 circuit has the basis-state readout only: set readout='basis'.")
        if self.architecture == "spiqgan" and self.readout == "basis":
            raise ConfigError("readout='basis' belongs to the qce2023 circuit; the spiqgan circuit reads out "
                              "'sample' or 'threshold'.")

    @property
    def n_feature_qubits(self) -> int:
        if self.architecture == "qce2023":
            return max(1, math.ceil(math.log2(self.n_neurons)))
        return self.n_neurons

    @property
    def n_qubits(self) -> int:
        return self.n_feature_qubits + self.n_ancillas

    def noise_in_layer(self, layer: int) -> bool:
        return layer == 0 or (self.noise_layers == "all" and self.architecture == "spiqgan")

    def to_dict(self) -> dict:
        return asdict(self)


#: the papers' settings, exactly (``CircuitConfig(n_neurons=n, **PRESETS[name])``)
PRESETS: dict[str, dict] = {
    "paper": dict(architecture="spiqgan", n_ancillas=1, n_layers=5, noise_scale=1.0, noise_layers="all",
                  noise_sharing="shared", trainable_encoding=False, noise_mixing=False, readout="sample", init="uniform"),
    "qce2023": dict(architecture="qce2023", n_ancillas=1, n_layers=5, noise_scale=1.0, noise_layers="first",
                    noise_sharing="shared", trainable_encoding=False, noise_mixing=False, readout="basis", init="uniform"),
}


@dataclass
class GeneratorOutput:
    """What the generator computes for a batch of noise.

    Attributes
    ----------
    probabilities
        ``(batch, t, 2**n)`` exact outcome distribution of each time step (feature
        qubits, ancillas traced out); ``None`` for the deterministic QCE readout, and on the
        MPS backend above :data:`MPS_FULL_DISTRIBUTION_MAX` neurons or when ``windows`` were given.
    spike_probabilities
        ``(batch, t, n)``: P(neuron spikes) for the ``"sample"`` readout; for
        ``"threshold"`` the same probabilities (the readout thresholds them);
        for ``"basis"`` the QCE activation :math:`\\sigma(p_j - c)`. On the MPS backend
        computed when first read (it costs environments, ``O(q D^3)`` per circuit).
    window_log_probs
        ``(batch, B, t)``: :math:`\\log p_s(x_s \\mid z_k)`, the log-probability of each given
        window's pattern at each step under each noise draw, when ``windows`` were given.
    """

    probabilities: torch.Tensor | None
    _spikes: torch.Tensor | None = None
    window_log_probs: torch.Tensor | None = None
    _spikes_from: Callable[[], torch.Tensor] | None = field(default=None, repr=False)

    @property
    def spike_probabilities(self) -> torch.Tensor:
        if self._spikes is None and self._spikes_from is not None:
            self._spikes = self._spikes_from()
        return self._spikes


class PatchGenerator(torch.nn.Module):
    """``t`` sub-generators of :class:`CircuitConfig`, each with its own parameters.

    Parameters
    ----------
    config
        The circuit (the same for every sub-generator).
    n_timesteps
        ``t``, the number of sub-generators.
    dtype
        ``torch.complex64`` (default) or ``torch.complex128``.
    seed
        Seed (or ``torch.Generator``) of the parameter initialization.
    backend
        ``"statevector"`` (``2^q`` amplitudes, every outcome's probability at once), ``"mps"``
        (exact matrix-product states of bond ``2^l``, :mod:`spiqgan.quantum.mps`: the probabilities
        of given patterns, any number of qubits) or ``"auto"`` (:func:`resolve_backend`).

    Attributes
    ----------
    rotations : torch.nn.Parameter
        ``(t, l, q, 2)``: the :math:`R_Y` and :math:`R_Z` angles.
    encoding_weights : torch.Tensor
        ``(t, l', q)``: the weights ``w`` of the noise encoding in the ``l'``
        layers with noise (a parameter when trainable, a buffer of ones
        otherwise); ``(t, l', q, q)``, the mixing matrices ``W``, with ``noise_mixing``.
    """

    def __init__(
        self,
        config: CircuitConfig,
        n_timesteps: int,
        *,
        dtype: torch.dtype = torch.complex64,
        seed: int | torch.Generator = 0,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.backend = resolve_backend(config, backend)
        if isinstance(n_timesteps, bool) or not isinstance(n_timesteps, int) or n_timesteps < 1:
            raise ConfigError(f"n_timesteps must be an integer >= 1, got {n_timesteps!r}.")
        if dtype not in (torch.complex64, torch.complex128):
            raise ConfigError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}.")
        self.config = config
        self.n_timesteps = n_timesteps
        self.dtype = dtype
        real = sim._real_dtype(dtype)
        gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
        shape = (n_timesteps, config.n_layers, config.n_qubits)
        if config.init == "uniform":
            rot = torch.rand(*shape, 2, generator=gen, dtype=torch.float64) * (2 * math.pi)
        else:
            rot = torch.randn(*shape, 2, generator=gen, dtype=torch.float64) * config.init_scale
        self.rotations = torch.nn.Parameter(rot.to(real))
        # noisy layers are a prefix (the first, or all): weight k belongs to layer k
        n_noisy = sum(config.noise_in_layer(k) for k in range(config.n_layers))
        weights = torch.ones((n_timesteps, n_noisy, config.n_qubits), dtype=real)
        if config.noise_mixing:
            weights = torch.diag_embed(weights)
        if config.trainable_encoding:
            self.encoding_weights = torch.nn.Parameter(weights)
        else:
            self.register_buffer("encoding_weights", weights)

    # ----------------------------------------------------------------- noise
    def noise_shape(self, batch: int) -> tuple[int, ...]:
        q = self.config.n_qubits
        return (batch, q) if self.config.noise_sharing == "shared" else (batch, self.n_timesteps, q)

    def draw_noise(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Noise angles :math:`\\gamma \\sim U[0, s\\pi]`: ``(batch, q)`` shared or ``(batch, t, q)``."""
        real = sim._real_dtype(self.dtype)
        u = torch.rand(self.noise_shape(batch), generator=generator, dtype=real, device=self.rotations.device)
        return u * (self.config.noise_scale * math.pi)

    # --------------------------------------------------------------- forward
    def _layer_matrices(self, gamma: torch.Tensor) -> torch.Tensor:
        r"""Fused single-qubit gates of every layer: ``(batch * t, l, q, 2, 2)``.

        ``gamma: (batch, t, q)``. Per qubit and layer one 2x2 gate
        :math:`R_Z(\phi) R_Y(\theta) E(w\gamma)`, built for all layers at once.
        """
        cfg = self.config
        batch, t, q = gamma.shape
        theta, phi = self.rotations[..., 0], self.rotations[..., 1]  # (t, l, q)
        n_noisy = self.encoding_weights.shape[1]
        encoding = "rx" if cfg.architecture == "spiqgan" else "ry"
        if cfg.noise_mixing:
            alpha = torch.einsum("tljd,btd->btlj", self.encoding_weights, gamma)  # (batch, t, l', q)
        else:
            alpha = self.encoding_weights[None] * gamma[:, :, None, :]
        noisy = sim.fused_rotation(theta[None, :, :n_noisy], phi[None, :, :n_noisy], alpha, encoding, self.dtype)
        if n_noisy < cfg.n_layers:
            quiet = sim.fused_rotation(theta[:, n_noisy:], phi[:, n_noisy:], None, encoding, self.dtype)
            noisy = torch.cat([noisy, quiet.expand(batch, *quiet.shape)], dim=2)
        return noisy.reshape(batch * t, cfg.n_layers, q, 2, 2)

    def _check_noise(self, noise: torch.Tensor) -> None:
        expected = self.noise_shape(noise.shape[0]) if noise.dim() >= 1 else None
        if noise.dim() < 1 or tuple(noise.shape) != expected:
            raise ConfigError(f"noise must have shape {expected or '(batch, q)'}, got {tuple(noise.shape)}; use draw_noise().")

    def _noise_gates(self, noise: torch.Tensor) -> torch.Tensor:
        """The fused gates of every layer for noise of :meth:`noise_shape` (shared noise spread over the steps)."""
        batch, t, q = noise.shape[0], self.n_timesteps, self.config.n_qubits
        return self._layer_matrices(noise[:, None, :].expand(batch, t, q) if noise.dim() == 2 else noise)

    def forward(
        self, noise: torch.Tensor, shots: int | None = None, generator: torch.Generator | None = None,
        windows: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        """Run all sub-generators on a batch of noise (see :meth:`draw_noise` for its shape).

        ``shots=None`` gives exact probabilities (differentiable); ``shots=N``
        estimates them from ``N`` measurements per sample and time step, drawn
        with ``generator``, as a quantum computer would (not differentiable; statevector only).
        ``windows: (B, t, n)`` 0/1 adds ``window_log_probs``, the log-probability of each
        window's pattern at each step under each noise draw (on the MPS backend each distinct
        pattern is computed once, and the whole distribution is not).
        """
        cfg = self.config
        t = self.n_timesteps
        self._check_noise(noise)
        if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
            raise ConfigError(f"shots must be a positive integer or None (exact), got {shots!r}.")
        if windows is not None and (windows.dim() != 3 or tuple(windows.shape[1:]) != (t, cfg.n_neurons)):
            raise ConfigError(f"windows must have shape (B, {t}, {cfg.n_neurons}), got {tuple(windows.shape)}.")
        batch = noise.shape[0]
        if self.backend == "mps":
            if shots is not None:
                raise ConfigError("shots (finite measurements) need the whole outcome distribution: use the "
                                  "statevector backend, or sample() for measured windows.")
            return self._forward_mps(self._noise_gates(noise), batch, windows)
        probs = self._qubit_probabilities(noise)  # (batch * t, 2**q)
        if shots is not None:
            probs = sim.shot_estimate(probs, shots, generator)
        f, a = cfg.n_feature_qubits, cfg.n_ancillas
        if cfg.architecture == "qce2023":
            joint = probs.reshape(batch * t, 2**f, 2**a)
            kept = joint[:, :, 0]
            post = kept / kept.sum(-1, keepdim=True).clamp_min(torch.finfo(kept.dtype).tiny)
            offset = 2.0**-f if cfg.qce_offset is None else cfg.qce_offset
            activation = torch.sigmoid(post[:, : cfg.n_neurons] - offset)
            return GeneratorOutput(None, activation.reshape(batch, t, cfg.n_neurons))
        dist = sim.marginal_first(probs, f, cfg.n_qubits).reshape(batch, t, 2**f)
        logs = None if windows is None else sim.window_log_probs(dist, windows)
        return GeneratorOutput(dist, sim.bit_marginals(dist, f), logs)

    def _qubit_probabilities(self, noise: torch.Tensor) -> torch.Tensor:
        """Statevector probabilities of all ``q`` qubits (ancillas included), ``(batch * t, 2**q)``."""
        q = self.config.n_qubits
        gates = self._noise_gates(noise)
        state = sim.zero_state(gates.shape[0], q, self.dtype, device=self.rotations.device)
        for layer in range(self.config.n_layers):
            state = sim.apply_layer(state, gates[:, layer], q)
        return sim.probabilities(state)

    def qubit_probabilities(self, noise: torch.Tensor) -> torch.Tensor:
        """Exact outcome distribution of every qubit, ancillas included: ``(batch, t, 2**q)`` (statevector).

        Qubit 0 is the most significant bit; what an exported circuit that measures every qubit
        (the QCE 2023 readout) gives for these noise angles.
        """
        self._check_noise(noise)
        if self.config.n_qubits > sim.MAX_QUBITS:
            raise ConfigError(f"{self.config.n_qubits} qubits is more than the statevector limit of {sim.MAX_QUBITS}.")
        return self._qubit_probabilities(noise).reshape(noise.shape[0], self.n_timesteps, -1)

    def _forward_mps(self, gates: torch.Tensor, batch: int, windows: torch.Tensor | None) -> GeneratorOutput:
        n, t = self.config.n_neurons, self.n_timesteps
        sites = mps.chain_mps(gates)  # batch * t circuits

        def spikes() -> torch.Tensor:
            return mps.spike_probabilities(sites, n).reshape(batch, t, n)

        if windows is None:
            if n <= MPS_FULL_DISTRIBUTION_MAX:
                dist = mps.all_pattern_probabilities(sites, n).reshape(batch, t, 2**n)
                return GeneratorOutput(dist, sim.bit_marginals(dist, n))
            return GeneratorOutput(None, None, None, spikes)
        bits = windows.to(torch.uint8).reshape(-1, n)
        patterns, inverse = torch.unique(bits, dim=0, return_inverse=True)  # each distinct pattern once
        probs = mps.pattern_probabilities(sites, patterns).reshape(batch, t, -1)  # (batch, t, P)
        logs = sim.step_log_probs(probs, inverse.reshape(windows.shape[0], t))  # (batch, B, t)
        return GeneratorOutput(None, None, logs, spikes)

    # -------------------------------------------------------------- sampling
    def readout(self, output: GeneratorOutput, generator: torch.Generator | None = None) -> torch.Tensor:
        """Binary windows ``(batch, t, n)`` uint8 from a forward pass, by the configured readout."""
        cfg = self.config
        if cfg.readout == "sample":
            if output.probabilities is None:
                raise ConfigError("measured windows from a forward pass need the whole outcome distribution, which the "
                                  "mps backend does not form at this size: draw windows with sample().")
            idx = sim.sample_indices(output.probabilities, generator)
            return sim.indices_to_bits(idx, cfg.n_neurons)
        return (output.spike_probabilities > 0.5).to(torch.uint8)

    def _sample_mps(self, noise: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        batch, t = noise.shape[0], self.n_timesteps
        sites = mps.chain_mps(self._noise_gates(noise))
        if self.config.readout == "threshold":
            bits = (mps.spike_probabilities(sites, self.config.n_neurons) > 0.5).to(torch.uint8)
        else:
            bits = mps.sample(sites, self.config.n_neurons, generator)
        return bits.reshape(batch, t, self.config.n_neurons)

    @torch.no_grad()
    def sample(self, n_windows: int, generator: torch.Generator | int | None = None, batch_size: int | None = None) -> torch.Tensor:
        """Draw ``n_windows`` binary windows ``(n_windows, t, n)`` uint8; seeded by ``generator``.

        ``batch_size`` windows are simulated at a time; by default as many as keep
        the states (or MPS) of a batch within 2**22 amplitudes (32 MiB in complex64).
        """
        if isinstance(generator, int):
            generator = torch.Generator(device=self.rotations.device).manual_seed(generator)
        cfg = self.config
        if batch_size is None:
            per_window = (mps.mps_bytes(cfg.n_qubits, cfg.n_layers, 1, 1) if self.backend == "mps"
                          else 2**cfg.n_qubits) * self.n_timesteps
            batch_size = max(1, min(4096, 2**22 // per_window))
        chunks = []
        for start in range(0, int(n_windows), batch_size):
            b = min(batch_size, int(n_windows) - start)
            noise = self.draw_noise(b, generator)
            if self.backend == "mps":
                chunks.append(self._sample_mps(noise, generator))
            else:
                chunks.append(self.readout(self.forward(noise), generator))
        if not chunks:
            return torch.zeros(0, self.n_timesteps, self.config.n_neurons, dtype=torch.uint8)
        return torch.cat(chunks)

    # ------------------------------------------------------------- resources
    def resources(self) -> dict:
        """Qubits, layers, trainable parameters, two-qubit gates and depth of the circuit.

        Counts are per sub-generator and, for parameters and gates, also for
        all ``t``. ``depth`` is the circuit's depth as a transpiler counts it:
        every gate one time step, each as early as its qubits allow (a layer's
        rotations, 3 with noise and 2 without, overlap the previous layer's
        CNOT chain); 33 at 11 qubits and 5 noisy layers. ``depth_fused`` is the
        same with each qubit's rotations of a layer fused into one gate (what
        the simulator applies). ``gate_steps_sequential`` is the sum of the
        layers' depths without overlap (the number this key once reported).
        ``backend`` is the simulator and ``bond_dimension`` the MPS's (``2^l``; ``None`` on a statevector).
        """
        cfg = self.config
        q, l, t = cfg.n_qubits, cfg.n_layers, self.n_timesteps
        noisy = sum(cfg.noise_in_layer(k) for k in range(l))
        per_sub = 2 * q * l + ((q * q if cfg.noise_mixing else q) * noisy if cfg.trainable_encoding else 0)
        singles = [3 if cfg.noise_in_layer(k) else 2 for k in range(l)]
        return {
            "qubits": q,
            "feature_qubits": cfg.n_feature_qubits,
            "ancillas": cfg.n_ancillas,
            "layers": l,
            "sub_generators": t,
            "trainable_parameters_per_sub_generator": per_sub,
            "trainable_parameters": per_sub * t,
            "two_qubit_gates_per_sub_generator": (q - 1) * l,
            "two_qubit_gates": (q - 1) * l * t,
            "depth": _chain_depth(q, singles),
            "depth_fused": _chain_depth(q, [1] * l),
            "gate_steps_sequential": sum(g + q - 1 for g in singles),
            "backend": self.backend,
            "bond_dimension": mps.bond_dimension(l) if self.backend == "mps" else None,
        }

    def extra_repr(self) -> str:
        return f"t={self.n_timesteps}, {self.config}"


def _chain_depth(q: int, singles_per_layer: list[int]) -> int:
    """Depth (as-soon-as-possible schedule) of layers of single-qubit gates then CNOT(j, j+1), j = 0..q-2."""
    ready = [0] * q  # the time step at which each qubit's last gate ends
    for singles in singles_per_layer:
        ready = [r + singles for r in ready]
        for j in range(q - 1):
            ready[j] = ready[j + 1] = max(ready[j], ready[j + 1]) + 1
    return max(ready)


def config_from_preset(preset: str, n_neurons: int, **overrides) -> CircuitConfig:
    """``CircuitConfig`` with a preset's values (``"paper"``, ``"qce2023"``) and any overrides."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}.")
    return replace(CircuitConfig(n_neurons=n_neurons, **PRESETS[preset]), **overrides)


def chain_circuits(gen: "PatchGenerator") -> list[Circuit]:
    """The gate-level circuits of a generator: one per sub-generator, inputs ``gamma_0 .. gamma_{q-1}``.

    Layer by layer, each qubit gets :math:`E(w\\gamma)`, :math:`R_Y(\\theta)`, :math:`R_Z(\\phi)`, then ``cx``
    along the chain; SpiQGAN's feature qubits are measured into ``spikes`` (bit ``j`` = neuron ``j``), the
    QCE 2023 circuit's every qubit into ``basis`` (the feature register) and ``ancilla`` (post-selected on 0).
    """
    cfg = gen.config
    q, f = cfg.n_qubits, cfg.n_feature_qubits
    rot = gen.rotations.detach().double().cpu().numpy()  # (t, l, q, 2)
    weights = gen.encoding_weights.detach().double().cpu().numpy()  # (t, l', q) or (t, l', q, q)
    names = tuple(f"gamma_{j}" for j in range(q))
    encode = "rx" if cfg.architecture == "spiqgan" else "ry"
    out = []
    for s in range(gen.n_timesteps):
        regs = {"spikes": f} if cfg.architecture == "spiqgan" else {"basis": f, "ancilla": cfg.n_ancillas}
        c = Circuit(f"step_{s}", q, names, regs, steps={r: s for r in regs},
                    description=f"sub-generator {s} of {gen.n_timesteps}: {cfg.architecture} chain, {q} qubits, "
                                f"{cfg.n_layers} layers")
        for layer in range(cfg.n_layers):
            for j in range(q):
                if cfg.noise_in_layer(layer):
                    w = weights[s, layer, j]
                    terms = tuple((names[d], float(w[d])) for d in range(q) if w[d] != 0) if cfg.noise_mixing \
                        else ((names[j], float(w)),)
                    c.add(encode, j, angle=Angle(0.0, terms), trainable=cfg.trainable_encoding)
                c.add("ry", j, angle=Angle(float(rot[s, layer, j, 0])))
                c.add("rz", j, angle=Angle(float(rot[s, layer, j, 1])))
            for j in range(q - 1):
                c.add("cx", j, j + 1)
        if cfg.architecture == "spiqgan":  # the ancillas are traced out
            for j in range(f):
                c.add("measure", j, bit=("spikes", j))
        else:
            for j in range(q):
                c.add("measure", j, bit=("basis", j) if j < f else ("ancilla", j - f))
        out.append(c)
    return out


def chain_export(gen: "PatchGenerator", hyperparameters: dict | None = None) -> Export:
    """A generator's circuits (:func:`chain_circuits`) and what their noise inputs and registers mean."""
    cfg = gen.config
    inputs = {"kind": "uniform", "low": 0.0, "high": cfg.noise_scale * math.pi,
              "shared_across_steps": cfg.noise_sharing == "shared",
              "rule": "each window draws gamma_j ~ U[low, high] once for all steps (shared) or per step"}
    if cfg.architecture == "qce2023":
        inputs["qce_offset"] = cfg.qce_offset if cfg.qce_offset is not None else 2.0 ** -cfg.n_feature_qubits
    return Export("spiqgan" if cfg.architecture == "spiqgan" else "qce2023", cfg.n_neurons, gen.n_timesteps,
                  chain_circuits(gen), inputs, readout=cfg.readout,
                  hyperparameters=cfg.to_dict() if hyperparameters is None else hyperparameters)
