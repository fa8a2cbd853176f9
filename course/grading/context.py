"""What a test may do with the learner's work: the :class:`Context` it receives.

A test starts the files the learner saved (``ctx.serve("work/server.js")``), probes
them over HTTP (``ctx.get``), runs the language's own test runner (``ctx.node_test``,
``ctx.go_test``, ``ctx.pytest``), or checks a whole app the learner saved (a folder with a
``Procfile``) against the production checklist (``ctx.checklist_item("work/app", "cors")``).
It fails with a plain ``assert`` whose message says what rule was broken; it never
compares printed text.

Where processes start is the :class:`Host`'s business: in the learner's kernel
(``course.check``) the :class:`LocalHost` starts them as the magics do; in the grader
the submission's :class:`~course.sandbox.jail.Jail` starts each in a sandbox. Files in
the workspace are read and written through :mod:`course.sandbox.fs`, which never
follows a link the learner planted.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Mapping, Protocol

import httpx

from .. import procs, runners, servers, toolchains
from ..errors import CourseError
from ..sandbox import fs
from . import nodetest

EXTENSIONS = {".js": "node", ".mjs": "node", ".cjs": "node", ".ts": "typescript", ".go": "go",
              ".java": "java", ".py": "python"}


def _tree_digest(workspace: Path, rel: str) -> str:
    """A digest of the files under ``workspace/rel`` (build outputs left out), read without
    following links: the same files give the same checklist run."""
    import hashlib

    from ..checklist.app.prepare import COPY_IGNORE

    h = hashlib.sha256()
    root = workspace / rel
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in COPY_IGNORE + ("dist", "target"))
        for name in sorted(filenames):
            sub = Path(dirpath, name).relative_to(workspace)
            h.update(str(sub).encode() + b"\0")
            try:
                h.update(fs.read_bytes(workspace, sub))
            except (OSError, ValueError):
                h.update(b"?")
    return h.hexdigest()


class Host(Protocol):
    """Where a test's processes run."""

    def serve(self, name: str, language: str, source: Path, *, log_path: Path,
              env: Mapping[str, str] | None = None, ready_timeout: float = 30.0) -> servers.Server: ...

    def run(self, argv: list[str], *, cwd: Path, timeout: float | None = 60.0,
            env: Mapping[str, str] | None = None) -> procs.RunResult: ...

    def stop(self, proc, *, grace: float = 2.0) -> int | None: ...

    def own(self, path: Path) -> None:
        """Make what the test wrote under ``path`` the learner code's to write too."""


class LocalHost:
    """The learner's own machine: processes start as the magics start them."""

    def serve(self, name, language, source, *, log_path, env=None, ready_timeout=30.0):
        return servers.start(name, runners.get(language), source.read_text(), env=env, ready_timeout=ready_timeout)

    def run(self, argv, *, cwd, timeout=60.0, env=None):
        return procs.run(argv, cwd=cwd, timeout=timeout, echo=None, env={**os.environ, **(env or {})})

    def own(self, path):
        pass  # the learner's own machine: one user

    def stop(self, proc, *, grace=2.0):
        for s in servers.all_servers():
            if s.proc is proc:
                return servers.stop(s.name, grace=grace)
        return procs.stop(proc, grace=grace)


