"""Render a :class:`~course.checklist.engine.Report` for a terminal or as JSON.

The terminal view is for a learner fixing their app: one line per item with a
mark, the reason, and for every failure the ``curl`` line that reproduces it —
the fastest path from "✗" to a fix. ``--verbose`` adds the request and response
that decided each failure.
"""
from __future__ import annotations

import json
import os
import sys
import textwrap
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .engine import Report

MARKS = {"pass": "✓", "fail": "✗", "error": "!", "skip": "-"}
ASCII_MARKS = {"pass": "v", "fail": "x", "error": "!", "skip": "-"}
COLORS = {"pass": "32", "fail": "31", "error": "33", "skip": "90"}


def render_json(report: "Report") -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def _supports_unicode(stream: TextIO) -> bool:
    try:
        "✓✗—".encode(getattr(stream, "encoding", None) or "ascii")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _use_color(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def _fmt_score(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def render_text(report: "Report", *, verbose: bool = False, stream: TextIO | None = None,
                color: bool | None = None, unicode: bool | None = None) -> str:
    """The table: mark, id, score, duration, reason; curl line under each failure."""
    stream = stream or sys.stdout
    color = _use_color(stream) if color is None else color
    unicode = _supports_unicode(stream) if unicode is None else unicode
    marks = MARKS if unicode else ASCII_MARKS

    def paint(text: str, status: str) -> str:
        return f"\x1b[{COLORS[status]}m{text}\x1b[0m" if color else text

    width = max([len(r.id) for r in report.items] + [10])
    dash = "—" if unicode else "-"
    lines = [f"course check {dash} {report.app}", ""]
    if report.message:
        lines.append(paint("The app could not be checked:", "error"))
        lines.extend(("  " + line).rstrip() for line in report.message.splitlines())
        lines.append("")
    if report.message and all(r.status == "skip" for r in report.items):
        lines.append(f"  {marks['skip']} not checked: {', '.join(r.id for r in report.items)}")
        lines.extend(["", _summary(report, dash)])
        return "\n".join(lines)
    for r in report.items:
        score = f"{_fmt_score(r.score)}/{_fmt_score(r.max_score)}"
        head = f"  {paint(marks[r.status], r.status)} {r.id:<{width}}  {score:>5}  {r.duration_s:5.1f}s  "
        msg_lines = (r.message or r.status).splitlines() or [""]
        room = max(40, 100 - len(head))
        if r.status == "pass" and not verbose:  # a pass needs no explanation: keep it to one line
            first = msg_lines[0]
            msg_lines = [first if len(first) <= room else first[:room - 1].rstrip() + ("…" if unicode else "...")]
        wrapped = textwrap.wrap(msg_lines[0], width=room) or [""]
        lines.append(head + wrapped[0])
        indent = " " * (6 + width)
        for extra in wrapped[1:] + msg_lines[1:]:
            lines.append(indent + "  " + extra)
        if r.status in ("fail", "error"):
            curl = (r.evidence or {}).get("curl")
            if curl:
                lines.append(indent + "  $ " + curl)
            if verbose:
                lines.extend(indent + "  " + line for line in _evidence_lines(r.evidence))
    lines.append("")
    lines.append(_summary(report, dash))
    return "\n".join(lines)


def _summary(report: "Report", dash: str) -> str:
    counts: dict[str, int] = {}
    for r in report.items:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = [f"{counts[s]} {word}" for s, word in
             (("pass", "passed"), ("fail", "failed"), ("error", "errors"), ("skip", "skipped")) if counts.get(s)]
    total = sum(r.duration_s for r in report.items)
    return (f"{report.status.upper()} {dash} score {_fmt_score(report.score)}/{_fmt_score(report.max_score)}"
            f" ({', '.join(parts) or 'no items'}) in {report.duration_s:.1f} s"
            + (f"; checks took {total:.1f} s summed" if total else ""))


def _evidence_lines(evidence: dict[str, Any] | None) -> list[str]:
    if not evidence:
        return []
    out: list[str] = []
    req = evidence.get("request") or {}
    resp = evidence.get("response") or {}
    if req:
        out.append(f"> {req.get('method', '')} {req.get('url', req.get('path', ''))}".rstrip())
        for k, v in (req.get("headers") or {}).items():
            out.append(f"> {k}: {v}")
    if resp:
        out.append(f"< {resp.get('status', '')}")
        for k, v in (resp.get("headers") or {}).items():
            out.append(f"< {k}: {v}")
        body = resp.get("body")
        if body:
            text = body if isinstance(body, str) else json.dumps(body)
            out.extend("< " + line for line in text[:600].splitlines())
    notes = evidence.get("notes")
    if notes:
        text = notes if isinstance(notes, str) else json.dumps(notes, indent=1)
        out.extend("# " + line for line in text.splitlines()[:20])
    return out
