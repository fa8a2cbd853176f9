"""Build notebooks/05-error-handling/*.ipynb (run from the repo root:
``.venv/bin/python tools/lessons/05_error_handling.py [NAME ...]``)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "notebooks" / "05-error-handling"

# --------------------------------------------------------------------------- shared snippets
PROBE_HELPERS = r'''
import json, re, httpx, course

STACK = re.compile(r"at \S+ \(|Traceback|goroutine \d+|\.java:\d+")

def describe(r: httpx.Response) -> str:
    """One line: status, media type, body (JSON compact; HTML reduced to its text)."""
    ctype = r.headers.get("content-type", "").split(";")[0]
    if "json" in ctype:
        body = json.dumps(r.json())
        # JSON.parse's wording differs between Node versions: keep the output comparable
        body = re.sub(r'[^"]*in JSON at position[^"]*', "<JSON.parse's message>", body)
    else:
        body = re.sub(r"<[^>]+>|&nbsp;", " ", r.text)
        body = " ".join(body.split())[:70]
    return f"{r.status_code} {ctype:<24} {body}"

def probe(base: str, requests) -> None:
    for method, path, kw in requests:
        r = httpx.request(method, base + path, **kw)
        print(f"{method:<4} {path:<18} → {describe(r)}")
'''

# --------------------------------------------------------------------------- 01
CENTRALIZED = [
    ("md", """
# Centralized error handling in Express

**Goal:** run the seed's error classes and global error handler for real, find out what they
get wrong in production (lost details, leaked internals, HTML 404s, a logger call that drops the
stack), fix each gap, and see why Express's *default* handler must never answer your clients.

One rule drives everything here: **the status code and a stable error `code` are for clients;
the stack trace is for your logs.** The envelope the whole course uses is the seed's:

```json
{"error": {"code": "NOT_FOUND", "message": "User 42 not found"}}
```
"""),
    ("code", """
%load_ext course
import course.db

DB = course.db.url()  # a real PostgreSQL with a seeded `users` table (300 rows)
"""),
    ("md", """
## 1. The seed, as written

The cell below is the seed's *Custom Error Classes* and *Global Error Handler*, verbatim, inside a
small Express 5 app. Around them: a `User.findById` backed by PostgreSQL (node-postgres), the seed's
`try/catch` + `next(error)` route, a validating `POST`, and a route that fails unexpectedly. The
seed's checklist says "Logging configured (Winston, Pino)"; we use **pino**, the logger installed here.
"""),
    ("code", r"""
%%node --serve seed-errors --env DATABASE_URL=$DB
const express = require('express');
const { Pool } = require('pg');
const logger = require('pino')();

const app = express();
app.use(express.json());
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

// ---- seed: Custom Error Classes ------------------------------------------
class APIError extends Error {
  constructor(message, status = 500, code = 'INTERNAL_ERROR') {
    super(message);
    this.status = status;
    this.code = code;
  }
}

class NotFoundError extends APIError {
  constructor(message = 'Resource not found') {
    super(message, 404, 'NOT_FOUND');
  }
}

class ValidationError extends APIError {
  constructor(message = 'Validation failed', details = {}) {
    super(message, 422, 'VALIDATION_ERROR');
    this.details = details;
  }
}

// ---- routes ---------------------------------------------------------------
const User = {
  async findById(id) {
    const { rows } = await pool.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    return rows[0];
  },
};

app.get('/api/users/:id', async (req, res, next) => {
  try {
    const user = await User.findById(req.params.id);
    if (!user) throw new NotFoundError(`User ${req.params.id} not found`);
    res.json(user);
  } catch (error) {
    next(error);
  }
});

app.post('/api/users', (req, res, next) => {
  const { name, email } = req.body ?? {};
  const details = {};
  if (typeof name !== 'string' || name.trim() === '') details.name = 'is required';
  if (typeof email !== 'string' || !email.includes('@')) details.email = 'must be an email address';
  if (Object.keys(details).length) return next(new ValidationError('Validation failed', details));
  res.status(201).json({ name, email });
});

app.get('/api/boom', () => {
  // what an unexpected failure often says: hostnames, users, internals
  throw new Error('password authentication failed for user "svc_payments" at payments-db.internal:5432');
});

