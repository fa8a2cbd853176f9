"""Build the Python lessons (run from the repo root: .venv/bin/python tools/lessons/02_python.py [N ...])."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nb import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "notebooks" / "02-python"

SETUP = """
%load_ext course
import os, re
import httpx, course, course.db
from course import servers

os.environ["DATABASE_URL"] = course.db.url()   # servers started below inherit it


def show(r: httpx.Response) -> str:
    \"\"\"One line per response: status, content type, and the body (HTML summarised).\"\"\"
    ctype = r.headers.get("content-type", "-").split(";")[0]
    if not r.content:
        body = "(empty body)"
    elif "json" in ctype or ctype == "text/plain":
        body = r.text.strip()
    else:
        title = re.search(r"<title>(.*?)</title>", r.text, re.S)
        body = f"<{ctype} page: {title.group(1).strip() if title else '?'}>"
    return f"{r.status_code} {ctype:<16} {body}"
"""

# --------------------------------------------------------------------------------------
FASTAPI = [
    ("md", """
# FastAPI: typed routes, a real connection pool, one error shape

**Goal:** run the seed's FastAPI sample against PostgreSQL with an async connection pool, see what
FastAPI answers for each kind of bad request, and give every error the same JSON envelope.
"""),
    ("code", SETUP),
    ("md", """
## 1. The seed's sample

```python
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI()

class User(BaseModel):
    id: int
    name: str
    email: str

@app.get("/users/{user_id}")
async def get_user(user_id: int) -> User:
    user = await db.fetch_user(user_id)
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    return user
```

What's missing is `db`. Because the route is `async def`, `db.fetch_user` must not block the event
loop: a synchronous driver here would stall every other request while a query runs. So `db` is a
small class over psycopg's `AsyncConnectionPool` — one pool per process, opened when the app starts
and closed when it stops (FastAPI's `lifespan`), rows as dicts. Then `uvicorn` serves the app on the
course's `PORT`. The route itself is the seed's, unchanged.
"""),
    ("code", """
%%py --serve fastapi
import os
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, HTTPException
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel


class Database:
    def __init__(self, url: str):
        self.pool = AsyncConnectionPool(url, min_size=1, max_size=10, open=False,
                                        kwargs={"row_factory": dict_row})

    async def fetch_user(self, user_id: int) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, name, email FROM users WHERE id = %s", (user_id,))
            return await cur.fetchone()


db = Database(os.environ["DATABASE_URL"])


@asynccontextmanager
async def lifespan(app):
    await db.pool.open()
    yield
    await db.pool.close()


app = FastAPI(lifespan=lifespan)

class User(BaseModel):
    id: int
    name: str
    email: str

@app.get("/users/{user_id}")
async def get_user(user_id: int) -> User:
    user = await db.fetch_user(user_id)
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    return user


@app.get("/boom")
async def boom():
    async with db.pool.connection() as conn:
        await conn.execute("SELECT * FROM no_such_table")      # a bug: an unexpected error


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ["HOST"], port=int(os.environ["PORT"]))
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("fastapi")
for path in ["/users/1", "/users/9999", "/users/abc", "/nope", "/boom"]:
    print(f"{path:<12}", show(httpx.get(api + path)))
"""),
    ("md", """
What FastAPI gives you for free, and what it doesn't:

- **`user_id: int` is validation.** `abc` never reaches the database: FastAPI answers **422** with
  a per-field list (`detail[].loc` names the bad field) — exactly what the checklist's *request
  validation* item wants.
- **The return annotation `-> User` is the response model.** The dict from the database is
  validated and serialised through `User`; a column you do not declare would not leak (like
  Fastify's response schema).
- **But the errors have three shapes:** `{"detail": "User not found"}`, `{"detail": [...]}` for
  validation, and for an unexpected error a **`text/plain` `Internal Server Error`**. None is the
  course's envelope `{"error": {"code", "message"}}`, and clients have to special-case each.

The traceback of `/boom` went to the server's log (good: not to the client), as plain text:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
import time

for _ in range(50):  # the traceback is written just after the response: give it a moment
    log = servers.get("fastapi").logs(1000)
    if "UndefinedTable" in log:
        break
    time.sleep(0.1)
print("traceback in the log:", "Traceback (most recent call last)" in log)
print("UndefinedTable in the log:", "UndefinedTable" in log)
"""),
    ("md", """
## 2. One envelope for every error

FastAPI lets you replace the handler of any exception class. Three handlers cover everything:
Starlette's `HTTPException` (our 404s *and* the router's own 404/405), `RequestValidationError`
(422, keeping the per-field list as `details`), and `Exception` (any bug: log it with its traceback,
answer a generic 500). The route doesn't change at all.
"""),
    ("code", """
