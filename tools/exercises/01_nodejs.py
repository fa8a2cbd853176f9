"""Exercises for section 01 (Node.js). Run: .venv/bin/python tools/exercises/01_nodejs.py"""
from common import PARAMETERS, SETUP_DB, exercise

exercise("01-nodejs/01-express-user-lookup.ipynb", {
    "id": "node-express-user-lookup",
    "title": "Express: look up one user, with proper 404 and 400 answers",
    "section": "01-nodejs", "language": "node", "framework": "express",
    "checklist": ["error-handling", "request-validation"], "points": 3,
    "files": ["work/server.js"],
}, [
    ("md", """
# Exercise — Express: look up one user

The seed's Express route answers `{ error: 'Not found' }` for a missing user and lets a
non-numeric id reach the database. Finish the handler so that `GET /api/users/:id`:

1. answers **200** with the user (`id`, `name`, `email`) as JSON;
2. answers **404** with the course's error envelope
   `{"error": {"code": "NOT_FOUND", "message": "..."}}` for an unknown id;
3. answers **400** with code `BAD_REQUEST` when the id is not an integer — without a query.

Run every cell, then the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP_DB,
    ("code", """
%%node --save work/server.js --serve users
import express from "express";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const app = express();

app.get("/api/users/:id", async (req, res) => {
  // ### BEGIN SOLUTION
  const id = Number(req.params.id);
  if (!Number.isInteger(id)) {
    return res.status(400).json({ error: { code: "BAD_REQUEST", message: "id must be an integer" } });
  }
  const { rows } = await pool.query("SELECT id, name, email FROM users WHERE id = $1", [id]);
  if (rows.length === 0) {
    return res.status(404).json({ error: { code: "NOT_FOUND", message: `user ${id} not found` } });
  }
  res.json(rows[0]);
  // ### END SOLUTION
});

app.listen(Number(process.env.PORT), "127.0.0.1");
"""),
    ("md", "Try it: the server runs in the background; this cell asks it for user 1."),
    ("code", """
import httpx

r = httpx.get(course.url("users") + "/api/users/1")
print(r.status_code, r.text[:200])
"""),
    ("code", """
from course.grading import test
import course.db


def start(ctx):
    return ctx.serve("work/server.js", env={"DATABASE_URL": course.db.url()})


@test("GET /api/users/1 answers 200 with user 1", points=1)
def finds_a_user(ctx):
    start(ctx)
    r = ctx.get("/api/users/1")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert r.json().get("id") == 1, f"expected the user with id 1, got {r.text[:120]}"


@test("an unknown id answers 404 with the error envelope", points=1, checklist=["error-handling"],
      hint='res.status(404).json({ error: { code: "NOT_FOUND", message: ... } })')
def unknown_user(ctx):
    start(ctx)
    r = ctx.get("/api/users/987654")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    assert "json" in r.headers.get("content-type", ""), "the 404 must be JSON"
    assert r.json().get("error", {}).get("code") == "NOT_FOUND", "expected error.code NOT_FOUND"

### BEGIN HIDDEN TESTS
@test("a non-integer id answers 400 BAD_REQUEST", points=1, checklist=["request-validation"],
      hint="check Number.isInteger(Number(req.params.id)) before querying")
def rejects_a_bad_id(ctx):
    start(ctx)
    r = ctx.get("/api/users/abc")
    assert r.status_code == 400, f"expected 400, got {r.status_code}"
    assert r.json().get("error", {}).get("code") == "BAD_REQUEST", "expected error.code BAD_REQUEST"
### END HIDDEN TESTS
"""),
])

exercise("01-nodejs/02-fastify-health-and-shutdown.ipynb", {
    "id": "node-fastify-health-shutdown",
    "title": "Fastify: health checks and a graceful shutdown",
    "section": "01-nodejs", "language": "node", "framework": "fastify",
    "checklist": ["health-check", "graceful-shutdown"], "points": 6,
    "files": ["work/server.js"],
}, [
    ("md", """
# Exercise — Fastify: health checks and a graceful shutdown

Two items of the seed's *Production Checklist* — **Health check endpoint** and **Graceful shutdown
handling** — are about the server's life, not its routes. An orchestrator (Kubernetes, systemd, a
load balancer) asks *"are you alive? can you take traffic?"* and, at every deploy, sends
**SIGTERM** and expects the process to finish what it is doing and leave.

The server below (the seed's Fastify, with a `pg` pool) has a slow route. Complete it so that:

1. `GET /health` (**liveness**) answers **200** `{"status": "ok"}` without touching the database —
   a database outage must not get the process restarted;
2. `GET /health/ready` (**readiness**) runs `SELECT 1` on the pool: **200** `{"status": "ok"}` when it
   answers, **503** with the error envelope `{"error": {"code": "SERVICE_UNAVAILABLE", ...}}` when it
   does not;
3. on **SIGTERM** the server stops accepting new connections, lets requests in flight finish
   (`await app.close()` does both, and runs the `onClose` hooks), closes the database pool in an
   `onClose` hook, and exits with status **0**. Guard the drain with a deadline (say 10 s) after
   which it exits with status 1.

Run every cell, then the last one checks your server: it starts your saved `work/server.js`, sends
it SIGTERM in the middle of a slow request and watches what happens (some checks are kept for
grading).
"""),
    PARAMETERS,
    SETUP_DB,
    ("code", """
%%node --save work/server.js --serve api
import Fastify from "fastify";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4, connectionTimeoutMillis: 2000 });
const app = Fastify({ logger: true });

// A slow report: `ms` milliseconds of database time on a pooled connection.
app.get("/api/slow", async (request) => {
  const ms = Math.min(Number(request.query.ms) || 1000, 10000);
  await pool.query("SELECT pg_sleep($1)", [ms / 1000]);
  return { done: true, ms };
});

// Liveness: is the process able to answer at all?
app.get("/health", async (request, reply) => {
  // ### BEGIN SOLUTION
  return { status: "ok" };
  // ### END SOLUTION
});

// Readiness: can it serve traffic, i.e. does the database answer?
app.get("/health/ready", async (request, reply) => {
  // ### BEGIN SOLUTION
  try {
    await pool.query("SELECT 1");
    return { status: "ok" };
  } catch (err) {
    request.log.warn({ err }, "readiness: database unreachable");
    return reply.code(503).send({ error: { code: "SERVICE_UNAVAILABLE", message: "database unreachable" } });
  }
  // ### END SOLUTION
});

// Runs during app.close(), after the requests in flight have finished.
app.addHook("onClose", async () => {
  // ### BEGIN SOLUTION
  await pool.end();
  // ### END SOLUTION
});

process.once("SIGTERM", async () => {
  // ### BEGIN SOLUTION
  app.log.info("SIGTERM: draining requests in flight");
  setTimeout(() => {
    app.log.error("drain deadline passed: exiting anyway");
    process.exit(1);
  }, 10_000).unref();
  await app.close();
  app.log.info("drained: bye");
  process.exit(0);
  // ### END SOLUTION
});

await app.listen({ port: Number(process.env.PORT), host: process.env.HOST ?? "127.0.0.1" });
"""),
    ("md", "Try it: the server runs in the background (`%logs api` shows its log)."),
    ("code", """
import httpx

api = course.url("api")
for path in ["/health", "/health/ready", "/api/slow?ms=200"]:
    r = httpx.get(api + path, timeout=10)
    print(f"{path:<18} {r.status_code} {r.text[:120]}")
"""),
    ("code", """
from course.grading import test
import os
import signal
import threading
import time

import httpx
import course.db

DOWN = "postgresql://nobody@127.0.0.1:1/nowhere"  # nothing listens on port 1: the database is down


def start(ctx, **kw):
    return ctx.serve("work/server.js", env={"DATABASE_URL": kw.pop("db", None) or course.db.url()}, **kw)


def in_flight(url):
    \"\"\"Send a GET in a thread; returns the thread and a dict that gets `response` or `error`.\"\"\"
    box = {}

    def send():
        try:
            box["response"] = httpx.get(url, timeout=15)
        except httpx.HTTPError as e:
            box["error"] = f"{type(e).__name__}: {e}"

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, box


@test("GET /health answers 200 {\\"status\\": \\"ok\\"}", points=1, checklist=["health-check"],
      hint="app.get('/health', async () => ({ status: 'ok' }))")
def liveness(ctx):
    start(ctx)
    r = ctx.get("/health")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert r.json().get("status") == "ok", 'expected {"status": "ok"}'


@test("GET /health/ready answers 200 when the database is up", points=1, checklist=["health-check"],
      hint='run `SELECT 1` on the pool and answer { status: "ok" }')
def readiness_up(ctx):
    start(ctx)
    r = ctx.get("/health/ready")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert r.json().get("status") == "ok", 'expected {"status": "ok"}'


@test("a request in flight at SIGTERM still completes with 200", points=1, checklist=["graceful-shutdown"],
      hint="process.once('SIGTERM', async () => { await app.close(); process.exit(0); })")
def drains_in_flight(ctx):
    server = start(ctx, fresh=True)
    thread, box = in_flight(server.url + "/api/slow?ms=1500")
    time.sleep(0.5)  # the query is running now
    os.kill(server.pid, signal.SIGTERM)
    thread.join(15)
    assert "response" in box, f"the request in flight was cut off: {box.get('error', 'no answer')}"
    assert box["response"].status_code == 200, f"the request in flight got {box['response'].status_code}"


@test("after SIGTERM the process exits by itself with status 0", points=1, checklist=["graceful-shutdown"],
      hint="after `await app.close()`, call process.exit(0) (the pool must be closed too, or it keeps "
           "the process alive)")
def exits_cleanly(ctx):
    server = start(ctx, fresh=True)
    ctx.get("/health/ready")  # the pool now holds a connection
    os.kill(server.pid, signal.SIGTERM)
    try:
        code = server.proc.wait(timeout=5)
    except Exception:
        raise AssertionError("still running 5 s after SIGTERM") from None
    assert code == 0, f"exited with status {code}" + (" (killed by the signal: no SIGTERM handler?)"
                                                      if code == -signal.SIGTERM else "")

### BEGIN HIDDEN TESTS
@test("with the database down: /health stays 200, /health/ready answers 503 SERVICE_UNAVAILABLE",
      points=1, checklist=["health-check"])
def readiness_down(ctx):
    start(ctx, db=DOWN)
    r = ctx.get("/health")
    assert r.status_code == 200, f"liveness must not depend on the database: /health answered {r.status_code}"
    r = ctx.get("/health/ready")
    assert r.status_code == 503, f"expected 503 from /health/ready, got {r.status_code}"
    assert "json" in r.headers.get("content-type", ""), "the 503 must be JSON"
    assert r.json().get("error", {}).get("code") == "SERVICE_UNAVAILABLE", "expected error.code SERVICE_UNAVAILABLE"


@test("while draining, new connections are refused (or get 503) and the request in flight completes",
      points=1, checklist=["graceful-shutdown"])
def refuses_new_work(ctx):
    server = start(ctx, fresh=True)
    thread, box = in_flight(server.url + "/api/slow?ms=2000")
    time.sleep(0.5)
    os.kill(server.pid, signal.SIGTERM)
    time.sleep(0.5)
    try:
        late = httpx.get(server.url + "/health", timeout=3).status_code
    except httpx.HTTPError:
        late = "refused"
    thread.join(15)
    assert late in ("refused", 503), f"a new request during the drain was answered {late}"
    assert "response" in box and box["response"].status_code == 200, \\
        f"the request in flight did not complete: {box.get('error') or box['response'].status_code}"
### END HIDDEN TESTS
"""),
])