// ---- seed: Global Error Handler -------------------------------------------
app.use((err, req, res, next) => {
  const status = err.status || 500;
  logger.error(err.message, { status, path: req.path, stack: err.stack });
  res.status(status).json({
    error: {
      code: err.code || 'INTERNAL_ERROR',
      message: err.message
    }
  });
});

app.listen(process.env.PORT, process.env.HOST);
"""),
    ("md", """
Now probe it from Python the way a client would: a found user, a missing one, an invalid body, a
malformed id, malformed JSON, an unexpected exception, and a route that does not exist.
"""),
    ("code", PROBE_HELPERS + r'''
REQUESTS = [
    ("GET",  "/api/users/1", {}),
    ("GET",  "/api/users/999999", {}),
    ("POST", "/api/users", {"json": {}}),
    ("GET",  "/api/users/abc", {}),
    ("POST", "/api/users", {"content": b"{bad", "headers": {"content-type": "application/json"}}),
    ("GET",  "/api/boom", {}),
    ("GET",  "/api/nope", {}),
]
'''),
    ("code", """
# NBVAL_CHECK_OUTPUT
probe(course.url("seed-errors"), REQUESTS)
"""),
    ("md", """
The happy path and the 404 are right. Everything else shows a gap:

| request | what happened | why it matters |
|---|---|---|
| `POST {}` | 422, but the `details` the route attached are gone | the handler never sends `err.details`, so clients can't tell which field is wrong |
| `GET /api/users/abc` | 500 with PostgreSQL's own error code `22P02` and message | a client mistake reported as *our* failure, and database internals leak |
| malformed JSON | status 400 (body-parser's `err.status`) but code `INTERNAL_ERROR` and the parser's message | the code contradicts the status |
| `GET /api/boom` | 500 echoing the exception's message: a user name and an internal hostname | information exposure ([CWE-209](https://cwe.mitre.org/data/definitions/209.html)) |
| `GET /api/nope` | **HTML** 404 from Express itself | an unknown route is not an error in Express: it never reaches the handler |

And one more, in the log. The seed calls `logger.error(message, meta)`, Winston's signature.
pino's is `logger.error(obj, message)`: the extra object is silently ignored, so the stack the
handler meant to log is lost.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
server = course.servers.get("seed-errors")
boom = [l for l in server.log_records(until=lambda l: "payments-db" in json.dumps(l))
        if "payments-db" in json.dumps(l)][0]
print("keys in the log line of GET /api/boom:", sorted(boom))
print("stack logged:", "stack" in json.dumps(boom))
"""),
    ("md", """
## 2. The fixed handler, as a module

The classes stay exactly as the seed wrote them. The handler changes:

- **Known errors** (`APIError` and subclasses) are answered with their status, code, message and
  `details`.
- **Express's own errors** (body-parser's `http-errors`, which carry `status` and `expose`) become
  `400 BAD_REQUEST` with a message we wrote.
- **Everything else** is a bug: `500 INTERNAL_ERROR` with a generic message. The real message and
  the stack go to the log, at error level, in pino's `(obj, msg)` form so `err.stack` is kept.
- A `notFound` middleware, mounted after the routes, turns unknown routes into `NotFoundError`.
- If the response has already started (`res.headersSent`), hand over to Express, which closes the
  connection: you cannot change a status that is already on the wire.

`--save errors.js` keeps the cell as a file next to this notebook, so the next server can `require`
it (running the cell itself just lists the exports).
"""),
    ("code", r"""
%%node --save errors.js
'use strict';
// errors.js: the seed's error classes and a production-ready Express error handler.

class APIError extends Error {
  constructor(message, status = 500, code = 'INTERNAL_ERROR') {
    super(message);
    this.status = status;
    this.code = code;
  }
}

class NotFoundError extends APIError {
  constructor(message = 'Resource not found') {
    super(message, 404, 'NOT_FOUND');
  }
}

class ValidationError extends APIError {
  constructor(message = 'Validation failed', details = {}) {
    super(message, 422, 'VALIDATION_ERROR');
    this.details = details;
  }
}

/** Mount after every route: an unknown route becomes a NotFoundError like any other. */
function notFound(req, res, next) {
  next(new NotFoundError(`Route ${req.method} ${req.path} not found`));
}

/** Errors raised by Express itself (body-parser's http-errors carry .status and .expose). */
function fromExpress(err) {
  if (err.type === 'entity.parse.failed') return new APIError('Malformed JSON body', 400, 'BAD_REQUEST');
  if (err.expose && err.status >= 400 && err.status < 500) return new APIError(err.message, err.status, 'BAD_REQUEST');
  return null;
}

