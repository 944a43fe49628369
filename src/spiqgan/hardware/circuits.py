r"""A trained generator as gate-level circuits: one description that every output format is written from.

:func:`circuits_of` turns a trained model into :class:`Circuit`\ s of standard gates (the
OpenQASM 3 ``stdgates.inc`` set: ``h, x, rx, ry, rz, cx, cry``), mid-circuit measurements, resets
and classically conditioned gates, with the trained angles bound and the model's random inputs left
as named circuit inputs:

* **SpiQGAN chain** (``--preset paper`` and relatives): one circuit per sub-generator, inputs
  ``gamma_0 .. gamma_{q-1}`` (the noise angles; shared noise feeds the same values to every step).
  Layer by layer, each qubit gets :math:`E(w\gamma)`, :math:`R_Y(\theta)`, :math:`R_Z(\phi)`, then
  ``cx`` along the chain; the feature qubits are measured into ``spikes`` (bit ``j`` = neuron ``j``).
* **QCE 2023** (``--preset qce2023``): the same, with the :math:`R_Y` encoding in the first layer only,
  and every qubit measured: ``basis`` (the feature register) and ``ancilla`` (post-selected on 0).
* **Born machines** (``cry``, ``iqp``, ``bitflip``): one circuit per time step, inputs ``z_0 .. z_{d-1}``
  (the latent common state), angles shifted by the loadings. A ``cry`` model that conditions on
  earlier steps (``memory``, ``history``) is one *window* circuit instead: its ``n`` qubits are
  measured into ``spikes_0``, reset, and reused for the next step, whose rotations are conditioned
  on the measured bits (feed-forward); its inputs are ``z_k_t{s}``, the latent value at step ``s``.
  The count term conditions neuron ``j`` on how many of neurons ``0..j-1`` fired at the step: the
  circuit measures each neuron as soon as its rotations are done and conditions on the count
  (:class:`CountAtLeast`, lowered to single-bit conditions by :func:`lower_counts`). ``bitflip``
  flips its bits through one ancilla, rotated, entangled and reset per generator (a coin tossed and
  forgotten), so its outcome distribution is the classical model's.

For fixed inputs, every circuit's outcome distribution is exactly the model's (tests check it to
1e-9 through Qiskit, its OpenQASM 3 importer and PennyLane). Nothing here imports Qiskit or
PennyLane: :mod:`spiqgan.hardware.qasm`, :mod:`spiqgan.hardware.qiskit_io` and
:mod:`spiqgan.hardware.pennylane_io` write these descriptions out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Union

import numpy as np

from spiqgan.exceptions import ConfigError

__all__ = ["Angle", "Bit", "CountAtLeast", "Op", "Circuit", "Export", "circuits_of", "lower_counts", "GATES"]

#: the gates a circuit may hold, with their numbers of qubits
GATES = {"h": 1, "x": 1, "rx": 1, "ry": 1, "rz": 1, "cx": 2, "cry": 2}


@dataclass(frozen=True)
class Angle:
    """A rotation angle ``const + sum(coefficient * input)``: bound numbers and named circuit inputs."""

    const: float
    terms: tuple[tuple[str, float], ...] = ()

    def scaled(self, factor: float) -> "Angle":
        return Angle(self.const * factor, tuple((name, c * factor) for name, c in self.terms))

    def __str__(self) -> str:
        """``const + c1*name1 - c2*name2``, numbers written exactly (``repr``), a zero constant left out."""
        parts = [] if self.const == 0 and self.terms else [repr(float(self.const))]
        for name, c in self.terms:
            parts.append(f"{'- ' if c < 0 and parts else ('-' if c < 0 else ('+ ' if parts else ''))}{abs(c)!r}*{name}")
        return " ".join(parts)


@dataclass(frozen=True)
class Bit:
    """Condition: the classical bit ``register[index]`` is 1."""

    register: str
    index: int


@dataclass(frozen=True)
class CountAtLeast:
    """Condition: at least ``m`` of the bits measured into ``register`` so far are 1."""

    register: str
    m: int


Condition = Union[Bit, CountAtLeast]


@dataclass(frozen=True)
class Op:
    """One instruction: a gate of :data:`GATES`, ``"measure"`` (into ``bit``) or ``"reset"``, done when all of ``when`` hold.

    ``trainable``: whether the angle holds a trained parameter (what a gradient shifts).
    """

    name: str
    qubits: tuple[int, ...]
    angle: Angle | None = None
    bit: tuple[str, int] | None = None
    when: tuple[Condition, ...] = ()
    trainable: bool = True


@dataclass
class Circuit:
    """A circuit: qubits, named float inputs, classical registers (in order) and instructions.

    ``steps`` maps each output register to the time step whose spikes it holds (``basis`` and
    ``ancilla`` of the QCE 2023 circuit hold its step's readout); registers not in it are scratch.
    """

    name: str
    n_qubits: int
    inputs: tuple[str, ...]
    registers: dict[str, int]
    ops: list[Op] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)
    description: str = ""
    #: where each time step's instructions begin (a window circuit holds several steps)
    step_starts: list[int] = field(default_factory=lambda: [0])

    def add(self, name: str, *qubits: int, angle: Angle | None = None, bit: tuple[str, int] | None = None,
            when: tuple[Condition, ...] = (), trainable: bool = True) -> None:
        if name in GATES and angle is None and name not in ("h", "x", "cx"):
            raise ValueError(f"gate {name} needs an angle")
        self.ops.append(Op(name, tuple(qubits), angle, bit, tuple(when), trainable and angle is not None))

    def measured(self) -> list[tuple[str, int]]:
        """The bits of every register, in register order (the layout of an outcome)."""
        return [(reg, i) for reg, size in self.registers.items() for i in range(size)]


@dataclass
class Export:
    """A model's circuits and what their inputs and outputs mean.

    ``inputs`` says how a window's input values are drawn (``"uniform"`` noise angles, or a
    ``"latent"`` rule of values, weights and the probability of keeping the value between steps);
    ``readout`` how measured bits become spikes (``"sample"``: the bits are the spikes;
    ``"threshold"``: a neuron spikes when its estimated spike probability exceeds 0.5;
    ``"basis"``: the QCE 2023 rule, see :mod:`spiqgan.quantum.generator`).
    """

    model: str
    n_neurons: int
    n_timesteps: int
    circuits: list[Circuit]
    inputs: dict[str, Any]
    readout: str = "sample"
    neurons: list[int] = field(default_factory=list)
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @property
    def window_circuit(self) -> bool:
        """Whether one circuit draws a whole window (feed-forward between steps)."""
        return len(self.circuits) == 1 and self.n_timesteps > 1

    def manifest(self) -> dict[str, Any]:
        return {"model": self.model, "n_neurons": self.n_neurons, "n_timesteps": self.n_timesteps,
                "neurons": self.neurons, "readout": self.readout, "inputs": self.inputs,
                "hyperparameters": self.hyperparameters,
                "circuits": [{"name": c.name, "qubits": c.n_qubits, "inputs": list(c.inputs),
                              "registers": c.registers, "steps": c.steps, "description": c.description}
                             for c in self.circuits]}


# ----------------------------------------------------------------------------- SpiQGAN chain and QCE 2023
def _chain_circuits(gen: Any) -> list[Circuit]:
    """One circuit per sub-generator of a :class:`~spiqgan.quantum.generator.PatchGenerator`."""
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


# ----------------------------------------------------------------------------- Born machines
def _latent_terms(load: np.ndarray, names: list[str]) -> tuple[tuple[str, float], ...]:
    return tuple((names[k], float(load[k])) for k in range(load.shape[0]))


def _cry_step(c: Circuit, s: int, v: dict[str, np.ndarray], reg: str, latent: list[str], earlier: list[str]) -> None:
    """The controlled-RY circuit of step ``s`` onto ``c`` (neurons on qubits ``0..n-1``), measured into ``reg``."""
    n = v["angles_"].shape[1]
    pairs = v["pairs_"] if v["pairs_"].ndim == 1 else v["pairs_"][s]
    w = np.zeros((n, n))
    i_idx, j_idx = np.triu_indices(n, 1)
    w[j_idx, i_idx] = pairs
    mem, own, pad, count = v["memory_"], v["own_"], v["pad_"], v["count_"]
    early = count.size > 0  # the count term conditions on measured neurons
    for j in range(n):
        const = float(v["angles_"][s, j])
        conditioned = []
        for lag in range(1, max(mem.shape[0], own.shape[0]) + 1):
            weights = np.zeros(n)
            if lag <= mem.shape[0]:
                weights += mem[lag - 1][j]
            if lag <= own.shape[0]:
                weights[j] += own[lag - 1][j]
            if s - lag < 0:  # before the window: the training rates
                const += float(weights @ pad)
            else:
                conditioned += [(float(weights[i]), Bit(earlier[s - lag], i)) for i in range(n) if weights[i] != 0]
        if early:
            const += float(count[0])
        c.add("ry", j, angle=Angle(const, _latent_terms(v["loadings_"][s, j], latent)))
        for value, cond in conditioned:
            c.add("ry", j, angle=Angle(value), when=(cond,))
        if early:
            for m in range(1, j + 1):
                c.add("ry", j, angle=Angle(float(count[m] - count[m - 1])), when=(CountAtLeast(reg, m),))
        for i in range(j):
            if w[j, i] != 0:
                c.add("cry", i, j, angle=Angle(float(w[j, i])))
        if early:
            c.add("measure", j, bit=(reg, j))
    if not early:
        for j in range(n):
            c.add("measure", j, bit=(reg, j))


def _iqp_step(c: Circuit, s: int, v: dict[str, np.ndarray], latent: list[str]) -> None:
    r"""H, :math:`e^{i(\sum a Z + \sum b ZZ)}` as ``rz(-2a)`` and ``cx, rz(-2b), cx``, H, measure."""
    n = v["angles_"].shape[1]
    pairs = v["pairs_"] if v["pairs_"].ndim == 1 else v["pairs_"][s]
    for j in range(n):
        c.add("h", j)
    for j in range(n):
        c.add("rz", j, angle=Angle(float(v["angles_"][s, j]), _latent_terms(v["loadings_"][s, j], latent)).scaled(-2.0))
    for (i, j), b in zip(zip(*np.triu_indices(n, 1)), pairs):
        c.add("cx", int(i), int(j))
        c.add("rz", int(j), angle=Angle(-2.0 * float(b)))
        c.add("cx", int(i), int(j))
    for j in range(n):
        c.add("h", j)
    for j in range(n):
        c.add("measure", j, bit=("spikes", j))


def _bitflip_step(c: Circuit, s: int, v: dict[str, np.ndarray], latent: list[str]) -> None:
    r"""Each generator: ``ry(2 theta)`` on the ancilla, ``cx`` to its bits, reset (flip with probability :math:`\sin^2\theta`)."""
    n = v["angles_"].shape[1]
    pairs = v["pairs_"] if v["pairs_"].ndim == 1 else v["pairs_"][s]
    anc = n
    gens = [((j,), Angle(float(v["angles_"][s, j]), _latent_terms(v["loadings_"][s, j], latent))) for j in range(n)]
    gens += [((int(i), int(j)), Angle(float(b))) for (i, j), b in zip(zip(*np.triu_indices(n, 1)), pairs)]
    for targets, angle in gens:
        c.add("ry", anc, angle=angle.scaled(2.0))
        for j in targets:
            c.add("cx", anc, j)
        c.add("reset", anc)
    for j in range(n):
        c.add("measure", j, bit=("spikes", j))


def _born_circuits(model: Any) -> tuple[list[Circuit], dict[str, Any]]:
    p = model.params_
    t, n, d = p["n_timesteps"], p["n_neurons"], p["latent_dim"]
    v = {k: np.asarray(getattr(model, k), dtype=np.float64) for k in model._FITTED}
    family = model.family
    windowed = family == "cry" and t > 1 and (v["memory_"].shape[0] or v["own_"].shape[0])
    z, w = model._latent()
    keep = 1.0 / (1.0 + math.exp(-float(v["stay_"][0]))) if v["stay_"].size else 1.0
    ancilla = 1 if family == "bitflip" else 0
    what = {"cry": "controlled-RY", "iqp": "IQP", "bitflip": "bit-flip"}[family]
    if windowed:
        regs = {f"spikes_{s}": n for s in range(t)}
        latent_by_step = [[f"z_{k}_t{s}" for k in range(d)] for s in range(t)]
        c = Circuit("window", n, tuple(x for names in latent_by_step for x in names), regs,
                    steps={f"spikes_{s}": s for s in range(t)},
                    description=f"a whole window of {t} steps: {what} circuits on {n} qubits, measured, reset and "
                                "reused; each step's rotations conditioned on the earlier steps' spikes")
        c.step_starts = []
        for s in range(t):
            c.step_starts.append(len(c.ops))
            if s:
                for j in range(n):
                    c.add("reset", j)
            _cry_step(c, s, v, f"spikes_{s}", latent_by_step[s], list(regs))
        circuits = [c]
    else:
        circuits = []
        latent = [f"z_{k}" for k in range(d)]
        for s in range(t):
            c = Circuit(f"step_{s}", n + ancilla, tuple(latent), {"spikes": n}, steps={"spikes": s},
                        description=f"time step {s} of {t}: {what} circuit on {n} qubits"
                                    + (" and one ancilla" if ancilla else ""))
            if family == "cry":
                _cry_step(c, s, v, "spikes", latent, [])
            elif family == "iqp":
                _iqp_step(c, s, v, latent)
            else:
                _bitflip_step(c, s, v, latent)
            circuits.append(c)
    inputs = {"kind": "latent", "values": z.numpy().tolist(), "weights": w.numpy().tolist(),
              "keep_probability": keep, "dimensions": d,
              "rule": "each window draws a latent value from the weights for its first step; at every later step "
                      "it keeps the value with keep_probability, else draws anew; step s's circuit gets the value "
                      "at step s as its z inputs"}
    return circuits, inputs


# ----------------------------------------------------------------------------- entry points
def circuits_of(model: Any, *, which: str = "last", neurons: list[int] | None = None) -> Export:
    """The circuits of a trained model: a :class:`~spiqgan.model.SpiQGAN` (or its
    :class:`~spiqgan.quantum.generator.PatchGenerator`) or a Born machine of :mod:`spiqgan.born`.

    Raises :class:`ConfigError` for a model that is not a quantum circuit (the classical baselines)
    or is not fitted.
    """
    from spiqgan.born import BornMachine
    from spiqgan.model import SpiQGAN
    from spiqgan.quantum.generator import PatchGenerator

    if isinstance(model, (SpiQGAN, PatchGenerator)):
        gen = model.generator_at(which) if isinstance(model, SpiQGAN) else model
        cfg = gen.config
        circuits = _chain_circuits(gen)
        inputs = {"kind": "uniform", "low": 0.0, "high": cfg.noise_scale * math.pi,
                  "shared_across_steps": cfg.noise_sharing == "shared",
                  "rule": "each window draws gamma_j ~ U[low, high] once for all steps (shared) or per step"}
        if cfg.architecture == "qce2023":
            inputs["qce_offset"] = cfg.qce_offset if cfg.qce_offset is not None else 2.0 ** -cfg.n_feature_qubits
        exp = Export("spiqgan" if cfg.architecture == "spiqgan" else "qce2023", cfg.n_neurons, gen.n_timesteps,
                     circuits, inputs, readout=cfg.readout,
                     hyperparameters=model.resolved_params() if isinstance(model, SpiQGAN) else cfg.to_dict())
    elif isinstance(model, BornMachine):
        model._check_fitted()
        circuits, inputs = _born_circuits(model)
        exp = Export(model.name, model.params_["n_neurons"], model.params_["n_timesteps"], circuits, inputs,
                     hyperparameters=dict(model.params_))
    else:
        raise ConfigError(f"{type(model).__name__} is a classical model: only the quantum generators (spiqgan, "
                          "the papers' presets, cry, iqp, bitflip) have circuits to export.")
    exp.neurons = list(neurons) if neurons is not None else list(range(exp.n_neurons))
    if len(exp.neurons) != exp.n_neurons:
        raise ConfigError(f"{len(exp.neurons)} neuron ids for a model of {exp.n_neurons} neurons.")
    return exp


def lower_counts(circuit: Circuit) -> Circuit:
    """The circuit with :class:`CountAtLeast` conditions turned into single-bit conditions.

    For every register that a count condition reads, a register ``count_<reg>`` holds a thermometer
    code of how many of its measured bits are 1 (bit ``m - 1``: at least ``m``), written by an added
    ancilla: after each measurement of a 1, bit ``m - 1`` becomes 1 where bit ``m - 2`` is (highest
    ``m`` first), by an ``x``, a measurement and a reset of the ancilla. What OpenQASM 3 importers and
    Qiskit conditions take: conditions on single bits, no classical arithmetic.
    """
    counted = {c.register for op in circuit.ops for c in op.when if isinstance(c, CountAtLeast)}
    if not counted:
        return circuit
    anc = circuit.n_qubits
    therm = {r: f"count_{r}" for r in counted}
    out = replace(circuit, n_qubits=anc + 1, registers={**circuit.registers, **{therm[r]: circuit.registers[r]
                                                                                for r in sorted(counted)}},
                  ops=[], step_starts=[])
    starts = set(circuit.step_starts)
    for k, op in enumerate(circuit.ops):
        if k in starts:
            out.step_starts.append(len(out.ops))
        when = tuple(Bit(therm[c.register], c.m - 1) if isinstance(c, CountAtLeast) else c for c in op.when)
        out.ops.append(replace(op, when=when))
        if op.name == "measure" and op.bit[0] in counted:
            if op.when:
                raise ValueError("a conditioned measurement into a counted register")
            reg, i = op.bit
            fired = Bit(reg, i)
            for m in range(i + 1, 0, -1):  # at most i + 1 of bits 0..i can be 1
                cond = (fired,) if m == 1 else (fired, Bit(therm[reg], m - 2))
                out.add("x", anc, when=cond)
                out.add("measure", anc, bit=(therm[reg], m - 1), when=cond)
                out.add("reset", anc, when=cond)
    return out
