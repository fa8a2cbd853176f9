"""The checker's HTTP probe against servers that misbehave on the wire.

Each server here is a raw socket on loopback that does one bad thing forever (or for
far longer than the probe may wait): trickle the body, trickle the headers, send an
endless body. The probe must come back with a verdict it can report, never hang.
No wall-clock assertions: a request that was cut says so in its error.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import pytest

from course.checklist import probe
from course.checklist.model import Target

RUN_FOR_S = 20.0  # how long a misbehaving server keeps going (far past any request's time)


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each to ``handle(conn)`` in a thread."""

    def __init__(self, handle: Callable[[socket.socket], None]):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request (small, one read)
                self.handle(conn)
            except OSError:  # the probe hung up: that is the point
                pass

    def trickle(self, conn: socket.socket, data: bytes, every: float = 0.2) -> None:
        """Send ``data`` a byte at a time, then keep sending, until stopped."""
        ends = time.monotonic() + RUN_FOR_S
        for byte in (data + b"x" * 10_000):
            if self.stop.is_set() or time.monotonic() > ends:
                return
            conn.sendall(bytes([byte]))
            time.sleep(every)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def server():
    made: list[RawServer] = []

    def make(handle):
        made.append(RawServer(handle))
        return made[-1]

    yield make
    for s in made:
        s.close()


def probe_for(srv: RawServer, **kw) -> probe.Probe:
    target = Target(base_url=f"http://127.0.0.1:{srv.port}", host="127.0.0.1", port=srv.port, env={},
                    proc=None, logs=None, db=None)
    return probe.Probe(target, "error-handling", **kw)


def test_a_trickled_body_is_cut_at_the_request_deadline(server):
    srv = server(lambda conn: (conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),
                               srv.trickle(conn, b"")))
    p = probe_for(srv)
    ex = p.get("/slow", timeout=1.0)  # each byte comes well within 1 s: only a deadline ends this
    p.close()
    assert not ex.answered and ex.error.startswith("DeadlineExceeded"), ex.error
    assert "got no answer (DeadlineExceeded" in ex.outcome()


def test_trickled_headers_are_cut_too(server):
    srv = server(lambda conn: srv.trickle(conn, b"HTTP/1.1 200 OK\r\nX-Slow: "))
    p = probe_for(srv)
    ex = p.get("/slow-headers", timeout=1.0)
    p.close()
    assert not ex.answered and ex.error.startswith("DeadlineExceeded"), ex.error


def test_trickled_headers_on_a_kept_alive_connection_are_cut_too(server):
    def first_fine_then_trickle(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        conn.recv(65536)  # the second request, on the same connection
        srv.trickle(conn, b"HTTP/1.1 200 OK\r\nX-Slow: ")

    srv = server(first_fine_then_trickle)
    p = probe_for(srv)
    first = p.get("/one", timeout=1.0)
    second = p.get("/two", timeout=1.0)
    p.close()
    assert first.status == 200 and first.content == b"ok"
    assert not second.answered and second.error.startswith("DeadlineExceeded"), second.error


def test_a_silent_server_is_a_plain_timeout(server):
    srv = server(lambda conn: srv.stop.wait(RUN_FOR_S))
    p = probe_for(srv)
    ex = p.get("/silent", timeout=0.5)
    p.close()
    assert not ex.answered and ex.error.startswith("ReadTimeout"), ex.error


def test_an_endless_body_is_read_up_to_the_cap(server):
    def endless(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")  # no length: until close
        chunk = b"y" * 65536
        for _ in range(4 * probe.BODY_CAP // len(chunk)):
            conn.sendall(chunk)

    srv = server(endless)
    p = probe_for(srv)
    ex = p.get("/big", timeout=10.0)
    p.close()
    assert ex.status == 200 and ex.truncated and len(ex.content) == probe.BODY_CAP
    assert ex.to_evidence()["response"]["body_cut_at_bytes"] == probe.BODY_CAP


def test_a_normal_answer_is_whole(server):
    body = b'{"status": "ok"}'
    srv = server(lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           b"Content-Length: %d\r\n\r\n" % len(body) + body))
    p = probe_for(srv)
    ex = p.get("/health")
    p.close()
    assert ex.status == 200 and ex.json() == {"status": "ok"} and not ex.truncated and ex.error is None


def test_read_capped():
    assert probe.read_capped(iter([b"ab", b"cd"]), 10) == (b"abcd", False)
    assert probe.read_capped(iter([b"ab", b"cd"]), 4) == (b"abcd", False)
    assert probe.read_capped(iter([b"ab", b"cd", b"ef"]), 3) == (b"abc", True)