%%py --serve fastapi_fixed
import logging
import os
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("api")
CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 422: "VALIDATION_ERROR"}


class Database:
    def __init__(self, url: str):
        self.pool = AsyncConnectionPool(url, min_size=1, max_size=10, open=False,
                                        kwargs={"row_factory": dict_row})

    async def fetch_user(self, user_id: int) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, name, email FROM users WHERE id = %s", (user_id,))
            return await cur.fetchone()


db = Database(os.environ["DATABASE_URL"])


@asynccontextmanager
async def lifespan(app):
    await db.pool.open()
    yield
    await db.pool.close()


app = FastAPI(lifespan=lifespan)


def envelope(status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException):
    return envelope(exc.status_code, CODES.get(exc.status_code, "HTTP_ERROR"), str(exc.detail))


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    details = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
    return envelope(422, "VALIDATION_ERROR", "Request validation failed", details=details)


@app.exception_handler(Exception)
async def unexpected_error(request: Request, exc: Exception):
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return envelope(500, "INTERNAL_ERROR", "Internal server error")


class User(BaseModel):
    id: int
    name: str
    email: str

@app.get("/users/{user_id}")
async def get_user(user_id: int) -> User:
    user = await db.fetch_user(user_id)
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    return user


@app.get("/boom")
async def boom():
    async with db.pool.connection() as conn:
        await conn.execute("SELECT * FROM no_such_table")


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ["HOST"], port=int(os.environ["PORT"]))
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("fastapi_fixed")
for path in ["/users/1", "/users/9999", "/users/abc", "/nope", "/boom"]:
    print(f"{path:<12}", show(httpx.get(api + path)))
"""),
    ("md", """
One shape, the right status for each case, nothing internal in the response. The 500's details
are in the log: our handler logs the traceback, and Starlette — which calls an `Exception` handler
from its outermost middleware and then re-raises — has uvicorn log it a second time. Routing both
through one JSON log handler is a logging-configuration job, not an error-handling one.

## Recap

- An `async def` route needs an async driver and a pool: psycopg's `AsyncConnectionPool`, opened
  and closed in `lifespan`.
- Type hints do real work: `user_id: int` validates (422 with a per-field list) and `-> User`
  validates and filters the response.
- FastAPI's default error bodies have three shapes (and a `text/plain` 500); three exception
  handlers give one envelope. The error-handling section
  ([../05-error-handling/](../05-error-handling/)) compares this with Go and Spring, and with RFC 9457.

Next: [02-django-flask.ipynb](02-django-flask.ipynb). Exercises:
[../../exercises/02-python/](../../exercises/02-python/).
"""),
    ("code", "%stop --all"),
]

# --------------------------------------------------------------------------------------
DJANGO_FLASK = [
    ("md", """
# Django REST framework and Flask: the same route, the synchronous way

**Goal:** run the seed's Django REST `APIView` against PostgreSQL — as a single-file Django
project configured in code — see why `User.objects.get` turns a missing user into a 500, fix it
with `get_object_or_404`, and write the same route in Flask with JSON errors.
"""),
    ("code", SETUP),
    ("md", """
## 1. The seed's Django REST view

```python
from rest_framework.views import APIView
from rest_framework.response import Response

class UserAPI(APIView):
    def get(self, request, user_id):
        user = User.objects.get(id=user_id)
        return Response(UserSerializer(user).data)
```

A Django project normally spans a dozen files; the view needs only a few things from it, so we
configure Django in code: `settings.configure(...)` with the database from `DATABASE_URL`, a `User`
model mapped onto the existing `users` table (`managed = False`: Django must not try to create or
migrate it), a `ModelSerializer`, and a URL pattern. It runs under `uvicorn` through Django's ASGI
handler; `DEBUG=False`, as in production.
"""),
    ("code", """
%%py --serve django
import os
from urllib.parse import urlsplit

import django
from django.conf import settings

