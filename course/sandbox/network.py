"""A network of the submission's own: a fresh network namespace with loopback only.

Each submission is graded in a child of the grading worker that first moves into a new
network namespace (:func:`isolated`). Its sandboxes inherit it: the learner's kernel,
its servers, the servers under test and the instructor's tests all meet on that
127.0.0.1 — with the network's real behaviour (a stopped upstream refuses, a stalled
one hangs) — while nothing of the host's 127.0.0.1 exists there. The only way out is
the database: a relay listens on the database's port inside and forwards to the
server's Unix socket outside, where the role's password is still asked for.

As root the child needs nothing else; as a normal user it first enters a user namespace
that maps only its own uid (allowed by default on Debian and Ubuntu).
"""
from __future__ import annotations

import asyncio
import ctypes
import fcntl
import os
import pickle
import socket
import struct
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
CHUNK = 65536


class NetworkUnavailable(OSError):
    """No private network namespace can be made here."""


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise NetworkUnavailable(err, f"unshare: {os.strerror(err)}")


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def enter() -> None:
    """Move this (single-threaded) process into a new network namespace with loopback up."""
    if os.geteuid() == 0:
        _unshare(CLONE_NEWNET)
    else:
        uid, gid = os.geteuid(), os.getegid()
        _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _loopback_up()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        pass


Address = tuple  # ("tcp", host, port) or ("unix", path)


async def _open(target: Address):
    if target[0] == "unix":
        return await asyncio.open_unix_connection(str(target[1]))
    return await asyncio.open_connection(target[1], target[2])


class Relay:
    """Forward every connection to ``listen`` to ``target``, on a thread of its own.

    In a submission's network: 127.0.0.1:PORT → the database's Unix socket. In the worker,
    for a database server elsewhere: a Unix socket → its TCP address (the submission's
    network has no route out, but the file system reaches the worker)."""

    def __init__(self, listen: Address, target: Address):
        self.listen, self.target = listen, target
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start():
            if listen[0] == "unix":
                self._server = await asyncio.start_unix_server(self._handle, path=str(listen[1]))
            else:
                self._server = await asyncio.start_server(self._handle, listen[1], listen[2])
            ready.set()

        self._thread = threading.Thread(target=self._run, args=(start,), name="relay", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise NetworkUnavailable(0, f"the relay on {listen} did not start")

    def _run(self, start) -> None:
        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        try:
            far_r, far_w = await _open(self.target)
        except OSError:
            writer.transport.abort()
            return
        try:
            await asyncio.gather(_pipe(reader, far_w), _pipe(far_r, writer))
        finally:
            far_w.close()
            writer.close()


def isolated(fn: Callable[..., Any], *args, relays: dict[int, Path] | None = None, private: bool = True) -> Any:
    """Run ``fn(*args)`` in a forked child inside a private network; return its result.

    ``relays`` (port → Unix socket) are reachable on the child's 127.0.0.1. The child dies
    with us; its exceptions come back as a :class:`RuntimeError` carrying its traceback.
    ``private=False`` (``--no-sandbox``): the child keeps our network, and needs no relays.
    """
    from .. import procs

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: single-threaded until it starts threads of its own
        code = 0
        try:
            os.close(r)
            procs.die_with_parent()
            if private:
                enter()
                for port, path in (relays or {}).items():
                    Relay(("tcp", "127.0.0.1", port), ("unix", path))
            payload = ("ok", fn(*args))
        except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
            payload, code = ("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()[-3000:]}"), 1
        try:
            with os.fdopen(w, "wb") as out:
                pickle.dump(payload, out)
        finally:
            os._exit(code)  # no atexit hooks: they belong to the parent
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the grading child died without an answer (killed by a limit?)")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise RuntimeError(value)
    return value
