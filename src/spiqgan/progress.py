"""A progress line for long work: step, losses, JS, speed and time left, on standard error.

After the first step a line says what that step took, the peak memory so far
and how long the rest will take at that pace. On a terminal the progress line
is then redrawn in place (at most ten times a second); in a log file (no
terminal) a full line is written every tenth of the run.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import IO, Any, Iterator

__all__ = ["Progress", "as_progress"]


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """``with Progress(total, label) as bar: bar.update(step, loss=...)``."""

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.total = max(1, int(total))
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.next_log = self.total / 10
        self.first: int | None = None  # the step before the first update: a resumed run's speed counts its own steps

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            if self.total > 1 and step < self.total:  # say early what the whole run will cost
                from .cost import format_bytes, peak_memory_bytes

                took = now - self.start
                self.stream.write(f"first step took {took:.3g} s (peak memory {format_bytes(peak_memory_bytes())}): "
                                  f"about {_duration(took * (self.total - step))} for the {self.total - step} "
                                  "steps left\n")
                self.stream.flush()
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
