"""Argument checks at the package's public doors: whole numbers, random generators, row indices (cells: `space.cell`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim._checks import as_generator, checked_rows, is_whole
    >>> isinstance(as_generator(3), np.random.Generator), checked_rows(np.array([0, 2]), 5).tolist()
    (True, [0, 2])
    >>> is_whole(np.int64(2)), is_whole(True), is_whole(2.0)
    (True, False, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.errors import ConfigError, OutOfDomainError


def is_whole(value: Any) -> bool:
    """True for a Python or numpy integer that is not a bool (2.0, "2" and True are not whole numbers here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def whole_number(value: Any, what: str, *, minimum: int = 1) -> int:
    """`value` as an int if it is a whole number >= `minimum` (not a bool, a float or a str).

    Raises:
        ConfigError: naming `what` and the value.
    """
    if not is_whole(value):
        raise ConfigError(f"{what} must be a whole number, got {value!r:.40}")
    if value < minimum:
        raise ConfigError(f"{what} must be >= {minimum}, got {value}")
    return int(value)


def as_generator(rng: Any) -> np.random.Generator:
    """A numpy Generator from a Generator, a whole-number seed >= 0 or None (fresh entropy).

    Raises:
        ConfigError: anything else (a negative seed, a float, a legacy RandomState).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (is_whole(rng) and rng >= 0):
        return np.random.default_rng(rng)
    raise ConfigError(f"rng must be a numpy Generator, a whole-number seed >= 0 or None, got {rng!r:.40}")


def checked_rows(rows: Any, num_cells: int) -> np.ndarray:
    """(B,) int64 row indices if `rows` holds whole numbers in [0, num_cells).

    Raises:
        OutOfDomainError: fractional or non-numeric values, another shape, or a row out of range.
    """
    array = np.asarray(rows)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise OutOfDomainError(f"rows must be a 1-D array of whole numbers, got {array.dtype} of shape {array.shape}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_cells):
        bad = array[(array < 0) | (array >= num_cells)][0]
        raise OutOfDomainError(f"row {bad} is outside the space's rows 0-{num_cells - 1}")
    return array
