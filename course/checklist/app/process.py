"""One run of the app: spawned in its own session with the contract's environment,
its output captured, stopped with SIGTERM then SIGKILL for the whole group."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ... import procs
from .errors import AppStartError
from .launcher import HostLauncher, Launcher
from .log import LOG_CAP, BoundedLog
from .prepare import Prepared
from .procfile import substitute

START_TIMEOUT = 60.0  # Spring Boot on a small machine can take a while
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL


def contract_env(port: int, database_url: str) -> dict[str, str]:
    """The variables of the service contract (docs/service-contract.md)."""
    return {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": database_url,
        "DB_POOL_MAX": "4",
        "CORS_ORIGINS": "https://app.example.com,http://localhost:5173",
        "RATE_LIMIT_MAX": "50",
        "RATE_LIMIT_WINDOW_MS": "1000",  # the check waits out one window: short keeps it fast
        "LOG_LEVEL": "info",
        "NODE_ENV": "production",
        "PYTHONUNBUFFERED": "1",  # Python block-buffers a piped stdout: logs would arrive late
    }


class AppProcess:
    """One run of the app: :meth:`start` (spawn + wait until it answers HTTP), :meth:`stop`."""

    def __init__(self, prepared: Prepared, database_url: str, *, log_dir: Path | None = None,
                 log_cap: int = LOG_CAP, launcher: Launcher | None = None):
        self.prepared = prepared
        self.launcher = launcher or HostLauncher()
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
        env = dict(self.env)  # the launcher adds them to its own (this user's, or the sandbox's)
        if self.prepared.venv is not None:
            env["VIRTUAL_ENV"] = str(self.prepared.venv)
        elif sys.prefix != sys.base_prefix:  # `python` on PATH is the course's venv
            env["VIRTUAL_ENV"] = sys.prefix
        argv = self.argv()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        BoundedLog.widen(out_w)
        t0 = time.monotonic()
        try:
            self.proc = self.launcher.spawn(argv, cwd=self.prepared.cwd, env=env, stdout=out_w, stderr=err_w)
        except OSError as e:
            os.close(out_r)
            os.close(err_r)
            raise AppStartError(f"Could not run the `web:` command ({' '.join(argv)}): {e.strerror}.") from None
        finally:
            os.close(out_w)
            os.close(err_w)
        self.logs.attach(out_r)
        self.stderr.attach(err_r)
        from .readiness import wait_ready  # readiness reads this process: imported when used

        wait_ready(self, timeout)
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
