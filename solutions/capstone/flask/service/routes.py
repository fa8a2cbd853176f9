"""The routes of the service contract (docs/service-contract.md), as two blueprints:
``ops`` (health, readiness, metrics: never rate limited) and ``api`` (/api/*)."""
from __future__ import annotations

import logging
import re
import time

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .errors import InvalidParameter, NotFound, ServiceUnavailable

log = logging.getLogger("service")
ops = Blueprint("ops", __name__)
api = Blueprint("api", __name__, url_prefix="/api")

INT4_MAX = 2**31 - 1  # users.id is a PostgreSQL integer
USER_COLUMNS = "id, name, email"
INTEGER = re.compile(r"^-?\d{1,18}$")


class NewUser(BaseModel):
    """POST /api/users. Strict types: 5 is not a name (no silent "5")."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=100)
    email: StrictStr = Field(max_length=254, pattern=r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


def db():
    return current_app.extensions["db"]


def milliseconds_arg() -> int:
    raw = request.args.get("ms", "100")
    if not INTEGER.match(raw) or not 0 <= int(raw) <= 30_000:
        raise InvalidParameter("ms must be an integer between 0 and 30000")
    return int(raw)


# ------------------------------------------------------------------ health and metrics
@ops.get("/health")
def health():
    """Liveness: never touches the database, so a database outage doesn't get
    healthy instances restarted."""
    return {"status": "ok"}


@ops.get("/health/ready")
def ready():
    """Readiness: 503 while the database is unreachable."""
    try:
        with db().connection(timeout=current_app.config["READY_TIMEOUT_S"]) as conn:
            conn.execute("SELECT 1")
    except ServiceUnavailable as exc:
        log.warning("readiness check failed: %s", exc.__cause__ or exc)
        return {"status": "unavailable", "checks": {"database": "unavailable"}}, 503
    return {"status": "ok", "checks": {"database": "ok"}}


@ops.get("/metrics")
def metrics():
    return Response(generate_latest(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


# ------------------------------------------------------------------ users
@api.get("/users")
def list_users():
    return jsonify(db().fetch_all(f"SELECT {USER_COLUMNS} FROM users ORDER BY id"))


@api.get("/users/<user_id>")
def get_user(user_id: str):
    if not INTEGER.match(user_id):
        raise InvalidParameter("id must be an integer")
    row = None
    if abs(int(user_id)) <= INT4_MAX:  # beyond it no row can match
        row = db().fetch_one(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s", (int(user_id),))
    if row is None:
        raise NotFound(f"User {user_id} not found")
    return row


@api.post("/users")
def create_user():
    # Malformed JSON → 400; no JSON body at all → every field is reported missing (422).
    payload = request.get_json() if request.is_json else {}
    user = NewUser.model_validate(payload)  # invalid → 422 (errors.py)
    row = db().fetch_one(
        f"INSERT INTO users (name, email) VALUES (%s, %s) RETURNING {USER_COLUMNS}", (user.name, user.email))
    return row, 201, {"Location": f"/api/users/{row['id']}"}


# ------------------------------------------------------------------ the contract's test routes
@api.get("/slow")
def slow():
    ms = milliseconds_arg()
    time.sleep(ms / 1000)
    return {"slept_ms": ms}


@api.get("/slow-query")
def slow_query():
    """Holds one pooled connection for ``ms`` milliseconds."""
    ms = milliseconds_arg()
    db().fetch_one("SELECT pg_sleep(%s / 1000.0)", (ms,))
    return {"slept_ms": ms}


@api.get("/boom")
def boom():
    raise RuntimeError("boom: an unexpected failure")
