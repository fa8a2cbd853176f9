"""Build notebooks/06-worker-threads/*.ipynb (run from the repo root:
``.venv/bin/python tools/lessons/06_worker_threads.py [NAME ...]``)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "notebooks" / "06-worker-threads"

# The latency probe, shared by notebooks 01 and 03 (each notebook stays self-contained).
MEASURE = r'''
import asyncio, time
import httpx
import matplotlib.pyplot as plt

async def measure(base: str, work_path: str, *, work_ms: int = 2000, interval: float = 0.02,
                  work_at: float = 0.5) -> tuple[list[tuple[float, float]], tuple[float, float]]:
    """Send GET /health every `interval` s (open loop: whether or not the previous answer is
    back), and one GET `work_path` at `work_at` s. Returns the samples as (sent at s, latency ms)
    and the (start, end) of the CPU work, in seconds since the start."""
    duration = work_at + work_ms / 1000 + 0.7
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await client.get("/health")  # warm-up
        t0 = time.perf_counter()
        samples = []

        async def health(sent: float) -> None:
            (await client.get("/health")).raise_for_status()
            samples.append((sent - t0, (time.perf_counter() - sent) * 1000))

        async def work() -> tuple[float, float]:
            await asyncio.sleep(work_at)
            start = time.perf_counter()
            (await client.get(work_path)).raise_for_status()
            return start - t0, time.perf_counter() - t0

        work_task = asyncio.create_task(work())
        probes = []
        while time.perf_counter() - t0 < duration:
            probes.append(asyncio.create_task(health(time.perf_counter())))
            await asyncio.sleep(interval)
        await asyncio.gather(*probes)
        window = await work_task
    return sorted(samples), window

def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, round(0.95 * len(values)) - 1)]

def summarize(samples, window) -> dict:
    idle = [ms for t, ms in samples if t < window[0]]
    busy = [ms for t, ms in samples if window[0] <= t < window[1]]
    return {"idle_p95_ms": round(p95(idle), 1), "busy_p95_ms": round(p95(busy), 1),
            "busy_max_ms": round(max(busy), 1), "requests_during_work": len(busy)}

def stays_responsive(stats: dict) -> bool:
    """The course's criterion: p95 under CPU load below max(50 ms, 5 × idle p95)."""
    return stats["busy_p95_ms"] < max(50.0, 5 * stats["idle_p95_ms"])

def plot(ax, samples, window, title: str) -> None:
    ax.axvspan(*window, color="tab:orange", alpha=0.2, label="CPU work running")
    ax.plot([t for t, _ in samples], [ms for _, ms in samples], ".", ms=4, label="GET /health")
    ax.set(title=title, xlabel="when the request was sent (s)", ylabel="latency (ms)")
    ax.legend(loc="upper right")
