r"""Readout mitigation on the estimated distribution of window patterns, not on individual windows.

A measured bit that is really ``0`` reads ``1`` with probability :math:`e_{01}` and a ``1`` reads ``0``
with :math:`e_{10}`; with independent readout errors the distribution of read patterns is that of the
true patterns through the tensor product of each bit's confusion matrix

.. math:: A_k = \begin{pmatrix} 1 - e_{01} & e_{10} \\ e_{01} & 1 - e_{10} \end{pmatrix}.

:func:`mitigated_distribution` applies each :math:`A_k^{-1}` along its bit's axis of the empirical
pattern distribution of the drawn windows (``d = t n`` bits, at most :data:`MAX_BITS`), which gives
quasi-probabilities (sampling noise can make some negative), then the nearest probability
distribution in Euclidean norm (Smolin, Gambetta and Smith 2012, :func:`nearest_distribution`).
Every statistic spiqgan reports is an expectation under that distribution, so
:func:`mitigated_windows` draws windows from it for :func:`spiqgan.evaluation.scoring.evaluate`: they
are draws from the corrected estimate, not corrected windows (a single window's flipped bits cannot
be told apart from real spikes).

The confusion of each bit comes from :func:`readout_confusion`: the ``readout:E`` of a hand-set
noise model, or, for a fake IBM backend, calibration circuits run on the physical qubits that the
model's circuits measure (each prepared in ``|0>`` and in ``|1>``), as one would calibrate a device.
"""

from __future__ import annotations

import numpy as np

from spiqgan.evaluation.statistics import pattern_indices, pattern_windows
from spiqgan.exceptions import ConfigError

__all__ = ["MAX_BITS", "unconfuse", "mitigated_distribution", "nearest_distribution", "mitigated_windows", "readout_confusion"]

#: the most bits (t n) of a window whose full pattern distribution is mitigated (2^20 patterns)
MAX_BITS = 20


def nearest_distribution(q: np.ndarray) -> np.ndarray:
    """The probability distribution nearest to quasi-probabilities ``q`` (summing to 1) in Euclidean norm.

    Smolin, Gambetta and Smith (2012): going up from the most negative entry, an entry is set to zero
    and its mass spread over the rest while it is below minus that spread; the rest then share it.
    """
    q = np.asarray(q, dtype=np.float64)
    order = np.argsort(q)
    s = q[order]
    size = s.size
    spilled = np.concatenate([[0.0], np.cumsum(s)[:-1]])  # mass of the entries below each one
    keep = s + spilled / (size - np.arange(size)) >= 0
    first = int(np.argmax(keep)) if keep.any() else size - 1
    out = np.zeros(size)
    out[order[first:]] = s[first:] + spilled[first] / (size - first)
    return np.clip(out, 0.0, None) / np.clip(out, 0.0, None).sum()


