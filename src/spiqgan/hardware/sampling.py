"""Drawing windows from exported circuits: which circuits to run with which inputs, and how shots become windows.

Pure NumPy: :func:`plan` draws every window's random inputs (the noise angles, or the latent value at
each step) and groups the windows into *executions*, one setting of a circuit's inputs run for some
shots; :func:`assemble` turns the measured bits back into windows ``(N, t, n)``. An executor (Aer in
:func:`spiqgan.hardware.qiskit_io.aer_outcomes`, or a device) runs the executions in between.

With the ``"sample"`` readout every shot is one window's pattern at a step. Windows that share a
latent value are independent given it, so the Born machines run each latent value once with as many
shots as windows drew it. The SpiQGAN chain's noise is continuous: by default each window draws its
own noise (one shot per execution, as the exact sampler); ``shots=N`` lets ``N`` windows share a
draw (correlated windows, fewer executions). The deterministic readouts (``"threshold"``, the QCE
``"basis"``) estimate probabilities from ``shots`` measurements (default 1000) per window and step.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from spiqgan.exceptions import ConfigError
from spiqgan.hardware.circuits import Export

__all__ = ["NoiseSpec", "DeviceNoise", "is_device_name", "parse_noise_model", "Execution", "plan", "assemble", "DEFAULT_ESTIMATE_SHOTS"]

#: shots per window and step that estimate the probabilities of a deterministic readout
DEFAULT_ESTIMATE_SHOTS = 1000


@dataclass(frozen=True)
class NoiseSpec:
    """A device-like noise model: depolarizing probabilities of one- and two-qubit gates, readout flip probability."""

    p1: float = 0.0
    p2: float = 0.0
    readout: float = 0.0

    @property
    def any(self) -> bool:
        return bool(self.p1 or self.p2 or self.readout)


@dataclass(frozen=True)
class DeviceNoise:
    """The calibrated noise of a fake IBM backend (``fake_sherbrooke``): its gate and readout errors per qubit and
    its relaxation times, on its native gates and coupling map (:mod:`spiqgan.hardware.ibm`)."""

    device: str
    any = True


def is_device_name(text: str) -> bool:
    """Whether ``text`` names a fake IBM backend (``fake_`` and a device name), not a topology or a noise spec."""
    return re.fullmatch(r"fake_[a-z0-9_]+", text.strip().lower()) is not None


def parse_noise_model(text: str) -> NoiseSpec | DeviceNoise:
    """``depolarizing:P1,P2``, ``readout:E`` or both, comma-separated (``depolarizing:1e-3,1e-2,readout:0.02``); or
    a fake IBM backend's name (``fake_sherbrooke``) for its calibrated noise."""
    if is_device_name(text):
        return DeviceNoise(text.strip().lower())
    pattern = r"(?:depolarizing:(?P<p1>[^,]+),(?P<p2>[^,]+))?,?(?:readout:(?P<e>[^,]+))?"
    match = re.fullmatch(pattern, text.strip()) if text.strip() else None
    how = ("write depolarizing:P1,P2 (one- and two-qubit gate error probabilities), readout:E (the probability "
           "that a measured bit flips), or both: depolarizing:0.001,0.01,readout:0.02; or a fake IBM backend's name "
           "for its calibrated noise: fake_sherbrooke")
    if match is None or not any(match.groupdict().values()):
        raise ConfigError(f"--noise-model {text!r} is not a noise model: {how}.")
    values = {}
    for key, top in (("p1", 1.0), ("p2", 1.0), ("e", 0.5)):
        raw = match.group(key)
        try:
            values[key] = 0.0 if raw is None else float(raw)
        except ValueError:
            raise ConfigError(f"--noise-model {text!r}: {raw!r} is not a number; {how}.") from None
        if not 0.0 <= values[key] <= top or not math.isfinite(values[key]):
            raise ConfigError(f"--noise-model {text!r}: {key} = {values[key]} must lie in [0, {top}].")
    return NoiseSpec(values["p1"], values["p2"], values["e"])


@dataclass
class Execution:
    """One setting of circuit ``circuit``'s inputs, run for ``shots``; ``windows``: the windows its shots fill (one per shot, or one for all)."""

    circuit: int
    values: dict[str, float]
    shots: int
    windows: np.ndarray


