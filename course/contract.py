"""The service contract's error envelope, read from ``error_codes.yaml``.

Why a module of its own: the course teaches one error envelope, and it used to say so
in three places that drifted apart (lessons answering 422 where the contract said 400,
three names for a 503, ``details`` a map here and a list there). The list of codes now
lives in one data file; the contract's docs are checked against it, ``course check``
judges envelopes with it, and the test suite scans every notebook and capstone for
codes it does not hold.

The envelope::

    {"error": {"code": "VALIDATION_ERROR", "message": "Invalid request body",
               "details": [{"field": "email", "message": "must be a valid email"}]}}

- ``code`` is the code of the answer's status (:func:`code_for`): one status, one code.
- ``details`` is optional; when present it is a non-empty list of ``{field, message}``
  objects — never a map, never empty. ``field`` names the invalid body field (a dotted
  path for a nested one, ``items.0.sku``), the path or query parameter (``id``), or
  ``body`` when the body as a whole is wrong.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.resources

import yaml

DATA = importlib.resources.files("course") / "error_codes.yaml"  # package data, wherever installed


@dataclasses.dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    when: str


@functools.lru_cache(maxsize=None)
def _load() -> tuple[dict[str, ErrorCode], dict[str, str]]:
    data = yaml.safe_load(DATA.read_text())
    codes = {entry["code"]: ErrorCode(entry["code"], int(entry["status"]), " ".join(entry["when"].split()))
             for entry in data["codes"]}
    statuses = [c.status for c in codes.values()]
    if len(set(statuses)) != len(statuses):
        raise ValueError(f"{DATA}: one status, one code — a status is listed twice")
    fallback = {str(k): v for k, v in data["fallback"].items()}
    unknown = [v for v in fallback.values() if v not in codes]
    if unknown:
        raise ValueError(f"{DATA}: the fallback codes {unknown} are not in the list")
    return codes, fallback


def error_codes() -> dict[str, ErrorCode]:
    """Every code of the contract, in the file's order (by status)."""
    return dict(_load()[0])


def code_for(status: int) -> str:
    """The contract's code for an HTTP error status: its own, else its class's fallback."""
    codes, fallback = _load()
    for entry in codes.values():
        if entry.status == status:
            return entry.code
    if 400 <= status < 500:
        return fallback["4xx"]
    if 500 <= status < 600:
        return fallback["5xx"]
    raise ValueError(f"{status} is not an error status")


def is_course_envelope(body: object) -> bool:
    """Whether ``body`` is shaped as the course's envelope, ``{"error": {...}}`` (right or wrong
    inside), rather than a framework's own error body or RFC 9457 problem details."""
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def envelope_problems(body: object, status: int) -> list[str]:
    """What is wrong with ``body`` as the course's envelope for an answer of ``status``
    (``[]``: nothing). A body that is not the course envelope at all (RFC 9457 problem
    details, say) is not judged here."""
    if not is_course_envelope(body):
        return []
    error = body["error"]
    problems = []
    code, expected = error.get("code"), code_for(status)
    if code not in error_codes():
        problems.append(f"error.code {code!r} is not one of the contract's codes; a {status} is {expected}")
    elif code != expected:
        problems.append(f"error.code {code} does not go with status {status}: the contract's code is {expected}")
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append("error.message is missing or empty")
    if error.get("details") is not None:  # null carries nothing: as good as left out
        details = error["details"]
        if not isinstance(details, list) or not details:
            problems.append("error.details must be a non-empty list of {field, message} "
                            f"(or left out), got {type(details).__name__} {str(details)[:60]}")
        elif not all(isinstance(d, dict) and isinstance(d.get("field"), str) and d["field"]
                     and isinstance(d.get("message"), str) for d in details):
            problems.append('every entry of error.details must be {"field": <a name, never empty>, "message": ...}')
    return problems
