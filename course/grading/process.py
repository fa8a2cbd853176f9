"""One grading process (``python -m course.grading.worker``), as a Dask worker drives it.

The process keeps its embedded PostgreSQL and papermill's imports between submissions,
and grades one submission at a time (each in a forked child of its own). This class
feeds it tasks as JSON lines, enforces the submission's time limit, and replaces it when
it dies or overruns: a submission that stalls or kills its grader gets an ``error``
verdict that says so, and the next one starts fresh.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import paths, procs
from ..sandbox import limits
from .results import Graded, Verdict

GRADER_PRIVATE_ENV = "COURSE_GRADER_PRIVATE"
DATABASE_ENV = "COURSE_GRADER_DATABASE_URL"  # an external server for the workers (admin: CREATEROLE)
PROTOCOL_PREFIX = "@@result "  # marks the grading process's answer among anything else on its stdout


CAPSTONE = "capstone"


def _unpack_app(content: bytes, target: Path) -> None:
    """A capstone's sources, unpacked with tarfile's ``data`` filter: no absolute paths, no
    ``..``, no link pointing out of the app, no devices — whatever the archive says."""
    import io
    import tarfile

    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
        tar.extractall(target, filter="data")


class GradingProcess:
    """A grading worker process and the folder its submissions are unpacked in."""

    def __init__(self, root: Path, *, no_sandbox: bool, database_url: str | None = None):
        self.root = root
        self.log_path = root / "worker.log"
        self.no_sandbox = no_sandbox
        self.database_url = database_url
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        env = dict(os.environ)
        env.pop("COURSE_GRADING", None)
        env[GRADER_PRIVATE_ENV] = str(self.root)
        if self.no_sandbox:
            env["COURSE_SANDBOX"] = "off"
        if self.database_url:
            env[DATABASE_ENV] = self.database_url
        with open(self.log_path, "ab") as log:
            self.proc = procs.spawn([sys.executable, "-m", "course.grading.worker"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=log, env=env, cwd=paths.PACKAGE.parent)

    def unpack(self, payload: dict) -> tuple[Path, Path]:
        """The submission's notebook in a fresh workspace, and the grader's private folder beside it."""
        index = str(payload["index"])
        workspace = self.root / "workspaces" / index / Path(payload["notebook"]).stem
        private = self.root / "private" / index
        for d in (workspace.parent, private):
            if d.exists():
                shutil.rmtree(d)
        workspace.mkdir(parents=True)
        private.mkdir(parents=True)
        if payload["exercise_id"] == CAPSTONE:
            _unpack_app(payload["content"], workspace / "app")
        else:
            (workspace / payload["notebook"]).write_bytes(payload["content"])
        return workspace, private

    def grade(self, payload: dict) -> Graded:
        """Grade one submission (never raises); its files are gone when this returns."""
        try:
            workspace, private = self.unpack(payload)
        except (OSError, ValueError) as e:  # tarfile's filter refuses a hostile archive (ValueError subclasses)
            return Graded.failed(Verdict(f"could not unpack the submission: {type(e).__name__}: {e}"))
        try:
            return self._ask({"index": payload["index"], "exercise_id": payload["exercise_id"],
                              "workspace": str(workspace), "private": str(private),
                              "notebook": payload["notebook"], "cell_timeout": payload["cell_timeout"],
                              "allow_network_for_build": bool(payload.get("allow_network_for_build"))},
                             payload["submission_timeout"])
        finally:
            shutil.rmtree(workspace.parent, ignore_errors=True)
            shutil.rmtree(private, ignore_errors=True)

    def _ask(self, message: dict, limit: float) -> Graded:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._restart(Verdict(f"the grading worker died before this submission (see {self.log_path.name})",
                                         by_grader=True))
        deadline = time.monotonic() + limit
        buffer = b""
        fd = self.proc.stdout.fileno()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._restart(Verdict(f"the submission took longer than {limit:g} s and was stopped"))
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return self._restart(Verdict("the grading worker died (killed by a limit?) — "
                                             f"last log lines:\n{procs.tail(self.log_path, 5)}"))
            buffer += chunk
            for line in buffer.split(b"\n")[:-1]:
                text = line.decode("utf-8", "replace")
                if text.startswith(PROTOCOL_PREFIX):
                    return Graded.from_json(json.loads(text[len(PROTOCOL_PREFIX):]))
            buffer = buffer.split(b"\n")[-1]

    def _restart(self, verdict: Verdict) -> Graded:
        self.stop()
        limits.remove_stale_cgroups()
        self.start()
        return Graded.failed(verdict)

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            procs.stop(self.proc, grace=3)
            self.proc = None
