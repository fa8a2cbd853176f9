"""Build notebooks/07-production-checklist/*.ipynb (run from the repo root:
``.venv/bin/python tools/lessons/07_production_checklist.py [NAME ...]``).

The apps the notebooks check live in notebooks/07-production-checklist/apps/
(starter/ and production/, sharing apps/package.json + package-lock.json)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "notebooks" / "07-production-checklist"

SETUP = '''
import hashlib, subprocess
from pathlib import Path
from course import toolchains

APPS = Path("apps").resolve()
STARTER, PRODUCTION = APPS / "starter", APPS / "production"

# Both apps resolve their npm packages from apps/node_modules: install it once (npm ci),
# again only when the lockfile changes.
lock_digest = hashlib.sha256((APPS / "package-lock.json").read_bytes()).hexdigest()
stamp = APPS / "node_modules" / ".installed-from"
if not stamp.is_file() or stamp.read_text() != lock_digest:
    subprocess.run([toolchains.require("npm"), "ci", "--prefer-offline", "--no-audit", "--no-fund"],
                   cwd=APPS, check=True, capture_output=True, timeout=600)
    stamp.write_text(lock_digest)
print("apps/node_modules ready:", (APPS / "node_modules" / "express").is_dir())
'''

ITEM_PROSE = {
    "error-handling": """
The check sends an unknown route, a route that throws (`/api/boom`) and a malformed JSON body,
and wants 404 / 500 / 400, JSON bodies, no stack traces, and a live process afterwards. The
starter has the seed's handler, but Express answers unknown routes itself, in HTML
(notebook 05-01 has the full story).
""",
    "logging": """
The check captures stdout while it sends a 200, a 404 and a 500, with a secret
`Authorization` header. Every line must be JSON with a level, a time and a message; one access
line per request (method, path, status, duration); the 500 at error level; the secret nowhere.
The starter's `console.log` text lines fail the first rule.
""",
    "request-validation": """
`POST /api/users` with `{}` and with wrong types must answer 400/422 naming **each** bad field;
a valid body 201. The starter inserts whatever it gets (`NULL`s included) and answers 201.
""",
    "compression": """
A large JSON response (`/api/users`, ~20 KB) requested with `Accept-Encoding: gzip` must come
back gzipped, under half the size, decoding to the same bytes, with `Vary: Accept-Encoding`;
with `identity`, uncompressed. One middleware.
""",
    "cors": """
A preflight from an allowed origin (the `CORS_ORIGINS` list) must be answered with that exact
origin, `PUT` and `authorization` allowed, and `Vary: Origin`; other origins, and `Origin: null`,
must get no `Access-Control-Allow-Origin` at all. The starter sends no CORS headers, so browsers
on the real front-end can't use it.
""",
    "rate-limiting": """
`RATE_LIMIT_MAX` requests per `RATE_LIMIT_WINDOW_MS` per client; the next one gets 429 with a JSON
body and `Retry-After`/`RateLimit` headers; a forged `X-Forwarded-For` must not reset the count;
`/health` is never limited; after the window, requests pass again.
""",
    "connection-pooling": """
Two bursts of concurrent `GET /api/slow-query` (each holds a connection in `pg_sleep`) while the
checker watches PostgreSQL's `pg_stat_activity`: peak connections ≤ `DB_POOL_MAX`, at least 2
(real concurrency), and no more than `DB_POOL_MAX` distinct connections over both bursts (reuse).
The starter's `new Client()` per query opens a connection per request.
""",
    "graceful-shutdown": """
A 3-second request is in flight when the checker sends SIGTERM; a new connection is attempted
1 s later. The slow request must complete with 200, the new connection must be refused (or get
503), and the process must exit within 10 s with status 0 or 143, its database connections
closed. Node's default on SIGTERM is to die on the spot.
""",
    "health-check": """
`/health` (liveness) must answer 200 `{"status": "ok"}` within 1 s, never rate limited, even with
the database down; `/health/ready` (readiness) must answer 503 JSON while the checker makes the
database unreachable, and 200 again once it is back.
""",
    "metrics": """
`/metrics` in Prometheus text format; after 10 requests to `/api/users/1..10`, an HTTP request
counter or histogram with method and status labels must have risen by ≥ 10 — and no label may
hold a concrete path like `/api/users/7` (one time series per id would be unbounded).
""",
    "security-headers": """
