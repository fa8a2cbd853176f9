"""Exercises for section 06 (worker threads). Run: .venv/bin/python tools/exercises/06_worker_threads.py"""
from common import PARAMETERS, SETUP, exercise

# --------------------------------------------------------------------------------------
# 1. Move CPU work off the event loop: /health stays fast while /api/fib computes
# --------------------------------------------------------------------------------------
exercise("06-worker-threads/01-fib-off-the-event-loop.ipynb", {
    "id": "node-fib-worker-thread",
    "title": "Node.js: compute fib(n) in a worker thread so /health stays fast",
    "section": "06-worker-threads", "language": "node", "framework": "express",
    "checklist": ["health-check", "request-validation"], "points": 4,
    "files": ["work/fib-server.js"],
}, [
    ("md", """
# Exercise — keep the event loop free while the server computes

`GET /api/fib?n=...` computes Fibonacci numbers with the deliberately slow recursive `fib` (keep
it: it stands for any CPU-heavy work — hashing, image resizing, a big `JSON.parse`). Computed on the
event loop, `fib(39)` freezes every other request, `/health` included, for the whole computation.

Finish the server so that:

1. `fibInWorker(n)` runs `fib(n)` in a **worker thread** and resolves with the result. This file is
   also the worker's script: started as a worker (`isMainThread` is false) it computes
   `workerData.n` and posts the result (that part is written). Start one with
   `new Worker(new URL(import.meta.url), { workerData: { n } })`; reject on its `error` event.
2. `GET /api/fib?n=25` answers **200** `{"n": 25, "result": 75025}`, computed with `fibInWorker`.
3. `n` must be an integer from 0 to 45; anything else (missing, `abc`, `-1`, `2.5`, `46`) answers
   **400** `{"error": {"code": "BAD_REQUEST", "message": "..."}}` without computing anything.

The checks send `/api/fib?n=39` and, while it runs, `GET /health` every 25 ms: their p95 latency
must stay under max(200 ms, a quarter of the computation's duration) — a blocked event loop makes
it nearly the whole duration. Run every cell; the last one checks your server (some checks are kept
for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", """
%%node --save work/fib-server.js --serve fib
import express from "express";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** Deliberately slow (exponential): the CPU-heavy work. Don't make it faster. */
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

if (!isMainThread) {
  // started as a worker: compute, post the answer, exit
  parentPort.postMessage(fib(workerData.n));
} else {
  const app = express();

  app.get("/health", (req, res) => res.json({ status: "ok" }));

  /** fib(n) in a worker thread: a promise of the result. */
  function fibInWorker(n) {
    // ### BEGIN SOLUTION
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { n } });
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => {
        if (code !== 0) reject(new Error(`the worker stopped with exit code ${code}`));
      });
    });
    // ### END SOLUTION
  }

  app.get("/api/fib", async (req, res) => {
    // ### BEGIN SOLUTION
    const n = Number(req.query.n);
    if (req.query.n === undefined || !Number.isInteger(n) || n < 0 || n > 45) {
      return res.status(400).json({ error: { code: "BAD_REQUEST", message: "n must be an integer from 0 to 45" } });
    }
    res.json({ n, result: await fibInWorker(n) });
    // ### END SOLUTION
  });

  app.listen(Number(process.env.PORT), process.env.HOST);
}
"""),
    ("md", """
Try it: time `/health` while `fib(36)` computes. On the event loop, `/health` waits for the whole
computation; in a worker, it answers in a few milliseconds.
"""),
    ("code", """
import threading, time
import httpx

base = course.url("fib")
fib_answer = {}
worker = threading.Thread(target=lambda: fib_answer.update(r=httpx.get(base + "/api/fib?n=36", timeout=60)))
worker.start()
time.sleep(0.05)
t0 = time.perf_counter()
httpx.get(base + "/health")
print(f"/health answered in {(time.perf_counter() - t0) * 1000:.0f} ms while fib(36) was computing")
worker.join()
print("fib(36) →", fib_answer["r"].status_code, fib_answer["r"].text[:100])
"""),
    ("code", """
from course.grading import test
import time
from concurrent.futures import ThreadPoolExecutor

import httpx


def start(ctx):
    return ctx.serve("work/fib-server.js")


def p95(values):
    values = sorted(values)
    return values[max(0, round(0.95 * len(values)) - 1)]