db = urlsplit(os.environ["DATABASE_URL"])
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="lesson-only",
    ROOT_URLCONF=__name__,                 # the URL patterns are in this file
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db.path.lstrip("/"), "USER": db.username, "PASSWORD": db.password or "",
        "HOST": db.hostname, "PORT": db.port,
        "CONN_MAX_AGE": 60,                # keep connections (the default 0 reconnects per request)
    }},
    REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": [], "UNAUTHENTICATED_USER": None},
)
django.setup()

from django.db import models
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class User(models.Model):
    name = models.TextField()
    email = models.TextField()

    class Meta:
        app_label = "lesson"
        db_table = "users"
        managed = False


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]


class UserAPI(APIView):
    def get(self, request, user_id):
        user = User.objects.get(id=user_id)
        return Response(UserSerializer(user).data)


urlpatterns = [path("api/users/<int:user_id>", UserAPI.as_view())]

if __name__ == "__main__":
    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(get_asgi_application(), host=os.environ["HOST"], port=int(os.environ["PORT"]),
                lifespan="off")
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("django")
for path in ["/api/users/1", "/api/users/9999", "/api/users/abc"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
"""),
    ("md", """
A missing user is a **500**, as an HTML page. `User.objects.get` raises `User.DoesNotExist` when no
row matches; DRF turns its own exceptions (and Django's `Http404`) into responses, but not
`DoesNotExist`, so it escapes to Django, whose production error page is HTML. Worse, it is
**silent**: Django's default logging only prints request errors to the console when `DEBUG=True`.
The server's log has the access line for the 500, and nothing else:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
log = servers.get("django").logs(50)
print("access line for the 500:", '"GET /api/users/9999 HTTP/1.1" 500' in log)
print("any traceback:", "Traceback" in log or "DoesNotExist" in log)
"""),
    ("md", """
## 2. The fix: `get_object_or_404`, JSON for every error, and a log

- `get_object_or_404(User, id=user_id)` raises `Http404`, which DRF renders as a JSON 404. That is
  the one-line fix for the seed's view.
- DRF's `EXCEPTION_HANDLER` setting reshapes every error DRF handles into the envelope.
- Errors outside DRF views (an unknown URL, a crash in middleware) go to Django's `handler404` and
  `handler500`: make them JSON too.
- `LOGGING` sends `django.request` errors (the 500s, with tracebacks) to the console.
"""),
    ("code", """
%%py --serve django_fixed
import os
from urllib.parse import urlsplit

import django
from django.conf import settings

db = urlsplit(os.environ["DATABASE_URL"])
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="lesson-only",
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db.path.lstrip("/"), "USER": db.username, "PASSWORD": db.password or "",
        "HOST": db.hostname, "PORT": db.port, "CONN_MAX_AGE": 60,
    }},
    REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": [], "UNAUTHENTICATED_USER": None,
                    "EXCEPTION_HANDLER": "__main__.envelope_exception_handler"},
    LOGGING={"version": 1, "disable_existing_loggers": False,
             "handlers": {"console": {"class": "logging.StreamHandler"}},
             "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}}},
)
django.setup()

from django.db import models
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler


def envelope(code, message):
    return {"error": {"code": code, "message": message}}


def json_response(data, status):
    return JsonResponse(data, status=status, json_dumps_params={"separators": (",", ":")})


def envelope_exception_handler(exc, context):
    response = exception_handler(exc, context)          # DRF's: Http404, ValidationError, ...
    if response is not None:
        code = "NOT_FOUND" if response.status_code == 404 else "BAD_REQUEST"
        message = response.data.get("detail", "Invalid request") if isinstance(response.data, dict) else "Invalid request"
        response.data = envelope(code, str(message))
    return response                                     # None: a bug, a 500 (handler500)


def not_found(request, exception=None):
    return json_response(envelope("NOT_FOUND", f"No route for {request.path}"), 404)


def server_error(request):
    return json_response(envelope("INTERNAL_ERROR", "Internal server error"), 500)


handler404 = not_found
handler500 = server_error


class User(models.Model):
    name = models.TextField()
    email = models.TextField()

    class Meta:
        app_label = "lesson"
        db_table = "users"
        managed = False


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]


class UserAPI(APIView):
    def get(self, request, user_id):
        user = get_object_or_404(User, id=user_id)
        return Response(UserSerializer(user).data)


class Boom(APIView):
    def get(self, request):
        return Response(User.objects.raw("SELECT * FROM no_such_table")[0])


