r"""Gate-level circuits as data: the one description that every output format is written from.

A :class:`Circuit` holds standard gates (the OpenQASM 3 ``stdgates.inc`` set: ``h, x, rx, ry, rz,
cx, cry``), mid-circuit measurements, resets and classically conditioned gates, with bound angles
and named float inputs (:class:`Angle`); an :class:`Export` is a model's circuits and what their
inputs and registers mean. Models build them (:class:`spiqgan.models.base.HasCircuits`; each circuit
family of :mod:`spiqgan.quantum.families` writes its own gates); :mod:`spiqgan.hardware` writes
them out as OpenQASM 3, Qiskit or PennyLane. Qubit ``j`` is neuron ``j``, and bit ``j`` of a
``spikes`` register is neuron ``j``. Nothing here imports Qiskit or PennyLane (or torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Union

import numpy as np

__all__ = ["Angle", "Bit", "CountAtLeast", "Condition", "Op", "Circuit", "Export", "lower_counts", "latent_terms",
           "GATES"]

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


def latent_terms(load: np.ndarray, names: list[str]) -> tuple[tuple[str, float], ...]:
    """The input terms ``sum_k load[k] * names[k]`` of an :class:`Angle` (a neuron's latent loadings)."""
    return tuple((names[k], float(load[k])) for k in range(load.shape[0]))


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
