"""A naive Flask version of the Backend Patterns Lab service: every route of the
contract (docs/service-contract.md) works on a happy path, and nothing more.

Your task (see README.md): make it production-ready until `course check .` passes
all 11 items. Nothing here is production-grade on purpose: Flask's development
server, its HTML error pages and plain-text logs, no validation, a new database
connection per request, no security headers, CORS, rate limit, compression or
metrics, and a readiness probe that never looks at the database.
"""
import os
import time

import psycopg
from flask import Flask, abort, jsonify, request

DATABASE_URL = os.environ["DATABASE_URL"]

app = Flask(__name__)


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
    return jsonify(query("SELECT id, name, email FROM users ORDER BY id"))


@app.get("/api/users/<int:user_id>")
def get_user(user_id):
    rows = query("SELECT id, name, email FROM users WHERE id = %s", (user_id,))
    if not rows:
        abort(404)
    return rows[0]


@app.post("/api/users")
def create_user():
    body = request.get_json()  # (Hint: what if name is missing, or a number?)
    row = query("INSERT INTO users (name, email) VALUES (%s, %s) RETURNING id, name, email",
                (body.get("name"), body.get("email")))[0]
    return row, 201


@app.get("/api/slow")
def slow():
    ms = int(request.args.get("ms", 100))
    time.sleep(ms / 1000)
    return {"slept_ms": ms}


@app.get("/api/slow-query")
def slow_query():
    ms = int(request.args.get("ms", 100))
    query("SELECT pg_sleep(%s / 1000.0)", (ms,))
    return {"slept_ms": ms}


@app.get("/api/boom")
def boom():
    raise RuntimeError("boom: an unexpected failure")


if __name__ == "__main__":
    # The development server: fine on your laptop, not in production.
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", 5000)), threaded=True)
