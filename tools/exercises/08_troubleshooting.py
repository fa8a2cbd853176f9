"""Exercises for section 08 (troubleshooting). Run: .venv/bin/python tools/exercises/08_troubleshooting.py"""
from common import PARAMETERS, SETUP, exercise

# A quotes service that fails on purpose, by id. The notebook gets a copy to try things with;
# the checks cell has its own (checks are self-contained).
QUOTES_UPSTREAM = '''
import http.server, json, threading, time


class Upstream:
    """A quotes service on 127.0.0.1 that fails on purpose, by id: `ok-*` answers 200,
    `flaky-*` answers 503 twice then 200, `missing-*` 404, anything else 503. It records the
    time of every attempt, by id, in `attempts`."""

    def __init__(self):
        self.attempts = {}
        attempts = self.attempts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                qid = self.path.rstrip("/").rsplit("/", 1)[-1]
                times = attempts.setdefault(qid, [])
                times.append(time.monotonic())
                if qid.startswith("ok-") or (qid.startswith("flaky-") and len(times) > 2):
                    self.answer(200, {"id": qid, "quote": "Simplicity is prerequisite for reliability."})
                elif qid.startswith("missing-"):
                    self.answer(404, {"message": f"no quote {qid}"})
                else:
                    self.answer(503, {"message": "overloaded, try later"})

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
'''

# --------------------------------------------------------------------------------------
# 1. Retry with exponential backoff (Go), against a flaky upstream the checks start
# --------------------------------------------------------------------------------------
exercise("08-troubleshooting/01-go-retry-backoff.ipynb", {
    "id": "go-retry-backoff",
    "title": "Go: retry a flaky upstream with the seed's exponential backoff",
    "section": "08-troubleshooting", "language": "go", "framework": "gorilla/mux",
    "checklist": ["error-handling"], "points": 5,
    "files": ["work/retry.go"],
}, [
    ("md", """
# Exercise — retries with exponential backoff

`GET /api/quotes/{id}` forwards to a quotes service that sometimes answers `503` (overloaded) or
refuses connections while it restarts. One failed call should not become a failed request — but
retrying at once, forever, is how a struggling service gets finished off. The seed's policy:

```yaml
retry_config:
  max_attempts: 3
  backoff_type: exponential
  initial_delay_ms: 1000
  max_delay_ms: 10000
```

Finish the two functions:

1. `backoff(retry)`: the delay before retry number `retry` (1 for the first retry) is
   `initialDelay · 2^(retry-1)`, at most `maxDelay`, multiplied by `scale` (the `RETRY_SCALE`
   environment variable: the checks use 0.2, so 200 ms then 400 ms). No jitter here.
2. `fetchWithRetry(ctx, url)`: at most `maxAttempts` attempts, sleeping `backoff(1)`,
   `backoff(2)`, ... in between. `retryable(resp, err)` (given) tells you whether an attempt failed in
   a way worth retrying (a network error, a 5xx, a 429); any other answer — a 200, a 404 — is final and
   returned as is. When every attempt failed, return an error (close the bodies you drop); the
   handler then answers **503** `{"error": {"code": "UPSTREAM_UNAVAILABLE", ...}}`.

The next cell starts a flaky quotes service in this notebook for you to try your server against
(the checks start their own and count the attempts it receives). Run every cell; the last one
checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", QUOTES_UPSTREAM.strip() + """


demo = Upstream().__enter__()  # runs until the kernel stops
upstream_url = demo.url
print("flaky quotes service at", upstream_url)
"""),
    ("code", """
%%go --save work/retry.go --serve quotes --env UPSTREAM_URL=$upstream_url --env RETRY_SCALE=0.2
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gorilla/mux"
)

// The seed's retry policy.
const (
	maxAttempts  = 3
	initialDelay = 1 * time.Second
	maxDelay     = 10 * time.Second
)

// RETRY_SCALE multiplies every delay (the checks use 0.2: 200 ms, then 400 ms).
var scale = envFloat("RETRY_SCALE", 1)

var client = &http.Client{Timeout: 5 * time.Second}

func envFloat(name string, fallback float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return fallback
}

// retryable: a network error, a 5xx or a 429 may go away; any other answer is final.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		return true
	}
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
}

