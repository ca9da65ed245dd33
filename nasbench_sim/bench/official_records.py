"""Parsing an official-format NB101 file's records in batches, checking each as the official reader would.

`RecordParser.parse` takes a batch of CRC-checked payloads (`bench.tfrecord.
iter_record_blocks`) and returns, per record, its cell (numbered in order of
first appearance in the file), its (budget, repeat) slot and its 8 values.
Rows written as the release writes them (`["hash", 108, "0101..", "input,..",
"base64"]`) take a fast path: split at the quotes, base64 per record, the
protobufs decoded in one numpy pass (`bench.metrics_wire`), new cells checked
in one pass per vertex count (`bench.stored_cells`). Any other row is parsed by
the JSON reader. Whatever fails, the error names the first bad record in file
order and says what is wrong with it exactly as a record-by-record reader
would: a malformed row, a budget that is not NB101's, fewer than three
evaluations, a stored cell that is not a pruned NB101 cell or does not have
its hash, a later record of a hash with another cell, an impossible value, or
a fourth repeat.

Example:
    >>> from nasbench_sim.bench.official_records import RecordParser
    >>> RecordParser("x.tfrecord").parse([0], [b"not json"])
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.DataFormatError: x.tfrecord: malformed NB101 row at byte offset 0: ...
"""

from __future__ import annotations

import binascii
import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from typing import Any, NamedTuple

import numpy as np

from nasbench_sim.bench.metrics_wire import decode_metrics
from nasbench_sim.bench.stored_cells import check_stored_cells, stored_cell
from nasbench_sim.bench.table import METRICS, NUM_REPEATS
from nasbench_sim.bench.tfrecord import decode_row, split_row
from nasbench_sim.errors import DataFormatError
from nasbench_sim.nb101 import EPOCHS
from nasbench_sim.space.cell import MAX_VERTICES
from nasbench_sim.space.cellspace import NUM_CELLS

#: The epochs field as the release writes it (between the adjacency's quotes) -> budget index.
_BUDGET_TOKENS = {f", {epochs}, ".encode(): b for b, epochs in enumerate(EPOCHS)}
_TIME = METRICS.index("training_time")


def _check_record_values(evaluations: Any) -> None:
    """Refuse a record whose halfway or final values no NB101 training gives.

    Raises:
        ValueError: an accuracy outside [0, 1] or a training time that is negative or not finite.
    """
    for evaluation in (evaluations[1], evaluations[2]):
        for metric in METRICS:
            value = getattr(evaluation, metric)
            limit = math.inf if metric == "training_time" else 1.0
            if not (0.0 <= value <= limit) or value == math.inf:
                raise ValueError(f"{metric} {value!r} is outside [0, {limit:g}]")


def _impossible(values: np.ndarray) -> np.ndarray:
    """(n,) bool: records whose (n, 2, 4) values `_check_record_values` refuses (NaN included)."""
    times = values[:, :, _TIME]
    accuracies = np.delete(values, _TIME, axis=2)
    good_times = (times >= 0) & (times < math.inf)
    good_accuracies = (accuracies >= 0) & (accuracies <= 1)
    return ~(good_times.all(axis=1) & good_accuracies.all(axis=(1, 2)))


def record_problem(payload: bytes, new_cell: bool, mismatch: str | None = None) -> str | None:
    """What is wrong with one record, checked in the order a record-by-record reader checks, or None.

    Args:
        payload: the record's payload.
        new_cell: the record is its cell's first: check the stored cell and its hash.
        mismatch: the message to give if the row itself is sound (a later record of a hash with another cell).
    """
    try:
        module_hash, epochs, adjacency, ops, metrics = decode_row(payload)
        if epochs not in EPOCHS:
            raise ValueError(f"{epochs} epochs is not an NB101 budget {list(EPOCHS)}")
        evaluations = metrics.evaluation_data
        if len(evaluations) < 3:
            raise ValueError(f"{len(evaluations)} evaluations, expected start/halfway/final")
        if new_cell:
            stored_cell(module_hash, adjacency, ops)
        elif mismatch is not None:
            raise ValueError(mismatch)
        _check_record_values(evaluations)
        if metrics.trainable_parameters < 0:
            raise ValueError(f"trainable_parameters {metrics.trainable_parameters} is negative")
    except ValueError as exc:
        return str(exc)
    return None


def _slow_fields(payload: bytes) -> tuple[bytes, int, bytes, bytes]:
    """(hash, budget index, stored cell spec, metrics bytes) of a row the fast path does not take.

    Raises:
        ValueError: not an NB101 row, or a budget that is not NB101's.
    """
    module_hash, epochs, adjacency, ops, metrics = split_row(payload)
    if epochs not in EPOCHS:
        raise ValueError(f"{epochs} epochs is not an NB101 budget {list(EPOCHS)}")

    def raw(text: str) -> bytes:
        return text.encode("utf-8", "backslashreplace")

    return raw(module_hash), EPOCHS.index(epochs), raw(adjacency) + b"|" + raw(ops), metrics


#: Batches whose cell checks may still run in the pool while the next batch is parsed.
_IN_FLIGHT = 2