'''

# --------------------------------------------------------------------------- 01
BLOCKING = [
    ("md", """
# Blocking the event loop, and moving the work to a worker thread

**Goal:** *see* what synchronous CPU work does to a Node.js server — every other request waits —
by measuring `/health` latency while a 2-second computation runs; then move the computation to a
`worker_threads` worker and measure again.

Node runs your JavaScript on one thread, the **event loop**. While a handler computes (hashing,
image resizing, a big `JSON.parse`, a naive algorithm), nothing else runs: not `/health`, not the
requests already waiting, not timers. The seed's troubleshooting table puts it in one row:
*Event loop blocked — Sync CPU work — Use worker threads.*
"""),
    ("code", "%load_ext course"),
    ("md", """
## The probe

An *open-loop* probe: `GET /health` every 20 ms from Python, on schedule, whether or not earlier
answers have come back. (A probe that waits for each answer before sending the next would send only
one request during a 2 s stall and hide the problem — the mistake known as *coordinated omission*.)
At 0.5 s it fires the CPU-heavy request. Each sample is the time it was sent and its latency.
"""),
    ("code", MEASURE),
    ("md", """
## 1. A server that computes on the event loop

One file, two roles: run as the main program it is an Express server; started as a worker
(`isMainThread` is false) it only computes. `hashFor(ms)` hashes SHA-256 in a loop for `ms`
milliseconds — synchronous CPU work, like a naive algorithm on a large input.
"""),
    ("code", r"""
%%node --serve cpu
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');

function hashFor(ms) { // synchronous CPU work for `ms` milliseconds
  const end = Date.now() + ms;
  let digest = 'seed', count = 0;
  while (Date.now() < end) {
    digest = crypto.createHash('sha256').update(digest).digest('hex');
    count++;
  }
  return count;
}

if (!isMainThread) {
  parentPort.postMessage(hashFor(workerData.ms)); // worker: compute, answer, exit
} else {
  const express = require('express');
  const app = express();
  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  // On the event loop: nothing else runs until it returns.
  app.get('/hash', (req, res) => res.json({ hashes: hashFor(Number(req.query.ms)) }));

  // In a worker thread: the event loop stays free.
  app.get('/hash-worker', (req, res, next) => {
    const worker = new Worker(__filename, { workerData: { ms: Number(req.query.ms) } });
    worker.once('message', (hashes) => res.json({ hashes }));
    worker.once('error', next);
  });

  app.listen(process.env.PORT, process.env.HOST);
}
"""),
    ("code", """
import course

blocked = await measure(course.url("cpu"), "/hash?ms=2000")
blocked_stats = summarize(*blocked)
print(blocked_stats)

fig, ax = plt.subplots(figsize=(8, 3.2))
plot(ax, *blocked, "CPU work on the event loop")
"""),
    ("md", """
The sawtooth is the signature of a blocked loop: a request sent just after the work started waits
for all of it (~2 s); one sent later waits less; all of them are answered in a burst the moment
the loop is free. To a load balancer with a 1 s health-check timeout, this instance is dead.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("p95 of /health while the loop is blocked > 500 ms:", blocked_stats["busy_p95_ms"] > 500)
print("slowest /health waited more than 1.5 s:", blocked_stats["busy_max_ms"] > 1500)
"""),
    ("md", """
## 2. The same work in a worker thread

`/hash-worker` starts a `Worker` (a separate V8 isolate on its own OS thread, with its own event
loop) running the same file; the main thread only waits for a message.
"""),
    ("code", """
offloaded = await measure(course.url("cpu"), "/hash-worker?ms=2000")
offloaded_stats = summarize(*offloaded)
print(offloaded_stats)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
plot(axes[0], *blocked, "on the event loop")
plot(axes[1], *offloaded, "in a worker thread")
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("p95 of /health with the work in a worker < 250 ms:", offloaded_stats["busy_p95_ms"] < 250)
print("at least 5× better than with the work on the event loop:",
      offloaded_stats["busy_p95_ms"] * 5 < blocked_stats["busy_p95_ms"])
"""),
    ("code", """
print("the course's stricter criterion, p95 < max(50 ms, 5 × idle p95):", stays_responsive(offloaded_stats),
      f"(idle p95 {offloaded_stats['idle_p95_ms']} ms, busy p95 {offloaded_stats['busy_p95_ms']} ms)")
"""),
    ("md", """
The flat line is the point: `/health` and every other request keep their idle latency while the
hashing runs on another core.

Worker threads share the process (memory limits, crash domain) but not JavaScript objects: data
goes through `postMessage` (structured clone) or a `SharedArrayBuffer`. They are for CPU work;
I/O is already asynchronous in Node and gains nothing from them. For *many* CPU requests, starting
a worker per request costs time and memory on every call — the next notebook measures that and
builds a pool.
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

- Synchronous CPU work on the event loop delays *every* request by its full duration: here `/health`
  p95 went from a few ms to over half a second.
- Measure it open-loop (requests on a schedule), or the probe itself hides the stall.
- `worker_threads` moves the computation to another thread; the event loop stays responsive.

Next: [the seed's `heavyComputation`, its cost per call, and a worker pool](02-worker-pools.ipynb).
Exercises: [`../../exercises/06-worker-threads/`](../../exercises/06-worker-threads/).
"""),
]

# --------------------------------------------------------------------------- 02
POOLS = [
    ("md", """
# One worker per call, or a pool

**Goal:** run the seed's `heavyComputation` exactly as written, with a `compute.js` for it; find what
it costs per call and what it leaves behind; then fix it, and compare with a small fixed pool of
workers across 20 calls.
"""),
    ("code", """
%load_ext course
import json, tempfile
from pathlib import Path

LESSON_DIR = str(Path.cwd())          # compute.js is saved here, next to this notebook
RESULTS = tempfile.mkdtemp(prefix="workers-")
"""),
    ("md", """
## 1. `compute.js`, the worker script

The seed starts `new Worker('./compute.js')` and posts it the data, so `compute.js` listens for
messages and answers each with the result. The work: `n` rounds of SHA-256.
`--save compute.js` keeps the file next to this notebook; running the cell as a program just says
what it is.
"""),
    ("code", r"""
%%node --save compute.js
// compute.js: a worker script. Receives {n}, answers with the digest of n rounds of SHA-256.
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');

function compute({ n }) {
  let digest = 'seed';
  for (let i = 0; i < n; i++) digest = crypto.createHash('sha256').update(digest).digest('hex');
  return digest;
}

if (parentPort) {
  parentPort.on('message', (data) => parentPort.postMessage(compute(data)));
} else {
  console.log('compute.js is a worker script: start it with new Worker(path). Self-test:', compute({ n: 3 }).slice(0, 16));
}
"""),
    ("md", """
## 2. The seed's `heavyComputation`, as is

Twenty calls in a row, with tiny work (`n: 1`) so that we measure the *overhead* of a call. Two
details before running it:

- `new Worker('./compute.js')`: a relative path is resolved against the process's **working
  directory**, not against the file that calls it. The cell runs in a scratch folder, so it first
  changes into the folder of this notebook — a hint of the first fix.
- We count the process's OS threads (`/proc/self/status`) before and after, and finish with an
  `unref()`'d timer: such a timer cannot keep a process alive by itself, so if it fires, something
  else does.
"""),
    ("code", r"""
%%node --env LESSON_DIR=$LESSON_DIR --env RESULTS=$RESULTS
const fs = require('node:fs');
process.chdir(process.env.LESSON_DIR); // where compute.js is

// ---- seed: Worker Threads (CPU-Intensive), verbatim ----
const { Worker } = require('worker_threads');

function heavyComputation(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./compute.js');
    worker.on('message', resolve);
    worker.on('error', reject);
    worker.postMessage(data);
  });
}
// ---------------------------------------------------------

const threads = () => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);

(async () => {
  const before = threads();
  const perCall = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const digest = await heavyComputation({ n: 1 });
    perCall.push(performance.now() - t);
  }
  const after = threads();
  console.log(`20 calls done; OS threads: ${before} before, ${after} after`);
  fs.writeFileSync(`${process.env.RESULTS}/seed.json`, JSON.stringify({ perCall, before, after }));

  setTimeout(() => {
    console.log('1 s after the last call the process is still running: the 20 workers keep it alive');
    fs.writeFileSync(`${process.env.RESULTS}/seed-alive.json`, 'true');
    process.exit(0);
  }, 1000).unref();
})();
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
seed = json.loads(Path(RESULTS, "seed.json").read_text())
print("threads left behind by 20 calls ≥ 20:", seed["after"] - seed["before"] >= 20)
print("process still alive 1 s after the last call:", Path(RESULTS, "seed-alive.json").exists())
"""),
    ("md", """
Every call leaves its worker running: `compute.js` listens for more messages, which keeps the
worker — and the whole process — alive. In a server that is a thread (and several MB of memory)
leaked per request. The seed's function has three more gaps:

1. `'./compute.js'` depends on the working directory: resolve it from the caller's folder
   (`path.join(__dirname, 'compute.js')`).
2. If the worker exits without answering (`process.exit()` in it, or it is terminated), neither
   `message` nor `error` fires and the promise never settles: listen to `exit`.
3. It pays for a new thread, a new V8 isolate and a fresh load of `compute.js` on every call.

## 3. Fixed, and pooled

`heavyComputationFixed` fixes 1 and 2 and terminates its worker. `WorkerPool` keeps `size` workers
(one per core) alive, hands each task to an idle one, queues the rest, and replaces a worker that
crashes. (In production, reach for a maintained pool such as **Piscina**; this one fits on a
screen.) We time 20 sequential tiny calls with each, then 20 *concurrent* calls with real work.
"""),
    ("code", r"""
%%node --env LESSON_DIR=$LESSON_DIR --env RESULTS=$RESULTS
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const COMPUTE = path.join(process.env.LESSON_DIR, 'compute.js'); // absolute: cwd-independent

function heavyComputationFixed(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(COMPUTE);
    worker.once('message', (result) => { resolve(result); worker.terminate(); });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker stopped (exit code ${code}) before answering`)));
    worker.postMessage(data);
  });
}

class WorkerPool {
  constructor(file, size) {
    this.file = file;
    this.idle = [];
    this.queue = [];
    this.workers = new Set();
    for (let i = 0; i < size; i++) this.spawn();
  }
  spawn() {
    const worker = new Worker(this.file);
    worker.on('message', (result) => {
      const task = worker.task;
      worker.task = null;
      task.resolve(result);
      this.release(worker);
    });
    worker.on('error', (err) => { // the worker is gone: fail its task, replace it
      if (worker.task) worker.task.reject(err);
      this.workers.delete(worker);
      this.idle = this.idle.filter((w) => w !== worker);
      this.spawn();
    });
    this.workers.add(worker);
    this.release(worker);
  }
  release(worker) {
    const next = this.queue.shift();
    if (next) this.assign(worker, next);
    else this.idle.push(worker);
  }
  assign(worker, task) {
    worker.task = task;
    worker.postMessage(task.data);
  }
  run(data) {
    return new Promise((resolve, reject) => {
      const task = { data, resolve, reject };
      const worker = this.idle.pop();
      if (worker) this.assign(worker, task);
      else this.queue.push(task);
    });
  }
  close() {
    return Promise.all([...this.workers].map((w) => w.terminate()));
  }
}

async function sequential(fn, calls, data) {
  const perCall = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    const result = await fn(data);
    perCall.push(performance.now() - t);
  }
  return perCall;
}

async function concurrent(fn, calls, data) {
  const t = performance.now();
  const results = await Promise.all(Array.from({ length: calls }, () => fn(data)));
  return performance.now() - t;
}

(async () => {
  const size = os.availableParallelism();
  const pool = new WorkerPool(COMPUTE, size);
  const warm = await Promise.all(Array.from({ length: size }, () => pool.run({ n: 1 }))); // loaded
  const out = { poolSize: size };
  out.fixedPerCall = await sequential(heavyComputationFixed, 20, { n: 1 });
  out.poolPerCall = await sequential((d) => pool.run(d), 20, { n: 1 });
  const work = { n: 5000 };
  const fixedRuns = [], poolRuns = []; // best of 3, alternating: one noisy moment can't decide it
  for (let i = 0; i < 3; i++) {
    fixedRuns.push(await concurrent(heavyComputationFixed, 20, work));
    poolRuns.push(await concurrent((d) => pool.run(d), 20, work));
  }
  out.fixedConcurrentMs = Math.min(...fixedRuns);
  out.poolConcurrentMs = Math.min(...poolRuns);
  out.sameResult = (await pool.run({ n: 3 })) === (await heavyComputationFixed({ n: 3 }));
  const closed = await pool.close();
  fs.writeFileSync(`${process.env.RESULTS}/fixed.json`, JSON.stringify(out));
  console.log(`pool of ${size}; done — and the process exits on its own`);
})();
"""),
    ("code", """
import statistics
import matplotlib.pyplot as plt

fixed = json.loads(Path(RESULTS, "fixed.json").read_text())
med = {"seed (leaks workers)": statistics.median(seed["perCall"]),
       "fixed: new Worker per call": statistics.median(fixed["fixedPerCall"]),
       f"pool of {fixed['poolSize']}": statistics.median(fixed["poolPerCall"])}
for name, ms in med.items():
    print(f"{name:<28} median {ms:7.2f} ms per tiny call")
print(f"20 concurrent calls of real work: new Worker per call {fixed['fixedConcurrentMs']:.0f} ms, "
      f"pool {fixed['poolConcurrentMs']:.0f} ms")

fig, ax = plt.subplots(figsize=(7, 2.6))
ax.barh(list(med), list(med.values()), color=["tab:red", "tab:orange", "tab:green"])
ax.set(xscale="log", xlabel="median time per call, n=1 (ms, log scale)", title="Cost of a call: 20 sequential calls")
ax.invert_yaxis()
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("pool and one-shot worker compute the same result:", fixed["sameResult"])
print("a new Worker per call costs ≥ 5× a pooled call:",
      statistics.median(fixed["fixedPerCall"]) >= 5 * statistics.median(fixed["poolPerCall"]))
print("20 concurrent calls: the pool is not slower (within 20 %):",
      fixed["poolConcurrentMs"] <= 1.2 * fixed["fixedConcurrentMs"])
"""),
    ("md", """
Starting a worker costs milliseconds (a thread, a V8 isolate, loading and compiling the script) —
more than many tasks themselves. A pool pays that once. Under concurrency the pool also *bounds*
the work: twenty one-shot workers on two cores fight for the CPU and each holds its own heap; the
pool runs two at a time and queues the rest, so memory stays flat and the queue length becomes a
signal you can watch and limit (answer 503 when it is too long, rather than fall over).

Rules of thumb:

- pool size ≈ number of cores (`os.availableParallelism()`), minus what the main thread needs;
- keep messages small (they are copied) or transfer `ArrayBuffer`s;
- put a timeout on each task, and replace a worker that errors or hangs;
- a worker per call is fine for rare, long jobs (seconds), where start-up is noise.
"""),
    ("code", """
import shutil

shutil.rmtree(RESULTS)  # the measurements' temporary files
"""),
    ("md", """
## Recap

- The seed's `heavyComputation` works, but as written it leaks a live worker per call (its
  `compute.js` keeps listening), depends on the working directory, and can hang forever if the
  worker exits without answering.
- Fix: an absolute path, `once` listeners, an `exit` listener, `worker.terminate()`.
- For frequent tasks use a fixed pool: start-up paid once, concurrency bounded by cores.

Next: [Python and Go: the same experiment](03-python-and-go.ipynb).
Exercises: [`../../exercises/06-worker-threads/`](../../exercises/06-worker-threads/).
"""),
]

# --------------------------------------------------------------------------- 03
PY_GO = [
    ("md", """
# CPU work in Python and Go servers

**Goal:** run the event-loop experiment on a FastAPI server and on a Go server. In FastAPI an
`async def` handler that computes blocks the loop exactly like Node; a plain `def` handler runs in a
thread pool but shares the GIL; a `ProcessPoolExecutor` really moves the work away. In Go, every
request has its own goroutine and the runtime spreads them over all cores, so CPU work does not
stall other requests.
"""),
    ("code", "%load_ext course"),
    ("code", MEASURE),
    ("md", """
## 1. FastAPI: three ways to run the same function

`hash_for(ms)` hashes SHA-256 in a loop for `ms` milliseconds, like the Node server did.

- `/hash-async` — `async def`: runs on the event loop. Nothing else runs until it returns.
- `/hash-def` — plain `def`: FastAPI runs it in a thread pool. The loop keeps running, but only one
  thread executes Python bytecode at a time (the GIL), switching every 5 ms.
- `/hash-process` — `async def` that awaits `loop.run_in_executor(pool, hash_for, ms)` with a
  `ProcessPoolExecutor`: another process, another interpreter, another GIL, another core.
"""),
    ("code", r'''
