"""Qiskit: circuits, sampling through Aer with a device-like noise model, and transpiled cost.

Needs the optional extra ``spiqgan[qiskit]`` (Qiskit, Qiskit Aer, the OpenQASM 3 importer); imported
only by the commands that use it, so the core never imports Qiskit.
"""

from __future__ import annotations

import contextlib
import importlib.util
from functools import lru_cache
from typing import Any

import numpy as np

from spiqgan.exceptions import ConfigError, SimulationError
from spiqgan.hardware.circuits import Circuit, lower_counts
from spiqgan.hardware.sampling import NoiseSpec

__all__ = ["AER_STATEVECTOR_MAX_QUBITS", "require_qiskit", "to_qiskit", "write_qpy", "aer_outcomes", "noise_model", "heavy_hex_127", "transpiled_cost",
           "circuit_counts", "TOPOLOGIES", "transpile_for", "aer_jobs", "job_seed",
           "BASIS_GATES"]

#: the gates of IBM's devices (rz is virtual there), to which circuits are transpiled for noise and cost
BASIS_GATES = ["cx", "rz", "sx", "x"]
#: the transpiler's optimization level, for Aer and for the cost alike
OPTIMIZATION_LEVEL = 1
#: Aer simulates circuits of up to this many qubits as statevectors (256 MiB), wider ones as matrix-product states
AER_STATEVECTOR_MAX_QUBITS = 24


def require_qiskit() -> None:
    """Raise :class:`ConfigError` saying how to install the extra when Qiskit or Aer is missing."""
    missing = [m for m in ("qiskit", "qiskit_aer") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"this command needs Qiskit and Qiskit Aer ({', '.join(missing)} not installed): "
                          "pip install 'spiqgan[qiskit]'.")


def to_qiskit(circuit: Circuit, metadata: dict[str, Any] | None = None):
    """A ``QuantumCircuit`` with one ``Parameter`` per input, registers by name, ``if_test`` feed-forward.

    Its ``metadata``: what the circuit is (``description``), the time step each output register holds
    (``steps``), its inputs, and ``metadata`` (the export's model and neuron ids, say), so that a QPY
    file says what its circuits mean.
    """
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Parameter

    c = lower_counts(circuit)
    q = QuantumRegister(c.n_qubits, "q")
    regs = {name: ClassicalRegister(size, name) for name, size in c.registers.items()}
    qc = QuantumCircuit(q, *regs.values(), name=c.name,
                        metadata={**(metadata or {}), "description": circuit.description,
                                  "steps": dict(circuit.steps), "inputs": list(circuit.inputs)})
    params = {name: Parameter(name) for name in c.inputs}

    def angle(a):
        value = a.const
        for name, coef in a.terms:
            value = value + coef * params[name]
        return value

    for op in c.ops:
        with contextlib.ExitStack() as stack:
            for cond in op.when:
                stack.enter_context(qc.if_test((regs[cond.register][cond.index], 1)))
            qubits = [q[k] for k in op.qubits]
            if op.name == "measure":
                qc.measure(qubits[0], regs[op.bit[0]][op.bit[1]])
            elif op.name == "reset":
                qc.reset(qubits[0])
            elif op.angle is None:
                getattr(qc, op.name)(*qubits)
            else:
                getattr(qc, op.name)(angle(op.angle), *qubits)
    return qc


def write_qpy(path, circuits: list[Circuit], metadata: dict[str, Any] | None = None):
    """The circuits as Qiskit circuits in one QPY file (``qiskit.qpy.load`` reads them back), written atomically;
    each carries ``metadata`` and its own (:func:`to_qiskit`)."""
    from qiskit import qpy

    from spiqgan.io.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        qpy.dump([to_qiskit(c, metadata) for c in circuits], fh)
    return path


