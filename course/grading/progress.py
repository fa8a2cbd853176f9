"""Remember each exercise's latest result on this machine, for the welcome notebook.

Only a learner's runs count. An instructor's notebook in ``solutions/`` calls
``course.check`` with the same exercise id as the learner's copy; recording those runs
would show a solved exercise (even more points than the learner's version has, as the
solution also runs the hidden tests) to someone who never opened it.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path


def store() -> Path:
    base = os.environ.get("COURSE_PROGRESS")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "backend-lab" / "progress.json"


def is_learners(workspace: str | Path, notebook: str | None = None) -> bool:
    """Whether a check run from ``workspace`` (the notebook's folder) by ``notebook`` (default:
    the kernel's notebook, ``JPY_SESSION_NAME``) is a learner's: not one of the instructor's
    solutions."""
    from .spec import SOLUTIONS

    notebook = notebook if notebook is not None else os.environ.get("JPY_SESSION_NAME")
    places = [Path(workspace)] + ([Path(notebook)] if notebook else [])
    return not any(p.resolve().is_relative_to(SOLUTIONS.resolve()) for p in places)


def load() -> dict:
    try:
        return json.loads(store().read_text())
    except (FileNotFoundError, ValueError):
        return {}


def record(exercise_id: str, score: float, max_score: float, status: str) -> None:
    data = load()
    best = max(score, data.get(exercise_id, {}).get("best", 0.0))
    data[exercise_id] = {"score": score, "max_score": max_score, "status": status, "best": best,
                         "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path = store()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def summary(catalogue: dict) -> list[tuple[str, str, str]]:
    """(section, exercise title, state) for every exercise, in catalogue order."""
    data = load()
    rows = []
    for ex in catalogue.values():
        entry = data.get(ex.id)
        if entry is None:
            state = "not started"
        else:
            state = f"{entry['score']:g}/{entry['max_score']:g} ({entry['status']})"
        rows.append((ex.section, ex.title, state))
    return rows
