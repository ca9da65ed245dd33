"""Named errors of nasbench_sim.

Example:
    >>> from nasbench_sim.errors import OutOfDomainError
    >>> issubclass(OutOfDomainError, ValueError)
    True
"""

from __future__ import annotations


class NasbenchSimError(Exception):
    """Base class of every error this package raises on purpose."""


class OutOfDomainError(NasbenchSimError, ValueError):
    """A cell or query lies outside the NAS-Bench-101 space (message names why)."""


class DataFormatError(NasbenchSimError, ValueError):
    """A data file is corrupt, truncated or not in the expected format."""


class ConfigError(NasbenchSimError, ValueError):
    """A configuration value or a name (algorithm, table, ...) is not valid."""
