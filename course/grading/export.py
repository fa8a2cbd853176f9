"""Grading reports: one superset record per learner, exported to what other tools read.

The record is Exercism's ``results.json`` v3 (``version``, ``status``, ``message``,
``tests[]`` with ``name``, ``status``, ``message``, ``output`` ≤ 500 chars,
``test_code``, and ``task_id`` only where a test names its task: Exercism task ids
start at 1) plus ``score``/``max_score`` per test and overall and the checklist item
ids as ``tags``. From it: Gradescope's ``results.json``, JUnit XML, a CSV gradebook
and an HTML report (learners × checklist items, with a drill-down).

Everything in these files may carry a learner's output verbatim, and learners print
anything: colours, NUL bytes, ``]]>``, ``</td><script>``. Each writer makes its own
format valid: :func:`xml_text` keeps only characters XML 1.0 allows, the HTML report
escapes, the CSV gradebook defuses spreadsheet formulas, JSON escapes by itself.
"""
from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

from ..checklist.items import load_items
from ..errors import CourseError
from . import spec
from .results import Graded, Verdict

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# XML 1.0 §2.2 Char: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF. Everything else
# (NUL, the other C0 controls, lone surrogates, U+FFFE/U+FFFF) makes a parser stop.
XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting with these


def plain_text(text: str | None) -> str:
    """``text`` without terminal escapes (colours, cursor moves, OSC titles)."""
    return ANSI.sub("", text or "")


def xml_text(text: str | None) -> str:
    """``text`` safe to put in an XML document: escapes removed, forbidden characters shown
    as ``\\xNN`` (``]]>`` and ``<`` need nothing here: ElementTree escapes them)."""
    return XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                           else f"\\u{ord(m.group()):04x}", plain_text(text))


