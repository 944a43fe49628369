"""A progress line for long work: step, losses, JS, speed and time left, on standard error.

On a terminal the line is redrawn in place (at most ten times a second); in a
log file (no terminal) a full line is written every tenth of the run.
"""

from __future__ import annotations

import sys
import time
from typing import IO

__all__ = ["Progress"]


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
        if self.first is None:
            self.first = max(0, step - 1)
        now = time.perf_counter()
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
