"""One error contract, everywhere (issue 12).

The codes live in ``course/error_codes.yaml``. These tests keep the service contract's
docs and OpenAPI equal to that list, and scan every lesson and instructor notebook (the
``.md`` and the ``.ipynb`` with its stored outputs), every generated exercise, every
capstone reference, every starter and the checker's fixture apps for an envelope code
the list does not hold — or a code paired with a status it does not go with
(``writeError(w, 503, "DATABASE_UNAVAILABLE", ...)``, ``envelope(404, "BAD_REQUEST")``).

The scanner reads code the way a reviewer would: it looks for the places an envelope
code is written — a ``code`` key, a status next to a code, a status→code table, an
error constructor, an assertion on ``error.code``, a status and a code side by side in
prose — in JavaScript, TypeScript, Python, Go, Java, JSON and Markdown. Its own tests
below plant one wrong code in each of those places and expect each to be found.
"""
from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from course import contract

from helpers import REPO

CODE = r"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)"
Q = r"[\"'`]"  # quotes, and Markdown's backticks
QC = r"[\"']"  # quotes only: a status next to a backticked name in prose is not a pair ("404, `X` for 405")
# Quoted or backticked upper-case names that are not envelope codes although they sit where
# one could: Node's system errors (ECONNREFUSED…), Node/Fastify error codes (ERR_*, FST_*),
# PostgreSQL's condition names, and the course tool's own error codes from the seed
# (reported by `course`, never in an HTTP answer).
NOT_ENVELOPE = re.compile(r"^(?:E[A-Z]+|ERR_\w+|FST_\w+|UNDEFINED_TABLE|FRAMEWORK_NOT_SUPPORTED|"
                          r"ASYNC_PATTERN_MISMATCH|DEPENDENCY_CONFLICT)$")
# Names that read like error codes wherever they are quoted (the codes the course used to
# mix up were all of this shape): checked even outside the contexts below.
CODE_LIKE = re.compile(r"^(?:[A-Z0-9_]+_)?(?:ERROR|UNAVAILABLE|TIMEOUT|NOT_FOUND|REQUEST|LIMITED|ALLOWED|"
                       r"LARGE|GATEWAY|REJECTED|CONFLICT|INVALID|FAILED|DENIED|FORBIDDEN|UNAUTHORIZED)$")
# names of log events or constants that match CODE_LIKE but are not envelope codes
CODE_LIKE_EXCEPTIONS = {"INTERNAL_SERVER_ERROR"}  # Spring's HttpStatus constant, named in prose

# (pattern, groups): groups name what each capture is — "code", "codes" (a quoted list),
# "status" (a number) or "status_name" (http.StatusX / HttpStatus.X / status.HTTP_404_X)
STATUS = r"([1-5]\d\d)"
STATUS_NAME = r"((?:http\.)?Status[A-Z]\w+|HttpStatus\.[A-Z_]+|status\.HTTP_\d{3}_[A-Z_]+)"
CONTEXTS = [
    # "code": "X", code: 'X', code="X", code = 'X'
    (re.compile(rf"\bcode{Q}?\s*(?::|=(?!=))\s*{Q}{CODE}{Q}"), ("code",)),
    # a status then a code: writeError(w, 503, "X"), envelope(404, "X"), super(msg, 404, 'X'),
    # UpstreamError(504, "X"), error(HttpStatus.NOT_FOUND, "X"), {status: 503, code: 'X'}
    (re.compile(rf"\b{STATUS}\s*,\s*(?:code\s*:\s*)?{QC}{CODE}{QC}"), ("status", "code")),
    (re.compile(rf"\b{STATUS_NAME}\s*,\s*{QC}{CODE}{QC}"), ("status_name", "code")),
    # a status→code table: {404: "X"}, [HttpStatus.NOT_FOUND]: 'X', case NOT_FOUND -> "X"
    (re.compile(rf"(?<![\w.]){STATUS}\s*:\s*{QC}{CODE}{QC}"), ("status", "code")),
    (re.compile(rf"\[{STATUS_NAME}\]\s*:\s*{QC}{CODE}{QC}"), ("status_name", "code")),
    (re.compile(rf"\bcase\s+([A-Z_]+)\s*->\s*{Q}{CODE}{Q}"), ("java_case", "code")),
    # an error constructor or helper whose first argument is the code:
    # apiError("X", ...), envelope('X', ...), ErrorBody.of("X", ...), new ApiError("X", ...)
    (re.compile(rf"\b\w*(?:[Ee]rror|[Ee]nvelope|[Pp]roblem)\w*(?:\.of)?\(\s*{Q}{CODE}{Q}"), ("code",)),
    # a Go or Java constant: CodeNotFound = "X"
    (re.compile(rf"\bCode[A-Z]\w*\s*=\s*{Q}{CODE}{Q}"), ("code",)),
    # assertions and messages about error.code
    (re.compile(rf"\berror\.code\s+(?:is\s+|of\s+)?`?{CODE}\b"), ("code",)),
    (re.compile(rf"code\W{{0,12}}\s*[!=]=\s*{Q}{CODE}{Q}"), ("code",)),
    (re.compile(r"code\W{0,12}\s+in\s+[(\[{]([^)\]}]*)[)\]}]"), ("codes",)),
    # prose: **503** `X`, 422 `X`, `404` `X`, answers 400 with code `X`
    (re.compile(rf"`?\b{STATUS}`?\*{{0,2}}\s+(?:with\s+)?(?:(?:error\s+)?code\s+)?`{CODE}`"), ("status", "code")),
    (re.compile(rf"\bcode\s+`{CODE}`"), ("code",)),
]
ANY_QUOTED = re.compile(rf"{Q}{CODE}{Q}")


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    code: str
    problem: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.problem} — {self.text.strip()[:140]}"