// backoff is the delay before retry number `retry` (1 for the first retry):
// initialDelay * 2^(retry-1), at most maxDelay, times scale.
func backoff(retry int) time.Duration {
	// ### BEGIN SOLUTION
	d := initialDelay
	for i := 1; i < retry && d < maxDelay; i++ {
		d *= 2
	}
	if d > maxDelay {
		d = maxDelay
	}
	return time.Duration(float64(d) * scale)
	// ### END SOLUTION
}

// fetchWithRetry GETs url at most maxAttempts times, waiting backoff(1), backoff(2), ... between
// attempts. It returns the first final answer, or an error once every attempt has failed.
func fetchWithRetry(ctx context.Context, url string) (*http.Response, error) {
	// ### BEGIN SOLUTION
	var lastErr error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(backoff(attempt - 1)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if !retryable(resp, err) {
			return resp, nil
		}
		if err != nil {
			lastErr = err
		} else {
			lastErr = fmt.Errorf("upstream answered %d", resp.StatusCode)
			resp.Body.Close()
		}
		log.Printf("attempt %d/%d failed: %v", attempt, maxAttempts, lastErr)
	}
	return nil, fmt.Errorf("gave up after %d attempts: %w", maxAttempts, lastErr)
	// ### END SOLUTION
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func main() {
	upstream := os.Getenv("UPSTREAM_URL")
	r := mux.NewRouter()
	r.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	}).Methods("GET")
	r.HandleFunc("/api/quotes/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		resp, err := fetchWithRetry(r.Context(), fmt.Sprintf("%s/quotes/%s", upstream, id))
		if err != nil {
			log.Printf("GET /api/quotes/%s: %v", id, err)
			writeError(w, http.StatusServiceUnavailable, "UPSTREAM_UNAVAILABLE",
				"the quotes service is unavailable, try again later")
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}).Methods("GET")
	log.Fatal(http.ListenAndServe(os.Getenv("HOST")+":"+os.Getenv("PORT"), r))
}
"""),
    ("md", "Try it: a quote that fails twice before it works, and one that never works."),
    ("code", """
import httpx

for qid in ["flaky-demo", "down-demo"]:
    try:
        r = httpx.get(course.url("quotes") + f"/api/quotes/{qid}", timeout=30)
        answer = f"{r.status_code} {r.text[:100]}"
    except httpx.HTTPError as e:  # a panic in a Go handler drops the connection
        answer = f"no answer ({type(e).__name__})"
    times = demo.attempts.get(qid, [])
    gaps = [f"{(b - a) * 1000:.0f} ms" for a, b in zip(times, times[1:])]
    print(f"{qid}: {answer} — {len(times)} attempt(s), gaps {gaps}")
"""),
    ("code", """
from course.grading import test
import socket
import time
import uuid

""" + QUOTES_UPSTREAM.strip() + """


SCALE = 0.2  # delays of 200 ms, then 400 ms


def start(ctx, upstream_url):
    return ctx.serve("work/retry.go", env={"UPSTREAM_URL": upstream_url, "RETRY_SCALE": str(SCALE)}, fresh=True)


def quote_id(kind):
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def error_code(r):
    assert "json" in r.headers.get("content-type", ""), f"expected a JSON body, got {r.headers.get('content-type')}"
    return (r.json().get("error") or {}).get("code")


@test("a healthy upstream is called once and its answer passed on", points=1,
      hint="return the first final response; a panic in a handler drops the connection (see %logs quotes)")
def healthy_upstream(ctx):
    with Upstream() as up:
        start(ctx, up.url)
        qid = quote_id("ok")
        r = ctx.get(f"/api/quotes/{qid}", timeout=15)
        assert r.status_code == 200, f"expected 200, got {r.status_code}"
        assert r.json().get("id") == qid, f"expected the upstream's quote, got {r.text[:120]}"
        assert len(up.attempts.get(qid, [])) == 1, f"expected 1 call upstream, got {len(up.attempts.get(qid, []))}"


@test("a flaky upstream is retried after 200 ms, then 400 ms, and succeeds on the 3rd attempt", points=1,
      checklist=["error-handling"], hint="sleep backoff(attempt - 1) before every attempt but the first")
