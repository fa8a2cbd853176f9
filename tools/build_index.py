"""Generate notebooks/index.ipynb, the course's front door (run: python tools/build_index.py)."""
from pathlib import Path

from nb import write

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {
    "01-nodejs": "Node.js — Express, Fastify, NestJS",
    "02-python": "Python — FastAPI, Django REST, Flask, asyncio",
    "03-go": "Go — net/http, gorilla/mux, gin, goroutines",
    "04-java": "Java — Spring Boot",
    "05-error-handling": "Centralized error handling",
    "06-worker-threads": "Worker threads and CPU work",
    "07-production-checklist": "The production checklist",
    "08-troubleshooting": "Troubleshooting",
}


def contents() -> str:
    """Links to every lesson and its exercises, from the folders as they are."""
    lines = ["## The course", ""]
    for folder, title in SECTIONS.items():
        lessons = sorted((ROOT / "notebooks" / folder).glob("*.ipynb"))
        links = ", ".join(f"[{p.stem.split('-', 1)[-1].replace('-', ' ')}]({folder}/{p.name})" for p in lessons)
        exercises = ROOT / "exercises" / folder
        more = f" · [exercises](../exercises/{folder}/)" if exercises.is_dir() else ""
        lines.append(f"{folder[:2]}. **{title}**: {links or '(coming)'}{more}")
    lines += ["", "Capstone: `course new --framework NAME DIR`, then make `course check DIR` pass all 11 items "
              "([the contract](../docs/service-contract.md))."]
    return "\n".join(lines)

CELLS = [
    ("md", """
# Backend Patterns Lab

**Goal:** get your bearings — how the course runs real Node.js, Python, Go and Java code from
this notebook, and how your work is checked against the **production checklist**.

Every lesson runs real toolchains and real frameworks. Python runs in this kernel; the other
languages run through cell magics (`%%node`, `%%ts`, `%%go`, `%%java`, and `%%py` for a separate
Python process). Load them once per notebook:
"""),
    ("code", "%load_ext course"),
    ("md", contents()),
    ("md", """
## 1. Is your machine ready?

`course doctor` (here, or in a terminal) lists each toolchain, its version and how to install it
if it is missing. Lessons that need a missing toolchain are skipped, not failed.
"""),
    ("code", """
import course
from course import toolchains

report = toolchains.doctor()
for name, tool in report["toolchains"].items():
    print(("✓" if tool["ok"] else "✗"), name, tool["version"] or "missing", "" if tool["ok"] else tool["hint"])
"""),
    ("md", """
## 2. Four languages, one notebook

Each cell below is a real program: compiled if the language needs it, run in its own process,
its output streamed here. A program that fails to compile, exits non-zero or runs past its
`--timeout` raises an exception, so the cell fails — in JupyterLab, in papermill and in CI.
"""),
    ("code", """
%%node
const { arch, version } = process;
console.log(`Node.js ${version} says hello (${arch})`);
"""),
    ("code", """
%%go
package main

import (
\t"fmt"
\t"runtime"
)

func main() { fmt.Println("Go says hello:", runtime.Version() >= "go1.21") }
"""),
    ("code", """
%%java
public class Hello {
    public static void main(String[] args) {
        System.out.println("Java says hello: " + (Runtime.version().feature() >= 17));
    }
}
"""),
    ("md", """
## 3. Servers: start one, probe it, stop it

`--serve NAME` starts the cell as a background server. It gets a free port in `$PORT`, the cell
returns once the port accepts connections, and `course.url(NAME)` gives its address. `%servers`
lists them, `%logs NAME` shows the end of a log, `%stop NAME` (or `%stop --all`) stops them.
Servers never outlive the kernel.
"""),
    ("code", """
%%node --serve hello
import express from "express";

const app = express();
app.get("/health", (req, res) => res.json({ status: "ok" }));
app.listen(Number(process.env.PORT), "127.0.0.1");
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
import httpx, course

response = httpx.get(course.url("hello") + "/health")
print(response.status_code, response.json())
"""),
    ("code", "%stop hello"),
    ("md", """
## 4. The map of the course: the production checklist

Every exercise and capstone is graded against these eleven items by starting your real server and
probing it from outside (`course check APP_DIR`): the same grader for every language.
"""),
    ("code", """
# NBVAL_CHECK_OUTPUT
from course.checklist.items import load_items

for n, item in enumerate(load_items(), 1):
    print(f"{n:>2}. {item.id:<20} {item.title}")
"""),
    ("md", """
## 5. Your progress

Every time an exercise's last cell runs its checks, the result is remembered on this machine.
"""),
    ("code", "course.progress()"),
    ("md", """
## 6. How feedback and grading work

- **In JupyterLab**: the last cell of each exercise calls `course.check("<exercise-id>")` and shows
  what passed, what failed, the request and response, and a hint.
- **In your repository's CI**: `pytest --nbval-lax exercises/` fails while any check fails.
- **For instructors**: `course grade` runs every submission in a sandbox and reports against the
  checklist.

## Recap
You can run four languages from a notebook, start and probe servers, and you know the eleven
items everything is measured against. Next: the Node.js section.
"""),
]

if __name__ == "__main__":
    write(ROOT / "notebooks" / "index.ipynb", CELLS)
