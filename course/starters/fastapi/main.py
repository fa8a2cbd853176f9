"""A naive FastAPI version of the Backend Patterns Lab service: every route of the
contract (docs/service-contract.md) works on a happy path, and nothing more.

Your task (see README.md): make it production-ready until `course check .` passes
all 11 items. Nothing here is production-grade on purpose: uvicorn's plain-text
logs, FastAPI's default {"detail": ...} errors, loose validation, a new database
connection per request, no security headers, CORS, rate limit, compression or
metrics, and a readiness probe that never looks at the database.
"""
import os
import time

import psycopg
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DATABASE_URL = os.environ["DATABASE_URL"]

app = FastAPI()


class NewUser(BaseModel):
    name: str
    email: str  # any string will do... even "not-an-email"


def query(sql, params=()):
    # A brand-new connection for every request. (Hint: this is slow and unbounded:
    # how many connections does a traffic spike open?)
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/health/ready")
def ready():
    return {"status": "ok"}  # (Hint: ready for what? It never asks the database.)


@app.get("/api/users")
def list_users():
    return query("SELECT id, name, email FROM users ORDER BY id")


@app.get("/api/users/{user_id}")
def get_user(user_id: int):
    rows = query("SELECT id, name, email FROM users WHERE id = %s", (user_id,))
    if not rows:
        raise HTTPException(status_code=404, detail="not found")
    return rows[0]


@app.post("/api/users", status_code=201)
def create_user(user: NewUser):
    return query("INSERT INTO users (name, email) VALUES (%s, %s) RETURNING id, name, email",
                 (user.name, user.email))[0]


@app.get("/api/slow")
def slow(ms: int = 100):
    time.sleep(ms / 1000)
    return {"slept_ms": ms}


@app.get("/api/slow-query")
def slow_query(ms: int = 100):
    query("SELECT pg_sleep(%s / 1000.0)", (ms,))
    return {"slept_ms": ms}


@app.get("/api/boom")
def boom():
    raise RuntimeError("boom: an unexpected failure")