function errorHandler(logger) {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err); // too late for a status: Express closes the connection
    const known = err instanceof APIError ? err : fromExpress(err);
    const status = known ? known.status : 500;
    // pino's signature is (object, message): `err` is serialized with its stack.
    logger[status >= 500 ? 'error' : 'warn']({ err, status, method: req.method, path: req.path }, err.message);
    const error = known
      ? { code: known.code, message: known.message, ...(known.details && { details: known.details }) }
      : { code: 'INTERNAL_ERROR', message: 'Internal server error' }; // never echo an unexpected message
    res.status(status).json({ error });
  };
}

module.exports = { APIError, NotFoundError, ValidationError, notFound, errorHandler };

if (require.main === module) console.log('errors.js exports:', Object.keys(module.exports).join(', '));
"""),
    ("code", """
from pathlib import Path

ERRORS_JS = str(Path("errors.js").resolve())
"""),
    ("md", """
The same routes, now with the module. Two small route changes: the id is validated before it
reaches SQL (a client mistake is a 4xx, not a database error), and nothing else is needed — the
handler and `notFound` do the rest.
"""),
    ("code", r"""
%%node --serve fixed-errors --env DATABASE_URL=$DB --env ERRORS_JS=$ERRORS_JS
const express = require('express');
const { Pool } = require('pg');
const logger = require('pino')();
const { NotFoundError, ValidationError, notFound, errorHandler } = require(process.env.ERRORS_JS);

const app = express();
app.use(express.json());
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

const User = {
  async findById(id) {
    const { rows } = await pool.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    return rows[0];
  },
};

app.get('/api/users/:id', async (req, res, next) => {
  try {
    if (!/^\d{1,9}$/.test(req.params.id)) {
      throw new ValidationError('Validation failed', { id: 'must be a positive integer' });
    }
    const user = await User.findById(req.params.id);
    if (!user) throw new NotFoundError(`User ${req.params.id} not found`);
    res.json(user);
  } catch (error) {
    next(error);
  }
});

app.post('/api/users', (req, res, next) => {
  const { name, email } = req.body ?? {};
  const details = {};
  if (typeof name !== 'string' || name.trim() === '') details.name = 'is required';
  if (typeof email !== 'string' || !email.includes('@')) details.email = 'must be an email address';
  if (Object.keys(details).length) return next(new ValidationError('Validation failed', details));
  res.status(201).json({ name, email });
});

app.get('/api/boom', () => {
  throw new Error('password authentication failed for user "svc_payments" at payments-db.internal:5432');
});

app.use(notFound);           // after all routes
app.use(errorHandler(logger)); // last
app.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
probe(course.url("fixed-errors"), REQUESTS)
"""),
    ("md", """
Every answer is JSON in one envelope, 4xx for client mistakes, and the only 500 says nothing about
our infrastructure. The details are not lost — they are in the log, where they belong:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
lines = course.servers.get("fixed-errors").log_records(until=lambda l: l.get("path") == "/api/boom")
boom = next(l for l in lines if l.get("path") == "/api/boom")
print("level:", boom["level"], "(pino: 50 = error)")
print("message logged:", boom["msg"])
print("stack logged:", boom["err"]["stack"].startswith("Error: password authentication failed"))
print("4xx logged at warn (40):", sorted({l["level"] for l in lines if 400 <= l.get("status", 0) < 500}))
"""),
    ("md", """
## 3. Express's default handler leaks the stack

Without an error handler of your own, Express 5 uses its built-in one (the `finalhandler` package).
It answers **HTML**, and unless `NODE_ENV` is `production` it puts the **stack trace** in the page:
file paths, line numbers and library versions, for anyone who can trigger an exception.
"""),
    ("code", r"""
%%node --serve express-default
const express = require('express');
const app = express();
app.get('/api/boom', () => { throw new Error('payments-db.internal: password authentication failed'); });
app.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
%%node --serve express-default-prod --env NODE_ENV=production
const express = require('express');
const app = express();
app.get('/api/boom', () => { throw new Error('payments-db.internal: password authentication failed'); });
app.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
for name in ("express-default", "express-default-prod"):
    r = httpx.get(course.url(name) + "/api/boom")
    print(f"{name:<21} {r.status_code} {r.headers['content-type']:<24} "
          f"stack in body: {bool(STACK.search(r.text))}  internal message in body: {'payments-db' in r.text}")
