"""No dead public names: every public top-level name of the package is used somewhere.

"Used" means named anywhere outside its definition: in the package, the tests, the benchmarks,
the examples, the notebooks or the README (a name documented for users counts as used).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nasbench_sim"


def _sources() -> dict[Path, str]:
    paths = [
        *PACKAGE.rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "benchmarks").glob("*.py"),
        *(ROOT / "examples").rglob("*.py"),
        *(ROOT / "notebooks").glob("*.ipynb"),
        ROOT / "README.md",
    ]
    return {p: p.read_text() for p in paths if p.exists()}


def _public_names(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def dead_names(sources: dict[Path, str]) -> list[str]:
    """'path:name' of each public top-level name that nothing names but its own definition."""
    words = {path: Counter(re.findall(r"\w+", text)) for path, text in sources.items()}
    total = sum(words.values(), Counter())
    dead = []
    for path, text in sorted(sources.items()):
        if path.suffix != ".py" or PACKAGE not in path.parents:
            continue
        for name in _public_names(ast.parse(text)):
            if total[name] - words[path][name] == 0 and words[path][name] <= 1:
                dead.append(f"{path.relative_to(ROOT)}:{name}")
    return dead


def test_no_public_name_is_dead():
    # Catches code left behind by a refactor (a helper nothing calls any more, a constant nothing reads).
    assert not dead_names(_sources())


def test_the_finder_sees_a_dead_name_and_a_used_one(tmp_path):
    module = PACKAGE / "fake.py"
    sources = {module: "def unused():\n    pass\n\ndef used():\n    pass\n", ROOT / "tests" / "t.py": "used()\n"}
    assert dead_names(sources) == ["nasbench_sim/fake.py:unused"]