def csv_cell(value: object) -> str:
    """A gradebook cell a spreadsheet shows as text (OWASP CSV injection): a leading
    ``=``, ``+``, ``-``, ``@`` is escaped with ``'`` — except for plain numbers."""
    text = str(value)
    if text.startswith(FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return "'" + text
    return text


def _exercise_record(task) -> dict:
    result = task.result or Graded.failed(Verdict("not graded", by_grader=True))
    tests = [t.to_json() for t in result.tests]
    exercise_id = result.exercise or task.exercise_id
    try:
        max_score = spec.find(exercise_id).points if exercise_id else 0.0
    except CourseError:  # an exercise removed from solutions/ since: count what was graded
        max_score = sum(t["max_score"] for t in tests)
    max_score = max(max_score, sum(t["max_score"] for t in tests))
    score = round(sum(t["score"] for t in tests), 3)  # fractional item scores: no float noise
    verdict = result.verdict
    if verdict:
        status = "error"
    elif tests and all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    message = str(verdict) if verdict else result.error
    return {"id": exercise_id, "notebook": task.source.name, "status": status, "score": score,
            "max_score": max_score, "message": message, "execution_error": result.error,
            "tests": tests, "work_s": round(result.work_s, 3),
            "grader_failed": bool(verdict and verdict.by_grader)}


def assemble(tasks, sandbox_info: dict, duration: float) -> dict:
    """The class report: per learner, their exercises and Exercism-style tests."""
    unsandboxed = str(sandbox_info.get("sandbox", "")).startswith("NONE")
    learners: dict[str, dict] = {}
    for task in tasks:
        record = learners.setdefault(task.learner, {"name": task.learner, "exercises": []})
        record["exercises"].append(_exercise_record(task))
    out = []
    for name, record in learners.items():
        exercises = record["exercises"]
        tests = []
        for ex in exercises:
            for t in ex["tests"]:
                record = {
                    "name": f"{ex['id']}: {t['name']}", "status": t["status"],
                    "message": plain_text(t["message"]) if t["message"] is not None else None,
                    "output": plain_text(t.get("output"))[:500], "test_code": t.get("test_code", ""),
                    "score": t["score"], "max_score": t["max_score"],
                    "tags": t.get("tags", []), "exercise": ex["id"], "hidden": t["hidden"],
                }
                if isinstance(t.get("task_id"), int) and t["task_id"] >= 1:
                    record["task_id"] = t["task_id"]  # Exercism: optional, and 1-based when present
                tests.append(record)
            if ex["status"] == "error" and not ex["tests"]:
                tests.append({"name": f"{ex['id']}: (could not be graded)", "status": "error",
                              "message": ex["message"], "output": "", "test_code": "",
                              "score": 0.0, "max_score": ex["max_score"], "tags": [], "exercise": ex["id"],
                              "hidden": False})
        statuses = {ex["status"] for ex in exercises}
        status = "error" if statuses == {"error"} else ("pass" if statuses == {"pass"} else "fail")
        problems = [f"{ex['id']}: {ex['message']}" for ex in exercises if ex["message"]]
        if unsandboxed:  # every line of every report says so
            problems.insert(0, "graded WITHOUT a sandbox (--no-sandbox)")
        out.append({
            "version": 3, "name": name, "status": status, "message": "; ".join(problems) or None,
            "score": round(sum(ex["score"] for ex in exercises), 3),
            "max_score": sum(ex["max_score"] for ex in exercises),
            "tests": tests, "exercises": exercises,
        })
    return {"learners": out, "sandbox": sandbox_info, "duration_s": round(duration, 2),
            "work_s": round(sum(ex["work_s"] for learner in out for ex in learner["exercises"]), 2)}


def results_json(learner: dict, sandbox_info: dict) -> dict:
    return {**learner, "sandbox": sandbox_info}


def gradescope(learner: dict) -> dict:
    return {
        "score": learner["score"],
        "execution_time": round(sum(ex["work_s"] for ex in learner["exercises"])),
        "output": learner["message"] or f"{learner['score']:g}/{learner['max_score']:g}",
        "tests": [{
            "score": t["score"], "max_score": t["max_score"],
            "status": "passed" if t["status"] == "pass" else "failed",
            "name": t["name"], "number": f"{n}", "output": t["message"] or "", "tags": t["tags"],
            "visibility": "after_published" if t.get("hidden") else "visible",
        } for n, t in enumerate(learner["tests"], 1)],
    }


def junit(learner: dict) -> bytes:
    """JUnit XML (the Jenkins/GitLab dialect): a suite per exercise, a case per test.

    Every string goes through :func:`xml_text`, so a learner's output with colours, NUL
    bytes or other control characters still gives a document any XML parser reads.
    """
    suites = ET.Element("testsuites", name=xml_text(learner["name"]))
    for ex in learner["exercises"]:
        tests = [t for t in learner["tests"] if t["exercise"] == ex["id"]]
        suite = ET.SubElement(suites, "testsuite", name=xml_text(str(ex["id"])), tests=str(len(tests)),
                              failures=str(sum(t["status"] == "fail" for t in tests)),
                              errors=str(sum(t["status"] == "error" for t in tests)))
        for t in tests:
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"{learner['name']}.{ex['id']}"),
                                 name=xml_text(t["name"]))
            if t["status"] != "pass":
                tag = "failure" if t["status"] == "fail" else "error"
                ET.SubElement(case, tag, message=xml_text((t["message"] or "")[:500])).text = xml_text(t["output"])
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def gradebook_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """The class as a table: one row per learner, a score column per exercise."""
    exercise_ids = sorted({ex["id"] for learner in report["learners"] for ex in learner["exercises"] if ex["id"]})
    header = ["learner", *exercise_ids, "score", "max_score", "status"]
    rows = []
    for learner in report["learners"]:
        by_id = {ex["id"]: ex for ex in learner["exercises"]}
        rows.append([learner["name"], *[f"{by_id[e]['score']:g}" if e in by_id else "" for e in exercise_ids],
                     f"{learner['score']:g}", f"{learner['max_score']:g}", learner["status"]])
    return [csv_cell(h) for h in header], [[csv_cell(plain_text(c)) for c in row] for row in rows]


def checklist_matrix(learner: dict) -> dict[str, tuple[float, float]]:
    """checklist item id → (score, max) over the learner's tests tagged with it."""
    cells: dict[str, list[float]] = {}
    for t in learner["tests"]:
        for tag in t["tags"]:
            got = cells.setdefault(tag, [0.0, 0.0])
            got[0] += t["score"]
            got[1] += t["max_score"]
    return {k: (v[0], v[1]) for k, v in cells.items()}


