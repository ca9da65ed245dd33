"""Simulated parallel workers: an event-driven clock for one search run.

A run has `count` simulated workers. A query occupies a free worker for the
cell's training time at its budget (from the table); results come back in
completion order, and the searcher is asked whenever a worker is free, with the
evaluations in flight visible to it (`set_pending`, see
`nasbench_sim.search.base`). Two schedules:

- `async`: a free worker gets a new query at once (workers idle only while the
  searcher has nothing to propose: its `ask()` returned None);
- `sync`: synchronous batches: fill every free worker, then wait for the whole
  batch before asking again. Searchers that declare `asynchronous = False`
  (Hyperband, BOHB) always run this way.

The simulated wall-clock is the time of the last result that came back. Every
result that has come back is told before a free worker is filled (results that
end at the same time: in the order they were started). A time budget stops new
queries once the clock reaches it; queries already started finish and are
recorded (with one worker: the last query may cross the budget, as today). With
one worker both schedules are the sequential ask-query-tell loop exactly.

Search time is free by default. With `charge_search_time=True` the searcher's
own measured ask seconds move the clock: one search process serves the asks one
at a time, a query starts when its ask ends, and no ask begins at or after the
budget (runs are then no longer seed-exact: they depend on the machine's speed).

Example:
    >>> from nasbench_sim.harness.simulator import Timeline, Workers
    >>> line = Timeline(Workers(count=2))
    >>> line.start(training_time=5.0), line.start(training_time=3.0)
    ((0, 0.0, 5.0), (1, 0.0, 3.0))
    >>> line.finish()[:3], line.clock
    ((1, 0.0, 3.0), 3.0)
"""

from __future__ import annotations

import heapq
import math
from dataclasses import asdict, dataclass
from typing import Any

from nasbench_sim._checks import whole_number
from nasbench_sim.errors import ConfigError

SCHEDULES = ("async", "sync")


@dataclass(frozen=True, kw_only=True)
class Workers:
    """Simulated workers of every run.

    Attributes:
        count: workers per run (1: the sequential protocol).
        schedule: 'async' (a free worker is used at once) or 'sync' (synchronous batches).
        charge_search_time: add the searcher's measured ask seconds to the simulated clock.
    """

    count: int = 1
    schedule: str = "async"
    charge_search_time: bool = False

    def __post_init__(self) -> None:
        whole_number(self.count, "simulated workers", minimum=1)
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r} (choices: {', '.join(SCHEDULES)})")
        if not isinstance(self.charge_search_time, bool):
            raise ConfigError(f"charge_search_time must be True or False, got {self.charge_search_time!r}")

    def describe(self) -> dict[str, Any]:
        """JSON-able description (experiment and run metadata)."""
        return asdict(self)

    @property
    def sequential(self) -> bool:
        """True for the one-worker protocol without a search-time charge."""
        return self.count == 1 and not self.charge_search_time

    def recorded(self) -> dict[str, Any] | None:
        """What experiment and run metadata record: None for the sequential protocol, else `describe()`."""
        return None if self.sequential else self.describe()

    def tag(self) -> str:
        """Suffix of a default experiment name ('' when sequential), e.g. '-w8', '-w8-sync-charged'."""
        if self.sequential:
            return ""
        schedule = "-sync" if self.schedule == "sync" else ""
        return f"-w{self.count}{schedule}{'-charged' if self.charge_search_time else ''}"


def as_workers(value: int | Workers | None) -> Workers:
    """A worker count (or None: one) as `Workers`.

    Raises:
        ConfigError: neither a whole number >= 1, a `Workers` nor None.
    """
    if value is None:
        return Workers()
    if isinstance(value, Workers):
        return value
    return Workers(count=whole_number(value, "simulated workers"))


class Timeline:
    """The workers and the clock of one run: which jobs run where, and when each ends.

    Args:
        workers: the run's simulated workers.
        synchronous: use synchronous batches whatever `workers.schedule` says.
    """

    def __init__(self, workers: Workers, *, synchronous: bool = False) -> None:
        self.workers = workers
        self.synchronous = synchronous or workers.schedule == "sync"
        self.free = list(range(workers.count))  # a heap: the lowest-numbered free worker is used first
        self.events: list[tuple[float, int, int, float, Any]] = []  # (end, issue order, worker, start, job)
        self.clock = 0.0  # time of the last result that came back
        self.searcher_free = 0.0  # when the (charged) search process can serve the next ask
        self.issued = 0
        self.stalled = False  # ask() returned None: wait for a result
        self.batch_open = True  # sync: the batch may still take queries

    @property
    def busy(self) -> int:
        """Queries in flight."""
        return len(self.events)

    def pending_jobs(self) -> list[Any]:
        """The jobs in flight, in the order they were started."""
        return [event[4] for event in sorted(self.events, key=lambda e: e[1])]

    @property
    def now(self) -> float:
        """When the next ask can be served: the clock, or later while a charged search process is busy."""
        return max(self.clock, self.searcher_free) if self.workers.charge_search_time else self.clock

    def can_start(self) -> bool:
        """A worker is free, the searcher may be asked (not stalled, not waiting for a batch) and every
        result that has come back by `now` was told first."""
        arrived = bool(self.events) and self.events[0][0] <= self.now
        return bool(self.free) and not self.stalled and self.batch_open and not arrived

    def start(self, training_time: float, job: Any = None, *, search_seconds: float = 0.0) -> tuple[int, float, float]:
        """Start a job on the lowest free worker; returns (worker, start, end) in simulated seconds.

        A NaN training time (a table without times) counts as zero seconds.
        """
        worker = heapq.heappop(self.free)
        begin = self.clock
        if self.workers.charge_search_time:
            begin = max(begin, self.searcher_free) + search_seconds
            self.searcher_free = begin
        seconds = 0.0 if math.isnan(training_time) else training_time
        end = begin + seconds
        heapq.heappush(self.events, (end, self.issued, worker, begin, job))
        self.issued += 1
        if self.synchronous and not self.free:
            self.batch_open = False
        return worker, begin, end

    def stall(self) -> None:
        """The searcher had nothing to propose: ask again after the next result (sync: close the batch)."""
        self.stalled = True
        if self.synchronous:
            self.batch_open = False

    def finish(self) -> tuple[int, float, float, Any]:
        """The next result to come back (earliest end; ties: started first): (worker, start, end, job)."""
        end, _, worker, begin, job = heapq.heappop(self.events)
        self.clock = max(self.clock, end)
        heapq.heappush(self.free, worker)
        self.stalled = False
        if self.synchronous and not self.events:
            self.batch_open = True
        return worker, begin, end, job
