"""Background servers in every language: start, probe over HTTP, stop; and how starts fail."""
from __future__ import annotations

import socket

import httpx
import pytest

from course import procs, runners, servers
from course.errors import ServerError

from helpers import PROGRAMS, alive, needs

LANGS = [pytest.param(lang, marks=needs(lang), id=lang) for lang in PROGRAMS]


@pytest.fixture(autouse=True)
def no_leftovers():
    yield
    servers.stop_all(grace=1)


@pytest.mark.parametrize("lang", LANGS)
def test_server_start_probe_stop(lang):
    server = servers.start(f"t-{lang}", runners.get(lang), PROGRAMS[lang]["server"])
    assert server.running
    response = httpx.get(server.url, timeout=5)
    assert response.status_code == 200
    assert response.text == f"hello from {lang}"
    pid = server.pid
    servers.stop(server.name)
    assert not alive(pid)
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=2)


def test_server_that_exits_before_binding_shows_its_log():
    source = "import sys\nprint('loading config...')\nsys.exit('DATABASE_URL is not set')"
    with pytest.raises(ServerError) as info:
        servers.start("early-exit", runners.get("python"), source, ready_timeout=10)
    message = str(info.value)
    assert "exited with status 1 before it listened" in message
    assert "DATABASE_URL is not set" in message and "loading config" in message
    assert servers.all_servers() == []


def test_server_on_the_wrong_port_times_out_with_a_hint():
    source = "import time\nprint('listening on 8000 (hard-coded)', flush=True)\ntime.sleep(60)"
    live_before = set(procs._LIVE)
    with pytest.raises(ServerError) as info:
        servers.start("wrong-port", runners.get("python"), source, ready_timeout=1.5)
    assert "never answered on port" in str(info.value)
    assert "PORT environment variable" in str(info.value)
    assert set(procs._LIVE) == live_before


def test_port_in_use_moves_to_another_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        server = servers.start("moved", runners.get("python"), PROGRAMS["python"]["server"], port=taken)
        assert server.port != taken
        assert httpx.get(server.url, timeout=5).text == "hello from python"


def test_restarting_a_name_replaces_the_old_server():
    first = servers.start("again", runners.get("python"), PROGRAMS["python"]["server"])
    second = servers.start("again", runners.get("python"), PROGRAMS["python"]["server"])
    assert not alive(first.pid) and alive(second.pid)
    assert [s.name for s in servers.all_servers()] == ["again"]


def test_unknown_server_name_is_a_clear_error():
    with pytest.raises(ServerError, match="no server named 'nope'"):
        servers.stop("nope")


@needs("node")
def test_log_records_waits_for_a_line_written_after_the_response():
    """A server that logs a request half a second after answering it (as an async logger may):
    log_records(until=...) waits for that line; without `until` it reads what is there now."""
    source = r"""
const http = require('http');
console.log('not json');
http.createServer((req, res) => {
  res.end('ok');
  setTimeout(() => console.log(JSON.stringify({ path: req.url, msg: 'late' })), 500);
}).listen(process.env.PORT, process.env.HOST);
"""
    server = servers.start("t-late-log", runners.get("node"), source)
    assert httpx.get(server.url + "/x", timeout=5).text == "ok"
    assert server.log_records() == []
    records = server.log_records(until=lambda r: r.get("path") == "/x", timeout=5)
    assert records == [{"path": "/x", "msg": "late"}]
    # a record that never comes: returns what there is once the timeout passes
    assert server.log_records(until=lambda r: r.get("path") == "/never", timeout=0.2) == records
