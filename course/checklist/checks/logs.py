"""logging: structured JSON lines on stdout, an access line per request, errors at
error level, and no secrets.

Named ``logs`` so it doesn't shadow the standard library's ``logging``.

The check runs while other checks hit the app, so it judges *all* stdout lines since
its own start (they are all the app's) but looks for access lines of its own
requests: a 404 on a path nobody else uses, plus a 200 and the 500 from /api/boom. It
sends an ``Authorization: Bearer <random>`` header whose value must never be logged
(pino-http logs every request header unless told to redact).

Loggers name things differently, so keys are normalised: pino ``level:30,time,msg``
with ``req.method``/``res.statusCode``/``responseTime``; slog ``time/level/msg``;
Winston ``level/message``; ECS ``@timestamp``/``log.level``/``http.response.status_code``;
python-json-logger ``asctime/levelname/message``.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run, truncate

ITEM_ID = "logging"
FLUSH_WAIT_S = 3.0  # how long to wait for the app to write its lines

LEVEL_KEYS = {"level", "levelname", "log.level", "severity", "lvl", "loglevel", "log_level", "level_name"}
TIME_KEYS = {"time", "timestamp", "@timestamp", "ts", "asctime", "datetime", "date", "t", "@t", "created"}
MESSAGE_KEYS = {"msg", "message", "event", "@message", "@m", "@mt", "text"}
ERROR_LEVELS = {"error", "err", "fatal", "critical", "crit", "alert", "emergency", "emerg", "severe", "panic"}
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

METHOD_KEYS = {"method", "httpmethod", "requestmethod", "verb"}
PATH_KEYS = {"url", "path", "uri", "originalurl", "requesturi", "pathname", "urlpath",
             "requestpath", "route", "target", "original", "full"}
STATUS_KEYS = {"status", "statuscode", "httpstatus", "responsestatus", "httpstatuscode", "statuscodes"}
DURATION_HINTS = ("duration", "latency", "elapsed", "responsetime", "took", "timetaken")
DURATION_STRING = re.compile(r"^\d+(\.\d+)?\s*(ns|µs|us|ms|s)?$")
REQUEST_ID_KEYS = {"reqid", "requestid", "xrequestid", "correlationid", "traceid"}
REQUEST_LINE = re.compile(r"\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/\S*)")


def check(target: Target) -> Result:
    """Send 200/404/500 requests and judge the stdout lines written meanwhile."""
    return run(target, ITEM_ID, _probe)


@dataclasses.dataclass
class LogLine:
    number: int  # 1-based, counted from the check's offset
    raw: str
    data: dict[str, Any] | None  # None when the line isn't a JSON object
    flat: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def level(self) -> Any:
        return _first(self.flat, LEVEL_KEYS)

    @property
    def is_error_level(self) -> bool:
        level = self.level
        if isinstance(level, (int, float)) and not isinstance(level, bool):
            return level >= 50  # pino/bunyan: 50 error, 60 fatal
        return isinstance(level, str) and level.strip().lower() in ERROR_LEVELS

    def missing_basics(self) -> list[str]:
        missing = []
        if self.level is None:
            missing.append("a level")
        if _first(self.flat, TIME_KEYS) is None:
            missing.append("a time")
        if _first(self.flat, MESSAGE_KEYS) is None:
            missing.append("a message")
        return missing

    def access(self) -> "Access":
        """method/path/status/duration found anywhere in this (nested) object."""
        found = Access()
        for key, value in self.flat.items():
            last = _norm(key.rsplit(".", 1)[-1])
            if last in METHOD_KEYS and isinstance(value, str) and value.upper() in HTTP_METHODS:
                found.methods.add(value.upper())
            elif last in PATH_KEYS and isinstance(value, str) and value.startswith(("/", "http")):
                found.paths.add(urlsplit(value).path or "/")
            elif last in STATUS_KEYS and _as_status(value) is not None:
                found.statuses.add(_as_status(value))
            elif any(h in last for h in DURATION_HINTS) and _is_duration(value):
                found.duration = True
            elif isinstance(value, str) and (match := REQUEST_LINE.search(value)):
                found.methods.add(match.group(1))  # "GET /api/users HTTP/1.1" style
                found.paths.add(urlsplit(match.group(2)).path)
        return found

    @property
    def request_id(self) -> str | None:
        """Fastify/pino-http ``reqId``/``req.id``, ``request_id``, ``trace_id``..."""
        for key, value in self.flat.items():
            if (_norm(key).replace(".", "") in REQUEST_ID_KEYS and isinstance(value, (str, int))
                    and not isinstance(value, bool)):
                return str(value)
        return None


@dataclasses.dataclass
class Access:
    """What a line (or a request's lines together) says about one request."""

    methods: set[str] = dataclasses.field(default_factory=set)
    paths: set[str] = dataclasses.field(default_factory=set)
    statuses: set[int] = dataclasses.field(default_factory=set)
    duration: bool = False

    def merge(self, other: "Access") -> "Access":
        return Access(self.methods | other.methods, self.paths | other.paths,
                      self.statuses | other.statuses, self.duration or other.duration)

    def missing(self) -> list[str]:
        return [name for name, present in (("method", self.methods), ("path", self.paths),
                                           ("status", self.statuses), ("duration", self.duration))
                if not present]

    def matches(self, method: str, path: str, status: int) -> bool:
        return method in self.methods and path in self.paths and status in self.statuses and self.duration


def access_by_line(lines: list["LogLine"]) -> dict[int, Access]:
    """Each line's access fields, merged with the other lines of the same request id:
    Fastify logs method and url on "incoming request" and status and responseTime on
    "request completed", tied together by ``reqId``."""
    own = {line.number: line.access() for line in lines}
    by_id: dict[str, Access] = {}
    for line in lines:
        rid = line.request_id
        if rid is not None:
            by_id[rid] = by_id.get(rid, Access()).merge(own[line.number])
    return {line.number: by_id[line.request_id] if line.request_id is not None else own[line.number]
            for line in lines}


def parse_lines(text: str, *, starts_mid_line: bool) -> list[LogLine]:
    """Complete, non-blank lines of ``text``. A leading fragment (the tail of a line
    that was being written when the check took its offset) and an unterminated last
    line (still being written) are left out."""
    lines = text.split("\n")
    if starts_mid_line:
        lines = lines[1:]
    tail = lines.pop() if lines else ""  # "" when text ends with a newline
    out = []
    for raw in lines + ([tail] if tail.strip() and _json_object(tail) is not None else []):
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        data = _json_object(raw)
        out.append(LogLine(len(out) + 1, raw, data, _flatten(data) if data is not None else {}))
    return out


def _probe(p: Probe) -> None:
    logs = p.target.logs
    start = logs.offset()
    starts_mid_line = start > 0 and not logs.since(start - 1).startswith("\n")
    secret = uuid.uuid4().hex
    auth = {"Authorization": f"Bearer {secret}"}
    unique = f"/no-such-route-{uuid.uuid4().hex[:12]}"
    sent = [p.get("/api/users/1", headers=auth), p.get(unique, headers=auth),
            p.get("/api/boom", headers=auth)]

    deadline = time.monotonic() + FLUSH_WAIT_S
    while True:
        text = logs.since(start)
        lines = parse_lines(text, starts_mid_line=starts_mid_line)
        access = access_by_line(lines)
        matches = {id(ex): _access_line(lines, access, ex) for ex in sent}
        error_line = _error_line(lines, access)
        done = all(matches.values()) and error_line is not None
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    _judge_format(p, lines, sent)
    for ex in sent:
        _judge_access(p, lines, access, ex, matches[id(ex)])
    boom = sent[2]
    p.rule("the 500 is logged at error level", error_line is not None,
           f"no line at error level after {boom.describe()} answered {boom.status}; "
           "unexpected exceptions must be logged at error level (pino 50, \"error\", \"ERROR\")",
           exchange=boom,
           notes={"boom_lines": [truncate(line.raw, 400) for line in lines if "boom" in line.raw.lower()][:3]})
    leaked = [line for line in lines if secret in line.raw] or ([None] if secret in text else [])
    p.rule("Authorization is never logged", not leaked,
           "the Authorization header value the checker sent appears in the log; redact "
           "credentials (pino redact, a header allowlist)",
           exchange=sent[0],
           notes={"leaking_line": truncate(leaked[0].raw.replace(secret, "<the secret>"), 600)}
           if leaked and leaked[0] is not None else None)


def _judge_format(p: Probe, lines: list[LogLine], sent: list[Exchange]) -> None:
    if not lines:
        p.rule("every stdout line is JSON with level, time and message", False,
               f"the app wrote nothing to stdout while serving {len(sent)} requests", exchange=sent[0])
        return
    bad = []
    for line in lines:
        if line.data is None:
            bad.append((line, "is not a JSON object"))
        elif missing := line.missing_basics():
            bad.append((line, "lacks " + " and ".join(missing)))
    first = bad[0] if bad else None
    p.rule(
        "every stdout line is JSON with level, time and message",
        not bad,
        f"{len(bad)} of {len(lines)} stdout lines are not structured: line {first[0].number} "
        f"{first[1]}: {truncate(first[0].raw, 200)!r}" if first else "",
        notes={"bad_lines": [f"{line.number}: {why}: {truncate(line.raw, 300)}" for line, why in bad[:3]]}
        if bad else None,
    )


def _access_line(lines: list[LogLine], access: dict[int, Access], ex: Exchange) -> LogLine | None:
    if not ex.answered:
        return None
    path = urlsplit(ex.path).path
    for line in lines:
        if access[line.number].matches(ex.method, path, ex.status):
            return line
    return None


def _judge_access(p: Probe, lines: list[LogLine], access: dict[int, Access], ex: Exchange,
                  match: LogLine | None) -> None:
    name = f"access line for {ex.describe()}"
    if not ex.answered:
        p.rule(name, False, f"{ex.describe()} {ex.outcome()}, so there is no access line to find", exchange=ex)
        return
    if match:
        p.rule(name, True)
        return
    path = urlsplit(ex.path).path
    near = ([line for line in lines if path in access[line.number].paths]
            or [line for line in lines if path in line.raw])
    if near:
        fields = access[near[0].number]
        missing = fields.missing()
        detail = (f"the closest line lacks {', '.join(missing)}" if missing
                  else f"the closest line has status {sorted(fields.statuses)}")
        hint = f"{detail}: {truncate(near[0].raw, 300)!r}"
    else:
        hint = "no line mentions that path"
    p.rule(name, False,
           f"no access line with method, path, status {ex.status} and duration for {ex.describe()}; {hint}",
           exchange=ex)


def _error_line(lines: list[LogLine], access: dict[int, Access]) -> LogLine | None:
    """An error-level line that can be the 500: not the access line of a non-5xx
    answer (other checks' 4xx requests logged at error level don't count)."""
    for line in lines:
        if not line.is_error_level:
            continue
        statuses = access[line.number].statuses
        if not statuses or max(statuses) >= 500:
            return line
    return None


def _json_object(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"req": {"method": "GET"}} → {"req.method": "GET"}; keys lower-cased."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{str(key).lower()}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat.setdefault(name, value)
    return flat


def _first(flat: dict[str, Any], keys: set[str]) -> Any:
    for key in keys:
        value = flat.get(key)
        if value is not None and value != "":
            return value
    return None


def _norm(key: str) -> str:
    return re.sub(r"[_\-\s]", "", key.lower())


def _as_status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 100 <= value <= 599:
        return value
    if isinstance(value, str) and value.isdigit() and 100 <= int(value) <= 599:
        return int(value)
    return None


def _is_duration(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value >= 0
    return isinstance(value, str) and bool(DURATION_STRING.match(value.strip()))
