"""A memory and process watchdog for grading where cgroups are not available.

Without a writable cgroup hierarchy (an instructor who is not root, most containers)
nothing in the kernel caps a submission's memory: ``RLIMIT_AS`` would break the JVM,
Go and V8, which reserve far more address space than they use. So a thread of the
grading worker polls ``/proc`` instead: every process descended from the worker (or
sharing a session with one, which catches orphans of a server that double-forked) that
did not exist when the submission started belongs to it. When their resident memory
adds up to more than the limit, or there are more of them than the process limit,
they are all killed and :meth:`hit` says which limit it was — the same verdicts the
cgroup gives.

It is a fallback, and coarser than a cgroup: it samples (a fast allocation overshoots
by what it can allocate between two polls) and it adds up RSS, so pages shared
after a ``fork`` count twice.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .. import procs

PAGE = os.sysconf("SC_PAGE_SIZE")
POLL_S = 0.2


def _snapshot() -> dict[int, tuple[int, int, int]]:
    """pid → (ppid, session id, resident bytes) for every live process readable in /proc
    (zombies are left out: they hold no memory and cannot be killed again)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: split after its closing one
        fields = stat[stat.rfind(b")") + 2:].split()
        try:
            if fields[0] in (b"Z", b"X"):
                continue
            table[int(entry.name)] = (int(fields[1]), int(fields[3]), int(fields[21]) * PAGE)
        except (IndexError, ValueError):
            continue
    return table


class TreeWatch:
    """One submission's processes, found in /proc and capped by polling.

    Offers what :class:`course.grading.sandbox.Cgroup` offers the worker
    (``prefix``, ``hit``, ``kill_all``, ``remove``), so the worker treats both alike.
    """

    def __init__(self, memory_limit: int, pids_limit: int, poll_s: float = POLL_S):
        self.memory_limit = memory_limit
        self.pids_limit = pids_limit
        self.poll_s = poll_s
        self.root = os.getpid()
        self._own_sid = os.getsid(0)
        table = _snapshot()
        self._before = set(table)  # the worker's PostgreSQL and the like are not the learner's
        self._before_sids = {sid for pid, (_, sid, _) in table.items() if pid in self._descendants(table)}
        self._hit: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grading-watchdog", daemon=True)
        self._thread.start()

    def prefix(self) -> list[str]:
        return []  # nothing to enter: membership is found, not assigned

    def _descendants(self, table) -> set[int]:
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        found, todo = set(), [self.root]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def members(self, table=None) -> set[int]:
        table = _snapshot() if table is None else table
        tree = {pid for pid in self._descendants(table) if pid not in self._before}
        sids = {table[pid][1] for pid in tree} - {self._own_sid} - self._before_sids
        tree |= {pid for pid, (_, sid, _) in table.items()
                 if sid in sids and pid not in self._before and pid != self.root}
        return tree

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            table = _snapshot()
            members = self.members(table)
            rss = sum(table[pid][2] for pid in members)
            if len(members) > self.pids_limit:
                self._hit = self._hit or "processes"
            elif rss > self.memory_limit:
                self._hit = self._hit or "memory"
            else:
                continue
            self.kill_all()

    def hit(self) -> str | None:
        return self._hit

    def kill_all(self) -> None:
        procs.kill_until_gone(self.members)

    def remove(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.kill_all()
