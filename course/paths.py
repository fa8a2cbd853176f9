"""Where things live: the course's dependency projects and the scratch space for cells."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
PROJECTS = PACKAGE / "projects"
NODE_PROJECT = PROJECTS / "node"
GO_PROJECT = PROJECTS / "go"
JAVA_PROJECT = PROJECTS / "java"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "backend-lab"


def scratch() -> Path:
    """Where cell sources and their builds go: ``$COURSE_SCRATCH``, else ``.course/scratch``
    in the repo (or the user cache when the repo is read-only).

    Files are named by content hash, so re-running a cell reuses its build.
    """
    override = os.environ.get("COURSE_SCRATCH")
    if override:
        root = Path(override)
    elif os.access(REPO, os.W_OK):
        root = REPO / ".course" / "scratch"
    else:
        root = CACHE / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root
