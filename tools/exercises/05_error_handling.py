"""Exercises for section 05 (error handling). Run: .venv/bin/python tools/exercises/05_error_handling.py"""
from common import PARAMETERS, SETUP, exercise

# What a leaked stack trace looks like, in any of the course's languages.
STACK = r'r"at \S+ \(|\n\s+at |Traceback|File \"[^\"]+\", line \d+|goroutine \d+|\.java:\d+"'

# --------------------------------------------------------------------------------------
# 1. Express: the seed's error classes + a global error handler
# --------------------------------------------------------------------------------------
exercise("05-error-handling/01-express-error-handler.ipynb", {
    "id": "express-global-error-handler",
    "title": "Express: the seed's APIError classes answered by one global error handler",
    "section": "05-error-handling", "language": "node", "framework": "express",
    "checklist": ["error-handling", "logging"], "points": 6,
    "files": ["work/errors-app.js"],
}, [
    ("md", """
# Exercise — Express: one error handler for every failure

The routes below already throw the seed's errors: `NotFoundError` (404), `ValidationError` (422,
with `details`), a plain `Error` for a bug, and one `async` route whose promise rejects (Express 5
passes rejected promises to the error handler). Nothing answers them yet: finish the two
middleware functions at the end.

1. `notFound` (mounted after the routes): an unknown route becomes a `NotFoundError`.
2. `errorHandler(err, req, res, next)` answers every error with the envelope
   `{"error": {"code": "...", "message": "...", "details": {...}}}` (`details` only when the error
   has them):
   - an `APIError` (or subclass): its `status`, `code`, `message` and `details`;
   - malformed JSON (body-parser's error has `type === "entity.parse.failed"`): **400** `BAD_REQUEST`;
   - anything else is a bug: **500** `INTERNAL_ERROR` with a generic message — never the error's
     own message (it can name hosts and users) and never a stack trace;
   - 5xx errors are logged with pino at error level, with the error and the request path:
     `logger.error({ err, path: req.path }, err.message)` (pino keeps `err.stack`).

Run every cell; the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", """
%%node --save work/errors-app.js --serve items
import express from "express";
import pino from "pino";

const logger = pino(); // JSON lines on stdout

// ---- the seed's error classes (unchanged) ----
class APIError extends Error {
  constructor(message, status = 500, code = "INTERNAL_ERROR") {
    super(message);
    this.status = status;
    this.code = code;
  }
}

class NotFoundError extends APIError {
  constructor(message = "Resource not found") {
    super(message, 404, "NOT_FOUND");
  }
}

class ValidationError extends APIError {
  constructor(message = "Validation failed", details = {}) {
    super(message, 422, "VALIDATION_ERROR");
    this.details = details;
  }
}

// ---- the routes (given) ----
const items = new Map([
  [1, { id: 1, name: "kettle", price: 2500 }],
  [2, { id: 2, name: "teapot", price: 1800 }],
]);
let nextId = 3;

const app = express();
app.use(express.json());

app.get("/api/items/:id", (req, res) => {
  const item = items.get(Number(req.params.id));
  if (!item) throw new NotFoundError(`Item ${req.params.id} not found`);
  res.json(item);
});

// async: a rejected promise reaches the error handler (Express 5)
app.get("/api/items/:id/reviews", async (req, res) => {
  await new Promise((resolve) => setTimeout(resolve, 5)); // stands for a database call
  if (!items.has(Number(req.params.id))) throw new NotFoundError(`Item ${req.params.id} not found`);
  res.json([]);
});

app.post("/api/items", (req, res) => {
  const { name, price } = req.body ?? {};
  const details = {};
  if (typeof name !== "string" || name.trim() === "") details.name = "is required";
  if (!Number.isInteger(price) || price < 0) details.price = "must be a whole number of cents, 0 or more";
  if (Object.keys(details).length > 0) throw new ValidationError("Validation failed", details);
  const item = { id: nextId++, name: name.trim(), price };
  items.set(item.id, item);
  res.status(201).json(item);
});

app.get("/api/boom", () => {
  // a bug, not a client's mistake: its message must stay on the server
  throw new Error("connect ECONNREFUSED 10.0.3.7:5432 (user svc_payments)");
});

// ---- your part ----
/** Mounted after every route: an unknown route becomes a NotFoundError like any other. */
function notFound(req, res, next) {
  // ### BEGIN SOLUTION
  next(new NotFoundError(`Route ${req.method} ${req.path} not found`));
  // ### END SOLUTION
}

/** The global error handler: Express recognises it by its four parameters. */
function errorHandler(err, req, res, next) {
  // ### BEGIN SOLUTION
  if (res.headersSent) return next(err); // too late for a status: let Express close the connection
  let known = err instanceof APIError ? err : null;
  if (!known && err.type === "entity.parse.failed") known = new APIError("Malformed JSON body", 400, "BAD_REQUEST");
  const status = known ? known.status : 500;
  if (status >= 500) {
    logger.error({ err, method: req.method, path: req.path, status }, err.message);
  } else {
    logger.warn({ method: req.method, path: req.path, status, code: known.code }, err.message);
  }
  const error = known
    ? { code: known.code, message: known.message, ...(known.details && { details: known.details }) }
    : { code: "INTERNAL_ERROR", message: "Internal server error" };
  res.status(status).json({ error });
  // ### END SOLUTION
}

app.use(notFound);
app.use(errorHandler);
app.listen(Number(process.env.PORT), process.env.HOST);
"""),
    ("md", "Try it: a few requests that fail in different ways."),
    ("code", """
import httpx

base = course.url("items")
for method, path, kw in [("GET", "/api/items/1", {}), ("GET", "/api/items/99", {}),
                         ("POST", "/api/items", {"json": {"price": -1}}), ("GET", "/api/boom", {}),
                         ("GET", "/api/nope", {})]:
    r = httpx.request(method, base + path, **kw)
    print(f"{method:4} {path:14} → {r.status_code} {r.headers.get('content-type', '')[:24]:24} {r.text[:110]}")
"""),
    ("code", """
from course.grading import test
import json
import re

STACK = re.compile(""" + STACK + """)


def start(ctx):
    return ctx.serve("work/errors-app.js")


def error_of(r):
    ctype = r.headers.get("content-type", "")
    assert "json" in ctype, f"expected a JSON body, got {ctype or 'no content type'}"
    error = r.json().get("error") if isinstance(r.json(), dict) else None
    assert isinstance(error, dict), f'expected the envelope {{"error": {{"code", "message"}}}}, got {r.text[:160]}'
    return error


@test("an unknown item answers 404 NOT_FOUND in the envelope", points=1, checklist=["error-handling"],
      hint="an APIError answers res.status(err.status).json({ error: { code: err.code, message: err.message } })")
def unknown_item(ctx):
    start(ctx)
    r = ctx.get("/api/items/999")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    error = error_of(r)
    assert error.get("code") == "NOT_FOUND", f"expected error.code NOT_FOUND, got {error.get('code')!r}"
    assert "999" in str(error.get("message")), "expected the NotFoundError's own message"


@test("a ValidationError answers 422 with its details", points=1, checklist=["error-handling"],
      hint="copy err.details into the envelope when the error has them")
def validation_details(ctx):
    start(ctx)
    r = ctx.post("/api/items", json={"name": " ", "price": -1})
    assert r.status_code == 422, f"expected 422, got {r.status_code}"
    error = error_of(r)
    assert error.get("code") == "VALIDATION_ERROR", f"expected error.code VALIDATION_ERROR, got {error.get('code')!r}"
    details = error.get("details")
    assert isinstance(details, dict) and {"name", "price"} <= set(details), \\
        f"expected details for name and price, got {details!r}"


@test("an unexpected error answers a generic 500, without its message or stack", points=1,
      checklist=["error-handling"], hint="anything that is not an APIError: 500 INTERNAL_ERROR, 'Internal server error'")
def generic_500(ctx):
    start(ctx)
    r = ctx.get("/api/boom")
    assert r.status_code == 500, f"expected 500, got {r.status_code}"
    assert not STACK.search(r.text), "the response contains a stack trace"
    error = error_of(r)
    assert error.get("code") == "INTERNAL_ERROR", f"expected error.code INTERNAL_ERROR, got {error.get('code')!r}"
    assert "10.0.3.7" not in r.text and "svc_payments" not in r.text, \\
        "the response leaks the error's internal message (host and user)"

### BEGIN HIDDEN TESTS
@test("an async rejection and an unknown route both answer 404 in the envelope", points=1,
      checklist=["error-handling"], hint="notFound: next(new NotFoundError(...)) after all routes")
def async_and_unknown_route(ctx):
    start(ctx)
    r = ctx.get("/api/items/77/reviews")
    assert r.status_code == 404, f"async route: expected 404, got {r.status_code}"
    assert error_of(r).get("code") == "NOT_FOUND", "async route: expected error.code NOT_FOUND"
    r = ctx.get("/api/no-such-route")
    assert r.status_code == 404, f"unknown route: expected 404, got {r.status_code}"
    assert error_of(r).get("code") == "NOT_FOUND", "unknown route: expected error.code NOT_FOUND"


@test("malformed JSON answers 400 BAD_REQUEST and the server keeps serving", points=1,
      checklist=["error-handling"], hint="body-parser's error has err.type === 'entity.parse.failed'")
def malformed_json(ctx):
    start(ctx)
    r = ctx.post("/api/items", content="{bad", headers={"content-type": "application/json"})
    assert r.status_code == 400, f"expected 400, got {r.status_code}"
    assert not STACK.search(r.text), "the response contains a stack trace"
    assert error_of(r).get("code") == "BAD_REQUEST", "expected error.code BAD_REQUEST"
    assert ctx.get("/api/items/1").status_code == 200, "the server stopped answering after a bad request"


def has_stack(value):
    if isinstance(value, str):
        return bool(re.search(r"\\n\\s+at ", value))
    if isinstance(value, dict):
        return any(has_stack(v) for v in value.values())
    return False


@test("the 500 is logged as one JSON line at error level, with the path and the stack", points=1,
      checklist=["logging"], hint="logger.error({ err, path: req.path }, err.message)")
def logs_the_500(ctx):
    start(ctx)
    r = ctx.get("/api/boom")
    assert r.status_code == 500, f"expected 500, got {r.status_code}"
    is_error = lambda e: e.get("level") in (50, "error")
    records = ctx.log_records(until=lambda e: is_error(e) and "/api/boom" in json.dumps(e))
    entries = [e for e in records if is_error(e)]
    assert entries, "no JSON line at error level in the server's log"
    boom = [e for e in entries if "/api/boom" in json.dumps(e)]
    assert boom, "no error-level log line names the path /api/boom"
    assert any(has_stack(e) for e in boom), "the error-level line has no stack trace (log the error object: { err })"
### END HIDDEN TESTS
"""),
])

# --------------------------------------------------------------------------------------
# 2. FastAPI: the same envelope with exception handlers
# --------------------------------------------------------------------------------------
exercise("05-error-handling/02-fastapi-error-envelope.ipynb", {
    "id": "fastapi-error-envelope",
    "title": "FastAPI: the same error envelope from four exception handlers",
    "section": "05-error-handling", "language": "python", "framework": "fastapi",
    "checklist": ["error-handling", "request-validation"], "points": 5,
    "files": ["work/orders_api.py"],
}, [
    ("md", """
# Exercise — FastAPI: one envelope for every error

FastAPI answers errors in three shapes of its own — `{"detail": "Not Found"}`, a 422 whose
`detail` is a list, and a plain-text `Internal Server Error`. Make this orders API answer every
error in the course's envelope, `{"error": {"code", "message", "details"?}}`, by finishing the
four exception handlers:

1. `APIError` (and its subclasses `NotFoundError`, `ConflictError`): its `status`, `code`,
   `message` and `details`.
2. `RequestValidationError` (bad body, bad path parameter): **422** `VALIDATION_ERROR` with
   `details` a list of `{"field": ..., "message": ...}`, one per error; the field is the error's
   `loc` without its first part (`("body", "sku")` → `"sku"`, `("path", "order_id")` → `"order_id"`).
3. Starlette's `HTTPException` (what an unknown route or a wrong method raises): its status, code
   `NOT_FOUND` for 404, `METHOD_NOT_ALLOWED` for 405, `HTTP_ERROR` otherwise (keep `exc.headers`).
4. Any other `Exception` is a bug: **500** `INTERNAL_ERROR`, a generic message, and the traceback
   in the server's log (`log.exception(...)`), never in the response.

`envelope(...)` builds the response for you. Run every cell; the last one checks your server (some
checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", """
%%py --save work/orders_api.py --serve orders
import logging
import os

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
log = logging.getLogger("orders")


class APIError(Exception):
    def __init__(self, message: str, status: int = 500, code: str = "INTERNAL_ERROR", details=None):
        super().__init__(message)
        self.message, self.status, self.code, self.details = message, status, code, details


class NotFoundError(APIError):
    def __init__(self, message: str = "Resource not found"):
        super().__init__(message, 404, "NOT_FOUND")


class ConflictError(APIError):
    def __init__(self, message: str):
        super().__init__(message, 409, "CONFLICT")


def envelope(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


app = FastAPI()


# ---- your part: four exception handlers ----
@app.exception_handler(APIError)
async def api_error(request: Request, exc: APIError) -> JSONResponse:
    ### BEGIN SOLUTION
    return envelope(exc.status, exc.code, exc.message, exc.details)
    ### END SOLUTION


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    ### BEGIN SOLUTION
    details = [{"field": ".".join(str(part) for part in e["loc"][1:]) or str(e["loc"][0]), "message": e["msg"]}
               for e in exc.errors()]
    return envelope(422, "VALIDATION_ERROR", "Request validation failed", details)
    ### END SOLUTION


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    ### BEGIN SOLUTION
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    code = codes.get(exc.status_code, "HTTP_ERROR")
    message = f"No route for {request.method} {request.url.path}" if exc.status_code in codes else str(exc.detail)
    return envelope(exc.status_code, code, message, headers=getattr(exc, "headers", None))
    ### END SOLUTION


@app.exception_handler(Exception)
async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    ### BEGIN SOLUTION
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return envelope(500, "INTERNAL_ERROR", "Internal server error")
    ### END SOLUTION


# ---- the API (given) ----
class NewOrder(BaseModel):
    sku: str = Field(min_length=1, max_length=32)
    quantity: int = Field(gt=0, le=100)


ORDERS = {1: {"id": 1, "sku": "KETTLE-1", "quantity": 2}}
DISCONTINUED = {"TEAPOT-9"}


@app.get("/api/orders/{order_id}")
async def get_order(order_id: int):
    if order_id not in ORDERS:
        raise NotFoundError(f"Order {order_id} not found")
    return ORDERS[order_id]


@app.post("/api/orders", status_code=201)
async def create_order(order: NewOrder):
    if order.sku in DISCONTINUED:
        raise ConflictError(f"{order.sku} is discontinued")
    new = {"id": max(ORDERS) + 1, **order.model_dump()}
    ORDERS[new["id"]] = new
    return new


@app.get("/api/reports/daily")
async def daily_report():
    today = []  # a bug: no orders yet today
    return {"average_quantity": sum(o["quantity"] for o in today) / len(today)}


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")),
                log_level="warning")
"""),
    ("md", "Try it:"),
    ("code", """
import httpx

base = course.url("orders")
for method, path, kw in [("GET", "/api/orders/1", {}), ("GET", "/api/orders/9", {}),
                         ("POST", "/api/orders", {"json": {"sku": "", "quantity": 0}}),
                         ("GET", "/api/reports/daily", {}), ("GET", "/api/nope", {})]:
    r = httpx.request(method, base + path, **kw)
    print(f"{method:4} {path:18} → {r.status_code} {r.text[:120]}")
"""),
    ("code", """
from course.grading import test
import re

STACK = re.compile(""" + STACK + """)


def start(ctx):
    return ctx.serve("work/orders_api.py")


def error_of(r):
    ctype = r.headers.get("content-type", "")
    assert "json" in ctype, f"expected a JSON body, got {ctype or 'no content type'}: {r.text[:80]!r}"
    error = r.json().get("error") if isinstance(r.json(), dict) else None
    assert isinstance(error, dict), f'expected the envelope {{"error": {{"code", "message"}}}}, got {r.text[:160]}'
    return error


def fields(error):
    return {d.get("field") for d in error.get("details") or [] if isinstance(d, dict)}


@test("an unknown order answers 404 NOT_FOUND in the envelope", points=1, checklist=["error-handling"],
      hint="@app.exception_handler(APIError): envelope(exc.status, exc.code, exc.message, exc.details)")
def unknown_order(ctx):
    start(ctx)
    r = ctx.get("/api/orders/999")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    error = error_of(r)
    assert error.get("code") == "NOT_FOUND", f"expected error.code NOT_FOUND, got {error.get('code')!r}"
    assert "999" in str(error.get("message")), "expected the NotFoundError's own message"


@test("an invalid body answers 422 VALIDATION_ERROR with one detail per field", points=1,
      checklist=["request-validation"], hint='details: [{"field": ".".join(map(str, e["loc"][1:])), "message": e["msg"]} ...]')
def invalid_body(ctx):
    start(ctx)
    r = ctx.post("/api/orders", json={"sku": "", "quantity": 0})
    assert r.status_code == 422, f"expected 422, got {r.status_code}"
    error = error_of(r)
    assert error.get("code") == "VALIDATION_ERROR", f"expected error.code VALIDATION_ERROR, got {error.get('code')!r}"
    assert {"sku", "quantity"} <= fields(error), f"expected details for sku and quantity, got {sorted(map(str, fields(error)))}"


@test("a bug answers a generic 500 INTERNAL_ERROR without the traceback", points=1, checklist=["error-handling"],
      hint="@app.exception_handler(Exception): log.exception(...), then a generic envelope")
def generic_500(ctx):
    start(ctx)
    r = ctx.get("/api/reports/daily")
    assert r.status_code == 500, f"expected 500, got {r.status_code}"
    assert not STACK.search(r.text) and "ZeroDivision" not in r.text and "division by zero" not in r.text, \\
        "the response leaks the exception"
    assert error_of(r).get("code") == "INTERNAL_ERROR", "expected error.code INTERNAL_ERROR"

### BEGIN HIDDEN TESTS
@test("any APIError keeps its status and code; an unknown route is a 404 in the envelope", points=1,
      checklist=["error-handling"], hint="also handle starlette.exceptions.HTTPException (not only FastAPI's)")
def conflict_and_unknown_route(ctx):
    start(ctx)
    r = ctx.post("/api/orders", json={"sku": "TEAPOT-9", "quantity": 1})
    assert r.status_code == 409, f"a ConflictError: expected 409, got {r.status_code}"
    assert error_of(r).get("code") == "CONFLICT", "a ConflictError: expected error.code CONFLICT"
    r = ctx.get("/api/no-such-route")
    assert r.status_code == 404, f"unknown route: expected 404, got {r.status_code}"
    assert error_of(r).get("code") == "NOT_FOUND", "unknown route: expected error.code NOT_FOUND"


@test("a bad path parameter is a 422 naming it; a wrong method is a 405 in the envelope", points=1,
      checklist=["request-validation", "error-handling"])
def path_param_and_method(ctx):
    start(ctx)
    r = ctx.get("/api/orders/abc")
    assert r.status_code == 422, f"GET /api/orders/abc: expected 422, got {r.status_code}"
    assert "order_id" in fields(error_of(r)), "expected a detail for the field order_id"
    r = ctx.request("DELETE", "/api/orders/1")
    assert r.status_code == 405, f"DELETE /api/orders/1: expected 405, got {r.status_code}"
    assert error_of(r).get("code") == "METHOD_NOT_ALLOWED", "expected error.code METHOD_NOT_ALLOWED"
### END HIDDEN TESTS
"""),
])
