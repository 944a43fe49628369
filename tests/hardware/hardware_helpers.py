"""Test helpers: models with random trained parameters, and exact outcome distributions of Qiskit circuits with feed-forward."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from spiqgan.models.born import BornMachine
from spiqgan.quantum.generator import CircuitConfig, PatchGenerator, config_from_preset


def born_model(family: str, n: int, t: int, seed: int = 0, **kw):
    """A Born machine fitted briefly to random windows, its parameters then moved well away from the fit."""
    rng = np.random.default_rng(seed)
    windows = (rng.random((300, t, n)) < 0.3).astype(np.uint8)
    model = BornMachine(family=family, latent_nodes=3, steps=3, calibrate=0, seed=seed, **kw).fit(windows)
    for key in model._FITTED:
        if key != "pad_":
            value = np.asarray(getattr(model, key))
            setattr(model, key, value + rng.normal(scale=0.7, size=value.shape))
    return model


def chain_generator(preset: str | None, n: int, t: int, seed: int = 0, backend: str = "statevector",
                    **kw) -> PatchGenerator:
    config = config_from_preset(preset, n, **kw) if preset else CircuitConfig(n_neurons=n, **kw)
    return PatchGenerator(config, t, dtype=torch.complex128, seed=seed, backend=backend)


def all_windows(t: int, n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=t * n)), dtype=np.uint8).reshape(-1, t, n)


def qiskit_distribution(qc, values: dict[str, float]) -> dict[tuple[int, ...], float]:
    """Exact distribution of every classical bit (in ``qc.clbits`` order) of a circuit with measurements,
    resets and ``if_else``, by following every measurement branch (the reference a dynamic circuit needs)."""
    from qiskit.quantum_info import Operator

    qc = qc.assign_parameters({p: values[p.name] for p in qc.parameters}) if qc.parameters else qc
    nq = qc.num_qubits
    qidx = {b: i for i, b in enumerate(qc.qubits)}
    cidx = {b: i for i, b in enumerate(qc.clbits)}

    def apply(state, matrix, qubits):
        k = len(qubits)
        axes = [nq - 1 - q for q in qubits]  # qiskit: qubit 0 is the last tensor axis
        psi = np.moveaxis(state, axes[::-1], list(range(k)))
        shape = psi.shape
        psi = (matrix @ psi.reshape(2**k, -1)).reshape(shape)
        return np.moveaxis(psi, list(range(k)), axes[::-1])

    def project(state, q, outcome):
        out = state.copy()
        sl = [slice(None)] * nq
        sl[nq - 1 - q] = 1 - outcome
        out[tuple(sl)] = 0
        return out

    def run(data, qmap, cmap, branches):
        for inst in data:
            op, qs = inst.operation, [qmap[b] for b in inst.qubits]
            cs = [cmap[b] for b in inst.clbits]
            if op.name == "barrier":
                continue
            new = []
            for prob, state, bits in branches:
                if op.name in ("measure", "reset"):
                    for outcome in (0, 1):
                        part = project(state, qs[0], outcome)
                        p = float(np.vdot(part, part).real)
                        if p < 1e-300:
                            continue
                        part = part / np.sqrt(p)
                        nb = list(bits)
                        if op.name == "measure":
                            nb[cs[0]] = outcome
                        elif outcome:
                            part = apply(part, np.array([[0, 1], [1, 0]], dtype=complex), [qs[0]])
                        new.append((prob * p, part, tuple(nb)))
                elif op.name == "if_else":
                    target, value = op.condition
                    if hasattr(target, "size"):  # a register
                        got = sum(bits[cidx[b]] << i for i, b in enumerate(target))
                    else:
                        got = bits[cidx[target]]
                    block = op.blocks[0] if got == int(value) else (op.blocks[1] if len(op.blocks) > 1 else None)
                    if block is None or block.size() == 0:
                        new.append((prob, state, bits))
                    else:
                        inner_q = {b: qs[i] for i, b in enumerate(block.qubits)}
                        inner_c = {b: cs[i] for i, b in enumerate(block.clbits)}
                        new += run(block.data, inner_q, inner_c, [(prob, state, bits)])
                else:
                    new.append((prob, apply(state, Operator(op).data, qs), bits))
            branches = new
        return branches

    start = np.zeros((2,) * nq, dtype=complex)
    start[(0,) * nq] = 1
    out: dict[tuple[int, ...], float] = {}
    for prob, _, bits in run(qc.data, qidx, cidx, [(1.0, start, (0,) * qc.num_clbits)]):
        out[bits] = out.get(bits, 0.0) + prob
    return out


