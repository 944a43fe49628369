"""PennyLane: each circuit as a Python function of its inputs, written as source (no PennyLane needed to write it).

The written module imports only PennyLane. Each function applies its circuit's gates inside a QNode
and returns the measured bits of every register as PennyLane measurement values
(``{"spikes": [m0, m1, ...]}``); conditions are ``qml.cond`` on them, count conditions sums of them.
Beside each, ``<name>_probs`` returns ``qml.probs`` of all its measured bits (in the order of
``MEASURED["<name>"]``: registers in step order, each bit 0 first), so it is a QNode's function as
it stands::

    dev = qml.device("default.qubit")
    probs = qml.QNode(step_0_probs, dev)(z_0=0.3)          # (2^bits,), bit order: MEASURED["step_0"]
    window = qml.QNode(window_probs, dev, mcm_method="tree-traversal")(z_0_t0=0.1, z_0_t1=0.2)
"""

from __future__ import annotations

from spiqgan.hardware.circuits import Bit, Circuit, CountAtLeast

__all__ = ["pennylane_source", "load_pennylane"]

_GATES = {"h": "qml.Hadamard", "x": "qml.PauliX", "rx": "qml.RX", "ry": "qml.RY", "rz": "qml.RZ", "cx": "qml.CNOT",
          "cry": "qml.CRY"}


def _condition(conds, measured: dict[str, list[int]]) -> str:
    parts = []
    for c in conds:
        if isinstance(c, Bit):
            parts.append(f'm["{c.register}"][{c.index}]')
        elif isinstance(c, CountAtLeast):
            so_far = " + ".join(f'm["{c.register}"][{i}]' for i in measured[c.register])
            parts.append(f"({so_far} >= {c.m})" if so_far else "False")
    return " & ".join(parts)


def _function(circuit: Circuit) -> list[str]:
    params = ", ".join(circuit.inputs)
    lines = [f"def {circuit.name}({params}):",
             f'    """{circuit.description}. Returns the measured bits by register."""',
             "    m = {" + ", ".join(f'"{r}": [None] * {size}' for r, size in circuit.registers.items()) + "}"]
    measured: dict[str, list[int]] = {r: [] for r in circuit.registers}
    for op in circuit.ops:
        if op.name == "measure":
            reg, i = op.bit
            lines.append(f'    m["{reg}"][{i}] = qml.measure({op.qubits[0]})')
            measured[reg].append(i)
            continue
        if op.name == "reset":
            lines.append(f"    qml.measure({op.qubits[0]}, reset=True)")
            continue
        wires = f"wires={list(op.qubits)}" if len(op.qubits) > 1 else f"wires={op.qubits[0]}"
        args = (f"{op.angle}, " if op.angle is not None else "") + wires
        if op.when:
            cond = _condition(op.when, measured)
            if cond == "False":
                continue
            lines.append(f"    qml.cond({cond}, {_GATES[op.name]})({args})")
        else:
            lines.append(f"    {_GATES[op.name]}({args})")
    lines.append("    return m")
    bits = ", ".join(f'm["{r}"][{i}]' for r, i in circuit.measured())
    call = ", ".join(f"{a}={a}" for a in circuit.inputs)
    lines += ["", "", f"def {circuit.name}_probs({params}):",
              f'    """qml.probs of every measured bit of {circuit.name}, in the order of MEASURED["{circuit.name}"]."""',
              f"    m = {circuit.name}({call})",
              f"    return qml.probs(op=[{bits}])"]
    return lines


def pennylane_source(circuits: list[Circuit], header: str = "") -> str:
    """A Python module defining one function per circuit (named as the circuit)."""
    lines = [f'"""{header}"""' if header else '"""spiqgan export."""', "", "import pennylane as qml", "",
             "#: per circuit, the (register, bit) of each measured bit, in the order <name>_probs returns them",
             "MEASURED = {" + ", ".join(f'"{c.name}": {[(r, i) for r, i in c.measured()]!r}' for c in circuits) + "}",
             ""]
    for c in circuits:
        lines += ["", *_function(c), ""]
    return "\n".join(lines)


def load_pennylane(source: str) -> dict[str, object]:
    """The functions of a module written by :func:`pennylane_source`, by circuit name."""
    namespace: dict[str, object] = {}
    exec(compile(source, "<spiqgan export>", "exec"), namespace)  # our own generated source
    return {k: v for k, v in namespace.items() if callable(v) and not k.startswith("_") and k != "qml"}
