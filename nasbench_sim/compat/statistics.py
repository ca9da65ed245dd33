"""Read-only hash -> statistics mappings, the official API's `fixed_statistics` and `computed_statistics`.

Each value is built on access from the table (never stored), so a view over
the 423,624 cells of a complete table costs nothing until it is read.

Example:
    >>> from nasbench_sim.compat.statistics import StatisticsView
    >>> view = StatisticsView(lambda: {"a": 0, "b": 1}.keys(), lambda module_hash: module_hash.upper())
    >>> list(view), view["b"], "c" in view, len(view)
    (['a', 'b'], 'B', False, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, KeysView, Mapping
from typing import Any

__all__ = ["ComputedStat", "FixedStat", "StatisticsView"]

#: The official fixed statistics of a cell: module_adjacency, module_operations, trainable_parameters.
FixedStat = dict[str, Any]
#: The official computed statistics of a cell: epochs -> per-repeat dicts of halfway_* / final_* values.
ComputedStat = dict[int, list[dict[str, float]]]


class StatisticsView(Mapping):
    """A read-only mapping over a table's hashes whose values are built per access.

    Args:
        hashes: returns the hashes, in order (called on each iteration, `len` and `in`).
        build: the value of one hash; raises a `KeyError` for a hash it lacks.
    """

    def __init__(self, hashes: Callable[[], KeysView[str]], build: Callable[[str], Any]) -> None:
        self._hashes = hashes
        self._build = build

    def __getitem__(self, module_hash: str) -> Any:
        return self._build(module_hash)

    def __iter__(self) -> Iterator[str]:
        return iter(self._hashes())

    def __len__(self) -> int:
        return len(self._hashes())

    def __contains__(self, module_hash: object) -> bool:
        return module_hash in self._hashes()