def _check_errors(errors: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    e = np.asarray(errors, dtype=np.float64)
    if e.shape != (*shape, 2):
        raise ConfigError(f"readout errors must have shape {(*shape, 2)} (per step and neuron: P(1|0), P(0|1)), "
                          f"got {e.shape}.")
    if not np.all(np.isfinite(e)) or np.any(e < 0) or np.any(e.sum(-1) >= 1):
        raise ConfigError("readout errors must be probabilities with P(1|0) + P(0|1) < 1 (else a bit carries no "
                          "information and cannot be mitigated).")
    return e


def mitigated_distribution(windows: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """``(2^(t n),)`` the readout-mitigated distribution of the patterns of ``windows`` ``(N, t, n)``.

    ``errors`` ``(t, n, 2)``: per bit, P(read 1 | 0) and P(read 0 | 1). Pattern ``k``'s bits are those of
    :func:`spiqgan.evaluation.statistics.pattern_indices` (step 0, neuron 0 the highest bit).
    """
    x = np.asarray(windows)
    if x.ndim != 3 or len(x) == 0:
        raise ConfigError(f"windows must be (N, t, n) with N >= 1, got shape {x.shape}.")
    t, n = x.shape[1:]
    d = t * n
    if d > MAX_BITS:
        raise ConfigError(f"readout mitigation estimates the distribution of all 2^(t n) window patterns, and t n = "
                          f"{d} is over {MAX_BITS}; mitigate fewer neurons or steps.")
    e = _check_errors(errors, (t, n))
    read = np.bincount(pattern_indices(x), minlength=2 ** d) / len(x)
    return nearest_distribution(unconfuse(read, e.reshape(d, 2)))


def unconfuse(read: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Quasi-probabilities of the true patterns from the distribution ``read`` ``(2^d,)`` of read patterns: each
    bit's inverse confusion matrix applied along its axis. ``errors`` ``(d, 2)``: P(1|0), P(0|1) of bit ``k``
    (bit 0 the highest of the pattern index)."""
    e = np.asarray(errors, dtype=np.float64)
    d = len(e)
    q = np.asarray(read, dtype=np.float64).reshape((2,) * d)  # axis k: bit k
    for k in range(d):
        e01, e10 = e[k]
        inverse = np.linalg.inv(np.array([[1 - e01, e10], [e01, 1 - e10]]))
        q = np.moveaxis(np.tensordot(inverse, q, axes=([1], [k])), 0, k)
    return q.reshape(-1)


def mitigated_windows(windows: np.ndarray, errors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` windows ``(count, t, n)`` uint8 drawn from :func:`mitigated_distribution` of ``windows``."""
    x = np.asarray(windows)
    p = mitigated_distribution(x, errors)
    t, n = x.shape[1:]
    return pattern_windows(rng.choice(p.size, size=int(count), p=p), t, n)


def readout_confusion(export, noise, *, shots: int = 20000, seed: int = 0) -> np.ndarray:
    """``(t, n, 2)``: per window bit, P(read 1 | 0) and P(read 0 | 1) under ``noise``.

    A :class:`~spiqgan.hardware.sampling.NoiseSpec`: its ``readout`` on every bit. A
    :class:`~spiqgan.hardware.sampling.DeviceNoise`: the model's circuits are transpiled onto the fake
    backend as :func:`spiqgan.hardware.export.aer_sample` transpiles them, the physical qubit behind each
    bit is read off, and two calibration circuits on those qubits (all prepared in ``|0>``, all in
    ``|1>``) run ``shots`` times under the backend's noise. Only the ``sample`` readout (one measured bit
    per neuron and step) is mitigated this way.
    """
    from spiqgan.hardware.sampling import DeviceNoise, NoiseSpec

    if export.readout != "sample":
        raise ConfigError(f"readout mitigation needs bits that are spikes; this model's readout is {export.readout!r} "
                          "(a thresholded or post-selected estimate).")
    t, n = export.n_timesteps, export.n_neurons
    if isinstance(noise, NoiseSpec):
        return np.full((t, n, 2), float(noise.readout))
    if not isinstance(noise, DeviceNoise):
        raise ConfigError(f"readout mitigation needs a noise model, got {noise!r}.")
    from qiskit import ClassicalRegister, QuantumCircuit
    from qiskit_aer import AerSimulator

    from spiqgan.hardware.ibm import fake_backend, measured_qubits
    from spiqgan.hardware.qiskit_io import to_qiskit, transpile_for

    backend = fake_backend(noise.device)
    where: dict[tuple[int, int], int] = {}  # (step, neuron) -> physical qubit
    for circuit in export.circuits:
        read = measured_qubits(transpile_for(to_qiskit(circuit), backend))
        for register, step in circuit.steps.items():
            for j in range(n):
                where[(step, j)] = read[(register, j)]
    physical = sorted(set(where.values()))
    rates = {}
    sim = AerSimulator.from_backend(backend)
    for prepared in (0, 1):
        qc = QuantumCircuit(backend.num_qubits)
        qc.add_register(ClassicalRegister(len(physical), "c"))
        for k, q in enumerate(physical):
            if prepared:
                qc.x(q)
            qc.measure(q, k)
        # already on the device's qubits in its native gates (x, measure): run as it is, no layout to move them
        counts = sim.run(qc, shots=int(shots), seed_simulator=int(seed) + prepared, memory=True).result()
        bits = np.array([[int(ch) for ch in m[::-1]] for m in counts.get_memory()], dtype=np.uint8)
        rates[prepared] = (bits != prepared).mean(0)
    errors = np.empty((t, n, 2))
    for (step, j), q in where.items():
        k = physical.index(q)
        errors[step, j] = rates[0][k], rates[1][k]
    return errors
