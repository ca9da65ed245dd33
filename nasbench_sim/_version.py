"""The package version, kept apart so that any module can read it without importing the package.

Example:
    >>> from nasbench_sim._version import __version__
    >>> __version__.count(".")
    2
"""

__version__ = "0.2.0"
