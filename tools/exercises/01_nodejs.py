"""Exercises for section 01 (Node.js). Run: .venv/bin/python tools/exercises/01_nodejs.py"""
from common import PARAMETERS, SETUP_DB, exercise

exercise("01-nodejs/01-express-user-lookup.ipynb", {
    "id": "node-express-user-lookup",
    "title": "Express: look up one user, with proper 404 and 400 answers",
    "section": "01-nodejs", "language": "node", "framework": "express",
    "checklist": ["error-handling", "request-validation"], "points": 3,
    "files": ["work/server.js"],
}, [
    ("md", """
# Exercise — Express: look up one user

The seed's Express route answers `{ error: 'Not found' }` for a missing user and lets a
non-numeric id reach the database. Finish the handler so that `GET /api/users/:id`:

1. answers **200** with the user (`id`, `name`, `email`) as JSON;
2. answers **404** with the course's error envelope
   `{"error": {"code": "NOT_FOUND", "message": "..."}}` for an unknown id;
3. answers **400** with code `BAD_REQUEST` when the id is not an integer — without a query.

Run every cell, then the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP_DB,
    ("code", """
%%node --save work/server.js --serve users
import express from "express";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const app = express();

app.get("/api/users/:id", async (req, res) => {
  // ### BEGIN SOLUTION
  const id = Number(req.params.id);
  if (!Number.isInteger(id)) {
    return res.status(400).json({ error: { code: "BAD_REQUEST", message: "id must be an integer" } });
  }
  const { rows } = await pool.query("SELECT id, name, email FROM users WHERE id = $1", [id]);
  if (rows.length === 0) {
    return res.status(404).json({ error: { code: "NOT_FOUND", message: `user ${id} not found` } });
  }
  res.json(rows[0]);
  // ### END SOLUTION
});

app.listen(Number(process.env.PORT), "127.0.0.1");
"""),
    ("md", "Try it: the server runs in the background; this cell asks it for user 1."),
    ("code", """
import httpx

r = httpx.get(course.url("users") + "/api/users/1")
print(r.status_code, r.text[:200])
"""),
    ("code", """
from course.grading import test
import course.db


def start(ctx):
    return ctx.serve("work/server.js", env={"DATABASE_URL": course.db.url()})


@test("GET /api/users/1 answers 200 with user 1", points=1)
def finds_a_user(ctx):
    start(ctx)
    r = ctx.get("/api/users/1")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    assert r.json().get("id") == 1, f"expected the user with id 1, got {r.text[:120]}"


@test("an unknown id answers 404 with the error envelope", points=1, checklist=["error-handling"],
      hint='res.status(404).json({ error: { code: "NOT_FOUND", message: ... } })')
def unknown_user(ctx):
    start(ctx)
    r = ctx.get("/api/users/987654")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    assert "json" in r.headers.get("content-type", ""), "the 404 must be JSON"
    assert r.json().get("error", {}).get("code") == "NOT_FOUND", "expected error.code NOT_FOUND"

### BEGIN HIDDEN TESTS
@test("a non-integer id answers 400 BAD_REQUEST", points=1, checklist=["request-validation"],
      hint="check Number.isInteger(Number(req.params.id)) before querying")
def rejects_a_bad_id(ctx):
    start(ctx)
    r = ctx.get("/api/users/abc")
    assert r.status_code == 400, f"expected 400, got {r.status_code}"
    assert r.json().get("error", {}).get("code") == "BAD_REQUEST", "expected error.code BAD_REQUEST"
### END HIDDEN TESTS
"""),
])
