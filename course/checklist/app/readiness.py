"""Is the app up? Wait until its port speaks HTTP, and say precisely why not.

A port that accepts connections is not enough (a half-started JVM, a non-HTTP server):
the app is ready when ``GET /health`` gets *any* HTTP answer. Every way of not getting
there — exited, silent, garbage, wrong port — has its own message.
"""
from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from ... import procs
from .errors import AppStartError
from .ports import listening_ports

if TYPE_CHECKING:
    from .process import AppProcess

PROBE_TIMEOUT = 5.0  # one readiness request


def _probe_http(host: str, port: int, timeout: float) -> tuple[str, bytes]:
    """One raw ``GET /health``: ``("http", head)``, ``("garbage", bytes)``, ``("closed", b"")``,
    ``("silent", b"")`` (no byte within ``timeout``) or ``("refused", b"")``."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return "refused", b""
    with sock:
        try:
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: course-check\r\n"
                         "Accept: application/json\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while len(data) < 5:
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            return ("silent", b"") if not data else ("garbage", data)
        except OSError:
            return "closed", data
    if not data:
        return "closed", b""
    if data.startswith(b"HTTP/"):
        return "http", data
    return "garbage", data


def wait_ready(app: AppProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    state = procs.wait_for_port(app.port, app.proc, timeout, host=app.host)
    if state == "exited":
        raise _exited(app)
    if state == "timeout":
        raise _never_answered(app, timeout)
    last = "refused"
    while True:
        kind, data = _probe_http(app.host, app.port, min(PROBE_TIMEOUT, max(0.5, deadline - time.monotonic())))
        if kind == "http":
            return
        if kind == "garbage":
            raise AppStartError(
                f"Port {app.port} accepts connections but does not speak HTTP: to `GET /health` it answered "
                f"{data[:120]!r}. The `web:` process must run an HTTP server on $PORT.", app.tail())
        last = kind
        if app.proc.poll() is not None:
            raise _exited(app)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if last == "silent":
        why = "accepts connections but never answers an HTTP request (no byte back within 5 s)"
    elif last == "closed":
        why = "accepts connections but closes them without an HTTP answer"
    else:
        why = "stopped accepting connections"
    raise AppStartError(f"Port {app.port} {why} (waited {timeout:.0f} s for `GET /health`).", app.tail())


def _exited(app: AppProcess) -> AppStartError:
    app.logs.close(timeout=1)
    app.stderr.close(timeout=1)
    code = app.proc.returncode
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
    return AppStartError(f"The app {how} before answering on port {app.port} "
                         f"(web: {app.prepared.spec.line}).", app.tail())


def _never_answered(app: AppProcess, timeout: float) -> AppStartError:
    others = [p for p in listening_ports(app.proc.pid) if p != app.port]
    msg = (f"The app never answered on port {app.port} within {timeout:.0f} s. The checker gives it "
           f"PORT={app.port} and HOST=127.0.0.1: listen on the port from the environment "
           "(process.env.PORT, os.environ['PORT'], os.Getenv(\"PORT\"), server.port=${PORT}).")
    if others:
        msg += f" It listens on {', '.join(map(str, others))} instead — a hard-coded port?"
    return AppStartError(msg, app.tail())
