"""Named errors of nasbench_sim.

Every error the package raises on purpose derives from `NasbenchSimError`.
Where the official `nasbench` API raises a builtin exception, ours derives from
that builtin too, so code written for the official API still catches it:

- `OutOfDomainError`: an invalid cell or budget. Like the official class it is
  an `Exception` and nothing else (not a `ValueError`).
- `MissingDataError` (a `KeyError`): a valid cell or budget that the table has
  no data for (the official API raises `KeyError(hash)` / `KeyError(epochs)`).
- `MissingRepeatError` (an `IndexError`): the sampled training repeat is not in
  the table (the official API raises `IndexError`).
- `DataFileNotFoundError` (a `FileNotFoundError`): a data file does not exist.
- `DataFormatError`, `ConfigError` (`ValueError`s): bad files, bad settings.

Example:
    >>> from nasbench_sim.errors import MissingDataError, NasbenchSimError, OutOfDomainError
    >>> issubclass(OutOfDomainError, ValueError), issubclass(MissingDataError, KeyError)
    (False, True)
    >>> str(MissingDataError("no data for cell 0437..., the file covers 22 cells"))
    'no data for cell 0437..., the file covers 22 cells'
"""

from __future__ import annotations

from typing import Any


class NasbenchSimError(Exception):
    """Base class of every error this package raises on purpose."""


class OutOfDomainError(NasbenchSimError):
    """A cell or query lies outside the NAS-Bench-101 space (message names why)."""


class MissingDataError(NasbenchSimError, KeyError):
    """The table has no data for a valid cell or budget (a `KeyError`, as in the official API).

    Args:
        message: what is missing, and what the table covers.
        key: the key that was looked up (a hash, or a number of epochs).
    """

    def __init__(self, message: str, key: Any = None) -> None:
        super().__init__(message)
        self.key = key

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


class MissingRepeatError(NasbenchSimError, IndexError):
    """The sampled training repeat is not in the table (an `IndexError`, as in the official API)."""


class DataFileNotFoundError(NasbenchSimError, FileNotFoundError):
    """A data file does not exist (a `FileNotFoundError`, so `except OSError` catches it too)."""


class DataFormatError(NasbenchSimError, ValueError):
    """A data file is corrupt, truncated or not in the expected format."""


class ConfigError(NasbenchSimError, ValueError):
    """A configuration value or a name (algorithm, table, ...) is not valid."""


class ContractError(NasbenchSimError, AssertionError):
    """A searcher or surrogate breaks the contract `nasbench_sim.testing` checks (one line per broken rule)."""
