"""Documented commands cannot drift from the code: the site builds strictly, every ``spiqgan`` command in the
README and the docs parses with the real command line, and every Python example runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spiqgan.cli import _build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
#: shell variables the examples use, and what they stand for
VARIABLES = {"$RECORDING": "../shared/data/salamander-retina/recording_40_neurons.mat"}


def _blocks(path: Path, languages: tuple[str, ...]) -> list[str]:
    return re.findall(r"^```(?:" + "|".join(languages) + r")\n(.*?)^```", path.read_text(), flags=re.M | re.S)


def _commands(path: Path) -> list[str]:
    """Every ``spiqgan ...`` line of the shell blocks, continuation lines joined."""
    out = []
    for block in _blocks(path, ("bash", "console", "sh")):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            for part in re.split(r"\s*&&\s*", line):  # python -m pip install ... && spiqgan train ...
                if part.startswith("spiqgan "):
                    out.append(part)
    return out


COMMANDS = [(p.relative_to(ROOT).as_posix(), c) for p in PAGES for c in _commands(p)]


def test_the_docs_have_commands_to_check():
    assert len(COMMANDS) > 20 and any(page == "README.md" for page, _ in COMMANDS)


@pytest.mark.parametrize("page, command", COMMANDS, ids=[f"{p}:{i}" for i, (p, _) in enumerate(COMMANDS)])
def test_documented_commands_parse(page, command):
    for name, value in VARIABLES.items():
        command = command.replace(name, value)
    argv = shlex.split(command, comments=True)[1:]
    if argv and argv[0] in ("--help", "--version"):
        return
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{page}: `{command}` does not parse (exit {exc.code})")
    assert args.command is not None, f"{page}: `{command}` names no command"


def test_the_site_builds_in_strict_mode(tmp_path):
    """A broken link, a missing page in the nav or a missing API reference fails the build."""
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "data" / "index.html").stat().st_size > 10_000


PYTHON_PAGES = [p for p in PAGES if _blocks(p, ("python",))]


@pytest.mark.slow
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PYTHON_PAGES])
def test_documented_python_runs(page, recording_path, tmp_path, monkeypatch):
    """The Python blocks of a page run in order, in one namespace, where the recording sits as in the docs."""
    (tmp_path / "recording_40_neurons.mat").symlink_to(recording_path)
    (tmp_path / "sweeps").symlink_to(ROOT / "sweeps")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(_blocks(page, ("python",))):
        try:
            exec(compile(block, f"{page.name}, python block {i + 1}", "exec"), namespace)
        except Exception as exc:  # name the block, not this test's line
            pytest.fail(f"{page.relative_to(ROOT)}: python block {i + 1} raised {type(exc).__name__}: {exc}")


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name below a module that is not a package: a function or class
        return False


def test_no_stale_module_paths_in_the_docs():
    """Module paths named in the docs exist (the package moved in 0.2)."""
    names = set()
    for p in PAGES:
        names |= set(re.findall(r"\bspiqgan(?:\.[a-z_]+)+", p.read_text()))
    missing = []
    for name in sorted(names):
        parts = name.split(".")
        while len(parts) > 1 and not _is_module(".".join(parts)):
            parts = parts[:-1]  # spiqgan.module.function: the module must exist
        if len(parts) == 1 and name != "spiqgan":
            missing.append(name)
    assert not missing, missing
    assert os.path.isdir(ROOT / "docs" / "reference")


TOML_BLOCKS = [(p.relative_to(ROOT).as_posix(), b) for p in PAGES for b in _blocks(p, ("toml",))]


@pytest.mark.parametrize("page, block", TOML_BLOCKS, ids=[p for p, _ in TOML_BLOCKS])
def test_documented_sweep_files_are_valid(page, block):
    """A sweep file shown in the docs is accepted by the sweep reader, with the grid it says."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from spiqgan.experiments.sweep import parse_sweep

    sweep = parse_sweep(tomllib.loads(block), page)
    assert len(sweep.runs()) == int(np.prod([len(v) for v in sweep.grid.values()]))
