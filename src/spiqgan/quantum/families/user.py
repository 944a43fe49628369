r"""Circuits you bring yourself: a PennyLane QNode or a Qiskit circuit as the family of a Born machine.

``spiqgan train --model my_ansatz.py:circuit`` (or ``make_model("my_ansatz.py:circuit", n, t)``) fits a
Born machine whose every step is the circuit ``circuit`` of the Python file ``my_ansatz.py``. Everything
else (the latent state, the memory, the exact likelihood, sampling, evaluation, comparison) is the Born
machine's (:mod:`spiqgan.models.born`).

The contract
------------
* **Qubits.** Neuron ``j`` is qubit (wire) ``j`` and bit ``j`` of a pattern, bit 0 the most significant, as
  everywhere in spiqgan. Qubits after the ``n`` neuron qubits are ancillas: never read out, their outcomes
  summed over.
* **Inputs.** The circuit takes one angle per neuron, ``inputs: (n,)``, which spiqgan computes: the neuron's
  trainable angle at the step plus the latent state's loading plus the memory term (the angle that the
  built-in ``cry`` puts in its ``RY``). This is how the latent state and the memory enter a user circuit.
  The angles start at :math:`2\arcsin\sqrt{r}` (``r`` the neuron's training rate), where ``RY`` on
  :math:`|0\rangle` fires at that rate, so a circuit that applies ``RY(inputs[j])`` to qubit ``j`` starts from
  the independent model.
* **Weights.** The circuit's own trainable parameters, one set shared by the steps (``--couplings per_step``:
  one per step), started at small random values (``--init-scale``). They take the place of the built-in
  families' pair couplings.
* **PennyLane**: a QNode ``circuit(inputs, weights)`` (torch interface) that returns
  ``qml.probs(wires=range(n))``, with ``inputs`` of shape ``(n,)`` or a batch ``(B, n)`` (parameter
  broadcasting), and the weights' shape as the attribute ``circuit.weight_shape`` or the file's
  ``WEIGHT_SHAPE``.
* **Qiskit**: a ``QuantumCircuit`` whose parameters are a ``ParameterVector`` named ``inputs`` of ``n``
  elements and the weights (every other parameter, in ``circuit.parameters`` order). Its gates are simulated
  here in torch (differentiable): the rotations ``rx ry rz p u rxx ryy rzz crx cry crz cp`` with angles linear in
  the parameters, and any gate without free parameters; barriers and final measurements are ignored;
  resets and classically conditioned gates are refused.

The circuit is checked when the model is built (:func:`load_user_circuit`): a file or object that does not
exist, a wrong type, missing inputs or weight shape, or probabilities of another number of qubits is a
one-line :class:`~spiqgan.exceptions.ConfigError` that says what the circuit must declare. Its file's SHA-256
is part of the model's configuration (``circuit_sha256``): a run resumes only with the same file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spiqgan.exceptions import ConfigError
from spiqgan.quantum.circuit import Angle, Circuit
from spiqgan.quantum.families.base import CircuitFamily, input_angles, step_couplings
from spiqgan.quantum.statevector import (bits_to_indices, indices_to_bits, rx_matrix, ry_matrix, rz_matrix,
                                         sample_indices)

__all__ = ["is_user_circuit", "load_user_circuit", "UserCircuit", "PennyLaneCircuit", "QiskitCircuit",
           "file_sha256"]

#: the rotations of a Qiskit circuit simulated here with parameters (their angles linear in the parameters)
QISKIT_ROTATIONS = ("rx", "ry", "rz", "p", "u", "rxx", "ryy", "rzz", "crx", "cry", "crz", "cp")
_IGNORED = ("barrier", "measure")


def is_user_circuit(name: Any) -> bool:
    """Whether a model or family name is ``FILE.py:NAME`` (a circuit of the user's)."""
    if not isinstance(name, str):
        return False
    path, sep, obj = name.rpartition(":")
    return bool(sep) and path.endswith(".py") and obj.isidentifier()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_LOADED: dict[tuple[str, str, str], "UserCircuit"] = {}


def load_user_circuit(spec: str) -> "UserCircuit":
    """The family of ``spec`` = ``FILE.py:NAME`` (a PennyLane QNode or a Qiskit circuit), loaded once per file
    content; a :class:`~spiqgan.exceptions.ConfigError` of one line where the file or the object does not do."""
    path_text, _, name = spec.rpartition(":")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError(f"model {spec!r}: no file {path}; give FILE.py:NAME with the path of a Python file.")
    digest = file_sha256(path)
    key = (str(path.resolve()), name, digest)
    if key in _LOADED:
        return _LOADED[key]
    module_name = f"spiqgan_user_{digest[:16]}"
    loader = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(loader)
    try:
        sys.modules[module_name] = module
        loader.loader.exec_module(module)
    except Exception as exc:  # the user's code: any error, said in one line
        sys.modules.pop(module_name, None)
        raise ConfigError(f"model {spec!r}: running {path} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, name):
        raise ConfigError(f"model {spec!r}: {path} defines no {name!r}; name a QNode or a QuantumCircuit in it.")
    obj = getattr(module, name)
    kind = type(obj).__module__.split(".")[0]
    if kind == "pennylane":
        family: UserCircuit = PennyLaneCircuit(spec, obj, getattr(obj, "weight_shape", getattr(module,
                                                                                             "WEIGHT_SHAPE", None)))
    elif kind == "qiskit":
        family = QiskitCircuit(spec, obj)
    else:
        raise ConfigError(f"model {spec!r}: {name} is a {type(obj).__name__}; it must be a PennyLane QNode or a "
                          "Qiskit QuantumCircuit (see spiqgan.quantum.families.user).")
    family.path, family.sha256 = str(path.resolve()), digest
    _LOADED[key] = family
    return family


class UserCircuit(CircuitFamily):
    """A family of the user's circuits (see the module docstring); :meth:`probabilities` is the adapter's."""

    title = "user circuit"
    interference = True  # unknown in general: a user circuit may interfere
    conditional = False
    memory_inputs = True
    pairwise = False
    max_neurons = 20

    def __init__(self, spec: str) -> None:
        self.name = spec
        self.path, self.sha256 = "", ""

    # the adapter's -------------------------------------------------------
    n_weights: int = 0

    def probabilities(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """``(B, 2**n)`` pattern probabilities of the neuron qubits for inputs ``(B, n)`` and flat weights ``(W,)``."""
        raise NotImplementedError

    def check(self, n: int) -> None:
        """Refuse at once a circuit that does not fit ``n`` neurons (its probabilities' length)."""
        if n > self.max_neurons:
            raise ConfigError(f"model {self.name!r}: the likelihood of a user circuit enumerates 2**n patterns per "
                              f"step; n = {n} is more than {self.max_neurons} neurons.")
        try:
            probs = self.probabilities(torch.full((1, n), 0.3, dtype=torch.float64),
                                       torch.zeros(self.n_weights, dtype=torch.float64))
        except ConfigError:
            raise
        except Exception as exc:  # the user's code: any error, said in one line
            raise ConfigError(f"model {self.name!r}: the circuit failed on inputs of shape (1, {n}) and "
                              f"{self.n_weights} weights: {type(exc).__name__}: {' '.join(str(exc).split())}") from exc
        if probs.shape != (1, 2**n):
            found = int(round(math.log2(probs.shape[-1]))) if probs.numel() else 0
            raise ConfigError(f"model {self.name!r}: the circuit gives probabilities of {found} qubits, but the "
                              f"data has {n} neurons; it must return the probabilities of qubits 0..{n - 1} "
                              f"(PennyLane: qml.probs(wires=range({n}))).")

    # the family's --------------------------------------------------------
    def independent_angles(self, rates: torch.Tensor) -> torch.Tensor:
        r""":math:`2 \arcsin\sqrt r`: the angle at which ``RY(inputs[j])`` fires neuron ``j`` at rate ``r``."""
        return 2 * torch.arcsin(torch.sqrt(rates.clamp(0.0, 1.0)))

    def n_couplings(self, n: int) -> int:
        return self.n_weights

    def distribution(self, theta: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        n = theta.shape[-1]
        if pairs.dim() == 1:
            flat = theta.reshape(-1, n)
            return self.probabilities(flat, pairs).reshape(*theta.shape[:-1], 2**n)
        # one set of weights per step: theta (..., t, n), pairs (t, W)
        t = pairs.shape[0]
        steps = [self.probabilities(theta[..., s, :].reshape(-1, n), pairs[s]).reshape(*theta.shape[:-2], 2**n)
                 for s in range(t)]
        return torch.stack(steps, -2)

    def step_log_probs(self, base: torch.Tensor, pairs: torch.Tensor, x: torch.Tensor,
                       shift: torch.Tensor | None = None, count: torch.Tensor | None = None) -> torch.Tensor:
        if shift is None:
            return super().step_log_probs(base, pairs, x)
        # the memory enters as input angles of each window: a circuit per (latent value, window, step)
        dist = self.distribution(base[:, None] + shift[None], pairs)  # (K, B, t, 2**n)
        idx = bits_to_indices(x.to(torch.uint8))  # (B, t)
        logp = torch.log(dist.clamp_min(torch.finfo(dist.dtype).tiny))
        return torch.gather(logp, -1, idx[None, :, :, None].expand(base.shape[0], -1, -1, 1))[..., 0]

    def sample(self, base: torch.Tensor, pairs: torch.Tensor, path: torch.Tensor, generator: torch.Generator,
               shift=None, count: torch.Tensor | None = None) -> torch.Tensor:
        if shift is None:
            return super().sample(base, pairs, path, generator)
        k, t, n = base.shape
        steps = torch.zeros((t, n, path.shape[0]), dtype=base.dtype)
        for s in range(t):  # each step's angles from the steps drawn before it
            theta = base[path[:, s], s] + shift(steps, s).T  # (N, n)
            w = pairs if pairs.dim() == 1 else pairs[s]
            steps[s] = indices_to_bits(sample_indices(self.probabilities(theta, w), generator), n).T.to(base.dtype)
        return steps.permute(2, 0, 1).to(torch.uint8)

    def per_step_cost(self, n: int) -> str:
        return f"2^{n} patterns of the user circuit {self.name}"

    #: the gates an exported circuit is written in (spiqgan's circuit description holds these)
    EXPORT_BASIS = ("h", "x", "rx", "ry", "rz", "cx")

    def _export_template(self, n: int) -> list[tuple[str, list[int], Any]]:  # pragma: no cover
        """The circuit in :attr:`EXPORT_BASIS`, each rotation's angle linear in the inputs and weights:
        ``(gate, qubits, (constant, {parameter index: coefficient}) or None)``, parameters the ``n`` inputs then
        the weights."""
        raise NotImplementedError

    def add_step(self, circuit: Circuit, s: int, v: dict[str, np.ndarray], register: str, latent: list[str],
                 earlier: list[str]) -> None:
        """Step ``s``: the circuit's gates with the weights bound and the inputs as the step's angles (latent terms
        as circuit inputs; the memory as the same rotation again, conditioned on an earlier step's bit: rotations
        about one axis add), the neuron qubits measured into ``register``."""
        n = v["angles_"].shape[1]
        weights = np.atleast_1d(step_couplings(v["pairs_"], s))
        angles = input_angles(v, s, latent, earlier)
        for name, qubits, linear in self._export_template(n):
            if linear is None:
                circuit.add(name, *qubits)
                continue
            constant, terms = linear
            const, latent_part, conditioned = constant, {}, []
            for i, coef in terms.items():
                if i >= n:
                    const += coef * float(weights[i - n])
                    continue
                c_in, t_in, cond_in = angles[i]
                const += coef * c_in
                for name_k, c_k in t_in:
                    latent_part[name_k] = latent_part.get(name_k, 0.0) + coef * c_k
                conditioned += [(coef * a, bit) for a, bit in cond_in]
            circuit.add(name, *qubits, angle=Angle(const, tuple(latent_part.items())), trainable=bool(terms))
            for a, bit in conditioned:
                circuit.add(name, *qubits, angle=Angle(a), when=(bit,))
        for j in range(n):
            circuit.add("measure", j, bit=(register, j))


class PennyLaneCircuit(UserCircuit):
    """A PennyLane QNode ``circuit(inputs, weights)`` returning ``qml.probs`` of the neuron wires."""

    def __init__(self, spec: str, qnode: Any, weight_shape: Any) -> None:
        super().__init__(spec)
        if weight_shape is None:
            raise ConfigError(f"model {spec!r}: declare the weights' shape, as circuit.weight_shape = (...) or "
                              "WEIGHT_SHAPE = (...) in the file (() for a circuit without weights).")
        try:
            shape = tuple(int(d) for d in np.atleast_1d(weight_shape)) if weight_shape != () else ()
        except (TypeError, ValueError):
            raise ConfigError(f"model {spec!r}: the weight shape must be a tuple of integers, got "
                              f"{weight_shape!r}.") from None
        self.qnode, self.weight_shape, self._exported = qnode, shape, None
        self.n_weights = int(np.prod(shape)) if shape else 0

    #: PennyLane's names of the export gates
    _PENNYLANE_GATES = {"Hadamard": "h", "PauliX": "x", "RX": "rx", "RY": "ry", "RZ": "rz", "CNOT": "cx"}

    def check(self, n: int) -> None:
        wires = getattr(getattr(self.qnode, "device", None), "wires", None)
        self.ancillas = max(0, len(wires) - n) if wires is not None else 0
        super().check(n)

    def _gates_at(self, n: int, point: np.ndarray) -> list[tuple[str, list[int], list[float]]]:
        """The circuit's gates at inputs and weights ``point``, decomposed by PennyLane into :attr:`EXPORT_BASIS`."""
        import pennylane as qml

        inputs = torch.as_tensor(point[:n], dtype=torch.float64)
        weights = torch.as_tensor(point[n:], dtype=torch.float64)
        tape = qml.workflow.construct_tape(self.qnode)(inputs, weights.reshape(self.weight_shape)
                                                        if self.weight_shape else weights)
        (low,), _ = qml.transforms.decompose(tape, gate_set=set(self._PENNYLANE_GATES) | {"GlobalPhase"})
        return [(self._PENNYLANE_GATES[op.name], [int(w) for w in op.wires], [float(x) for x in op.parameters])
                for op in low.operations if op.name != "GlobalPhase"]

    def _export_template(self, n: int) -> list[tuple[str, list[int], Any]]:
        """The QNode's gates in :attr:`EXPORT_BASIS` (PennyLane's decomposition); each angle's dependence on the
        inputs and weights found by probing them one at a time, then checked at a random point: the gates and their
        order must not depend on the values, and the angles must be linear in them."""
        if self._exported is None:
            size = n + self.n_weights
            base = self._gates_at(n, np.zeros(size))
            slopes = []
            for k in range(size):
                probe = self._gates_at(n, np.eye(size)[k])
                if [g[:2] for g in probe] != [g[:2] for g in base]:
                    raise ConfigError(f"model {self.name!r}: the circuit's gates change with its inputs or weights; "
                                      "spiqgan exports circuits whose gates are fixed and whose angles vary.")
                slopes.append([(np.array(p[2]) - np.array(b[2])) for p, b in zip(probe, base)])
            ops = []
            for g, (name, wires, params) in enumerate(base):
                if not params:
                    ops.append((name, wires, None))
                    continue
                terms = {k: float(slopes[k][g][0]) for k in range(size) if abs(slopes[k][g][0]) > 1e-12}
                ops.append((name, wires, (params[0], terms)))
            point = np.random.default_rng(0).normal(size=size)
            for (name, wires, linear), (_, _, params) in zip(ops, self._gates_at(n, point)):
                if linear is not None and abs(linear[0] + sum(c * point[k] for k, c in linear[1].items())
                                              - params[0]) > 1e-9:
                    raise ConfigError(f"model {self.name!r}: a {name} angle of the circuit is not linear in its "
                                      "inputs and weights; spiqgan exports circuits whose angles are.")
            self._exported = ops
        return self._exported

    def probabilities(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = self.qnode(inputs, weights.reshape(self.weight_shape) if self.weight_shape else weights)
        out = torch.as_tensor(out) if not isinstance(out, torch.Tensor) else out
        return out.reshape(inputs.shape[0], -1).to(torch.float64)


class QiskitCircuit(UserCircuit):
    """A Qiskit ``QuantumCircuit`` with a ``ParameterVector("inputs", n)``, simulated here in torch."""

    def __init__(self, spec: str, qc: Any) -> None:
        super().__init__(spec)
        inputs = [p for p in qc.parameters if getattr(getattr(p, "vector", None), "name", None) == "inputs"]
        if not inputs:
            raise ConfigError(f"model {spec!r}: the circuit must declare its input angles as "
                              "ParameterVector('inputs', n), one per neuron qubit.")
        self.weights = [p for p in qc.parameters if p not in set(inputs)]
        self.inputs = sorted(inputs, key=lambda p: p.index)
        self.n_inputs, self.n_weights, self.n_qubits = len(self.inputs), len(self.weights), qc.num_qubits
        self.ancillas = qc.num_qubits - self.n_inputs  # the qubits after the neurons'
        self.qc, self._exported = qc, None
        # every parameter's place in the values the simulation and the export read: the inputs, then the weights
        self._index = {**{p: i for i, p in enumerate(self.inputs)},
                       **{p: self.n_inputs + i for i, p in enumerate(self.weights)}}
        self.ops = []  # (kind, qubits, [(constant, {parameter index: coefficient}), ...] or matrix)
        for inst in qc.data:
            op, qubits = inst.operation, [qc.find_bit(q).index for q in inst.qubits]
            if op.name in _IGNORED:
                continue
            if getattr(op, "condition", None) is not None or op.name == "reset":
                raise ConfigError(f"model {spec!r}: the circuit has {op.name!r} with a classical condition or a "
                                  "reset; spiqgan simulates unitary circuits (measurements at the end only).")
            free = [e for e in op.params if hasattr(e, "parameters") and e.parameters]
            if not free:
                try:
                    matrix = np.asarray(op.to_matrix(), dtype=np.complex128)
                except Exception:
                    raise ConfigError(f"model {spec!r}: gate {op.name!r} has no matrix; use standard gates.") from None
                self.ops.append(("matrix", qubits, torch.from_numpy(matrix.copy())))
                continue
            if op.name not in QISKIT_ROTATIONS:
                raise ConfigError(f"model {spec!r}: gate {op.name!r} with parameters is not supported; use "
                                  f"{', '.join(QISKIT_ROTATIONS)} (angles linear in the parameters).")
            self.ops.append((op.name, qubits, [_linear(e, self._index, spec) for e in op.params]))

    def probabilities(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        b, n = inputs.shape
        if n != self.n_inputs:
            raise ConfigError(f"model {self.name!r}: the circuit has {self.n_inputs} inputs, but the data has {n} "
                              f"neurons; declare ParameterVector('inputs', {n}).")
        values = torch.cat([inputs, weights.to(inputs.dtype).expand(b, -1)], 1)  # (B, P)
        q = self.n_qubits
        state = torch.zeros((b,) + (2,) * q, dtype=torch.complex128)
        state.view(b, -1)[:, 0] = 1.0
        for kind, qubits, spec in self.ops:
            if kind == "matrix":
                matrix, order = spec, qubits[::-1]  # Qiskit's matrices are little-endian in their qubits
            else:
                angles = [c + sum(values[:, i] * a for i, a in terms.items()) if terms else
                          torch.full((b,), c, dtype=torch.float64) for c, terms in spec]
                matrix, order = _rotation(kind, angles), qubits
            state = _apply(state, matrix, order)
        probs = (state.abs() ** 2).reshape(b, 2**n, 2 ** (q - n)).sum(-1)  # qubit 0 the most significant
        return probs

    def _export_template(self, n: int) -> list[tuple[str, list[int], Any]]:
        """The circuit in :attr:`EXPORT_BASIS` by Qiskit's transpiler, its parameters kept."""
        if self._exported is None:
            from qiskit import transpile

            plain = self.qc.remove_final_measurements(inplace=False)
            lowered = transpile(plain, basis_gates=list(self.EXPORT_BASIS), optimization_level=0, seed_transpiler=0)
            ops = []
            for inst in lowered.data:
                op, qubits = inst.operation, [lowered.find_bit(q).index for q in inst.qubits]
                if op.name in _IGNORED:
                    continue
                if op.name not in self.EXPORT_BASIS:
                    raise ConfigError(f"model {self.name!r}: exporting gate {op.name!r} is not supported.")
                ops.append((op.name, qubits, _linear(op.params[0], self._index, self.name) if op.params else None))
            self._exported = ops
        return self._exported


def _linear(expr: Any, index: dict[Any, int], spec: str) -> tuple[float, dict[int, float]]:
    """``expr`` = constant + sum of coefficient x parameter, as ``(constant, {parameter index: coefficient})``."""
    if not hasattr(expr, "parameters"):  # a number
        return float(expr), {}
    params = list(expr.parameters)
    terms = {}
    for p in params:
        grad = expr.gradient(p)
        if hasattr(grad, "parameters") and grad.parameters:
            raise ConfigError(f"model {spec!r}: the angle {expr} is not linear in its parameters; spiqgan "
                              "simulates rotations whose angles are.")
        terms[index[p]] = float(grad)
    constant = float(expr.bind({p: 0.0 for p in params}))
    return constant, terms


#: the single-qubit rotations about one axis, as the statevector simulator writes them
_AXES = {"rx": rx_matrix, "ry": ry_matrix, "rz": rz_matrix}


def _rotation(kind: str, angles: list[torch.Tensor]) -> torch.Tensor:
    """The batched matrix ``(B, d, d)`` of a rotation, big-endian in its qubits as Qiskit lists them."""
    if kind in _AXES:
        return _AXES[kind](angles[0], torch.complex128)
    th = angles[0].to(torch.complex128)
    c, s = torch.cos(th / 2), torch.sin(th / 2)
    one, zero = torch.ones_like(c), torch.zeros_like(c)
    j = 1j
    if kind in ("p", "u"):
        if kind == "p":
            rows = [[one, zero], [zero, torch.exp(j * th)]]
        else:
            phi, lam = (a.to(torch.complex128) for a in angles[1:])
            rows = [[c, -torch.exp(j * lam) * s], [torch.exp(j * phi) * s, torch.exp(j * (phi + lam)) * c]]
        return torch.stack([torch.stack(r, -1) for r in rows], -2)
    if kind in ("crx", "cry", "crz", "cp"):  # control first: diag(I, R)
        inner = _rotation(kind[1:], angles)
        out = torch.zeros(th.shape + (4, 4), dtype=torch.complex128)
        out[..., 0, 0] = out[..., 1, 1] = 1.0
        out[..., 2:, 2:] = inner
        return out
    pauli = {"rxx": torch.tensor([[0, 1], [1, 0]], dtype=torch.complex128),
             "ryy": torch.tensor([[0, -1j], [1j, 0]], dtype=torch.complex128),
             "rzz": torch.tensor([[1, 0], [0, -1]], dtype=torch.complex128)}[kind]
    pp = torch.kron(pauli, pauli)
    return c[..., None, None] * torch.eye(4, dtype=torch.complex128) - j * s[..., None, None] * pp


def _apply(state: torch.Tensor, matrix: torch.Tensor, qubits: list[int]) -> torch.Tensor:
    """``matrix`` (``(d, d)`` or batched ``(B, d, d)``, big-endian in ``qubits``) applied to ``state: (B, 2, ..., 2)``."""
    b, k = state.shape[0], len(qubits)
    axes = [1 + q for q in qubits]
    moved = torch.movedim(state, axes, list(range(1, 1 + k)))  # (B, 2^k..., rest...)
    shape = moved.shape
    flat = moved.reshape(b, 2**k, -1)
    flat = (matrix @ flat) if matrix.dim() == 3 else torch.einsum("ij,bjr->bir", matrix, flat)
    return torch.movedim(flat.reshape(shape), list(range(1, 1 + k)), axes)