def retries_with_backoff(ctx):
    with Upstream() as up:
        start(ctx, up.url)
        qid = quote_id("flaky")
        r = ctx.get(f"/api/quotes/{qid}", timeout=20)
        times = up.attempts.get(qid, [])
        assert len(times) == 3, f"expected exactly 3 attempts upstream, got {len(times)}"
        assert r.status_code == 200, f"expected 200 once the 3rd attempt succeeds, got {r.status_code}"
        first, second = times[1] - times[0], times[2] - times[1]
        shown = f"(waited {first * 1000:.0f} ms, then {second * 1000:.0f} ms)"
        assert first >= 0.9 * SCALE, f"the 1st retry came too soon {shown}: expected ≥ {SCALE * 1000:.0f} ms"
        assert second >= 0.9 * 2 * SCALE, f"the 2nd retry came too soon {shown}: expected ≥ {2 * SCALE * 1000:.0f} ms"
        assert second - first >= SCALE / 2, f"the delay should double {shown}"
        assert first < 4 * SCALE, f"the 1st retry came too late {shown}: is RETRY_SCALE applied?"


@test("an upstream that keeps failing gets exactly 3 attempts, then a 503 UPSTREAM_UNAVAILABLE", points=1,
      checklist=["error-handling"], hint="stop after maxAttempts and return an error")
def gives_up_after_three(ctx):
    with Upstream() as up:
        start(ctx, up.url)
        qid = quote_id("down")
        r = ctx.get(f"/api/quotes/{qid}", timeout=20)
        time.sleep(2 * SCALE)  # a 4th attempt would arrive now
        count = len(up.attempts.get(qid, []))
        assert count == 3, f"expected exactly 3 attempts upstream, got {count}"
        assert r.status_code == 503, f"expected 503, got {r.status_code}"
        assert error_code(r) == "UPSTREAM_UNAVAILABLE", "expected error.code UPSTREAM_UNAVAILABLE"

### BEGIN HIDDEN TESTS
@test("a 404 from upstream is final: passed on after one attempt", points=1, checklist=["error-handling"],
      hint="return the response as soon as retryable(resp, err) is false")
def client_errors_are_not_retried(ctx):
    with Upstream() as up:
        start(ctx, up.url)
        qid = quote_id("missing")
        r = ctx.get(f"/api/quotes/{qid}", timeout=20)
        time.sleep(SCALE)
        count = len(up.attempts.get(qid, []))
        assert count == 1, f"a 404 must not be retried: {count} attempts upstream"
        assert r.status_code == 404, f"expected the upstream's 404, got {r.status_code}"


@test("a refused connection is retried with backoff too, then answered 503", points=1,
      checklist=["error-handling"], hint="a network error (err != nil) is retryable like a 5xx")
