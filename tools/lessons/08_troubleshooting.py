"""Build notebooks/08-troubleshooting/*.ipynb (run from the repo root:
``.venv/bin/python tools/lessons/08_troubleshooting.py [NAME ...]``)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "notebooks" / "08-troubleshooting"

# --------------------------------------------------------------------------- 01
CONNECTIONS = [
    ("md", """
# Dependencies that refuse, stall, or flake

**Goal:** reproduce the first two rows of the seed's failure-mode table for real —
`ECONNREFUSED` (a dependency that is down) and `ETIMEDOUT` (one that does not answer in time, over
the network or in the database) — answer each with a clean 503 or 504 instead of a hang or a crash,
and add retries with exponential backoff following the seed's retry policy.

| Error | Root Cause | Recovery |
|-------|------------|----------|
| ECONNREFUSED | Service unavailable | Check service health, retry |
| ETIMEDOUT | Network/query timeout | Increase timeout, optimize query |

*(from the seed's Troubleshooting section)*

The cast: **inventory**, an upstream service (plain Node `http`), and **orders**, the API we own,
which calls inventory with `fetch` and queries PostgreSQL.
"""),
    ("code", """
%load_ext course
import json, time
from pathlib import Path
import httpx, course, course.db

DB = course.db.url()
UPSTREAM_JS = str(Path("upstream.js").resolve())   # the next cell is saved there
"""),
    ("code", r"""
%%node --serve inventory --save upstream.js
// inventory: a small upstream service with a few ways to misbehave.
const http = require('node:http');
const attempts = new Map(); // key -> how many times it was asked

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://inventory');
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const key = url.searchParams.get('key') || 'default';
  const item = /^\/items\/(\d+)$/.exec(url.pathname);
  if (item) return send(200, { id: Number(item[1]), inStock: 7 });
  if (url.pathname === '/stall') return; // accept the request, never answer
  if (url.pathname === '/flaky' || url.pathname === '/broken') {
    const n = (attempts.get(key) || 0) + 1;
    attempts.set(key, n);
    if (url.pathname === '/flaky' && n >= 3) return send(200, { inStock: 7, attempt: n }); // fails twice, then works
    return send(503, { error: { code: 'UNAVAILABLE', message: `attempt ${n} failed` } });
  }
  if (url.pathname === '/attempts') return send(200, { key, attempts: attempts.get(key) || 0 });
  send(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
});
server.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
INVENTORY = course.url("inventory")
INVENTORY_PORT = course.servers.get("inventory").port
"""),
    ("md", """
## The orders service

Three decisions make the difference between "the dependency is down" and "we are down":

1. **A timeout on every outbound call.** Node's `fetch` waits up to 300 s for response headers
   by default; `AbortSignal.timeout(500)` bounds it. For PostgreSQL, `statement_timeout` makes the
   server cancel a query that runs too long.
