"""security-headers: browser defences on every response, errors included.

Looks at a 200 (GET /api/users/1), a 404 and the 500 from /api/boom — headers added
by a middleware registered after the routes, or skipped by the error handler, are
missing exactly on errors. Follows the OWASP Secure Headers Project and helmet 8's
defaults. HSTS is not checked: it only means something over HTTPS (RFC 6797).
"""
from __future__ import annotations

import re
import uuid
from typing import Callable

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run

ITEM_ID = "security-headers"
VERSIONED = re.compile(r"\d+\.\d+|/\s*v?\d")


def check(target: Target) -> Result:
    """Inspect headers on a 200, a 404 and a 500."""
    return run(target, ITEM_ID, _probe)


def _frame_protection(ex: Exchange) -> bool:
    xfo = (ex.header("x-frame-options") or "").strip().upper()
    csp = (ex.header("content-security-policy") or "").lower()
    return xfo in ("DENY", "SAMEORIGIN") or "frame-ancestors" in csp


# (rule name, header whose value to quote, passes?, what failing responses do: {s} is the
# verb's "s" when only one response fails)
RULES: list[tuple[str, str | None, Callable[[Exchange], bool], str]] = [
    ("X-Content-Type-Options: nosniff", None,
     lambda ex: (ex.header("x-content-type-options") or "").strip().lower() == "nosniff",
     "lack{s} X-Content-Type-Options: nosniff"),
    ("frame protection (X-Frame-Options or CSP frame-ancestors)", None, _frame_protection,
     "lack{s} X-Frame-Options: DENY/SAMEORIGIN and CSP frame-ancestors"),
    ("Content-Security-Policy present", None, lambda ex: bool(ex.header("content-security-policy")),
     "lack{s} Content-Security-Policy"),
    ("Referrer-Policy present", None, lambda ex: bool(ex.header("referrer-policy")),
     "lack{s} Referrer-Policy"),
    ("no X-Powered-By", "X-Powered-By", lambda ex: ex.header("x-powered-by") is None,
     "send{s} X-Powered-By"),
    ("no versioned Server header", "Server", lambda ex: not VERSIONED.search(ex.header("server") or ""),
     "send{s} a versioned Server header"),
    ("X-XSS-Protection absent or 0", "X-XSS-Protection",
     lambda ex: (ex.header("x-xss-protection") or "0").strip() == "0",
     "send{s} X-XSS-Protection other than 0 (the old XSS auditor caused leaks; disable it)"),
]


def _probe(p: Probe) -> None:
    responses = [p.get("/api/users/1"), p.get(f"/api/no-such-route-{uuid.uuid4().hex[:12]}"),
                 p.get("/api/boom")]
    answered = [ex for ex in responses if ex.answered]
    for ex in responses:
        if not ex.answered:
            p.rule(f"{ex.describe()} answers", False, f"{ex.describe()} {ex.outcome()}", exchange=ex)
    if not answered:
        return
    for name, quoted, passes, problem in RULES:
        failing = [ex for ex in answered if not passes(ex)]
        detail = ""
        if failing:
            value = f" ({quoted}: {failing[0].header(quoted)})" if quoted else ""
            does = problem.format(s="s" if len(failing) == 1 else "")
            detail = f"{_which(failing, answered)} {does}{value}"
        p.rule(name, not failing, detail, exchange=failing[0] if failing else None)


def _which(failing: list[Exchange], answered: list[Exchange]) -> str:
    """"all responses (200, 404, 500)" or "the 404 (GET /api/x) and 500 (GET /api/boom) responses"."""
    if len(failing) == len(answered) > 1:
        return f"all responses ({', '.join(str(ex.status) for ex in failing)})"
    parts = [f"{ex.status} ({ex.describe()})" for ex in failing]
    return f"the {' and '.join(parts)} response{'s' if len(parts) > 1 else ''}"
