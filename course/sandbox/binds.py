"""What learner code must be able to read: the course's Python and the toolchains, found here.

Detect, don't assume: Python may come from pyenv under a 0700 home, Node from nvm, the
JDK from ``/usr/lib/jvm`` or conda. Each is bound read-only at its own path, so the
same absolute paths work inside and out — but only the install itself, never its
neighbours: from the repository, only the ``course`` package and the virtual
environment (never ``solutions/`` or ``tests/``); from a home folder, only the caches
that builds read (the Go module cache, the Maven repository).

Computed once per process; :func:`forget` recomputes (tests).
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from .. import paths, toolchains

COVERED = (Path("/usr"), Path("/etc"), Path("/bin"), Path("/sbin"), Path("/lib"), Path("/lib64"))


def _under(p: Path, roots) -> bool:
    return any(p == r or r in p.parents for r in roots)


def _install_root(binary: str | None) -> Path | None:
    """``…/bin/node`` → ``…`` (the installation, with its lib/ and include/)."""
    if not binary:
        return None
    real = Path(os.path.realpath(binary))
    return real.parent.parent if real.parent.name == "bin" else real.parent


@functools.lru_cache(maxsize=1)
def go_env() -> dict[str, str]:
    """GOROOT, GOMODCACHE and GOCACHE as ``go env`` reports them (empty without Go)."""
    found = toolchains.find("go")
    if not found.ok:
        return {}
    try:
        out = subprocess.run([found.path, "env", "GOROOT", "GOMODCACHE", "GOCACHE"], capture_output=True,
                             text=True, timeout=30, env={**os.environ, "GOTOOLCHAIN": "local"}).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {k: v for k, v in zip(("GOROOT", "GOMODCACHE", "GOCACHE"), out, strict=False) if v}


def _maven_repository() -> Path | None:
    """The common folder of the jars on the course's Java classpath (usually ~/.m2/repository)."""
    cp = paths.JAVA_PROJECT / "classpath.txt"
    if not cp.exists():
        return None
    jars = [p for p in cp.read_text().strip().split(os.pathsep) if p]
    if not jars:
        return None
    return Path(os.path.commonpath(jars))


@functools.lru_cache(maxsize=1)
def read_only() -> list[Path]:
    """Every path bound read-only into every sandbox (besides the system folders)."""
    package = paths.PACKAGE
    prefixes = [Path(os.path.realpath(p)) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
    wanted: list[Path] = [package, *prefixes]
    wanted += [Path(p) for p in {sys.prefix, sys.base_prefix} if Path(p) != Path(os.path.realpath(p))]
    for entry in sys.path:
        path = Path(os.path.realpath(entry or "."))
        # only Python's own folders: never the working directory or the repository root
        # (`python -m` and editable installs put them on sys.path), which would show the
        # grader's files, solutions/ and the home folder
        if (_under(path, prefixes) or path.name in ("site-packages", "dist-packages")) and os.path.isdir(path):
            wanted.append(path)
    for found in toolchains.find_many(("node", "npm", "java", "javac", "maven")).values():
        root = _install_root(found.path)
        if root is not None:
            wanted.append(root)
    go = go_env()
    for key in ("GOROOT", "GOMODCACHE"):
        if go.get(key):
            wanted.append(Path(go[key]))
    repo = _maven_repository()
    if repo is not None:
        wanted.append(repo)
    kept: list[Path] = []
    # what this user cannot read, learner code needs no more than the grader does (bwrap,
    # running as this user, could not bind it anyway)
    for p in sorted({w for w in wanted if os.access(w, os.R_OK | os.X_OK)}, key=lambda w: len(w.parts)):
        if not _under(p, COVERED) and not _under(p, kept):
            kept.append(p)
    return kept


@functools.lru_cache(maxsize=1)
def npm_cache() -> Path | None:
    found = toolchains.find("npm")
    if not found.ok:
        return None
    try:
        out = subprocess.run([found.path, "config", "get", "cache"], capture_output=True, text=True,
                             timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out) if out else None


def maven_repository() -> Path | None:
    return _maven_repository()


def build_caches() -> tuple[Path, ...]:
    """Go's build cache (cells build Go): shown writable in a sandbox through a private layer
    (:class:`~.jail.Jail`), so it stays warm and nobody can poison another's builds."""
    go = go_env().get("GOCACHE")
    return tuple(p for p in ([Path(go)] if go else []) if p.is_dir())


def package_caches() -> tuple[Path, ...]:
    """npm's cache and Maven's repository: what preparing an app installs from, offline."""
    return tuple(c for c in (npm_cache(), maven_repository()) if c is not None and c.is_dir())


def cache_env() -> dict[str, str]:
    """What points the tools at those caches inside a sandbox, whose HOME is its own /tmp:
    npm and Maven otherwise look under HOME, and work offline only from a warm cache."""
    env = {}
    npm = npm_cache()
    if npm is not None:
        env.update({"npm_config_cache": str(npm), "npm_config_prefer_offline": "true"})
    m2 = maven_repository()
    if m2 is not None:
        env["MAVEN_OPTS"] = f"-Dmaven.repo.local={m2}"
    return env


def forget() -> None:
    read_only.cache_clear()
    go_env.cache_clear()
    npm_cache.cache_clear()
