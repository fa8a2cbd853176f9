"""Grading reports: one superset record per learner, exported to what other tools read.

The record is Exercism's ``results.json`` v3 (``version``, ``status``, ``message``,
``tests[]`` with ``name``, ``status``, ``message``, ``output`` ≤ 500 chars,
``test_code``, ``task_id``) plus ``score``/``max_score`` per test and overall and the
checklist item ids as ``tags``. From it: Gradescope's ``results.json``, JUnit XML, a
CSV gradebook and an HTML report (learners × checklist items, with a drill-down).
"""
from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from xml.etree import ElementTree as ET

from ..checklist.items import load_items
from . import spec


def _exercise_record(task) -> dict:
    result = task.result or {"ok": False, "verdict": "error: not graded", "results": []}
    tests = result.get("results", [])
    exercise_id = result.get("exercise") or task.exercise_id
    try:
        max_score = spec.find(exercise_id).points if exercise_id else 0.0
    except Exception:
        max_score = sum(t["max_score"] for t in tests)
    max_score = max(max_score, sum(t["max_score"] for t in tests))
    score = sum(t["score"] for t in tests)
    verdict = result.get("verdict")
    if verdict:
        status = "error"
    elif tests and all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    message = verdict or result.get("error")
    return {"id": exercise_id, "notebook": task.source.name, "status": status, "score": score,
            "max_score": max_score, "message": message, "execution_error": result.get("error"),
            "tests": tests, "work_s": round(result.get("work_s", 0.0), 3)}


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
            for n, t in enumerate(ex["tests"], 1):
                tests.append({
                    "name": f"{ex['id']}: {t['name']}", "status": t["status"], "message": t["message"],
                    "output": (t.get("output") or "")[:500], "test_code": t.get("test_code", ""),
                    "hidden": bool(t.get("hidden")),
                    "task_id": t.get("task_id") or n, "score": t["score"], "max_score": t["max_score"],
                    "tags": t.get("tags", []), "exercise": ex["id"],
                })
            if ex["status"] == "error" and not ex["tests"]:
                tests.append({"name": f"{ex['id']}: (could not be graded)", "status": "error",
                              "message": ex["message"], "output": "", "test_code": "", "task_id": 0,
                              "score": 0.0, "max_score": ex["max_score"], "tags": [], "exercise": ex["id"]})
        statuses = {ex["status"] for ex in exercises}
        status = "error" if statuses == {"error"} else ("pass" if statuses == {"pass"} else "fail")
        problems = [f"{ex['id']}: {ex['message']}" for ex in exercises if ex["message"]]
        if unsandboxed:  # every line of every report says so
            problems.insert(0, "graded WITHOUT a sandbox (--no-sandbox)")
        out.append({
            "version": 3, "name": name, "status": status, "message": "; ".join(problems) or None,
            "score": sum(ex["score"] for ex in exercises), "max_score": sum(ex["max_score"] for ex in exercises),
            "tests": tests, "exercises": exercises,
        })
    return {"learners": out, "sandbox": sandbox_info, "duration_s": round(duration, 2),
            "work_s": round(sum(ex["work_s"] for l in out for ex in l["exercises"]), 2)}


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
    suites = ET.Element("testsuites", name=learner["name"])
    for ex in learner["exercises"]:
        tests = [t for t in learner["tests"] if t["exercise"] == ex["id"]]
        suite = ET.SubElement(suites, "testsuite", name=str(ex["id"]), tests=str(len(tests)),
                              failures=str(sum(t["status"] == "fail" for t in tests)),
                              errors=str(sum(t["status"] == "error" for t in tests)))
        for t in tests:
            case = ET.SubElement(suite, "testcase", classname=f"{learner['name']}.{ex['id']}", name=t["name"])
            if t["status"] != "pass":
                tag = "failure" if t["status"] == "fail" else "error"
                ET.SubElement(case, tag, message=(t["message"] or "")[:500]).text = t["output"]
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def gradebook_rows(report: dict) -> tuple[list[str], list[list]]:
    exercise_ids = sorted({ex["id"] for l in report["learners"] for ex in l["exercises"] if ex["id"]})
    header = ["learner", *exercise_ids, "score", "max_score", "status"]
    rows = []
    for l in report["learners"]:
        by_id = {ex["id"]: ex for ex in l["exercises"]}
        rows.append([l["name"], *[f"{by_id[e]['score']:g}" if e in by_id else "" for e in exercise_ids],
                     f"{l['score']:g}", f"{l['max_score']:g}", l["status"]])
    return header, rows


def checklist_matrix(learner: dict) -> dict[str, tuple[float, float]]:
    """checklist item id → (score, max) over the learner's tests tagged with it."""
    cells: dict[str, list[float]] = {}
    for t in learner["tests"]:
        for tag in t["tags"]:
            got = cells.setdefault(tag, [0.0, 0.0])
            got[0] += t["score"]
            got[1] += t["max_score"]
    return {k: (v[0], v[1]) for k, v in cells.items()}


def html_report(report: dict) -> str:
    items = load_items()
    head = "".join(f"<th title='{html.escape(i.title)}'>{html.escape(i.id)}</th>" for i in items)
    rows = []
    for l in report["learners"]:
        matrix = checklist_matrix(l)
        cells = []
        for i in items:
            if i.id not in matrix:
                cells.append("<td class='na'>·</td>")
                continue
            got, total = matrix[i.id]
            cls = "ok" if got == total else ("part" if got else "bad")
            cells.append(f"<td class='{cls}'>{got:g}/{total:g}</td>")
        details = "".join(
            f"<li class='{t['status']}'>{'✓' if t['status'] == 'pass' else '✗'} {html.escape(t['name'])} "
            f"({t['score']:g}/{t['max_score']:g})"
            + (f"<br><small>{html.escape(t['message'] or '')}</small>" if t["status"] != "pass" else "")
            + "</li>" for t in l["tests"])
        rows.append(
            f"<tr><td><details><summary>{html.escape(l['name'])}</summary><ul>{details}</ul>"
            f"{'<p>' + html.escape(l['message']) + '</p>' if l['message'] else ''}</details></td>"
            f"<td>{l['score']:g}/{l['max_score']:g}</td><td class='{l['status']}'>{l['status']}</td>"
            + "".join(cells) + "</tr>")
    sandbox = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in report["sandbox"].items())
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
    for l in report["learners"]:
        d = out / l["name"]
        d.mkdir(exist_ok=True)
        if "json" in formats:
            (d / "results.json").write_text(json.dumps(results_json(l, report["sandbox"]), indent=2))
        if "gradescope" in formats:
            (d / "gradescope.json").write_text(json.dumps(gradescope(l), indent=2))
        if "junit" in formats:
            (d / "junit.xml").write_bytes(junit(l))
    if "csv" in formats:
        header, rows = gradebook_rows(report)
        with open(out / "gradebook.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
    if "html" in formats:
        (out / "report.html").write_text(html_report(report))
    (out / "summary.json").write_text(json.dumps(
        {k: v for k, v in report.items() if k != "learners"} | {
            "learners": [{k: l[k] for k in ("name", "status", "score", "max_score", "message")}
                         for l in report["learners"]]}, indent=2))


def summary_table(report: dict) -> str:
    rows = [("LEARNER", "SCORE", "STATUS", "NOTE")]
    for l in report["learners"]:
        rows.append((l["name"], f"{l['score']:g}/{l['max_score']:g}", l["status"], (l["message"] or "")[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