On a 200, a 404 and a 500: `X-Content-Type-Options: nosniff`, frame protection, a
Content-Security-Policy, a Referrer-Policy, and no `X-Powered-By` or versioned `Server` banner.
""",
}

HELPERS = r'''
import re, textwrap
from concurrent.futures import ThreadPoolExecutor
from IPython.display import Markdown, display
from course.checklist import engine, report
from course.checklist.database import EmbeddedPostgres
from course.checklist.items import item, load_items

db = EmbeddedPostgres().start()   # one PostgreSQL for every run in this notebook
SOURCE = (PRODUCTION / "server.js").read_text()
APPS_BY_NAME = {"starter": STARTER, "production": PRODUCTION}
RESULTS: dict[str, dict[str, str]] = {}   # item id -> {"starter": status, "production": status}

# Start all 22 runs now, in the background, three at a time; each item's cell waits for its two.
runner = ThreadPoolExecutor(3)
RUNS = {it.id: {name: runner.submit(engine.check_app, path, only=[it.id], database=db)
                for name, path in APPS_BY_NAME.items()}
        for it in load_items()}

def fix_for(item_id: str) -> str:
    """The production app's code for an item: every block between `// [id]` and `// [/id]`."""
    blocks = re.findall(rf"^// \[{item_id}\]\n(.*?)^// \[/{item_id}\]\n", SOURCE, re.S | re.M)
    return "\n// ...\n".join(textwrap.dedent(b).rstrip() for b in blocks)

def check_pair(item_id: str) -> None:
    """`course check --only ITEM` on both apps, then show why, the fix and the verdicts."""
    it = item(item_id)
    runs = RUNS.pop(item_id, None) or {  # a re-run of the cell checks again
        name: runner.submit(engine.check_app, path, only=[item_id], database=db) for name, path in APPS_BY_NAME.items()}
    reports = {name: run.result() for name, run in runs.items()}
    RESULTS[item_id] = {name: r.items[0].status for name, r in reports.items()}
    display(Markdown(f"**Why:** {it.why}\n\n*References:* {'; '.join(it.references)}"))
    print(report.render_text(reports["starter"], color=False))
    display(Markdown(f"**The fix** (`apps/production/server.js`):\n```js\n{fix_for(item_id)}\n```"))
    # verbose (request and response of each failed rule) if the production app did not pass
    print(report.render_text(reports["production"], color=False, verbose=RESULTS[item_id]["production"] != "pass"))
