"""``course check APP_DIR``: the command-line face of :func:`engine.check_app`.

Exit codes are part of the interface (CI scripts and notebooks rely on them):
0 every selected item passed, 1 something failed or the app would not start,
2 the input was unusable (no folder, no Procfile, unknown ``--only`` id, …).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .. import otlp
from ..errors import CourseError
from . import engine, report

DESCRIPTION = """\
Start your app from APP_DIR/Procfile (its `web:` line, exec'd without a shell) and
check it from the outside against the 11 items of the production checklist:
error-handling, logging, request-validation, compression, cors, rate-limiting,
connection-pooling, graceful-shutdown, health-check, metrics, security-headers.

The app gets PORT, HOST, DATABASE_URL (a fresh PostgreSQL database with a seeded
`users` table), DB_POOL_MAX, CORS_ORIGINS, RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS,
LOG_LEVEL and NODE_ENV; docs/service-contract.md lists the routes it must serve.
Dependencies are installed first when needed (npm ci, go build, mvn package,
pip install -r requirements.txt into a private venv); a version conflict there is
reported as DEPENDENCY_CONFLICT, naming the packages and the way out.

Beyond the seed's 11, `--items all` also checks (and counts) `tracing`: a W3C
traceparent sent in must come back in the app's log lines, and, with --collector,
in a server span the app exported over OTLP/HTTP whose parent is the span sent in.
"""

EPILOG = """\
exit status: 0 all selected items pass, 1 a failure or the app did not start,
2 unusable input.

seed error codes in reports:
  ASYNC_PATTERN_MISMATCH  health-check: /health stalls while /api/slow requests run, so
                          something blocks the event loop (a sync sleep or a sync driver
                          inside `async def`, a CPU loop in a Node handler)
  DEPENDENCY_CONFLICT     the app could not be prepared: npm ERESOLVE, pip
                          ResolutionImpossible, go or Maven version conflicts

examples:
  course check exercises/07-errors/my-app
  course check my-app --items all --collector local     # + tracing, spans included
  course check my-app --only cors,rate-limiting
  course check my-app --json > report.json
  course check my-app --database-url postgresql://me@localhost:5432/postgres
"""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand; its handler is :func:`run` (``args.func``)."""
    p = subparsers.add_parser(
        "check", help="run the production checklist against your app", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("app_dir", metavar="APP_DIR", help="folder with your app and its Procfile")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout (progress stays off)")
    p.add_argument("--only", metavar="ID[,ID...]", action="append",
                   help="check only these items (comma-separated or repeated), e.g. --only cors,metrics; "
                        "extra items (tracing) may be named too")
    p.add_argument("--items", choices=("seed", "all"), default="seed",
                   help="seed: the seed's 11 items (default; the score is out of 11); all: also the "
                        "course's extra items (tracing), reported and counted beside them")
    p.add_argument("--collector", metavar="URL|local",
                   help="give the app OTEL_EXPORTER_OTLP_ENDPOINT=URL and have the tracing check read the "
                        "spans back from it: a course collector (`python -m course.otlp`, or "
                        "course.otlp.start() in a notebook); `local` starts one for this run")
    p.add_argument("--database-url", metavar="URL", default=os.environ.get("DATABASE_URL"),
                   help="use this PostgreSQL server (needs CREATEDB; default: $DATABASE_URL, else an "
                        "embedded server started for the run). A database is created per run and dropped after.")
    p.add_argument("--timeout", type=float, default=engine.START_TIMEOUT, metavar="SECONDS",
                   help="how long the app may take to answer GET /health after start "
                        f"(default {engine.START_TIMEOUT:.0f})")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show the request and response that decided each failure")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Check the app, print the report, and return the exit status."""
    progress = None
    if not args.json and sys.stderr.isatty():
        def progress(message: str) -> None:
            print(f"· {message}", file=sys.stderr, flush=True)
    try:
        with contextlib.ExitStack() as stack:
            collector = args.collector
            if collector == "local":
                collector = stack.enter_context(otlp.Collector()).url
            result = engine.check_app(args.app_dir, only=args.only, database_url=args.database_url or None,
                                      timeout=args.timeout, progress=progress,
                                      include_extra=args.items == "all", collector_url=collector)
    except CourseError as e:
        print(f"course check: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("course check: interrupted (the app was stopped and its database dropped)", file=sys.stderr)
        return 130
    if args.json:
        print(report.render_json(result))
    else:
        print(report.render_text(result, verbose=args.verbose))
    return result.exit_code
