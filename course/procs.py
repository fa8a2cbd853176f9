"""Child processes that cannot outlive us, cannot block us, and cannot flood us.

Everything the course runs on a learner's behalf (snippets, servers, the apps that
``course check`` probes) goes through here, because the same three accidents would
otherwise happen everywhere:

* **orphans** — a kernel killed by nbval leaves its servers running. Each child gets
  its own session (so we can kill its whole process group) and a parent-death signal
  (``PR_SET_PDEATHSIG``), and an ``atexit`` hook stops whatever is still alive.
* **blocking** — a child writing to a pipe nobody reads stalls. :func:`run` drains
  both pipes in the calling thread with a selector; servers write to log files.
* **floods** — 50 MB of output would freeze a notebook. :func:`run` shows a bounded
  head, keeps a bounded tail of stderr for error messages, and discards the rest.
"""
from __future__ import annotations

import atexit
import codecs
import ctypes
import ctypes.util
import dataclasses
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

PR_SET_PDEATHSIG = 1
DEFAULT_OUTPUT_LIMIT = 256 * 1024  # bytes shown per stream before truncation
TAIL_BYTES = 8 * 1024  # bytes of stderr kept for error messages

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
# util-linux's setpriv sets the parent-death signal and execs the program: the same
# guarantee as a preexec_fn, without running Python in the forked child (which forces a
# full fork of the kernel process and costs ~7 ms a cell). preexec_fn stays the fallback,
# and is used whenever resource limits are asked for.
SETPRIV = shutil.which("setpriv")
_LIVE: dict[int, subprocess.Popen] = {}


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits applied in the child before exec (``None`` = inherit).

    ``memory_bytes`` limits the address space (RLIMIT_AS): fine for Python and
    native binaries, but the JVM, Node and Go reserve large virtual ranges, so
    callers size it generously for those.
    """

    cpu_seconds: int | None = None
    memory_bytes: int | None = None
    file_bytes: int | None = None
    processes: int | None = None
    open_files: int | None = None

    def apply(self) -> None:
        for value, which in (
            (self.cpu_seconds, resource.RLIMIT_CPU),
            (self.memory_bytes, resource.RLIMIT_AS),
            (self.file_bytes, resource.RLIMIT_FSIZE),
            (self.processes, resource.RLIMIT_NPROC),
            (self.open_files, resource.RLIMIT_NOFILE),
        ):
            if value is not None:
                resource.setrlimit(which, (value, value))


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent ends (a forked child's guarantee)."""
    parent = os.getppid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(137)


def _preexec(parent_pid: int, limits: Limits | None) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # parent died before prctl took effect
            os._exit(137)
        if limits is not None:
            limits.apply()

    return setup


def spawn(
    argv: list[str],
    *,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    stdout=None,
    stderr=None,
    stdin=subprocess.DEVNULL,
    limits: Limits | None = None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen:
    """Start ``argv`` in a new session, tied to our life, and remember it for cleanup."""
    preexec = None
    if limits is None and SETPRIV:
        argv = [SETPRIV, "--pdeathsig", "KILL", "--", *argv]
    else:
        preexec = _preexec(os.getpid(), limits)
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=preexec,
        close_fds=True,
        pass_fds=pass_fds,
    )
    _LIVE[proc.pid] = proc
    return proc


def forget(proc: subprocess.Popen) -> None:
    """Stop tracking ``proc`` (someone else has stopped it)."""
    _LIVE.pop(proc.pid, None)


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the child's whole process group (it leads its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_until_gone(members: Callable[[], Iterable[int]], *, tries: int = 50, pause: float = 0.05) -> None:
    """SIGKILL every pid ``members()`` names, again and again, until it names none.

    For a set of processes that is not one process group (a cgroup, a watched tree):
    a fork bomb keeps adding members while it is being killed.
    """
    for _ in range(tries):
        pids = set(members())
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(pause)


def group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists (zombies included)."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def proc_stats() -> Iterator[tuple[int, list[bytes]]]:
    """``(pid, fields of /proc/PID/stat after the command name)`` for every live process
    readable in /proc. Zombies are left out: they hold no memory and cannot be killed again.
    The command name may hold spaces and parentheses, so the fields start after its last one
    (``fields[0]`` is the state, ``[1]`` the ppid, ``[2]`` the process group)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields and fields[0] not in (b"Z", b"X"):
            yield int(entry.name), fields


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of group ``pgid``, from /proc."""
    group = str(pgid).encode()
    return [pid for pid, fields in proc_stats() if len(fields) > 2 and fields[2] == group]


def kill_group_until_gone(pgid: int) -> None:
    """SIGKILL group ``pgid`` until none of it is alive: a signal is delivered asynchronously,
    and a caller that then asserts "nothing left" must not race the kernel."""
    if group_alive(pgid):  # (the common case, an empty group, costs one syscall)
        kill_until_gone(lambda: _group_members(pgid))