"""),
    ("md", """
`NODE_ENV=production` hides the stack, but the answer is still an HTML page a JSON client cannot
parse. Set `NODE_ENV=production` in every deployment anyway (Express also caches views and
prints less), and *always* install your own last error handler. Also remove the `X-Powered-By:
Express` banner (`app.disable('x-powered-by')` or helmet): see the security-headers item in section 7.

Grader's view: the `error-handling` item of `course check` sends exactly these requests — an
unknown route, a route that throws, a malformed JSON body — and fails on HTML, on a stack trace
(regex `at \\S+ \\(|Traceback|goroutine \\d+|\\.java:\\d+`), or on a dead process.
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

- The seed's class hierarchy is sound: a status and a stable `code` travel with the error.
- Its handler needed five fixes: send `details`, never echo unexpected messages (500 →
  `Internal server error`), map Express's own errors (malformed JSON → 400 `BAD_REQUEST`), turn
  unknown routes into `NotFoundError`, and respect `res.headersSent`.
- Log the error object, not just its message — and use your logger's real signature
  (pino: `logger.error({ err }, msg)`; Winston: `logger.error(msg, meta)`).
- Express's default handler answers HTML with a stack unless `NODE_ENV=production`: install your own.

Next: [async errors in Express 4 and 5](02-async-errors.ipynb).
Exercises: [`../../exercises/05-error-handling/`](../../exercises/05-error-handling/).
"""),
]

# --------------------------------------------------------------------------- 02
ASYNC = [
    ("md", """
# Async errors: Express 4, Express 5 and unhandled rejections

**Goal:** know where an error thrown in `async` code ends up — in your error handler, in a hung
request, or in a crashed process — and make sure it is always the first.

In Express **4** the router called your handler and ignored what it returned. An `async` handler
returns a promise; if it rejects, nobody is listening: the request hangs until the client gives up
and Node reports an *unhandled rejection*. That is why the seed wraps every `await` in `try/catch`
and calls `next(error)`. Express **5** (installed here) awaits the promise and passes a rejection
to `next` for you.
"""),
    ("code", """
%load_ext course
import course.db

DB = course.db.url()
"""),
    ("md", """
## 1. Three ways to write the same route, in one Express 5 app

- `/seed/users/:id` — the seed's *Express.js Pattern*, verbatim (`try/catch` + `next(error)`);
- `/v5/users/:id` — plain `async`/`await`, no `try/catch`: Express 5 catches the rejection;
- `/v4/users/:id` — the same handler wrapped the way **Express 4's router** called it: the returned
  promise is dropped. This is how we can show Express 4's behaviour with Express 5 installed.

The error handler is a compact version of the one from the previous notebook.
"""),
    ("code", r"""
%%node --serve async-errors --env DATABASE_URL=$DB
const express = require('express');
const { Pool } = require('pg');

const app = express();
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

class NotFoundError extends Error {
  constructor(message = 'Resource not found') { super(message); this.status = 404; this.code = 'NOT_FOUND'; }
}
const User = {
  async findById(id) {
    // a typo in the table name: every call rejects with a PostgreSQL error
    const table = id === '13' ? 'userz' : 'users';
    const { rows } = await pool.query(`SELECT id, name, email FROM ${table} WHERE id = $1`, [id]);
    return rows[0];
  },
};

// ---- seed: Express.js Pattern (verbatim) ----
app.get('/seed/users/:id', async (req, res, next) => {
  try {
    const user = await User.findById(req.params.id);
    if (!user) return res.status(404).json({ error: 'Not found' });
    res.json(user);
  } catch (error) {
    next(error);
  }
});

// ---- Express 5: no try/catch needed ----
app.get('/v5/users/:id', async (req, res) => {
  const user = await User.findById(req.params.id);
  if (!user) throw new NotFoundError(`User ${req.params.id} not found`);
  res.json(user);
});

// ---- what Express 4's router did with your async handler ----
const asExpress4 = (handler) => (req, res, next) => { handler(req, res, next); }; // promise dropped
app.get('/v4/users/:id', asExpress4(async (req, res) => {
  const user = await User.findById(req.params.id);
  if (!user) throw new NotFoundError(`User ${req.params.id} not found`);
  res.json(user);
}));