def _latent_paths(export: Export, n_windows: int, rng: np.random.Generator) -> np.ndarray:
    """The index of each window's latent value at each step ``(N, t)``: drawn, then kept or redrawn (a normal
    latent), or each next state drawn from the transition matrix's row of the one before (states)."""
    w = np.asarray(export.inputs["weights"], dtype=np.float64)
    t = export.n_timesteps
    paths = np.empty((n_windows, t), dtype=np.int64)
    paths[:, 0] = rng.choice(w.size, size=n_windows, p=w / w.sum())
    transitions = export.inputs.get("transitions")
    if transitions is not None:
        rows = np.cumsum(np.asarray(transitions, dtype=np.float64), 1)
        rows /= rows[:, -1:]
    for s in range(1, t):
        if transitions is not None:  # inverse of the row's cumulative sum at a uniform draw
            u = rng.random(n_windows)
            paths[:, s] = np.minimum((rows[paths[:, s - 1]] < u[:, None]).sum(1), w.size - 1)
            continue
        redraw = rng.choice(w.size, size=n_windows, p=w / w.sum())
        kept = rng.random(n_windows) < export.inputs.get("keep_probability", 1.0)
        paths[:, s] = np.where(kept, paths[:, s - 1], redraw)
    return paths


def _chunks(windows: np.ndarray, size: int | None) -> list[np.ndarray]:
    size = windows.size if size is None else size
    return [windows[k:k + size] for k in range(0, windows.size, max(1, size))]


def plan(export: Export, n_windows: int, rng: np.random.Generator, shots: int | None = None) -> list[Execution]:
    """The executions that draw ``n_windows`` windows (see the module docstring for ``shots``)."""
    if isinstance(n_windows, bool) or not isinstance(n_windows, (int, np.integer)) or n_windows < 1:
        raise ConfigError(f"the number of windows must be a positive integer, got {n_windows!r}.")
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1):
        raise ConfigError(f"shots must be a positive integer, got {shots!r}.")
    t = export.n_timesteps
    out: list[Execution] = []
    if export.inputs["kind"] == "uniform":
        q = export.circuits[0].n_qubits
        names = export.circuits[0].inputs
        deterministic = export.readout != "sample"
        per_draw = 1 if deterministic else (shots or 1)
        draws = -(-n_windows // per_draw)
        lo, hi = export.inputs["low"], export.inputs["high"]
        noise = rng.uniform(lo, hi, size=(draws, q) if export.inputs["shared_across_steps"] else (draws, t, q))
        for d in range(draws):
            windows = np.arange(d * per_draw, min(n_windows, (d + 1) * per_draw))
            for s in range(t):
                gamma = noise[d] if noise.ndim == 2 else noise[d, s]
                out.append(Execution(s, dict(zip(names, map(float, gamma))),
                                     (shots or DEFAULT_ESTIMATE_SHOTS) if deterministic else windows.size, windows))
        return out
    nodes = np.asarray(export.inputs["values"], dtype=np.float64)
    d = export.inputs["dimensions"]
    paths = _latent_paths(export, int(n_windows), rng)
    if export.window_circuit:
        names = export.circuits[0].inputs
        keys, inverse = np.unique(paths, axis=0, return_inverse=True)
        for key_index, key in enumerate(keys):
            values = {names[s * d + k]: float(nodes[key[s], k]) for s in range(t) for k in range(d)}
            for part in _chunks(np.flatnonzero(inverse.ravel() == key_index), shots):
                out.append(Execution(0, values, part.size, part))
        return out
    for s in range(t):
        names = export.circuits[s].inputs
        for k in np.unique(paths[:, s]):
            values = {names[i]: float(nodes[k, i]) for i in range(d)}
            for part in _chunks(np.flatnonzero(paths[:, s] == k), shots):
                out.append(Execution(s, values, part.size, part))
    return out


def assemble(export: Export, executions: list[Execution], outcomes: list[dict[str, np.ndarray]],
             n_windows: int) -> np.ndarray:
    """Windows ``(n_windows, t, n)`` uint8 from each execution's measured bits per register ``(shots, size)``."""
    n, t = export.n_neurons, export.n_timesteps
    out = np.zeros((n_windows, t, n), dtype=np.uint8)
    for ex, bits in zip(executions, outcomes):
        circuit = export.circuits[ex.circuit]
        if export.readout == "sample":
            for reg, s in circuit.steps.items():
                out[ex.windows, s] = bits[reg]
        elif export.readout == "threshold":
            s = circuit.steps["spikes"]
            out[ex.windows, s] = (bits["spikes"].mean(0) > 0.5).astype(np.uint8)
        else:  # the QCE 2023 basis readout on the shots whose ancillas read 0
            s = circuit.steps["basis"]
            kept = bits["basis"][~bits["ancilla"].any(1)]
            f = kept.shape[1]
            index = kept.astype(np.int64) @ (1 << np.arange(f - 1, -1, -1))
            p = np.bincount(index, minlength=2**f)[:n] / max(1, kept.shape[0])
            out[ex.windows, s] = (p > export.inputs["qce_offset"]).astype(np.uint8)
    return out