def health_during(ctx, work_path, interval=0.025, limit=400):
    \"\"\"GET work_path; while it runs, GET /health every `interval` s on schedule (open loop, at
    most `limit` probes, 11 in flight). Returns (work response, its seconds, /health latencies).\"\"\"
    latencies, errors = [], []
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    with httpx.Client(base_url=ctx.server.url, timeout=60, limits=limits) as client, \\
            ThreadPoolExecutor(max_workers=12) as pool:
        client.get("/health")  # warm-up: a connection is open

        def health(sent):
            try:
                client.get("/health").raise_for_status()
                latencies.append(time.perf_counter() - sent)
            except httpx.HTTPError as e:
                errors.append(f"{type(e).__name__}: {e}")

        t0 = time.perf_counter()
        work = pool.submit(client.get, work_path)
        time.sleep(0.05)  # the server has the request
        for _ in range(limit):
            if work.done():
                break
            pool.submit(health, time.perf_counter())
            time.sleep(interval)
        try:
            response = work.result()
        except httpx.HTTPError as e:
            raise AssertionError(f"GET {work_path} failed: {type(e).__name__}: {e}") from None
        elapsed = time.perf_counter() - t0
    ctx.exchange = {"request": f"GET {work_path}", "status": response.status_code,
                    "content_type": response.headers.get("content-type"), "body": response.text[:300]}
    assert not errors, f"/health failed while {work_path} ran: {errors[0]}"
    return response, elapsed, latencies


@test("GET /api/fib?n=25 answers 200 with the result", points=1, hint="res.json({ n, result: await fibInWorker(n) })")
def computes_fib(ctx):
    start(ctx)
    r = ctx.get("/api/fib?n=25", timeout=30)
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert r.json().get("result") == 75025, f"fib(25) is 75025, got {r.text[:120]}"


@test("/health stays fast while fib(39) computes", points=2, checklist=["health-check"],
      hint="compute in a Worker: the main thread only waits for its message")
def health_stays_fast(ctx):
    start(ctx)
    r, elapsed, latencies = health_during(ctx, "/api/fib?n=39")
    assert r.status_code == 200, f"GET /api/fib?n=39: expected 200, got {r.status_code}"
    assert r.json().get("result") == 63245986, f"fib(39) is 63245986, got {r.text[:120]}"
    assert len(latencies) >= 3, f"fib(39) took only {elapsed * 1000:.0f} ms: too fast to measure /health during it"
    limit = max(0.2, elapsed / 4)
    worst = p95(latencies)
    assert worst < limit, (f"/health p95 was {worst * 1000:.0f} ms while fib(39) ran for {elapsed:.1f} s "
                           f"(limit {limit * 1000:.0f} ms): the computation blocks the event loop")

### BEGIN HIDDEN TESTS
@test("a missing or bad n answers 400 BAD_REQUEST", points=1, checklist=["request-validation"],
      hint="Number.isInteger(n) && n >= 0 && n <= 45, checked before starting a worker")
def rejects_bad_n(ctx):
    start(ctx)
    for query in ["", "?n=abc", "?n=-1", "?n=2.5", "?n=46", "?n=1e9"]:
        r = ctx.get(f"/api/fib{query}", timeout=15)
        assert r.status_code == 400, f"GET /api/fib{query}: expected 400, got {r.status_code}"
        assert "json" in r.headers.get("content-type", "") and r.json().get("error", {}).get("code") == "BAD_REQUEST", \\
            f"GET /api/fib{query}: expected error.code BAD_REQUEST, got {r.text[:120]}"
### END HIDDEN TESTS
"""),
])

# --------------------------------------------------------------------------------------
# 2. A worker pool that reuses its workers (graded with node --test)
# --------------------------------------------------------------------------------------
exercise("06-worker-threads/02-worker-pool.ipynb", {
    "id": "node-worker-pool",
    "title": "Node.js: a worker pool that reuses its threads and survives a failing task",
    "section": "06-worker-threads", "language": "node", "framework": None,
    "checklist": [], "points": 4,
    "files": ["work/pool.mjs"],
}, [
    ("md", """
# Exercise — a worker pool

The seed's `heavyComputation` starts a new `Worker` for every call: a fresh V8 isolate each time
(tens of milliseconds and megabytes), and no limit on how many run at once. A **pool** starts
`size` workers once and hands them tasks from a queue.

Finish `WorkerPool` in `work/pool.mjs` (the worker script `work/pool-task.mjs` is given: it
answers `{ n, result: fib(n), threadId }`, and *throws* for a bad `n`, which kills that worker):

1. the constructor starts `size` workers running `file`;
2. `run(data)` returns a promise of the worker's answer; when every worker is busy the task waits
   in a queue — never more than `size` workers exist;
3. a task whose worker fails (its `error` event) rejects with that error, the dead worker is
   replaced (its `exit` event), and the queue keeps moving;
4. `close()` terminates every worker, so a process that used the pool can exit by itself.