app.use((err, req, res, next) => {
  const status = err.status || 500;
  console.error(JSON.stringify({ level: 'error', msg: err.message, path: req.path, stack: err.stack }));
  res.status(status).json({ error: status < 500
    ? { code: err.code, message: err.message }
    : { code: 'INTERNAL_ERROR', message: 'Internal server error' } }); // no pg codes or messages out
});

app.listen(process.env.PORT, process.env.HOST);
"""),
    ("md", """
User 13 triggers the database error (a misspelt table), user 999999 does not exist.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
import json, httpx, course

base = course.url("async-errors")
for path in ("/seed/users/1", "/seed/users/999999", "/seed/users/13", "/v5/users/999999", "/v5/users/13"):
    r = httpx.get(base + path)
    print(f"{path:<20} → {r.status_code} {json.dumps(r.json())}")
"""),
    ("md", """
Both styles reach the handler. Note a small inconsistency in the seed itself: its route answers
404 with `{"error": "Not found"}`, while its global handler uses `{"error": {"code", "message"}}`.
Throwing `NotFoundError` (as `/v5` does) keeps one envelope everywhere.

Now the Express 4 style. The handler throws after `await`, the promise is dropped, and Node's
default for an unhandled rejection (since Node 15: `--unhandled-rejections=throw`) is to **crash the
process** — taking every other in-flight request with it.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
import time

server = course.servers.get("async-errors")
try:
    r = httpx.get(base + "/v4/users/999999", timeout=5)
    print("answer:", r.status_code)
except httpx.HTTPError as e:
    print("no answer:", type(e).__name__)
server.proc.wait(timeout=5)
print("server exit status:", server.proc.returncode)
print([l for l in server.logs(30).splitlines() if l.startswith("NotFoundError")][0])
"""),
    ("md", """
A 404 took the whole server down. With Express 4 you need one of:

- `try/catch` + `next(error)` in every async handler (the seed's pattern), or
- a wrapper that does it once: `const ah = (fn) => (req, res, next) => Promise.resolve(fn(req, res, next)).catch(next);`
  (what the `express-async-handler` package does), or
- upgrading to Express 5.

## 2. Unhandled rejections in plain Node

Outside a framework nothing catches a rejected promise for you. Here is a script that forgets to
handle one; the timer that should print after 100 ms never runs, because the process exits first.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
import subprocess
from course import toolchains

NODE = toolchains.require("node")
script = '''
setTimeout(() => console.log("still alive after 100 ms"), 100);
async function loadProfile(user) { return user.profile.id; }   // user is undefined
loadProfile(undefined);                                           // no await, no .catch()
'''
r = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=20)
print("exit status:", r.returncode)
print("timer ran:", "still alive" in r.stdout)
print([l for l in r.stderr.splitlines() if l.startswith("TypeError")][0])
"""),
    ("md", """
A process-wide `unhandledRejection` listener turns the crash into a log line you can alert on. What
to do next is a choice: the standard advice is to log at error level and **exit**, letting the
supervisor (systemd, Kubernetes) restart a clean process, because the failed code may have left
state half-updated. The line below uses the format of the seed's *Log Interpretation* table
(section 8 builds a whole server around those lines).
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
script = '''
process.on("unhandledRejection", (reason, promise) => {
  const type = reason && reason.constructor ? reason.constructor.name : typeof reason;
  console.error(`ERROR: UNHANDLED_REJECTION promise=${promise.constructor.name} error=${type}`);
  process.exitCode = 1;   // finish what is running, then exit non-zero: let the supervisor restart us
});
setTimeout(() => console.log("in-flight work finished"), 100);
async function loadProfile(user) { return user.profile.id; }
loadProfile(undefined);
'''
r = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=20)
print("exit status:", r.returncode)
print(r.stderr.strip())
print(r.stdout.strip())
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

