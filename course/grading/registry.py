"""Exercise tests: declared with ``@test``, run against a workspace, judged by behaviour.

A test receives a :class:`Context` for the learner's workspace: it starts the files
the learner saved (``ctx.serve("work/server.js")``), probes them over HTTP
(``ctx.get``), or runs the language's own test runner (``ctx.node_test``,
``ctx.go_test``, ``ctx.pytest``). It fails with a plain ``assert`` whose message
says what rule was broken. It never compares printed text.

The same code runs in the learner's kernel (``course.check``, visible tests only)
and in the grader (``course grade``, visible + hidden tests taken from solutions/).
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import re
import textwrap
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import httpx

from .. import procs, runners, servers
from ..errors import CourseError

OUTPUT_LIMIT = 500  # Exercism's limit for a test's output
EXTENSIONS = {".js": "node", ".mjs": "node", ".cjs": "node", ".ts": "typescript", ".go": "go",
              ".java": "java", ".py": "python"}


@dataclasses.dataclass
class TestSpec:
    name: str
    func: Callable[["Context"], Any]
    points: float = 1.0
    checklist: tuple[str, ...] = ()
    hint: str | None = None
    hidden: bool = False
    task_id: int | None = None

    @property
    def code(self) -> str:
        try:
            return textwrap.dedent(inspect.getsource(self.func))
        except (OSError, TypeError):
            return ""


@dataclasses.dataclass
class TestResult:
    name: str
    status: str  # pass | fail | error
    score: float
    max_score: float
    message: str | None
    output: str
    test_code: str
    tags: list[str]
    hint: str | None = None
    exchange: dict | None = None
    duration_s: float = 0.0
    task_id: int | None = None

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data


_REGISTRY: dict[str, TestSpec] = {}
_HIDDEN = False


def hidden_block(on: bool) -> None:
    """Tests declared while this is on are hidden (set by the grader around hidden blocks)."""
    global _HIDDEN
    _HIDDEN = on


def test(name: str, *, points: float = 1.0, checklist: list[str] | tuple[str, ...] = (),
         hint: str | None = None, hidden: bool = False, task: int | None = None):
    """Declare an exercise test. Re-running the cell replaces it (keyed by function name)."""

    def register(func):
        _REGISTRY[func.__name__] = TestSpec(name, func, float(points), tuple(checklist), hint,
                                            hidden or _HIDDEN, task)
        return func

    return register


def registered() -> list[TestSpec]:
    return list(_REGISTRY.values())


def clear() -> None:
    _REGISTRY.clear()


def load(source: str, *, filename: str = "<checks>") -> list[TestSpec]:
    """Execute a checks source in a fresh namespace and return the tests it declares.

    Used by the grader with the instructor's checks: whatever the learner's kernel
    registered plays no part.
    """
    import course
    import course.db

    clear()
    # what the checks cell may assume the notebook imported before it
    namespace: dict[str, Any] = {"__name__": "__checks__", "course": course}
    code = compile(source, filename, "exec")
    try:
        exec(code, namespace)  # noqa: S102 - instructor code from solutions/
        return registered()
    finally:
        clear()
        hidden_block(False)


class Context:
    """What a test gets: the learner's workspace and tools to exercise it.

    Servers started with :meth:`serve` are shared by the tests of one run (same file,
    same environment): a Spring app starts once per exercise, not once per test.
    """

    def __init__(self, workspace: str | Path, shared: dict | None = None):
        self.workspace = Path(workspace).resolve()
        self._shared = shared if shared is not None else {}
        self._servers: list[str] = []
        self.server: servers.Server | None = None
        self.exchange: dict | None = None
        self.output: list[str] = []

    # -- files ----------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        p = (self.workspace / rel).resolve()
        if not p.exists():
            raise AssertionError(f"{rel} not found — run the cell that saves it (its --save option) first")
        return p

    def source(self, rel: str) -> str:
        return self.path(rel).read_text()

    # -- servers ----------------------------------------------------------------------
    def serve(self, rel: str, *, env: dict[str, str] | None = None, ready_timeout: float = 30.0,
              language: str | None = None, fresh: bool = False) -> servers.Server:
        """Start the saved file ``rel`` as a server (language from its extension).

        ``fresh=True`` gives this test its own server (for tests that stop or break it).
        """
        path = self.path(rel)
        lang = language or EXTENSIONS.get(path.suffix)
        if lang is None:
            raise CourseError(f"don't know how to run {rel}: give language=...")
        source = path.read_text()
        key = (lang, source, tuple(sorted((env or {}).items())))
        cached = self._shared.get(key)
        if not fresh and cached is not None and cached.running:
            self.server = cached
            return cached
        name = f"check-{len(self._shared)}-{len(self._servers)}-{path.stem}"
        try:
            self.server = servers.start(name, runners.get(lang), source, env=env, ready_timeout=ready_timeout)
        except CourseError as e:
            raise AssertionError(f"could not start {rel}: {e}") from None
        if fresh:
            self._servers.append(name)
        else:
            self._shared[key] = self.server
        return self.server

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        """An HTTP request to the served file; recorded as the test's evidence."""
        if self.server is None:
            raise CourseError("call ctx.serve(...) before sending requests")
        kw.setdefault("timeout", 10)
        full = url if url.startswith("http") else self.server.url + url
        try:
            response = httpx.request(method, full, **kw)
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

    # -- test runners -------------------------------------------------------------------
    def run(self, argv: list[str], *, cwd: str | Path | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> procs.RunResult:
        import os

        result = procs.run(argv, cwd=cwd or self.workspace, timeout=timeout, echo=None,
                           env={**os.environ, **(env or {})})
        self.output.append(result.stdout + result.stderr_tail)
        return result

    def node_test(self, rel: str, timeout: float = 60) -> dict:
        """Run ``node --test`` on a saved test file; returns {"pass": n, "fail": n, "output": ...}."""
        from .. import toolchains

        path = self.path(rel)
        result = self.run([toolchains.require("node"), "--test", str(path)], cwd=path.parent, timeout=timeout)
        text = result.stdout + result.stderr_tail
        counts = {k: int(v) for k, v in re.findall(r"^# (pass|fail) (\d+)", text, re.MULTILINE)}
        return {"pass": counts.get("pass", 0), "fail": counts.get("fail", 0), "ok": result.ok, "output": text}

    def go_test(self, rel_dir: str, timeout: float = 120) -> dict:
        """Run ``go test -json`` in a saved package folder; returns per-test outcomes."""
        from .. import toolchains
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
        import sys

        path = self.path(rel)
        result = self.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                          cwd=path.parent, timeout=timeout)
        text = result.stdout + result.stderr_tail
        counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|error)", text)}
        return {"passed": counts.get("passed", 0), "failed": counts.get("failed", 0) + counts.get("error", 0),
                "ok": result.ok, "output": text}

    def close(self) -> None:
        for name in self._servers:
            try:
                servers.stop(name, grace=2)
            except CourseError:
                pass
        self._servers.clear()
        self.server = None


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 20] + "\n… (truncated)"


