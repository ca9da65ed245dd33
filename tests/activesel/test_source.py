"""The activesel package's source: imports run one way, each regime fact has one home, plain formatting."""

import ast
import re
from graphlib import TopologicalSorter
from pathlib import Path

from nasbench_sim.activesel.selection import REGIMES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "nasbench_sim" / "activesel"
MODULES = sorted(PACKAGE.glob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    """activesel modules `path` imports anywhere (module level or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.startswith("nasbench_sim.activesel."):
                found.add(name.split(".")[2])
    return found


def test_imports_inside_the_package_have_no_cycle():
    graph = {path.stem: _imported_modules(path) for path in MODULES}
    order = list(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert order.index("report") < order.index("study") and "study" not in graph["report"]


def _literals(path: Path) -> tuple[set[str], list[list[str]]]:
    """(every string constant, every literal tuple/list/set/dict-key collection of strings) of a module."""
    tree = ast.parse(path.read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    collections = []
    for node in ast.walk(tree):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and items:
            collections.append([i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)])
    return strings, collections


def test_regime_colours_and_lists_live_only_in_selection():
    colours = {r.colour for r in REGIMES.values()}
    for path in MODULES:
        if path.name == "selection.py":
            continue
        strings, collections = _literals(path)
        assert not strings & colours, f"{path.name} spells a regime colour"
        for names in collections:
            assert len(set(names) & set(REGIMES)) < 4, f"{path.name} spells a list of regimes: {names}"


def test_plain_formatting_no_history_and_short_modules():
    files = [*MODULES, *sorted((ROOT / "tests" / "activesel").glob("*.py")), ROOT / "benchmarks" / "activesel.py"]
    for path in files:
        text = path.read_text()
        assert not re.search(r"#\s*fmt:\s*(skip|off)", text), path.name
        assert not re.search(r"\bissue \d+", text, flags=re.IGNORECASE), path.name
    for path in MODULES:
        text = path.read_text()
        assert len(text.splitlines()) <= 400, path.name
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert "Example:" in doc and ">>> " in doc, path.name
