"""The searcher protocol and the pieces every searcher shares.

A searcher proposes cells with `ask()` and learns the validation accuracy
(in [0, 1]) of each proposal through `tell()`. It never sees the table, the
test accuracy or the budget: the run loop (`nasbench_sim.harness.run`)
queries the oracle, enforces the budget and records the full history.

`ask()` returns a `Cell` (trained for 108 epochs) or a `Query` naming another
NB101 budget (multi-fidelity searchers); `tell()` gets back exactly what `ask()`
returned.

With simulated parallel workers (`nasbench_sim.harness.simulator`) `ask()` is
called whenever a worker is free, so several proposals may be in flight and
results come back in completion order. Before each ask the run loop passes the
proposals in flight to `set_pending` (if the searcher has it; `SearcherBase`
keeps them in `pending`, and `taken(rule)` adds their dedup keys to the evaluated
cells'). `ask()` may return None while something is in flight, meaning "wait for
a result". A searcher whose logic needs every result of a batch before it can go
on sets `asynchronous = False`; the harness then runs it in synchronous batches. Searchers are built as `cls(config, rng, device=...)`
(`SearcherBase` writes that contract once); each sub-part of a searcher (its
model, its candidate pool, its acquisition) draws from its own stream spawned
from `rng`, so changing one part never shifts another's random numbers.

Searchers whose `ask` needs a surrogate fit may also provide `ask_steps()`, a
generator that yields `FitPredict` requests and receives `(mean, std)` back.
`drive` fulfils them at once (one run); the lock-step runner
(`nasbench_sim.harness.run.run_lockstep`) gathers the requests of many
independent runs and fulfils them in one batched computation.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search import RandomSearch, RandomSearchConfig
    >>> searcher = RandomSearch(RandomSearchConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask()
    >>> searcher.tell(cell, 0.91)
    >>> len(searcher.observed)
    1
"""

from __future__ import annotations

from collections.abc import Generator, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.dedup import dedup_key
from nasbench_sim.space.sampling import random_cell


@dataclass(frozen=True)
class Query:
    """A cell and the NB101 budget (epochs: 4, 12, 36 or 108) to train it for."""

    cell: Cell
    epochs: int = 108


def as_query(proposal: Cell | Query) -> Query:
    """A proposal as a `Query` (a bare cell means 108 epochs).

    Raises:
        OutOfDomainError: neither a `Cell` nor a `Query` of one (what `ask` returned names the problem).
    """
    if isinstance(proposal, Query) and isinstance(proposal.cell, Cell):
        return proposal
    if isinstance(proposal, Cell):
        return Query(proposal)
    raise OutOfDomainError(f"a searcher proposed {proposal!r:.80}: ask() must return a Cell or a Query")


@runtime_checkable
class Searcher(Protocol):
    """Ask-and-tell NAS algorithm."""

    def ask(self) -> Cell | Query | None:
        """The next cell (or cell and budget) to evaluate; None: wait for a pending result."""
        ...

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        """Report the validation accuracy (in [0, 1]) of what `ask` returned."""
        ...


@runtime_checkable
class Surrogate(Protocol):
    """A model of validation performance: `fit(X, y)`, then `predict(X) -> (mean, std)`.

    X is (N, D) float32 cell encodings, y (N,) targets (higher is better);
    predictions are (B,) arrays in the units of y.
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> None: ...

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class FitPredict:
    """A request from `ask_steps`: fit `model` on (X, y), then predict `candidates`.

    Attributes:
        model: the requesting run's surrogate (holds that run's state and random stream).
        X: (N, D) encodings of the evaluated cells; y: (N,) their targets.
        candidates: (C, D) encodings to predict.
    """

    model: Any
    X: np.ndarray
    y: np.ndarray
    candidates: np.ndarray


def fit_predict_many(requests: Sequence[FitPredict]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fulfil requests of one model class: batched if the class can, else one by one."""
    batched = getattr(type(requests[0].model), "fit_predict_many", None)
    if batched is not None:
        return batched(requests)
    out = []
    for request in requests:
        request.model.fit(request.X, request.y)
        out.append(request.model.predict(request.candidates))
    return out


