"""The checklist engine on bad input and misbehaving apps, with tiny throwaway apps.

Each app is a one-file Python server written into ``tmp_path`` and started through
its Procfile exactly as a learner's app would be. The checks are fakes (the real
ones are tested elsewhere): here we test what the engine promises — clear
messages, exit codes, phases, and that no process or database survives a run.
"""
from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from course import paths, procs
from course.checklist import app as app_mod
from course.checklist import cli, engine, report
from course.checklist.app import LOG_CAP
from course.postgres import EmbeddedPostgres
from course.checklist.model import Item, Result
from course.errors import CourseError

IDS = ("error-handling", "logging", "cors", "metrics", "health-check", "graceful-shutdown")
ITEMS = [Item(i, i.replace("-", " ").title(), "why", ()) for i in IDS]
REAL_CACHE = paths.CACHE  # the initdb template is shared and worth keeping; app builds are not
REPORT_KEYS = {"app", "status", "score", "max_score", "duration_s", "items"}
ITEM_KEYS = {"id", "title", "status", "score", "max_score", "message", "evidence", "duration_s"}

# A minimal contract-following server: /health answers with what the app sees.
SERVER = r'''
import json, os, sys, http.server, threading
import psycopg
open("pid", "w").write(str(os.getpid()))
conn = psycopg.connect(os.environ["DATABASE_URL"], application_name="tiny-app")
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global conn
        with lock:
            try:
                users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
            except psycopg.OperationalError:  # terminated while the database was blocked
                conn = psycopg.connect(os.environ["DATABASE_URL"], application_name="tiny-app")
                users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        body = json.dumps({"status": "ok", "client": self.client_address[0], "users": users,
                           "python": sys.prefix,
                           "env": {k: os.environ.get(k) for k in ("HOST", "PORT", "DB_POOL_MAX", "CORS_ORIGINS",
                           "RATE_LIMIT_MAX", "RATE_LIMIT_WINDOW_MS", "LOG_LEVEL", "NODE_ENV")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print(json.dumps({"level": "info", "msg": fmt % args}), flush=True)
port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else int(os.environ["PORT"])
http.server.ThreadingHTTPServer((os.environ["HOST"], port), H).serve_forever()
'''


def make_app(tmp_path: Path, source: str, procfile: str = "web: python app.py", name: str = "app") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "app.py").write_text(textwrap.dedent(source))
    (d / "Procfile").write_text(procfile + "\n")
    return d


def pids_of(app_dir: Path) -> list[int]:
    """PIDs the app wrote (its own, and any child's), to prove afterwards that all are gone."""
    return [int(p.read_text()) for p in sorted(app_dir.glob("pid*")) if p.read_text().strip()]


