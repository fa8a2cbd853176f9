"""One submission's sandbox: every process of the learner's starts through its :class:`Jail`.

The kernel that executes the notebook, the servers the instructor's tests start, the
test runners they call (``node --test``, ``go test``, pytest) and the builds before
them: each runs in a sandbox of its own (:mod:`.bwrap`, with :mod:`.agent` as PID 1),
all under the submission's :class:`~.limits.Confinement`. What a sandbox may write is
the submission's workspace, its private ``/tmp`` and private layers over the build
caches. Its network is the submission's own (:mod:`.network`): a Jail is used inside
:func:`~.network.isolated`, or — for one-off commands that need no network — with
``own_network=True``, where bwrap makes a fresh network namespace per sandbox.

``Jail`` with :data:`~.detect.Isolation.NONE` (``--no-sandbox``) runs the same
commands without bwrap, still under the confinement.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping

from .. import procs
from ..errors import ServerError
from . import binds, bwrap
from .detect import SANDBOX_UID, Capabilities, Isolation
from .limits import Confinement, disk_usage, snapshot

INFO_TIMEOUT = 15.0



def _transient(folder: str, names: list[str]) -> set[str]:
    """What a package manager running beside the grader writes and removes again (npm's
    ``_cacache/tmp``): not part of the cache, and gone before a copy reaches it."""
    return {"tmp"} & set(names) if os.path.basename(folder) == "_cacache" else set()


def _copy_if_still_there(src: str, dst: str) -> str:
    """A file the cache's own tool removed while the copy ran is not needed in the copy."""
    try:
        return shutil.copy2(src, dst)
    except FileNotFoundError:
        return dst

class SandboxedProcess:
    """A payload in a sandbox, seen from the grader much like a :class:`subprocess.Popen`.

    ``pid`` is the payload's own pid (not bwrap's), so ``os.kill(server.pid, SIGTERM)`` reaches
    the learner's server, as it would unsandboxed; ``returncode`` is the payload's status
    (a death by signal N reads as ``-N``, as Popen has it).
    """

    def __init__(self, popen: subprocess.Popen, agent_pid: int | None, lifeline: int | None = None):
        self.popen = popen
        self.agent_pid = agent_pid
        self.lifeline = lifeline  # its write end: closing it ends the sandbox
        self.pid = self._payload_pid() or popen.pid
        self.returncode: int | None = None

    def _payload_pid(self) -> int | None:
        if self.agent_pid is None:
            return None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.popen.poll() is None:
            children = [pid for pid, (ppid, _) in snapshot().items() if ppid == self.agent_pid]
            if children:
                return min(children)
            time.sleep(0.005)
        return None

    def _done(self, code: int) -> int:
        if self.returncode is None:
            self.returncode = from_agent(code)
        return self.returncode

    def poll(self) -> int | None:
        code = self.popen.poll()
        return None if code is None else self._done(code)

    def wait(self, timeout: float | None = None) -> int:
        return self._done(self.popen.wait(timeout))

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Everything in the sandbox: bwrap's group dies, and with it PID 1 and all below."""
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None
        procs.signal_group(self.popen, signal.SIGKILL)
        if self.agent_pid is not None:
            try:
                os.kill(self.agent_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self, *, grace: float, sig: int = signal.SIGTERM) -> int | None:
        """``sig`` to the payload, then after ``grace`` seconds the whole sandbox."""
        self.send_signal(sig)
        try:
            self.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        try:
            code = self.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
            code = None
        procs.forget(self.popen)
        return code


def from_agent(code: int) -> int:
    """The agent reports a death by signal N as 128+N (as PID 1 it cannot die of it): -N."""
    return -(code - 128) if 128 < code < 128 + 65 else code


def _read_info(fd: int, popen: subprocess.Popen) -> dict:
    """bwrap's ``--info-fd`` JSON (``child-pid`` is the agent, PID 1 inside)."""
    data = b""
    deadline = time.monotonic() + INFO_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                data += chunk
            elif popen.poll() is not None:
                break
    finally:
        os.close(fd)
    try:
        return json.loads(data)
    except ValueError:
        return {}