def drive(steps: Generator[FitPredict, tuple[np.ndarray, np.ndarray], Any]) -> Any:
    """Run an `ask_steps` generator to its end, fulfilling each request at once; returns its value."""
    try:
        request = next(steps)
        while True:
            request = steps.send(fit_predict_many([request])[0])
    except StopIteration as stop:
        return stop.value


class SearcherBase:
    """Constructor contract of every searcher: `cls(config, rng, *, device="auto")`.

    Args:
        config: the searcher's frozen config dataclass.
        rng: the run's random stream; sub-parts spawn their own from it.
        device: torch device of model-based searchers ('auto', 'cpu', 'cuda'); others ignore it.
    """

    #: False: needs every result of a batch before it can go on (runs in synchronous batches).
    asynchronous: ClassVar[bool] = True

    def __init__(self, config: Any, rng: np.random.Generator, *, device: str = "auto") -> None:
        self.config = config
        self.rng = rng
        self.device = device
        self.observed = Observations()
        self.pending: tuple[Query, ...] = ()
        self._pending_keys: dict[str, set[Hashable]] = {}

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        self.observed.add(as_query(proposal).cell, validation_accuracy)
        self._pending_keys = {}

    def set_pending(self, pending: tuple[Query, ...]) -> None:
        """The proposals in flight (asked, not yet told), given by the run loop before each ask."""
        self.pending = tuple(pending)
        self._pending_keys = {}

    def taken(self, rule: str) -> set[Hashable]:
        """Dedup keys (rule: 'cell' or 'paths') of the evaluated cells and the cells in flight."""
        seen = self.observed.keys(rule)
        if not self.pending:
            return seen
        if rule not in self._pending_keys:
            key = dedup_key(rule)
            self._pending_keys[rule] = seen | {key(q.cell) for q in self.pending}
        return self._pending_keys[rule]


class Observations:
    """Cells evaluated so far with their validation accuracies, in order, plus dedup keys."""

    def __init__(self) -> None:
        self.cells: list[Cell] = []
        self.values: list[float] = []
        self.hashes: set[str] = set()
        self._keys: dict[str, set[Hashable]] = {}

    def add(self, cell: Cell, value: float) -> None:
        self.cells.append(cell)
        self.values.append(float(value))
        self.hashes.add(cell.hash)
        for rule, keys in self._keys.items():
            keys.add(dedup_key(rule)(cell))

    def __len__(self) -> int:
        return len(self.cells)

    def keys(self, rule: str) -> set[Hashable]:
        """Keys of the dedup rule `rule` (see `nasbench_sim.space.dedup`) of every evaluated cell.

        Kept up to date by `add` once asked for.
        """
        if rule not in self._keys:
            key = dedup_key(rule)
            self._keys[rule] = {key(c) for c in self.cells}
        return self._keys[rule]

    def best(self, k: int) -> list[Cell]:
        """The k cells with the highest validation accuracy (ties: earliest first)."""
        order = np.argsort(-np.asarray(self.values), kind="stable")[:k]
        return [self.cells[i] for i in order]


def unseen_random_cell(
    rng: np.random.Generator, seen: set[Hashable], rule: str | None, max_tries: int = 10_000
) -> Cell:
    """A random NB101 cell whose dedup key is not in `seen` (any random cell if `rule` is None).

    Raises:
        RuntimeError: no unseen cell in `max_tries` draws.
    """
    if rule is None:
        return random_cell(rng)
    key = dedup_key(rule)
    for _ in range(max_tries):
        cell = random_cell(rng)
        if key(cell) not in seen:
            return cell
    raise RuntimeError(f"no unseen random cell in {max_tries} draws")