def _running_in_group(pgid: int) -> list[int]:
    """PIDs of group ``pgid`` that still run. Zombies don't count: a killed orphan waits
    for init to reap it, which on some container inits takes a second or more."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            out.append(int(entry.name))
    return out


def assert_gone(app_dir: Path) -> None:
    """No process of the app's group runs any more (the app wrote its pid = its pgid)."""
    pids = pids_of(app_dir)
    assert pids, "the app never wrote its pid"
    deadline = time.monotonic() + 2
    while _running_in_group(pids[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running_in_group(pids[0]), f"processes survived: {_running_in_group(pids[0])}"


def passing(t) -> Result:
    return Result("", "", "pass", 1, 1, "ok")


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="course")
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Builds and venvs go to the test's folder, not the user's cache."""
    monkeypatch.setattr(paths, "CACHE", tmp_path / "cache")


@pytest.fixture
def pg(no_leftover_databases):
    return no_leftover_databases


# ----------------------------------------------------------------- unusable input: exit 2
def test_missing_folder(tmp_path, capsys):
    with pytest.raises(CourseError, match="App folder not found") as e:
        engine.check_app(tmp_path / "nope", items=ITEMS, checks={})
    assert e.value.exit_code == 2
    code, _, err = run_cli(["check", str(tmp_path / "nope")], capsys)
    assert code == 2 and "App folder not found" in err


def test_no_procfile(tmp_path, capsys):
    (tmp_path / "app").mkdir()
    code, _, err = run_cli(["check", str(tmp_path / "app")], capsys)
    assert code == 2
    assert "No Procfile" in err and "web: node server.js" in err


def test_no_web_line(tmp_path, capsys):
    d = make_app(tmp_path, "print(1)", procfile="worker: python app.py")
    code, _, err = run_cli(["check", str(d)], capsys)
    assert code == 2 and "has no `web:` line" in err


def test_go_run_and_shell_syntax_are_refused(tmp_path):
    d = make_app(tmp_path, "", procfile="web: go run .")
    with pytest.raises(CourseError, match="go build -o app"):
        engine.check_app(d, items=ITEMS, checks={})
    (d / "Procfile").write_text("web: npm run build && node server.js\n")
    with pytest.raises(CourseError, match="without a shell"):
        engine.check_app(d, items=ITEMS, checks={})


def test_unknown_only_id_lists_valid_ids(tmp_path, capsys, monkeypatch):
    d = make_app(tmp_path, SERVER)
    monkeypatch.setattr(engine, "default_items", lambda **_: ITEMS)
    monkeypatch.setattr(engine, "default_checks", lambda: {})
    code, _, err = run_cli(["check", str(d), "--only", "cors,nosuch"], capsys)
    assert code == 2
    assert "nosuch" in err and "Valid ids: " + ", ".join(IDS) in err


# ----------------------------------------------------------------- apps that do not start
def test_crash_at_start_reports_error_with_log_tail(tmp_path, pg):
    d = make_app(tmp_path, """
        import os, sys
        open("pid", "w").write(str(os.getpid()))
        print("loading config…", flush=True)
        sys.exit("boom: JWT_SECRET is not set")
    """)
    rep = engine.check_app(d, items=ITEMS, checks={i: passing for i in IDS}, database=pg)
    assert rep.status == "error" and rep.exit_code == 1
    assert "exited with status 1 before answering" in rep.message
    assert "boom: JWT_SECRET is not set" in rep.message and "loading config" in rep.message
    assert {r.status for r in rep.items} == {"skip"}
    data = rep.to_json()
    assert REPORT_KEYS <= set(data) and data["score"] == 0 and data["max_score"] == len(IDS)
    assert "boom" in report.render_text(rep, color=False)
    assert_gone(d)


def test_wrong_port_says_it_never_answered(tmp_path, pg):
    d = make_app(tmp_path, SERVER, procfile=f"web: python app.py --port {procs.free_port()}")
    hardcoded = int(re.search(r"--port (\d+)", (d / "Procfile").read_text()).group(1))
    rep = engine.check_app(d, items=ITEMS, checks={}, database=pg, timeout=4)
    assert rep.status == "error"
    m = re.search(r"never answered on port (\d+) within 4 s", rep.message)
    assert m and int(m.group(1)) != hardcoded
    assert f"It listens on {hardcoded} instead" in rep.message
    assert_gone(d)


def test_garbage_instead_of_http(tmp_path, pg):
    d = make_app(tmp_path, """
        import os, socket
        open("pid", "w").write(str(os.getpid()))
        s = socket.create_server((os.environ["HOST"], int(os.environ["PORT"])))
        while True:
            c, _ = s.accept()
            c.sendall(b"SSH-2.0-OpenSSH_9.6\\r\\n")
            c.close()
    """)
    rep = engine.check_app(d, items=ITEMS, checks={}, database=pg, timeout=30)
    assert rep.status == "error"
    # this verdict comes from the first answer; waiting out the timeout would say "never answered"
    assert "does not speak HTTP" in rep.message and "SSH-2.0" in rep.message
    assert_gone(d)


def test_silent_port_times_out_with_a_clear_message(tmp_path, pg):
    d = make_app(tmp_path, """
        import os, socket, time
        open("pid", "w").write(str(os.getpid()))
        s = socket.create_server((os.environ["HOST"], int(os.environ["PORT"])))
        conns = []
        while True:
            conns.append(s.accept()[0])  # accept, never answer
    """)
    rep = engine.check_app(d, items=ITEMS, checks={}, database=pg, timeout=5)
    assert rep.status == "error" and "never answers an HTTP request" in rep.message
    assert_gone(d)


# ----------------------------------------------------------------- misbehaving running apps
IGNORES_SIGTERM = SERVER.replace(
    'open("pid", "w")',
    'import signal, subprocess\n'
    'signal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
    'child = subprocess.Popen([sys.executable, "-c", "import signal, time; '
    'signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])\n'
    'open("pid-child", "w").write(str(child.pid))\n'
    'open("pid", "w")')


def record_stops(monkeypatch) -> list[tuple[float, int | None]]:
    """(grace, exit status) of every AppProcess.stop call, in order."""
    from course.checklist.app.process import AppProcess

    calls: list[tuple[float, int | None]] = []
    real = AppProcess.stop

    def stop(self, grace=app_mod.STOP_GRACE):
        code = real(self, grace=grace)
        calls.append((grace, code))
        return code

    monkeypatch.setattr(AppProcess, "stop", stop)
    return calls


def test_app_ignoring_sigterm_fails_shutdown_and_is_killed(tmp_path, pg, monkeypatch):
    d = make_app(tmp_path, IGNORES_SIGTERM)

    def shutdown(t):
        t.proc.send_signal(signal.SIGTERM)
        try:
            t.proc.wait(1.0)
            return Result("", "", "pass", 1, 1, "exited")
        except subprocess.TimeoutExpired:
            return Result("", "", "fail", 0, 1, "still running 1 s after SIGTERM")

    stops = record_stops(monkeypatch)
    rep = engine.check_app(d, only="graceful-shutdown", items=ITEMS,
                           checks={"graceful-shutdown": shutdown}, database=pg)
    assert [r.status for r in rep.items] == ["fail"] and rep.exit_code == 1
    # the shutdown check already sent SIGTERM and waited: the engine must not wait the full grace again
    assert stops[0] == (1.0, -signal.SIGKILL), stops
    assert len(pids_of(d)) == 2
    assert_gone(d)


def test_app_ignoring_sigterm_is_killed_after_grace(tmp_path, pg, monkeypatch):
    d = make_app(tmp_path, IGNORES_SIGTERM)
    assert app_mod.STOP_GRACE == 10.0  # the contract's grace; shortened below to keep the test fast
    stops = record_stops(monkeypatch)
    rep = engine.check_app(d, only="cors", items=ITEMS, checks={"cors": passing}, database=pg, stop_grace=1.0)
    assert rep.status == "pass" and rep.exit_code == 0
    assert stops[0] == (1.0, -signal.SIGKILL), stops  # SIGTERM ignored: killed once the grace ran out
    assert_gone(d)


def test_flooding_app_is_capped_and_never_blocked(tmp_path, pg):
    d = make_app(tmp_path, SERVER.replace(
        "http.server.ThreadingHTTPServer(",
        "written = [0]\n"
        "def flood():\n"
        "    line = ('x' * 1023 + '\\n') * 64\n"
        "    while True:\n"
        "        sys.stdout.write(line); written[0] += len(line)\n"
        "threading.Thread(target=flood, daemon=True).start()\n"
        "H.do_POST = lambda self: (self.send_response(200), self.send_header('X-Written', str(written[0])),"
        " self.send_header('Content-Length', '0'), self.end_headers())\n"
        "http.server.ThreadingHTTPServer("))
    seen = {}

    def watch_logs(t):
        deadline = time.monotonic() + 20
        while t.logs.offset() < LOG_CAP and time.monotonic() < deadline:
            time.sleep(0.05)
        while time.monotonic() < deadline:  # the app keeps writing: we keep draining
            seen["written"] = int(httpx.post(t.base_url + "/").headers["x-written"])
            if seen["written"] > LOG_CAP + 1024 * 1024:
                break
            time.sleep(0.05)
        seen["offset"] = t.logs.offset()
        seen["text"] = len(t.logs.since(0))
        return Result("", "", "pass", 1, 1, "ok")

    rep = engine.check_app(d, only="logging", items=ITEMS, checks={"logging": watch_logs}, database=pg)
    assert rep.status == "pass", rep.items[0].message
    assert seen["offset"] == LOG_CAP and seen["text"] == LOG_CAP
    assert seen["written"] > LOG_CAP + 1024 * 1024, "the app blocked: its output was not drained past the cap"
    assert_gone(d)


# ----------------------------------------------------------------- a normal run
def test_phases_addresses_database_and_cleanup(tmp_path, pg):
    d = make_app(tmp_path, SERVER, procfile="web: python app.py --port ${PORT}")
    lock = threading.Lock()
    spans: dict[str, tuple[float, float]] = {}
    seen: dict[str, dict] = {}
    db_names = []
    together = threading.Barrier(3, timeout=20)  # the phase-1 checks can only pass it concurrently
    outage_at = []

    def recorder(item_id, action=None):
        def check(t):
            start = time.monotonic()
            client = httpx.Client(transport=httpx.HTTPTransport(local_address=t.client_ip))
            body = client.get(t.base_url + "/health").json()
            if action:
                action(t, body)
            if item_id in ("error-handling", "logging", "cors"):
                together.wait()
            with lock:
                spans[item_id] = (start, time.monotonic())
                seen[item_id] = {"ip": t.client_ip, **body}
            return Result("", "", "pass", 1, 1, "ok")
        return check

    def health(t, body):
        assert t.wait_for_quiet_database(timeout=20)
        outage_at.append(time.monotonic())
        db_names.append(t.db.name)
        app_backends = t.db.backends()
        assert len(app_backends) == 1  # the app's one connection; ours are excluded
        with psycopg.connect(t.db.url, application_name="course-check-probe"):
            assert t.db.backends() == app_backends
        t.db.block()
        assert t.db.backends() == []
        with pytest.raises(psycopg.OperationalError, match="not currently accepting connections"):
            psycopg.connect(t.db.url)
        t.db.unblock()
        psycopg.connect(t.db.url).close()

    def shutdown(t, body):
        t.proc.send_signal(signal.SIGTERM)
        t.proc.wait(5)

    def boom(t):
        raise RuntimeError("kaput")

    checks = {"error-handling": recorder("error-handling"), "logging": recorder("logging"),
              "cors": recorder("cors"), "metrics": boom,
              "health-check": recorder("health-check", health),
              "graceful-shutdown": recorder("graceful-shutdown", shutdown)}
    rep = engine.check_app(d, items=ITEMS, checks=checks, database=pg)

    by_id = {r.id: r for r in rep.items}
    assert [r.id for r in rep.items] == list(IDS)
    assert by_id["metrics"].status == "error" and "RuntimeError: kaput" in by_id["metrics"].message
    assert all(by_id[i].status == "pass" for i in IDS if i != "metrics"), [r.message for r in rep.items]
    assert rep.status == "error" and rep.exit_code == 1 and rep.score == 5 and rep.max_score == 6
    # phase 1 ran concurrently (the barrier held); the outage waited for the checks that use the
    # database (error-handling doesn't); graceful-shutdown last
    assert outage_at and outage_at[0] >= max(spans[i][1] for i in ("logging", "cors"))
    assert spans["graceful-shutdown"][0] >= max(e for i, (_, e) in spans.items() if i != "graceful-shutdown")
    # each check came from its own loopback address, and the app saw it
    ips = [seen[i]["ip"] for i in seen]
    assert len(set(ips)) == len(ips) and all(seen[i]["client"] == seen[i]["ip"] for i in seen)
    # the contract's environment and a seeded database
    body = seen["cors"]
    assert body["users"] == 300
    assert body["env"] == {"HOST": "127.0.0.1", "PORT": body["env"]["PORT"], "DB_POOL_MAX": "4",
                           "CORS_ORIGINS": "https://app.example.com,http://localhost:5173",
                           "RATE_LIMIT_MAX": "50", "RATE_LIMIT_WINDOW_MS": "1000", "LOG_LEVEL": "info",
                           "NODE_ENV": "production"}
    data = json.loads(report.render_json(rep))
    assert set(data) == REPORT_KEYS and all(set(i) == ITEM_KEYS for i in data["items"])
    text = report.render_text(rep, color=False, unicode=True)
    assert "✓ error-handling" in text and "! metrics" in text and "ERROR — score 5/6" in text
    assert db_names and db_names[0] not in pg.list_databases()
    assert_gone(d)


def test_cli_exit_codes_and_json(tmp_path, capsys, monkeypatch, checklist_pg):
    d = make_app(tmp_path, SERVER)
    monkeypatch.setattr(engine, "default_items", lambda **_: ITEMS)
    monkeypatch.setattr(engine, "default_checks", lambda: {i: passing for i in IDS})
    # --database-url: the shared server used as an "external" one
    code, out, _ = run_cli(["check", str(d), "--json", "--only", "cors", "--only", "metrics",
                            "--database-url", checklist_pg.admin_url], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "pass" and [i["id"] for i in data["items"]] == ["cors", "metrics"]
    monkeypatch.setattr(engine, "default_checks",
                        lambda: {"cors": lambda t: Result("", "", "fail", 0, 1, "no CORS",
                                                          {"curl": "curl -i -X OPTIONS http://x/api/users"})})
    code, out, _ = run_cli(["check", str(d), "--only", "cors", "--database-url", checklist_pg.admin_url], capsys)
    assert code == 1
    assert "no CORS" in out and "$ curl -i -X OPTIONS" in out
    assert not checklist_pg.list_databases()
    assert_gone(d)


def test_interrupt_cleans_up(tmp_path, pg):
    d = make_app(tmp_path, SERVER)

    def interrupt(t):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine.check_app(d, items=ITEMS, checks={"cors": passing, "health-check": interrupt}, database=pg)
    assert_gone(d)


def test_requirements_txt_gets_a_private_venv_once(tmp_path, pg):
    d = make_app(tmp_path, SERVER)
    (d / "requirements.txt").write_text("psycopg\n")
    seen = []

    def where(t):
        seen.append(httpx.get(t.base_url + "/health").json()["python"])
        return Result("", "", "pass", 1, 1, "ok")

    progress: list[str] = []
    for _ in range(2):
        rep = engine.check_app(d, only="cors", items=ITEMS, checks={"cors": where}, database=pg,
                               progress=progress.append)
        assert rep.status == "pass"
    venv = app_mod.app_cache_dir(d) / "venv"
    assert seen == [str(venv), str(venv)]
    assert sum("pip install" in p for p in progress) == 1, "the second run must reuse the venv"
    assert sorted(p.name for p in d.iterdir()) == ["Procfile", "app.py", "pid", "requirements.txt"]


# ----------------------------------------------------------------- the embedded server
def test_embedded_server_cleans_up_its_process_and_data():
    with EmbeddedPostgres(cache_dir=REAL_CACHE) as server:
        pid, run_dir = server.proc.pid, server.run_dir
        with server.app_database("x") as db:
            with psycopg.connect(db.url) as conn:
                assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 300
        assert server.list_databases() == []
    assert not procs.group_alive(pid)
    assert not run_dir.exists()


# ----------------------------------------------------------------- items beyond the seed's 11
def test_extra_items_run_only_when_asked_and_the_collector_reaches_the_app(tmp_path, pg):
    """An extra item (tracing) is not run or counted by default; --items all adds it beside
    the others, --only may name it; a collector URL becomes the app's OTLP endpoint."""
    d = make_app(tmp_path, SERVER)
    extra = Item("tracing", "Tracing", "why", (), extra=True)
    seen: dict[str, dict] = {}

    def remember(t) -> Result:
        seen["env"], seen["collector"] = dict(t.env), t.collector_url
        return passing(t)

    checks = {**{i: passing for i in IDS}, "tracing": remember}
    default = engine.check_app(d, items=[*ITEMS, extra], checks=checks, database=pg)
    assert [r.id for r in default.items] == list(IDS) and default.max_score == len(IDS)
    assert "env" not in seen

    everything = engine.check_app(d, items=[*ITEMS, extra], checks=checks, database=pg, include_extra=True,
                                  collector_url="http://127.0.0.1:4318/")
    assert [r.id for r in everything.items] == [*IDS, "tracing"] and everything.max_score == len(IDS) + 1
    assert seen["collector"] == "http://127.0.0.1:4318/"
    assert seen["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert seen["env"]["OTEL_SERVICE_NAME"] == d.name

    only = engine.check_app(d, items=[*ITEMS, extra], checks=checks, database=pg, only="tracing")
    assert [r.id for r in only.items] == ["tracing"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in seen["env"]  # no collector: the app exports nothing


def test_a_results_evidence_reads_as_a_test_reports_exchange_and_output():
    """The grader's capstone tests and an exercise's ``ctx.checklist_item`` show an item's
    evidence the same way: one helper on the result."""
    evidence = {"request": {"method": "POST", "url": "http://127.0.0.1:1/api/users"},
                "response": {"status": 422, "headers": {"content-type": "application/json"}, "body": "x" * 400},
                "curl": "curl -i -X POST http://127.0.0.1:1/api/users", "notes": {"burst": 51}}
    result = Result("request-validation", "Request validation", "fail", 0.5, 1.0, "no details", evidence)
    assert result.exchange() == {"request": "POST http://127.0.0.1:1/api/users", "status": 422,
                                 "content_type": "application/json", "body": "x" * 300}
    assert result.evidence_text() == "curl -i -X POST http://127.0.0.1:1/api/users\nburst: 51"
    bare = Result("logs", "Structured logs", "fail", 0.0, 1.0, "no JSON lines", {"notes": ["stdout was empty"]})
    assert bare.exchange() is None and bare.evidence_text() == "stdout was empty"
