"""A pytest plugin that prints each test's CPU seconds (user + sys of the process and its waited-for children),
the measure of METHOD_CONTRACT item 11 on a shared machine where wall time is inflated by other jobs:
    PYTHONPATH=. python -m pytest -p no:xdist -p benchmarks.pytest_cpu tests/research/generative/tsit
"""

from __future__ import annotations

import resource

import pytest

_ROWS: list[tuple[float, str]] = []


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = _cpu()
    yield
    _ROWS.append((_cpu() - start, item.nodeid))


def pytest_terminal_summary(terminalreporter):
    for seconds, name in sorted(_ROWS, reverse=True):
        terminalreporter.write_line(f"CPU {seconds:7.2f}s {name}")
    terminalreporter.write_line(f"CPU total in tests {sum(s for s, _ in _ROWS):.2f}s")
