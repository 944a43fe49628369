"""Atomic writes never leave a partial file behind."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from spiqgan.io.atomic import atomic_path, write_json, write_npy


def test_write_json_and_npy(tmp_path):
    write_json(tmp_path / "sub" / "a.json", {"x": 1})
    assert json.loads((tmp_path / "sub" / "a.json").read_text()) == {"x": 1}
    write_npy(tmp_path / "w.npy", np.arange(3))
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), np.arange(3))


def test_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", {})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644  # not mkstemp's 0o600


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.json"
    write_json(target, {"old": True})
    with pytest.raises(ValueError):
        write_json(target, {"bad": float("nan")})  # NaN is not JSON
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
