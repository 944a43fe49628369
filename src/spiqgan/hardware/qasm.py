"""OpenQASM 3 text of a :class:`~spiqgan.hardware.circuits.Circuit` (no Qiskit needed).

Inputs are ``input float[64]`` declarations, gates come from ``stdgates.inc``, conditions are nested
``if (register[i]) { ... }`` on single bits (count conditions lowered first by
:func:`~spiqgan.hardware.circuits.lower_counts`), so that Qiskit's ``qasm3.loads`` reads every
circuit, feed-forward included. Angles are written with all 17 significant digits.
"""

from __future__ import annotations

from spiqgan.hardware.circuits import Circuit, lower_counts

__all__ = ["to_qasm3"]


def to_qasm3(circuit: Circuit, header: str = "") -> str:
    """The circuit as an OpenQASM 3 program (count conditions lowered to single-bit ones)."""
    c = lower_counts(circuit)
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    lines += [f"// {line}" for line in (header.splitlines() + [c.description]) if line]
    lines += [f"input float[64] {name};" for name in c.inputs]
    lines.append(f"qubit[{c.n_qubits}] q;")
    for reg, size in c.registers.items():
        lines.append(f"bit[{size}] {reg};" + (f"  // time step {c.steps[reg]}" if reg in c.steps else ""))
    for op in c.ops:
        if op.name == "measure":
            body = f"{op.bit[0]}[{op.bit[1]}] = measure q[{op.qubits[0]}];"
        else:
            args = f"({op.angle})" if op.angle is not None else ""
            body = f"{op.name}{args} " + ", ".join(f"q[{k}]" for k in op.qubits) + ";"
        for cond in reversed(op.when):
            body = f"if ({cond.register}[{cond.index}]) {{ {body} }}"
        lines.append(body)
    return "\n".join(lines) + "\n"
