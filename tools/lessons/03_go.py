"""Build the Go lessons (run from the repo root: .venv/bin/python tools/lessons/03_go.py [N ...])."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "notebooks" / "03-go"

SETUP = """
%load_ext course
import os
import httpx, course, course.db
from course import servers

os.environ["DATABASE_URL"] = course.db.url()   # servers and programs started below inherit it


def show(r: httpx.Response) -> str:
    \"\"\"One line per response: status, content type, body.\"\"\"
    ctype = r.headers.get("content-type", "-").split(";")[0]
    return f"{r.status_code} {ctype:<16} {r.text.strip() or '(empty body)'}"
"""

# --------------------------------------------------------------------------------------
SERVERS = [
    ("md", """
# Go HTTP servers: gorilla/mux and gin

**Goal:** run the seed's gorilla/mux server against PostgreSQL (through a `pgx` pool), find what
its error handling really tells clients — including while the database is down — fix it with JSON
errors that distinguish "not found", "bad input" and "database unavailable", then do the same in gin.
"""),
    ("code", SETUP),
    ("md", """
## 1. The seed's server

```go
package main

import (
    "encoding/json"
    "net/http"
    "github.com/gorilla/mux"
)

type User struct {
    ID    int    `json:"id"`
    Name  string `json:"name"`
    Email string `json:"email"`
}

func getUser(w http.ResponseWriter, r *http.Request) {
    vars := mux.Vars(r)
    user, err := db.GetUser(vars["id"])
    if err != nil {
        http.Error(w, "Not found", http.StatusNotFound)
        return
    }
    w.Header().Set("Content-Type", "application/json")
    json.NewEncoder(w).Encode(user)
}

func main() {
    router := mux.NewRouter()
    router.HandleFunc("/api/users/{id}", getUser).Methods("GET")
    http.ListenAndServe(":8000", router)
}
```

Two things to complete, one to change:

- `db` does not exist: we add a small `store` over a `pgxpool.Pool` (pgx's connection pool; one per
  process) with the seed's signature, `GetUser(id string) (User, error)`.
- **`:8000` is hard-coded.** A server must take its address from its environment (the course, a
  container platform, Heroku-style hosts all pass `PORT`). The seed's line would never answer on the
  port the course assigned — `--serve` would fail the cell, saying so. We listen on `HOST:PORT`.
- `getUser` and `User` stay exactly as they are.
"""),
    ("code", """
%%go --serve mux
package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// the seed's `db`: a store over a pgx connection pool
type store struct{ pool *pgxpool.Pool }

func (s *store) GetUser(id string) (User, error) {
	var u User
	err := s.pool.QueryRow(context.Background(),
		"SELECT id, name, email FROM users WHERE id = $1", id).Scan(&u.ID, &u.Name, &u.Email)
	return u, err
}

var db *store

