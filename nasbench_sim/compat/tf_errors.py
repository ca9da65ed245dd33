"""The exception the official API raises for a missing file: TensorFlow's `tf.errors.NotFoundError`, by name.

The official `NASBench(path)` reads the file with TensorFlow, so a path that
does not exist raises `tensorflow.errors.NotFoundError` (MRO `NotFoundError`,
`OpError`, `Exception`). Here `NotFoundError` has the same names in its MRO and
is also the package's `DataFileNotFoundError`, so `except FileNotFoundError`,
`except OSError` and the package's own error handling still catch it; its
message says where the NAS-Bench-101 files are.

Example:
    >>> from nasbench_sim.compat.tf_errors import NotFoundError
    >>> error = NotFoundError.for_path("nasbench_only108.tfrecord")
    >>> [c.__name__ for c in type(error).__mro__][:2], isinstance(error, FileNotFoundError)
    (['NotFoundError', 'OpError'], True)
    >>> str(error)[:60]
    'nasbench_only108.tfrecord; No such file or directory. The NA'
"""

from __future__ import annotations

import errno
import os

from nasbench_sim.errors import DataFileNotFoundError

__all__ = ["RELEASE_URLS", "NotFoundError", "OpError"]

#: The two files of the NAS-Bench-101 release (108 epochs only, ~499 MB; every budget, ~1.95 GB).
RELEASE_URLS = (
    "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
    "https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",
)


class OpError(Exception):
    """Named like TensorFlow's `tf.errors.OpError`, the base of the errors TensorFlow raises at run time.

    Attributes:
        message: the error's message (as TensorFlow's `OpError.message`).
        error_code: TensorFlow's numeric error code (`NotFoundError`: 5).
    """

    error_code = 2  # TensorFlow's UNKNOWN

    @property
    def message(self) -> str:
        return str(self)


class NotFoundError(OpError, DataFileNotFoundError):
    """A file the official API was asked to read does not exist (TensorFlow's `NotFoundError`, by name).

    Build one with `NotFoundError.for_path(path)`: an `OSError` with `errno`
    ENOENT and `filename` set, whose message names the path like TensorFlow's
    ("PATH; No such file or directory") and then says how to get the file.
    """

    error_code = 5  # TensorFlow's NOT_FOUND

    @classmethod
    def for_path(cls, path: str | os.PathLike) -> NotFoundError:
        """The error for a path that does not exist."""
        return cls(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(path))

    def __str__(self) -> str:
        return (
            f"{self.filename}; {self.strerror}. The NAS-Bench-101 files are {RELEASE_URLS[0]} (108 epochs, "
            f"~499 MB) and {RELEASE_URLS[1]} (every budget, ~1.95 GB): download one and pass its path "
            "(`nasbench-sim data convert FILE` converts it once ahead of time; optional). "
            "NASBench() with no path uses the best available table (a converted official file, else the real "
            "partial table, else the surrogate)."
        )
