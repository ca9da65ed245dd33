"""Deduplication rules: when two cells count as the same, for one cell and for many at once.

========  ==========================================================================
rule      two cells are the same if they have the same ...
========  ==========================================================================
`cell`    official hash, i.e. they are isomorphic (the key is the row in `CellSpace`)
`paths`   multiset of input-to-output op paths (`encodings.path_key`, naszilla's
          identity; coarser: some non-isomorphic cells share it)
========  ==========================================================================

`DEDUP_RULES` is the one list of rules: each `DedupRule` gives the key of one
`Cell` and the same keys for many cells in compact form (`raw.CellBatch.keys`).

Example:
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.space.dedup import dedup_rule
    >>> from nasbench_sim.space.forms import compact
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> rule = dedup_rule("paths")
    >>> rule.of_cell(cell) == int(rule.of_compact(*compact([cell]))[0])
    True
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.cellspace import CellSpace
from nasbench_sim.space.encodings import path_key, path_key_hash


@dataclass(frozen=True, kw_only=True)
class DedupRule:
    """One deduplication rule.

    Attributes:
        of_cell: the key of a cell.
        of_compact: (num_vertices (B,), bits (B,), labels (B, 5)) of many cells -> their (B,) int64 keys,
            the values `of_cell` gives.
    """

    of_cell: Callable[[Cell], Hashable]
    of_compact: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def space_row(cell: Cell) -> int:
    """The row of a cell in this machine's `CellSpace` (loaded, or built, on first use)."""
    return CellSpace.load_or_build().index(cell)


def space_rows(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B,) int64 rows of many cells in compact form in this machine's `CellSpace`."""
    return CellSpace.load_or_build().indices_from_compact(num_vertices, bits, labels)


DEDUP_RULES: dict[str, DedupRule] = {
    "cell": DedupRule(of_cell=space_row, of_compact=space_rows),
    "paths": DedupRule(of_cell=path_key, of_compact=path_key_hash),
}


def dedup_rule(name: str) -> DedupRule:
    """The rule of a name of `DEDUP_RULES`.

    Raises:
        ConfigError: an unknown name.
    """
    if name not in DEDUP_RULES:
        raise ConfigError(f"unknown dedup rule {name!r} (choices: {', '.join(DEDUP_RULES)})")
    return DEDUP_RULES[name]


def dedup_key(name: str) -> Callable[[Cell], Hashable]:
    """The key function of one cell under the rule `name` (see `dedup_rule`)."""
    return dedup_rule(name).of_cell