urlpatterns = [path("api/users/<int:user_id>", UserAPI.as_view()), path("api/boom", Boom.as_view())]

if __name__ == "__main__":
    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(get_asgi_application(), host=os.environ["HOST"], port=int(os.environ["PORT"]),
                lifespan="off")
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("django_fixed")
for path in ["/api/users/1", "/api/users/9999", "/api/users/abc", "/api/boom"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
log = servers.get("django_fixed").logs(1000)
print("the 500 is logged with its traceback:", "Traceback" in log and "no_such_table" in log)
"""),
    ("md", """
`/api/users/abc` does not match `<int:user_id>`, so it is a 404 from the URL resolver, now in JSON.
(If you want malformed ids to be a 400 or 422 instead, match `<str:user_id>` and validate in the
view or with a serializer.)

## 3. Flask: the same route

Flask has no seed sample; here is the same endpoint the Flask way — a synchronous view, psycopg's
(synchronous) `ConnectionPool`, a dict returned as JSON. `abort(404)` is Flask's `HTTPException`.
Flask's built-in server is for development; in production the same `app` runs under gunicorn or
waitress.
"""),
    ("code", """
%%py --serve flask
import os

from flask import Flask, abort
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=10,
                      kwargs={"row_factory": dict_row})
app = Flask(__name__)


@app.get("/api/users/<int:user_id>")
def get_user(user_id):
    with pool.connection() as conn:
        user = conn.execute("SELECT id, name, email FROM users WHERE id = %s", (user_id,)).fetchone()
    if not user:
        abort(404, description="User not found")
    return user


@app.get("/api/boom")
def boom():
    with pool.connection() as conn:
        return conn.execute("SELECT * FROM no_such_table").fetchone()


if __name__ == "__main__":
    app.run(host=os.environ["HOST"], port=int(os.environ["PORT"]), threaded=True)
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("flask")
for path in ["/api/users/1", "/api/users/9999", "/api/users/abc", "/api/boom"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
"""),
    ("md", """
Everything except the happy path is HTML, Flask's default. Two error handlers fix it:
`HTTPException` covers every 4xx/5xx that Flask or `abort()` raises (keeping its status and
description); `Exception` covers bugs — logged with the traceback, answered with a generic 500.
(Flask looks for the most specific handler, so an `HTTPException` never reaches the generic one.)
"""),
    ("code", """
%%py --serve flask_fixed
import os

from flask import Flask, abort, request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import HTTPException

pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=10,
                      kwargs={"row_factory": dict_row})
app = Flask(__name__)
CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "BAD_REQUEST"}


@app.errorhandler(HTTPException)
def http_error(exc):
    code = CODES.get(exc.code, "HTTP_ERROR")
    return {"error": {"code": code, "message": exc.description}}, exc.code


@app.errorhandler(Exception)
def unexpected_error(exc):
    app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return {"error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}}, 500


@app.get("/api/users/<int:user_id>")
def get_user(user_id):
    with pool.connection() as conn:
        user = conn.execute("SELECT id, name, email FROM users WHERE id = %s", (user_id,)).fetchone()
    if not user:
        abort(404, description="User not found")
    return user


@app.get("/api/boom")
def boom():
    with pool.connection() as conn:
        return conn.execute("SELECT * FROM no_such_table").fetchone()


if __name__ == "__main__":
    app.run(host=os.environ["HOST"], port=int(os.environ["PORT"]), threaded=True)
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
api = course.url("flask_fixed")
for path in ["/api/users/1", "/api/users/9999", "/api/users/abc", "/api/boom"]:
    print(f"{path:<16}", show(httpx.get(api + path)))
"""),
    ("md", """
## Recap

- A single-file Django is `settings.configure()` + `django.setup()` + models, views and
  `urlpatterns` in one module; `managed = False` maps a model onto an existing table.
- `Model.objects.get` raises `DoesNotExist`, which DRF does not handle: a missing row becomes a
  500 HTML page that is not even logged with `DEBUG=False`. `get_object_or_404` makes it a 404.
- Production Django also needs JSON `handler404`/`handler500`, a DRF `EXCEPTION_HANDLER` for one
  envelope, `LOGGING` for request errors, and `CONN_MAX_AGE` to reuse connections.
- Flask's defaults are HTML too; `errorhandler(HTTPException)` and `errorhandler(Exception)` fix it.

Next: [03-asyncio.ipynb](03-asyncio.ipynb). Exercises:
[../../exercises/02-python/](../../exercises/02-python/).
"""),
    ("code", "%stop --all"),
]

# --------------------------------------------------------------------------------------
ASYNCIO = [
    ("md", """
# `asyncio.gather`: concurrent I/O, measured

**Goal:** run the seed's `fetch_user_and_posts` against a real slow service, measure sequential
against concurrent, explain the ~2× — and handle what `gather` does *not* do for you: failures,
timeouts and limits.
"""),
    ("code", """
%load_ext course
import asyncio, time
import httpx, course
"""),
    ("md", """
## 1. A real slow dependency

Every backend waits on something: a database, another service, an API. To make the waiting real
and controllable we start a tiny service whose `/api/slow?ms=N` answers after `N` milliseconds
(and with `status=503`, fails after them). `asyncio.sleep` does not hold a thread, so it serves
many requests at once.
"""),
    ("code", """
%%py --serve slow
import asyncio, os

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/api/slow")
async def slow(ms: int = 100, what: str = "", status: int = 200):
    await asyncio.sleep(ms / 1000)
    return JSONResponse({"what": what, "ms": ms}, status_code=status)


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ["HOST"], port=int(os.environ["PORT"]), log_level="warning")
"""),
    ("md", """
