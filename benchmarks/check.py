"""How long does a full 11-item check take once the app is up?

Builds and starts APP_DIR outside the clock, then times ``engine.run_checks`` (the
three phases exactly as ``course check`` runs them) and prints each item's time,
the wall time, and the gain from running checks concurrently (sum of item times /
wall time). Target: ≤ 4 s wall on a 2-core machine (issue #14; it was 8 s).

    python benchmarks/check.py tests/fixtures/apps/express-good [--repeat 3] [--json]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course.checklist import engine
from course.checklist.app import AppProcess, load_spec, prepare
from course.postgres import EmbeddedPostgres
from course.checklist.model import Target

TARGET_S = 4.0


def one_run(app_dir: str, server: EmbeddedPostgres) -> tuple[float, list]:
    spec = load_spec(app_dir)
    prepared = prepare(spec)
    items = engine.default_items()
    checks = engine.default_checks()
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(server.app_database(spec.name))
        app = AppProcess(prepared, db.url)
        stack.callback(app.cleanup)
        app.start()
        target = Target(base_url=app.base_url, host=app.host, port=app.port, env=dict(app.env),
                        proc=app.proc, logs=app.logs, db=db)
        t0 = time.monotonic()
        results = engine.run_checks(items, checks, target)
        wall = time.monotonic() - t0
    return wall, results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("app_dir")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    walls, per_item = [], {}
    with EmbeddedPostgres() as server:
        for _ in range(args.repeat):
            wall, results = one_run(args.app_dir, server)
            walls.append(wall)
            for r in results:
                per_item.setdefault(r.id, []).append((r.duration_s, r.status))
    med = {k: statistics.median(d for d, _ in v) for k, v in per_item.items()}
    wall = statistics.median(walls)
    summed = sum(med.values())
    phase = {k: ("2 outage" if k == engine.OUTAGE else "3 last" if k == engine.LAST
                  else "1 no database" if k in engine.DATABASE_FREE else "1 concurrent") for k in med}
    if args.json:
        print(json.dumps({"app": args.app_dir, "wall_s": walls, "items": per_item, "sum_s": summed}, indent=1))
    else:
        print(f"{'item':<20} {'phase':<15} {'time':>6}  status")
        for k, v in med.items():
            print(f"{k:<20} {phase[k]:<15} {v:6.2f}  {'/'.join(s for _, s in per_item[k])}")
        p1 = max((v for k, v in med.items() if phase[k].startswith("1")), default=0.0)
        print(f"\nwall (median of {len(walls)}): {wall:.2f} s   [{', '.join(f'{w:.2f}' for w in walls)}]")
        print(f"sum of item times: {summed:.2f} s   concurrency gain: {summed / wall:.2f}x")
        print(f"longest phase-1 item: {p1:.2f} s   target: ≤ {TARGET_S:.0f} s "
              f"({'met' if wall <= TARGET_S else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
