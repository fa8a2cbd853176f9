"""Where things live: the course's data, the projects cells import from, and scratch space.

The package runs two ways, and nothing may write into an installed package:

* **from the course's repository** (``make setup`` installs it editable): ``CHECKOUT``
  is the repository; ``course setup`` installs npm packages into
  ``course/projects/node/node_modules`` there, and cells build under ``.course/``.
* **installed** (``pip install backend-patterns-lab``, not editable): ``CHECKOUT`` is
  None; the package's data (checklist items, starters, the npm/Go/Maven project
  files) is read through :mod:`importlib.resources`, and ``course setup`` copies the
  projects to the user cache (``~/.cache/backend-lab/projects``) and installs there.
  What needs the repository itself (lessons, solutions: ``course lab``, ``build``,
  ``grade``) says so (:func:`require_checkout`).
"""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from .errors import CourseError

PACKAGE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backend-lab"


def _installed(package: Path) -> bool:
    """Installed by pip (not editable): the package sits in a site-packages folder."""
    return any(part in ("site-packages", "dist-packages") for part in package.parts)


def _checkout(package: Path) -> Path | None:
    """The course repository this package is the source tree of, if it is one (and visible:
    the grading sandbox binds only the package, so there it is None)."""
    root = package.parent
    if (not _installed(package) and (root / "pyproject.toml").is_file() and (root / "solutions").is_dir()
            and (root / "course") == package):
        return root
    return None


INSTALLED = _installed(PACKAGE)
CHECKOUT = _checkout(PACKAGE)
REPO = CHECKOUT if CHECKOUT is not None else PACKAGE.parent  # prefer CHECKOUT / require_checkout()
DATA = importlib.resources.files("course")  # the package's own files, wherever it is installed
# The npm/Go/Maven projects cells import from: in the repository, or a copy in the user cache
# (``course setup`` makes it) when the package is installed and must stay read-only.
PROJECTS = CACHE / "projects" if INSTALLED else PACKAGE / "projects"
NODE_PROJECT = PROJECTS / "node"
GO_PROJECT = PROJECTS / "go"
JAVA_PROJECT = PROJECTS / "java"


PROJECT_OUTPUTS = ("node_modules", "target", "classpath.txt", "__pycache__")  # made here, never shipped


def sync_projects() -> list[Path]:
    """Installed package: copy its npm/Go/Maven project files (package.json, go.mod, pom.xml,
    transpile.cjs, ...) to :data:`PROJECTS` in the user cache, where ``course setup`` installs
    their dependencies. Copies only what changed; returns what it wrote. In the repository
    the projects are used in place: nothing to do."""
    if not INSTALLED:
        return []
    written = []
    with importlib.resources.as_file(DATA / "projects") as source:
        for src in sorted(Path(source).rglob("*")):
            rel = src.relative_to(source)
            if not src.is_file() or any(part in PROJECT_OUTPUTS for part in rel.parts):
                continue
            dst = PROJECTS / rel
            data = src.read_bytes()
            if not dst.is_file() or dst.read_bytes() != data:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(data)
                written.append(dst)
    return written


def require_checkout(what: str) -> Path:
    """The course repository, or a :class:`CourseError` saying why ``what`` needs it."""
    if CHECKOUT is None:
        raise CourseError(
            f"{what} needs the course's repository (notebooks/, solutions/, exercises/), and this `course` "
            f"is an installed package ({PACKAGE}). Clone the course and run `make lab` there (it installs "
            "the package in editable mode). `course check`, `course new`, `course doctor`, `course setup` "
            "and the cell magics work from an installed package.")
    return CHECKOUT


def state_dir() -> Path:
    """Where the course keeps its own state (setup stamps): ``.course/`` in the repository,
    else the user cache."""
    return CHECKOUT / ".course" if CHECKOUT is not None else CACHE


def scratch() -> Path:
    """Where cell sources and their builds go: ``$COURSE_SCRATCH``, else ``.course/scratch``
    in the repo (or the user cache when there is no writable repository).

    Files are named by content hash, so re-running a cell reuses its build.
    """
    override = os.environ.get("COURSE_SCRATCH")
    if override:
        root = Path(override)
    elif CHECKOUT is not None and os.access(CHECKOUT, os.W_OK):
        root = CHECKOUT / ".course" / "scratch"
    else:
        root = CACHE / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root
