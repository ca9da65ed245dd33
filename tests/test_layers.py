"""The package's imports run one way (no import cycle between its parts)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nasbench_sim"
#: part -> the parts it may import (the shared helpers at the bottom import no part).
ALLOWED = {
    "helpers": set(),
    "space": {"helpers"},
    "bench": {"helpers", "space"},
    "search": {"helpers", "space"},
    "compat": {"helpers", "space", "bench"},
    "harness": {"helpers", "space", "bench", "search"},
    "activesel": {"helpers", "space"},
    "estimators": {"helpers", "space", "bench", "search"},
    "lab": {"helpers", "space", "activesel", "estimators"},
    "multiobjective": {"helpers", "space", "bench", "search", "harness"},
    "testing": {"helpers", "space", "bench", "search", "harness", "multiobjective"},
    "cli": {"helpers", "space", "bench", "search", "compat", "harness", "activesel", "lab", "multiobjective"},
    "package": {"helpers", "space", "bench", "harness"},
}


def _part(module: str) -> str:
    name = module.split(".")[1] if module.count(".") else "package"
    if name in ("_checks", "_io", "_nn", "_runner", "_version", "errors", "nb101"):
        return "helpers"
    return {"cli": "cli", "__main__": "cli", "__init__": "package"}.get(name, name)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nasbench_sim"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nasbench_sim")}
    return found


def test_imports_respect_the_layers():
    # Catches a module importing upwards (e.g. bench importing harness), which creates import cycles.
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        module = "nasbench_sim." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        part = _part(module)
        for target in _imports(path):
            other = _part(target)
            if other != part and other not in ALLOWED[part]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (any import, at the top or inside a function)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nasbench_sim"):
                for alias in node.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in modules}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_even_inside_a_package():
    # Catches circles such as report <-> study in activesel, or encodings -> raw -> enumeration -> encodings,
    # where each import hides inside a function so that the circle does not fail at import time.
    assert not _cycles(_import_graph())


def test_the_cycle_finder_finds_a_hand_made_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
