"""Exercises for section 03 (Go). Run: .venv/bin/python tools/exercises/03_go.py"""
from common import PARAMETERS, SETUP_DB, exercise

TRY = """
import httpx

api = course.url("{name}")


def show(path):
    \"\"\"One line per request; a handler that panics closes the connection without an answer.\"\"\"
    try:
        r = httpx.get(api + path, timeout=10)
        return f"{{path:<{width}}} {{r.status_code}} {{r.headers.get('content-type', '-'):<18}} {{r.text.strip()[:120]}}"
    except httpx.HTTPError as e:
        return f"{{path:<{width}}} no answer ({{type(e).__name__}}): did the handler panic? (%logs {name})"


for path in {paths!r}:
    print(show(path))
"""

exercise("03-go/01-mux-user-api.ipynb", {
    "id": "go-mux-user-api",
    "title": "gorilla/mux: a user API that says what went wrong, in JSON",
    "section": "03-go", "language": "go", "framework": "gorilla/mux",
    "checklist": ["error-handling", "request-validation"], "points": 5,
    "files": ["work/main.go"],
}, [
    ("md", """
# Exercise — gorilla/mux: errors a client can act on

The seed's `getUser` answers every error with `http.Error(w, "Not found", 404)`: plain text, and
the same answer for an unknown user, an id like `abc` and a database that is down. The server
below keeps the seed's shape — `User`, a `Store` over a `pgxpool.Pool` whose `GetUser` returns an
error wrapping `ErrNotFound` when there is no such row, and the router — and listens on
`HOST:PORT` instead of the seed's hard-coded `:8000`. Complete it so that every answer is JSON:

1. `writeError` sends the course's envelope `{"error": {"code": "...", "message": "..."}}` with the
   given status (use `writeJSON`);
2. `GET /api/users/{id}` answers **200** with the user; **400** `BAD_REQUEST` when the id is not an
   integer (`strconv.Atoi`), before any query; **404** `NOT_FOUND` when `errors.Is(err, ErrNotFound)`;
   for **any other error** (the database is down, say) it logs the error and answers **500**
   `INTERNAL_ERROR` (or **503** `SERVICE_UNAVAILABLE`) with a message that reveals nothing
   internal — no addresses, no driver messages;
3. `notFound`, the router's `NotFoundHandler`, answers unknown routes with a JSON **404** `NOT_FOUND`.

Run every cell, then the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP_DB,
    ("code", """
%%go --save work/main.go --serve api
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// ErrNotFound is wrapped by Store.GetUser when there is no such user.
var ErrNotFound = errors.New("not found")

// Store is the seed's `db`, for real: one pgx connection pool per process.
type Store struct{ pool *pgxpool.Pool }

func (s *Store) GetUser(ctx context.Context, id int) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, "SELECT id, name, email FROM users WHERE id = $1", id).Scan(&u.ID, &u.Name, &u.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return u, err
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers the error envelope {"error": {"code": code, "message": message}}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	// ### BEGIN SOLUTION
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
	// ### END SOLUTION
}

func (s *Store) getUser(w http.ResponseWriter, r *http.Request) {
	// ### BEGIN SOLUTION
	id, err := strconv.Atoi(mux.Vars(r)["id"])
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "id must be an integer")
		return
	}
	user, err := s.GetUser(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("user %d not found", id))
	case err != nil:
		log.Printf("GET %s: %v", r.URL.Path, err) // the details go to the log, not to the client
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal server error")
	default:
		writeJSON(w, http.StatusOK, user)
	}
	// ### END SOLUTION
}

// notFound answers routes the router does not know.
func notFound(w http.ResponseWriter, r *http.Request) {
	// ### BEGIN SOLUTION
	writeError(w, http.StatusNotFound, "NOT_FOUND", "no route for "+r.Method+" "+r.URL.Path)
	// ### END SOLUTION
}