class _PendingCells(NamedTuple):
    """The new cells of one batch, while their check runs: first records' offsets and payloads, parameter
    counts, and the (future) result of `check_stored_cells`."""

    offsets: list[int]
    payloads: list[bytes]
    params: np.ndarray
    check: Future


def _done(result: Any) -> Future:
    """A future that already holds `result`."""
    future: Future = Future()
    future.set_result(result)
    return future


def _first_row_problem(
    offsets: Sequence[int],
    payloads: Sequence[bytes],
    limit: int,
    suspects: np.ndarray,
    stopped: tuple[int, str | None] | None,
) -> tuple[int, str] | None:
    """(byte offset, message) of the first record up to `limit` with a problem other than its stored cell.

    Args:
        suspects: (n,) bool per parsed record: its metrics or values failed the batch checks.
        stopped: (record, message or None) where parsing stopped: a row the JSON reader refuses, or a
            later record of a hash with another cell (its message).
    """
    records = np.flatnonzero(suspects[: limit + 1]).tolist()
    if stopped is not None and stopped[0] <= limit:
        records.append(stopped[0])
    for record in sorted(records):
        mismatch = stopped[1] if stopped is not None and record == stopped[0] else None
        problem = record_problem(payloads[record], new_cell=False, mismatch=mismatch)
        if problem is None and mismatch is None and stopped is not None and record == stopped[0]:
            problem = "not an NB101 row"  # the JSON reader refused it, so this is never reached
        if problem is not None:
            return offsets[record], f"malformed NB101 row at byte offset {offsets[record]}: {problem}"
    return None