## 2. The seed's function, as it stands

```python
import asyncio

async def fetch_user_and_posts(user_id):
    user, posts = await asyncio.gather(
        db.fetch_user(user_id),
        db.fetch_user_posts(user_id)
    )
    return {'user': user, 'posts': posts}
```

It needs a `db` with two coroutines. Ours makes each a real network round trip to the slow service,
300 ms each — a stand-in for two queries or two downstream calls. One `httpx.AsyncClient` is shared
(it is a connection pool; creating one per call would defeat keep-alive).
"""),
    ("code", """
DELAY_MS = 300


class SlowDB:
    \"\"\"The seed's `db`: every call is an HTTP round trip that takes DELAY_MS.\"\"\"

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def _get(self, what: str, ms: int = DELAY_MS, status: int = 200) -> dict:
        r = await self.client.get("/api/slow", params={"ms": ms, "what": what, "status": status})
        r.raise_for_status()
        return r.json()

    async def fetch_user(self, user_id):
        return await self._get(f"user {user_id}")

    async def fetch_user_posts(self, user_id):
        return await self._get(f"posts of {user_id}")


client = httpx.AsyncClient(base_url=course.url("slow"), timeout=10)
db = SlowDB(client)


async def fetch_user_and_posts(user_id):
    user, posts = await asyncio.gather(
        db.fetch_user(user_id),
        db.fetch_user_posts(user_id)
    )
    return {'user': user, 'posts': posts}


async def fetch_user_and_posts_sequential(user_id):
    user = await db.fetch_user(user_id)
    posts = await db.fetch_user_posts(user_id)
    return {'user': user, 'posts': posts}
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print(await fetch_user_and_posts(1))
"""),
    ("md", """
## 3. Measure: sequential vs `gather`

Same two calls, awaited one after the other, then together. Five runs each, best time kept (the
first call also opens the connection; the minimum is the least noisy estimate on a busy machine):
"""),
    ("code", """
