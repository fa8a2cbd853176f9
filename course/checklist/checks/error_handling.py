"""error-handling: failures answer with the right status and a JSON error body.

Sends an unknown route, a route that throws and a malformed JSON body, then checks
the process survived. Framework defaults fail here in telling ways: Express and Flask
answer HTML (Express with a stack trace outside production), Gin's Recovery an empty
500, Go's net/http drops the connection on a panic. A body in the course's envelope
must carry the contract's code for its status (``course/error_codes.yaml``: 404
NOT_FOUND, 500 INTERNAL_ERROR, 400 BAD_REQUEST) and, if it has ``details``, a list of
``{field, message}``.
"""
from __future__ import annotations

import re
import uuid

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run
from course.contract import envelope_problems

ITEM_ID = "error-handling"

# Stack frames of Node, Python, Go and Java, and paths that only appear in traces.
STACK_TRACE = re.compile(
    r"\bat \S+ \(|\bat (?:file://)?[/\w.<>$\\-]+:\d+:\d+|Traceback \(most recent call last\)|"
    r"goroutine \d+|"
    r"\.java:\d+\)|node_modules|File \".+\", line \d+|\.go:\d+"
)


def check(target: Target) -> Result:
    """Probe 404, 500 and 400 answers; see the module docstring."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    unknown = p.get(f"/api/no-such-route-{uuid.uuid4().hex[:12]}")
    _judge(p, unknown, 404, "an unknown route")
    boom = p.get("/api/boom")
    _judge(p, boom, 500, "an unhandled exception")
    malformed = p.request("POST", "/api/users", content=b"{bad",
                          headers={"Content-Type": "application/json"})
    _judge(p, malformed, 400, "malformed JSON")

    alive = p.target.proc.poll() is None
    health = p.get("/health", timeout=2.0) if alive else None
    p.rule(
        "process survives errors",
        alive and health is not None and health.answered,
        "the process exited after these errors" if not alive
        else f"GET /health {health.outcome()} after the errors; the process must keep serving",
        exchange=health or boom,
    )


def _judge(p: Probe, ex: Exchange, expected: int, what: str) -> None:
    """Three rules per request: status, JSON envelope, no stack trace."""
    who = ex.describe() if ex.body is None else f"{ex.describe()} with {what}"
    name = f"{what} → {expected}"
    if not ex.answered:
        # The same three rules as an answer gets, so a partial score does not depend on
        # whether a slow app answered in time: no answer leaks no stack trace.
        p.rule(name, False, f"{who} {ex.outcome()}; {what} must answer {expected}", exchange=ex)
        p.rule(f"{what}: JSON error body", False, f"{who} sent no body", exchange=ex)
        p.rule(f"{what}: no stack trace", True, "", exchange=ex)
        return
    p.rule(name, ex.status == expected,
           f"{who} answered {ex.status}; {what} must answer {expected}", exchange=ex)
    p.rule(f"{what}: JSON error body", *_envelope_verdict(ex, who), exchange=ex)
    p.rule(f"{what}: no stack trace", not STACK_TRACE.search(ex.text),
           f"{who} leaks a stack trace ({_first_match(ex.text)!r}); log it, never send it",
           exchange=ex)


def _envelope_verdict(ex: Exchange, who: str) -> tuple[bool, str]:
    if not ex.is_json_type:
        kind = ex.media_type or "no Content-Type"
        return False, f"{who} answered {kind}; errors must be JSON"
    body = ex.json(default=None)
    if not is_error_envelope(body, ex.status):
        return False, (f"{who} answered JSON without an error envelope; expected "
                       '{"error": {"code", "message"}} or RFC 9457 problem details')
    problems = envelope_problems(body, ex.status)  # the course envelope: the contract's codes
    if problems:
        return False, f"{who} answered the envelope, but " + "; ".join(problems)
    return True, ""


def is_error_envelope(body: object, status: int | None) -> bool:
    """The course envelope ``{"error": {"code", "message"}}``, or RFC 9457 problem
    details with a title/detail and (if present) a matching status."""
    if not isinstance(body, dict):
        return False
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
        return True
    has_text = isinstance(body.get("title"), str) or isinstance(body.get("detail"), str)
    problem_status = body.get("status")
    status_ok = problem_status is None or problem_status == status
    return has_text and status_ok and ("status" in body or "type" in body)


def _first_match(text: str) -> str:
    match = STACK_TRACE.search(text)
    if not match:
        return ""
    start = max(0, match.start() - 20)
    return text[start:match.end() + 40]
