"""The package's layout is its architecture: stages import only from the stages below them, and nothing loops.

Every ``import`` of a spiqgan module, at module level or inside a function, is an arrow; the test reads
them from the source (``ast``), so it sees lazy imports too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "spiqgan"

#: the stages in the order of the data's walk; a module may import from its own stage or a lower one
STAGES = [
    ("exceptions",),
    ("io", "progress"),
    ("data",),
    ("evaluation",),
    ("quantum",),
    ("training",),
    ("models",),
    ("experiments", "cost", "hardware"),
    ("cli", "__main__"),
]
RANK = {name: i for i, names in enumerate(STAGES) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """The spiqgan modules that module ``name`` imports (a name that is a submodule counts as that module)."""
    tree = ast.parse(MODULES[name].read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{name}: relative import; spiqgan imports absolutely")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "spiqgan":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in MODULES else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "spiqgan"}
    return out - {name}


def _stage(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__root__"


GRAPH = {name: _imports(name) for name in MODULES}


def test_every_module_has_a_stage():
    unknown = sorted({_stage(n) for n in MODULES} - set(RANK) - {"__root__"})
    assert not unknown, f"modules outside the stages: {unknown}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _stage(n) != "__root__"))
def test_no_module_imports_from_a_stage_above_it(name):
    above = sorted(m for m in GRAPH[name] if _stage(m) != "__root__" and RANK[_stage(m)] > RANK[_stage(name)])
    assert not above, f"{name} (stage {_stage(name)}) imports from higher stages: {above}"


def test_the_import_graph_has_no_loop():
    # Tarjan-free: a depth-first search that reports the first cycle it closes
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(GRAPH.get(n, ())):
            if m not in MODULES:
                continue
            if state.get(m) == 1:
                loop = stack[stack.index(m):] + [m]
                raise AssertionError("import loop: " + " -> ".join(loop))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    # package __init__ files re-export their own submodules: an arrow from a submodule to its package
    # is an arrow into that package's exports, so those edges are left out
    for name in list(GRAPH):
        GRAPH[name] = {m for m in GRAPH[name] if not (name.startswith(m + ".") and MODULES[m].name == "__init__.py")}
    for n in sorted(MODULES):
        if n not in state:
            visit(n)


def _units(a: str, b: str) -> tuple[str, str] | None:
    """The two sibling units an arrow ``a -> b`` runs between: the children of the deepest package holding both
    (``spiqgan.models.born -> spiqgan.models.base``: those two; ``spiqgan.born -> spiqgan.baselines.base``:
    ``spiqgan.born`` and ``spiqgan.baselines``). ``None`` for a package and its own submodules."""
    pa, pb = a.split("."), b.split(".")
    k = 0
    while k < min(len(pa), len(pb)) and pa[k] == pb[k]:
        k += 1
    if k == len(pa) or k == len(pb):  # one holds the other
        return None
    return ".".join(pa[:k + 1]), ".".join(pb[:k + 1])


def _package_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """A loop between sibling packages and modules, or ``None``."""
    arrows: dict[str, set[str]] = {}
    for name, targets in graph.items():
        for target in targets:
            units = _units(name, target)
            if units is not None:
                arrows.setdefault(units[0], set()).add(units[1])
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(arrows.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (loop := visit(m)):
                return loop
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(arrows):
        if n not in state and (loop := visit(n)):
            return loop
    return None


def test_packages_import_each_other_in_no_loop():
    """Between packages and modules side by side (``spiqgan.models`` and ``spiqgan.quantum``; within
    ``spiqgan.models``, ``classical``, ``born``, ``base``, ...) the arrows form no loop either, directly or
    round about, lazy imports included; a package may use its own submodules and they their package."""
    graph = {name: {m for m in targets if m in MODULES} for name, targets in GRAPH.items()}
    loop = _package_loop(graph)
    assert loop is None, "packages import each other: " + " -> ".join(loop or [])


def test_the_package_check_sees_the_loop_the_models_had():
    """Before the models stage: ``born`` imported ``baselines.base`` and ``baselines`` imported ``born``."""
    graph = {"spiqgan.born": {"spiqgan.baselines.base"}, "spiqgan.baselines": {"spiqgan.born"},
             "spiqgan.baselines.base": set()}
    assert _package_loop(graph) == ["spiqgan.baselines", "spiqgan.born", "spiqgan.baselines"]
    assert _package_loop({"spiqgan.models.born": {"spiqgan.models.base"}, "spiqgan.models": {"spiqgan.models.base"}}) \
        is None


def test_the_core_imports_no_optional_extra_at_load():
    """``import spiqgan`` (data, evaluation) loads neither torch nor pynwb, PennyLane, Qiskit or Dask."""
    import subprocess
    import sys

    code = ("import sys, spiqgan, spiqgan.data, spiqgan.evaluation; "
            "print(','.join(m for m in ('torch', 'pynwb', 'pennylane', 'qiskit', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