- Express 4 ignores the promise an `async` handler returns: a rejection hangs the request and, on
  Node ≥ 15, crashes the process. Use `try/catch` + `next(error)` (the seed's pattern) or a wrapper.
- Express 5 awaits handlers: a thrown error or rejected promise reaches your error handler.
- Throw your error classes instead of answering ad hoc (`{"error": "Not found"}`): one envelope.
- In plain Node, an unhandled rejection ends the process; a `process.on('unhandledRejection')`
  listener logs it — then exit and let the supervisor restart.

Next: [the same envelope in FastAPI, Go and Spring, and RFC 9457](03-other-stacks.ipynb).
Exercises: [`../../exercises/05-error-handling/`](../../exercises/05-error-handling/).
"""),
]

# --------------------------------------------------------------------------- 03
STACKS = [
    ("md", """
# One error envelope in FastAPI, Go and Spring — and RFC 9457

**Goal:** give the same `{"error": {"code", "message"}}` answers from a Python, a Go and a Java
service, using each framework's own mechanism, and meet the standard alternative: RFC 9457
*Problem Details* (`application/problem+json`).

Each service serves the same four requests, and we compare the answers at the end:
"""),
    ("code", """
%load_ext course
import json, re, httpx, course

STACK = re.compile(r"at \\S+ \\(|Traceback|goroutine \\d+|\\.java:\\d+")
REQUESTS = ["/api/users/1", "/api/users/999", "/api/boom", "/api/nope"]

def compare(name: str) -> None:
    for path in REQUESTS:
        r = httpx.get(course.url(name) + path)
        ctype = r.headers.get("content-type", "").split(";")[0]
        body = json.dumps(r.json(), sort_keys=True) if "json" in ctype else repr(r.text[:60])
        print(f"{name:<8} {path:<15} → {r.status_code} {ctype:<25} {body}"
              + ("  ⚠ stack trace" if STACK.search(r.text) else ""))
"""),
    ("md", """
## 1. FastAPI: exception handlers

FastAPI (Starlette underneath) maps exception *types* to handlers with
`@app.exception_handler(...)`. Three are needed: our own `APIError` family, Starlette's
`HTTPException` (which is what an unknown route raises — otherwise the body is `{"detail": "Not Found"}`),
and `Exception` for everything unexpected. A fourth, for `RequestValidationError`, re-shapes
FastAPI's 422 into the same envelope, keeping the per-field list as `details`.
"""),
    ("code", r'''
%%py --serve fastapi
import logging, os
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("app")

class APIError(Exception):
    def __init__(self, message: str, status: int = 500, code: str = "INTERNAL_ERROR", details=None):
        super().__init__(message)
        self.message, self.status, self.code, self.details = message, status, code, details

class NotFoundError(APIError):
    def __init__(self, message: str = "Resource not found"):
        super().__init__(message, 404, "NOT_FOUND")

def envelope(status: int, code: str, message: str, details=None) -> JSONResponse:
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)

app = FastAPI()

@app.exception_handler(APIError)
async def api_error(request: Request, exc: APIError):
    return envelope(exc.status, exc.code, exc.message, exc.details)

@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    details = [{"field": ".".join(map(str, e["loc"][1:])), "message": e["msg"]} for e in exc.errors()]
    return envelope(422, "VALIDATION_ERROR", "Validation failed", details)

@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException):
    code = "NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR"
    return envelope(exc.status_code, code, f"Route {request.method} {request.url.path} not found"
                    if exc.status_code == 404 else str(exc.detail))

@app.exception_handler(Exception)
async def unexpected(request: Request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.url.path)  # stack → log
    return envelope(500, "INTERNAL_ERROR", "Internal server error")

@app.get("/api/users/{user_id}")
async def get_user(user_id: int):
    if user_id != 1:
        raise NotFoundError(f"User {user_id} not found")
    return {"id": 1, "name": "Ada Lovelace"}

@app.get("/api/boom")
async def boom():
    raise RuntimeError("password authentication failed at payments-db.internal:5432")

uvicorn.run(app, host=os.environ["HOST"], port=int(os.environ["PORT"]), log_level="warning")
'''),
    ("code", """
# NBVAL_CHECK_OUTPUT
compare("fastapi")
r = httpx.get(course.url("fastapi") + "/api/users/abc")
error = r.json()["error"]
print("fastapi  /api/users/abc  →", r.status_code, error["code"], "fields:", [d["field"] for d in error["details"]])
"""),
    ("md", """
The stack of `/api/boom` went to the server's log (`log.exception`), not to the client. Starlette
also re-raises the exception after our handler has answered, so uvicorn logs it a second time:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
log = course.servers.get("fastapi").logs(80)
print("traceback in the server log:", "Traceback" in log)
print("internal message in the server log:", "payments-db.internal" in log)
"""),
    ("md", """
## 2. Go: handlers that return an error

Go has no exceptions to catch, so the idiom is a handler type that *returns* an `error`, and one
adapter that turns it into a response. `errors.As` finds our `*APIError` even when it is wrapped
(`fmt.Errorf("...: %w", err)`). Two more things a Go service must do itself: answer unknown routes
(gorilla/mux's default 404 is `text/plain`) and `recover()` from panics (net/http's own recovery
just drops the connection and prints a goroutine dump).
"""),
    ("code", r"""
%%go --serve go
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/gorilla/mux"
)