def _status_of(name: str) -> int | None:
    if name.startswith("status.HTTP_"):  # DRF: status.HTTP_503_SERVICE_UNAVAILABLE
        return int(name.split("_")[1])
    if name.startswith("HttpStatus."):  # Java: HttpStatus.SERVICE_UNAVAILABLE
        key = name.split(".", 1)[1]
    else:  # Go: http.StatusServiceUnavailable
        camel = name.rsplit("Status", 1)[1]
        key = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).upper()
    key = {"UNPROCESSABLE_ENTITY": "UNPROCESSABLE_ENTITY", "REQUEST_ENTITY_TOO_LARGE": "REQUEST_ENTITY_TOO_LARGE",
           "TOO_MANY_REQUESTS": "TOO_MANY_REQUESTS"}.get(key, key)
    try:
        return int(http.HTTPStatus[key])
    except KeyError:
        return None


def scan_text(text: str, where: str, first_line: int = 1) -> list[Finding]:
    """Every envelope code in ``text`` that the contract does not have, or that is paired
    with a status whose contract code is another."""
    codes = contract.error_codes()
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), first_line):
        seen: set[str] = set()
        for pattern, groups in CONTEXTS:
            for match in pattern.finditer(line):
                values = dict(zip(groups, match.groups(), strict=True))
                found = [values["code"]] if "code" in values else re.findall(rf"{Q}{CODE}{Q}", values["codes"])
                status = None
                if "status" in values:
                    status = int(values["status"])
                elif "status_name" in values:
                    status = _status_of(values["status_name"])
                elif "java_case" in values:
                    status = _status_of("HttpStatus." + values["java_case"])
                for code in found:
                    if NOT_ENVELOPE.match(code):
                        continue
                    seen.add(code)
                    if code not in codes:
                        findings.append(Finding(where, number, code, f"{code} is not a contract code", line))
                    elif status is not None and 400 <= status < 600 and contract.code_for(status) != code:
                        findings.append(Finding(where, number, code, f"{code} with status {status} (the contract's "
                                                f"code for {status} is {contract.code_for(status)})", line))
        for match in ANY_QUOTED.finditer(line):
            code = match.group(1)
            if code in seen or code in codes or code in CODE_LIKE_EXCEPTIONS or NOT_ENVELOPE.match(code):
                continue
            if CODE_LIKE.match(code):
                findings.append(Finding(where, number, code, f"{code} looks like an error code and is not a contract "
                                        "code", line))
    return list(dict.fromkeys(findings))  # one finding per line, code and problem, whichever contexts saw it


def scan_notebook(path: Path, where: str) -> list[Finding]:
    """Cell sources and stored outputs (what a reader sees before running anything)."""
    nb = json.loads(path.read_text())
    findings = []
    for index, cell in enumerate(nb["cells"], 1):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        findings += scan_text(source, f"{where} cell {index}")
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
            if out.get("output_type") == "error":
                texts.append(out.get("evalue", ""))
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                findings += scan_text(text, f"{where} cell {index} (output)")
    return findings


SOURCES = (".md", ".js", ".mjs", ".ts", ".py", ".go", ".java", ".yaml", ".yml", ".json", ".properties")
SKIP_PARTS = {"node_modules", "target", ".venv", "__pycache__", ".ipynb_checkpoints", "dist", "work"}


def scanned_files() -> list[Path]:
    roots = [REPO / "notebooks", REPO / "solutions", REPO / "exercises", REPO / "course" / "starters",
             REPO / "tests" / "fixtures" / "apps", REPO / "docs"]
    files = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or SKIP_PARTS & set(path.relative_to(REPO).parts):
                continue
            if path.name in ("package-lock.json", "go.sum"):
                continue
            if path.suffix == ".ipynb" or path.suffix in SOURCES:
                files.append(path)
    return files


