"""What a run will cost, said before it starts; and how many threads to give it.

Thread count
------------
Measured with ``python benchmarks/threads.py`` on the 2-core development
machine (default likelihood steps, seconds per step, 2 threads / 1 thread):

==========  ====  =====  =====  =====  =======  =======
machine     (4,2) (4,5)  (8,1)  (10,1) (10,10)  (12,1)
==========  ====  =====  =====  =====  =======  =======
idle        0.89  0.67   0.71   0.65   0.62     -
one core    2.64  1.68   1.61   3.34   0.92     1.46
busy
==========  ====  =====  =====  =====  =======  =======

So threads pay on an idle machine and cost up to 3x when other work holds a
core. :func:`default_threads` takes the cores that the load average leaves
free, and one thread for problems too small to gain (under 100 amplitudes per
noise draw and sample: (4, 2) gains 11 % idle and loses 2.6x busy).
"""

from __future__ import annotations

import os
from typing import Any

from spiqgan.progress import format_bytes

__all__ = ["default_threads", "problem_size", "describe_cost"]

#: below this many amplitudes per noise draw and window (2^q t), one thread
SMALL_PROBLEM = 100


def default_threads(size: int | None = None, cores: int | None = None, load: float | None = None) -> int:
    """Torch threads for a problem of ``size`` amplitudes per draw (``2^q t``; ``None``: unknown).

    ``cores`` and ``load`` (the 1-minute load average) default to this
    machine's; the result is the number of idle cores, at least 1, and 1 for
    a problem smaller than :data:`SMALL_PROBLEM`.
    """
    cores = cores if cores is not None else (os.cpu_count() or 1)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - no load average on this platform
            load = 0.0
    if size is not None and size < SMALL_PROBLEM:
        return 1
    return max(1, min(cores, cores - int(round(load))))


def problem_size(model: Any) -> int | None:
    """Amplitudes per noise draw and window, ``2^q t``, of a SpiQGAN model (``None`` for a classical one)."""
    from spiqgan.model import SpiQGAN

    return 2 ** model.circuit_config().n_qubits * model.n_timesteps if isinstance(model, SpiQGAN) else None


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def describe_cost(model: Any, threads: int, preview: dict[str, Any] | None = None) -> str:
    """What a run will cost: qubits, bond dimension (MPS), parameters, memory, threads, and with
    ``preview`` (``model.preview(windows)``: a timed first step) the seconds per step and the total."""
    from spiqgan.born import BornMachine
    from spiqgan.model import SpiQGAN
    from spiqgan.quantum import mps
    from spiqgan.quantum.generator import resolve_backend

    timed = ""
    if preview is not None:
        total = preview["seconds_per_step"] * preview["steps"]
        timed = (f"; first step timed at {preview['seconds_per_step']:.3g} s, so at most about {_duration(total)} "
                 f"for {preview['steps']} steps")
    if isinstance(model, BornMachine):
        p = model.resolved_params()
        latent = p["latent_nodes"] ** p["latent_dim"]
        per_step = (f"{model.n_neurons} conditionals" if model.family == "cry"
                    else f"2^{model.n_neurons} patterns")
        params = f"{preview['parameters']} trainable parameters, " if preview is not None else ""
        return (f"cost: {model.n_neurons} qubits x {model.n_timesteps} sub-generators, {params}exact likelihood of the "
                f"distinct training windows under {latent} latent value(s), {per_step} per step, {p['steps']} L-BFGS "
                f"iterations at most; {threads} torch thread(s){timed}")
    if not isinstance(model, SpiQGAN):
        return f"cost: a classical fit (its parameters are counted after it); {threads} torch thread(s)"
    p = model.resolved_params()
    config = model.circuit_config()
    q, t, l = config.n_qubits, p["n_timesteps"], config.n_layers
    batch = p["noise_samples"] if p["objective"] == "likelihood" else p["batch_size"]
    itemsize = 16 if p["dtype"] == "complex128" else 8
    if resolve_backend(config, p["backend"]) == "mps":
        d = mps.bond_dimension(l)
        size = mps.mps_bytes(q, l, batch * t, itemsize)
        sim = (f"the mps backend, bond dimension {d} (exact); one MPS of {batch} x {t} x {q} sites of {d} x 2 x {d} "
               f"amplitudes is {format_bytes(size)}")
    else:
        sim = (f"the statevector backend; one state of {batch} x {t} x 2^{q} amplitudes is "
               f"{format_bytes(batch * t * 2 ** q * itemsize)}")
    return (f"cost: {q} qubits x {t} sub-generators, {model.n_parameters} trainable parameters, on {sim} (autograd "
            f"keeps several per layer); {threads} torch thread(s){timed}")