class RecordParser:
    """The cells of one file so far, and the parsing of its next batch of records.

    Args:
        path: the file (named in error messages).
        pool: optional process pool that checks each batch's new cells (their hashes: most of the
            work) while the next batch is parsed.

    Attributes:
        hashes: each cell's hash (ASCII bytes), in order of first appearance.
        first_offsets: byte offset of each cell's first record.
    """

    def __init__(self, path: str | os.PathLike, pool: Executor | None = None) -> None:
        self.path = path
        self._pool = pool
        self._pending: list[_PendingCells] = []
        self.hashes: list[bytes] = []
        self.first_offsets: list[int] = []
        self._cell_of_hash: dict[bytes, int] = {}
        self._specs: list[bytes] = []
        self._compact: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._counts = np.zeros((NUM_CELLS, len(EPOCHS)), dtype=np.uint8)  # repeats seen per (cell, budget)
        self._order = np.zeros((NUM_CELLS, len(EPOCHS)), dtype=np.uint8)  # 1 + budget, in file order; 0: none
        self._budgets_seen = np.zeros(NUM_CELLS, dtype=np.uint8)

    def parse(self, offsets: Sequence[int], payloads: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Parse and check the next records of the file.

        Args:
            offsets: (n,) byte offset of each record.
            payloads: n CRC-checked payloads.

        Returns:
            (cells, slots, values): (n,) int32 cell of each record, (n,) uint8
            `budget index * 3 + repeat`, (n, 2, 4) float64 halfway/final values.

        Raises:
            DataFormatError: a bad record; the message names the first one's byte offset.
        """
        cell_of_hash, specs = self._cell_of_hash, self._specs
        first_cell = len(self.hashes)
        cells, budgets, messages, new = [], bytearray(), [], []
        stopped: tuple[int, str | None] | None = None  # (record, mismatch message) where the loop stopped
        for i, payload in enumerate(payloads):
            parts = payload.split(b'"')
            budget = None
            if len(parts) == 9 and parts[0] == b"[" and parts[4] == parts[6] == b", " and parts[8] == b"]":
                budget = _BUDGET_TOKENS.get(parts[2])
            if budget is not None and b"\\" not in payload:
                try:
                    metrics = binascii.a2b_base64(parts[7], strict_mode=True)
                    module_hash, spec = parts[1], parts[3] + b"|" + parts[5]
                except ValueError:  # binascii.Error
                    budget = None
            else:
                budget = None
            if budget is None:
                try:
                    module_hash, budget, spec, metrics = _slow_fields(payload)
                except ValueError:
                    stopped = (i, None)
                    break
            cell = cell_of_hash.get(module_hash)
            if cell is None:
                if len(specs) == NUM_CELLS:
                    stopped = (i, f"more than {NUM_CELLS:,} distinct cells")
                    break
                cell = cell_of_hash[module_hash] = len(specs)
                specs.append(spec)
                self.hashes.append(module_hash)
                self.first_offsets.append(offsets[i])
                new.append(i)
            elif specs[cell] != spec:
                stopped = (
                    i,
                    f"module hash {module_hash.decode('utf-8', 'backslashreplace')} was stored at byte offset "
                    f"{self.first_offsets[cell]} with another adjacency or ops",
                )
                break
            cells.append(cell)
            budgets.append(budget)
            messages.append(metrics)
        values, params, bad = decode_metrics(messages)
        new_records = np.array(new, dtype=np.int64)
        new_hashes, new_specs = self.hashes[first_cell:], specs[first_cell:]
        check = self._pool.submit(check_stored_cells, new_hashes, new_specs) if self._pool else None
        self._pending.append(
            _PendingCells(
                [offsets[i] for i in new],
                [payloads[i] for i in new],
                params[new_records],
                check if check is not None else _done(check_stored_cells(new_hashes, new_specs)),
            )
        )
        cell_array = np.array(cells, dtype=np.int32)
        budget_array = np.frombuffer(bytes(budgets), dtype=np.uint8)
        slots, repeats = self._repeats(cell_array, budget_array)
        too_many = np.flatnonzero(repeats >= NUM_REPEATS)
        limit = int(too_many[0]) if too_many.size else len(cells)
        problem = _first_row_problem(offsets, payloads, limit, bad | _impossible(values) | (params < 0), stopped)
        if problem is None and too_many.size:
            problem = (
                offsets[limit],
                f"more than {NUM_REPEATS} repeats of {self.hashes[cells[limit]].decode()} at "
                f"{EPOCHS[budget_array[limit]]} epochs, at byte offset {offsets[limit]}",
            )
        if problem is not None:
            self._settle(keep=0, before=problem[0])
            raise DataFormatError(f"{self.path}: {problem[1]}")
        self._commit(cell_array, budget_array, slots, repeats)
        self._settle(keep=_IN_FLIGHT)
        return cell_array, budget_array * NUM_REPEATS + repeats.astype(np.uint8), values

    def finish(self, before: int | None = None) -> None:
        """Wait for every cell check still running; raise for the first bad cell (before byte offset `before`).

        Call it after the last batch, and before raising any other error of the file, so that the error
        named is the first in file order.

        Raises:
            DataFormatError: a stored cell that is not a pruned NB101 cell or does not have its hash.
        """
        self._settle(keep=0, before=before)

    def _settle(self, keep: int, before: int | None = None) -> None:
        """Take the results of the oldest cell checks until `keep` are left; raise for a bad cell.

        With `before`, a bad cell at that byte offset or later is not raised (the caller's error comes first),
        except at that very record, where the record-by-record order decides which problem is named.
        """
        while len(self._pending) > keep:
            pending = self._pending.pop(0)
            num_vertices, bits, labels, ok = pending.check.result()
            for c in np.flatnonzero(~ok).tolist():
                offset = pending.offsets[c]
                if before is not None and offset > before:
                    break
                problem = record_problem(pending.payloads[c], new_cell=True)
                if problem is not None:
                    raise DataFormatError(f"{self.path}: malformed NB101 row at byte offset {offset}: {problem}")
                # Only the batch check refused the cell (none is known): take `Cell`'s compact form.
                module_hash, _, adjacency, ops, _ = decode_row(pending.payloads[c])
                cell = stored_cell(module_hash, adjacency, ops)
                num_vertices[c], bits[c] = cell.num_vertices, cell.bits
                labels[c, : cell.num_vertices - 2] = cell.labels
            self._compact.append((num_vertices, bits, labels, pending.params))

    def _repeats(self, cells: np.ndarray, budgets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(slots, repeats): each record's (cell, budget) slot (int64) and its rank among the file's records
        of that slot so far (int64; 3 or more is one repeat too many)."""
        slots = cells.astype(np.int64) * len(EPOCHS) + budgets
        return slots, self._counts.reshape(-1)[slots] + _rank_within_groups(slots)

    def _commit(self, cells: np.ndarray, budgets: np.ndarray, slots: np.ndarray, repeats: np.ndarray) -> None:
        """Count the batch's records and note each cell's budgets in order of first appearance."""
        np.add.at(self._counts.reshape(-1), slots, 1)
        first = np.flatnonzero(repeats == 0)  # the first record of a (cell, budget): the cell's next budget
        first_cells = cells[first].astype(np.int64)
        position = self._budgets_seen[first_cells] + _rank_within_groups(first_cells)
        self._order[first_cells, position] = budgets[first] + 1
        np.add.at(self._budgets_seen, first_cells, 1)

    def compact_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(num_vertices (C,) uint8, bits (C,) int32, labels (C, 5) int8, trainable_parameters (C,) int64)."""
        if not self._compact:
            empty = np.zeros(0, dtype=np.int64)
            return empty.astype(np.uint8), empty.astype(np.int32), np.zeros((0, MAX_VERTICES - 2), np.int8), empty
        return tuple(np.concatenate(parts) for parts in zip(*self._compact, strict=True))

    def repeat_counts(self) -> np.ndarray:
        """(C, 4) uint8 repeats per cell and budget index."""
        return self._counts[: len(self.hashes)]

    def budget_order(self) -> np.ndarray:
        """(C, 4) uint8 per cell: 1 + budget index in order of first appearance in the file, 0 past the last."""
        return self._order[: len(self.hashes)]


def _rank_within_groups(keys: np.ndarray) -> np.ndarray:
    """(n,) int64: how many earlier entries of `keys` (n,) equal each entry."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if keys.size else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, keys.size])
    rank = np.empty(keys.size, dtype=np.int64)
    rank[order] = np.arange(keys.size) - np.repeat(starts, sizes)
    return rank
