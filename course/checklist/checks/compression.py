"""compression: large JSON answers are gzip-encoded when the client asks.

Fetches GET /api/users (the whole list, > 16 KB) twice: once with
``Accept-Encoding: identity`` and once with ``Accept-Encoding: gzip``, reading the
bytes as they came over the wire (httpx would otherwise decode them and hide what the
server did). Other checks create users concurrently, so a pair whose bodies differ is
fetched again before "decoded equals identity" is judged.
"""
from __future__ import annotations

import gzip
import zlib

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, header_tokens, run

ITEM_ID = "compression"
PATH = "/api/users"
MAX_RATIO = 0.5
ATTEMPTS = 3


def check(target: Target) -> Result:
    """Compare identity and gzip answers for the large list; see the module docstring."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    for _ in range(ATTEMPTS):
        identity = p.get(PATH, headers={"Accept-Encoding": "identity"}, raw=True)
        zipped = p.get(PATH, headers={"Accept-Encoding": "gzip"}, raw=True)
        decoded, decode_error = _decode(zipped)
        if decode_error or decoded == identity.content or not (identity.answered and zipped.answered):
            break
    p.notes["sizes"] = {"identity_bytes": len(identity.content), "gzip_bytes": len(zipped.content)}

    if not identity.answered or not zipped.answered or identity.status != 200 or zipped.status != 200:
        bad = identity if identity.status != 200 else zipped
        p.rule(f"GET {PATH} → 200", False,
               f"{bad.describe()} {bad.outcome()}; compression is judged on the full user list",
               exchange=bad)
        return

    p.rule("identity → no Content-Encoding",
           (identity.header("content-encoding") or "identity").lower() == "identity",
           f"{identity.describe()} with Accept-Encoding: identity came back "
           f"Content-Encoding: {identity.header('content-encoding')}; honour the client's choice",
           exchange=identity)
    encoding = (zipped.header("content-encoding") or "").lower()
    p.rule("Accept-Encoding: gzip → Content-Encoding: gzip", encoding == "gzip",
           f"{zipped.describe()} with Accept-Encoding: gzip came back "
           f"{'uncompressed' if not encoding else 'Content-Encoding: ' + encoding} "
           f"({len(identity.content)} bytes); compress large responses", exchange=zipped)
    vary = header_tokens(zipped.header("vary"))
    p.rule("Vary: Accept-Encoding", "accept-encoding" in vary or "*" in vary,
           f"{zipped.describe()} lacks Vary: Accept-Encoding (Vary: {zipped.header('vary')}); "
           "caches would serve gzip to clients that can't read it", exchange=zipped)
    if encoding != "gzip":
        return
    ratio = len(zipped.content) / max(1, len(identity.content))
    p.notes["ratio"] = round(ratio, 3)
    p.rule(f"compressed < {MAX_RATIO:.0%} of identity", ratio < MAX_RATIO,
           f"{zipped.describe()} sent {len(zipped.content)} gzip bytes for a {len(identity.content)}-byte "
           f"body ({ratio:.0%}); expected under {MAX_RATIO:.0%}", exchange=zipped)
    p.rule("decoded body equals the identity body", decode_error is None and decoded == identity.content,
           f"{zipped.describe()}: {decode_error}" if decode_error else
           f"{zipped.describe()}: the gunzipped body differs from the identity body", exchange=zipped)


def _decode(ex: Exchange) -> tuple[bytes, str | None]:
    if (ex.header("content-encoding") or "").lower() != "gzip":
        return ex.content, None
    try:
        return gzip.decompress(ex.content), None
    except (OSError, EOFError, zlib.error) as exc:
        return b"", f"the body is not valid gzip ({exc})"
