"""Grading throughput: 20 submissions of one Node exercise with --jobs 2.

Prints the total wall time and the harness overhead: wall × jobs ÷ the sum of the
work done inside the submissions (notebook execution + tests, as each worker timed
it), all measured in this run. 1.0 would mean the harness (workers, sandbox,
copying, dispatch, reports) costs nothing; target ≤ 1.3.

    python benchmarks/grade.py [--submissions 20] [--jobs 2]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course.grading import grade, spec

EXERCISE = "node-express-user-lookup"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--submissions", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    ex = spec.find(EXERCISE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in range(args.submissions):  # half solved, half untouched: both paths are timed
            d = root / f"learner{n:02d}"
            d.mkdir()
            shutil.copy(ex.solution if n % 2 == 0 else ex.exercise_path, d / ex.solution.name)
        start = time.monotonic()
        report = grade.grade(sorted(root.glob("learner*")), jobs=args.jobs, out=root / "out",
                             progress=False, formats=("json",))
        wall = time.monotonic() - start
    work = report["work_s"]
    per_notebook = [ex_["work_s"] for learner in report["learners"] for ex_ in learner["exercises"]]
    print(f"{args.submissions} submissions of {EXERCISE}, --jobs {args.jobs}")
    print(f"total wall time        {wall:8.1f} s")
    print(f"work inside submissions {work:7.1f} s (median {sorted(per_notebook)[len(per_notebook) // 2]:.1f} s each)")
    print(f"harness overhead       {wall * args.jobs / work:8.2f}  (wall × jobs ÷ work; target ≤ 1.3)")
    print(f"wall ÷ work            {wall / work:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