func main() {
	port := os.Getenv("PORT")
	if _, err := strconv.Atoi(port); err != nil { // fail fast on bad configuration
		log.Fatalf("PORT must be a port number, got %q", port)
	}
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store := &Store{pool: pool}

	router := mux.NewRouter()
	router.HandleFunc("/api/users/{id}", store.getUser).Methods("GET")
	router.NotFoundHandler = http.HandlerFunc(notFound)

	addr := net.JoinHostPort(os.Getenv("HOST"), port)
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, router))
}
"""),
    ("md", "Try it: the server runs in the background (`%logs api` shows its log)."),
    ("code", TRY.format(name="api", width=20, paths=["/api/users/1", "/api/users/987654", "/api/users/abc",
                                                    "/api/nope"])),
    ("code", """
from course.grading import test
import course.db

DOWN = "postgresql://nobody@127.0.0.1:1/nowhere"  # nothing listens on port 1: the database is down


def start(ctx, **kw):
    return ctx.serve("work/main.go", env={"DATABASE_URL": kw.pop("db", None) or course.db.url()}, **kw)


def envelope_code(r):
    assert "json" in r.headers.get("content-type", ""), \\
        f"expected a JSON answer, got {r.headers.get('content-type')}: {r.text[:80]!r}"
    return r.json().get("error", {}).get("code")


@test("GET /api/users/1 answers 200 with user 1 as JSON", points=1,
      hint="s.GetUser(r.Context(), id), then writeJSON(w, http.StatusOK, user)")
def finds_a_user(ctx):
    start(ctx)
    r = ctx.get("/api/users/1")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert "json" in r.headers.get("content-type", ""), "the user must be JSON"
    assert r.json().get("id") == 1, f"expected the user with id 1, got {r.text[:120]}"


@test("an unknown id answers 404 NOT_FOUND in the envelope", points=1, checklist=["error-handling"],
      hint="errors.Is(err, ErrNotFound) → writeError(w, http.StatusNotFound, \\"NOT_FOUND\\", ...)")
def unknown_user(ctx):
    start(ctx)
    r = ctx.get("/api/users/987654")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    assert envelope_code(r) == "NOT_FOUND", "expected error.code NOT_FOUND"


@test("a non-integer id answers 400 BAD_REQUEST", points=1, checklist=["request-validation"],
      hint="strconv.Atoi(mux.Vars(r)[\\"id\\"]) and answer 400 when it fails")
def rejects_a_bad_id(ctx):
    start(ctx)
    r = ctx.get("/api/users/abc")
    assert r.status_code == 400, f"expected 400, got {r.status_code}"
    assert envelope_code(r) == "BAD_REQUEST", "expected error.code BAD_REQUEST"

### BEGIN HIDDEN TESTS
@test("an unknown route answers a JSON 404 NOT_FOUND", points=1, checklist=["error-handling"])
def unknown_route(ctx):
    start(ctx)
    r = ctx.get("/api/nope")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    assert envelope_code(r) == "NOT_FOUND", "expected error.code NOT_FOUND"


@test("with the database down: 500/503 JSON that reveals nothing, and the server keeps running",
      points=1, checklist=["error-handling"])
def database_down(ctx):
    server = start(ctx, db=DOWN)
    r = ctx.get("/api/users/1")
    assert r.status_code in (500, 503), f"a database outage must not look like {r.status_code}"
    assert envelope_code(r) in ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE"), \\
        "expected error.code INTERNAL_ERROR or SERVICE_UNAVAILABLE"
    leaked = [w for w in ("127.0.0.1", "dial", "connect", "nowhere", "pgx") if w in r.text]
    assert not leaked, f"the answer reveals internals: {leaked}"
    assert server.running, "the server exited"
### END HIDDEN TESTS
"""),
])

exercise("03-go/02-fetch-multiple-users.ipynb", {
    "id": "go-fetch-multiple-users",
    "title": "Goroutines: fetchMultipleUsers that keeps order, returns errors and has a bound",
    "section": "03-go", "language": "go", "framework": "errgroup",
    "checklist": ["error-handling"], "points": 6,
    "files": ["work/batch/main.go"],
}, [
    ("md", """
