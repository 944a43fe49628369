"""IBM devices: fake backends by name (native gates, coupling map, calibrated noise) and Runtime's sampler.

The fake backends of ``qiskit-ibm-runtime`` (``fake_sherbrooke``: an Eagle r3, 127 qubits, native ECR;
``fake_torino``: a Heron, 133 qubits, native CZ; any other ``qiskit_ibm_runtime.fake_provider`` class
by its snake-case name) carry a device's gates, coupling map and a snapshot of its calibration. They
serve three things without an account:

* the cost of a model's circuits on the device (:func:`spiqgan.hardware.qiskit_io.transpiled_cost`:
  depth and two-qubit gates over several transpiler seeds, the layout's spread);
* calibrated noise for Aer (``spiqgan sample --backend aer --noise-model fake_sherbrooke``,
  through :func:`spiqgan.hardware.qiskit_io.aer_outcomes`), and the calibrated readout error of each
  measured qubit (:func:`measured_qubits`, :func:`readout_errors`; readout mitigation measures it with
  calibration circuits instead, :mod:`spiqgan.hardware.mitigation`);
* :func:`runtime_plan`, :func:`windows_from_results` (:func:`sampler_windows` both in one): the
  executions of :func:`spiqgan.hardware.sampling.plan` as primitive unified blocs (PUBs: one transpiled
  circuit, an array of input values, shots) for Runtime's sampler, run in local mode on a fake
  backend (:func:`local_sampler`, tested) or, with the same code, on a device.

Needs ``pip install 'spiqgan[qiskit]'`` (Qiskit, Aer and qiskit-ibm-runtime).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

import numpy as np

from spiqgan.exceptions import ConfigError
from spiqgan.hardware.qiskit_io import job_seed, to_qiskit, transpile_for
from spiqgan.hardware.sampling import is_device_name

__all__ = ["fake_backend_names", "fake_backend", "is_device_name", "transpile_for", "measured_qubits", "readout_errors",
           "sampler_pubs", "RuntimePlan", "runtime_plan", "windows_from_results", "sampler_windows", "local_sampler"]


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


# ------------------------------------------------------------------------------------ Runtime's sampler
def sampler_pubs(compiled: list, executions: list[tuple[int, dict[str, float], int]]) -> tuple[list, list[list[int]]]:
    """The executions ``(circuit index, input values, shots)`` as Sampler PUBs on transpiled circuits.

    One PUB per circuit: ``(circuit, values, shots)`` with ``values`` of shape ``(settings, parameters)`` in
    the order of ``circuit.parameters`` (a circuit without inputs: one PUB per execution). Runtime's
    client-side sampler runs every PUB of a job with one shot count, so every PUB gets the most shots any
    execution needs, and an execution that needs fewer keeps its first ones (:func:`windows_from_results`).
    Returns the PUBs and, per PUB, the executions its rows are.
    """
    shots = max(e[2] for e in executions)
    groups: dict[int, list[int]] = {}
    for k, (ci, _, _) in enumerate(executions):
        groups.setdefault(ci, []).append(k)
    pubs, members = [], []
    for ci, ks in groups.items():
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


@dataclass
class RuntimePlan:
    """What a device run of ``n_windows`` windows needs (:func:`runtime_plan`): the PUBs to submit, and how their
    rows map back to the executions (and these to windows)."""

    pubs: list
    members: list[list[int]]
    executions: list
    n_windows: int

    @property
    def shots(self) -> int:
        """Shots submitted (every row of every PUB at the PUBs' one shot count)."""
        return int(sum(len(ks) * pub[2] for pub, ks in zip(self.pubs, self.members)))

    @property
    def used_shots(self) -> int:
        """Shots that become windows (the rest are the padding of executions that need fewer)."""
        return int(sum(e.shots for e in self.executions))


def runtime_plan(export, n_windows: int, backend, *, seed: int = 0, shots: int | None = None,
                 transpiler_seed: int = 0) -> RuntimePlan:
    """The model's circuits transpiled onto ``backend`` (ISA circuits: its native gates and qubits), the windows'
    random inputs drawn from ``seed`` (:func:`spiqgan.hardware.sampling.plan`; ``shots``: the most windows one
    execution draws, which also bounds the padding), and the PUBs of :func:`sampler_pubs`;
    :func:`windows_from_results` turns the sampler's results back into windows."""
    from spiqgan.hardware.sampling import plan

    executions = plan(export, n_windows, np.random.default_rng(seed), shots)
    compiled = [transpile_for(to_qiskit(c), backend, transpiler_seed) for c in export.circuits]
    pubs, members = sampler_pubs(compiled, [(e.circuit, e.values, e.shots) for e in executions])
    return RuntimePlan(pubs, members, executions, int(n_windows))


def windows_from_results(export, run: RuntimePlan, results) -> np.ndarray:
    """Windows ``(N, t, n)`` uint8 from a sampler's results of the PUBs of ``run``, in their order."""
    from spiqgan.hardware.sampling import assemble

    outcomes: list[dict[str, np.ndarray] | None] = [None] * len(run.executions)
    for pub, result, ks in zip(run.pubs, results, run.members):
        names = [r.name for r in pub[0].cregs]
        for row, k in enumerate(ks):
            need = run.executions[k].shots  # the first shots of a padded row
            outcomes[k] = {name: _bits(getattr(result.data, name), row)[:need] for name in names}
    return assemble(export, run.executions, outcomes, run.n_windows)  # type: ignore[arg-type]


def sampler_windows(export, n_windows: int, sampler, backend, *, seed: int = 0, shots: int | None = None,
                    simulator_seed: int | None = None) -> np.ndarray:
    """Draw ``n_windows`` windows through a Runtime sampler: on a device (an account's backend), all PUBs in one
    job; in local mode on a fake backend, with ``simulator_seed`` for reproducible draws.

    A seeded local simulator gives every PUB of a job the same random stream, and the steps of a window
    come from different PUBs (one circuit per step), so with ``simulator_seed`` each PUB runs as its own
    job with a seed derived from it and the PUB's index (one seed for all: the chi-square against the
    exact distribution failed, p 3e-9 at t = 3).
    """
    run = runtime_plan(export, n_windows, backend, seed=seed, shots=shots)
    if simulator_seed is None:
        return windows_from_results(export, run, sampler.run(run.pubs).result())
    results = []
    for k, pub in enumerate(run.pubs):
        sampler.options.simulator.seed_simulator = job_seed(simulator_seed, k)
        results.append(sampler.run([pub]).result()[0])
    return windows_from_results(export, run, results)


def local_sampler(backend):
    """Runtime's sampler in local mode on a (fake) backend, simulated by Aer with the backend's noise: the
    client-side ``executor_sampler.Sampler`` where this qiskit-ibm-runtime has it, else ``SamplerV2``
    (deprecated from 0.50). Seeds: :func:`sampler_windows`'s ``simulator_seed``."""
    try:
        from qiskit_ibm_runtime.executor_sampler import Sampler
    except ImportError:  # older qiskit-ibm-runtime
        from qiskit_ibm_runtime import SamplerV2 as Sampler
    return Sampler(mode=backend)


def _bits(bit_array, row: int) -> np.ndarray:
    """One parameter setting's shots of a register ``(shots, size)``, bit 0 first, from a ``BitArray``."""
    arr = bit_array.array  # (..., shots, bytes), big-endian: the last byte holds bits 0..7
    arr = arr.reshape(-1, *arr.shape[-2:])[row]
    bits = np.unpackbits(arr, axis=-1, bitorder="big")[:, ::-1]  # bit 0 first
    return bits[:, : bit_array.num_bits].astype(np.uint8)
