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
    "testing": {"helpers", "space", "bench", "search", "harness"},
    "cli": {"helpers", "space", "bench", "search", "compat", "harness", "activesel"},
    "package": {"helpers", "space", "bench", "harness"},
}


def _part(module: str) -> str:
    name = module.split(".")[1] if module.count(".") else "package"
    if name in ("_io", "_nn", "_runner", "_version", "errors", "nb101"):
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
