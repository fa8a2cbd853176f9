"""The app under check: read its Procfile, build it if needed, start it, wait, stop it.

The learner's app can be written in any language, so the only interface is the
one a platform (Heroku, Fly, Kubernetes) gives: a ``web:`` command, environment
variables, a port, signals and stdout. We exec the command directly (no shell that
would swallow SIGTERM), in its own session so the whole process group can be
killed, and capture its output through a bounded reader so a flooding app can
neither fill the disk nor block on a full pipe.

The submission folder is treated as read-only, with one exception: ``npm ci``
creates ``node_modules`` in it (Node resolves packages relative to the code).
Everything else we build (Python venvs, Go binaries, Maven jars) goes to a cache
folder keyed by the app's path, under ``~/.cache/backend-lab/apps/``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from .. import paths, procs, toolchains
from ..errors import CourseError

LOG_CAP = 5 * 1024 * 1024  # bytes of app output kept; the rest is read and dropped
START_TIMEOUT = 60.0  # Spring Boot on a small machine can take a while
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL
PROBE_TIMEOUT = 5.0  # one readiness request
BUILD_TIMEOUT = 900.0
COPY_IGNORE = (".git", "node_modules", ".venv", "venv", "__pycache__", ".idea", ".vscode")

Progress = Callable[[str], None]
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours in build output and logs


class AppStartError(Exception):
    """The app could not be built or started; ``str()`` says why, ``log_tail`` shows its output.

    Not a :class:`CourseError`: the input was usable, the app is what failed, so the
    engine turns this into a report with status ``error`` rather than exit code 2.
    """

    def __init__(self, message: str, log_tail: str = ""):
        super().__init__(message)
        self.log_tail = log_tail

    def full_message(self) -> str:
        text = str(self)
        tail = ANSI_ESCAPE.sub("", self.log_tail).rstrip()
        if tail.strip():
            text += "\n\nLast lines of its output:\n" + _indent(tail)
        return text


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


# --------------------------------------------------------------------------- Procfile
@dataclasses.dataclass(frozen=True)
class AppSpec:
    """A submission folder and the ``web:`` command of its Procfile."""

    app_dir: Path
    command: tuple[str, ...]
    line: str

    @property
    def name(self) -> str:
        return self.app_dir.name


def load_spec(app_dir: str | os.PathLike) -> AppSpec:
    """Validate the folder and parse its Procfile; :class:`CourseError` says what is missing."""
    app_dir = Path(app_dir).expanduser()
    if not app_dir.exists():
        raise CourseError(f"App folder not found: {app_dir}. Pass the folder that holds your app's Procfile.")
    if not app_dir.is_dir():
        raise CourseError(f"{app_dir} is a file, not a folder. Pass the folder that holds your app's Procfile.")
    app_dir = app_dir.resolve()
    procfile = app_dir / "Procfile"
    if not procfile.is_file():
        raise CourseError(
            f"No Procfile in {app_dir}. Add a file named `Procfile` with the command that starts your "
            "server, e.g.\n    web: node server.js\n    web: python -m uvicorn app:app --host $HOST --port $PORT\n"
            "    web: ./app                       (Go: the checker runs `go build -o app .`)\n"
            "See docs/service-contract.md.")
    text = procfile.read_text(errors="replace")
    for raw in text.splitlines():
        m = re.match(r"^\s*web\s*:(.*)$", raw)
        if m:
            line = m.group(1).strip()
            break
    else:
        raise CourseError(f"{procfile} has no `web:` line. Add one with the command that starts your server, "
                          "e.g. `web: node server.js`.")
    if not line:
        raise CourseError(f"The `web:` line of {procfile} is empty: put the command that starts your server after it.")
    try:
        argv = tuple(shlex.split(line))
    except ValueError as e:
        raise CourseError(f"Cannot parse the `web:` line of {procfile} ({e}): {line}") from None
    if argv[:2] == ("go", "run"):
        raise CourseError(
            "The Procfile runs `go run`, whose compiled child survives when `go` is stopped, so graceful "
            "shutdown cannot be checked. Use `web: ./app`: the checker runs `go build -o app .` itself "
            "(locally: `go build -o app . && ./app`).")
    if any(tok in ("&&", "||", ";", "|", ">", "<", "&") for tok in argv):
        raise CourseError(
            "The `web:` line is exec'd as one command, without a shell (a shell would not pass SIGTERM on), "
            f"so `&&`, `;`, pipes and redirections do not work there: {line}")
    return AppSpec(app_dir, argv, line)


def substitute(argv: tuple[str, ...], env: dict[str, str]) -> list[str]:
    """Replace ``$NAME`` / ``${NAME}`` with values from ``env`` (Procfiles often say ``--port $PORT``)."""
    pattern = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
    return [pattern.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), a) for a in argv]


# --------------------------------------------------------------------------- prepare
@dataclasses.dataclass
class Prepared:
    """How to run a prepared app: where, which command, and what goes first on PATH."""

    spec: AppSpec
    cwd: Path
    command: tuple[str, ...]
    path_prefix: list[str]
    venv: Path | None = None  # the private venv made from requirements.txt
    steps: list[str] = dataclasses.field(default_factory=list)  # what prepare did, for the report


def app_cache_dir(app_dir: Path) -> Path:
    key = hashlib.sha256(str(app_dir.resolve()).encode()).hexdigest()[:16]
    return paths.CACHE / "apps" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', app_dir.name)[:30]}-{key}"


def _hash_files(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(str(f).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _tree_files(root: Path, ignore: tuple[str, ...]) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ignore]
        out.extend(Path(dirpath) / n for n in filenames)
    return out


class _Stamp:
    """A file holding the hash of what a prepare step consumed; equal hash = skip."""

    def __init__(self, path: Path, digest: str):
        self.path, self.digest = path, digest

    def fresh(self) -> bool:
        return self.path.is_file() and self.path.read_text().strip() == self.digest

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.digest + "\n")


def _build(argv: list[str], *, cwd: Path, what: str, env: dict[str, str] | None = None) -> float:
    start = time.monotonic()
    full_env = {**os.environ, **(env or {})}
    result = procs.run(argv, cwd=cwd, env=full_env, echo=None, timeout=BUILD_TIMEOUT)
    if not result.ok:
        reason = "timed out" if result.timed_out else f"failed (exit {result.returncode})"
        raise AppStartError(f"`{what}` {reason} in {cwd}.",
                            (result.stdout[-4000:] + "\n" + result.stderr_tail).strip())
    return time.monotonic() - start


def _npm_script(app_dir: Path, name: str) -> bool:
    try:
        return name in json.loads((app_dir / "package.json").read_text()).get("scripts", {})
    except (OSError, ValueError):
        return False


def _sync_copy(src: Path, dst: Path, keep: tuple[str, ...]) -> None:
    """Make ``dst`` a copy of ``src`` (minus VCS/dependency folders), keeping build outputs ``keep``."""
    dst.mkdir(parents=True, exist_ok=True)
    for child in dst.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*COPY_IGNORE, *keep))


def _build_in_copy(app_dir: Path, src: Path, *, stamp_name: str, output: str, keep: tuple[str, ...],
                   argv: list[str], env: dict[str, str] | None, label: str, what: str,
                   prepared: "Prepared", say: Progress, note: str = "") -> Path:
    """Build in a private copy of the app (the submission is never written to), once per
    change of its files; returns the copy, where the ``web:`` command then runs."""
    stamp = _Stamp(src.parent / f"{stamp_name}.stamp", _hash_files(_tree_files(app_dir, COPY_IGNORE + (output,))))
    if not (stamp.fresh() and (src / output).exists()):
        say(f"{what} (in a private copy{note})…")
        _sync_copy(app_dir, src, keep=keep)
        took = _build(argv, cwd=src, env=env, what=what)
        stamp.write()
        prepared.steps.append(f"{label} ({took:.1f} s)")
    return src


def prepare(spec: AppSpec, *, progress: Progress | None = None) -> Prepared:
    """Install dependencies or build, once per change of the inputs (stamp with their hash).

    * ``package-lock.json`` → ``npm ci`` in the app folder (creates ``node_modules`` there);
    * ``go.mod`` → a private copy in the cache, ``go build -o app .`` there, and the
      ``web:`` command runs in that copy (so ``web: ./app`` finds the binary);
    * ``pom.xml`` → the same with ``mvn -q -B package -DskipTests`` (``web: java -jar target/….jar``);
    * ``requirements.txt`` → a venv in the cache that also sees the course's packages,
      put first on PATH so ``python`` is that venv.
    """
    say = progress or (lambda _msg: None)
    app_dir = spec.app_dir
    cache = app_cache_dir(app_dir)
    prepared = Prepared(spec, app_dir, spec.command, [os.path.dirname(sys.executable)])

    if (app_dir / "package-lock.json").is_file():
        # devDependencies (typescript, ...) are needed to build, whatever the caller's NODE_ENV
        npm_env = {"NODE_ENV": "development"}
        stamp = _Stamp(cache / "npm-ci.stamp", _hash_files([app_dir / "package-lock.json"]))
        if not (stamp.fresh() and (app_dir / "node_modules").is_dir()):
            say("npm ci (installs node_modules in the app folder)…")
            took = _build([toolchains.require("npm"), "ci", "--no-audit", "--no-fund"], cwd=app_dir,
                          what="npm ci", env=npm_env)
            stamp.write()
            prepared.steps.append(f"npm ci ({took:.1f} s)")
        if _npm_script(app_dir, "build"):  # TypeScript (NestJS): compile when a source changed
            sources = _tree_files(app_dir, COPY_IGNORE + ("dist", "build"))
            stamp = _Stamp(cache / "npm-build.stamp", _hash_files(sources))
            if not stamp.fresh():
                say("npm run build…")
                took = _build([toolchains.require("npm"), "run", "build"], cwd=app_dir, what="npm run build",
                              env=npm_env)
                stamp.write()
                prepared.steps.append(f"npm run build ({took:.1f} s)")

    if (app_dir / "go.mod").is_file():
        from ..runners.go import go_env

        prepared.cwd = _build_in_copy(
            app_dir, cache / "go-src", stamp_name="go-build", output="app", keep=(), say=say,
            argv=[toolchains.require("go"), "build", "-o", "app", "."], env=go_env(),
            label="go build", what="go build -o app .", prepared=prepared)

    if (app_dir / "pom.xml").is_file():
        prepared.cwd = _build_in_copy(
            app_dir, cache / "maven-src", stamp_name="maven", output="target", keep=("target",), say=say,
            argv=[toolchains.require("maven"), "-q", "-B", "-Dstyle.color=never", "package", "-DskipTests"],
            env=None, label="mvn package", what="mvn -q -B package -DskipTests",
            note=" (the first build downloads dependencies)", prepared=prepared)

    if (app_dir / "requirements.txt").is_file():
        venv = cache / "venv"
        stamp = _Stamp(cache / "venv.stamp",
                       _hash_files([app_dir / "requirements.txt"]) + sys.executable)
        if not (stamp.fresh() and (venv / "bin" / "python").exists()):
            say("pip install -r requirements.txt (into a private venv)…")
            took = _make_venv(venv, app_dir / "requirements.txt")
            stamp.write()
            prepared.steps.append(f"pip install ({took:.1f} s)")
        prepared.path_prefix.insert(0, str(venv / "bin"))
        prepared.venv = venv
    return prepared


def _make_venv(venv: Path, requirements: Path) -> float:
    """A venv whose ``python`` also sees the course's packages (a ``.pth`` file), so
    requirements the course already has install instantly and offline."""
    start = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    _build([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent, what="python -m venv")
    import sysconfig

    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    course_site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "backend-lab-course.pth").write_text("\n".join(sorted(course_site)) + "\n")
    _build([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
            "--disable-pip-version-check", "-r", str(requirements)], cwd=requirements.parent,
           what="pip install -r requirements.txt")
    return time.monotonic() - start


# --------------------------------------------------------------------------- log capture
class BoundedLog:
    """The app's stdout+stderr, copied by a reader thread into a file of at most ``cap``
    bytes (implements ``model.LogCapture``).

    Past the cap the reader keeps draining the pipe and drops the bytes, so the app
    never blocks on a full pipe; a final note says how much was dropped.
    """

    def __init__(self, path: Path, cap: int = LOG_CAP):
        self.path = Path(path)
        self.cap = cap
        self.written = 0
        self.dropped = 0
        self._file = open(self.path, "wb")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def attach(self, fd: int) -> None:
        self._thread = threading.Thread(target=self._pump, args=(fd,), name="app-log", daemon=True)
        self._thread.start()

    def _pump(self, fd: int) -> None:
        try:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                with self._lock:
                    room = self.cap - self.written
                    if room > 0:
                        part = data[:room]
                        self._file.write(part)
                        self._file.flush()
                        self.written += len(part)
                        self.dropped += len(data) - len(part)
                    else:
                        self.dropped += len(data)
        finally:
            os.close(fd)
            with self._lock:
                if self.dropped:
                    note = (f"\n[course] output capture stopped at {self.cap:,} bytes; "
                            f"{self.dropped:,} more bytes were dropped\n").encode()
                    self._file.write(note)
                self._file.close()

    def offset(self) -> int:
        with self._lock:
            return self.written

    def since(self, offset: int) -> str:
        end = self.offset()
        if offset >= end:
            return ""
        with open(self.path, "rb") as f:
            f.seek(max(0, offset))
            return f.read(end - max(0, offset)).decode("utf-8", "replace")

    def tail(self, lines: int = 30) -> str:
        return procs.tail(self.path, lines=lines)

    def close(self, timeout: float = 2.0) -> None:
        """Wait for the reader to see EOF (after the process group is gone)."""
        if self._thread is not None:
            self._thread.join(timeout)
        else:  # never attached (the command could not be spawned): the reader won't close it
            with self._lock:
                self._file.close()


# --------------------------------------------------------------------------- the process
def contract_env(port: int, database_url: str) -> dict[str, str]:
    """The variables of the service contract (docs/service-contract.md)."""
    return {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": database_url,
        "DB_POOL_MAX": "4",
        "CORS_ORIGINS": "https://app.example.com,http://localhost:5173",
        "RATE_LIMIT_MAX": "50",
        "RATE_LIMIT_WINDOW_MS": "2000",
        "LOG_LEVEL": "info",
        "NODE_ENV": "production",
        "PYTHONUNBUFFERED": "1",  # Python block-buffers a piped stdout: logs would arrive late
    }


class AppProcess:
    """One run of the app: :meth:`start` (spawn + wait until it answers HTTP), :meth:`stop`."""

    def __init__(self, prepared: Prepared, database_url: str, *, log_dir: Path | None = None,
                 log_cap: int = LOG_CAP):
        self.prepared = prepared
        self.port = procs.free_port()
        self.host = "127.0.0.1"
        self.env = contract_env(self.port, database_url)
        path = os.pathsep.join([*prepared.path_prefix, os.environ.get("PATH", os.defpath)])
        self.env["PATH"] = path
        self._own_dir = log_dir is None
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="backend-lab-app-"))
        # stdout is the log stream the contract asks for (judged by the logging check);
        # stderr is kept apart, for error messages only
        self.logs = BoundedLog(self.log_dir / "app.log", cap=log_cap)
        self.stderr = BoundedLog(self.log_dir / "stderr.log", cap=log_cap)
        self.proc: subprocess.Popen | None = None
        self.startup_s: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def argv(self) -> list[str]:
        argv = substitute(self.prepared.command, self.env)
        exe = argv[0]
        if "/" not in exe:  # look it up on the app's PATH, not ours
            found = shutil.which(exe, path=self.env["PATH"])
            if found is None:
                raise AppStartError(f"The `web:` command `{exe}` was not found on PATH "
                                    f"(Procfile: web: {self.prepared.spec.line}).")
            argv[0] = found
        return argv

    def start(self, timeout: float = START_TIMEOUT) -> float:
        """Spawn and wait until ``GET /health`` gets any HTTP answer; returns the start-up time."""
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
        env.update(self.env)
        if self.prepared.venv is not None:
            env["VIRTUAL_ENV"] = str(self.prepared.venv)
        elif sys.prefix != sys.base_prefix:  # `python` on PATH is the course's venv
            env["VIRTUAL_ENV"] = sys.prefix
        argv = self.argv()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        t0 = time.monotonic()
        try:
            self.proc = procs.spawn(argv, cwd=self.prepared.cwd, env=env, stdout=out_w, stderr=err_w)
        except OSError as e:
            os.close(out_r)
            os.close(err_r)
            raise AppStartError(f"Could not run the `web:` command ({' '.join(argv)}): {e.strerror}.") from None
        finally:
            os.close(out_w)
            os.close(err_w)
        self.logs.attach(out_r)
        self.stderr.attach(err_r)
        _wait_ready(self, timeout)
        self.startup_s = time.monotonic() - t0
        return self.startup_s

    def stop(self, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM the leader's group, SIGKILL it after ``grace`` s; idempotent."""
        code = None
        if self.proc is not None:
            code = procs.stop(self.proc, grace=grace)
        self.logs.close()
        self.stderr.close()
        return code

    def tail(self, lines: int = 30) -> str:
        """The end of stdout and stderr, for error messages."""
        parts = [("stdout", self.logs.tail(lines)), ("stderr", self.stderr.tail(lines))]
        shown = [f"[{name}]\n{text}" for name, text in parts if text.strip()]
        return "\n".join(shown)

    def cleanup(self) -> None:
        self.stop(grace=0)
        if self._own_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)


# --------------------------------------------------------------------------- readiness
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


def _wait_ready(app: AppProcess, timeout: float) -> None:
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


def listening_ports(session_id: int) -> list[int]:
    """TCP ports in LISTEN state owned by processes of session ``session_id`` (Linux /proc)."""
    inodes: set[str] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) != session_id:  # state ppid pgrp session
                continue
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except (OSError, ValueError):
            continue
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return sorted(ports)