class Jail:
    """The sandbox policy of one submission, and every sandbox it started."""

    def __init__(self, caps: Capabilities, *, workspace: Path, private: Path, confinement: Confinement,
                 env: Mapping[str, str], caches: tuple[Path, ...] = (), package_caches: tuple[Path, ...] = (),
                 own_network: bool = False):
        self.caps = caps
        self.workspace = workspace
        self.private = private
        self.confinement = confinement
        self.env = dict(env)
        self.caches = tuple(c for c in caches if c.is_dir())  # shown writable, through private layers
        # npm's and Maven's caches: their tools rewrite files in place, which a layer over
        # root's files does not allow the sandbox's uid; as root they get a private copy instead
        self.package_caches = tuple(c for c in package_caches if c.is_dir())
        self._copies: dict[Path, Path] = {}
        self.own_network = own_network
        self._count = 0
        self._live: list[SandboxedProcess | subprocess.Popen] = []
        self._lifelines: list[int] = []  # write ends kept for sandboxes started by others (the kernel)
        self._root_mode = caps.isolation is Isolation.BWRAP_ROOT
        private.mkdir(parents=True, exist_ok=True)

    # -- file system -----------------------------------------------------------------
    def _own(self, path: Path) -> None:
        """As root, what the sandbox writes must belong to its uid (no links followed)."""
        if not self._root_mode:
            return
        os.chown(path, SANDBOX_UID, SANDBOX_UID, follow_symlinks=False)
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), SANDBOX_UID, SANDBOX_UID, follow_symlinks=False)

    def prepare_workspace(self) -> None:
        """Hand the freshly copied workspace to the sandbox's uid (as root)."""
        self._own(self.workspace)

    def own(self, path: Path) -> None:
        """What a test wrote into the workspace, handed to the sandbox's uid (as root)."""
        if path != self.workspace and self.workspace in path.parents:
            self._own(path)

    def _copied(self) -> tuple[tuple[Path, Path], ...]:
        """As root: the submission's own copy of each package cache, made once, shared by its
        sandboxes. What it holds at the start is the grader's doing, not the learner's: it does
        not count towards the disk limit."""
        if not self._root_mode:
            return ()
        for cache in self.package_caches:
            if cache not in self._copies:
                copy = self.private / "caches" / f"{len(self._copies)}-{cache.name}"
                shutil.copytree(cache, copy, symlinks=True, ignore=_transient, copy_function=_copy_if_still_there)
                self._own(copy)
                self.confinement.allow(disk_usage([copy], cap=1 << 40))
                self._copies[cache] = copy
        return tuple((copy, cache) for cache, copy in self._copies.items())

    def _overlays(self) -> tuple[bwrap.Overlay, ...]:
        """A private layer over each build cache, for one sandbox: learner code (and the tools it
        drives) may write there, but no write reaches the cache itself, so one submission can
        never poison another's builds. (overlayfs allows one mount per upper folder, and
        sandboxes of a submission run side by side: a layer per sandbox.)"""
        layers = []
        for cache in self.caches + (() if self._root_mode else self.package_caches):
            self._count += 1
            box = self.private / f"layer{self._count}"
            upper, work = box / "upper", box / "work"
            upper.mkdir(parents=True)
            work.mkdir()
            if self._root_mode:
                # overlayfs shows the lower layer's (root's) folders, where the sandbox's uid may
                # not create files; folders that exist in the upper layer show its owner instead
                for dirpath, dirnames, _files in os.walk(cache):
                    rel = Path(dirpath).relative_to(cache)
                    for name in dirnames:
                        (upper / rel / name).mkdir()
                self._own(box)
            layers.append(bwrap.Overlay(cache, upper, work, cache))
        return tuple(layers)

    # -- commands ----------------------------------------------------------------------
    def command(self, payload: list[str], *, cwd: Path, writable: tuple[Path, ...] = (),
                info_fd: int | None = None, lifeline: int | None = None) -> list[str]:
        """The argv that runs ``payload`` in a new sandbox (or, unsandboxed, confined only).

        ``lifeline``: the read end of a pipe whose write end the grader keeps: the agent ends
        the sandbox when it closes (or when the grader dies)."""
        if not self.caps.sandboxed:
            return [*self.confinement.prefix(), *payload]
        layout = bwrap.Layout(writable=(self.workspace, *writable), overlays=self._overlays(),
                              placed=self._copied(), cwd=cwd)
        argv = bwrap.argv(self.caps.bwrap, self.caps.isolation, binds.read_only(), layout, payload=payload,
                          info_fd=info_fd, own_network=self.own_network, lifeline=lifeline)
        return [*self.confinement.prefix(), *argv]

    def spawn(self, payload: list[str], *, cwd: Path, stdout=None, stderr=None, stdin=subprocess.DEVNULL,
              env: Mapping[str, str] | None = None) -> SandboxedProcess | subprocess.Popen:
        """Start ``payload`` in a new sandbox, under the submission's limits."""
        full_env = {**self.env, **(env or {})}
        if not self.caps.sandboxed:
            proc = procs.spawn(self.command(payload, cwd=cwd), cwd=cwd, env=full_env, stdout=stdout,
                               stderr=stderr, stdin=stdin)
            self.confinement.add_root(proc.pid)
            self._live.append(proc)
            return proc
        r, w = os.pipe()
        life_r, life_w = os.pipe()
        try:
            popen = procs.spawn(self.command(payload, cwd=cwd, info_fd=w, lifeline=life_r), env=full_env,
                                stdout=stdout, stderr=stderr, stdin=stdin, pass_fds=(w, life_r))
        except BaseException:
            os.close(r)
            os.close(life_w)
            raise
        finally:
            os.close(w)
            os.close(life_r)
        self.confinement.add_root(popen.pid)
        proc = SandboxedProcess(popen, _read_info(r, popen).get("child-pid"), life_w)
        self._live.append(proc)
        return proc

    def run(self, payload: list[str], *, cwd: Path, timeout: float | None = 60.0,
            env: Mapping[str, str] | None = None, echo=None) -> procs.RunResult:
        """Run ``payload`` to completion in a new sandbox (a test runner, a build)."""
        life = os.pipe() if self.caps.sandboxed else None
        try:
            result = procs.run(self.command(payload, cwd=cwd, lifeline=life[0] if life else None), cwd=cwd,
                               env={**self.env, **(env or {})}, timeout=timeout, echo=echo,
                               on_start=lambda p: self.confinement.add_root(p.pid),
                               pass_fds=(life[0],) if life else ())
        finally:
            for fd in life or ():  # (a daemon it left behind ends with it)
                os.close(fd)
        if self.caps.sandboxed and result.returncode is not None:
            result.returncode = from_agent(result.returncode)
        return result

    def serve(self, name: str, language: str, source: Path, *, log_path: Path,
              env: Mapping[str, str] | None = None, ready_timeout: float = 30.0):
        """Build and start the learner's saved ``source`` in a sandbox; wait until it listens."""
        from .. import servers

        port = procs.free_port()
        env = {**(env or {}), "PORT": str(port), "HOST": "127.0.0.1"}
        payload = [sys.executable, "-m", "course.runners.launch", language, str(source)]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(log_path, "wb") as log:
            proc = self.spawn(payload, cwd=self.workspace, stdout=log, stderr=subprocess.STDOUT, env=env)
        state = procs.wait_for_port(port, proc, ready_timeout)
        if state != "ready":
            self.stop(proc, grace=1)
            tail = procs.tail(log_path, 25)
            if state == "exited":
                raise ServerError(f"server {name!r} exited with status {proc.returncode} before it listened "
                                  f"on port {port}. Last lines of its log:\n{tail}")
            raise ServerError(f"server {name!r} never answered on port {port} within {ready_timeout:g} s. "
                              f"Does it listen on the PORT environment variable (not a hard-coded port)? "
                              f"Last lines of its log:\n{tail}")
        return servers.Server(name, language, port, proc, log_path, time.time(), time.monotonic() - started)

    def stop(self, proc, *, grace: float = 2.0, sig: int = signal.SIGTERM) -> int | None:
        return procs.stop(proc, grace=grace, sig=sig)

    # -- the kernel ------------------------------------------------------------------------
    def kernel_manager_class(self):
        """A jupyter_client KernelManager whose kernel starts in this jail. It talks over Unix
        sockets in a folder of its own: no TCP port, and no "unencrypted TCP" warning."""
        from jupyter_client.manager import AsyncKernelManager

        jail = self

        class JailedKernelManager(AsyncKernelManager):
            def __init__(self, **kw):
                super().__init__(**kw)
                self._box = jail.private / "kernel"
                self._box.mkdir(exist_ok=True)
                self.transport = "ipc"
                self.ip = str(self._box / "k")
                self.connection_file = str(self._box / "kernel.json")

            def write_connection_file(self, **kw):
                super().write_connection_file(**kw)
                jail._own(self._box)  # the kernel (the sandbox's uid) reads it and makes its sockets here

            def format_kernel_cmd(self, extra_arguments=None):
                cmd = super().format_kernel_cmd(extra_arguments)
                life = None
                if jail.caps.sandboxed:
                    life = os.pipe()
                    jail._lifelines.append(life[1])  # closed by jail.close(): the kernel's sandbox ends
                    self._lifeline_r = life[0]
                argv = jail.command(cmd, cwd=jail.workspace, writable=(self._box,),
                                    lifeline=life[0] if life else None)
                prefix = [procs.SETPRIV, "--pdeathsig", "KILL", "--"] if procs.SETPRIV else []
                return [*prefix, *argv]

            async def _async_launch_kernel(self, kernel_cmd, **kw):
                kw["env"] = dict(jail.env)  # nothing of the grader's environment
                # no JPY_PARENT_PID: the agent (PID 1) is the kernel's parent, which ipykernel's
                # parent poller would take for "orphaned"; the kernel dies with its sandbox anyway
                kw["independent"] = True
                life_r = getattr(self, "_lifeline_r", None)
                if life_r is not None:
                    kw["pass_fds"] = (life_r,)
                try:
                    await super()._async_launch_kernel(kernel_cmd, **kw)
                finally:
                    if life_r is not None:
                        os.close(life_r)
                        self._lifeline_r = None
                jail.confinement.add_root(self.provisioner.process.pid)

        return JailedKernelManager

    # -- the end ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every sandbox this jail started (and whatever is left in the confinement)."""
        for proc in self._live:
            try:
                if isinstance(proc, SandboxedProcess):
                    proc.kill()
                    proc.wait(timeout=5)
                else:
                    procs.stop(proc, grace=0)
            except (subprocess.TimeoutExpired, OSError):
                pass
        self._live.clear()
        for fd in self._lifelines:
            os.close(fd)
        self._lifelines.clear()
        self.confinement.kill_all()
