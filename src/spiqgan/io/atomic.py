"""Atomic file writes: a result is either complete on disk or not there at all.

Each writer writes to a temporary file in the target folder, flushes it to
disk and renames it over the target (``os.replace`` is atomic on POSIX and
Windows), so that an interrupted run never leaves a truncated file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["atomic_path", "write_json", "write_text", "write_npy", "write_csv"]


def _default_mode() -> int:
    """The mode a newly created file gets (0o666 less the umask); mkstemp would give 0o600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The folder is created if needed. On an exception the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _default_mode())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON; NaN and infinity are not allowed (use ``None``)."""
    return write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def write_npy(path: str | Path, array: np.ndarray) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(array), allow_pickle=False)
    return Path(path)


def write_csv(path: str | Path, rows: list[dict[str, Any]], fields: Sequence[str]) -> Path:
    """Write ``rows`` (dicts) as CSV with the columns ``fields``; NaN and ``None`` become empty cells."""
    import csv
    import io
    import math

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        cells = []
        for f in fields:
            v = row.get(f)
            cells.append("" if v is None or (isinstance(v, float) and math.isnan(v)) else (f"{v:.8g}" if isinstance(v, float) else v))
        writer.writerow(cells)
    return write_text(path, buf.getvalue())