func getUser(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	user, err := db.GetUser(vars["id"])
	if err != nil {
		http.Error(w, "Not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(user)
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	db = &store{pool}

	router := mux.NewRouter()
	router.HandleFunc("/api/users/{id}", getUser).Methods("GET")
	http.ListenAndServe(net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")), router) // seed: ":8000"
}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("mux")
for path in ["/api/users/1", "/api/users/9999", "/api/users/abc", "/api/nope"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
"""),
    ("md", """
`http.Error` writes **`text/plain`**, and mux's default 404 for an unknown route is text too. Both
are easy to spot. The subtler problem is `if err != nil { 404 }`: *every* error is "Not found".
`abc` is a database error (PostgreSQL cannot parse it as an integer), reported as a missing user.
Now make the database unavailable — `course.db.database().block()` disconnects every session and
refuses new ones — and ask for a user that exists:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
database = course.db.database()
database.block()
try:
    print("DB down:", show(httpx.get(api + "/api/users/1")))
finally:
    database.unblock()
print("DB back:", show(httpx.get(api + "/api/users/1")))
"""),
    ("md", """
During the outage the API told clients that user 1 **does not exist**. A client that caches
404s, deletes local data on 404, or shows "account not found" acts on a lie; and nothing was logged,
so nobody on call learns about the outage from this service. (The pool reconnected by itself when
the database came back: that part pgx does for you.)

Also silently ignored: the error returned by `http.ListenAndServe`. If the port is taken, `main`
returns and the process exits with status 0 — "successfully" not serving anything.

## 2. The fix: classify errors, answer JSON, log what's ours

- **Validate first.** `strconv.Atoi` on the id: a malformed id is the client's error (422), and never
  reaches the database. `GetUser` takes an `int` and the request's `context.Context`, so a client
  that disconnects cancels its query.
- **`pgx.ErrNoRows` is the only "not found".** Use `errors.Is`: the error may be wrapped.
- **Could we reach the database at all?** A failed connect (`*pgconn.ConnectError`) or a PostgreSQL
  error of class `08` (connection exception) or `57` (operator intervention: shutdown, terminated)
  means *unavailable*: **503**, which tells clients and load balancers to retry later. Any other
  PostgreSQL error is a bug in our SQL: **500**. Both are logged (JSON, `log/slog`).
- JSON for unknown routes (`router.NotFoundHandler`), an `http.Server` with a
  `ReadHeaderTimeout` (the package-level `ListenAndServe` has no timeouts at all: a client can hold
  a connection forever), and `ListenAndServe`'s error checked.
"""),
    ("code", """
%%go --serve mux_fixed
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type store struct{ pool *pgxpool.Pool }

func (s *store) GetUser(ctx context.Context, id int) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, "SELECT id, name, email FROM users WHERE id = $1", id).
		Scan(&u.ID, &u.Name, &u.Email)
	return u, err
}

var (
	db     *store
	logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
)

// unavailable: we could not talk to the database (as opposed to: it rejected our query)
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr):
		return true
	case errors.As(err, &pgErr):
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57")
	default:
		return true // no answer from PostgreSQL at all: network error, timeout
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func getUser(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(mux.Vars(r)["id"])
	if err != nil || id < 1 {
		writeError(w, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "id must be a positive integer")
		return
	}
	user, err := db.GetUser(r.Context(), id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		writeError(w, http.StatusNotFound, "NOT_FOUND", "user "+strconv.Itoa(id)+" not found")
	case err != nil && unavailable(err):
		logger.Error("database unavailable", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "DATABASE_UNAVAILABLE", "database unavailable, retry later")
	case err != nil:
		logger.Error("query failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal server error")
	default:
		writeJSON(w, http.StatusOK, user)
	}
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		logger.Error("bad DATABASE_URL", "err", err)
		os.Exit(1)
	}
	db = &store{pool}

	router := mux.NewRouter()
	router.HandleFunc("/api/users/{id}", getUser).Methods("GET")
	router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no route for "+r.Method+" "+r.URL.Path)
	})

	srv := &http.Server{
		Addr:              net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")),
		Handler:           router,
		ReadHeaderTimeout: 5 * time.Second,
	}
	if err := srv.ListenAndServe(); err != nil {
		logger.Error("server stopped", "err", err)
		os.Exit(1)
	}
}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("mux_fixed")
for path in ["/api/users/1", "/api/users/9999", "/api/users/abc", "/api/nope"]:
    print(f"{path:<16}", show(httpx.get(api + path)))

database.block()
try:
    print(f"{'DB down':<16}", show(httpx.get(api + "/api/users/1")))
finally:
    database.unblock()
print(f"{'DB back':<16}", show(httpx.get(api + "/api/users/1")))
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
import json

for line in servers.get("mux_fixed").logs(20).splitlines():
    entry = json.loads(line)
    print(entry["level"], "|", entry["msg"], "|", entry["path"])
"""),
    ("md", """
## 3. The same API in gin

gin bundles what the seed wired by hand: path parameters, JSON rendering, and **binding with
validation tags** — `binding:"required,min=1"` on a struct filled from the URI. `gin.Default()`
adds a logger and a `Recovery` middleware (a panic becomes a 500 instead of a dropped connection).
Here is the route done carefully, with gin's defaults left as they are; `/api/panic` is a handler
with a bug:
"""),
    ("code", """
