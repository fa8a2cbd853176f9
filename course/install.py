"""``course setup``: install what cells import — npm packages, Go modules, Maven jars.

In the course's repository they go into ``course/projects``; from an installed package,
into a copy of those projects in the user cache (:func:`paths.sync_projects`), so the
package itself is never written to.

Each step is skipped when its inputs (lockfile, go.sum, pom.xml) are unchanged since it
last succeeded *and* its outputs still exist, so a second ``make setup`` takes a
second or two. A missing toolchain skips that language with the install hint; the
lessons that need it are skipped too, everything else still works.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Callable

from . import paths, procs, toolchains
from .runners.go import GO_ENV

STAMPS = paths.state_dir() / "setup"


@dataclasses.dataclass
class Step:
    name: str
    language: str  # toolchain group that must be present
    inputs: tuple[Path, ...]
    outputs: Callable[[], bool]  # still there?
    commands: Callable[[], list[tuple[list[str], Path, dict]]]


def _digest(files: tuple[Path, ...]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes() if f.exists() else b"<missing>")
    return h.hexdigest()


def _classpath_ok() -> bool:
    cp = paths.JAVA_PROJECT / "classpath.txt"
    return cp.exists() and all(os.path.exists(j) for j in cp.read_text().strip().split(":") if j)


def _go_cache_ok() -> bool:
    return bool(os.environ.get("GOCACHE") or (Path.home() / ".cache" / "go-build").exists())


STEPS = [
    Step(
        "npm packages (Express, Fastify, NestJS, helmet, pino, pg, prom-client, ...)",
        "node",
        (paths.NODE_PROJECT / "package.json", paths.NODE_PROJECT / "package-lock.json"),
        lambda: (paths.NODE_PROJECT / "node_modules" / ".package-lock.json").exists(),
        lambda: [([toolchains.require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                  paths.NODE_PROJECT, {})],
    ),
    Step(
        "Go modules (gorilla/mux, gin, pgx, prometheus, errgroup) and a warm build cache",
        "go",
        (paths.GO_PROJECT / "go.mod", paths.GO_PROJECT / "go.sum", paths.GO_PROJECT / "deps.go"),
        _go_cache_ok,
        lambda: [([toolchains.require("go"), "mod", "download"], paths.GO_PROJECT, GO_ENV),
                 ([toolchains.require("go"), "build", "./..."], paths.GO_PROJECT, GO_ENV)],
    ),
    Step(
        "Maven dependencies (Spring Boot 3 web, validation, actuator, JDBC, PostgreSQL, Prometheus)",
        "java",
        (paths.JAVA_PROJECT / "pom.xml",),
        _classpath_ok,
        lambda: [([toolchains.require("maven"), "-q", "-B", "dependency:build-classpath",
                   "-Dmdep.outputFile=classpath.txt"], paths.JAVA_PROJECT, {})],
    ),
]


def run(force: bool = False, log: Callable[[str], None] = print) -> int:
    """Run every step that is out of date. Returns 0, or 1 if a step failed."""
    STAMPS.mkdir(parents=True, exist_ok=True)
    if paths.sync_projects():  # an installed package works on a copy in the user cache
        log(f"✓ project files copied to {paths.PROJECTS}")
    failed = 0
    for step in STEPS:
        key = step.language
        stamp = STAMPS / f"{key}.sha256"
        digest = _digest(step.inputs)
        if not force and stamp.exists() and stamp.read_text() == digest and step.outputs():
            log(f"✓ {step.name}: up to date")
            continue
        missing = [t for t in toolchains.LANGUAGE_TOOLS[key] if not toolchains.find(t).ok]
        if key == "java" and not toolchains.find("maven").ok:
            missing.append("maven")
        if missing:
            for tool in missing:
                log(f"- skipped {step.name}: {toolchains.find(tool).hint}")
            continue
        log(f"→ {step.name} ...")
        start = time.monotonic()
        for argv, cwd, extra in step.commands():
            result = procs.run(argv, cwd=cwd, env={**os.environ, **extra}, timeout=1800, echo=_echo_errors)
            if not result.ok:
                log(f"✗ {step.name}: `{' '.join(argv)}` failed (status {result.returncode})\n"
                    f"{result.stderr_tail[-2000:]}")
                failed = 1
                break
        else:
            stamp.write_text(digest)
            log(f"✓ {step.name}: done in {time.monotonic() - start:.0f} s")
    return failed


def _echo_errors(stream: str, text: str) -> None:
    if stream == "stderr":
        sys.stderr.write(text)
