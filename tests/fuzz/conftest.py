"""The fuzz suite (issue 12; machinery in ``_fuzzlib.py``).

A fast seeded subset runs with the rest of the tests. The long run is marked ``fuzz`` and is skipped
unless the ``-m`` expression names that marker: ``make fuzz`` runs ``pytest -m fuzz tests/fuzz``.
Its per-reader counts are printed at the end of the run.
"""
import pytest

import _fuzzlib


def pytest_collection_modifyitems(config, items):
    if "fuzz" in (config.getoption("markexpr") or ""):
        return  # selected (or deselected) explicitly: -m decides
    skip = pytest.mark.skip(reason="the long fuzz run; run it with `make fuzz` (pytest -m fuzz tests/fuzz)")
    for item in items:
        if item.get_closest_marker("fuzz") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if _fuzzlib.REPORT:
        terminalreporter.write_sep("=", "fuzz run: outcomes per reader")
        for line in _fuzzlib.REPORT:
            terminalreporter.write_line(line)
