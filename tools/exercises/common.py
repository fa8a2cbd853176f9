"""Shared pieces of exercise notebooks (solutions/), so every exercise starts and ends alike."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
PARAMETERS = ("code", 'workspace = "."  # set by the grader\ngrading = False')
SETUP_DB = ("code", "%load_ext course\nimport os, course, course.db\n\n"
                    "os.environ[\"DATABASE_URL\"] = course.db.url()  # a real PostgreSQL with a `users` table")
SETUP = ("code", "%load_ext course\nimport course")


def exercise(path: str, meta: dict, cells: list[tuple[str, str]]) -> None:
    """Write ``solutions/<path>``: the parameters cell is cell 1, the `checks` cell is
    the one whose source starts with ``from course.grading import test``, the last cell
    stops servers and calls ``course.check``."""
    cells = list(cells) + [("code", f'%stop --all\ncourse.check("{meta["id"]}")')]
    tags = {1: ["parameters"]}
    for i, (kind, src) in enumerate(cells):
        if kind == "code" and src.lstrip().startswith("from course.grading import test"):
            tags[i] = ["checks"]
    write(ROOT / "solutions" / path, cells, tags=tags, metadata={"course": meta}, execute=False)
