"""The routes of the service contract (docs/service-contract.md)."""
from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from . import db
from .config import settings
from .errors import NotFound, ServiceUnavailable

log = logging.getLogger("app")
router = APIRouter()

INT4_MAX = 2**31 - 1  # users.id is a PostgreSQL integer
USER_COLUMNS = "id, name, email"
Milliseconds = Annotated[int, Query(ge=0, le=30_000, description="how long to wait")]


class NewUser(BaseModel):
    """POST /api/users. Strict types: 5 is not a name (no silent "5")."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=100)
    email: StrictStr = Field(max_length=254, pattern=r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


class User(BaseModel):
    id: int
    name: str | None
    email: str | None


# ------------------------------------------------------------------ health and metrics
@router.get("/health")
async def health() -> dict:
    """Liveness: the process serves requests. Never touches the database, so a
    database outage doesn't get healthy instances restarted."""
    return {"status": "ok"}


@router.get("/health/ready")
async def ready() -> JSONResponse:
    """Readiness: can we serve traffic? 503 while the database is unreachable."""
    try:
        async with asyncio.timeout(settings.ready_timeout_s):
            async with db.connection(timeout=settings.ready_timeout_s) as conn:
                await conn.execute("SELECT 1")
    except (ServiceUnavailable, TimeoutError) as exc:
        log.warning("readiness check failed: %s", exc.__cause__ or exc or "timeout")
        return JSONResponse({"status": "unavailable", "checks": {"database": "unavailable"}}, status_code=503)
    return JSONResponse({"status": "ok", "checks": {"database": "ok"}})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_PLAIN_0_0_4)


# ------------------------------------------------------------------ users
@router.get("/api/users", response_model=list[User])
async def list_users() -> list[dict]:
    return await db.fetch_all(f"SELECT {USER_COLUMNS} FROM users ORDER BY id")


@router.get("/api/users/{user_id}", response_model=User)
async def get_user(user_id: int) -> dict:
    row = None
    if abs(user_id) <= INT4_MAX:  # beyond it no row can match (and PostgreSQL would refuse the cast)
        row = await db.fetch_one(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s", (user_id,))
    if row is None:
        raise NotFound(f"User {user_id} not found")
    return row


@router.post("/api/users", status_code=201, response_model=User)
async def create_user(user: NewUser) -> JSONResponse:
    row = await db.fetch_one(
        f"INSERT INTO users (name, email) VALUES (%s, %s) RETURNING {USER_COLUMNS}", (user.name, user.email))
    return JSONResponse(row, status_code=201, headers={"Location": f"/api/users/{row['id']}"})


# ------------------------------------------------------------------ the contract's test routes
@router.get("/api/slow")
async def slow(ms: Milliseconds = 100) -> dict:
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@router.get("/api/slow-query")
async def slow_query(ms: Milliseconds = 100) -> dict:
    """Holds one pooled connection for ``ms`` milliseconds."""
    await db.fetch_one("SELECT pg_sleep(%s / 1000.0)", (ms,))
    return {"slept_ms": ms}


@router.get("/api/boom")
async def boom() -> None:
    raise RuntimeError("boom: an unexpected failure")
