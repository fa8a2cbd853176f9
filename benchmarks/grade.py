"""Grading throughput: 20 submissions of one Node exercise, on an embedded cluster and on a
real one (``dask scheduler`` + 2 ``dask worker`` processes on 127.0.0.1, started here).

Prints, for each: submissions per minute, and the harness overhead — wall × workers ÷ the
sum of the work done inside the submissions (notebook execution + tests, as each grading
process timed it). 1.0 would mean the harness (cluster, workers, sandbox, dispatch,
reports) costs nothing; target ≤ 1.3. Then the ratio cluster ÷ local of submissions per
minute (target ≥ 0.9 on one machine). Everything is measured in this run.

    python benchmarks/grade.py [--submissions 20] [--jobs 2]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course import procs
from course.grading import grade, spec

EXERCISE = "node-express-user-lookup"


def _cluster(workers: int, logs: Path):
    port = procs.free_port()
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler = procs.spawn([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                            stdout=open(logs / "scheduler.log", "wb"), stderr=subprocess.STDOUT)
    procs_ = [scheduler] + [procs.spawn([dask, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                         "--no-dashboard", "--memory-limit", "0"],
                                        stdout=open(logs / f"worker{n}.log", "wb"), stderr=subprocess.STDOUT)
                            for n in range(workers)]
    from distributed import Client

    with Client(f"tcp://127.0.0.1:{port}", timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return f"tcp://127.0.0.1:{port}", procs_


def _measure(label: str, subs: list[Path], out: Path, workers: int, **kw) -> float:
    start = time.monotonic()
    report = grade.grade(subs, out=out, progress=False, formats=("json",), **kw)
    wall = time.monotonic() - start
    work = report["work_s"]
    per_minute = len(subs) / wall * 60
    print(f"{label:<28} {wall:6.1f} s wall  {per_minute:5.1f} submissions/min  "
          f"overhead {wall * workers / work:4.2f}  (work {work:.1f} s)")
    return per_minute


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--submissions", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    ex = spec.find(EXERCISE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subs = []
        for n in range(args.submissions):  # half solved, half untouched: both paths are timed
            d = root / f"learner{n:02d}"
            d.mkdir()
            shutil.copy(ex.solution if n % 2 == 0 else ex.exercise_path, d / ex.solution.name)
            subs.append(d)
        print(f"{args.submissions} submissions of {EXERCISE}, {args.jobs} workers; targets: overhead ≤ 1.3, "
              f"cluster ÷ local ≥ 0.9")
        local = _measure(f"embedded (--jobs {args.jobs})", subs, root / "local", args.jobs, jobs=args.jobs)
        address, started = _cluster(args.jobs, root)
        try:
            remote = _measure(f"scheduler ({args.jobs} workers)", subs, root / "cluster", args.jobs,
                              scheduler=address)
        finally:
            for p in reversed(started):
                procs.stop(p, grace=5)
        print(f"cluster ÷ local                {remote / local:4.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
