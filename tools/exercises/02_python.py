"""Exercises for section 02 (Python). Run: .venv/bin/python tools/exercises/02_python.py"""
from common import PARAMETERS, SETUP_DB, exercise

exercise("02-python/01-fastapi-users.ipynb", {
    "id": "py-fastapi-users",
    "title": "FastAPI: read and create users, with validation and one error envelope",
    "section": "02-python", "language": "python", "framework": "fastapi",
    "checklist": ["error-handling", "request-validation"], "points": 5,
    "files": ["work/app.py"],
}, [
    ("md", """
# Exercise — FastAPI: read and create users

The seed's FastAPI sample declares a `User` model and answers a missing user with
`HTTPException(404)`. Out of the box FastAPI then answers errors in three shapes
(`{"detail": "..."}`, `{"detail": [...]}`, a plain-text 500). Complete the app so that:

1. `GET /users/{user_id}` answers **200** with the user (`id`, `name`, `email`), read through the
   psycopg connection pool, and **404** `{"error": {"code": "NOT_FOUND", "message": "..."}}` for an
   unknown id;
2. `POST /users` with `{"name": ..., "email": ...}` inserts the user and answers **201** with the
   created user (its new `id` included) and a `Location: /users/<id>` header;
3. the body is validated by the `UserIn` model: `name` must not be blank (strip it), `email` must
   look like an address (`something@domain.tld`, no spaces). Write the two `@field_validator`s —
   raise `ValueError` with a message when a value is wrong;
4. a validation failure answers **422** `{"error": {"code": "VALIDATION_ERROR", "message": ...,
   "details": [{"field": "email", "message": ...}, ...]}}` with one entry per bad field; any other
   `HTTPException` answers in the same envelope (`NOT_FOUND` for 404).

Run every cell, then the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP_DB,
    ("code", r'''
%%py --save work/app.py --serve api
import os
import re
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 422: "VALIDATION_ERROR"}

pool = AsyncConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=4, open=False,
                           kwargs={"row_factory": dict_row})


@asynccontextmanager
async def lifespan(app):
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


class UserIn(BaseModel):
    name: str
    email: str

    @field_validator("name")
    @classmethod
    def name_not_blank(cls, value: str) -> str:
        ### BEGIN SOLUTION
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value
        ### END SOLUTION

    @field_validator("email")
    @classmethod
    def email_looks_valid(cls, value: str) -> str:
        ### BEGIN SOLUTION
        if not EMAIL.match(value):
            raise ValueError("must be a valid email address")
        return value
        ### END SOLUTION


class User(BaseModel):
    id: int
    name: str
    email: str


def envelope(status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException):
    ### BEGIN SOLUTION
    return envelope(exc.status_code, CODES.get(exc.status_code, "HTTP_ERROR"), str(exc.detail))
    ### END SOLUTION


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    ### BEGIN SOLUTION
    details = [{"field": ".".join(str(part) for part in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"]} for e in exc.errors()]
    return envelope(422, "VALIDATION_ERROR", "Invalid request", details=details)
    ### END SOLUTION


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> User:
    ### BEGIN SOLUTION
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT id, name, email FROM users WHERE id = %s", (user_id,))
        user = await cur.fetchone()
    if user is None:
        raise HTTPException(status_code=404, detail=f"user {user_id} not found")
    return user
    ### END SOLUTION


@app.post("/users", status_code=201)
async def create_user(body: UserIn, response: Response) -> User:
    ### BEGIN SOLUTION
    async with pool.connection() as conn:
        cur = await conn.execute("INSERT INTO users (name, email) VALUES (%s, %s) RETURNING id, name, email",
                                 (body.name, body.email))
        user = await cur.fetchone()
    response.headers["Location"] = f"/users/{user['id']}"
    return user
    ### END SOLUTION


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ["HOST"], port=int(os.environ["PORT"]))
'''),
    ("md", "Try it: the server runs in the background (`%logs api` shows its log)."),
    ("code", """
import httpx

api = course.url("api")
for method, path, body in [("GET", "/users/1", None), ("GET", "/users/987654", None),
                           ("POST", "/users", {"name": "Ada Lovelace", "email": "ada@example.com"}),
                           ("POST", "/users", {"name": " ", "email": "ada at example"})]:
    r = httpx.request(method, api + path, json=body)
    print(f"{method:<4} {path:<14} {r.status_code} {r.text[:150]}")
"""),
    ("code", """
from course.grading import test
import course.db


def start(ctx):
    return ctx.serve("work/app.py", env={"DATABASE_URL": course.db.url()})


def fields(r):
    \"\"\"The field names in a 422's details ("body.email" and "email" both count as "email").\"\"\"
    details = r.json().get("error", {}).get("details") or []
    return {str(d.get("field", "")).split(".")[-1] for d in details if isinstance(d, dict)}


@test("GET /users/1 answers 200 with id, name and email", points=1)
def finds_a_user(ctx):
    start(ctx)
    r = ctx.get("/users/1")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    user = r.json()
    assert user.get("id") == 1, f"expected the user with id 1, got {r.text[:120]}"
    assert set(user) == {"id", "name", "email"}, f"expected exactly id, name and email, got {sorted(user)}"


@test("an unknown id answers 404 with the error envelope", points=1, checklist=["error-handling"],
      hint="raise HTTPException(404, ...) in the route; the StarletteHTTPException handler shapes the answer")
def unknown_user(ctx):
    start(ctx)
    r = ctx.get("/users/987654")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    assert "json" in r.headers.get("content-type", ""), "the 404 must be JSON"
    assert r.json().get("error", {}).get("code") == "NOT_FOUND", "expected error.code NOT_FOUND"


@test("POST /users creates the user: 201, its id, a Location that finds it", points=1,
      hint="INSERT ... RETURNING id, name, email; response.headers['Location'] = f'/users/{id}'")
def creates_a_user(ctx):
    start(ctx)
    r = ctx.post("/users", json={"name": "Grace Hopper", "email": "grace@example.com"})
    assert r.status_code == 201, f"expected 201, got {r.status_code}"
    created = r.json()
    assert isinstance(created.get("id"), int), f"the answer must carry the new id, got {r.text[:120]}"
    assert created.get("name") == "Grace Hopper", "the answer must carry the name"
    location = r.headers.get("location", "")
    assert location.endswith(f"/users/{created['id']}"), f"expected Location /users/{created['id']}, got {location!r}"
    again = ctx.get(f"/users/{created['id']}")
    assert again.status_code == 200 and again.json().get("email") == "grace@example.com", \\
        "GET on the new user's Location must find it (was it inserted?)"


@test("an invalid email answers 422 VALIDATION_ERROR naming the field", points=1,
      checklist=["request-validation"],
      hint="raise ValueError in the email validator; turn RequestValidationError into the envelope with details")
def rejects_a_bad_email(ctx):
    start(ctx)
    r = ctx.post("/users", json={"name": "Ada", "email": "ada at example"})
    assert r.status_code == 422, f"expected 422, got {r.status_code}"
    assert r.json().get("error", {}).get("code") == "VALIDATION_ERROR", "expected error.code VALIDATION_ERROR"
    assert "email" in fields(r), f"expected a detail for the field email, got {r.json()['error'].get('details')}"

### BEGIN HIDDEN TESTS
@test("a blank name and a bad email are both reported, and nothing is inserted", points=1,
      checklist=["request-validation"])
def reports_every_field(ctx):
    start(ctx)
    r = ctx.post("/users", json={"name": "   ", "email": "x@nowhere"})
    assert r.status_code == 422, f"expected 422, got {r.status_code}"
    assert r.json().get("error", {}).get("code") == "VALIDATION_ERROR", "expected error.code VALIDATION_ERROR"
    assert {"name", "email"} <= fields(r), f"expected details for name and email, got {sorted(fields(r))}"
    import psycopg

    with psycopg.connect(course.db.url()) as conn:
        count = conn.execute("SELECT count(*) FROM users WHERE email = 'x@nowhere'").fetchone()[0]
    assert count == 0, "an invalid user was inserted"
### END HIDDEN TESTS
"""),
])

exercise("02-python/02-asyncio-gather.ipynb", {
    "id": "py-asyncio-gather",
    "title": "asyncio: concurrent calls that fail fast, and a bounded fan-out",
    "section": "02-python", "language": "python", "framework": "asyncio",
    "checklist": [], "points": 5,
    "files": ["work/fetch.py"],
}, [
    ("md", """
# Exercise — asyncio: `gather`, errors and a bounded fan-out

The seed's `fetch_user_and_posts` awaits two database calls with `asyncio.gather`, so they overlap:
the answer takes as long as the slower call, not the sum. Two things it leaves out matter in
production:

- **When one call fails, `gather` does not cancel the other** — it keeps running (and holding a
  pooled connection) after the caller has already got the error.
- **A fan-out needs a bound.** Fetching 1 000 users with one `gather` opens 1 000 queries at once
  and drains the connection pool for everyone else.

Write, in `work/fetch.py`:

1. `fetch_user_and_posts(db, user_id)` → `{"user": ..., "posts": ...}`, with `db.fetch_user(user_id)`
   and `db.fetch_user_posts(user_id)` running **concurrently**. If either raises, the exception
   reaches the caller (as is, or inside an `ExceptionGroup` — `asyncio.TaskGroup` does that) **and
   the other call is cancelled**;
2. `fetch_users(db, user_ids, limit=5)` → the list of `db.fetch_user(id)` results **in the order of
   `user_ids`**, with **at most `limit`** calls running at any moment (but more than one).

The checks run a pytest file against your module with a fake `db` whose calls take a known time.
"""),
    PARAMETERS,
    ("code", SETUP_DB[1] + '\nos.makedirs("work", exist_ok=True)  # %%writefile does not create folders'),
    ("code", """
%%writefile work/fetch.py
\"\"\"The seed's fetch_user_and_posts, done right, and a bounded fan-out.\"\"\"
import asyncio


async def fetch_user_and_posts(db, user_id):
    \"\"\"The user and their posts, fetched concurrently; on error, the other call is cancelled.\"\"\"
    ### BEGIN SOLUTION
    async with asyncio.TaskGroup() as group:  # cancels the sibling if one task fails
        user = group.create_task(db.fetch_user(user_id))
        posts = group.create_task(db.fetch_user_posts(user_id))
    return {"user": user.result(), "posts": posts.result()}
    ### END SOLUTION


async def fetch_users(db, user_ids, limit=5):
    \"\"\"db.fetch_user for every id, at most `limit` at a time, in the order of `user_ids`.\"\"\"
    ### BEGIN SOLUTION
    gate = asyncio.Semaphore(limit)

    async def one(user_id):
        async with gate:
            return await db.fetch_user(user_id)

    return list(await asyncio.gather(*(one(user_id) for user_id in user_ids)))
    ### END SOLUTION
"""),
    ("md", """
Try it against the real database. `Database` is the seed's `db`: each call is one query on a pooled
connection, slowed to 0.3 s with `pg_sleep` so that overlap is visible.
"""),
    ("code", """
import asyncio
import importlib.util
import time

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


class Database:
    def __init__(self, pool):
        self.pool = pool

    async def fetch_user(self, user_id):
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, name, email FROM users, pg_sleep(0.3) WHERE id = %s", (user_id,))
            return await cur.fetchone()

    async def fetch_user_posts(self, user_id):
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT n AS id, 'post ' || n AS title FROM generate_series(1, 3) AS n, "
                                     "pg_sleep(0.3)")
            return await cur.fetchall()


def load(path):
    \"\"\"Import a saved module afresh (so a re-saved file is picked up).\"\"\"
    spec = importlib.util.spec_from_file_location("fetch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pool = AsyncConnectionPool(os.environ["DATABASE_URL"], min_size=3, max_size=3, open=False,
                           kwargs={"row_factory": dict_row})
await pool.open(wait=True)
db = Database(pool)
"""),
    ("code", """
fetch = load("work/fetch.py")

start = time.perf_counter()
result = await fetch.fetch_user_and_posts(db, 1)
print(result["user"], len(result["posts"]), "posts")
print(f"{time.perf_counter() - start:.2f} s  (about 0.3 s when the calls overlap, 0.6 s when they do not)")

start = time.perf_counter()
users = await fetch.fetch_users(db, [5, 3, 1, 6, 2, 4], limit=3)
print([u["id"] for u in users])
print(f"{time.perf_counter() - start:.2f} s  (6 calls, 3 at a time: about 0.6 s)")
"""),
    ("code", "await pool.close()"),
    ("code", '''
from course.grading import test
import hashlib
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

TESTS = r"""
import asyncio
import importlib.util
import os
import time

import pytest


def load():
    spec = importlib.util.spec_from_file_location("learner_fetch", os.environ["FETCH_PY"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch = load()


class FakeDB:
    # a db whose calls take a known time; it records overlap and cancellations

    def __init__(self, delay=0.3, posts_delay=None, fail_user=None, delays=None):
        self.delay, self.posts_delay, self.fail_user, self.delays = delay, posts_delay, fail_user, delays or {}
        self.running = self.most = 0
        self.cancelled = []

    async def _call(self, what, seconds, value, error=None):
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(seconds)
            if error is not None:
                raise error
            return value
        except asyncio.CancelledError:
            self.cancelled.append(what)
            raise
        finally:
            self.running -= 1

    async def fetch_user(self, user_id):
        return await self._call(("user", user_id), self.delays.get(user_id, self.delay),
                                {"id": user_id, "name": f"user {user_id}"}, self.fail_user)

    async def fetch_user_posts(self, user_id):
        return await self._call(("posts", user_id), self.posts_delay or self.delay, [{"id": 1, "user": user_id}])


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 5))


def is_lookup_error(exc):
    return isinstance(exc, LookupError) or (
        isinstance(exc, BaseExceptionGroup) and exc.subgroup(LookupError) is not None)


def test_calls_overlap():
    db = FakeDB(delay=0.3)
    start = time.perf_counter()
    result = run(fetch.fetch_user_and_posts(db, 7))
    took = time.perf_counter() - start
    assert result == {"user": {"id": 7, "name": "user 7"}, "posts": [{"id": 1, "user": 7}]}, result
    assert took < 0.5, f"two 0.3 s calls took {took:.2f} s: they did not overlap"


def test_error_reaches_the_caller():
    db = FakeDB(delay=0.05, fail_user=LookupError("no user 7"))
    with pytest.raises(BaseException) as info:
        run(fetch.fetch_user_and_posts(db, 7))
    assert is_lookup_error(info.value), f"expected the LookupError, got {info.value!r}"


def test_fan_out_keeps_order():
    ids = [9, 8, 7, 6, 5, 4, 3, 2, 1]
    db = FakeDB(delays={i: 0.02 * i for i in ids})  # the first ids are the slowest
    start = time.perf_counter()
    users = run(fetch.fetch_users(db, ids, limit=9))
    took = time.perf_counter() - start
    assert [u["id"] for u in users] == ids, f"results out of order: {[u['id'] for u in users]}"
    assert took < 0.6, f"9 calls (20-180 ms each, 9 at a time) took {took:.2f} s: not concurrent"


def test_other_call_is_cancelled():
    db = FakeDB(delay=0.05, posts_delay=2.0, fail_user=LookupError("no user 7"))

    async def scenario():
        try:
            await fetch.fetch_user_and_posts(db, 7)
        except BaseException as exc:
            assert is_lookup_error(exc), f"expected the LookupError, got {exc!r}"
        else:
            raise AssertionError("expected an error")
        await asyncio.sleep(0.1)
        return list(db.cancelled)  # before asyncio.run cancels the leftovers itself

    cancelled = run(scenario())
    assert ("posts", 7) in cancelled, "fetch_user_posts kept running after fetch_user failed"


def test_fan_out_is_bounded():
    db = FakeDB(delay=0.05)
    users = run(fetch.fetch_users(db, list(range(1, 13)), limit=3))
    assert [u["id"] for u in users] == list(range(1, 13)), "results out of order"
    assert db.most <= 3, f"{db.most} calls ran at once with limit=3"
    assert db.most > 1, "the calls ran one at a time"
"""
_RUNS = {}


def pytest_outcomes(ctx):
    """Run the pytest file once per version of work/fetch.py: test name -> (status, message)."""
    path = ctx.path("work/fetch.py")
    key = hashlib.sha256(path.read_bytes() + TESTS.encode()).hexdigest()
    if key not in _RUNS:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "test_fetch.py").write_text(TESTS)
            (Path(tmp) / "pytest.ini").write_text("[pytest]\\n")
            report = Path(tmp) / "report.xml"
            ctx.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(Path(tmp) / "pytest.ini"),
                     "--junitxml", str(report), str(Path(tmp) / "test_fetch.py")],
                    cwd=tmp, timeout=60, env={"FETCH_PY": str(path)})
            outcomes = {}
            if report.exists():
                for case in ET.parse(report).iter("testcase"):
                    problem = case.find("failure")
                    if problem is None:
                        problem = case.find("error")
                    outcomes[case.get("name")] = ("pass", None) if problem is None else \\
                        ("fail", (problem.get("message") or "failed").splitlines()[0][:300])
        _RUNS[key] = outcomes
    return _RUNS[key]


def check(ctx, name):
    status, message = pytest_outcomes(ctx).get(name, ("fail", "the test did not run (does work/fetch.py import?)"))
    assert status == "pass", message


@test("fetch_user_and_posts: the two calls overlap (0.3 s, not 0.6 s)", points=1,
      hint="create both coroutines first, then await them together (asyncio.gather or a TaskGroup)")
def calls_overlap(ctx):
    check(ctx, "test_calls_overlap")


@test("fetch_user_and_posts: an error in one call reaches the caller", points=1)
def error_reaches_the_caller(ctx):
    check(ctx, "test_error_reaches_the_caller")


@test("fetch_users: results in the order of the ids, fetched concurrently", points=1,
      hint="asyncio.gather returns results in the order of its arguments, whatever finishes first")
def fan_out_keeps_order(ctx):
    check(ctx, "test_fan_out_keeps_order")

### BEGIN HIDDEN TESTS
@test("fetch_user_and_posts: when one call fails, the other is cancelled", points=1)
def other_call_is_cancelled(ctx):
    check(ctx, "test_other_call_is_cancelled")


@test("fetch_users: never more than `limit` calls at once", points=1)
def fan_out_is_bounded(ctx):
    check(ctx, "test_fan_out_is_bounded")
### END HIDDEN TESTS
'''),
])