def noise_model(spec: NoiseSpec):
    """Aer noise model: depolarizing ``p1`` on ``sx, x``, ``p2`` on ``cx``, symmetric readout error ``e`` on every qubit."""
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    model = NoiseModel(basis_gates=BASIS_GATES)
    if spec.p1 > 0:
        model.add_all_qubit_quantum_error(depolarizing_error(spec.p1, 1), ["sx", "x"])
    if spec.p2 > 0:
        model.add_all_qubit_quantum_error(depolarizing_error(spec.p2, 2), ["cx"])
    if spec.readout > 0:
        e = spec.readout
        model.add_all_qubit_readout_error(ReadoutError([[1 - e, e], [e, 1 - e]]))
    return model


def _transpile(qc, seed: int = 0, coupling_map=None):
    """``qc`` in :data:`BASIS_GATES` (with measurement, reset and feed-forward), at :data:`OPTIMIZATION_LEVEL`."""
    from qiskit import transpile

    return transpile(qc, basis_gates=BASIS_GATES + ["measure", "reset", "if_else"],
                     optimization_level=OPTIMIZATION_LEVEL, seed_transpiler=seed, coupling_map=coupling_map)


def _check_width(qc, backend) -> None:
    if qc.num_qubits > backend.num_qubits:
        raise ConfigError(f"circuit {qc.name} needs {qc.num_qubits} qubits and {backend.name} has {backend.num_qubits}; "
                          "train a model of fewer neurons (or latent qubits) for this device.")


def transpile_for(qc, backend, seed: int = 0):
    """``qc`` transpiled onto ``backend`` (its native gates and coupling map) at :data:`OPTIMIZATION_LEVEL`."""
    from qiskit import transpile

    _check_width(qc, backend)
    return transpile(qc, backend=backend, optimization_level=OPTIMIZATION_LEVEL, seed_transpiler=int(seed))


def job_seed(seed: int, job: int) -> int:
    """The simulator seed of job ``job`` of a draw seeded ``seed``: each job its own random stream, derived from
    ``seed``. Aer seeds shot i with seed + i, so jobs run with one seed drew the same numbers, and the steps of a
    window built from several jobs came out correlated."""
    return int(np.random.SeedSequence([int(seed), int(job)]).generate_state(1)[0] >> 1)


#: the most experiments (parameter bindings) in one Aer job: a job holds every experiment's result in memory at once
#: (20,000 windows of the paper preset at (10, 1), one experiment each: peak memory 7.3 GB in one job, 2.2 GB in
#: jobs of 5000, and 123 s against 157 s)
MAX_EXPERIMENTS_PER_JOB = 5000


