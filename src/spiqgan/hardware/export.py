"""What ``spiqgan export``, ``spiqgan sample --backend aer`` and ``spiqgan resources`` do with a run folder.

:func:`export_run` writes a model's circuits as OpenQASM 3 files, a QPY file of Qiskit circuits or a
PennyLane module, with ``manifest.json`` (what the inputs and registers mean);
:func:`aer_sample` draws windows through Qiskit Aer; :func:`resources` costs a model on a device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from spiqgan.exceptions import ConfigError, DataError
from spiqgan.hardware.circuits import Export, circuits_of
from spiqgan.hardware.qiskit_io import TOPOLOGIES
from spiqgan.hardware.sampling import DeviceNoise, NoiseSpec, assemble, is_device_name, plan

__all__ = ["FORMATS", "DEVICES", "load_export", "export_run", "aer_sample", "resources", "shift_terms"]

#: the export formats
FORMATS = ("qasm3", "qiskit", "pennylane")
#: the device topologies of :func:`resources` (besides fake IBM backends by name)
DEVICES = TOPOLOGIES
#: transpiler seeds :func:`resources` tries by default (the layout's spread)
TRANSPILER_SEEDS = 5


def load_export(run_dir: str | Path, which: str = "last") -> Export:
    """The circuits of the model in a run folder (``which``: its last or best generator, as ``spiqgan sample``
    takes them), neurons named by the run's data selection."""
    from spiqgan.experiments.runs import CONFIG_FILE, load_run

    run_dir = Path(run_dir)
    model = load_run(run_dir)
    neurons = None
    config = run_dir / CONFIG_FILE
    if config.exists():
        neurons = json.loads(config.read_text()).get("data", {}).get("neurons")
    return circuits_of(model, which=which, neurons=neurons)


def _header(export: Export) -> str:
    names = ", ".join(f"{j}: neuron {k}" for j, k in enumerate(export.neurons))
    where = ("basis state j of the basis register (ancillas post-selected on 0) is neuron" if export.readout == "basis"
             else "bit j of a spikes register is neuron")
    return (f"spiqgan export: model {export.model}, {export.n_neurons} neurons, {export.n_timesteps} time steps; "
            f"{where} ({names}); readout {export.readout}; inputs and their draw: manifest.json")


def export_run(export: Export, fmt: str, out: str | Path, *, force: bool = False) -> list[Path]:
    """Write the circuits in format ``fmt`` (:data:`FORMATS`) and ``manifest.json`` into folder ``out``."""
    from spiqgan.io.atomic import write_json, write_text

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} is a file; give a folder.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DataError(f"--out {out} is not empty; give another folder, or --force to write into it.")
    out.mkdir(parents=True, exist_ok=True)
    header = _header(export)
    written = []
    if fmt == "qasm3":
        from spiqgan.hardware.qasm import to_qasm3

        for c in export.circuits:
            written.append(write_text(out / f"{c.name}.qasm", to_qasm3(c, header)))
    elif fmt == "pennylane":
        from spiqgan.hardware.pennylane_io import pennylane_source

        written.append(write_text(out / "circuits.py", pennylane_source(export.circuits, header)))
    else:
        from spiqgan.hardware.qiskit_io import require_qiskit, write_qpy

        require_qiskit()
        written.append(write_qpy(out / "circuits.qpy", export.circuits,
                                 {"spiqgan": header, "model": export.model, "neurons": list(export.neurons),
                                  "n_timesteps": export.n_timesteps, "readout": export.readout}))
    manifest = {**export.manifest(), "format": fmt, "files": [p.name for p in written], "about": header}
    written.append(write_json(out / "manifest.json", manifest))
    return written


def aer_sample(export: Export, n_windows: int, *, shots: int | None = None,
               noise: NoiseSpec | DeviceNoise | None = None, seed: int = 0, method: str | None = None,
               progress: bool = False) -> np.ndarray:
    """Windows ``(n_windows, t, n)`` uint8 drawn through Qiskit Aer from the model's circuits (see :mod:`spiqgan.hardware.sampling`).

    ``noise``: a device-like noise model, or a fake IBM backend's calibrated noise (:class:`DeviceNoise`);
    ``method``: Aer's simulation method (default: by width, see :func:`~spiqgan.hardware.qiskit_io.aer_outcomes`);
    ``progress``: a progress line over the Aer jobs on standard error.
    """
    from spiqgan.hardware.qiskit_io import aer_jobs, aer_outcomes, require_qiskit
    from spiqgan.progress import Progress

    require_qiskit()
    rng = np.random.default_rng(seed)
    executions = plan(export, n_windows, rng, shots)
    runs = [(e.circuit, e.values, e.shots) for e in executions]
    backend = None
    if isinstance(noise, DeviceNoise):
        from spiqgan.hardware.ibm import fake_backend

        backend, noise = fake_backend(noise.device), None
    with Progress(len(aer_jobs(runs)), label="Aer job ", enabled=progress) as bar:
        outcomes = aer_outcomes(export.circuits, runs, noise, seed=seed, method=method, progress=bar, backend=backend)
    return assemble(export, executions, outcomes, n_windows)