def scan_repo() -> tuple[list[Finding], int]:
    findings, files = [], 0
    for path in scanned_files():
        rel = str(path.relative_to(REPO))
        files += 1
        findings += scan_notebook(path, rel) if path.suffix == ".ipynb" else scan_text(path.read_text(), rel)
    return findings, files


# --- the contract's own places -------------------------------------------------------------
def test_the_list_is_closed_and_one_status_has_one_code():
    codes = contract.error_codes()
    assert len({c.status for c in codes.values()}) == len(codes)
    assert contract.code_for(404) == "NOT_FOUND" and contract.code_for(422) == "VALIDATION_ERROR"
    assert contract.code_for(503) == "SERVICE_UNAVAILABLE"
    assert contract.code_for(418) == "BAD_REQUEST" and contract.code_for(501) == "INTERNAL_ERROR"
    with pytest.raises(ValueError):
        contract.code_for(302)


def test_service_contract_doc_lists_exactly_the_codes():
    text = (REPO / "docs" / "service-contract.md").read_text()
    table = text.split("<!-- error-codes:", 1)[1].split("<!-- /error-codes -->", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \| (.+) \|$", table, re.MULTILINE)
    documented = [(int(status), code, when) for status, code, when in rows]
    expected = [(c.status, c.code, c.when) for c in contract.error_codes().values()]
    assert documented == expected, "docs/service-contract.md's table differs from course/error_codes.yaml"


def test_openapi_enum_is_the_list_and_details_is_a_list():
    spec = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    error = spec["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["properties"]["code"]["enum"] == list(contract.error_codes())
    details = error["properties"]["details"]
    assert details["type"] == "array" and details["items"]["required"] == ["field", "message"]
    for path, item in spec["paths"].items():  # every example envelope in the spec obeys the contract
        for method, op in item.items():
            for status, response in op.get("responses", {}).items():
                example = (response.get("content", {}).get("application/json", {}) or {}).get("example")
                if isinstance(example, dict) and "error" in example:
                    assert not contract.envelope_problems(example, int(status)), (path, method, status)


def test_envelope_problems_names_each_breach():
    ok = {"error": {"code": "VALIDATION_ERROR", "message": "bad", "details": [{"field": "email", "message": "x"}]}}
    assert contract.envelope_problems(ok, 422) == []
    assert contract.envelope_problems({"type": "about:blank", "title": "t"}, 404) == []  # not ours to judge
    assert "not one of the contract's codes" in contract.envelope_problems(
        {"error": {"code": "DATABASE_UNAVAILABLE", "message": "m"}}, 503)[0]
    assert "does not go with status 400" in contract.envelope_problems(
        {"error": {"code": "VALIDATION_ERROR", "message": "m"}}, 400)[0]
    assert "non-empty list" in contract.envelope_problems(
        {"error": {"code": "VALIDATION_ERROR", "message": "m", "details": {"email": "bad"}}}, 422)[0]
    assert "non-empty list" in contract.envelope_problems(
        {"error": {"code": "VALIDATION_ERROR", "message": "m", "details": []}}, 422)[0]
    assert "never empty" in contract.envelope_problems(
        {"error": {"code": "VALIDATION_ERROR", "message": "m", "details": [{"field": "", "message": "x"}]}}, 422)[0]


# --- the scanner finds what it must, and only that ------------------------------------------
PLANTED = {
    "js object": ("res.status(503).json({ error: { code: 'DATABASE_UNAVAILABLE', message } });",
                  "DATABASE_UNAVAILABLE"),
    "js class": ("super(message, 404, 'MISSING');", "MISSING"),
    "js pair": ("{ status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true }", "UPSTREAM_UNAVAILABLE"),
    "ts table": ("  [HttpStatus.NOT_FOUND]: 'RESOURCE_MISSING',", "RESOURCE_MISSING"),
    "python dict": ('CODES = {404: "NOT_FOUND", 405: "HTTP_ERROR"}', "HTTP_ERROR"),
    "python call": ('return envelope(exc.status_code, CODES.get(exc.status_code, "HTTP_ERROR"), msg)', "HTTP_ERROR"),
    "python kwarg": ('raise APIError("gone", status=410, code="GONE_FOREVER")', "GONE_FOREVER"),
    "go writeError": ('writeError(w, http.StatusServiceUnavailable, "DATABASE_UNAVAILABLE", "retry later")',
                      "DATABASE_UNAVAILABLE"),
    "go helper": ('c.JSON(http.StatusServiceUnavailable, apiError("DB_DOWN", "retry later"))', "DB_DOWN"),
    "go const": ('\tCodeUnavailable = "UNAVAILABLE"', "UNAVAILABLE"),
    "java": ('return ErrorBody.of(HttpStatus.UNPROCESSABLE_ENTITY, "INVALID_ID", "id", null);', "INVALID_ID"),
    "java case": ('            case SERVICE_UNAVAILABLE -> "DOWN";', "DOWN"),
    "json output": ('/api/users/1     503 application/json {"error":{"code":"UPSTREAM_REJECTED","message":"x"}}',
                    "UPSTREAM_REJECTED"),
    "assertion": ('assert error_code(r) == "UPSTREAM_TIMEOUT", "expected error.code UPSTREAM_TIMEOUT"',
                  "UPSTREAM_TIMEOUT"),
    "assertion in": ('assert code in ("INTERNAL_ERROR", "SERVER_FAULT")', "SERVER_FAULT"),
    "prose status": ("a dependency that is down → **503** `UPSTREAM_UNAVAILABLE`;", "UPSTREAM_UNAVAILABLE"),
    "prose code": ("answers with code `QUERY_TIMEOUT` after the deadline", "QUERY_TIMEOUT"),
    "quoted anywhere": ("const FALLBACK = 'SOMETHING_FAILED';", "SOMETHING_FAILED"),
}
MISMATCHED = {
    "python": ('return envelope(404, "BAD_REQUEST", "nope")', "BAD_REQUEST"),
    "go": ('writeError(w, http.StatusUnprocessableEntity, "BAD_REQUEST", "id must be an integer")', "BAD_REQUEST"),
    "java": ('error(HttpStatus.BAD_REQUEST, "VALIDATION_ERROR", "id", null)', "VALIDATION_ERROR"),
    "js": ("throw new APIError('slow', 504, 'SERVICE_UNAVAILABLE');", "SERVICE_UNAVAILABLE"),
    "prose": ("a malformed id answers **422** `BAD_REQUEST`", "BAD_REQUEST"),
}
CLEAN = [
    "res.status(404).json({ error: { code: 'NOT_FOUND', message: `User ${id} not found` } });",
    'writeError(w, http.StatusBadRequest, "BAD_REQUEST", "id must be an integer")',
    'CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 422: "VALIDATION_ERROR"}',
    "if (err.code === 'ECONNREFUSED') throw new UpstreamError(503, 'SERVICE_UNAVAILABLE', 'down');",
    "{ code: 'ERR_HTTP_HEADERS_SENT' } and { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }",
    'logger.warn({ event: "DB_CONNECTION_SLOW", duration }); const PORT = process.env["PORT"];',
    "return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR)  // Spring's name for 500",
    "`FRAMEWORK_NOT_SUPPORTED` is what `course new` says for an unknown framework",
    '    case TOO_MANY_REQUESTS -> "RATE_LIMITED";',
]


@pytest.mark.parametrize("where", PLANTED)
def test_scanner_finds_a_code_outside_the_contract(where):
    line, code = PLANTED[where]
    found = scan_text(f"ok line\n{line}\n", where)
    assert [(f.line, f.code) for f in found] == [(2, code)], found


@pytest.mark.parametrize("where", MISMATCHED)
def test_scanner_finds_a_code_paired_with_the_wrong_status(where):
    line, code = MISMATCHED[where]
    found = scan_text(line, where)
    assert found and all(f.code == code and "with status" in f.problem for f in found), found


def test_scanner_passes_contract_codes_and_names_that_are_not_codes():
    assert scan_text("\n".join(CLEAN), "clean") == []


def test_scanner_reads_notebook_outputs(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["print(r.text)"], "metadata": {}, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": ['503 {"error":{"code":"DATABASE_UNAVAILABLE"}}\n']}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    found = scan_notebook(path, "n.ipynb")
    assert [f.code for f in found] == ["DATABASE_UNAVAILABLE"] and "(output)" in found[0].where


# --- the scan --------------------------------------------------------------------------------
def test_every_notebook_capstone_and_starter_uses_only_the_contracts_codes():
    findings, files = scan_repo()
    assert files > 100, f"only {files} files scanned: are the roots right?"
    assert not findings, f"{len(findings)} envelope codes outside the contract:\n" + "\n".join(map(str, findings))


def test_the_scan_sees_the_course_use_the_contract():
    """A scanner that matched nothing would pass the test above: count what it recognises."""
    codes = contract.error_codes()
    used: dict[str, int] = {}
    for path in scanned_files():
        text = path.read_text()
        for pattern, groups in CONTEXTS:
            for match in pattern.finditer(text):
                values = dict(zip(groups, match.groups(), strict=True))
                if values.get("code") in codes:
                    used[values["code"]] = used.get(values["code"], 0) + 1
    for code in ("BAD_REQUEST", "NOT_FOUND", "VALIDATION_ERROR", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE",
                 "RATE_LIMITED", "METHOD_NOT_ALLOWED", "GATEWAY_TIMEOUT"):
        assert used.get(code, 0) >= 3, f"the scan recognised {code} only {used.get(code, 0)} times: {used}"