%%go --serve gin
package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type userURI struct {
	ID int `uri:"id" binding:"required,min=1"`
}

func apiError(code, message string) gin.H {
	return gin.H{"error": gin.H{"code": code, "message": message}}
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.Default()

	r.GET("/api/users/:id", func(c *gin.Context) {
		var uri userURI
		if err := c.ShouldBindUri(&uri); err != nil {
			c.JSON(http.StatusUnprocessableEntity, apiError("VALIDATION_ERROR", "id must be a positive integer"))
			return
		}
		var u User
		err := pool.QueryRow(c.Request.Context(), "SELECT id, name, email FROM users WHERE id = $1", uri.ID).
			Scan(&u.ID, &u.Name, &u.Email)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			c.JSON(http.StatusNotFound, apiError("NOT_FOUND", "user not found"))
		case err != nil:
			c.Error(err)
			c.JSON(http.StatusServiceUnavailable, apiError("DATABASE_UNAVAILABLE", "retry later"))
		default:
			c.JSON(http.StatusOK, u)
		}
	})

	r.GET("/api/panic", func(c *gin.Context) {
		var counts map[string]int
		counts["boom"]++ // a bug: writing to a nil map panics
	})

	if err := r.Run(net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT"))); err != nil {
		panic(err)
	}
}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("gin")
for path in ["/api/users/1", "/api/users/9999", "/api/users/0", "/api/users/abc", "/api/nope", "/api/panic"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
"""),
    ("md", """
The routes we wrote answer well. gin's own defaults don't: an unknown route is **`text/plain`
`404 page not found`**, and `Recovery` turns the panic into a 500 with an **empty body** (the
stack goes to the log, in colour, as text). Two hooks fix both: `NoRoute` and `CustomRecovery`:
"""),
    ("code", """
%%go --serve gin_fixed
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type userURI struct {
	ID int `uri:"id" binding:"required,min=1"`
}

var logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))

