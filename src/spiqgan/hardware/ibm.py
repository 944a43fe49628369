"""IBM devices: fake backends by name (native gates, coupling map, calibrated noise) and Runtime's SamplerV2.

The fake backends of ``qiskit-ibm-runtime`` (``fake_sherbrooke``: an Eagle r3, 127 qubits, native ECR;
``fake_torino``: a Heron, 133 qubits, native CZ; any other ``qiskit_ibm_runtime.fake_provider`` class
by its snake-case name) carry a device's gates, coupling map and a snapshot of its calibration. They
serve three things without an account:

* the cost of a model's circuits on the device (:func:`spiqgan.hardware.qiskit_io.transpiled_cost`:
  depth and two-qubit gates over several transpiler seeds, the layout's spread);
* calibrated noise for Aer (``spiqgan sample --backend aer --noise-model fake_sherbrooke``,
  through :func:`spiqgan.hardware.qiskit_io.aer_outcomes`) and the readout error of each measured
  qubit (:func:`readout_errors`, for mitigation);
* :func:`sampler_pubs` and :func:`run_pubs`: the executions of :func:`spiqgan.hardware.sampling.plan`
  as primitive unified blocs (one transpiled circuit, an array of input values, shots) for Runtime's
  ``SamplerV2``, run in local mode on a fake backend (tested) or, with the same code, on a device.

Needs ``pip install 'spiqgan[qiskit]'`` (Qiskit, Aer and qiskit-ibm-runtime).
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import numpy as np

from spiqgan.exceptions import ConfigError
from spiqgan.hardware.qiskit_io import OPTIMIZATION_LEVEL
from spiqgan.hardware.sampling import is_device_name

__all__ = ["fake_backend_names", "fake_backend", "is_device_name", "transpile_for", "measured_qubits", "readout_errors",
           "sampler_pubs", "run_pubs"]

def _require_runtime() -> None:
    if importlib.util.find_spec("qiskit_ibm_runtime") is None:
        raise ConfigError("IBM's fake backends need qiskit-ibm-runtime (not installed): pip install 'spiqgan[qiskit]'.")


def _classes() -> dict[str, type]:
    """The fake backend classes by snake-case name (``FakeSherbrooke`` -> ``fake_sherbrooke``; a ``V2`` suffix dropped)."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    out = {}
    for attr in dir(fake_provider):
        cls = getattr(fake_provider, attr)
        if attr.startswith("Fake") and isinstance(cls, type) and issubclass(cls, FakeBackendV2) and \
                cls is not FakeBackendV2:
            stem = attr[4:-2] if attr.endswith("V2") else attr[4:]
            out["fake_" + re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()] = cls
    return out


def fake_backend_names() -> list[str]:
    """The names :func:`fake_backend` takes."""
    _require_runtime()
    return sorted(_classes())


def fake_backend(name: str):
    """The fake IBM backend called ``name`` (e.g. ``fake_sherbrooke``, ``fake_torino``); a clear error otherwise."""
    _require_runtime()
    classes = _classes()
    key = name.strip().lower()
    if key not in classes:
        near = [k for k in classes if key[5:] and key[5:8] in k] or ["fake_sherbrooke", "fake_torino"]
        raise ConfigError(f"{name!r} is not one of qiskit-ibm-runtime's fake backends; try {', '.join(near[:5])} "
                          f"({len(classes)} in all: python -c \"from spiqgan.hardware.ibm import fake_backend_names; "
                          "print(fake_backend_names())\").")
    return classes[key]()


def _check_width(qc, backend) -> None:
    if qc.num_qubits > backend.num_qubits:
        raise ConfigError(f"circuit {qc.name} needs {qc.num_qubits} qubits and {backend.name} has {backend.num_qubits}; "
                          "train a model of fewer neurons (or latent qubits) for this device.")


