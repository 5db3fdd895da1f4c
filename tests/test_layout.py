"""The tree reads as DESIGN §3 says: no import cycles between modules or between top-level packages,
layers that import only downwards, and no module much over 500 lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import stackyard

ROOT = Path(stackyard.__file__).parent
MAX_LINES = 520
# Each top-level package may import only the packages listed after it (and leaf modules).
LEAVES = {"errors", "ids", "settings", "__init__"}
LAYERS = {
    "store": set(),
    "core": {"store"},
    "access": {"store", "core"},
    "identity": {"store", "core", "access"},
    "stacks": {"store", "core", "access", "identity"},
    "content": {"store", "core", "access", "identity", "stacks"},
    "automation": {"store", "core", "access", "identity", "stacks", "content"},
    "edge": {"store", "core", "access", "identity", "stacks", "content"},
    "api": {"store", "core", "access", "identity", "stacks", "content", "automation", "edge"},
    "server": {"store", "core", "access", "identity", "stacks", "content", "automation", "edge", "api"},
    "client": set(),
    "cli": {"client", "server", "store", "identity", "core"},
    "__main__": {"cli"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the stackyard modules it imports, at any depth of the file (lazy imports count)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").startswith("stackyard")
            ):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    edges[name].add(full if full in modules else str(node.module))
            elif isinstance(node, ast.Import):
                edges[name].update(a.name for a in node.names if a.name.startswith("stackyard"))
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state and (found := visit(n)):
            return found
    return None


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_cycle_between_modules() -> None:
    modules = _modules()
    edges = {
        m: {t for t in ts if t in modules and t != m and not m.startswith(t + ".")}
        for m, ts in _imports(modules).items()
    }
    # A package's __init__ importing its own submodules is not a cycle of ideas; leave those out.
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in edges.items()}
    assert _cycle(edges) is None


def test_packages_import_only_downwards() -> None:
    wrong = []
    for module, targets in _imports(_modules()).items():
        src = _top(module)
        for target in targets:
            dst = _top(target)
            if dst == src or dst in LEAVES:
                continue
            if dst not in LAYERS.get(src, set()):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_every_package_has_a_layer() -> None:
    tops = {_top(m) for m in _modules()} - LEAVES
    assert tops <= set(LAYERS), tops - set(LAYERS)


def test_no_module_is_much_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
