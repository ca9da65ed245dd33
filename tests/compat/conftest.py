"""tests/compat: the scripts under data/ are fixtures run by the tests, not test modules (nor doctests)."""

collect_ignore = ["data"]