def transpile_for(qc, backend, seed: int = 0):
    """``qc`` transpiled onto ``backend`` (its native gates and coupling map) at :data:`OPTIMIZATION_LEVEL`."""
    from qiskit import transpile

    _check_width(qc, backend)
    return transpile(qc, backend=backend, optimization_level=OPTIMIZATION_LEVEL, seed_transpiler=int(seed))


def measured_qubits(tqc) -> dict[tuple[str, int], int]:
    """The physical qubit each classical bit ``(register, index)`` of a transpiled circuit is measured from."""
    out = {}
    for inst in tqc.data:
        if inst.operation.name == "measure":
            clbit = tqc.find_bit(inst.clbits[0])
            register, index = clbit.registers[0]
            out[(register.name, index)] = tqc.find_bit(inst.qubits[0]).index
    return out


def readout_errors(backend, physical: list[int]) -> np.ndarray:
    """``(len(physical), 2)``: per physical qubit, P(read 1 | prepared 0) and P(read 0 | prepared 1) from the
    backend's calibration (its symmetric ``readout_error`` where the two are not given apart)."""
    props = backend.properties()
    out = np.empty((len(physical), 2))
    for k, q in enumerate(physical):
        values = {p.name: p.value for p in props.qubits[q]}
        err = values.get("readout_error", 0.0)
        out[k] = values.get("prob_meas1_prep0", err), values.get("prob_meas0_prep1", err)
    return out


# ------------------------------------------------------------------------------------ Runtime SamplerV2
def sampler_pubs(compiled: list, executions: list[tuple[int, dict[str, float], int]]) -> tuple[list, list[list[int]]]:
    """The executions ``(circuit index, input values, shots)`` as SamplerV2 PUBs on transpiled circuits.

    One PUB per circuit and shot count: ``(circuit, values, shots)`` with ``values`` of shape
    ``(settings, parameters)`` in the order of ``circuit.parameters`` (a circuit without inputs: one PUB per
    execution). Returns the PUBs and, per PUB, the executions its rows are.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (ci, _, shots) in enumerate(executions):
        groups.setdefault((ci, shots), []).append(k)
    pubs, members = [], []
    for (ci, shots), ks in groups.items():
        qc = compiled[ci]
        if qc.parameters:
            values = np.array([[executions[k][1][p.name] for p in qc.parameters] for k in ks], dtype=np.float64)
            pubs.append((qc, values, shots))
            members.append(ks)
        else:
            for k in ks:
                pubs.append((qc, None, shots))
                members.append([k])
    return pubs, members


def run_pubs(sampler, pubs: list, members: list[list[int]], n_executions: int, *,
             progress: Any | None = None) -> list[dict[str, np.ndarray]]:
    """Run the PUBs of :func:`sampler_pubs` on a ``SamplerV2`` (one job per PUB, so that each gets its own
    simulator seed in local mode); per execution, the bits of each register ``(shots, size)``, bit 0 first."""
    out: list[dict[str, np.ndarray] | None] = [None] * n_executions
    for done, (pub, ks) in enumerate(zip(pubs, members), start=1):
        result = sampler.run([pub]).result()[0]
        for row, k in enumerate(ks):
            out[k] = {name: _bits(getattr(result.data, name), row) for name in _register_names(pub[0])}
        if progress is not None:
            progress.update(done)
    return out  # type: ignore[return-value]


def _register_names(qc) -> list[str]:
    return [r.name for r in qc.cregs]


def _bits(bit_array, row: int) -> np.ndarray:
    """One parameter setting's shots of a register ``(shots, size)``, bit 0 first, from a ``BitArray``."""
    arr = bit_array.array  # (..., shots, bytes), big-endian: the last byte holds bits 0..7
    arr = arr.reshape(-1, *arr.shape[-2:])[row]
    bits = np.unpackbits(arr, axis=-1, bitorder="big")[:, ::-1]  # bit 0 first
    return bits[:, : bit_array.num_bits].astype(np.uint8)
