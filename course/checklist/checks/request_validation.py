"""request-validation: bad bodies are refused with 400/422 naming every bad field.

Sends ``{}`` (both fields missing), wrong types (``name`` a number, ``email`` not an
address) and a valid body with a fresh email; and asks for ``/api/users/abc``, a malformed
path parameter: the contract's 400 ``BAD_REQUEST``, found before any query (not a 404 for
"no such user", nor a 500 from the database refusing ``'abc'`` as an integer). A framework's
own refusal (FastAPI's 422 ``{"detail": [...]}``) passes here: its shape is error-handling's.
Validators that stop at the first error (Joi's default ``abortEarly``) or frameworks that
coerce ``5`` into ``"5"`` fail the "names every field" rule; handlers with no validation at
all answer 500 or 201. An answer in the course's envelope must use the contract's code for
its status (422 VALIDATION_ERROR, 400 BAD_REQUEST) and a ``details`` list of ``{field, message}``.
"""
from __future__ import annotations

import re
import uuid

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run, walk_json
from course.contract import envelope_problems, is_course_envelope

ITEM_ID = "request-validation"
FIELDS = ("name", "email")


def check(target: Target) -> Result:
    """POST invalid and valid users; see the module docstring."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    empty = p.request("POST", "/api/users", json={})
    _judge_invalid(p, empty, "an empty body")
    wrong = p.request("POST", "/api/users", json={"name": 5, "email": "not-an-email"})
    _judge_invalid(p, wrong, "wrong types")

    malformed = p.get("/api/users/abc")
    body = malformed.json(default=None) if malformed.is_json_type else None
    # The course envelope must say 400 BAD_REQUEST; a framework's own answer (FastAPI's 422
    # {"detail": [...]}) still refused the input, and its shape is error-handling's to judge.
    allowed = (400,) if is_course_envelope(body) else (400, 422)
    problems = envelope_problems(body, malformed.status) if malformed.status in allowed else []
    p.rule("a malformed id → 400", malformed.answered and malformed.status in allowed and not problems,
           f"{malformed.describe()} answered {malformed.status} in the envelope, but " + "; ".join(problems)
           if problems else f"{malformed.describe()} {malformed.outcome()}; a malformed id must answer 400 "
           "BAD_REQUEST (validate the path parameter before the query)", exchange=malformed)

    valid_body = {"name": "Ada Probe", "email": f"probe-{uuid.uuid4().hex[:12]}@example.com"}
    valid = p.request("POST", "/api/users", json=valid_body)
    p.rule("a valid body is accepted (2xx)", valid.answered and 200 <= valid.status < 300,
           f"{valid.describe()} with a valid body {valid.outcome()}; it must be accepted "
           "(201 Created)", exchange=valid)


def _judge_invalid(p: Probe, ex: Exchange, what: str) -> None:
    status_ok = ex.answered and ex.status in (400, 422)
    body = ex.json(default=None) if ex.is_json_type else None
    problems = envelope_problems(body, ex.status) if status_ok else []
    p.rule(f"{what} → 400/422", status_ok and not problems,
           f"{ex.describe()} with {what} answered {ex.status} in the envelope, but " + "; ".join(problems)
           if problems else f"{ex.describe()} with {what} {ex.outcome()}; invalid input must answer 400 or 422",
           exchange=ex)
    if body is None:
        p.rule(f"{what}: each bad field named", False,
               f"{ex.describe()} with {what} {ex.outcome()}; the error must be JSON naming "
               f"{' and '.join(FIELDS)}", exchange=ex)
        return
    unnamed = [f for f in FIELDS if not names_field(body, f)]
    p.rule(f"{what}: each bad field named", not unnamed,
           f"{ex.describe()} with {what} does not name {' or '.join(unnamed)} in its error body; "
           "report every invalid field (a details list), not just the first", exchange=ex)


def names_field(body: object, field: str) -> bool:
    """Whether the field appears as a key, a path element (``loc: ["body", "email"]``)
    or a word in a message anywhere in the error body — but not inside an echoed copy
    of the input (pydantic's ``input``), which would name it by accident."""
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(field)}(?![A-Za-z0-9_])", re.IGNORECASE)
    for path, value in walk_json(body):
        if path and path[-1].lower() == field and not _echoed(path[:-1]):
            return True
        if isinstance(value, str) and word.search(value) and not _echoed(path):
            return True
    return False


def _echoed(path: tuple[str, ...]) -> bool:
    return any(part.lower() in {"input", "received"} for part in path)
