"""The lesson suite (nbval): kernels on Unix sockets, and time per lesson notebook.

nbval starts each notebook's kernel itself; :func:`course.kernels.use_for_nbval` makes it
listen on Unix sockets rather than unencrypted TCP (no "Kernel is running over TCP without
encryption" warning).

The lesson suite has a budget (all notebooks in under 10 minutes on 2 cores), and
pytest's ``--durations`` lists cells, not notebooks. Every phase of every cell counts,
so a notebook's time includes its kernel start and its servers.
"""
from __future__ import annotations

from collections import defaultdict

from course import kernels

BUDGET_S = 600
_SECONDS: dict[str, float] = defaultdict(float)


def pytest_configure(config):
    kernels.use_for_nbval()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _SECONDS[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _SECONDS:
        return
    tr = terminalreporter
    tr.section("lesson notebooks: time per notebook")
    for path, seconds in sorted(_SECONDS.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"{seconds:7.1f} s  {path}")
    total = sum(_SECONDS.values())
    tr.write_line(f"{total:7.1f} s  in all, {len(_SECONDS)} notebooks (budget {BUDGET_S // 60} min)")
