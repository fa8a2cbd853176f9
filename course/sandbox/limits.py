"""Memory, process and disk limits for one submission, and the verdict when one is hit.

* **Processes and memory**: a cgroup per submission (v1 or v2 ``pids`` and ``memory``
  controllers) when the grader is root and the hierarchy is writable. A command enters
  it through :meth:`Cgroup.prefix` *before* bwrap drops privileges: the unprivileged
  learner cannot write ``cgroup.procs`` (it is root's, and ``/sys`` is read-only inside),
  so it cannot leave. Without a cgroup (a normal user, most containers), a
  :class:`TreeWatch` polls ``/proc`` and enforces the same limits on the processes the
  submission started.
* **Disk**: :class:`DiskWatch` adds up what the submission has written (its workspace,
  its private cache layers, its databases) and stops it past :data:`~.detect.DISK_LIMIT`;
  RLIMIT_FSIZE caps each file. The private ``/tmp`` is a bounded tmpfs.

:class:`Confinement` holds both and answers :meth:`~Confinement.hit` with a :class:`Limit`.
"""
from __future__ import annotations

import enum
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from .. import procs
from .detect import CGROUP_ROOTS, DISK_LIMIT, MEMORY_LIMIT, PIDS_LIMIT

PAGE = os.sysconf("SC_PAGE_SIZE")
POLL_S = 0.2
STARTED_LIMIT = PIDS_LIMIT * 8  # processes one sandbox may start in all, watched without a cgroup
DISK_POLL_S = 0.5
PSS_BUDGET_S = 1.0  # how long the watchdog waits for /proc's memory maps before calling a fork bomb
CGROUP_PREFIX = "backend-lab-"


class Limit(enum.Enum):
    PROCESSES = "processes"
    MEMORY = "memory"
    DISK = "disk"

    def verdict(self) -> str:
        return {
            Limit.PROCESSES: f"hit the {PIDS_LIMIT}-process limit (a fork bomb?)",
            Limit.MEMORY: f"killed at the {MEMORY_LIMIT >> 30} GiB memory limit",
            Limit.DISK: f"wrote more than {DISK_LIMIT >> 20} MiB (the disk limit) and was stopped",
        }[self]


# -- cgroups ---------------------------------------------------------------------------
def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _write(path: Path, value: str, missing_ok: bool = False) -> None:
    try:
        path.write_text(value)
    except OSError:
        if not missing_ok:
            raise


def _kv(path: Path) -> dict[str, int]:
    out = {}
    for line in (_read(path) or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _own_v1_path(controller: str) -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path.lstrip("/")
    return ""


class Cgroup:
    """One submission's cgroup: enter it, read which limit was hit, kill everything in it."""

    def __init__(self, name: str, mode: str):
        self.mode = mode
        self.dirs: dict[str, Path] = {}
        if mode == "v2":
            d = CGROUP_ROOTS["v2"] / f"{CGROUP_PREFIX}{name}"
            d.mkdir(exist_ok=True)
            self.dirs = {"pids": d, "memory": d}
            _write(d / "pids.max", str(PIDS_LIMIT))
            _write(d / "memory.max", str(MEMORY_LIMIT))
            _write(d / "memory.swap.max", "0", missing_ok=True)
        else:
            for ctl in ("pids", "memory"):
                d = CGROUP_ROOTS[ctl] / _own_v1_path(ctl) / f"{CGROUP_PREFIX}{name}"
                d.mkdir(exist_ok=True)
                self.dirs[ctl] = d
            _write(self.dirs["pids"] / "pids.max", str(PIDS_LIMIT))
            _write(self.dirs["memory"] / "memory.limit_in_bytes", str(MEMORY_LIMIT))
            _write(self.dirs["memory"] / "memory.memsw.limit_in_bytes", str(MEMORY_LIMIT), missing_ok=True)
        self._baseline = self._counters()

    def prefix(self) -> list[str]:
        """argv prefix that moves a command into this cgroup before it execs.

        Only learner code goes in (sandboxes), never the grader: a fork bomb that fills
        the cgroup must not stop the grader from cleaning up.
        """
        dirs = [str(d) for d in sorted(set(self.dirs.values()))]
        script = 'for d in "$@"; do [ "$d" = -- ] && break; echo $$ > "$d/cgroup.procs"; shift; done; shift; exec "$@"'
        return ["sh", "-c", script, "enter-cgroup", *dirs, "--"]

    def add_root(self, pid: int) -> None:
        """Nothing to do: membership is assigned on entry (see :meth:`prefix`)."""

    def _counters(self) -> dict[str, int]:
        out = {"oom": 0, "pids": _kv(self.dirs["pids"] / "pids.events").get("max", 0)}
        if self.mode == "v2":
            out["oom"] = _kv(self.dirs["memory"] / "memory.events").get("oom_kill", 0)
        else:
            out["oom"] = _kv(self.dirs["memory"] / "memory.oom_control").get("oom_kill", 0)
            if not out["oom"]:
                out["oom"] = int(_read(self.dirs["memory"] / "memory.failcnt") or 0) and -1
        return out

    def hit(self) -> Limit | None:
        """Processes first: a fork bomb's copies also fill the memory limit, and "process limit"
        is the verdict that explains it."""
        now = self._counters()
        peak = (_read(self.dirs["pids"] / "pids.peak") or "").strip()
        # a bomb slowed down by a busy machine may time out just before a fork is refused:
        # a peak at the cap is the same verdict (the cgroup is fresh: its peak starts at 0)
        if now["pids"] > self._baseline["pids"] or (peak.isdigit() and int(peak) >= PIDS_LIMIT * 0.9):
            return Limit.PROCESSES
        if now["oom"] > self._baseline["oom"] or now["oom"] < 0:
            return Limit.MEMORY
        return None

    def members(self) -> set[int]:
        found: set[int] = set()
        for d in set(self.dirs.values()):
            found |= {int(x) for x in (_read(d / "cgroup.procs") or "").split()}
        return found

    def kill_all(self) -> None:
        procs.kill_until_gone(self.members)

    def close(self) -> None:
        """Kill what is left and remove the cgroup. Hundreds of a fork bomb's copies take a
        while to die (a PID namespace's init reaps them on its way out): keep trying."""
        deadline = time.monotonic() + 15
        for d in set(self.dirs.values()):
            while True:
                self.kill_all()
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


def remove_stale_cgroups() -> None:
    """Remove cgroups whose grading worker is gone (after a kill), with whatever they hold.

    Names are ``backend-lab-<worker pid>-<index>`` (:func:`cgroup_name`)."""
    for base in {CGROUP_ROOTS[c] for c in ("pids", "memory", "v2") if CGROUP_ROOTS[c].exists()}:
        for d in base.rglob(CGROUP_PREFIX + "*"):
            worker = d.name[len(CGROUP_PREFIX):].split("-")[0]
            if worker.isdigit() and not os.path.exists(f"/proc/{worker}"):
                for pid in (_read(d / "cgroup.procs") or "").split():
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, ValueError):
                        pass
                time.sleep(0.1)
                try:
                    d.rmdir()
                except OSError:
                    pass


