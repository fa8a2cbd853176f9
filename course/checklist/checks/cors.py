"""cors: only the configured origins may read responses from a browser.

Sends a preflight from the first allowed origin (PUT with ``content-type,
authorization``), a simple GET from every other allowed origin, and both a preflight
and a GET from a foreign origin and from ``Origin: null`` (sandboxed iframes, file://).
Rules follow the Fetch Standard's CORS protocol: ``*`` is only acceptable without
credentials and never covers ``Authorization``; a foreign origin must get no
Access-Control-Allow-Origin at all. Reflecting any Origin is the classic failure.
"""
from __future__ import annotations

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, header_tokens, run

ITEM_ID = "cors"
PREFLIGHT_PATH = "/api/users"
SIMPLE_PATH = "/api/users/1"
FOREIGN_ORIGINS = ("https://evil.example", "null")
REQUEST_HEADERS = "content-type, authorization"


def check(target: Target) -> Result:
    """Preflights and simple requests from allowed and foreign origins."""
    return run(target, ITEM_ID, _probe)


def _preflight(p: Probe, origin: str) -> Exchange:
    return p.request("OPTIONS", PREFLIGHT_PATH, headers={
        "Origin": origin,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": REQUEST_HEADERS,
    })


def _probe(p: Probe) -> None:
    origins = p.target.cors_origins
    if not origins:
        raise ValueError("the target has no CORS_ORIGINS to check against")
    allowed = origins[0]
    pre = _preflight(p, allowed)
    _judge_preflight(p, pre, allowed)

    for origin in origins[1:]:
        ex = p.get(SIMPLE_PATH, headers={"Origin": origin})
        acao = ex.header("access-control-allow-origin")
        p.rule(f"GET from allowed {origin} is allowed", acao in (origin, "*"),
               f"{ex.describe()} from the allowed origin {origin} got "
               f"Access-Control-Allow-Origin: {acao or '(absent)'}; every CORS_ORIGINS entry must be allowed",
               exchange=ex)

    for origin in FOREIGN_ORIGINS:
        for ex in (_preflight(p, origin), p.get(SIMPLE_PATH, headers={"Origin": origin})):
            acao = ex.header("access-control-allow-origin")
            kind = "preflight" if ex.method == "OPTIONS" else "GET"
            creds = (ex.header("access-control-allow-credentials") or "").lower() == "true"
            p.rule(f"{kind} from Origin: {origin} is not allowed", ex.answered and acao is None,
                   f"{ex.describe()} from Origin: {origin} {ex.outcome()}" if not ex.answered else
                   f"{ex.describe()} from Origin: {origin} got Access-Control-Allow-Origin: {acao}"
                   f"{' with credentials' if creds else ''}; only CORS_ORIGINS may be allowed",
                   exchange=ex)


def _judge_preflight(p: Probe, ex: Exchange, origin: str) -> None:
    where = f"preflight {ex.describe()} from {origin}"
    p.rule("preflight from an allowed origin → 2xx", ex.answered and 200 <= ex.status < 300,
           f"{where} {ex.outcome()}; a preflight must succeed (200 or 204)", exchange=ex)
    acao = ex.header("access-control-allow-origin")
    creds = (ex.header("access-control-allow-credentials") or "").lower() == "true"
    p.rule("Allow-Origin is the exact origin", acao == origin or (acao == "*" and not creds),
           f"{where} got Access-Control-Allow-Origin: {acao or '(absent)'}"
           f"{' with credentials' if creds and acao == '*' else ''}; expected {origin}", exchange=ex)
    methods = [m.upper() for m in header_tokens(ex.header("access-control-allow-methods"))]
    p.rule("Allow-Methods has PUT", "PUT" in methods or ("*" in methods and not creds),
           f"{where} got Access-Control-Allow-Methods: {_show(ex, 'access-control-allow-methods')}; "
           "PUT must be allowed", exchange=ex)
    allowed_headers = header_tokens(ex.header("access-control-allow-headers"))
    p.rule("Allow-Headers lists authorization", "authorization" in allowed_headers,
           f"{where} got Access-Control-Allow-Headers: {_show(ex, 'access-control-allow-headers')}; "
           "authorization must be listed explicitly (* never covers it)", exchange=ex)
    p.rule("Allow-Headers allows content-type",
           "content-type" in allowed_headers or ("*" in allowed_headers and not creds),
           f"{where} got Access-Control-Allow-Headers: {_show(ex, 'access-control-allow-headers')}; "
           "content-type must be allowed", exchange=ex)
    if acao == origin:
        vary = header_tokens(ex.header("vary"))
        p.rule("Vary: Origin when echoing the origin", "origin" in vary or "*" in vary,
               f"{where} echoes the origin without Vary: Origin (Vary: {_show(ex, 'vary')}); "
               "a cache would hand this answer to other origins", exchange=ex)


def _show(ex: Exchange, name: str) -> str:
    value = ex.header(name)
    return "(absent)" if value is None else value