# Exercise — goroutines: fix the seed's `fetchMultipleUsers`

```go
func fetchMultipleUsers(userIDs []int) []User {
    resultChan := make(chan User, len(userIDs))
    for _, id := range userIDs {
        go func(uid int) {
            user, _ := db.GetUser(uid)
            resultChan <- user
        }(id)
    }
    ...
}
```

The seed's version has three production bugs: the error is **dropped** (`user, _ :=` — a failed
lookup becomes an empty `User` in the answer), the results come back **in completion order**, not
in the order of `userIDs`, and there is **no bound** — 1 000 ids open 1 000 queries at once on a
pool of a few connections.

The server below answers `GET /api/users?ids=3,1,2` with `fetchMultipleUsers`, and shuts down
gracefully on SIGTERM (an `errgroup` runs the server and the shutdown watcher). Write
`fetchMultipleUsers(ctx, store, ids, limit)` so that:

1. `users[i]` is the user with `ids[i]`;
2. the first error is **returned** (the handler turns `ErrNotFound` into a 404);
3. at most `limit` `GetUser` calls run at once — and more than one;
4. once a call has failed, the ones still running are **cancelled** (their `ctx` is done).

`golang.org/x/sync/errgroup` does 2–4 for you: `errgroup.WithContext` and `SetLimit`. Note that
this module's `go.mod` says `go 1.21`: a loop variable is shared by all iterations (copy it before
a goroutine uses it).

The checks run `go test` on your folder (a test file with a fake, slow store) and probe the server.
"""),
    PARAMETERS,
    SETUP_DB,
    ("code", """
%%go --save work/batch/main.go --serve batch
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

var ErrNotFound = errors.New("not found")

// UserStore is what fetchMultipleUsers needs (the tests pass a fake one).
type UserStore interface {
	GetUser(ctx context.Context, id int) (User, error)
}

type pgStore struct{ pool *pgxpool.Pool }

func (s pgStore) GetUser(ctx context.Context, id int) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, "SELECT id, name, email FROM users WHERE id = $1", id).Scan(&u.ID, &u.Name, &u.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return u, err
}