def refused_connection(ctx):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connections are refused
    start(ctx, f"http://127.0.0.1:{port}")
    t0 = time.monotonic()
    r = ctx.get("/api/quotes/anything", timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status_code == 503, f"expected 503, got {r.status_code}"
    assert error_code(r) == "UPSTREAM_UNAVAILABLE", "expected error.code UPSTREAM_UNAVAILABLE"
    assert elapsed >= 0.9 * 3 * SCALE, \\
        f"answered after {elapsed * 1000:.0f} ms: 3 attempts with backoff take at least {3 * SCALE * 1000:.0f} ms"
### END HIDDEN TESTS
"""),
])

# --------------------------------------------------------------------------------------
# 2. Timeouts: a stalled dependency is a 504, a stopped one a 503 (Node.js)
# --------------------------------------------------------------------------------------
PROFILES_UPSTREAM = '''
import http.server, json, threading


class Profiles:
    """A profiles service on 127.0.0.1 (on `port`, or any free one): GET /profiles/<id> answers
    200 {"id", "name"}; the id `crash` answers 500 with an internal message."""

    def __init__(self, port=0):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                pid = self.path.rstrip("/").rsplit("/", 1)[-1]
                if pid == "crash":
                    status, body = 500, {"error": "pq: password authentication failed for user svc_profiles"}
                else:
                    status, body = 200, {"id": pid, "name": f"user {pid}"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
'''

exercise("08-troubleshooting/02-node-upstream-timeouts.ipynb", {
    "id": "node-upstream-timeouts",
    "title": "Node.js: a stalled dependency answers 504, a stopped one 503 — never a hang",
    "section": "08-troubleshooting", "language": "node", "framework": "express",
    "checklist": ["error-handling"], "points": 5,
    "files": ["work/gateway.js"],
}, [
    ("md", """
# Exercise — timeouts: ETIMEDOUT and ECONNREFUSED as clean answers

The seed's troubleshooting table lists the two failures every service meets when a dependency goes
wrong: **ETIMEDOUT** (it is there but does not answer) and **ECONNREFUSED** (it is not running).
Without a timeout, a stalled dependency holds every request open until the *client* gives up —
and each held request costs a socket and memory. With one, the failure is fast and explicit.

`GET /api/profiles/:id` forwards to a profiles service at `UPSTREAM_URL`. Finish `getJSON(path)`:

- use `fetch` with a timeout of `TIMEOUT_MS` (`UPSTREAM_TIMEOUT_MS`; the checks use 500):
  `AbortSignal.timeout(ms)` aborts the request with an error named `TimeoutError`;
- return `{ status, body }` (the upstream's status and JSON) for a 2xx or 4xx answer;
- throw `UpstreamError(504, "UPSTREAM_TIMEOUT", ...)` when it does not answer in time;
- throw `UpstreamError(503, "UPSTREAM_UNAVAILABLE", ...)` when the connection is refused (fetch
  rejects with a `TypeError` whose `cause.code` is `"ECONNREFUSED"`);
- throw `UpstreamError(502, "BAD_GATEWAY", ...)` for a 5xx answer — with a message of your own: the
  upstream's body can carry internal details.

The error handler (given) answers an `UpstreamError` with its status and the course's envelope.
The service must recover by itself: once the dependency is back, requests succeed again. Run every
cell; the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", PROFILES_UPSTREAM.strip() + """


profiles = Profiles().__enter__()  # a healthy profiles service to try your server with
profiles_url = profiles.url
"""),
    ("code", """
%%node --save work/gateway.js --serve gateway --env UPSTREAM_URL=$profiles_url --env UPSTREAM_TIMEOUT_MS=500
import express from "express";

const UPSTREAM = process.env.UPSTREAM_URL;
const TIMEOUT_MS = Number(process.env.UPSTREAM_TIMEOUT_MS ?? 1000);

/** A failure of the dependency, answered on purpose with `status` and the envelope. */
class UpstreamError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET `path` on the upstream: { status, body } for a 2xx/4xx answer, else an UpstreamError. */
async function getJSON(path) {
  // ### BEGIN SOLUTION
  let response, body;
  try {
    response = await fetch(UPSTREAM + path, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    body = await response.json();
  } catch (err) {
    if (err.name === "TimeoutError") {
      throw new UpstreamError(504, "UPSTREAM_TIMEOUT", `the profiles service did not answer within ${TIMEOUT_MS} ms`);
    }
    if (err.cause?.code === "ECONNREFUSED") {
      throw new UpstreamError(503, "UPSTREAM_UNAVAILABLE", "the profiles service is not reachable");
    }
    throw new UpstreamError(502, "BAD_GATEWAY", "the profiles service failed");
  }
  if (response.status >= 500) {
    throw new UpstreamError(502, "BAD_GATEWAY", `the profiles service answered ${response.status}`);
  }
  return { status: response.status, body };
  // ### END SOLUTION
}

const app = express();

app.get("/health", (req, res) => res.json({ status: "ok" }));

app.get("/api/profiles/:id", async (req, res) => {
  const { status, body } = await getJSON(`/profiles/${encodeURIComponent(req.params.id)}`);
  res.status(status).json(body);
});

app.use((err, req, res, next) => {
  if (err instanceof UpstreamError) {
    console.warn(`${req.method} ${req.path}: ${err.code}: ${err.message}`);
    return res.status(err.status).json({ error: { code: err.code, message: err.message } });
  }
  console.error(err);
  res.status(500).json({ error: { code: "INTERNAL_ERROR", message: "Internal server error" } });
});

app.listen(Number(process.env.PORT), process.env.HOST);
"""),
    ("md", "Try it (the checks also stall and stop the upstream):"),
    ("code", """
import httpx

for pid in ["7", "crash"]:
    r = httpx.get(course.url("gateway") + f"/api/profiles/{pid}", timeout=15)
    print(f"/api/profiles/{pid} → {r.status_code} {r.text[:120]}")
"""),
    ("code", """
from course.grading import test
import socket
import time

""" + PROFILES_UPSTREAM.strip() + """


TIMEOUT_MS = 500


def start(ctx, upstream_url):
    env = {"UPSTREAM_URL": upstream_url, "UPSTREAM_TIMEOUT_MS": str(TIMEOUT_MS)}
    return ctx.serve("work/gateway.js", env=env, fresh=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connections are refused
    return port


def error_code(r):
    assert "json" in r.headers.get("content-type", ""), f"expected a JSON body, got {r.headers.get('content-type')}"
    return (r.json().get("error") or {}).get("code")


@test("a healthy upstream's answer is passed on", points=1)
def healthy_upstream(ctx):
    with Profiles() as up:
        start(ctx, up.url)
        r = ctx.get("/api/profiles/7")
        assert r.status_code == 200, f"expected 200, got {r.status_code}"
        assert r.json().get("id") == "7", f"expected the upstream's profile, got {r.text[:120]}"


@test("a stalled upstream answers 504 UPSTREAM_TIMEOUT, in about the timeout", points=1,
      checklist=["error-handling"], hint="fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) }); err.name === 'TimeoutError'")
def stalled_upstream(ctx):
    stalled = socket.socket()  # listens but never accepts: connections open, nothing answers
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(64)
    try:
        start(ctx, f"http://127.0.0.1:{stalled.getsockname()[1]}")
        t0 = time.monotonic()
        r = ctx.get("/api/profiles/7", timeout=15)
        elapsed = time.monotonic() - t0
    finally:
        stalled.close()
    assert r.status_code == 504, f"expected 504, got {r.status_code}"
    assert error_code(r) == "UPSTREAM_TIMEOUT", "expected error.code UPSTREAM_TIMEOUT"
    assert elapsed < 4, f"took {elapsed:.1f} s with UPSTREAM_TIMEOUT_MS={TIMEOUT_MS}"


@test("a stopped upstream (ECONNREFUSED) answers 503 UPSTREAM_UNAVAILABLE", points=1,
      checklist=["error-handling"], hint="fetch rejects with a TypeError whose cause.code is 'ECONNREFUSED'")
def stopped_upstream(ctx):
    start(ctx, f"http://127.0.0.1:{free_port()}")
    r = ctx.get("/api/profiles/7")
    assert r.status_code == 503, f"expected 503, got {r.status_code}"
    assert error_code(r) == "UPSTREAM_UNAVAILABLE", "expected error.code UPSTREAM_UNAVAILABLE"

### BEGIN HIDDEN TESTS
@test("an upstream 500 answers 502 BAD_GATEWAY without the upstream's message", points=1,
      checklist=["error-handling"], hint="response.status >= 500: throw an UpstreamError(502, 'BAD_GATEWAY', ...)")
def upstream_500(ctx):
    with Profiles() as up:
        start(ctx, up.url)
        r = ctx.get("/api/profiles/crash")
        assert r.status_code == 502, f"expected 502, got {r.status_code}"
        assert error_code(r) == "BAD_GATEWAY", "expected error.code BAD_GATEWAY"
        assert "svc_profiles" not in r.text, "the response leaks the upstream's internal message"


@test("the service recovers by itself when the upstream comes back", points=1, checklist=["error-handling"])
def recovers(ctx):
    with Profiles() as up:
        port = up.port
        start(ctx, up.url)
        assert ctx.get("/api/profiles/1").status_code == 200, "expected 200 while the upstream is up"
    r = ctx.get("/api/profiles/2")
    assert r.status_code == 503, f"upstream stopped: expected 503, got {r.status_code}"
    with Profiles(port):
        r = ctx.get("/api/profiles/3")
        assert r.status_code == 200, f"upstream back on the same port: expected 200, got {r.status_code}"
        assert r.json().get("id") == "3", f"expected profile 3, got {r.text[:120]}"
### END HIDDEN TESTS
"""),
])