'''


def item_cells(n: int, item_id: str, title: str) -> list[tuple[str, str]]:
    return [
        ("md", f"## {n}. {title}\n" + ITEM_PROSE[item_id]),
        ("code", f'check_pair("{item_id}")'),
    ]


ITEMS = [
    ("error-handling", "Error handling"),
    ("logging", "Logging"),
    ("request-validation", "Request validation"),
    ("compression", "Response compression"),
    ("cors", "CORS"),
    ("rate-limiting", "Rate limiting"),
    ("connection-pooling", "Database connection pooling"),
    ("graceful-shutdown", "Graceful shutdown"),
    ("health-check", "Health check"),
    ("metrics", "Metrics"),
    ("security-headers", "Security headers"),
]

# --------------------------------------------------------------------------- 01
ITEM_BY_ITEM = [
    ("md", """
# The production checklist, item by item

**Goal:** understand each of the seed's eleven production-checklist items — what it protects
against and how the course's grader judges it from the outside — by checking two real Express
apps against it, one item at a time: a **starter** that fails every item, and a **production**
version that passes, with the code that makes the difference.

The seed's list:

- [ ] Error handling implemented
- [ ] Logging configured (Winston, Pino)
- [ ] Request validation in place
- [ ] Response compression enabled
- [ ] CORS properly configured
- [ ] Rate limiting implemented
- [ ] Database connection pooling
- [ ] Graceful shutdown handling
- [ ] Health check endpoint
- [ ] Metrics collection
- [ ] Security headers set
"""),
    ("md", """
## How the grader works

`course check APP_DIR` reads the app's `Procfile` (`web: node server.js`), starts that command
with the service contract's environment — `PORT`, `HOST`, `DATABASE_URL` (a fresh PostgreSQL
database with a seeded `users` table), `DB_POOL_MAX=4`, `CORS_ORIGINS`, `RATE_LIMIT_MAX=50`,
`RATE_LIMIT_WINDOW_MS=2000`, `NODE_ENV=production` — waits for `GET /health` to answer, and probes
the app over HTTP, through its stdout, with signals and from the database's side
(`pg_stat_activity`). It never reads your code, so the same grader works for every language.

The two apps, in [`apps/`](apps/) next to this notebook:

- [`apps/starter/server.js`](apps/starter/server.js) — a typical first version: the seed's
  Express.js pattern, its error classes and global handler, a `pg.Client` per query, `console.log`.
- [`apps/production/server.js`](apps/production/server.js) — the same routes with the eleven items
  done, each item's code between `// [item-id]` markers, which this notebook prints.

First, install their npm packages (once; `npm ci` from the committed lockfile):
"""),
    ("code", SETUP),
    ("md", """
The items come from the course's checklist definition (`course/checklist/items.yaml`), the same
data the grader reports with:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
from course.checklist.items import load_items

for n, it in enumerate(load_items(), 1):
    print(f"{n:>2}. {it.id:<20} {it.title}")
"""),
    ("md", """
Each item below runs `course check --only ITEM` on both apps (the command line's
`course check apps/starter --only cors` is the same call as `engine.check_app(..., only=["cors"])`
used here), against one shared PostgreSQL. To keep the notebook quick, the next cell starts all
22 runs in the background, three at a time, and each item's cell waits for its two. You will see why the item matters, the
starter's failure as the grader reports it — with a `curl` line to reproduce it — the production
app's code for the item, and its pass.
"""),
    ("code", HELPERS),
]
for n, (item_id, title) in enumerate(ITEMS, 1):
    ITEM_BY_ITEM += item_cells(n, item_id, title)
ITEM_BY_ITEM += [
    ("md", """
## The scoreboard
"""),
    ("code", """
from IPython.display import HTML

MARK = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error", "skip": "– skip"}
rows = "".join(f"<tr><td>{n}</td><td><code>{item_id}</code></td><td>{MARK[r['starter']]}</td>"
               f"<td>{MARK[r['production']]}</td></tr>"
               for n, (item_id, r) in enumerate(RESULTS.items(), 1))
HTML("<table><tr><th>#</th><th>item</th><th>starter</th><th>production</th></tr>" + rows + "</table>")
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
for item_id, r in RESULTS.items():
    print(f"{item_id:<20} starter: {r['starter']:<5} production: {r['production']}")
print("starter passes:", sum(r["starter"] == "pass" for r in RESULTS.values()), "/ 11")
print("production passes:", sum(r["production"] == "pass" for r in RESULTS.values()), "/ 11")
"""),
    ("code", """
runner.shutdown()
db.stop()
"""),
    ("md", """
## Recap

| item | in Express | the trap |
|---|---|---|
| error handling | last error middleware + `notFound` | Express's own HTML 404/500 |
| logging | pino + pino-http, `redact` | `console.log` text; logging `Authorization` |
| validation | check every field, report all | trusting `req.body` |
| compression | `compression()` | forgetting `Vary` (caches serve gzip to everyone) |
| CORS | `cors({ origin: [exact origins] })` | reflecting any origin with credentials |
| rate limiting | `express-rate-limit` on `/api` | trusting `X-Forwarded-For`; limiting `/health` |
| pooling | one `pg.Pool`, `max` from config | a connection per request |
| graceful shutdown | `server.close()`, then `pool.end()`, with a deadline | dying on SIGTERM mid-request |
| health | `/health` (liveness) + `/health/ready` (DB) | readiness that never looks at the DB |
| metrics | `prom-client`, route templates as labels | concrete URLs as labels |
| security headers | `helmet()` first | headers missing on error responses |

Next: [one full run, the report, and CI](02-full-run-and-ci.ipynb).
Exercises: the capstones — [`../../exercises/capstone/`](../../exercises/capstone/) (or `course new --framework NAME DIR`).
"""),
]

# --------------------------------------------------------------------------- 02
FULL_RUN = [
    ("md", """
# One full run, the report, and CI

**Goal:** run the whole checklist against the production app once, the way you will run it on
your own service — from the command line — read its report, and use its JSON output and exit
status in CI.
"""),
    ("code", SETUP),
    ("md", """
## 1. All eleven items at once

Without `--only`, `course check` runs every item: the ones that only send requests run
concurrently (each from its own loopback address, so one check's rate-limit budget is not eaten by
another's), `health-check` runs alone because it takes the database away for a moment, and
`graceful-shutdown` runs last because it stops the app.
"""),
    ("code", """
import json, sys
from course.checklist import report
from course.checklist.engine import Report
from course.checklist.model import Result

from course.checklist.database import EmbeddedPostgres

db = EmbeddedPostgres().start()             # one PostgreSQL for every run here (--database-url)
COURSE = [sys.executable, "-m", "course"]   # the `course` command of this environment
full = subprocess.run([*COURSE, "check", str(PRODUCTION), "--json", "--database-url", db.admin_url],
                      capture_output=True, text=True, timeout=180)
full_json = json.loads(full.stdout)

# the text the command prints without --json, rendered from the same data
full_report = Report(**{**full_json, "items": [Result(**i) for i in full_json["items"]]})
print(report.render_text(full_report, color=False))
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("exit status:", full.returncode)
print("status:", full_json["status"], "score:", full_json["score"], "/", full_json["max_score"])
print("passed:", [i["id"] for i in full_json["items"] if i["status"] == "pass"])
"""),
    ("md", """
## 2. JSON for machines, exit status for CI

`--json` prints the same report as data: per item a status (`pass`, `fail`, `error`, `skip`), a
score (partial credit: the share of rules that passed), the message, the evidence (request,
response, and a `curl` line) and the duration. The exit status is 0 when every selected item
passed, 1 when something failed or the app did not start, and 2 when the input is unusable
(no folder, no `Procfile`, unknown item id) — so a CI step is just `course check my-app`.

Here is the starter, checked for two items — through the Python API this time
(`engine.check_app`, what the command calls; `report.render_json` is what `--json` prints):
"""),
    ("code", """
from course.checklist import engine

starter = engine.check_app(STARTER, only=["security-headers", "compression"], database=db)
result = json.loads(report.render_json(starter))   # exactly what `--json` prints
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("exit status:", starter.exit_code)
print("report keys:", sorted(result))
print("item keys:", sorted(result["items"][0]))
for it in result["items"]:
    print(f"{it['id']:<17} {it['status']}")
"""),
    ("code", """
for it in result["items"]:
    print(f"{it['id']}: score {it['score']} of {it['max_score']} (the share of its rules that passed)")
    print("  ", it["message"])
    print("   reproduce with:", it["evidence"].get("curl"))
"""),
    ("md", """
And unusable input — here a typo in an item id — raises `CourseError` in the Python API and makes
the command exit with status 2, naming the valid ids:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
from course.errors import CourseError

try:
    engine.check_app(STARTER, only=["rate-limit"])
except CourseError as e:
    print("exit status:", e.exit_code)
    print(str(e).split(". ")[0])
"""),
    ("md", """
## 3. Where the time goes

Each check's duration, from the full run's JSON. The slow ones wait on purpose: a rate-limit
window, a 3-second request across a SIGTERM, a database outage. The concurrent ones overlap, so
the run takes less than their sum.
"""),
    ("code", """
import matplotlib.pyplot as plt

items = full_json["items"]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh([i["id"] for i in items], [i["duration_s"] for i in items],
        color=["tab:green" if i["status"] == "pass" else "tab:red" for i in items])
ax.set(xlabel="seconds", title="course check apps/production: time per item")
ax.invert_yaxis()
"""),
    ("code", "db.stop()"),
    ("md", """
## In CI

```yaml
# .github/workflows/checklist.yml (excerpt)
- run: make setup
- run: .venv/bin/course check services/users          # fails the job unless all 11 pass
- run: .venv/bin/course check services/users --json > checklist.json
  if: always()                                         # keep the report as an artifact
```

`--database-url postgresql://…` points the checker at a PostgreSQL you provide instead of the
embedded one (it needs `CREATEDB`: each run creates a database and drops it afterwards).

## Recap

- `course check APP_DIR` runs all eleven items; `--only a,b` a subset; `-v` shows the request and
  response behind each failure; `--json` gives the report as data.
- Exit status: 0 pass, 1 fail (or the app did not start), 2 unusable input.
- The checks are black-box: they read your app's HTTP answers, stdout, signal handling and
  database connections — any language, any framework.

Exercises: the capstones — [`../../exercises/capstone/`](../../exercises/capstone/) (or `course new --framework NAME DIR`).
"""),
]

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for name, cells in [("01-checklist-item-by-item", ITEM_BY_ITEM), ("02-full-run-and-ci", FULL_RUN)]:
        if not wanted or name in wanted or name[:2] in wanted:
            write(OUT / f"{name}.ipynb", cells)
            print("wrote", OUT / f"{name}.ipynb")