2. **Classify the failure.** `fetch` wraps socket errors: the code is in `err.cause.code`
   (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`…); a timeout is an error named `TimeoutError`. A
   dependency that is down → **503** `UPSTREAM_UNAVAILABLE`; one that is too slow → **504**
   `UPSTREAM_TIMEOUT` / `QUERY_TIMEOUT`. Both are JSON, both say which dependency, neither hangs.
3. **Retry only what can succeed on retry** — refused connections, timeouts, 5xx answers; never a
   4xx — with backoff, and a bounded number of attempts: the seed's `retry_config`.

```yaml
retry_config:            # from the seed's metadata
  max_attempts: 3
  backoff_type: exponential
  initial_delay_ms: 1000
  max_delay_ms: 10000
```

The lesson runs the delays 10× faster (`RETRY_DELAY_SCALE=0.1`) and reports both the policy's
delays and the ones actually waited.
"""),
    ("code", r"""
%%node --serve orders --env UPSTREAM_URL=$INVENTORY --env DATABASE_URL=$DB --env RETRY_DELAY_SCALE=0.1
import express from 'express';
import pg from 'pg';
import pino from 'pino';

const logger = pino();
const UPSTREAM = process.env.UPSTREAM_URL;
const UPSTREAM_TIMEOUT_MS = 500;
const RETRY = { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 10000 }; // the seed's policy
const SCALE = Number(process.env.RETRY_DELAY_SCALE || 1);

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4, statement_timeout: 500 });

class DependencyError extends Error {
  constructor(message, { status, code, retryable, cause }) {
    super(message, { cause });
    Object.assign(this, { status, code, retryable });
  }
}

async function callInventory(path) {
  let response;
  try {
    response = await fetch(UPSTREAM + path, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
  } catch (err) {
    if (err.name === 'TimeoutError') {
      throw new DependencyError(`inventory did not answer within ${UPSTREAM_TIMEOUT_MS} ms`,
        { status: 504, code: 'UPSTREAM_TIMEOUT', retryable: true, cause: err });
    }
    const reason = err.cause?.code || err.message; // ECONNREFUSED, ECONNRESET, ENOTFOUND, ...
    throw new DependencyError(`inventory is unavailable (${reason})`,
      { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, cause: err.cause || err });
  }
  if (response.status >= 500) {
    throw new DependencyError(`inventory answered ${response.status}`,
      { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true });
  }
  if (!response.ok) { // a 4xx is our mistake: retrying cannot help
    throw new DependencyError(`inventory rejected the request (${response.status})`,
      { status: 502, code: 'UPSTREAM_REJECTED', retryable: false });
  }
  return response.json();
}

// Exponential backoff: the n-th retry waits initialDelayMs * 2^(n-1), capped at maxDelayMs.
const backoffDelay = (retry, policy) => Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (retry - 1));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function withRetry(fn, policy, log) {
  const delays = [];
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await fn();
      return { value, attempts: attempt, delays };
    } catch (err) {
      if (!err.retryable || attempt >= policy.maxAttempts) {
        Object.assign(err, { attempts: attempt, delays });
        throw err;
      }
      const delay = backoffDelay(attempt, policy);
      delays.push(delay);
      log.warn({ attempt, delay_ms: delay, waited_ms: delay * SCALE, err: err.message }, 'retrying');
      await sleep(delay * SCALE);
    }
  }
}

const app = express();

app.get('/api/orders/:id', async (req, res) => { // no retry: show the raw failure modes
  const item = await callInventory(`/items/${Number(req.params.id)}`);
  res.json({ order: Number(req.params.id), item });
});

app.get('/api/orders/:id/slow', async (req, res) => {
  const item = await callInventory('/stall');
  res.json({ order: Number(req.params.id), item });
});

app.get('/api/report', async (req, res) => { // a query that may exceed statement_timeout
  const seconds = Math.min(Number(req.query.seconds) || 0, 5);
  try {
    const { rows } = await pool.query('SELECT pg_sleep($1) AS slept, count(*)::int AS users FROM users', [seconds]);
    res.json({ users: rows[0].users });
  } catch (err) {
    if (err.code !== '57014') throw err; // query_canceled
    throw new DependencyError('the report query exceeded statement_timeout (500 ms)',
      { status: 504, code: 'QUERY_TIMEOUT', retryable: false, cause: err });
  }
});

app.get('/api/stock/:mode', async (req, res) => {
  const mode = req.params.mode === 'broken' ? 'broken' : 'flaky';
  const key = encodeURIComponent(req.query.key || 'default');
  const { value, attempts, delays } = await withRetry(() => callInventory(`/${mode}?key=${key}`), RETRY, req.log || logger);
  res.json({ stock: value.inStock, attempts, delays_ms: delays });
});

app.use((err, req, res, next) => {
  const known = err instanceof DependencyError;
  const status = known ? err.status : 500;
  logger.error({ err, cause: err.cause?.code || err.cause?.name, path: req.path }, err.message);
  const error = known ? { code: err.code, message: err.message } : { code: 'INTERNAL_ERROR', message: 'Internal server error' };
  if (err.attempts) error.details = { attempts: err.attempts, delays_ms: err.delays };
  if (status === 503) res.set('Retry-After', '1');
  res.status(status).json({ error });
});

app.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
ORDERS = course.url("orders")

def call(path: str) -> httpx.Response:
    t = time.perf_counter()
    r = httpx.get(ORDERS + path, timeout=10)
    r.elapsed_s = time.perf_counter() - t
    return r

def log_lines(name: str, until=None) -> list[dict]:
    # `until`: wait for the line about a request (pino writes it asynchronously, after the response)
    return course.servers.get(name).log_records(until=until)
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
r = call("/api/orders/1")
print("all up:", r.status_code, r.json())
"""),
    ("md", """
## 1. ETIMEDOUT: a dependency that stalls

Inventory's `/stall` accepts the request and never answers — a hung process, a full thread pool, a
dropped packet. Without a timeout, this request (and the memory and socket it holds) would wait
for minutes; with one, the client gets a **504** after 500 ms.

(The literal `ETIMEDOUT` code comes from the socket layer — a TCP connect that gets no answer
because a firewall drops the packets, or `http.request`/axios with a `timeout`. `fetch` reports
its own deadline as a `TimeoutError`. Either way a budget ran out, and the answer is the same.)
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
r = call("/api/orders/1/slow")
print(r.status_code, r.json())
print("answered within 1.5 s:", r.elapsed_s < 1.5)
"""),
    ("md", """
The query flavour of the same row: the report runs `pg_sleep(2)` — a stand-in for a missing index
or a lock wait. `statement_timeout: 500` (set on the pool) makes PostgreSQL cancel it
(SQLSTATE `57014`); the API answers 504 instead of tying up a pooled connection for 2 s.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("fast query:", call("/api/report?seconds=0").json())
r = call("/api/report?seconds=2")
print("slow query:", r.status_code, r.json())
print("answered within 1.5 s:", r.elapsed_s < 1.5)
"""),
    ("md", """
"Increase timeout, optimize query", says the seed: in that order of *last resort* and *first
resort*. A timeout is a budget; when a dependency regularly needs more, fix the query (an
`EXPLAIN ANALYZE` away) before raising it.

## 2. ECONNREFUSED: a dependency that is down

Stop inventory. The operating system now answers its port with a TCP reset: `fetch` fails
immediately with `err.cause.code === 'ECONNREFUSED'`.
"""),
    ("code", "%stop inventory"),
    ("code", """
# NBVAL_CHECK_OUTPUT
r = call("/api/orders/1")
print(r.status_code, r.json())
print("Retry-After:", r.headers.get("retry-after"))
lines = log_lines("orders", until=lambda l: l.get("path") == "/api/orders/1" and "cause" in l)
print("logged cause:", [l["cause"] for l in lines if l.get("path") == "/api/orders/1"][-1])
"""),
    ("md", """
A clean 503 with `Retry-After`, and a log line that names the cause. Now restart inventory on the
same port (the file saved by `--save upstream.js` is the same program) and the next request
recovers — no restart of orders needed, because `fetch` opens connections on demand. (The same
holds for a `pg.Pool`: it replaces broken connections by itself.)
"""),
    ("code", """
%%node --serve inventory --port $INVENTORY_PORT --env UPSTREAM_JS=$UPSTREAM_JS
require(process.env.UPSTREAM_JS);
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("same port:", course.servers.get("inventory").port == INVENTORY_PORT)
r = call("/api/orders/1")
print("recovered:", r.status_code, r.json())
"""),
    ("md", """
## 3. Retries with exponential backoff

The seed's policy, as a schedule: after attempt *n* fails, wait `initial × 2^(n−1)`, capped at
`max` — and stop after `max_attempts`. With three attempts there are two waits, 1 s and 2 s; the
10 s cap only matters for longer policies, shown for comparison:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
POLICY = {"max_attempts": 3, "backoff_type": "exponential", "initial_delay_ms": 1000, "max_delay_ms": 10000}
SCALE = 0.1  # RETRY_DELAY_SCALE given to the orders server

def delay_ms(retry: int, p: dict = POLICY) -> int:
    return min(p["max_delay_ms"], p["initial_delay_ms"] * 2 ** (retry - 1))

print("the seed's policy:")
for attempt in range(1, POLICY["max_attempts"] + 1):
    if attempt < POLICY["max_attempts"]:
        print(f"  attempt {attempt} fails → wait {delay_ms(attempt):>5} ms (this lesson: {delay_ms(attempt) * SCALE:.0f} ms)")
    else:
        print(f"  attempt {attempt} fails → give up")
print("the same backoff with 7 attempts:", [delay_ms(n) for n in range(1, 7)])
"""),
    ("md", """
Inventory's `/flaky` fails twice and then succeeds; `/broken` always fails. Each is keyed, and
inventory counts how many times it was really asked.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
r = call("/api/stock/flaky?key=order-42")
asked = httpx.get(course.url("inventory") + "/attempts?key=order-42").json()["attempts"]
print("flaky: ", r.status_code, r.json(), "| inventory was asked", asked, "times")

r = call("/api/stock/broken?key=order-43")
asked = httpx.get(course.url("inventory") + "/attempts?key=order-43").json()["attempts"]
print("broken:", r.status_code, r.json(), "| inventory was asked", asked, "times")
print("broken took at least the two (scaled) waits, 0.3 s:", r.elapsed_s >= 0.3)
"""),
    ("code", """
for line in log_lines("orders"):
    if line["msg"] == "retrying":
        print(f"retry log: attempt {line['attempt']} failed ({line['err']}), policy delay {line['delay_ms']} ms, "
              f"waited {line['waited_ms']:.0f} ms")
"""),
    ("md", """
Retrying well takes more than a loop:

- **Only retryable failures** (refused, reset, timed out, 502/503/504). A 400 will be a 400 again.
- **Only idempotent operations** — a `GET`, or a `POST` carrying an idempotency key — or a retried
  payment is charged twice.
- **Add jitter** in production (e.g. *full jitter*: wait a random time between 0 and the computed
  delay), or every client that failed together retries together and knocks the dependency over
  again. It is left out here so the schedule is reproducible.
- **Respect a budget**: three attempts with 1 s and 2 s waits plus three 500 ms timeouts is ~4.5 s
  — more than many callers will wait. Retry at *one* layer only; retries at every layer multiply.
- **Stop retrying a dependency that is down** — a circuit breaker fails fast for a while after
  repeated failures, and checks the dependency's health before letting traffic through again.
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

- ECONNREFUSED: the dependency is down. Detect it (`err.cause.code` with `fetch`), answer 503 JSON
  with `Retry-After`, log the cause, and recover on your own when it returns.
- ETIMEDOUT: bound every call — `AbortSignal.timeout()` for HTTP, `statement_timeout` for
  PostgreSQL — and answer 504; then fix the slow query rather than raising the timeout.
- Retries: the seed's policy (3 attempts, exponential from 1 s, capped at 10 s) for retryable,
  idempotent calls only, with jitter in production.

Next: [memory leaks and a blocked event loop](02-memory-and-event-loop.ipynb).
Exercises: [`../../exercises/08-troubleshooting/`](../../exercises/08-troubleshooting/).
"""),
]

# --------------------------------------------------------------------------- 02
MEMORY = [
    ("md", """
# Memory leaks and a blocked event loop

**Goal:** find the last two rows of the seed's failure-mode table in running servers — a memory
leak, from the process's resident memory across batches of requests and then a heap snapshot that
names the leaking objects; and a blocked event loop, from the seed's lag snippet — using the
seed's *Performance Debugging* snippets as they are.

| Error | Root Cause | Recovery |
|-------|------------|----------|
| Memory leak | Unreleased resources | Profile with heap snapshots |
| Event loop blocked | Sync CPU work | Use worker threads |
"""),
    ("code", """
%load_ext course
import json, re, shutil, tempfile, uuid
from pathlib import Path
import httpx, course
import matplotlib.pyplot as plt

SNAPSHOT_DIR = tempfile.mkdtemp(prefix="heap-")
"""),
    ("md", """
## 1. The seed's memory profiling snippet

As written, in a process of its own:
"""),
    ("code", r"""
%%node
// Memory profiling
const used = process.memoryUsage();
console.log({
  heapUsed: Math.round(used.heapUsed / 1024 / 1024) + ' MB',
  heapTotal: Math.round(used.heapTotal / 1024 / 1024) + ' MB'
});
"""),
    ("md", """
`heapUsed`/`heapTotal` are the JavaScript heap only. The operating system — and the OOM killer —
sees the **resident set size** (RSS: heap + code + stacks + buffers + native memory), which
`process.memoryUsage().rss` reports and which you can read from outside in `/proc/PID/status`
(`VmRSS`), without touching the app.

## 2. A leaky server

A quote endpoint memoizes its results to save work. The cache key is the full URL — which
includes a `requestId` that is new on every request — and nothing is ever evicted. Each entry holds
a 64 KB price history. The seed's snippet is mounted as `/debug/memory`, and `/debug/heap-snapshot`
writes a V8 heap snapshot. (Debug routes like these must never be reachable from the internet:
bind them to an admin port or protect them.)
"""),
    ("code", r"""
%%node --serve leaky --env SNAPSHOT_DIR=$SNAPSHOT_DIR
const path = require('node:path');
const v8 = require('node:v8');
const express = require('express');

class PriceQuote {
  constructor(sku, history) {
    this.sku = sku;
    this.history = history; // 8000 doubles: 64 KB
  }
}

const quotes = new Map(); // memoized quotes, keyed by URL — and never evicted

const app = express();
app.get('/api/quote', (req, res) => {
  const key = req.originalUrl; // includes ?requestId=...: a new key on every request
  let quote = quotes.get(key);
  if (!quote) {
    quote = new PriceQuote(req.query.sku, Array.from({ length: 8000 }, () => 100 + Math.random()));
    quotes.set(key, quote);
  }
  res.json({ sku: quote.sku, price: quote.history.at(-1) });
});

app.get('/debug/memory', (req, res) => {
  // ---- seed: Memory profiling ----
  const used = process.memoryUsage();
  console.log({
    heapUsed: Math.round(used.heapUsed / 1024 / 1024) + ' MB',
    heapTotal: Math.round(used.heapTotal / 1024 / 1024) + ' MB'
  });
  res.json({ heapUsedMB: Math.round(used.heapUsed / 2 ** 20), rssMB: Math.round(used.rss / 2 ** 20) });
});

app.get('/debug/heap-snapshot', (req, res) => {
  const file = v8.writeHeapSnapshot(path.join(process.env.SNAPSHOT_DIR, `leaky-${process.pid}.heapsnapshot`));
  res.json({ file });
});

app.listen(process.env.PORT, process.env.HOST);
"""),
    ("md", """
And the fix, as a second server: the cache is keyed by what the result depends on (the SKU), and
bounded anyway (at most 100 entries, oldest evicted first) — a cache without a bound is a leak
waiting for an unexpected key.
"""),
    ("code", r"""
%%node --serve bounded
const express = require('express');

class PriceQuote {
  constructor(sku, history) {
    this.sku = sku;
    this.history = history;
  }
}

const MAX_ENTRIES = 100;
const quotes = new Map(); // keyed by SKU; Map keeps insertion order, so the first key is the oldest

const app = express();
app.get('/api/quote', (req, res) => {
  const key = String(req.query.sku);
  let quote = quotes.get(key);
  if (!quote) {
    quote = new PriceQuote(key, Array.from({ length: 8000 }, () => 100 + Math.random()));
    quotes.set(key, quote);
    if (quotes.size > MAX_ENTRIES) quotes.delete(quotes.keys().next().value);
  }
  res.json({ sku: quote.sku, price: quote.history.at(-1) });
});

app.listen(process.env.PORT, process.env.HOST);
"""),
    ("md", """
## 3. Finding it from the outside: RSS across batches

Ten batches of 100 requests each (50 different SKUs, a fresh `requestId` each time), reading
`VmRSS` from `/proc/PID/status` after every batch. A healthy process levels off after warm-up; a
leaking one climbs in a straight line.
"""),
    ("code", """
def rss_mb(name: str) -> float:
    status = Path(f"/proc/{course.servers.get(name).pid}/status").read_text()
    return int(re.search(r"VmRSS:\\s+(\\d+) kB", status).group(1)) / 1024

def run_batches(name: str, batches: int = 10, size: int = 100) -> list[float]:
    rss = [rss_mb(name)]
    with httpx.Client(base_url=course.url(name)) as client:
        for _ in range(batches):
            for i in range(size):
                client.get("/api/quote", params={"sku": f"SKU-{i % 50}", "requestId": uuid.uuid4().hex}).raise_for_status()
            rss.append(rss_mb(name))
    return rss

from concurrent.futures import ThreadPoolExecutor

with ThreadPoolExecutor(2) as pool:   # both servers at once
    rss = dict(zip(("leaky", "bounded"), pool.map(run_batches, ("leaky", "bounded"))))
for name, values in rss.items():
    print(f"{name:<8} RSS MB:", [round(v) for v in values])

fig, ax = plt.subplots(figsize=(7, 3))
for name, values in rss.items():
    ax.plot(range(len(values)), values, marker="o", label=name)
ax.set(xlabel="batches of 100 requests", ylabel="VmRSS (MB)", title="Resident memory across batches")
ax.legend()
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
growth = {name: values[-1] - values[2] for name, values in rss.items()}  # after warm-up
print("leaky: RSS grew by more than 30 MB over batches 3-10:", growth["leaky"] > 30)
print("bounded: RSS grew by less than 15 MB over batches 3-10:", growth["bounded"] < 15)
print("leaky heap as the seed's snippet sees it, over 50 MB:", httpx.get(course.url("leaky") + "/debug/memory").json()["heapUsedMB"] > 50)
"""),
    ("code", "%logs leaky -n 3"),
    ("md", """
## 4. Naming the leak: a heap snapshot

RSS says *that* memory leaks; a heap snapshot says *what* holds it. `v8.writeHeapSnapshot()`
writes every object on the heap with its constructor name, size and references — the file
Chrome DevTools' *Memory* tab opens (compare two snapshots there and sort by *# Delta*). It pauses
the process while it writes and can need as much memory again as the heap: take it on one
instance, out of rotation. The format is JSON, so a few lines of Python can count objects by
constructor:
"""),
    ("code", """
from collections import Counter

snapshot_file = Path(httpx.get(course.url("leaky") + "/debug/heap-snapshot", timeout=60).json()["file"])
snap = json.loads(snapshot_file.read_text())
meta = snap["snapshot"]["meta"]
fields, types = meta["node_fields"], meta["node_types"][0]
step, TYPE, NAME = len(fields), fields.index("type"), fields.index("name")
nodes, strings = snap["nodes"], snap["strings"]

objects = Counter(strings[nodes[i + NAME]] for i in range(0, len(nodes), step) if types[nodes[i + TYPE]] == "object")
print(f"snapshot: {snapshot_file.stat().st_size / 2**20:.1f} MB, {len(nodes) // step:,} nodes")
for name, count in objects.most_common(6):
    print(f"{count:>8,}  {name}")
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("snapshot written:", snapshot_file.exists())
print("PriceQuote objects alive:", objects["PriceQuote"])
print("PriceQuote among the 5 most numerous constructors:", "PriceQuote" in dict(objects.most_common(5)))
snapshot_file.unlink()
"""),
    ("md", """
1,000 requests, 1,000 `PriceQuote`s still alive: nothing ever lets go of them. In DevTools, the
*Retainers* pane shows the path that keeps one alive — `quotes` (a `Map`) → entry → `PriceQuote`.
Typical culprits: unbounded caches and maps, listeners added per request to a long-lived emitter
(Node warns after 10: `MaxListenersExceededWarning`), timers never cleared, closures captured by
something global.
"""),
    ("code", "%stop leaky bounded"),
    ("md", """
## 5. The seed's event-loop lag snippet

As written: it schedules a callback with `setImmediate` and measures how late it runs. Right
after it, this program blocks for 250 ms with synchronous work — the callback cannot run until
that ends:
"""),
    ("code", r"""
%%node
// Event loop lag
const start = Date.now();
setImmediate(() => {
  const lag = Date.now() - start;
  if (lag > 100) console.warn(`Event loop lag: ${lag}ms`);
});

// synchronous work right after: nothing else can run for 250 ms
const until = Date.now() + 250;
while (Date.now() < until) {}
"""),
    ("md", """
It measures once, and only catches a block that happens between its first line and the end of
the current loop iteration. Wrapping it in a `setInterval` is not enough in a server: a request
handled in a *later* iteration blocks the loop while no measurement is pending. The robust form
of the same idea is to measure how late a **timer** fires: schedule a callback every 200 ms and
compare when it runs with when it was due. Node also has a built-in, low-overhead sampler,
`perf_hooks.monitorEventLoopDelay()`, a histogram you can export as a metric (`prom-client`'s
default metrics include `nodejs_eventloop_lag_*`). Here is a server with both, and a route that
does 600 ms of synchronous work:
"""),
    ("code", r"""
%%node --serve laggy
const { monitorEventLoopDelay } = require('node:perf_hooks');
const express = require('express');

// The seed's check, continuously: how late does a callback due every 200 ms run?
const INTERVAL_MS = 200;
let due = Date.now() + INTERVAL_MS;
setInterval(() => {
  const lag = Date.now() - due;
  due = Date.now() + INTERVAL_MS;
  if (lag > 100) console.warn(JSON.stringify({ level: 'warn', msg: 'Event loop lag', lag_ms: lag }));
}, INTERVAL_MS);

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

function priceAllOrders(ms) { // synchronous CPU work, e.g. pricing a large cart in a loop
  const end = Date.now() + ms;
  let total = 0;
  while (Date.now() < end) total += Math.sqrt(Math.random());
  return total;
}

const app = express();
app.get('/api/price-all', (req, res) => res.json({ total: priceAllOrders(Number(req.query.ms) || 600) }));
app.get('/debug/loop', (req, res) => res.json({
  p50_ms: histogram.percentile(50) / 1e6, p99_ms: histogram.percentile(99) / 1e6, max_ms: histogram.max / 1e6,
}));
app.listen(process.env.PORT, process.env.HOST);
"""),
    ("code", """
import time

# A timer due every 200 ms during a 600 ms block reports 400-600 ms of lag, depending on when it was due.
time.sleep(0.5)                                     # idle: no warnings
httpx.get(course.url("laggy") + "/api/price-all?ms=600")
time.sleep(0.5)                                     # let the monitor report
loop = httpx.get(course.url("laggy") + "/debug/loop").json()
warnings = [json.loads(l) for l in course.servers.get("laggy").logs(50).splitlines() if '"Event loop lag"' in l]
print(warnings)
print(loop)
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("lag warnings logged:", len(warnings) >= 1)
print("worst logged lag ≥ 300 ms:", max(w["lag_ms"] for w in warnings) >= 300)
print("monitorEventLoopDelay max ≥ 500 ms:", loop["max_ms"] >= 500)
"""),
    ("code", "%stop laggy"),
    ("md", """
The lag tells you *that* the loop was blocked and for how long, not *by what*. For that, profile
the CPU: run the process with `node --cpu-prof` (it writes a `.cpuprofile` on exit, which Chrome
DevTools and VS Code open as a flame chart), or take a profile from a live process through the
inspector. The profile is JSON too — the function with the most samples is the culprit:
"""),
    ("code", """
import subprocess
from collections import Counter
from course import toolchains

profile_dir = Path(tempfile.mkdtemp(prefix="cpuprof-"))
script = '''
function priceAllOrders(ms) { const end = Date.now() + ms; let t = 0; while (Date.now() < end) t += Math.sqrt(Math.random()); return t; }
function handleRequest() { return priceAllOrders(300); }
handleRequest();
'''
subprocess.run([toolchains.require("node"), "--cpu-prof", "--cpu-prof-dir", str(profile_dir), "-e", script],
               check=True, timeout=30)
profile = json.loads(next(profile_dir.glob("*.cpuprofile")).read_text())
names = {n["id"]: n["callFrame"]["functionName"] or "(anonymous)" for n in profile["nodes"]}
self_samples = Counter(names[s] for s in profile["samples"])
print(self_samples.most_common(4))
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
top = [name for name, _ in self_samples.most_common(3)]
print("priceAllOrders is among the top 3 functions by CPU samples:", "priceAllOrders" in top)
shutil.rmtree(profile_dir)
shutil.rmtree(SNAPSHOT_DIR)
"""),
    ("md", """
The fix for a blocked loop is the seed's: move the work off it — worker threads (section 6), or a
separate service or job queue — or make it cheaper, or split it into chunks that yield
(`setImmediate`) between them.

## Recap

- Watch RSS (`/proc/PID/status` `VmRSS`, or your platform's container metrics) across load: steady
  growth after warm-up is a leak. The seed's `process.memoryUsage()` snippet shows the JS heap.
- A heap snapshot (`v8.writeHeapSnapshot()`) names what is retained — count by constructor,
  compare two, follow the retainers. Take it out of rotation: it pauses the process.
- Bound every cache; key it by what the value depends on.
- The seed's lag snippet, run periodically (or `monitorEventLoopDelay`), detects a blocked loop; a
  CPU profile (`--cpu-prof`) finds the function.

Next: [reading logs, and the debug checklist](03-logs-and-debug-checklist.ipynb).
Exercises: [`../../exercises/08-troubleshooting/`](../../exercises/08-troubleshooting/).
"""),
]

# --------------------------------------------------------------------------- 03
LOGS = [
    ("md", """
# Reading logs, and the debug checklist

**Goal:** produce the four lines of the seed's *Log Interpretation* table from a real server —
a start, a slow database, an unhandled rejection and an out-of-memory kill — read them back the way
an on-call engineer would, then run the seed's six-step *Debug Checklist* against the live process.

```
INFO: SERVER_STARTED port=3000 environment=production
  → Application started successfully

WARN: DB_CONNECTION_SLOW duration=2500ms
  → Database latency issue

ERROR: UNHANDLED_REJECTION promise=Promise error=TypeError
  → Missing async error handling

ERROR: OOM_KILLED pid=1234 memory=512MB
  → Memory limit exceeded, check for leaks
```
*(the seed's Log Interpretation section)*
"""),
    ("code", """
%load_ext course
import json, re, time
import httpx, course, course.db

DB = course.db.url()
"""),
    ("md", """
## 1. A server that tells you what happens to it

Each of the four events, and how the server detects it:

- `SERVER_STARTED` — in the `listen` callback, with the port and `NODE_ENV`.
- `DB_CONNECTION_SLOW` — every query is timed (acquiring the pooled connection included); one that
  takes longer than `DB_SLOW_MS` (200 ms here) is logged with its duration.
- `UNHANDLED_REJECTION` — `process.on('unhandledRejection')`. The route below starts an `async`
  audit call and forgets to `await` it (the bug), and the audit call reads a property of
  `undefined` (a `TypeError`).
- `OOM_KILLED` — the export job runs in a child process with a 32 MB heap limit
  (`--max-old-space-size=32`) and builds an ever-growing array. V8 aborts it ("JavaScript heap out
  of memory", `SIGABRT`); the parent sees the child die and logs it. (In a container, the kernel's
  OOM killer sends `SIGKILL` instead — exit status 137 — and the orchestrator reports `OOMKilled`.)

The logs are JSON lines (section 7's logging item) with an `event` field; the seed's text form is
how we will display them.
"""),
    ("code", r"""
%%node --serve svc --env DATABASE_URL=$DB --env NODE_ENV=production --env DB_SLOW_MS=200
const { spawn } = require('node:child_process');
const express = require('express');
const pino = require('pino');
const { Pool } = require('pg');

const logger = pino({ base: undefined }); // no pid/hostname on every line
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
pool.on('error', (err) => logger.warn({ err }, 'idle database connection lost')); // without it: a crash
const SLOW_MS = Number(process.env.DB_SLOW_MS || 1000);

async function timedQuery(text, params) {
  const start = performance.now();
  try {
    return await pool.query(text, params);
  } finally {
    const duration = Math.round(performance.now() - start);
    if (duration > SLOW_MS) logger.warn({ event: 'DB_CONNECTION_SLOW', duration: `${duration}ms` }, 'DB_CONNECTION_SLOW');
  }
}

process.on('unhandledRejection', (reason, promise) => {
  logger.error({ event: 'UNHANDLED_REJECTION', promise: promise.constructor.name,
                 error: reason?.constructor?.name, err: reason }, 'UNHANDLED_REJECTION');
});

const app = express();
app.get('/api/users/count', async (req, res) => {
  const seconds = Math.min(Number(req.query.sleep) || 0, 5);
  const { rows } = await timedQuery('SELECT count(*)::int AS n, pg_sleep($1) FROM users', [seconds]);
  res.json({ users: rows[0].n });
});

async function audit(user) {
  return user.id; // user is undefined: TypeError
}
app.post('/api/orders', (req, res) => {
  audit(req.user); // BUG: not awaited, no .catch()
  res.status(201).json({ created: true });
});

const MEMORY_LIMIT_MB = 32;
const EXPORT_JOB = 'const rows = []; for (;;) rows.push({ id: rows.length, payload: "x".repeat(64) + rows.length });';
app.post('/api/export', (req, res) => {
  const child = spawn(process.execPath, [`--max-old-space-size=${MEMORY_LIMIT_MB}`, '-e', EXPORT_JOB],
                      { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  child.on('exit', (code, signal) => {
    const oom = /heap out of memory|Reached heap limit/.test(stderr) || signal === 'SIGKILL';
    if (oom) {
      logger.error({ event: 'OOM_KILLED', pid: child.pid, memory: `${MEMORY_LIMIT_MB}MB`, signal, code }, 'OOM_KILLED');
      return res.status(503).json({ error: { code: 'EXPORT_FAILED', message: 'The export ran out of memory' } });
    }
    res.json({ exported: true });
  });
});

const port = Number(process.env.PORT);
app.listen(port, process.env.HOST, () => {
  logger.info({ event: 'SERVER_STARTED', port, environment: process.env.NODE_ENV }, 'SERVER_STARTED');
});
"""),
    ("code", """
SVC = course.url("svc")
print("count, fast:", httpx.get(SVC + "/api/users/count").json())
print("count, slow:", httpx.get(SVC + "/api/users/count?sleep=0.4").json())
print("order:", httpx.post(SVC + "/api/orders").status_code)
print("export:", httpx.post(SVC + "/api/export", timeout=30).json())
"""),
    ("md", """
## 2. Reading the log

Render each JSON line in the seed's text form — `LEVEL: EVENT key=value …` — and attach the
seed's interpretation:
"""),
    ("code", """
LEVELS = {30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
MEANING = {  # the seed's Log Interpretation table
    "SERVER_STARTED": "Application started successfully",
    "DB_CONNECTION_SLOW": "Database latency issue",
    "UNHANDLED_REJECTION": "Missing async error handling",
    "OOM_KILLED": "Memory limit exceeded, check for leaks",
}
KEYS = {"SERVER_STARTED": ["port", "environment"], "DB_CONNECTION_SLOW": ["duration"],
        "UNHANDLED_REJECTION": ["promise", "error"], "OOM_KILLED": ["pid", "memory"]}

def events(name: str) -> list[dict]:
    # wait (up to 5 s) for the last event, OOM_KILLED, to reach the log: pino writes asynchronously
    records = course.servers.get(name).log_records(until=lambda r: r.get("event") == "OOM_KILLED")
    return [e for e in records if "event" in e]

def seed_format(e: dict) -> str:
    fields = " ".join(f"{k}={e[k]}" for k in KEYS[e["event"]])
    return f"{LEVELS[e['level']]}: {e['event']} {fields}"

for e in events("svc"):
    print(seed_format(e))
    print("  →", MEANING[e["event"]])
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
seen = events("svc")
for e in seen:   # the same, without the values that change from run to run
    print(f"{LEVELS[e['level']]:<5} {e['event']:<20} keys: {', '.join(KEYS[e['event']])}  →  {MEANING[e['event']]}")
slow = next(e for e in seen if e["event"] == "DB_CONNECTION_SLOW")
print("slow query logged with a duration ≥ 400 ms:", int(slow["duration"].rstrip("ms")) >= 400)
print("the rejection's stack is in the log:", "at audit" in next(e for e in seen if e["event"] == "UNHANDLED_REJECTION")["err"]["stack"])
"""),
    ("md", """
What each line asks of you:

- **SERVER_STARTED** — check the port and environment are what you deployed (a `development` here
  means a missing `NODE_ENV`; see the Express stack-trace leak in section 5).
- **DB_CONNECTION_SLOW** — is it the query (run it with `EXPLAIN ANALYZE`), the database
  (`pg_stat_activity`: lock waits, long transactions), or the pool (requests queued for a
  connection: the time includes the wait)? Correlate with the pool size and traffic.
- **UNHANDLED_REJECTION** — a promise nobody awaited; the logged stack points to it (`audit`).
  Section 5's async-errors notebook has the fixes. Exit and restart if state may be corrupt.
- **OOM_KILLED** — a process exceeded its memory limit: look for a leak (notebook 02's RSS trend
  and heap snapshot) before raising the limit; for a batch job, stream instead of accumulating.

## 3. The seed's debug checklist, run against the live server

1. Check application logs
2. Verify environment variables
3. Test database connection
4. Check memory usage
5. Profile CPU usage
6. Verify network connectivity

Each step below is a small function that looks at the running process from the outside — the
same things you would do with `kubectl logs`, `kubectl exec -- env`, `psql`, `top` and `nc`.
"""),
    ("code", """
import os, socket
from pathlib import Path
from urllib.parse import urlsplit
import psycopg

proc = course.servers.get("svc")

def step_logs() -> tuple[bool, str]:
    errors = [e for e in events("svc") if e["level"] >= 50]
    return not errors, f"{len(errors)} error line(s): {sorted({e['event'] for e in errors})}"

def step_env(required=("DATABASE_URL", "PORT", "NODE_ENV")) -> tuple[bool, str]:
    env = dict(kv.split("=", 1) for kv in Path(f"/proc/{proc.pid}/environ").read_bytes().decode().split("\\0") if "=" in kv)
    missing = [k for k in required if not env.get(k)]
    return not missing, f"missing: {missing}" if missing else f"{', '.join(required)} set; NODE_ENV={env['NODE_ENV']}"

def step_database(url: str) -> tuple[bool, str]:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True, "SELECT 1 answered"
    except psycopg.Error as e:
        return False, str(e).strip().splitlines()[0]

def step_memory(limit_mb: int = 256) -> tuple[bool, str]:
    rss = int(re.search(r"VmRSS:\\s+(\\d+)", Path(f"/proc/{proc.pid}/status").read_text()).group(1)) / 1024
    return rss < limit_mb, f"RSS {rss:.0f} MB (limit {limit_mb} MB)"

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

def step_cpu(window: float = 1.0, limit: float = 0.8) -> tuple[bool, str]:
    before = cpu_seconds(proc.pid)
    time.sleep(window)
    share = (cpu_seconds(proc.pid) - before) / window
    return share < limit, f"{share:.0%} of a core over {window:g} s while idle"

def step_network(url: str) -> tuple[bool, str]:
    targets = {"app": ("127.0.0.1", proc.port), "database": (urlsplit(url).hostname, urlsplit(url).port)}
    down = []
    for name, (host, port) in targets.items():
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError as e:
            down.append(f"{name} {host}:{port} ({e.strerror})")
    return not down, "unreachable: " + ", ".join(down) if down else "app and database ports accept connections"

def debug_checklist() -> dict[str, bool]:
    steps = {
        "1. Check application logs": step_logs,
        "2. Verify environment variables": step_env,
        "3. Test database connection": lambda: step_database(DB),
        "4. Check memory usage": step_memory,
        "5. Profile CPU usage": step_cpu,
        "6. Verify network connectivity": lambda: step_network(DB),
    }
    verdicts = {}
    for title, step in steps.items():
        ok, detail = step()
        verdicts[title] = ok
        print(f"[{'x' if ok else ' '}] {title:<34} {'ok  ' if ok else 'FAIL'}  {detail}")
    return verdicts
"""),
    ("code", """
verdicts = debug_checklist()
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
for title, ok in verdicts.items():
    print(f"{title:<34} {'ok' if ok else 'FAIL'}")
"""),
    ("md", """
Step 1 fails, as it should: the log holds the unhandled rejection and the OOM kill from above.
Now break the database the way an outage would — `course.db.database().block()` refuses new
connections and terminates the open ones — and run the checklist again:
"""),
    ("code", """
course.db.database().block()
try:
    during_outage = debug_checklist()
    r = httpx.get(SVC + "/api/users/count", timeout=10)
    print("\\nGET /api/users/count during the outage →", r.status_code)
finally:
    course.db.database().unblock()
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("3. Test database connection during the outage:", "ok" if during_outage["3. Test database connection"] else "FAIL")
print("6. Verify network connectivity during the outage:", "ok" if during_outage["6. Verify network connectivity"] else "FAIL")
print("GET /api/users/count during the outage:", r.status_code)
print("after unblock:", httpx.get(SVC + "/api/users/count").status_code)
"""),
    ("md", """
Two lessons in that output. The network step still passes — the database *port* is open, it is
the database that refuses — so "can I connect?" has to be asked at the protocol level (step 3),
not just with `nc`. And this service answered the outage with a **500**: it has no error handler
mapping "database unavailable" to a 503 (sections 5 and 7 show how) — exactly what the
checklist's first step would have found in the log.
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

- Log events with a stable name and fields (`event: "DB_CONNECTION_SLOW", duration`), as JSON;
  render the seed's text form for humans. Each event maps to a first question to ask.
- Detect the events where they happen: time queries, `process.on('unhandledRejection')`, watch
  child processes and container restarts (exit 134 / `SIGABRT` from V8, 137 / `SIGKILL` from the
  kernel).
- The seed's debug checklist is a script, not a ritual: logs, environment, database, memory, CPU,
  network — each checkable from outside the process.

Exercises: [`../../exercises/08-troubleshooting/`](../../exercises/08-troubleshooting/).
"""),
]

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for name, cells in [("01-connection-failures-and-retries", CONNECTIONS),
                        ("02-memory-and-event-loop", MEMORY),
                        ("03-logs-and-debug-checklist", LOGS)]:
        if not wanted or name in wanted or name[:2] in wanted:
            write(OUT / f"{name}.ipynb", cells)
            print("wrote", OUT / f"{name}.ipynb")