type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Message }

func NotFound(msg string) *APIError { return &APIError{http.StatusNotFound, "NOT_FOUND", msg} }

var logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// handler is an http.Handler that may fail: return an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request) error

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil { // a panic is a bug: log it, answer 500
			logger.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(p))
			writeError(w, 500, "INTERNAL_ERROR", "Internal server error")
		}
	}()
	err := h(w, r)
	if err == nil {
		return
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		writeError(w, apiErr.Status, apiErr.Code, apiErr.Message)
		return
	}
	logger.Error("unhandled error", "path", r.URL.Path, "err", err.Error())
	writeError(w, 500, "INTERNAL_ERROR", "Internal server error")
}

func getUser(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if id != "1" {
		return fmt.Errorf("loading user: %w", NotFound("User "+id+" not found"))
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"id": 1, "name": "Ada Lovelace"})
}

func boom(w http.ResponseWriter, r *http.Request) error {
	var cache map[string]int
	cache["hits"]++ // nil map write: panics
	return nil
}

func main() {
	router := mux.NewRouter()
	router.Handle("/api/users/{id}", handler(getUser)).Methods("GET")
	router.Handle("/api/boom", handler(boom)).Methods("GET")
	router.NotFoundHandler = handler(func(w http.ResponseWriter, r *http.Request) error {
		return NotFound("Route " + r.Method + " " + r.URL.Path + " not found")
	})
	addr := os.Getenv("HOST") + ":" + os.Getenv("PORT")
	if err := http.ListenAndServe(addr, router); err != nil {
		logger.Error("server stopped", "err", err.Error())
		os.Exit(1)
	}
}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
compare("go")
"""),
    ("md", """
## 3. Spring Boot: `@RestControllerAdvice`

Spring routes exceptions to `@ExceptionHandler` methods; putting them in a
`@RestControllerAdvice` class makes them global. Kept small because a Spring context costs seconds
to start: only the web auto-configurations are imported, and the JVM runs with its quick-start
flags.

One trap is worth a handler of its own. Since Spring 6.1, "no route for this path" is raised as
`NoResourceFoundException`. A catch-all `@ExceptionHandler(Exception.class)` swallows it as a bug and
answers **500** for every unknown URL. The more specific handler below wins over the catch-all and
keeps unknown routes at 404.
"""),
    ("code", r"""
%%java --serve spring --env "JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
package lab;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.servlet.resource.NoResourceFoundException;

@SpringBootConfiguration
@ImportAutoConfiguration({ServletWebServerFactoryAutoConfiguration.class, DispatcherServletAutoConfiguration.class,
        WebMvcAutoConfiguration.class, HttpMessageConvertersAutoConfiguration.class, JacksonAutoConfiguration.class})
@RestController
public class ErrorsApp {
    public static void main(String[] args) {
        SpringApplication.run(ErrorsApp.class, "--server.port=" + System.getenv("PORT"),
                "--server.address=" + System.getenv("HOST"), "--spring.main.banner-mode=off");
    }

    static class APIError extends RuntimeException {
        final int status; final String code;
        APIError(String message, int status, String code) { super(message); this.status = status; this.code = code; }
    }
    static class NotFoundError extends APIError {
        NotFoundError(String message) { super(message, 404, "NOT_FOUND"); }
    }

    @GetMapping("/api/users/{id}")
    Map<String, Object> user(@PathVariable long id) {
        if (id != 1) throw new NotFoundError("User " + id + " not found");
        return Map.of("id", 1, "name", "Ada Lovelace");
    }

    @GetMapping("/api/boom")
    String boom() { throw new IllegalStateException("password authentication failed at payments-db.internal:5432"); }

    static ResponseEntity<Map<String, Object>> envelope(int status, String code, String message) {
        return ResponseEntity.status(status).body(Map.of("error", Map.of("code", code, "message", message)));
    }

    @RestControllerAdvice
    static class GlobalErrors {
        private static final Logger log = LoggerFactory.getLogger(GlobalErrors.class);

