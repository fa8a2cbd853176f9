"""Confinement for learner code during grading, using what this kernel offers.

* **Processes and memory**: a cgroup per submission (v1 or v2 ``pids`` and
  ``memory`` controllers) caps processes (a fork bomb hits the cap) and memory (an
  allocation past it is OOM-killed, and we can say so). Without cgroups: the same
  limits enforced by a watchdog that polls ``/proc`` (:mod:`.watchdog`), plus
  RLIMIT_NPROC (which does not bind root).
* **Files**: a mount namespace in which ``/`` is read-only and only the workspace, a
  private ``/tmp`` and the build caches are writable; plus RLIMIT_FSIZE.
* **Network**: a network namespace with only loopback (``unshare -n``).
* **Environment**: a scrubbed ``os.environ`` (no tokens or credentials leak in).

:func:`capabilities` says which of these are in force, and every report carries it.
"""
from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import subprocess
import time
from pathlib import Path

from .. import paths, procs
from .watchdog import POLL_S

MEMORY_LIMIT = 1 << 30  # 1 GiB per submission
PIDS_LIMIT = 512  # threads count as tasks; a JVM alone uses ~40
FILE_LIMIT = 256 << 20  # largest file a submission may write
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "HOME", "USER", "GOCACHE", "GOMODCACHE", "GOPATH",
            "GOTOOLCHAIN", "JAVA_HOME", "COURSE_NODE", "COURSE_NPM", "COURSE_GO", "COURSE_JAVA",
            "COURSE_JAVAC", "COURSE_MVN", "XDG_CACHE_HOME")
CGROUP_ROOTS = {
    "v2": Path("/sys/fs/cgroup"),
    "pids": Path("/sys/fs/cgroup/pids"),
    "memory": Path("/sys/fs/cgroup/memory"),
}


def _cgroup_mode() -> str | None:
    if (CGROUP_ROOTS["v2"] / "cgroup.controllers").exists():
        controllers = (CGROUP_ROOTS["v2"] / "cgroup.controllers").read_text().split()
        if {"pids", "memory"} <= set(controllers) and os.access(CGROUP_ROOTS["v2"], os.W_OK):
            return "v2"
    if all((CGROUP_ROOTS[c] / "cgroup.procs").exists() and os.access(CGROUP_ROOTS[c], os.W_OK)
           for c in ("pids", "memory")):
        return "v1"
    return None