class Context:
    """What a test gets: the learner's workspace and tools to exercise it.

    Servers started with :meth:`serve` are shared by the tests of one run (same file,
    same environment): a Spring app starts once per exercise, not once per test.
    """

    def __init__(self, workspace: str | Path, shared: dict | None = None, *, host: Host | None = None,
                 log_dir: Path | None = None, database=None):
        self.workspace = Path(workspace).resolve()
        self.database = database  # the grader's DatabaseServer (checklist runs); None: the kernel's own
        self.host: Host = host or LocalHost()
        self.log_dir = log_dir or self.workspace / ".scratch" / "logs"
        self._shared = shared if shared is not None else {}
        self._fresh: list[servers.Server] = []
        self.server: servers.Server | None = None
        self.exchange: dict | None = None
        self.output: list[str] = []
        self._client: httpx.Client | None = None

    # -- files ----------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        """``workspace/rel``, which must exist (a file or folder reached without links)."""
        if not (fs.is_file(self.workspace, rel) or fs.is_dir(self.workspace, rel)):
            raise AssertionError(f"{rel} not found — run the cell that saves it (its --save option) first")
        return self.workspace / rel

    def source(self, rel: str) -> str:
        self.path(rel)
        return fs.read_text(self.workspace, rel)

    def _rel(self, path: str | Path) -> Path:
        path = Path(path)
        if not path.is_absolute():
            return path
        try:
            return path.relative_to(self.workspace)
        except ValueError:
            raise CourseError(f"{path} is not inside the workspace {self.workspace}") from None

    def write(self, path: str | Path, text: str) -> Path:
        """Write a file of the test's own (a test file, fixtures) into the workspace."""
        rel = self._rel(path)
        written = fs.write_text(self.workspace, rel, text)
        self.host.own(self.workspace / rel.parts[0])
        return written

    def read(self, path: str | Path) -> str | None:
        """A file from the workspace (a report a test runner wrote), or None if there is none."""
        try:
            return fs.read_text(self.workspace, self._rel(path))
        except FileNotFoundError:
            return None

    def scratch(self, name: str) -> Path:
        """A fresh folder for the test's own files (test sources, reports), inside the workspace,
        so that what runs in the sandbox can see it."""
        import secrets

        rel = Path(".checks") / f"{name}-{secrets.token_hex(4)}"
        self.write(rel / ".keep", "")
        return self.workspace / rel

    # -- servers ----------------------------------------------------------------------
    def serve(self, rel: str, *, env: dict[str, str] | None = None, ready_timeout: float = 30.0,
              language: str | None = None, fresh: bool = False) -> servers.Server:
        """Start the saved file ``rel`` as a server (language from its extension).

        ``fresh=True`` gives this test its own server (for tests that stop or break it).
        In the grader, a port on 127.0.0.1 named in an ``env`` value (an upstream the test
        started) is reachable from the sandboxed server.
        """
        source = self.source(rel)
        path = self.workspace / rel
        lang = language or EXTENSIONS.get(path.suffix)
        if lang is None:
            raise CourseError(f"don't know how to run {rel}: give language=...")
        key = (lang, rel, source, tuple(sorted((env or {}).items())))
        cached = self._shared.get(key)
        if not fresh and isinstance(cached, servers.Server) and cached.running:
            self.server = cached
            return cached
        if isinstance(cached, str):  # it failed to start for an earlier test: don't wait for it again
            raise AssertionError(cached)
        name = f"check-{len(self._shared)}-{len(self._fresh)}-{path.stem}"
        try:
            self.server = self.host.serve(name, lang, path, env=env, ready_timeout=ready_timeout,
                                          log_path=self.log_dir / f"{name}.log")
        except CourseError as e:
            self._shared[key] = f"could not start {rel}: {e}"
            raise AssertionError(self._shared[key]) from None
        if fresh:
            self._fresh.append(self.server)
        else:
            self._shared[key] = self.server
        return self.server

    @property
    def client(self) -> httpx.Client:
        """One HTTP client per test (connections reused; no HTTP(S)_PROXY for 127.0.0.1)."""
        if self._client is None:
            self._client = httpx.Client(trust_env=False, timeout=10)
        return self._client

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        """An HTTP request to the served file; recorded as the test's evidence."""
        if self.server is None:
            raise CourseError("call ctx.serve(...) before sending requests")
        full = url if url.startswith("http") else self.server.url + url
        try:
            response = self.client.request(method, full, **kw)
        except httpx.HTTPError as e:
            raise AssertionError(f"{method} {url} failed: {type(e).__name__}: {e}") from None
        self.exchange = {
            "request": f"{method} {url}",
            "status": response.status_code,
            "content_type": response.headers.get("content-type"),
            "body": response.text[:300],
        }
        return response

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)

    def logs(self) -> str:
        return self.server.logs(200) if self.server else ""

    def log_records(self, until=None, timeout: float = 3.0) -> list[dict]:
        """The server's JSON log lines, parsed; with ``until`` (a predicate on one record),
        wait up to ``timeout`` s for one that matches — loggers may write after responding."""
        return self.server.log_records(until=until, timeout=timeout) if self.server else []

    # -- the production checklist ----------------------------------------------------------
    def checklist(self, app_dir: str, items: list[str] | tuple[str, ...] | None = None):
        """Check the app saved in ``app_dir`` (a folder with a ``Procfile``) against the
        production checklist, as ``course check`` does: build it, start it with the
        contract's environment and a fresh database, probe it, SIGTERM it. Returns the
        :class:`~course.checklist.engine.Report`.

        One run serves every test of the exercise: the report is kept for the same files and
        ``items`` (all 11 by default), so eleven tests of one item each start the app once.
        In the grader the build and the app run in the submission's sandbox, offline,
        from the caches ``course setup`` warmed.
        """
        from ..checklist import engine

        self.path(app_dir)
        wanted = tuple(items) if items else tuple(i.id for i in engine.default_items())
        key = ("checklist", app_dir, _tree_digest(self.workspace, app_dir), wanted)
        cached = self._shared.get(key)
        if isinstance(cached, str):  # unusable app (no Procfile...): the same answer for every test
            raise AssertionError(cached)
        if cached is None:
            grading = not isinstance(self.host, LocalHost)
            try:
                cached = engine.check_app(
                    self.workspace / app_dir, only=list(wanted), database=self._checklist_database(),
                    launcher=self.host if grading else None,
                    prepare_cache=self.workspace / ".prepare" / Path(app_dir).name if grading else None,
                    prepare_in_launcher=grading, roles_required=grading)
            except CourseError as e:
                self._shared[key] = f"{app_dir} cannot be checked: {e}"
                raise AssertionError(self._shared[key]) from None
            self._shared[key] = cached
        return cached

    def checklist_item(self, app_dir: str, item: str, *, items: list[str] | tuple[str, ...] | None = None):
        """One item of :meth:`checklist`: passes when the checker passes it, else fails with the
        checker's message; its request, response and curl line become the test's evidence."""
        report = self.checklist(app_dir, items)
        result = next((r for r in report.items if r.id == item), None)
        if result is None:
            raise CourseError(f"{item!r} was not checked (items: {', '.join(r.id for r in report.items)})")
        self.exchange = result.exchange() or self.exchange
        self.output.append(result.evidence_text())
        if result.status == "pass":
            return result
        if report.message:  # it never started: the build's or the start's own words
            raise AssertionError(f"the app did not start: {report.message}"[:2000])
        raise AssertionError(result.message or f"{item}: {result.status}")

    def _checklist_database(self):
        """The grader's server; in the learner's kernel, the lesson database's server."""
        if self.database is not None:
            return self.database
        from .. import db

        return db.server()

    # -- test runners -------------------------------------------------------------------
    def run(self, argv: list[str], *, cwd: str | Path | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> procs.RunResult:
        """Run a command over the learner's files (in the grader: in a sandbox)."""
        result = self.host.run(argv, cwd=Path(cwd or self.workspace), timeout=timeout, env=env)
        self.output.append(result.stdout + result.stderr_tail)
        return result

    def node_test(self, rel: str, timeout: float = 60, *,
                  test_timeout_s: float | None = None) -> nodetest.NodeTestRun:
        """Run ``node --test`` on a saved test file; verdicts come from its JUnit report
        (:mod:`course.grading.nodetest`), the same on every Node version."""
        path = self.path(rel)
        report = self.scratch("node-test") / "junit.xml"  # where the sandboxed node may write
        return nodetest.run([path.name], cwd=path.parent, timeout=timeout, test_timeout_s=test_timeout_s,
                            runner=self.run, report=report, read_report=self.read)

    def go_test(self, rel_dir: str, timeout: float = 120) -> dict:
        """Run ``go test -json`` in a saved package folder; returns per-test outcomes."""
        from ..runners.go import GO_ENV

        folder = self.path(rel_dir)
        result = self.run([toolchains.require("go"), "test", "-json", "./..."], cwd=folder, timeout=timeout,
                          env=GO_ENV)
        outcomes: dict[str, str] = {}
        for line in result.stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("Test") and event.get("Action") in ("pass", "fail", "skip"):
                outcomes[event["Test"]] = event["Action"]
        return {"tests": outcomes, "ok": result.ok, "output": result.stdout[-2000:] + result.stderr_tail}

    def pytest(self, rel: str, timeout: float = 120) -> dict:
        """Run pytest on a saved test file; returns {"passed": n, "failed": n, "ok": bool, "output": ...}."""
        import re

        path = self.path(rel)
        result = self.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                          cwd=path.parent, timeout=timeout)
        text = result.stdout + result.stderr_tail
        counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|error)", text)}
        return {"passed": counts.get("passed", 0), "failed": counts.get("failed", 0) + counts.get("error", 0),
                "ok": result.ok, "output": text}

    def close(self) -> None:
        """Stop this test's own servers (shared ones stop at the end of the run)."""
        for server in self._fresh:
            try:
                self.host.stop(server.proc, grace=2)
            except CourseError:
                pass
        self._fresh.clear()
        if self._client is not None:
            self._client.close()
            self._client = None
        self.server = None
