"""The bwrap command line for one sandbox: which namespaces, what is mounted where, who runs.

The file system is an allowlist, not the host's ``/`` with holes: the system folders
(``/usr``, ``/etc`` and the ``/bin``-style links), the toolchains and the course's Python
(found, not assumed: :mod:`.binds`), all read-only; a fresh ``/dev`` and ``/proc``;
no ``/sys``; a private memory-backed ``/tmp`` of bounded size; and only what
:class:`Layout` lists as writable. Nothing else of the host exists inside: not the
course's ``solutions/`` or ``tests/``, not the grader's other files, not the home folder.

As root, bwrap itself has the privilege to mount, and the payload drops it:
``setpriv`` to :data:`~.detect.SANDBOX_UID` with no capabilities and ``no_new_privs``,
then ``unshare --user`` into a user namespace. As a normal user, bwrap makes an
unprivileged user namespace first and maps the same uid. Either way the agent
(:mod:`.agent`) is PID 1 and the payload its child.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from .detect import FILE_LIMIT, PIDS_LIMIT, SANDBOX_UID, TMP_LIMIT, Isolation

AGENT = Path(__file__).with_name("agent.py")
SYSTEM_DIRS = ("usr", "etc")
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclasses.dataclass(frozen=True)
class Overlay:
    """``dest`` shows ``lower`` read-only, with this sandbox's writes going to ``upper``."""

    lower: Path
    upper: Path
    work: Path
    dest: Path


@dataclasses.dataclass(frozen=True)
class Layout:
    """What one sandbox sees besides the system and toolchains."""

    read_only: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()
    overlays: tuple[Overlay, ...] = ()
    placed: tuple[tuple[Path, Path], ...] = ()  # (source, where it is seen), writable
    cwd: Path | None = None


def _dirs_for(dest: Path, made: set[Path]) -> list[str]:
    """``--dir`` each missing ancestor with mode 0755 (as root, bwrap would make them 0700,
    and the unprivileged payload could not traverse them)."""
    out: list[str] = []
    for parent in reversed(dest.parents):
        if parent == Path("/") or parent in made:
            continue
        made.add(parent)
        out += ["--perms", "0755", "--dir", str(parent)]
    return out


def _system() -> list[str]:
    args: list[str] = []
    for name in SYSTEM_DIRS:
        if Path("/", name).is_dir():
            args += ["--ro-bind", f"/{name}", f"/{name}"]
    for name in SYSTEM_LINKS:
        p = Path("/", name)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    # no /sys at all: nothing there is the learner's business (and the JVM's container
    # detection chokes on the host's cgroup tree seen from a cgroup namespace)
    args += ["--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--size", str(TMP_LIMIT), "--tmpfs", "/tmp"]
    return args


def mounts(read_only: list[Path], layout: Layout) -> list[str]:
    """The mount arguments, parents before children (bwrap applies them in order)."""
    args = _system()
    made: set[Path] = {Path("/tmp"), Path("/usr"), Path("/etc")}
    entries: list[tuple[Path, list[str]]] = []
    for p in read_only + list(layout.read_only):
        entries.append((p, ["--ro-bind", str(p), str(p)]))
    for p in layout.writable:
        entries.append((p, ["--bind", str(p), str(p)]))
    for o in layout.overlays:
        entries.append((o.dest, ["--overlay-src", str(o.lower), "--overlay", str(o.upper), str(o.work),
                                 str(o.dest)]))
    for src, dest in layout.placed:
        entries.append((dest, ["--bind", str(src), str(dest)]))
    for dest, mount in sorted(entries, key=lambda e: (len(e[0].parts), str(e[0]))):
        args += _dirs_for(dest, made) + mount
        made.add(dest)
    return args


def payload_prefix(isolation: Isolation) -> list[str]:
    """What runs between bwrap and the agent: the privilege drop when bwrap ran as root."""
    if isolation is Isolation.BWRAP_ROOT:
        uid = str(SANDBOX_UID)
        # (the change of uid clears bwrap's --die-with-parent: the agent sets it again)
        return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--",
                "unshare", "--user", "--map-current-user", "--"]
    return []


def namespaces(isolation: Isolation, *, own_network: bool = False) -> list[str]:
    """The new namespaces. The network one is the submission's (:mod:`.network`), entered
    before bwrap runs, unless ``own_network`` asks bwrap for a fresh one per sandbox."""
    common = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session", "--as-pid-1"]
    if own_network:
        common.insert(0, "--unshare-net")
    if isolation is Isolation.BWRAP_ROOT:
        return common  # the user namespace comes after the privilege drop (payload_prefix)
    uid = str(SANDBOX_UID)
    return ["--unshare-user", "--uid", uid, "--gid", uid, "--disable-userns", *common]


def argv(bwrap: str, isolation: Isolation, read_only: list[Path], layout: Layout, *, payload: list[str],
         info_fd: int | None = None, own_network: bool = False, lifeline: int | None = None) -> list[str]:
    """The whole command: bwrap, mounts, the privilege drop, the agent, the payload."""
    out = [bwrap, *namespaces(isolation, own_network=own_network), *mounts(read_only, layout)]
    if layout.cwd is not None:
        out += ["--chdir", str(layout.cwd)]
    if info_fd is not None:
        out += ["--info-fd", str(info_fd)]
    agent = [sys.executable, "-I", "-S", str(AGENT), "--limit", f"nproc={PIDS_LIMIT * 2}",
             "--limit", f"fsize={FILE_LIMIT}", "--limit", "core=0"]
    if lifeline is not None:
        agent += ["--lifeline", str(lifeline)]
    return out + ["--", *payload_prefix(isolation), *agent, "--", *payload]


def probe_argv(bwrap: str, isolation: Isolation) -> list[str]:
    """The smallest sandbox of the same kind, running ``true``: does this machine allow it?"""
    from . import binds

    return argv(bwrap, isolation, binds.read_only(), Layout(), payload=["true"], own_network=True)