def _can_unshare() -> bool:
    unshare = shutil.which("unshare")
    if not unshare or not shutil.which("ip") or not shutil.which("mount"):
        return False
    try:
        return subprocess.run([unshare, "-m", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclasses.dataclass(frozen=True)
class Capabilities:
    cgroups: str | None  # "v1", "v2" or None
    namespaces: bool  # mount + network namespaces

    def describe(self) -> dict:
        return {
            "processes_memory": f"cgroup {self.cgroups}: {PIDS_LIMIT} tasks, {MEMORY_LIMIT >> 20} MiB"
            if self.cgroups else f"watchdog polling /proc every {POLL_S:g} s: {PIDS_LIMIT} processes, "
            f"{MEMORY_LIMIT >> 20} MiB resident (no writable cgroup hierarchy here)",
            "network": "loopback only (network namespace)" if self.namespaces
            else "NOT isolated: `unshare -n` is unavailable here",
            "filesystem": "read-only except the workspace and build caches (mount namespace)"
            if self.namespaces else "NOT isolated: `unshare -m` is unavailable here (submissions are still copied)",
        }


_CAPS: Capabilities | None = None


def capabilities() -> Capabilities:
    global _CAPS
    if _CAPS is None:
        disabled = os.environ.get("COURSE_SANDBOX") == "off"
        _CAPS = Capabilities(None if disabled else _cgroup_mode(), False if disabled else _can_unshare())
    return _CAPS


def scrubbed_env(workspace: Path) -> dict[str, str]:
    """The environment learner code sees: the essentials, nothing secret."""
    env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    tmp = workspace / ".tmp"
    tmp.mkdir(exist_ok=True)
    env.update({
        "TMPDIR": str(tmp), "COURSE_GRADING": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter"), "IPYTHONDIR": str(tmp / "ipython"),
        "MPLCONFIGDIR": str(tmp / "mpl"), "COURSE_SCRATCH": str(workspace / ".scratch"),
        "COURSE_PROGRESS": str(tmp / "progress.json"), "GOTOOLCHAIN": "local",
        # the JVM ignores TMPDIR (Tomcat, javac would write to the read-only /tmp)
        "JAVA_TOOL_OPTIONS": f"-Djava.io.tmpdir={tmp}",
    })
    return env


def jail_prefix(writable: list[Path]) -> list[str]:
    """argv prefix that runs a command in fresh mount + network namespaces.

    Inside: loopback up, ``/`` (and ``/tmp`` when it is a mount of its own) remounted
    read-only, ``writable`` bind-mounted over themselves first so they stay writable.
    ``/tmp`` is not replaced by a fresh tmpfs: the course itself may live there (CI
    clones anywhere); temporary files go to the workspace's TMPDIR instead.
    """
    if not capabilities().namespaces:
        return []
    binds = " ".join(f'mount --bind "{p}" "{p}" &&' for p in writable)
    script = (
        "ip link set lo up && mount --make-rprivate / && "
        f"{binds} mount -o remount,bind,ro / && "
        "{ ! mountpoint -q /tmp || mount -o remount,bind,ro /tmp; } && "
        'exec "$@"'
    )
    return [shutil.which("unshare"), "-m", "-n", "--", "sh", "-c", script, "jail"]


def writable_paths(workspace_root: Path) -> list[Path]:
    """What learner code (and the tools it drives) must be able to write."""
    go_cache = os.environ.get("GOCACHE") or str(Path.home() / ".cache" / "go-build")
    out = [workspace_root, Path(go_cache), paths.CACHE]
    for p in out:
        p.mkdir(parents=True, exist_ok=True)
    return out


def apply_rlimits() -> None:
    """Limits every process we start inherits (the kernel, its snippets, servers)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if capabilities().cgroups is None:
        resource.setrlimit(resource.RLIMIT_NPROC, (PIDS_LIMIT * 4, PIDS_LIMIT * 4))


class Cgroup:
    """One submission's cgroup: confine commands to it, read what hit a limit, kill everything in it."""

    def __init__(self, name: str):
        self.mode = capabilities().cgroups
        self.dirs: dict[str, Path] = {}
        if self.mode == "v2":
            d = CGROUP_ROOTS["v2"] / f"backend-lab-{name}"
            d.mkdir(exist_ok=True)
            self.dirs = {"pids": d, "memory": d}
            _write(d / "pids.max", str(PIDS_LIMIT))
            _write(d / "memory.max", str(MEMORY_LIMIT))
            _write(d / "memory.swap.max", "0", missing_ok=True)
        elif self.mode == "v1":
            own = _own_v1_path("memory")
            for ctl, base in (("pids", CGROUP_ROOTS["pids"] / _own_v1_path("pids")),
                              ("memory", CGROUP_ROOTS["memory"] / own)):
                d = base / f"backend-lab-{name}"
                d.mkdir(exist_ok=True)
                self.dirs[ctl] = d
            _write(self.dirs["pids"] / "pids.max", str(PIDS_LIMIT))
            _write(self.dirs["memory"] / "memory.limit_in_bytes", str(MEMORY_LIMIT))
            _write(self.dirs["memory"] / "memory.memsw.limit_in_bytes", str(MEMORY_LIMIT), missing_ok=True)
        self._baseline = self._counters()

    def prefix(self) -> list[str]:
        """argv prefix that moves a command into this cgroup before it execs.

        Only learner code goes in (the kernel, servers under test), never the worker:
        a fork bomb that fills the cgroup must not stop the grader from cleaning up.
        """
        dirs = [str(d) for d in sorted(set(self.dirs.values()))]
        if not dirs:
            return []
        script = 'for d in "$@"; do [ "$d" = -- ] && break; echo $$ > "$d/cgroup.procs"; shift; done; shift; exec "$@"'
        return ["sh", "-c", script, "enter-cgroup", *dirs, "--"]

    def _counters(self) -> dict[str, int]:
        out = {"oom": 0, "pids": 0}
        if not self.dirs:
            return out
        if self.mode == "v2":
            out["oom"] = _kv(self.dirs["memory"] / "memory.events").get("oom_kill", 0)
            out["pids"] = _kv(self.dirs["pids"] / "pids.events").get("max", 0)
        else:
            out["oom"] = _kv(self.dirs["memory"] / "memory.oom_control").get("oom_kill", 0)
            if not out["oom"]:
                out["oom"] = int(_read(self.dirs["memory"] / "memory.failcnt") or 0) and -1
            out["pids"] = _kv(self.dirs["pids"] / "pids.events").get("max", 0)
        return out

    def hit(self) -> str | None:
        """Which limit was hit since creation: ``"processes"``, ``"memory"`` or None.

        Processes first: a fork bomb's hundreds of copies also fill the memory limit,
        and "process limit" is the verdict that explains it.
        """
        now = self._counters()
        peak = (_read(self.dirs["pids"] / "pids.peak") or "").strip() if self.dirs else ""
        # a bomb slowed down by a busy machine may time out just before a fork is
        # refused: a peak at the cap is the same verdict (the cgroup is fresh: peak starts at 0)
        if now["pids"] > self._baseline["pids"] or (peak.isdigit() and int(peak) >= PIDS_LIMIT * 0.9):
            return "processes"
        if now["oom"] > self._baseline["oom"] or now["oom"] < 0:
            return "memory"
        return None

    def kill_all(self) -> None:
        procs.kill_until_gone(self.members)

    def members(self) -> set[int]:
        found: set[int] = set()
        for d in set(self.dirs.values()):
            text = _read(d / "cgroup.procs") or ""
            found |= {int(x) for x in text.split()}
        return found

    def remove(self) -> None:
        self.kill_all()
        for d in set(self.dirs.values()):
            for _ in range(20):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _own_v1_path(controller: str) -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path.lstrip("/")
    return ""


def _write(path: Path, value: str, missing_ok: bool = False) -> None:
    try:
        path.write_text(value)
    except (FileNotFoundError, PermissionError, OSError):
        if not missing_ok:
            raise


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _kv(path: Path) -> dict[str, int]:
    out = {}
    for line in (_read(path) or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out