%%py --serve fastapi-cpu
import asyncio, hashlib, os, time
from concurrent.futures import ProcessPoolExecutor

import uvicorn
from fastapi import FastAPI

def hash_for(ms: int) -> int:
    """CPU-bound: SHA-256 over and over for `ms` milliseconds."""
    end = time.monotonic() + ms / 1000
    digest, count = b"seed", 0
    while time.monotonic() < end:
        digest = hashlib.sha256(digest).digest()
        count += 1
    return count

app = FastAPI()
pool: ProcessPoolExecutor | None = None

@app.get("/health")
async def health():
    return {"status": "ok"}

@app.get("/hash-async")
async def hash_async(ms: int = 2000):
    return {"hashes": hash_for(ms)}  # on the event loop: blocks it

@app.get("/hash-def")
def hash_def(ms: int = 2000):
    return {"hashes": hash_for(ms)}  # in a worker thread, holding the GIL

@app.get("/hash-process")
async def hash_process(ms: int = 2000):
    loop = asyncio.get_running_loop()
    return {"hashes": await loop.run_in_executor(pool, hash_for, ms)}  # in another process

if __name__ == "__main__":  # the guard matters: pool processes may re-import this file
    pool = ProcessPoolExecutor(max_workers=2)
    uvicorn.run(app, host=os.environ["HOST"], port=int(os.environ["PORT"]), log_level="warning")