def shift_terms(export: Export) -> list[list[int]]:
    """Per circuit and time step: the circuit evaluations one parameter-shift gradient takes for one input setting.

    Two per rotation with a trained angle, four per controlled rotation (its four-term rule). A
    circuit of one step has one entry; a window circuit one per step (its steps' rotations).
    """
    out = []
    for c in export.circuits:
        bounds = c.step_starts + [len(c.ops)]
        out.append([sum((4 if op.name == "cry" else 2) for op in c.ops[a:b] if op.trainable)
                    for a, b in zip(bounds, bounds[1:])])
    return out


def resources(export: Export, device: str, *, windows: int = 10000, shots: int | None = None,
              estimate_shots: int = 1000, training_windows: np.ndarray | None = None, seed: int = 0,
              transpiler_seeds: int = TRANSPILER_SEEDS, distinct_training_windows: int | None = None) -> dict[str, Any]:
    """Transpiled depth and gate counts per circuit, executions and shots to draw ``windows`` windows, and per training step.

    ``device``: ``heavy-hex``, ``all-to-all`` or a fake IBM backend by name (``fake_sherbrooke``); each circuit
    is transpiled with seeds ``seed .. seed + transpiler_seeds - 1`` and reported at the seed with the
    fewest two-qubit gates, with the range over all (:func:`~spiqgan.hardware.qiskit_io.transpiled_cost`).

    Training per step, with every probability estimated from ``estimate_shots`` shots per execution:
    ``parameter_shift_likelihood``: each input setting the likelihood sums over (the latent values of a
    Born machine, per step circuit; the noise draws of a SpiQGAN likelihood fit) is run once and once
    per shift term (:func:`shift_terms`). ``score_function`` (SpiQGAN's adversarial route): a batch of
    windows is drawn and each window's log-probability gradient needs the same shifts, per noise draw.
    A window circuit's likelihood step is per distinct training window; given ``training_windows``
    ``(B, t, n)`` or their number ``distinct_training_windows`` (a run folder's ``windows.json``), it is
    multiplied by their number of distinct windows.
    """
    from spiqgan.hardware.qiskit_io import OPTIMIZATION_LEVEL, require_qiskit, transpiled_cost

    require_qiskit()
    if isinstance(transpiler_seeds, bool) or not isinstance(transpiler_seeds, (int, np.integer)) or transpiler_seeds < 1:
        raise ConfigError(f"--transpiler-seeds must be a positive integer, got {transpiler_seeds!r}.")
    seeds = list(range(int(seed), int(seed) + int(transpiler_seeds)))
    if is_device_name(device):
        from spiqgan.hardware.ibm import fake_backend

        target = fake_backend(device)
    else:
        target = device
    per_circuit = [transpiled_cost(c, target, seeds) for c in export.circuits]
    executions = plan(export, windows, np.random.default_rng(seed), shots)
    p = export.hyperparameters
    shifts = shift_terms(export)
    training: dict[str, Any] = {}
    if export.inputs["kind"] == "latent":
        settings = len(export.inputs["weights"])  # the latent values, on every step's circuit
        per_window = export.window_circuit
        note = ("every latent value on every step circuit" if not per_window else
                "per distinct training window: every latent value on each step, its earlier steps given "
                "(multiply by the number of distinct training windows)")
    else:
        settings, per_window = int(p.get("noise_samples", 128)), False
        note = "per noise draw of the likelihood (noise_samples) and sub-generator"
    evaluations = sum((1 + k) * settings for steps in shifts for k in steps)
    distinct = distinct_training_windows
    if training_windows is not None:
        distinct = len(np.unique(np.asarray(training_windows).reshape(len(training_windows), -1), axis=0))
    if per_window and distinct is not None:
        evaluations *= distinct
        note = f"{distinct} distinct training windows, each: every latent value on each step, its earlier steps given"
    training["parameter_shift_likelihood"] = {"executions": evaluations, "shots": evaluations * estimate_shots,
                                              "input_settings_per_circuit": settings, "shift_terms": shifts,
                                              "per_distinct_training_window": per_window and distinct is None,
                                              "distinct_training_windows": distinct, "note": note}
    if export.inputs["kind"] == "uniform":
        batch = int(p.get("batch_size", 1024))
        score = sum((1 + k) * batch for steps in shifts for k in steps)
        training["score_function"] = {"executions": score, "shots": score * estimate_shots, "batch_size": batch,
                                      "note": "one noise draw per window of the batch, each run once and once per shift"}
    return {
        "model": export.model, "device": device, "neurons": export.n_neurons, "timesteps": export.n_timesteps,
        "circuits": per_circuit,
        "sampling": {"windows": windows, "executions": len(executions), "shots": int(sum(e.shots for e in executions)),
                     "shots_per_execution": shots},
        "training_per_step": training, "estimate_shots": estimate_shots,
        "transpiler": {"optimization_level": OPTIMIZATION_LEVEL, "seeds": seeds,
                       "basis_gates": per_circuit[0]["basis_gates"] if per_circuit else []},
    }
