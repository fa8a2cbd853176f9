"""``python -m course.checklist.app.build APP_DIR CACHE``: prepare an app, print the result as JSON.

What the grader runs inside a submission's sandbox (:func:`.prepare.in_sandbox`), so that
``npm ci``, ``go build``, ``mvn package`` and ``pip install`` — and every file they write —
happen where the learner's code runs, never in the grader.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import AppStartError
from .prepare import prepare, to_json
from .procfile import load_spec


def main(argv: list[str]) -> int:
    app_dir, cache = argv
    try:
        prepared = prepare(load_spec(app_dir), cache=Path(cache))
    except AppStartError as e:
        print(json.dumps({"error": str(e), "output": e.log_tail, "code": e.code}))  # code: DEPENDENCY_CONFLICT
        return 0
    print(json.dumps(to_json(prepared)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
