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
    key: str = ""  # the stamp's name (the language's when empty)


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
        "npm packages (Express, Fastify, NestJS, helmet, pino, pg, prom-client, OpenTelemetry, ...)",
        "node",
        (paths.NODE_PROJECT / "package.json", paths.NODE_PROJECT / "package-lock.json"),
        lambda: (paths.NODE_PROJECT / "node_modules" / ".package-lock.json").exists(),
        lambda: [([toolchains.require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                  paths.NODE_PROJECT, {})],
    ),
    Step(
        "Go modules (gorilla/mux, gin, pgx, prometheus, errgroup, OpenTelemetry) and a warm build cache",
        "go",
        (paths.GO_PROJECT / "go.mod", paths.GO_PROJECT / "go.sum", paths.GO_PROJECT / "deps.go"),
        _go_cache_ok,
        lambda: [([toolchains.require("go"), "mod", "download"], paths.GO_PROJECT, GO_ENV),
                 ([toolchains.require("go"), "build", "./..."], paths.GO_PROJECT, GO_ENV)],
    ),
    Step(
        "Maven dependencies (Spring Boot 3 web, validation, actuator, JDBC, PostgreSQL, Prometheus, OpenTelemetry)",
        "java",
        (paths.JAVA_PROJECT / "pom.xml",),
        _classpath_ok,
        lambda: [([toolchains.require("maven"), "-q", "-B", "dependency:build-classpath",
                   "-Dmdep.outputFile=classpath.txt"], paths.JAVA_PROJECT, {})],
    ),
]


# -- the capstones' dependencies, in the package caches ----------------------------------
# The grading sandbox has no network: a capstone's `npm ci`, `go build` and `mvn package`
# there install from npm's cache, Go's module cache and Maven's repository alone. These
# steps fill them with what the starters and reference capstones need, by running the same
# tools on a throw-away copy of each app's manifests (the apps themselves are never written).
WARM = paths.state_dir() / "warm"


def _apps(marker: str) -> list[Path]:
    roots = [paths.PACKAGE / "starters"]
    if paths.CHECKOUT is not None:
        roots.append(paths.CHECKOUT / "solutions" / "capstone")
    return sorted(p.parent for root in roots if root.is_dir() for p in root.glob(f"*/{marker}"))


def _throwaway(app: Path, files: tuple[str, ...] | None) -> Path:
    """A copy of ``app`` (or just ``files`` of it) to build in, under the state folder."""
    import shutil

    copy = WARM / f"{app.parent.name}-{app.name}"
    shutil.rmtree(copy, ignore_errors=True)
    if files is None:
        shutil.copytree(app, copy, ignore=shutil.ignore_patterns("node_modules", "target", "dist", ".venv"))
    else:
        copy.mkdir(parents=True)
        for name in files:
            if (app / name).is_file():
                shutil.copy(app / name, copy / name)
    return copy


def _remove(folder: Path) -> tuple[list[str], Path, dict]:
    return [sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)",
            str(folder)], WARM, {}


def _warm_npm() -> list[tuple[list[str], Path, dict]]:
    commands = []
    for app in _apps("package-lock.json"):
        copy = _throwaway(app, ("package.json", "package-lock.json", ".npmrc"))
        commands += [([toolchains.require("npm"), "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                       "--loglevel=error"], copy, {}), _remove(copy)]
    return commands


def _warm_go() -> list[tuple[list[str], Path, dict]]:
    commands = []
    for app in _apps("go.mod"):
        copy = _throwaway(app, ("go.mod", "go.sum"))
        commands += [([toolchains.require("go"), "mod", "download"], copy, GO_ENV), _remove(copy)]
    return commands


def _warm_maven() -> list[tuple[list[str], Path, dict]]:
    commands = []
    for app in _apps("pom.xml"):  # `package` itself: go-offline misses plugins resolved at build time
        copy = _throwaway(app, None)
        build = [toolchains.require("maven"), "-q", "-B", "-Dstyle.color=never", "package", "-DskipTests"]
        commands += [(build, copy, {}), _remove(copy)]
    return commands


def _manifests(name: str) -> tuple[Path, ...]:
    return tuple(app / name for app in _apps(name))


STEPS += [
    Step("capstones' npm packages, cached for offline builds in the grading sandbox", "node",
         _manifests("package-lock.json"), lambda: True, _warm_npm, key="capstones-node"),
    Step("capstones' Go modules, cached for offline builds in the grading sandbox", "go",
         _manifests("go.sum"), lambda: True, _warm_go, key="capstones-go"),
    Step("capstones' Maven plugins and jars, cached for offline builds in the grading sandbox", "java",
         _manifests("pom.xml"), lambda: True, _warm_maven, key="capstones-java"),
]


def run(force: bool = False, log: Callable[[str], None] = print) -> int:
    """Run every step that is out of date. Returns 0, or 1 if a step failed."""
    STAMPS.mkdir(parents=True, exist_ok=True)
    if paths.sync_projects():  # an installed package works on a copy in the user cache
        log(f"✓ project files copied to {paths.PROJECTS}")
    failed = 0
    for step in STEPS:
        key = step.language
        stamp = STAMPS / f"{step.key or key}.sha256"
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


# -- `course setup` ---------------------------------------------------------------------
def cmd_setup(args) -> int:
    """Install the packages cells import (idempotent)."""
    return run(force=args.force)


def register(sub) -> None:
    p = sub.add_parser("setup", help="install the npm, Go and Maven packages lessons import",
                       description="Runs `npm ci`, `go mod download && go build` and Maven dependency "
                                   "resolution for the course's projects in course/projects/. Steps whose "
                                   "inputs are unchanged are skipped.")
    p.add_argument("--force", action="store_true", help="redo every step")
    p.set_defaults(func=cmd_setup)
