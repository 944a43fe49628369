"""Checkpoints as data: tensors in a safetensors file, everything else as JSON in its header.

No pickles: a checkpoint is read with :func:`safetensors.torch.load_file`,
which cannot run code. The header records the SHA-256 of the tensors
(:func:`payload_sha256`); a checkpoint whose bytes changed since (a flipped
bit, a partial copy) is refused instead of loading something else. Files are written atomically (:mod:`spiqgan.io.atomic`).
Optimizer states are stored as their tensors plus their JSON hyperparameters,
and random-generator states as uint8 tensors, so that a run can continue
exactly where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from spiqgan.io.atomic import atomic_path
from spiqgan.exceptions import SpiqganError

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError", "flatten_optimizer", "unflatten_optimizer",
           "FORMAT", "payload_sha256"]

FORMAT = "spiqgan-checkpoint/1"


class CheckpointError(SpiqganError):
    """A checkpoint file that is missing, unreadable or of another format."""


def payload_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the tensors: names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write ``tensors`` and the JSON-able ``meta`` to ``path`` atomically, with the tensors' SHA-256."""
    from safetensors.torch import save_file

    payload = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    header = {"format": FORMAT, "meta": json.dumps(meta, allow_nan=False), "sha256": payload_sha256(payload)}
    with atomic_path(path) as tmp:
        save_file(payload, str(tmp), metadata=header)
    return Path(path)


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`: ``(tensors, meta)``."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file.")
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # a truncated or foreign file fails deep inside the reader
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({type(exc).__name__}: {exc}).") from exc
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a spiqgan checkpoint (format {header.get('format')!r}, expected {FORMAT!r}).")
    # checkpoints of spiqgan 0.1 carry no checksum; every later one is checked
    if "sha256" in header and payload_sha256(tensors) != header["sha256"]:
        raise CheckpointError(f"{path}: the checkpoint is corrupt: its tensors do not match the SHA-256 recorded "
                              "when it was written.")
    try:
        meta = json.loads(header["meta"])
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: the checkpoint's header is corrupt ({type(exc).__name__}: {exc}).") from None
    return tensors, meta


def flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state as ``{name: tensor}`` plus JSON-able hyperparameters."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            tensors[f"{prefix}.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, {"param_groups": state["param_groups"]}


def unflatten_optimizer(prefix: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """The ``state_dict`` that :func:`flatten_optimizer` flattened."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}
