"""A progress line for long work: step, losses, JS, speed and time left, on standard error.

Early on a line says what one step takes, the peak memory so far and how long
the rest will take at that pace: after the first step when it took 5 s or more,
else after the second (the first is mostly start-up). On a terminal the progress line
is then redrawn in place (at most ten times a second); in a log file (no
terminal) a full line is written every tenth of the run.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import IO, Any, Iterator

__all__ = ["Progress", "as_progress", "format_bytes", "peak_memory_bytes", "warm_optimizers"]

#: a first step at least this long (seconds) is timed itself; a shorter one is mostly start-up, so the second is
SLOW_STEP_S = 5.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def peak_memory_bytes() -> int:
    """The largest resident memory this process has used so far."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


class Progress:
    """``with Progress(total, label) as bar: bar.update(step, loss=...)``; ``bar.finish(step, reason)`` where the
    work ends early (a converged fit)."""

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream: IO[str] | None = None,
                 estimate: bool = True) -> None:
        self.total = max(1, int(total))
        self.estimate = estimate  # False: the caller said what the run will take already (one estimate, not two)
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.next_log = self.total / 10
        self.first: int | None = None  # the step before the first update: a resumed run's speed counts its own steps
        self.first_done: float | None = None  # when the first update came, until the estimate is said

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def restart(self) -> None:
        """Start the clock again: what came before (one-time set-up, not a step) is not timed as one."""
        self.start = time.perf_counter()

    def line(self, step: int, fields: dict[str, float | None]) -> str:
        elapsed = time.perf_counter() - self.start
        done = step - (self.first or 0)
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else 0.0
        parts = [f"{self.label}{step}/{self.total}"]
        parts += [f"{k} {v:.4g}" for k, v in fields.items() if v is not None]
        parts.append(f"{rate:.1f} step/s, {_duration(elapsed)} elapsed, {_duration(eta)} left")
        return " | ".join(parts)

    def update(self, step: int, **fields: float | None) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first = max(0, step - 1)
            self.first_done = now
            # a long first step is estimate enough; a short one is mostly start-up: time the second instead
            if now - self.start >= SLOW_STEP_S:
                self._estimate(step, now - self.start, "first step")
        elif self.first_done is not None:
            self._estimate(step, (now - self.first_done) / max(1, step - self.first - 1), "one step")
        if self.tty:
            if now - self.last_draw >= 0.1 or step >= self.total:
                self.stream.write("\r" + self.line(step, fields) + "\033[K")
                self.stream.flush()
                self.last_draw = now
        elif step >= self.next_log or step >= self.total:
            self.stream.write(self.line(step, fields) + "\n")
            self.stream.flush()
            while self.next_log <= step:
                self.next_log += self.total / 10

    def finish(self, step: int, reason: str, **fields: float | None) -> None:
        """Say that the work ended at ``step`` of ``total``, before the last one, and why (e.g. a converged fit)."""
        if not self.enabled:
            return
        self.stream.write(("\r" if self.tty else "") + self.line(step, fields) + ("\033[K" if self.tty else "") + "\n")
        self.stream.write(f"{reason} at step {step} of at most {self.total}\n")
        self.stream.flush()
        self.enabled = self.tty = False  # nothing more to draw

    def _estimate(self, step: int, per_step: float, what: str) -> None:
        """Say once, early, what a step costs and how long the rest of the run will take at that pace."""
        self.first_done = None
        if self.total <= 1 or step >= self.total or not self.estimate:
            return
        self.stream.write(f"{what} took {per_step:.3g} s (peak memory {format_bytes(peak_memory_bytes())}): about "
                          f"{_duration(per_step * (self.total - step))} for the {self.total - step} steps left\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


@contextmanager
def as_progress(progress: Any, total: int) -> Iterator[Any]:
    """What a ``fit(progress=...)`` argument means: ``True`` a :class:`Progress` line of ``total`` steps on
    standard error, ``None`` or ``False`` nothing, anything else is used as it is."""
    if progress is True:
        with Progress(total, label="step ") as bar:
            yield bar
    else:
        yield progress or None


def warm_optimizers() -> None:
    """Run one step of a throw-away torch optimizer: torch.optim's first use imports for seconds (7 s
    measured), which would otherwise be counted as the first timed training step."""
    import torch

    weight = torch.nn.Parameter(torch.zeros(1))
    weight.grad = torch.zeros(1)
    torch.optim.Adam([weight]).step()