def _h(text: object) -> str:
    """Text for HTML: escapes removed, markup and quotes escaped, controls shown as \\xNN."""
    return html.escape(xml_text(str(text)))


def html_report(report: dict) -> str:
    # the seed's 11 columns always; an extra item (tracing) only when an exercise is tagged with it
    tagged = {tag for learner in report["learners"] for tag in checklist_matrix(learner)}
    items = load_items() + [i for i in load_items(extra=True) if i.extra and i.id in tagged]
    head = "".join(f"<th title='{_h(i.title)}'>{_h(i.id)}</th>" for i in items)
    rows = []
    for learner in report["learners"]:
        matrix = checklist_matrix(learner)
        cells = []
        for i in items:
            if i.id not in matrix:
                cells.append("<td class='na'>·</td>")
                continue
            got, total = matrix[i.id]
            cls = "ok" if got == total else ("part" if got else "bad")
            cells.append(f"<td class='{cls}'>{got:g}/{total:g}</td>")
        details = "".join(
            f"<li class='{_h(t['status'])}'>{'✓' if t['status'] == 'pass' else '✗'} {_h(t['name'])} "
            f"({t['score']:g}/{t['max_score']:g})"
            + (f"<br><small>{_h(t['message'] or '')}</small>" if t["status"] != "pass" else "")
            + "</li>" for t in learner["tests"])
        rows.append(
            f"<tr><td><details><summary>{_h(learner['name'])}</summary><ul>{details}</ul>"
            f"{'<p>' + _h(learner['message']) + '</p>' if learner['message'] else ''}</details></td>"
            f"<td>{learner['score']:g}/{learner['max_score']:g}</td>"
            f"<td class='{_h(learner['status'])}'>{_h(learner['status'])}</td>"
            + "".join(cells) + "</tr>")
    sandbox = "".join(f"<li><b>{_h(k)}</b>: {_h(v)}</li>" for k, v in report["sandbox"].items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Backend Patterns Lab — grades</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:center;vertical-align:top}}td:first-child{{text-align:left}}
.ok,.pass{{background:#dafbe1}}.part{{background:#fff8c5}}.bad,.fail{{background:#ffebe9}}.error{{background:#ffd8b5}}
.na{{color:#999}}li.pass{{color:#1a7f37}}li.fail,li.error{{color:#cf222e}}</style></head><body>
<h1>Grades against the production checklist</h1>
<p>{len(report['learners'])} learner(s), graded in {report['duration_s']:g} s. Click a name for each test.</p>
<table><tr><th>learner</th><th>score</th><th>status</th>{head}</tr>{''.join(rows)}</table>
<h3>Sandbox</h3><ul>{sandbox}</ul></body></html>
"""


def write_all(report: dict, out: Path, formats: tuple[str, ...]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for learner in report["learners"]:
        d = out / learner["name"]
        d.mkdir(exist_ok=True)
        if "json" in formats:
            (d / "results.json").write_text(json.dumps(results_json(learner, report["sandbox"]), indent=2))
        if "gradescope" in formats:
            (d / "gradescope.json").write_text(json.dumps(gradescope(learner), indent=2))
        if "junit" in formats:
            (d / "junit.xml").write_bytes(junit(learner))
    if "csv" in formats:
        header, rows = gradebook_rows(report)
        with open(out / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
    if "html" in formats:
        (out / "report.html").write_text(html_report(report), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(
        {k: v for k, v in report.items() if k != "learners"} | {
            "learners": [{k: learner[k] for k in ("name", "status", "score", "max_score", "message")}
                         for learner in report["learners"]]}, indent=2))


def summary_table(report: dict) -> str:
    rows = [("LEARNER", "SCORE", "STATUS", "NOTE")]
    for learner in report["learners"]:
        note = re.sub(r"[\x00-\x1f\x7f]+", " ", plain_text(learner["message"] or ""))[:70]  # one line each
        rows.append((learner["name"], f"{learner['score']:g}/{learner['max_score']:g}", learner["status"], note))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
