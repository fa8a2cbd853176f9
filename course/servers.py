"""Background servers started from cells (``%%node --serve api``).

A server gets a free port in ``PORT`` (and ``HOST=127.0.0.1``), writes to a log file,
and counts as started only once its port accepts connections. Starting a name
that is already running restarts it, which is what re-running a cell should do.
"""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Callable, Mapping

from . import paths, procs
from .errors import ServerError
from .runners.base import Runner, _merged

PORT_TAKEN = re.compile(r"EADDRINUSE|address already in use|Address already in use|BindException", re.I)
DEFAULT_READY_TIMEOUT = 30.0


@dataclasses.dataclass
class Server:
    name: str
    language: str
    port: int
    proc: subprocess.Popen
    log_path: Path
    started_at: float
    ready_after: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def logs(self, lines: int = 40) -> str:
        return procs.tail(self.log_path, lines)

    def log_records(self, until: Callable[[dict], bool] | None = None, timeout: float = 5.0) -> list[dict]:
        """The server's JSON log lines, parsed (other lines are skipped).

        With ``until``, wait up to ``timeout`` seconds for a record that satisfies it: loggers such
        as pino write asynchronously, so the line about a request may land after its response.
        """
        deadline = time.monotonic() + timeout
        while True:
            records = []
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        continue  # a line still being written
            if until is None or any(until(r) for r in records) or time.monotonic() > deadline:
                return records
            time.sleep(0.05)


_SERVERS: dict[str, Server] = {}


def start(
    name: str,
    runner: Runner,
    source: str,
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    ready_timeout: float = DEFAULT_READY_TIMEOUT,
    build_timeout: float = 120.0,
) -> Server:
    """Build ``source``, start it with ``PORT`` set, and wait until it accepts connections."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ServerError(f"server name {name!r}: use letters, digits, '.', '_' or '-'")
    if name in _SERVERS:
        stop(name)
    program = runner.build(source, server=True, timeout=build_timeout)
    log_dir = paths.scratch() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    tried: list[int] = []
    for _attempt in range(3):
        if port is None or port in tried or procs.port_in_use(port):
            chosen = procs.free_port(avoid=tried)
        else:
            chosen = port
        tried.append(chosen)
        started = time.monotonic()
        with open(log_path, "wb") as log:
            proc = procs.spawn(
                program.argv,
                cwd=program.cwd,
                env=_merged({**program.env, **(env or {}), "PORT": str(chosen), "HOST": "127.0.0.1"}),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        state = procs.wait_for_port(chosen, proc, ready_timeout)
        if state == "ready":
            server = Server(name, runner.language, chosen, proc, log_path, time.time(),
                            time.monotonic() - started)
            _SERVERS[name] = server
            return server
        procs.stop(proc, grace=1)
        log_tail = procs.tail(log_path, 25)
        if state == "exited" and PORT_TAKEN.search(log_tail):
            continue  # somebody took the port between our pick and its bind: pick another
        if state == "exited":
            raise ServerError(f"server {name!r} exited with status {proc.returncode} before it "
                              f"listened on port {chosen}. Last lines of its log:\n{log_tail}")
        raise ServerError(
            f"server {name!r} never answered on port {chosen} within {ready_timeout:g} s. "
            f"Does it listen on the PORT environment variable (not a hard-coded port)? "
            f"Last lines of its log:\n{log_tail}")
    raise ServerError(f"server {name!r}: ports {tried} were all taken. Last lines of its log:\n"
                      f"{procs.tail(log_path, 25)}")


def get(name: str) -> Server:
    try:
        return _SERVERS[name]
    except KeyError:
        known = ", ".join(_SERVERS) or "none are running"
        raise ServerError(f"no server named {name!r} ({known})") from None


def all_servers() -> list[Server]:
    return list(_SERVERS.values())


def stop(name: str, grace: float = 5.0) -> int | None:
    """Stop one server (SIGTERM, then SIGKILL to its group after ``grace`` s)."""
    server = get(name)
    del _SERVERS[name]
    return procs.stop(server.proc, grace=grace)


def stop_all(grace: float = 5.0) -> list[str]:
    names = list(_SERVERS)
    for name in names:
        stop(name, grace=grace)
    return names


def describe() -> str:
    """A small table of servers for ``%servers``."""
    if not _SERVERS:
        return "no servers running"
    rows = [("NAME", "LANG", "URL", "PID", "STATE", "UPTIME")]
    for s in _SERVERS.values():
        state = "running" if s.running else f"exited ({s.proc.returncode})"
        rows.append((s.name, s.language, s.url, str(s.pid), state, f"{time.time() - s.started_at:.0f}s"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)