def cgroup_name(index: int) -> str:
    return f"{os.getpid()}-{index}"


# -- the /proc watchdog ------------------------------------------------------------------
def snapshot() -> dict[int, tuple[int, int]]:
    """pid → (ppid, resident bytes) for every live process readable in /proc (zombies are left
    out: they hold no memory and cannot be killed again)."""
    table = {}
    for pid, fields in procs.proc_stats():
        try:
            table[pid] = (int(fields[1]), int(fields[21]) * PAGE)
        except (IndexError, ValueError):
            continue
    return table


def proportional_bytes(pid: int, fallback: int) -> int:
    """The process's PSS: its private pages, plus its share of those it shares. Copies made
    by fork share their pages until written, so adding up RSS would count a fork bomb's
    memory hundreds of times (and blame the memory limit for what the process limit is for)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return fallback


def inner_pid(pid: int) -> int:
    """The pid a process has in its own (innermost) PID namespace. PIDs there count up from
    1 (the sandbox's agent), so the largest one seen is how many processes were started."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    fields = line.split()[1:]
                    return int(fields[-1]) if len(fields) > 1 else 0  # 0: not in a sandbox's namespace
    except (OSError, ValueError, IndexError):
        pass
    return 0


def descendants(table: dict[int, tuple[int, int]], roots: Iterable[int], *,
                stop: set[int] = frozenset()) -> set[int]:
    """``roots`` and everything below them, not descending into ``stop``."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        if pid in found or pid in stop:
            continue
        found.add(pid)
        todo += children.get(pid, [])
    return found


class TreeWatch:
    """One submission's processes, found in /proc and capped by polling (no cgroup here).

    Sandboxed, the submission is every process below the sandboxes it started
    (:meth:`add_root`): orphans re-parent to the sandbox's PID 1, so nothing escapes the
    tree. Unsandboxed (``--no-sandbox``), it is every process below the grader that did
    not exist when the submission started, without descending into those that did (the
    grader's PostgreSQL forks a backend per connection: those are not the learner's); the
    grader is a child subreaper, so a daemon that double-forks stays below it.

    It is coarser than a cgroup: it samples (a fast allocation overshoots by what it can
    allocate between two polls), and it adds up each process's proportional set size. A
    fork bomb whose copies die as fast as they are made never shows many at once; in a
    sandbox its PID numbers give it away (:data:`STARTED_LIMIT` processes started).
    """

    def __init__(self, *, sandboxed: bool, memory_limit: int = MEMORY_LIMIT, pids_limit: int = PIDS_LIMIT,
                 poll_s: float = POLL_S, on_hit: Callable[[], None] | None = None):
        self.memory_limit = memory_limit
        self.pids_limit = pids_limit
        self.poll_s = poll_s
        self.sandboxed = sandboxed
        self.on_hit = on_hit
        self._roots: set[int] = set()
        self._before = set(snapshot())
        self._hit: Limit | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grading-watchdog", daemon=True)
        self._thread.start()

    def prefix(self) -> list[str]:
        return []  # nothing to enter: membership is found, not assigned

    def add_root(self, pid: int) -> None:
        self._roots.add(pid)

    def members(self, table=None) -> set[int]:
        table = snapshot() if table is None else table
        if self.sandboxed:
            return descendants(table, self._roots)
        me = os.getpid()
        return descendants(table, [me], stop=self._before - {me}) - {me}

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            table = snapshot()
            members = self.members(table)
            if len(members) > self.pids_limit or (
                    self.sandboxed and max((inner_pid(pid) for pid in members), default=0) > STARTED_LIMIT):
                self._hit = self._hit or Limit.PROCESSES
            elif sum(table[pid][1] for pid in members) > self.memory_limit and \
                    (pss := self._pss(members, table)) != 0:
                # hundreds of copies that fill the memory are a fork bomb: the process limit
                # explains it (as the cgroup's verdict does); a memory hog is a few processes.
                # Memory maps that cannot be read in time are locked by forks in progress.
                crowd = pss is None or len(members) > self.pids_limit // 4
                self._hit = self._hit or (Limit.PROCESSES if crowd else Limit.MEMORY)
            else:
                continue
            self.kill_all()
            if self.on_hit:
                self.on_hit()

    def _pss(self, members: set[int], table) -> int | None:
        """How far the members' PSS is over the memory limit (0 when it is not), or None when
        /proc did not answer within :data:`PSS_BUDGET_S`.

        Reading a process's ``smaps_rollup`` takes its memory map's lock, which a fork holds:
        under a fork bomb the read blocks for as long as the bomb runs. It happens in a reader
        thread (one at a time) so that the watchdog itself never stops watching."""
        if self._reader is not None and self._reader.is_alive():
            return None
        found: list[int] = []
        self._reader = threading.Thread(
            target=lambda: found.append(sum(proportional_bytes(pid, table[pid][1]) for pid in members)),
            name="grading-watchdog-pss", daemon=True)
        self._reader.start()
        self._reader.join(PSS_BUDGET_S)
        if not found:
            return None
        return max(0, found[0] - self.memory_limit)

    def hit(self) -> Limit | None:
        return self._hit

    def kill_all(self) -> None:
        procs.kill_until_gone(self.members)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.kill_all()


# -- disk -------------------------------------------------------------------------------
def disk_usage(roots: Iterable[Path], *, cap: int) -> int:
    """Bytes allocated under ``roots`` (not following links), counting no further than ``cap``."""
    total = 0
    todo = [str(r) for r in roots]
    while todo:
        try:
            entries = os.scandir(todo.pop())
        except OSError:
            continue
        with entries:
            for e in entries:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += st.st_blocks * 512
                if e.is_dir(follow_symlinks=False):
                    todo.append(e.path)
                if total > cap:
                    return total
    return total


class DiskWatch:
    """Stops a submission that writes more than ``limit`` bytes in all under ``roots`` and,
    with ``extra``, elsewhere (its databases)."""

    def __init__(self, roots: list[Path], kill: Callable[[], None], *, limit: int = DISK_LIMIT,
                 poll_s: float = DISK_POLL_S, extra: Callable[[], int] | None = None):
        self.roots = roots
        self.limit = limit
        self.extra = extra
        self._kill = kill
        self._hit = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(poll_s,), name="grading-diskwatch", daemon=True)
        self._thread.start()

    def _run(self, poll_s: float) -> None:
        while not self._stop.wait(poll_s):
            used = (self.extra() if self.extra else 0)
            if used + disk_usage(self.roots, cap=self.limit) > self.limit:
                self._hit = True
                self._kill()
                return

    def allow(self, nbytes: int) -> None:
        """The grader itself wrote ``nbytes`` under the roots (a cache's copy): not the learner's."""
        self.limit += nbytes

    @property
    def hit(self) -> bool:
        return self._hit

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Confinement:
    """One submission's limits: a cgroup or a watchdog, plus the disk watch."""

    def __init__(self, index: int, *, cgroups: str | None, sandboxed: bool, disk_roots: list[Path],
                 databases=None):
        """``databases``: the submission's databases — called, how many bytes they hold;
        ``terminate()``, end their sessions (a query can outlive the process that sent it)."""
        self.processes: Cgroup | TreeWatch = (Cgroup(cgroup_name(index), cgroups) if cgroups
                                              else TreeWatch(sandboxed=sandboxed))
        self.databases = databases
        self.disk = DiskWatch(disk_roots, self._stop_everything, extra=databases)

    def _stop_everything(self) -> None:
        self.kill_all()
        if self.databases is not None:
            self.databases.terminate()

    def prefix(self) -> list[str]:
        return self.processes.prefix()

    def allow(self, nbytes: int) -> None:
        self.disk.allow(nbytes)

    def add_root(self, pid: int) -> None:
        self.processes.add_root(pid)

    def hit(self) -> Limit | None:
        return self.processes.hit() or (Limit.DISK if self.disk.hit else None)

    def kill_all(self) -> None:
        self.processes.kill_all()

    def close(self) -> None:
        self.disk.close()
        self.processes.close()