def run_tests(tests: list[TestSpec], workspace: str | Path) -> list[TestResult]:
    """Run each test in its own Context; a crashing test is an ``error``, never a crash."""
    results = []
    shared: dict = {}
    try:
        for spec in tests:
            results.append(_run_one(spec, workspace, shared))
    finally:
        for server in shared.values():
            try:
                servers.stop(server.name, grace=2)
            except CourseError:
                pass
    return results


def _run_one(spec: TestSpec, workspace: str | Path, shared: dict) -> TestResult:
    ctx = Context(workspace, shared)
    start = time.monotonic()
    status, message = "pass", None
    try:
        spec.func(ctx)
    except AssertionError as e:
        status, message = "fail", str(e) or "assertion failed"
    except CourseError as e:
        status, message = "error", str(e)
    except Exception as e:  # the test (or the learner's code under it) broke
        frames = traceback.extract_tb(e.__traceback__)
        where = f" (line {frames[-1].lineno})" if frames else ""
        status, message = "error", f"{type(e).__name__}: {e}{where}"
    finally:
        log = ctx.logs()
        ctx.close()
    output = log or "\n".join(ctx.output)
    return TestResult(
        name=spec.name, status=status, score=spec.points if status == "pass" else 0.0,
        max_score=spec.points, message=message, output=_short(output),
        test_code="(hidden test)" if spec.hidden else spec.code, tags=list(spec.checklist),
        hint=spec.hint if status != "pass" else None, exchange=ctx.exchange,
        duration_s=time.monotonic() - start, task_id=spec.task_id)