// fetchMultipleUsers fetches every id concurrently, at most limit at a time; users[i] has ids[i].
// It returns the first error, and cancels the fetches still running when one fails.
func fetchMultipleUsers(ctx context.Context, store UserStore, ids []int, limit int) ([]User, error) {
	// ### BEGIN SOLUTION
	g, ctx := errgroup.WithContext(ctx) // ctx is cancelled as soon as one fetch fails
	g.SetLimit(limit)                   // g.Go blocks while `limit` fetches are running
	users := make([]User, len(ids))
	for i, id := range ids {
		i, id := i, id // go 1.21 semantics: one copy per iteration
		g.Go(func() error {
			user, err := store.GetUser(ctx, id)
			if err != nil {
				return err
			}
			users[i] = user // each goroutine writes its own index: no lock needed
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return users, nil
	// ### END SOLUTION
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// GET /api/users?ids=3,1,2
func usersHandler(store UserStore) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var ids []int
		for _, part := range strings.Split(r.URL.Query().Get("ids"), ",") {
			id, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", "ids must be a comma-separated list of integers")
				return
			}
			ids = append(ids, id)
		}
		users, err := fetchMultipleUsers(r.Context(), store, ids, 4)
		switch {
		case errors.Is(err, ErrNotFound):
			writeError(w, http.StatusNotFound, "NOT_FOUND", err.Error())
		case err != nil:
			log.Printf("GET %s: %v", r.URL, err)
			writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal server error")
		default:
			writeJSON(w, http.StatusOK, users)
		}
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	routes := http.NewServeMux()
	routes.HandleFunc("/api/users", usersHandler(pgStore{pool}))
	srv := &http.Server{Addr: net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")), Handler: routes}

	// one goroutine serves, the other waits for SIGTERM and drains; the first error stops both
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		log.Printf("listening on %s", srv.Addr)
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		drain, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(drain)
	})
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
}
"""),
    ("md", "Try it: the server runs in the background (`%logs batch` shows its log)."),
    ("code", TRY.format(name="batch", width=28, paths=["/api/users?ids=3,1,2", "/api/users?ids=1,987654",
                                                      "/api/users?ids=1,x"])),
    ("code", '''
from course.grading import test
import hashlib
import json
import shutil

import course.db
from course import paths, toolchains
from course.runners.go import GO_ENV

FOLDER = "work/batch"
TESTS = r"""package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStore answers after a delay, records how many calls overlap and how many were cancelled.
type fakeStore struct {
	delay     func(id int) time.Duration
	fail      map[int]error
	running   atomic.Int32
	most      atomic.Int32
	cancelled atomic.Int32
}

func (f *fakeStore) GetUser(ctx context.Context, id int) (User, error) {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	if err, ok := f.fail[id]; ok {
		return User{}, err
	}
	d := 50 * time.Millisecond
	if f.delay != nil {
		d = f.delay(id)
	}
	select {
	case <-time.After(d):
		return User{ID: id, Name: fmt.Sprintf("user %d", id)}, nil
	case <-ctx.Done():
		f.cancelled.Add(1)
		return User{}, ctx.Err()
	}
}

func fetch(t *testing.T, store UserStore, ids []int, limit int) ([]User, error, time.Duration) {
	t.Helper()
	type result struct {
		users []User
		err   error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		users, err := fetchMultipleUsers(context.Background(), store, ids, limit)
		done <- result{users, err}
	}()
	select {
	case r := <-done:
		return r.users, r.err, time.Since(start)
	case <-time.After(5 * time.Second):
		t.Fatal("fetchMultipleUsers did not return within 5 s")
	}
	return nil, nil, 0
}

func idsOf(users []User) []int {
	out := make([]int, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func TestKeepsOrderAndOverlaps(t *testing.T) {
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8}
	store := &fakeStore{delay: func(id int) time.Duration { return time.Duration(90-10*id) * time.Millisecond }}
	users, err, took := fetch(t, store, ids, len(ids))
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if fmt.Sprint(idsOf(users)) != fmt.Sprint(ids) {
		t.Fatalf("users[i] must have ids[i]: asked %v, got %v", ids, idsOf(users))
	}
	if took > 300*time.Millisecond {
		t.Fatalf("8 calls of 10-80 ms took %v: they did not overlap", took)
	}
}

func TestReturnsTheError(t *testing.T) {
	boom := errors.New("boom")
	store := &fakeStore{fail: map[int]error{5: boom}}
	_, err, _ := fetch(t, store, []int{1, 2, 3, 4, 5, 6}, 6)
	if !errors.Is(err, boom) {
		t.Fatalf("GetUser(5) failed with %v, fetchMultipleUsers returned %v", boom, err)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	store := &fakeStore{delay: func(int) time.Duration { return 30 * time.Millisecond }}
	users, err, _ := fetch(t, store, ids, 3)
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if fmt.Sprint(idsOf(users)) != fmt.Sprint(ids) {
		t.Fatalf("users[i] must have ids[i]: got %v", idsOf(users))
	}
	if most := store.most.Load(); most > 3 || most < 2 {
		t.Fatalf("limit 3: %d calls ran at once (want 2 or 3)", most)
	}
}

func TestCancelsTheRestOnError(t *testing.T) {
	boom := errors.New("boom")
	store := &fakeStore{fail: map[int]error{1: boom},
		delay: func(int) time.Duration { return 3 * time.Second }}
	_, err, took := fetch(t, store, []int{2, 3, 4, 1, 5, 6}, 6)
	if !errors.Is(err, boom) {
		t.Fatalf("expected the error of GetUser(1), got %v", err)
	}
	if took > time.Second || store.cancelled.Load() == 0 {
		t.Fatalf("after the failure the other calls ran on (returned after %v, %d cancelled)",
			took.Round(time.Millisecond), store.cancelled.Load())
	}
}
"""
_RUNS = {}


def go_outcomes(ctx):
    """`go test -json` once per version of main.go: {test: (pass|fail|None, what it printed)}.

    (ctx.go_test gives outcomes but only the end of the output; the messages are wanted here.)
    """
    folder = ctx.path(FOLDER)
    key = hashlib.sha256((folder / "main.go").read_bytes() + TESTS.encode()).hexdigest()
    if key not in _RUNS:
        for name in ("go.mod", "go.sum"):
            shutil.copy(paths.GO_PROJECT / name, folder / name)
        (folder / "fetch_grading_test.go").write_text(TESTS)
        result = ctx.run([toolchains.require("go"), "test", "-json", "."], cwd=folder, timeout=120, env=GO_ENV)
        outcomes, said, loose = {}, {}, []
        for line in (result.stdout + "\\n" + result.stderr_tail).splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                event = {"Output": line}
            test_name, text = event.get("Test"), str(event.get("Output") or "").strip()
            if test_name and event.get("Action") in ("pass", "fail", "skip"):
                outcomes[test_name] = event["Action"]
            if text and not text.startswith(("=== ", "--- ", "FAIL", "ok ", "PASS", "{")):
                (said.setdefault(test_name, []) if test_name else loose).append(text)
        _RUNS[key] = outcomes, said, loose
    return _RUNS[key]


def go_check(ctx, name):
    outcomes, said, loose = go_outcomes(ctx)
    outcome = outcomes.get(name)
    if outcome == "pass":
        return
    own = said.get(name, [])
    everything = loose + [t for lines in said.values() for t in lines]
    if outcome == "fail":
        detail = next((t for t in own if "_test.go:" in t or "panic:" in t), None) or (own or ["see the output"])[0]
    else:  # the test binary stopped before it (a panic) or never built
        detail = next((t for t in everything if "panic:" in t or ".go:" in t), None) or (everything or [
            "see the output"])[0]
    raise AssertionError(f"{name} {'failed' if outcome else 'did not run'}: {detail[:300]}")


def start(ctx):
    return ctx.serve(f"{FOLDER}/main.go", env={"DATABASE_URL": course.db.url()})


@test("go test: users[i] has ids[i], and the calls overlap", points=1,
      hint="allocate users := make([]User, len(ids)) and let goroutine i write users[i]")
def keeps_order(ctx):
    go_check(ctx, "TestKeepsOrderAndOverlaps")


@test("go test: a failed GetUser is returned, not dropped", points=1, checklist=["error-handling"],
      hint="errgroup's g.Wait() returns the first error a g.Go function returned")
def returns_the_error(ctx):
    go_check(ctx, "TestReturnsTheError")


@test("go test: at most `limit` GetUser calls at once", points=1, hint="g.SetLimit(limit)")
def bounded(ctx):
    go_check(ctx, "TestBoundedConcurrency")


@test("GET /api/users?ids=3,1,2 answers users 3, 1, 2 from the database", points=1)
def endpoint_keeps_order(ctx):
    start(ctx)
    r = ctx.get("/api/users?ids=3,1,2")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert [u.get("id") for u in r.json()] == [3, 1, 2], f"expected users 3, 1, 2 in that order, got {r.text[:120]}"

### BEGIN HIDDEN TESTS
@test("go test: when one call fails, the others are cancelled", points=1)
def cancels_the_rest(ctx):
    go_check(ctx, "TestCancelsTheRestOnError")


@test("GET /api/users?ids=1,987654 answers 404 NOT_FOUND, not an empty user", points=1,
      checklist=["error-handling"])
def endpoint_reports_missing(ctx):
    start(ctx)
    r = ctx.get("/api/users?ids=1,987654")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    assert r.json().get("error", {}).get("code") == "NOT_FOUND", "expected error.code NOT_FOUND"
### END HIDDEN TESTS
'''),
])