Helper methods `#startWorker()` and `#dispatch()` are there for you to fill in; keep the public API
(`new WorkerPool(file, size)`, `run`, `close`). The checks are `node --test` files that import your
module. Run every cell; the last one checks your code (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", """
%%node --save work/pool-task.mjs
// The worker script (given): one task = { n }; answers { n, result, threadId }.
import { parentPort, threadId } from "node:worker_threads";

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

if (parentPort) { // running as a worker (run as a cell, this file does nothing)
  parentPort.on("message", ({ n }) => {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
    parentPort.postMessage({ n, result: fib(n), threadId });
  });
}
"""),
    ("code", """
%%node --save work/pool.mjs
import { Worker } from "node:worker_threads";

export class WorkerPool {
  #file;
  #workers = new Set(); // every live worker
  #idle = [];           // workers waiting for a task
  #queue = [];          // tasks waiting for a worker: { data, resolve, reject }
  #closed = false;

  /** `file`: the worker script (a path or a file: URL); `size`: how many workers, started now. */
  constructor(file, size = 2) {
    this.#file = file;
    // ### BEGIN SOLUTION
    for (let i = 0; i < size; i++) this.#startWorker();
    // ### END SOLUTION
  }

  /** Start one worker; route its answer or failure to its current task; replace it if it dies. */
  #startWorker() {
    // ### BEGIN SOLUTION
    const worker = new Worker(this.#file);
    worker.task = null;
    worker.on("message", (answer) => {
      const { resolve } = worker.task;
      worker.task = null;
      this.#idle.push(worker);
      resolve(answer);
      this.#dispatch();
    });
    worker.on("error", (err) => {
      worker.task?.reject(err);
      worker.task = null;
    });
    worker.on("exit", () => {
      this.#workers.delete(worker);
      this.#idle = this.#idle.filter((w) => w !== worker);
      worker.task?.reject(new Error("the worker exited"));
      if (!this.#closed) {
        this.#startWorker();
        this.#dispatch();
      }
    });
    this.#workers.add(worker);
    this.#idle.push(worker);
    // ### END SOLUTION
  }

  /** Hand queued tasks to idle workers. */
  #dispatch() {
    // ### BEGIN SOLUTION
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop();
      const task = this.#queue.shift();
      worker.task = task;
      worker.postMessage(task.data);
    }
    // ### END SOLUTION
  }

  /** Run one task on some worker: a promise of its answer. */
  run(data) {
    // ### BEGIN SOLUTION
    if (this.#closed) return Promise.reject(new Error("the pool is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ data, resolve, reject });
      this.#dispatch();
    });
    // ### END SOLUTION
  }

  /** Stop every worker (queued tasks are rejected). */
  async close() {
    // ### BEGIN SOLUTION
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(new Error("the pool is closed"));
    await Promise.all([...this.#workers].map((worker) => worker.terminate()));
    // ### END SOLUTION
  }
}
"""),
    ("md", "Try it: 8 tasks on a pool of 2 — which threads ran them?"),
    ("code", """
from pathlib import Path

work = Path("work").resolve()
"""),
    ("code", """
%%node --env WORK=$work --timeout 30
import { pathToFileURL } from "node:url";

const { WorkerPool } = await import(pathToFileURL(`${process.env.WORK}/pool.mjs`).href);
try {
  const pool = new WorkerPool(pathToFileURL(`${process.env.WORK}/pool-task.mjs`), 2);
  const answers = await Promise.all([20, 21, 22, 23, 24, 25, 26, 27].map((n) => pool.run({ n })));
  console.log(answers.map((a) => `fib(${a.n}) = ${a.result} on thread ${a.threadId}`).join("\\n"));
  await pool.run({ n: -1 }).catch((err) => console.log("a failing task:", err.message));
  await pool.close();
} catch (err) {
  console.log("not working yet:", err.message);
}
"""),
    ("code", """
from course.grading import test
import re

from course import toolchains

HEADER = '''import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerPool } from "../pool.mjs";

const TASK = new URL("../pool-task.mjs", import.meta.url);
const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));
'''


def node_test(ctx, name, body, timeout=60):
    \"\"\"Write work/pool-checks/<name>.test.mjs (HEADER + body), run it with `node --test`, and
    assert that it ran at least one test and none failed.\"\"\"
    ctx.path("work/pool.mjs")
    ctx.path("work/pool-task.mjs")
    folder = ctx.workspace / "work" / "pool-checks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.test.mjs"
    path.write_text(HEADER + body)
    r = ctx.run([toolchains.require("node"), "--test", "--test-force-exit", "--test-timeout=30000", path.name],
                cwd=folder, timeout=timeout)
    text = r.stdout + r.stderr_tail
    assert not r.timed_out, f"node --test did not finish within {timeout} s"
    counts = {k: int(v) for k, v in re.findall(r"^# (pass|fail) (\\d+)", text, re.MULTILINE)}
    assert counts.get("fail", 0) == 0 and counts.get("pass", 0) > 0, \\
        "; ".join(tap_errors(text)[:2]) or f"node --test failed (exit status {r.returncode})"


def tap_errors(text):
    \"\"\"The `error:` fields of node --test's TAP output (YAML; `|-` values span the next lines).\"\"\"
    lines, errors = text.splitlines(), []
    for i, line in enumerate(lines):
        m = re.match(r"^(\\s*)error: (.*)$", line)
        if not m:
            continue
        indent, value = len(m.group(1)), m.group(2).strip()
        if value[:1] in ("|", ">"):
            block = []
            for following in lines[i + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following.strip())
            value = " ".join(b for b in block if b)
        errors.append(value.strip("'\\"")[:300])
    return errors


@test("every task is answered with its own result", points=1,
      hint="run(data): queue { data, resolve, reject }, then hand it to an idle worker")
def answers_tasks(ctx):
    node_test(ctx, "answers", '''
test("answers every task with its own result", async () => {
  const pool = new WorkerPool(TASK, 2);
  try {
    const ns = [20, 5, 25, 1, 22, 0, 18];
    const answers = await Promise.all(ns.map((n) => pool.run({ n })));
    assert.deepEqual(answers.map((a) => a.result), ns.map(fib));
  } finally {
    await pool.close();
  }
});
''')


@test("tasks run on at most `size` workers, which are reused", points=1,
      hint="start the workers once, in the constructor; a busy pool queues tasks instead of starting workers")
def reuses_workers(ctx):
    node_test(ctx, "reuse", '''
test("runs tasks on exactly `size` workers and reuses them", async () => {
  const pool = new WorkerPool(TASK, 2);
  try {
    const first = await Promise.all(Array.from({ length: 10 }, () => pool.run({ n: 22 })));
    const threads = new Set(first.map((a) => a.threadId));
    assert.equal(threads.size, 2, `10 tasks on a pool of 2 ran on ${threads.size} thread(s): ${[...threads]}`);
    const second = await Promise.all(Array.from({ length: 4 }, () => pool.run({ n: 10 })));
    for (const a of second) {
      assert.ok(threads.has(a.threadId), `a later task ran on a new thread (${a.threadId}): workers must be reused`);
    }
  } finally {
    await pool.close();
  }
});
''')

### BEGIN HIDDEN TESTS
@test("a failing task rejects, and the pool keeps working", points=1,
      hint="on a worker's 'error', reject its task; on 'exit', start a replacement and dispatch")
def survives_a_failing_task(ctx):
    node_test(ctx, "failing-task", '''
test("a task that throws rejects; the pool keeps working", async () => {
  const pool = new WorkerPool(TASK, 2);
  try {
    await assert.rejects(pool.run({ n: -1 }), /non-negative/);
    await assert.rejects(pool.run({ n: -2 }), /non-negative/);
    const answers = await Promise.all([10, 11, 12, 13, 14].map((n) => pool.run({ n })));
    assert.deepEqual(answers.map((a) => a.result), [55, 89, 144, 233, 377]);
  } finally {
    await pool.close();
  }
});
''')


@test("close() lets the process exit by itself", points=1,
      hint="close(): terminate() every worker (an idle worker keeps the process alive)")
def close_lets_the_process_exit(ctx):
    ctx.path("work/pool.mjs")
    folder = ctx.workspace / "work" / "pool-checks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "close.mjs").write_text('''import { WorkerPool } from "../pool.mjs";
const pool = new WorkerPool(new URL("../pool-task.mjs", import.meta.url), 3);
const answer = await pool.run({ n: 15 });
if (answer.result !== 610) throw new Error(`fib(15) is 610, got ${JSON.stringify(answer)}`);
await pool.close();
// no process.exit(): the process must end on its own once the workers are gone
''')
    r = ctx.run([toolchains.require("node"), "close.mjs"], cwd=folder, timeout=15)
    assert not r.timed_out, "the process was still running 15 s after close(): workers are still alive"
    if not r.ok:
        lines = r.stderr_tail.strip().splitlines()
        why = next((line.strip() for line in lines if re.match(r"\\s*\\w*Error\\b", line)), "\\n".join(lines[-3:]))
        raise AssertionError(f"the script failed (exit status {r.returncode}): {why[:300]}")
### END HIDDEN TESTS
"""),
])