async def best_of(fn, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn(1)
        times.append(time.perf_counter() - start)
    return min(times)

await fetch_user_and_posts(1)                       # warm-up: open the connections
sequential = await best_of(fetch_user_and_posts_sequential)
concurrent = await best_of(fetch_user_and_posts)
ratio = sequential / concurrent
print(f"sequential {sequential * 1000:.0f} ms, gather {concurrent * 1000:.0f} ms, speed-up {ratio:.2f}x")
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
print("gather is about twice as fast:", 1.5 < ratio < 2.5)
print("sequential ≈ 2 × 300 ms:", 0.55 < sequential < 1.0)
"""),
    ("md", """
**Why 2×:** `await` on one call hands control back to the event loop, which — with `gather` —
has already sent the second request, so both waits overlap. The total becomes the *longest* call
(300 ms) instead of the *sum* (600 ms). With two equal calls, that's 2×; with N independent calls
it tends to N×, as long as the other side really serves them at once:
"""),
    ("code", """
async def fetch_many(ids):
    return await asyncio.gather(*(db.fetch_user(i) for i in ids))

for n in (1, 2, 5, 10):
    start = time.perf_counter()
    users = await fetch_many(range(n))
    print(f"{n:>2} users with gather: {(time.perf_counter() - start) * 1000:4.0f} ms   "
          f"(sequential would be ≈ {n * DELAY_MS} ms)")
"""),
    ("md", """
The speed-up only applies to **waiting**. `gather` runs coroutines on one thread: CPU work in them
does not overlap at all, and a blocking call (a synchronous driver, `time.sleep`, `requests.get`)
blocks *every* coroutine at once.

## 4. What `gather` does not do for you

### A failure doesn't cancel the other calls

When one awaitable fails, `gather` raises at once — but the others keep running in the background,
and their results, *and any errors they raise later*, are silently discarded. Python 3.11's
`asyncio.TaskGroup` cancels the siblings instead:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
finished = []

async def tracked(what, ms, status=200):
    result = await db._get(what, ms=ms, status=status)
    finished.append(what)
    return result

try:
    await asyncio.gather(tracked("user", 500), tracked("posts", 50, status=503))
except httpx.HTTPStatusError as exc:
    print("gather raised:", exc.response.status_code)
await asyncio.sleep(0.7)
print("gather    - finished after the failure:", finished)

finished.clear()
try:
    async with asyncio.TaskGroup() as tg:
        tg.create_task(tracked("user", 500))
        tg.create_task(tracked("posts", 50, status=503))
except* httpx.HTTPStatusError as group:
    print("TaskGroup raised:", [e.response.status_code for e in group.exceptions])
await asyncio.sleep(0.7)
print("TaskGroup - finished after the failure:", finished)
"""),
    ("md", """
If partial results are acceptable (show the user even if the posts service is down), ask for them
explicitly: `gather(..., return_exceptions=True)` returns exceptions in place of results.

### Nothing times out on its own

`gather` waits as long as its slowest call. Put a deadline on the whole operation with
`asyncio.timeout` (3.11+); on expiry, the pending calls are cancelled:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
async def fetch_with_deadline(seconds):
    async with asyncio.timeout(seconds):
        return await asyncio.gather(db._get("user", ms=2000), db._get("posts", ms=100))

start = time.perf_counter()
try:
    await fetch_with_deadline(0.5)
except TimeoutError:
    print("timed out; waited less than 1 s:", time.perf_counter() - start < 1.0)
"""),
    ("md", """
### Nothing limits how many calls run at once

`gather(*(fetch(i) for i in ids))` with 10 000 ids opens as many requests as the pool allows and
queues the rest *inside the client*, each holding memory and a timeout clock. Against a database
it means as many connections as the pool allows, competing with every other request of your
service. Bound it yourself with a semaphore:
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
in_flight = peak = 0

async def fetch_bounded(sem, user_id):
    global in_flight, peak
    async with sem:
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await db._get(f"user {user_id}", ms=50)
        finally:
            in_flight -= 1

sem = asyncio.Semaphore(5)
users = await asyncio.gather(*(fetch_bounded(sem, i) for i in range(40)))
print(len(users), "users fetched; at most", peak, "at once; in order:",
      [u["what"] for u in users[:3]])
"""),
    ("md", """
Note the last line: `gather` returns results **in the order of its arguments**, whatever order they
complete in. (Go's channel fan-out in the next section does not — one of its gaps.)
"""),
    ("code", """
await client.aclose()
%stop --all
"""),
    ("md", """
## Recap

- `asyncio.gather` overlaps *waiting*: two 300 ms calls take ~300 ms instead of ~600 ms (≈2×);
  N independent calls tend to N×. CPU work and blocking calls do not overlap.
- `gather` raises on the first failure but leaves the other calls running; `TaskGroup` cancels them;
  `return_exceptions=True` gives partial results.
- Add a deadline (`asyncio.timeout`) and a bound (`asyncio.Semaphore`) — `gather` has neither.
- Results come back in argument order.

Exercises: [../../exercises/02-python/](../../exercises/02-python/).
"""),
]

NOTEBOOKS = {
    "1": ("01-fastapi.ipynb", FASTAPI),
    "2": ("02-django-flask.ipynb", DJANGO_FLASK),
    "3": ("03-asyncio.ipynb", ASYNCIO),
}

if __name__ == "__main__":
    for key in sys.argv[1:] or NOTEBOOKS:
        name, cells = NOTEBOOKS[key]
        write(OUT / name, cells)
        print("wrote", OUT / name)