'''),
    ("code", """
import course

base = course.url("fastapi-cpu")
httpx.get(base + "/hash-process?ms=1")  # start the pool's processes before measuring
runs = {}
for path in ("/hash-async", "/hash-def", "/hash-process"):
    runs[path] = await measure(base, path + "?ms=2000")
    print(f"{path:<14}", summarize(*runs[path]))
"""),
    ("md", """
## 2. Go: a goroutine per request

`net/http` serves each request in its own goroutine, and the Go scheduler runs goroutines on as
many OS threads as there are cores (`GOMAXPROCS`), preempting long-running ones (since Go 1.14) so a
tight loop cannot monopolise a thread. No special API is needed.
"""),
    ("code", r"""
%%go --serve go-cpu
package main

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

func hashFor(ms int) int { // CPU-bound, like the others
	end := time.Now().Add(time.Duration(ms) * time.Millisecond)
	digest := sha256.Sum256([]byte("seed"))
	count := 0
	for time.Now().Before(end) {
		digest = sha256.Sum256(digest[:])
		count++
	}
	return count
}

func main() {
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	http.HandleFunc("/hash", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 10000 {
			http.Error(w, `{"error":{"code":"BAD_REQUEST","message":"ms must be 0..10000"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"hashes":%d}`, hashFor(ms))
	})
	if err := http.ListenAndServe(os.Getenv("HOST")+":"+os.Getenv("PORT"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
"""),
    ("code", """
runs["Go goroutine"] = await measure(course.url("go-cpu"), "/hash?ms=2000")
print("Go goroutine  ", summarize(*runs["Go goroutine"]))

titles = {"/hash-async": "FastAPI async def", "/hash-def": "FastAPI def (thread pool, GIL)",
          "/hash-process": "FastAPI + ProcessPoolExecutor", "Go goroutine": "Go net/http goroutine"}
fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharey=True)
for ax, (key, run) in zip(axes.flat, runs.items()):
    plot(ax, *run, titles[key])
fig.tight_layout()
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
stats = {key: summarize(*run) for key, run in runs.items()}
print("FastAPI async def: p95 of /health > 500 ms:", stats["/hash-async"]["busy_p95_ms"] > 500)
print("FastAPI + ProcessPoolExecutor: p95 of /health < 250 ms:", stats["/hash-process"]["busy_p95_ms"] < 250)
print("Go goroutines: p95 of /health < 250 ms:", stats["Go goroutine"]["busy_p95_ms"] < 250)
"""),
    ("code", """
for key in ("/hash-def", "/hash-process", "Go goroutine"):
    print(f"{titles[key]:<32} meets p95 < max(50 ms, 5 × idle p95): {stays_responsive(stats[key])}  "
          f"(idle p95 {stats[key]['idle_p95_ms']} ms, busy p95 {stats[key]['busy_p95_ms']} ms)")
"""),
    ("md", """
The plain `def` handler sits in between: the event loop is not blocked, but it must win the GIL
back from the hashing thread for every request, so `/health` gets slower and the CPU work still
uses one core at most. It is the right choice for blocking *I/O* (a sync database driver), not for
CPU work.

| stack | CPU work in a handler | the fix |
|---|---|---|
| Node.js | blocks the event loop | `worker_threads` (a pool), or a separate service/queue |
| FastAPI `async def` | blocks the event loop | `run_in_executor(ProcessPoolExecutor)`, or a task queue (Celery, RQ, arq) |
| FastAPI `def` | thread pool, but the GIL serialises Python code | same — threads only help for I/O and C code that releases the GIL |
| Go | one goroutine per request, spread over all cores | nothing to do; bound concurrency if the work is large |

Processes have their own costs: arguments and results are pickled and copied, and each worker
process holds its own memory. Keep payloads small and the pool size near the number of cores.
"""),
    ("code", "%stop --all"),
    ("md", """
## Recap

- FastAPI `async def` + CPU work = a blocked event loop, exactly as in Node.
- `def` handlers use a thread pool, but the GIL lets one thread run Python at a time.
- `ProcessPoolExecutor` via `run_in_executor` keeps the loop free and uses other cores.
- Go schedules goroutines preemptively across cores: CPU work in one request does not stall the rest.

Exercises: [`../../exercises/06-worker-threads/`](../../exercises/06-worker-threads/).
"""),
]

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for name, cells in [("01-blocking-the-event-loop", BLOCKING), ("02-worker-pools", POOLS),
                        ("03-python-and-go", PY_GO)]:
        if not wanted or name in wanted or name[:2] in wanted:
            write(OUT / f"{name}.ipynb", cells)
            print("wrote", OUT / f"{name}.ipynb")