def stop(proc: subprocess.Popen, *, grace: float = 5.0, sig: int = signal.SIGTERM) -> int | None:
    """Ask the group to stop with ``sig``; SIGKILL it after ``grace`` seconds.

    Returns the leader's exit status. The whole group is killed at the end either
    way, so helpers the leader spawned (a worker, a child shell) never linger. A child
    that is not a Popen (a sandboxed process) stops itself the same way.
    """
    if not isinstance(proc, subprocess.Popen):
        return proc.stop(grace=grace, sig=sig)
    if proc.poll() is None:
        signal_group(proc, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    signal_group(proc, signal.SIGKILL)
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
        code = None
    kill_group_until_gone(proc.pid)
    _LIVE.pop(proc.pid, None)
    return code


def stop_all() -> None:
    """Kill every child still alive (atexit, ``%stop --all``)."""
    for proc in list(_LIVE.values()):
        stop(proc, grace=0.5)


atexit.register(stop_all)


def free_port(host: str = "127.0.0.1", avoid: Iterable[int] = ()) -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    avoid = set(avoid)
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(
    port: int, proc: subprocess.Popen | None, timeout: float, host: str = "127.0.0.1"
) -> str:
    """Poll until ``port`` accepts a connection: ``"ready"``, ``"exited"`` or ``"timeout"``."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if proc is not None and proc.poll() is not None:
            return "exited"
        if port_in_use(port, host):
            return "ready"
        if time.monotonic() > deadline:
            return "timeout"
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


def tail(path: str | os.PathLike, lines: int = 20, max_bytes: int = 16 * 1024) -> str:
    """The last ``lines`` lines of a (log) file, read from its end."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


@dataclasses.dataclass
class RunResult:
    argv: list[str]
    returncode: int | None
    duration: float
    timed_out: bool = False
    truncated: bool = False
    stdout: str = ""  # head that was shown (bounded)
    stderr_tail: str = ""  # last TAIL_BYTES of stderr, for error messages

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def killed_by(self) -> str | None:
        if self.returncode is not None and self.returncode < 0:
            return signal.Signals(-self.returncode).name
        return None


def _default_echo(stream: str, text: str) -> None:
    target = sys.stdout if stream == "stdout" else sys.stderr
    target.write(text)
    target.flush()


def run(
    argv: list[str],
    *,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 60.0,
    echo: Callable[[str, str], None] | None = _default_echo,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    limits: Limits | None = None,
    on_start: Callable[[subprocess.Popen], None] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> RunResult:
    """Run ``argv`` to completion, streaming its output live through ``echo``.

    Output beyond ``output_limit`` bytes per stream is read and dropped (the child
    never blocks on a full pipe) and a note says how much was dropped. On timeout
    the whole process group is killed.
    """
    start = time.monotonic()
    proc = spawn(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, limits=limits,
                 pass_fds=pass_fds)
    if on_start is not None:
        on_start(proc)
    sel = selectors.DefaultSelector()
    decoders = {}
    shown = {"stdout": 0, "stderr": 0}
    dropped = {"stdout": 0, "stderr": 0}
    head: list[str] = []
    err_tail: deque[bytes] = deque()
    err_tail_len = 0
    for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ, name)
        decoders[name] = codecs.getincrementaldecoder("utf-8")("replace")
    deadline = None if timeout is None else start + timeout
    timed_out = False
    open_streams = 2
    while open_streams:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        events = sel.select(timeout=min(wait, 0.5) if wait is not None else 0.5)
        for key, _ in events:
            name = key.data
            try:
                data = os.read(key.fileobj.fileno(), 65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            if name == "stderr":
                err_tail.append(data)
                err_tail_len += len(data)
                while err_tail_len - len(err_tail[0]) > TAIL_BYTES:
                    err_tail_len -= len(err_tail.popleft())
            room = output_limit - shown[name]
            if room <= 0:
                dropped[name] += len(data)
                continue
            part = data[:room]
            dropped[name] += len(data) - len(part)
            shown[name] += len(part)
            text = decoders[name].decode(part)
            if name == "stdout" and len(head) < 4096:
                head.append(text)
            if echo is not None and text:
                echo(name, text)
        if deadline is not None and time.monotonic() > deadline and proc.poll() is None:
            timed_out = True
            break
        if not events and proc.poll() is not None and open_streams:
            # the leader exited but a grandchild may hold the pipes open: give it a moment
            if time.monotonic() - start > 0 and _drain_grace(proc):
                break
    sel.close()
    if timed_out or proc.poll() is None:
        stop(proc, grace=0)
    else:
        signal_group(proc, signal.SIGKILL)  # reap stragglers sharing the group
        _LIVE.pop(proc.pid, None)
    proc.wait()
    kill_group_until_gone(proc.pid)
    for pipe in (proc.stdout, proc.stderr):
        pipe.close()
    truncated = any(dropped.values())
    if truncated and echo is not None:
        total = sum(dropped.values())
        echo("stderr", f"\n[course] output truncated: {total:,} more bytes were discarded "
                       f"(limit {output_limit:,} bytes per stream)\n")
    return RunResult(
        argv=list(argv),
        returncode=proc.returncode,
        duration=time.monotonic() - start,
        timed_out=timed_out,
        truncated=truncated,
        stdout="".join(head),
        stderr_tail=b"".join(err_tail)[-TAIL_BYTES:].decode("utf-8", "replace"),
    )


_exit_seen: dict[int, float] = {}


def _drain_grace(proc: subprocess.Popen, grace: float = 0.5) -> bool:
    """True once the leader has been dead for ``grace`` s while pipes stay open."""
    first = _exit_seen.setdefault(proc.pid, time.monotonic())
    if time.monotonic() - first > grace:
        _exit_seen.pop(proc.pid, None)
        return True
    return False


def which_in(path_dirs: Iterable[str | Path], name: str) -> str | None:
    for d in path_dirs:
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None
