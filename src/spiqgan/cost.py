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


def describe_cost(model: Any, threads: int) -> str:
    """One line: qubits, parameters, the simulator's state size per step, threads."""
    from spiqgan.born import BornMachine
    from spiqgan.model import SpiQGAN

    if isinstance(model, BornMachine):
        p = model.resolved_params()
        latent = p["latent_nodes"] ** p["latent_dim"]
        per_step = (f"{model.n_neurons} conditionals" if model.family == "cry"
                    else f"2^{model.n_neurons} patterns")
        return (f"cost: exact likelihood of the distinct training windows under {latent} latent value(s), "
                f"{per_step} per step, {p['steps']} L-BFGS iterations at most "
                f"(parameters counted after the fit); {threads} torch thread(s)")
    if not isinstance(model, SpiQGAN):
        return f"cost: a classical fit (its parameters are counted after it); {threads} torch thread(s)"
    p = model.resolved_params()
    q = model.circuit_config().n_qubits
    t = p["n_timesteps"]
    batch = p["noise_samples"] if p["objective"] == "likelihood" else p["batch_size"]
    itemsize = 16 if p["dtype"] == "complex128" else 8
    state = batch * t * 2 ** q * itemsize
    return (f"cost: {q} qubits x {t} sub-generators, {model.n_parameters} trainable parameters; one state of "
            f"{batch} x {t} x 2^{q} amplitudes is {format_bytes(state)} (autograd keeps several per layer); "
            f"{threads} torch thread(s); the time per step follows once measured")