func apiError(code, message string) gin.H {
	return gin.H{"error": gin.H{"code": code, "message": message}}
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.CustomRecovery(func(c *gin.Context, recovered any) {
		logger.Error("panic", "path", c.Request.URL.Path, "panic", recovered)
		c.AbortWithStatusJSON(http.StatusInternalServerError, apiError("INTERNAL_ERROR", "internal server error"))
	}))
	r.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, apiError("NOT_FOUND", "no route for "+c.Request.Method+" "+c.Request.URL.Path))
	})

	r.GET("/api/users/:id", func(c *gin.Context) {
		var uri userURI
		if err := c.ShouldBindUri(&uri); err != nil {
			c.JSON(http.StatusUnprocessableEntity, apiError("VALIDATION_ERROR", "id must be a positive integer"))
			return
		}
		var u User
		err := pool.QueryRow(c.Request.Context(), "SELECT id, name, email FROM users WHERE id = $1", uri.ID).
			Scan(&u.ID, &u.Name, &u.Email)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			c.JSON(http.StatusNotFound, apiError("NOT_FOUND", "user not found"))
		case err != nil:
			logger.Error("database", "err", err)
			c.JSON(http.StatusServiceUnavailable, apiError("DATABASE_UNAVAILABLE", "retry later"))
		default:
			c.JSON(http.StatusOK, u)
		}
	})

	r.GET("/api/panic", func(c *gin.Context) {
		var counts map[string]int
		counts["boom"]++
	})

	if err := r.Run(net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT"))); err != nil {
		panic(err)
	}
}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("gin_fixed")
for path in ["/api/nope", "/api/panic"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
print("panic logged as JSON:", json.loads(servers.get("gin_fixed").logs(5).splitlines()[-1])["msg"])
"""),
    ("md", """
## Recap

- Take the address from the environment (`PORT`), never a hard-coded `:8000`; check the error of
  `ListenAndServe`, and prefer an `http.Server` with timeouts.
- `if err != nil { 404 }` turns every failure into "not found" — even a database outage. Classify:
  `errors.Is(err, pgx.ErrNoRows)` → 404, connection failures → 503, other database errors → 500
  (logged), bad input → 422 before any query.
- `http.Error` answers `text/plain`; write JSON errors with one helper, and replace mux's and gin's
  default 404s. gin's `Recovery` gives an empty 500: use `CustomRecovery`.

Next: [02-goroutines.ipynb](02-goroutines.ipynb). More on error envelopes:
[../05-error-handling/](../05-error-handling/). Exercises: [../../exercises/03-go/](../../exercises/03-go/).
"""),
    ("code", "%stop --all"),
]

# --------------------------------------------------------------------------------------
GOROUTINES = [
    ("md", """
# Goroutine fan-out: the seed's `fetchMultipleUsers`, its gaps and the fix

**Goal:** run the seed's concurrent fetch against PostgreSQL as it stands, prove each of its
three gaps with output — errors silently dropped, results out of order, unbounded goroutines — and
fix them with `errgroup`: `SetLimit`, indexed results and context cancellation.
"""),
    ("code", """
%load_ext course
import os, course.db

os.environ["DATABASE_URL"] = course.db.url()   # the Go programs below inherit it
"""),
    ("md", """
## 1. The seed, as it stands

```go
func fetchMultipleUsers(userIDs []int) []User {
    resultChan := make(chan User, len(userIDs))
    for _, id := range userIDs {
        go func(uid int) {
            user, _ := db.GetUser(uid)
            resultChan <- user
        }(id)
    }
    users := make([]User, 0, len(userIDs))
    for i := 0; i < len(userIDs); i++ {
        users = append(users, <-resultChan)
    }
    return users
}
```

The pattern is sound as far as it goes: one goroutine per id, a buffered channel so no goroutine
blocks on send, exactly `len(userIDs)` receives. Passing `id` as the argument `uid` is also
correct (before Go 1.22, a closure capturing the loop variable would see it change). The
completion is the `db` it calls: a `pgxpool.Pool` with `GetUser(id int)`. We fetch users 1–5 and
one id that does not exist, 9999:
"""),
    ("code", """
%%go
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type store struct{ pool *pgxpool.Pool }

func (s *store) GetUser(id int) (User, error) {
	var u User
	err := s.pool.QueryRow(context.Background(),
		"SELECT id, name, email FROM users WHERE id = $1", id).Scan(&u.ID, &u.Name, &u.Email)
	return u, err
}

var db *store

func fetchMultipleUsers(userIDs []int) []User {
	resultChan := make(chan User, len(userIDs))
	for _, id := range userIDs {
		go func(uid int) {
			user, _ := db.GetUser(uid)
			resultChan <- user
		}(id)
	}
	users := make([]User, 0, len(userIDs))
	for i := 0; i < len(userIDs); i++ {
		users = append(users, <-resultChan)
	}
	return users
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	db = &store{pool}

	for _, u := range fetchMultipleUsers([]int{1, 2, 3, 4, 5, 9999}) {
		fmt.Printf("%+v\\n", u)
	}
}
"""),
    ("md", """
Run it a few times. Every run prints six users — one of them `{ID:0 Name: Email:}` — in an order
that changes from run to run. That output cannot be committed as a checked result, which is the
point. The next program proves each gap with numbers that *are* stable.

## 2. The gaps, proven

The same `fetchMultipleUsers`, unchanged. The `store` now counts `GetUser` calls in flight (running
or waiting for a pool connection) and keeps the peak:

1. **Errors dropped**: `user, _ := db.GetUser(uid)`. For id 9999 pgx returns `ErrNoRows` and a zero
   `User`, and the zero value goes into the results. A database outage would look the same: six
   zero users, no error.
2. **Out of order**: results arrive in completion order, so `users[i]` is not `userIDs[i]`.
3. **Unbounded**: one goroutine per id, all at once. The pool (pgx's default size is the larger of
   4 and the number of CPUs) keeps PostgreSQL safe, but every goroutine exists at once, queued on
   the pool; 100 000 ids mean 100 000 goroutines and no backpressure. With
   `database/sql` and no `SetMaxOpenConns`, each one would open a *connection*.
"""),
    ("code", """
%%go
// NBVAL_CHECK_OUTPUT
package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type store struct {
	pool           *pgxpool.Pool
	inFlight, peak atomic.Int64
}

func (s *store) GetUser(id int) (User, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	var u User
	err := s.pool.QueryRow(context.Background(),
		"SELECT id, name, email FROM users WHERE id = $1", id).Scan(&u.ID, &u.Name, &u.Email)
	return u, err
}

var db *store

func fetchMultipleUsers(userIDs []int) []User {
	resultChan := make(chan User, len(userIDs))
	for _, id := range userIDs {
		go func(uid int) {
			user, _ := db.GetUser(uid)
			resultChan <- user
		}(id)
	}
	users := make([]User, 0, len(userIDs))
	for i := 0; i < len(userIDs); i++ {
		users = append(users, <-resultChan)
	}
	return users
}

func ids(from, to int) []int {
	out := []int{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func inOrder(users []User, userIDs []int) bool {
	for i := range users {
		if users[i].ID != userIDs[i] {
			return false
		}
	}
	return true
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	db = &store{pool: pool}

	// 1. errors dropped
	users := fetchMultipleUsers([]int{1, 2, 3, 4, 5, 9999})
	zero := 0
	for _, u := range users {
		if u == (User{}) {
			zero++
		}
	}
	fmt.Println("1. results:", len(users), "| zero-value users:", zero, "| errors reported: none (no way to)")

	// 2. order: 20 runs over ids 1..50
	ordered := 0
	for run := 0; run < 20; run++ {
		if inOrder(fetchMultipleUsers(ids(1, 50)), ids(1, 50)) {
			ordered++
		}
	}
	fmt.Println("2. runs (of 20) whose results came back in input order, 50 ids each: fewer than 20:", ordered < 20)

	// 3. unbounded: 300 ids
	db.peak.Store(0)
	fetchMultipleUsers(ids(1, 300))
	fmt.Println("3. GetUser calls in flight at once, 300 ids: more than 100:",
		db.peak.Load() > 100)
}
"""),
    ("md", """
## 3. The fix: `errgroup` with a limit, indexed results, a context

`golang.org/x/sync/errgroup` is the standard tool for "run these concurrently, stop at the first
error":

- `errgroup.WithContext(ctx)` returns a group and a derived context that is **cancelled as soon as
  one goroutine returns an error** (or the caller's context ends — a client disconnecting, a
  request deadline). `GetUser` takes that context, so queries in flight are cancelled too; the loop
  checks it to stop launching new work.
- `g.SetLimit(8)`: `g.Go` blocks while 8 goroutines are running. Bounded concurrency, and
  backpressure on the loop that launches work.
- **Indexed results**: each goroutine writes its own slot `users[i]` — no channel, no mutex, no
  reordering (distinct slice elements are distinct variables, so this is race-free).
- The function now returns `([]User, error)`, and a missing user is an error (`ErrNotFound`,
  wrapped with the id) rather than a zero value. `GetUser` also refuses ids below 1 without
  touching the database (`ErrInvalidID`) — which makes step 4 below a clean demonstration of
  cancellation: the first goroutine fails at once, and the loop stops launching.
- After `Wait`, check the *caller's* context too: if it was already done, the loop launched nothing
  and there was no error to report (the group's own context is always cancelled after `Wait`).

Note `i, id := i, id`: this module says `go 1.21`, so a closure still shares the loop variables.
"""),
    ("code", """
%%go
// NBVAL_CHECK_OUTPUT
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
)

type User struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

var (
	ErrNotFound  = errors.New("not found")
	ErrInvalidID = errors.New("invalid id")
)

type store struct {
	pool                    *pgxpool.Pool
	inFlight, peak, started atomic.Int64
}

func (s *store) GetUser(ctx context.Context, id int) (User, error) {
	s.started.Add(1)
	if id < 1 {
		return User{}, ErrInvalidID // no query, no connection for an id that cannot exist
	}
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	var u User
	err := s.pool.QueryRow(ctx, "SELECT id, name, email FROM users WHERE id = $1", id).
		Scan(&u.ID, &u.Name, &u.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

var db *store

const limit = 8

func fetchMultipleUsers(ctx context.Context, userIDs []int) ([]User, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	users := make([]User, len(userIDs))
	for i, id := range userIDs {
		if gctx.Err() != nil {
			break // a goroutine failed, or the caller gave up: launch nothing more
		}
		i, id := i, id
		g.Go(func() error {
			user, err := db.GetUser(gctx, id)
			if err != nil {
				return fmt.Errorf("user %d: %w", id, err)
			}
			users[i] = user
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // the caller's deadline passed before every id was launched
	}
	return users, nil
}

func ids(from, to int) []int {
	out := []int{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	db = &store{pool: pool}
	ctx := context.Background()

	// 1. errors surface; 2. in order; 3. bounded
	_, err = fetchMultipleUsers(ctx, []int{1, 2, 3, 4, 5, 9999})
	fmt.Println("1. error:", err, "| is ErrNotFound:", errors.Is(err, ErrNotFound))

	users, err := fetchMultipleUsers(ctx, ids(1, 300))
	ordered := err == nil
	for i, u := range users {
		ordered = ordered && u.ID == i+1
	}
	fmt.Println("2. 300 users, in input order:", ordered)
	fmt.Println("3. GetUser calls in flight at once, at most", limit, ":", db.peak.Load() <= limit)

	// 4. cancellation: the first id fails at once, so most of the other 299 are never fetched
	db.started.Store(0)
	_, err = fetchMultipleUsers(ctx, append([]int{-1}, ids(1, 299)...))
	fmt.Println("4. error:", err, "| GetUser calls started: fewer than 100 of 300:", db.started.Load() < 100)

	// 5. the caller's deadline cancels the whole fan-out
	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	_, err = fetchMultipleUsers(expired, ids(1, 300))
	fmt.Println("5. with an expired deadline:", errors.Is(err, context.DeadlineExceeded))
}
"""),
    ("md", """
Each gap, closed:

| gap in the seed | proof above | fix |
|---|---|---|
| `user, _ :=` drops errors; a missing id is a zero `User` | 1 zero-value user, no error | return `error`; `ErrNotFound` wrapped with the id |
| results in completion order | not in input order in most runs | `users[i] = user`: each goroutine owns a slot |
| one goroutine per id, all at once | >100 calls in flight for 300 ids | `g.SetLimit(8)`: at most 8 |
| nothing can stop it early | (no error, no context) | `errgroup.WithContext`: the first error (4) or the caller's deadline (5) stops the rest |

Whether you *want* "first error cancels everything" depends on the use case. For "show whatever
users exist", collect per-id errors instead (a `[]error` indexed like the results) and still keep
the limit and the context.

## Recap

- The seed's fan-out is correct Go but not production Go: it drops errors (a missing id becomes a
  zero `User`), returns results in completion order, and starts one goroutine per id with no bound.
- `errgroup.WithContext` + `SetLimit` + indexed writes fix all three, and thread a `context.Context`
  through so a failure, a deadline or a disconnected client stops the work.
- A connection pool bounds connections, not goroutines. Bound both.

Exercises: [../../exercises/03-go/](../../exercises/03-go/).
"""),
    ("code", "%stop --all"),
]

def check_tags(cells):
    """nbval only reads `# NBVAL_CHECK_OUTPUT` in '#' comments; a Go cell marks itself with
    `// NBVAL_CHECK_OUTPUT` (which nb.write sees), so tag it for nbval too."""
    return {i: ["nbval-check-output"] for i, (kind, src) in enumerate(cells)
            if kind == "code" and "// NBVAL_CHECK_OUTPUT" in src}


NOTEBOOKS = {
    "1": ("01-mux-gin.ipynb", SERVERS),
    "2": ("02-goroutines.ipynb", GOROUTINES),
}

if __name__ == "__main__":
    for key in sys.argv[1:] or NOTEBOOKS:
        name, cells = NOTEBOOKS[key]
        write(OUT / name, cells, tags=check_tags(cells))
        print("wrote", OUT / name)
