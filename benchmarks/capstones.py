"""Per framework: build time (warm caches), time to ready, and check time.

For each reference capstone in solutions/capstone/: the build step is forced (its
stamp removed) while dependency caches stay warm (npm cache, Go build cache, ~/.m2);
then the app is started and timed until it answers, then the full 11-item check runs.
Target: time to ready under 5 s after the build, for every framework.

    python benchmarks/capstones.py [express fastify ...]
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course import toolchains
from course.checklist import engine
from course.checklist.app import AppProcess, app_cache_dir, load_spec, prepare
from course.postgres import EmbeddedPostgres
from course.checklist.model import Target

ROOT = Path(__file__).resolve().parent.parent / "solutions" / "capstone"
LANG = {"express": "node", "fastify": "node", "nestjs": "node", "fastapi": "python", "flask": "python",
        "django": "python", "gin": "go", "spring": "java"}
READY_TARGET_S = 5.0


def measure(name: str, server: EmbeddedPostgres) -> tuple[float, float, float, str]:
    app_dir = ROOT / name
    for stamp in app_cache_dir(app_dir).glob("*.stamp"):
        if not stamp.name.startswith(("npm-ci", "venv")):  # keep installs, force the build itself
            stamp.unlink()
    t0 = time.monotonic()
    prepared = prepare(load_spec(app_dir))
    build = time.monotonic() - t0
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(server.app_database(name))
        app = AppProcess(prepared, db.url)
        stack.callback(app.cleanup)
        ready = app.start()
        target = Target(base_url=app.base_url, host=app.host, port=app.port, env=dict(app.env),
                        proc=app.proc, logs=app.logs, db=db)
        t1 = time.monotonic()
        results = engine.run_checks(engine.default_items(), engine.default_checks(), target)
        check = time.monotonic() - t1
    passed = sum(r.status == "pass" for r in results)
    return build, ready, check, f"{passed}/{len(results)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("frameworks", nargs="*", default=list(LANG))
    args = ap.parse_args()
    print(f"{'framework':<10} {'build (s)':>10} {'ready (s)':>10} {'check (s)':>10}  "
          f"items  ready < {READY_TARGET_S:g} s")
    with EmbeddedPostgres() as server:
        for name in args.frameworks:
            if not toolchains.available(LANG[name]) or not (ROOT / name / "Procfile").exists():
                print(f"{name:<10} skipped (toolchain or capstone missing)")
                continue
            build, ready, check, items = measure(name, server)
            ok = "yes" if ready < READY_TARGET_S else "NO"
            print(f"{name:<10} {build:>10.2f} {ready:>10.2f} {check:>10.2f}  {items:>5}  {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
