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

Memory
------
A model that knows its peak memory (:meth:`~spiqgan.models.base.Estimator.peak_memory_bytes`) is
checked before its first step (:func:`check_memory`) against what this process can still get
(:func:`available_memory_bytes`: the system's available memory, a cgroup's limit, an address-space
limit); more is a one-line refusal that names the estimate and the options that lower it.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["default_threads", "describe_cost", "available_memory_bytes", "check_memory"]

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


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def describe_cost(model: Any, threads: int, preview: dict[str, Any] | None = None) -> str:
    """What a run will cost (the model's own :meth:`~spiqgan.models.base.Estimator.cost_summary`: qubits, bond
    dimension, parameters, memory) and its threads; with ``preview`` (``model.preview(windows)``: a timed first
    step) the seconds per step and the total."""
    timed = ""
    if preview is not None:
        total = preview["seconds_per_step"] * preview["steps"]
        timed = (f"; first step timed at {preview['seconds_per_step']:.3g} s, so at most about {_duration(total)} "
                 f"for {preview['steps']} steps")
    return f"cost: {model.cost_summary(preview)}; {threads} torch thread(s){timed}"


def available_memory_bytes() -> int | None:
    """Memory this process can still allocate: the least of the system's available memory (``MemAvailable``), a
    cgroup's remaining limit and the address-space limit (``ulimit -v``) less what the process maps; ``None``
    where none can be read."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        limit = open("/sys/fs/cgroup/memory.max", encoding="ascii").read().strip()
        used = int(open("/sys/fs/cgroup/memory.current", encoding="ascii").read().strip())
        if limit != "max":
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm", encoding="ascii") as fh:
                mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            found.append(soft - mapped)
    except (ImportError, OSError, ValueError):
        pass
    return max(0, min(found)) if found else None


def check_memory(model: Any, available: int | None = None) -> None:
    """Refuse (:class:`~spiqgan.exceptions.ConfigError`, one line) a fit whose estimated peak memory is more than
    is available (``available``: :func:`available_memory_bytes` unless given)."""
    from spiqgan.exceptions import ConfigError
    from spiqgan.progress import format_bytes

    estimate = getattr(model, "peak_memory_bytes", lambda: None)()
    available = available_memory_bytes() if available is None else available
    if estimate is None or available is None or estimate <= available:
        return
    lower = getattr(model, "memory_options", lambda: "")()
    raise ConfigError(f"this fit needs about {format_bytes(estimate)} of memory at its peak, more than the "
                      f"{format_bytes(available)} available{'; ' + lower if lower else ''}.")
