"""Active-selection companion: does training NAS candidates on an informative subset of MNIST match full training?

Modules, each importing only those before it: `selection` (scores, selectors,
regimes), `config` (StudyConfig, TrainConfig, candidate cells), `data` (MNIST
and digits), `layout` (the study folder and reading its results), `train` (one
NB101 network, logged to TensorBoard), `stats` (equivalence, ranking, cost),
`summary` (the answer, verdicts, JSON summary), `tables` (display tables),
`figures` (the report's figures), `report` (Markdown, HTML, CSV, JSON) and
`study` (reference models, subsets, resumable runs, then the report). Names
are imported on first use, so importing the package (e.g. for the CLI's
`--help`) does not import torch.

Example:
    >>> from nasbench_sim.activesel import StudyConfig
    >>> StudyConfig().num_cells, StudyConfig().seeds
    (20, 2)
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "KNOWN_CELLS": "config",
    "StudyConfig": "config",
    "TrainConfig": "config",
    "candidate_cells": "config",
    "REGIMES": "selection",
    "SelectionConfig": "selection",
    "analyse": "stats",
    "load_results": "layout",
    "run_study": "study",
    "write_report": "report",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