def aer_jobs(executions: list[tuple[int, dict[str, float], int]]) -> list[tuple[int, int, list[int]]]:
    """How :func:`aer_outcomes` sends executions to Aer: ``(circuit index, shots, execution indices)`` per job,
    executions of one circuit with equal shots together, at most :data:`MAX_EXPERIMENTS_PER_JOB` a job."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (ci, _, shots) in enumerate(executions):
        groups.setdefault((ci, shots), []).append(k)
    return [(ci, shots, members[lo:lo + MAX_EXPERIMENTS_PER_JOB]) for (ci, shots), members in groups.items()
            for lo in range(0, len(members), MAX_EXPERIMENTS_PER_JOB)]


def aer_outcomes(circuits: list[Circuit], executions: list[tuple[int, dict[str, float], int]],
                 noise: NoiseSpec | None = None, seed: int = 0, method: str | None = None,
                 progress: Any | None = None, backend: Any | None = None) -> list[dict[str, np.ndarray]]:
    """Run each execution ``(circuit index, input values, shots)`` on Aer; per execution, the bits of each register ``(shots, size)``.

    Each Aer job draws its own random stream (seed derived from ``seed`` and the job's index).
    ``progress``: an object with ``update(jobs_done)`` (a :class:`spiqgan.progress.Progress` over the jobs), told
    after each Aer job.

    Circuits are transpiled to :data:`BASIS_GATES` once (so that the noise model's gates are the
    device's); executions of one circuit with equal shots go to Aer as jobs of parameter bindings
    (:func:`aer_jobs`).
    Given ``backend`` (a fake IBM backend, :func:`spiqgan.hardware.ibm.fake_backend`) they are transpiled
    onto it instead (native gates, coupling map, transpiler seed 0, :func:`transpile_for`) and Aer
    simulates its calibrated noise (``AerSimulator.from_backend``; ``noise`` is then not used).
    ``method``: Aer's simulation method; by default ``"statevector"`` up to
    :data:`AER_STATEVECTOR_MAX_QUBITS` qubits and ``"matrix_product_state"`` beyond (both exact).
    """
    from qiskit_aer import AerSimulator

    logical = [to_qiskit(c) for c in circuits]
    if method is None:
        wide = max(qc.num_qubits for qc in logical) > AER_STATEVECTOR_MAX_QUBITS
        method = "matrix_product_state" if wide else "statevector"
    if backend is not None:
        compiled = [transpile_for(qc, backend) for qc in logical]
        sim = AerSimulator.from_backend(backend, method=method)
    else:
        compiled = [_transpile(qc) for qc in logical]
        sim = AerSimulator(method=method, noise_model=noise_model(noise) if noise is not None and noise.any else None)
    out: list[dict[str, np.ndarray] | None] = [None] * len(executions)
    for job, (ci, shots, members) in enumerate(aer_jobs(executions), start=1):
        qc = compiled[ci]
        seed_k = job_seed(seed, job)
        if qc.parameters:  # one job: one experiment per binding
            binds = [{p: [executions[k][1][p.name] for k in members] for p in qc.parameters}]
            result = sim.run(qc, parameter_binds=binds, shots=shots, memory=True, seed_simulator=seed_k).result()
        else:  # a circuit without inputs (no latent state): one experiment per execution
            result = sim.run([qc] * len(members), shots=shots, memory=True, seed_simulator=seed_k).result()
        if not result.success:
            raise SimulationError(f"Qiskit Aer could not run circuit {qc.name} ({qc.num_qubits} qubits, method "
                                  f"{method}): {str(result.status)[:300]}")
        names = [r.name for r in qc.cregs]
        for pos, k in enumerate(members):
            # one string per shot: registers last-first, separated by spaces, each register's bit 0 last
            fields = [m.split(" ")[::-1] for m in result.get_memory(pos)]
            out[k] = {name: np.array([[int(ch) for ch in f[i][::-1]] for f in fields], dtype=np.uint8)
                      for i, name in enumerate(names)}
        if progress is not None:
            progress.update(job)
    return out  # type: ignore[return-value]


@lru_cache(maxsize=1)
def heavy_hex_127() -> list[tuple[int, int]]:
    """The coupling map of IBM's 127-qubit Eagle devices: 7 rows of 14-15 qubits joined by 4 bridge qubits each."""
    rows, edges, bridges = [], [], []
    start = 0
    for r in range(7):
        cols = list(range(0, 14)) if r == 0 else (list(range(1, 15)) if r == 6 else list(range(0, 15)))
        rows.append({c: start + i for i, c in enumerate(cols)})
        start += len(cols)
        if r < 6:
            bridges.append(list(range(start, start + 4)))
            start += 4
    for r, row in enumerate(rows):
        cols = sorted(row)
        edges += [(row[a], row[b]) for a, b in zip(cols, cols[1:])]
        if r < 6:
            for k, bridge in enumerate(bridges[r]):
                col = 4 * k + (0 if r % 2 == 0 else 2)
                edges += [(row[col], bridge), (bridge, rows[r + 1][col])]
    assert start == 127
    return edges


def _two_qubit_gates(qc) -> tuple[int, int]:
    """Two-qubit gates outside and inside conditional blocks (those run only when their condition holds)."""
    plain = conditional = 0
    for inst in qc.data:
        if inst.operation.name == "if_else":
            for block in inst.operation.blocks:
                if block is not None:
                    a, b = _two_qubit_gates(block)
                    conditional += a + b
        elif inst.operation.num_qubits == 2 and inst.operation.name not in ("barrier", "delay"):
            plain += 1
    return plain, conditional


def circuit_counts(tqc) -> dict[str, int]:
    """Depth, two-qubit gates (outside and inside conditional blocks), measurements, resets and conditional blocks of
    a transpiled circuit."""
    plain, conditional = _two_qubit_gates(tqc)
    ops = tqc.count_ops()
    return {"depth": tqc.depth(), "two_qubit_gates": plain, "conditional_two_qubit_gates": conditional,
            "measurements": int(ops.get("measure", 0)), "resets": int(ops.get("reset", 0)),
            "conditional_blocks": int(ops.get("if_else", 0))}


#: the topologies :func:`transpiled_cost` takes besides a fake IBM backend's name
TOPOLOGIES = ("heavy-hex", "all-to-all")


def transpiled_cost(circuit: Circuit, device: Any, seeds: tuple[int, ...] | list[int] = (0,)) -> dict[str, Any]:
    """Depth and gate counts of ``circuit`` after Qiskit's transpiler for ``device``, over transpiler ``seeds``.

    ``device``: ``heavy-hex`` (IBM's 127-qubit map, :func:`heavy_hex_127`, with a CX either way along every
    edge, in :data:`BASIS_GATES`), ``all-to-all`` (no coupling constraint, :data:`BASIS_GATES`), or a backend
    (a fake IBM backend, :func:`spiqgan.hardware.ibm.fake_backend`: its native gates, ECR or CZ, and
    coupling map). Each seed places and routes the circuit differently; the figures are those of the
    seed with the fewest two-qubit gates (then the lowest depth), with ``*_range`` the spread over all
    seeds. Transpiled at :data:`OPTIMIZATION_LEVEL`.
    """
    qc = to_qiskit(circuit)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("give at least one transpiler seed.")
    if not isinstance(device, str):  # a backend
        backend = device
        compile_one, physical = (lambda s: transpile_for(qc, backend, s)), backend.num_qubits
        basis = sorted(n for n in backend.operation_names if n in ("ecr", "cz", "cx", "rz", "sx", "x"))
    elif device in TOPOLOGIES:
        from qiskit.transpiler import CouplingMap

        coupling = None
        if device == "heavy-hex":  # CX either way along every edge, as a device whose native gate is symmetric
            coupling = CouplingMap(heavy_hex_127())
            coupling.make_symmetric()
            if qc.num_qubits > 127:
                raise ConfigError(f"circuit {qc.name} needs {qc.num_qubits} qubits and the heavy-hex map has 127; "
                                  "train a model of fewer neurons (or latent qubits) for this device.")
        compile_one, physical, basis = (lambda s: _transpile(qc, s, coupling)), \
            (127 if device == "heavy-hex" else qc.num_qubits), BASIS_GATES
    else:
        raise ConfigError(f"--device must be {' or '.join(TOPOLOGIES)} or a fake IBM backend's name "
                          f"(fake_sherbrooke, fake_torino, ...), got {device!r}.")
    runs = [(s, circuit_counts(compile_one(s))) for s in seeds]
    seed, best = min(runs, key=lambda r: (r[1]["two_qubit_gates"] + r[1]["conditional_two_qubit_gates"],
                                          r[1]["depth"], r[0]))
    spread = {f"{k}_range": [min(r[1][k] for r in runs), max(r[1][k] for r in runs)]
              for k in ("depth", "two_qubit_gates", "conditional_two_qubit_gates")}
    return {"circuit": circuit.name, "logical_qubits": qc.num_qubits, **best, **spread, "seed": seed,
            "physical_qubits": physical, "basis_gates": list(basis)}