        @ExceptionHandler(APIError.class)
        ResponseEntity<Map<String, Object>> api(APIError e) { return envelope(e.status, e.code, e.getMessage()); }

        @ExceptionHandler(NoResourceFoundException.class) // without it: unknown routes → 500
        ResponseEntity<Map<String, Object>> noRoute(NoResourceFoundException e) {
            return envelope(404, "NOT_FOUND", "Route " + e.getHttpMethod() + " /" + e.getResourcePath() + " not found");
        }

        @ExceptionHandler(Exception.class)
        ResponseEntity<Map<String, Object>> unexpected(Exception e) {
            log.error("unhandled error", e); // stack → log
            return envelope(500, "INTERNAL_ERROR", "Internal server error");
        }
    }
}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
compare("spring")
print("stack in the server log:", "ErrorsApp.java:" in course.servers.get("spring").logs(200))
"""),
    ("code", "%stop spring"),
    ("md", """
## 4. The standard alternative: RFC 9457 Problem Details

The seed's envelope is a house format. [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) (which
obsoletes RFC 7807) standardises one: media type `application/problem+json`, members `type` (a URI
identifying the problem type, documentation ideally), `title` (short, the same for every
occurrence), `status`, `detail` (this occurrence) and `instance` (this request), plus any extension
members — such as our `code`, so clients that switch on codes keep working.

Spring has it built in (`ProblemDetail`, `spring.mvc.problemdetails.enabled=true`); so does
ASP.NET Core. Here is the seed's handler rewritten to speak it:
"""),
    ("code", r"""
%%node --serve problem
const http = require('node:http');
const express = require('express');

class APIError extends Error {
  constructor(message, status = 500, code = 'INTERNAL_ERROR') { super(message); this.status = status; this.code = code; }
}
class NotFoundError extends APIError {
  constructor(message = 'Resource not found') { super(message, 404, 'NOT_FOUND'); }
}

const app = express();
app.get('/api/users/:id', (req, res) => {
  if (req.params.id !== '1') throw new NotFoundError(`User ${req.params.id} not found`);
  res.json({ id: 1, name: 'Ada Lovelace' });
});
app.get('/api/boom', () => { throw new Error('password authentication failed at payments-db.internal:5432'); });
app.use((req, res, next) => next(new NotFoundError(`Route ${req.method} ${req.path} not found`)));

app.use((err, req, res, next) => {
  const known = err instanceof APIError;
  const status = known ? err.status : 500;
  const code = known ? err.code : 'INTERNAL_ERROR';
  if (!known) console.error(err.stack);
  res.status(status).type('application/problem+json').json({
    type: `https://docs.example.com/errors/${code.toLowerCase().replace(/_/g, '-')}`,
    title: http.STATUS_CODES[status],
    status,
    detail: known ? err.message : 'Internal server error',
    instance: req.originalUrl,
    code, // extension member
  });
});
app.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
compare("problem")
"""),
    ("md", """
Which one to choose? Either passes the course's grader (it accepts `application/json` and
`application/problem+json`). Problem Details wins when many teams or public clients consume your
API (generic tooling understands it); a house envelope is fine inside one product. What matters
is that *every* error — yours, the framework's, the unknown route's — uses the same one.
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

| | map errors to responses with | unknown routes | unexpected errors |
|---|---|---|---|
| Express | a 4-argument middleware, mounted last | a `notFound` middleware before it | generic 500, `err.stack` to the log |
| FastAPI | `@app.exception_handler(Type)` | handle Starlette's `HTTPException` | handler for `Exception` + `log.exception` |
| Go | a `func(w, r) error` handler type + `errors.As` | `router.NotFoundHandler` | `recover()` in the adapter |
| Spring | `@RestControllerAdvice` + `@ExceptionHandler` | `NoResourceFoundException` (6.1+) | handler for `Exception`, `log.error(msg, e)` |

RFC 9457 `application/problem+json` is the standard shape; keep a `code` extension member if your
clients switch on codes.

Exercises: [`../../exercises/05-error-handling/`](../../exercises/05-error-handling/).
"""),
]

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for name, cells in [("01-centralized-handler", CENTRALIZED), ("02-async-errors", ASYNC),
                        ("03-other-stacks", STACKS)]:
        if not wanted or name in wanted or name[:2] in wanted:
            write(OUT / f"{name}.ipynb", cells)
            print("wrote", OUT / f"{name}.ipynb")
