"""``course site``: the course as a static HTML site, built by Jupyter Book 2 (mystmd).

``myst.yml`` lists what the site holds: the index, every lesson with its stored outputs and
figures, one page per exercise (the learner's notebook from ``exercises/``) and the capstone's
service contract. ``jupyter-book build --html`` parses them, resolves every link between them,
extracts figures and serves the result as JSON (one AST per page). Its default theme would be
downloaded at build time, so the course ships its own small site template
(``course/authoring/site_template``): its ``build.render`` step runs :func:`main`, which turns
that JSON into plain static HTML — no JavaScript needed to read a lesson, and the site opens
from disk (``_build/html/index.html``) as well as from any static host.

A link that mystmd could not resolve to a page or a file fails the build, naming the page
and the link.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .. import paths
from ..errors import CourseError

BUILD = paths.REPO / "_build"
HTML = BUILD / "html"
REPORT = "site-report.json"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAGIC_LEXERS = {"%%node": "javascript", "%%ts": "typescript", "%%go": "go", "%%java": "java", "%%py": "python3",
                "%%bash": "bash", "%%sh": "bash", "%%html": "html", "%%javascript": "javascript"}


class SiteError(CourseError):
    pass


# ---------------------------------------------------------------------------------------
# the build, as `course site` runs it


def jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    found = str(exe) if exe.exists() else shutil.which("jupyter-book")
    if not found:
        raise SiteError("jupyter-book (Jupyter Book 2) is not installed: run `make setup` "
                        "(or pip install 'jupyter-book>=2')")
    if not shutil.which("node"):
        raise SiteError("Jupyter Book 2 runs on Node.js, which is not on PATH: `course doctor` says how to install it")
    return found


def build(*, timeout: float = 600) -> dict:
    """Run ``jupyter-book build --html`` at the repository root; return the site report."""
    exe = jupyter_book()
    report = HTML / REPORT
    report.unlink(missing_ok=True)
    env = {**os.environ, "COURSE_PYTHON": sys.executable, "CI": os.environ.get("CI", "")}
    env.pop("HOST", None)  # mystmd serves its content on localhost; a cell's HOST must not leak in
    start = time.monotonic()
    proc = subprocess.run([exe, "build", "--html"], cwd=paths.REPO, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    seconds = time.monotonic() - start
    # mystmd reads notebook metadata as front matter and notes the jupytext keys it has no use for
    warnings = [line.strip() for line in proc.stdout.splitlines() if line.lstrip().startswith(("⚠", "⛔"))
                and "'jupytext' extra keys ignored" not in line]
    if not report.exists():
        raise SiteError(f"jupyter-book build --html failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
    result = json.loads(report.read_text())
    result.update(seconds=seconds, warnings=warnings, returncode=proc.returncode)
    if result["broken_links"]:
        raise SiteError("links that do not resolve to a page or a file:\n  "
                        + "\n  ".join(f"{b['page']}: {b['url']}" for b in result["broken_links"]))
    if proc.returncode != 0:
        raise SiteError(f"jupyter-book build --html failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
    return result


def cmd_site(args) -> int:
    result = build()
    for warning in result["warnings"]:
        print(warning, file=sys.stderr)
    print(f"✓ {len(result['pages'])} pages, {result['figures']} figures, "
          f"{result['links']} internal links checked, in {result['seconds']:.0f} s: "
          f"{os.path.relpath(HTML / 'index.html')}")
    if args.out:
        shutil.copytree(HTML, args.out, dirs_exist_ok=True)
        print(f"copied to {args.out}")
    return 0


# ---------------------------------------------------------------------------------------
# the renderer mystmd runs (site_template/template.yml, build.render)


class Renderer:
    def __init__(self, cdn: str, out: Path):
        self.cdn = cdn.rstrip("/")
        self.out = out
        self.assets: dict[str, str] = {}  # content-server path -> site-relative path
        self.broken: list[dict] = []
        self.links = 0
        self.figures = 0
        self.page = ""
        from pygments.formatters import HtmlFormatter

        self.formatter = HtmlFormatter(nowrap=True)

    # -- fetching ---------------------------------------------------------------------
    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.cdn + urllib.parse.quote(path)) as response:
            return response.read()

    def get_json(self, path: str):
        return json.loads(self.get(path))

    def asset(self, url: str) -> str:
        """Copy a file the content server has (a figure, a downloadable file) into build/."""
        if url not in self.assets:
            name = Path(urllib.parse.urlparse(url).path).name
            target = self.out / "build" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.get(url))
            self.assets[url] = f"build/{name}"
        return self.assets[url]

    # -- links ------------------------------------------------------------------------
    def href(self, node: dict) -> str:
        url = node.get("url") or ""
        if url.startswith(("http://", "https://", "mailto:")):
            return url
        if url.startswith("#"):
            self.links += 1
            return url
        if node.get("static") and url.startswith("/"):
            self.links += 1
            return self.asset(url)
        if node.get("internal") or (node.get("type") == "crossReference" and url.startswith("/")):
            self.links += 1
            path, _, fragment = url.partition("#")
            slug = path.strip("/") or "index"
            return f"{slug}.html" + (f"#{fragment}" if fragment else "")
        if node.get("type") == "crossReference" and node.get("identifier"):
            self.links += 1
            return f"#{node.get('html_id') or node['identifier']}"
        self.broken.append({"page": self.page, "url": node.get("urlSource") or url})
        return url

    # -- nodes ------------------------------------------------------------------------
    def children(self, node: dict) -> str:
        return "".join(self.node(c) for c in node.get("children", []))

    def node(self, n: dict) -> str:  # one branch per node type
        t = n.get("type")
        esc = html.escape
        if t == "text":
            return esc(n.get("value", ""))
        if t in ("root", "block"):
            inner = self.children(n)
            if t == "block" and n.get("kind") == "notebook-code":
                return f'<div class="cell" id="{esc(n.get("html_id") or n.get("identifier") or "")}">{inner}</div>'
            return inner
        if t == "paragraph":
            return f"<p>{self.children(n)}</p>\n"
        if t == "heading":
            depth = min(6, int(n.get("depth", 2)))
            anchor = n.get("html_id") or n.get("identifier") or ""
            return (f'<h{depth} id="{esc(anchor)}">{self.children(n)}'
                    f'<a class="anchor" href="#{esc(anchor)}" aria-label="link to this section">#</a></h{depth}>\n')
        if t == "emphasis":
            return f"<em>{self.children(n)}</em>"
        if t == "strong":
            return f"<strong>{self.children(n)}</strong>"
        if t == "delete":
            return f"<del>{self.children(n)}</del>"
        if t in ("subscript", "superscript"):
            tag = "sub" if t == "subscript" else "sup"
            return f"<{tag}>{self.children(n)}</{tag}>"
        if t == "inlineCode":
            return f"<code>{esc(n.get('value', ''))}</code>"
        if t in ("inlineMath", "math"):
            return f'<code class="math">{esc(n.get("value", ""))}</code>'
        if t == "break":
            return "<br>"
        if t == "thematicBreak":
            return "<hr>\n"
        if t == "blockquote":
            return f"<blockquote>{self.children(n)}</blockquote>\n"
        if t in ("link", "crossReference"):
            return f'<a href="{esc(self.href(n))}">{self.children(n) or esc(n.get("url", ""))}</a>'
        if t == "list":
            tag = "ol" if n.get("ordered") else "ul"
            start = f' start="{int(n["start"])}"' if n.get("ordered") and n.get("start") not in (None, 1) else ""
            return f"<{tag}{start}>{self.children(n)}</{tag}>\n"
        if t == "listItem":
            inner = self.children(n)
            if not n.get("spread"):
                inner = re.sub(r"^<p>(.*)</p>\n$", r"\1", inner, flags=re.S) if inner.count("<p>") == 1 else inner
            return f"<li>{inner}</li>\n"
        if t == "table":
            return f"<div class='table'><table>{self.children(n)}</table></div>\n"
        if t == "tableRow":
            return f"<tr>{self.children(n)}</tr>"
        if t == "tableCell":
            tag = "th" if n.get("header") else "td"
            align = f' style="text-align:{n["align"]}"' if n.get("align") else ""
            return f"<{tag}{align}>{self.children(n)}</{tag}>"
        if t == "code":
            return self.code(n.get("value", ""), n.get("lang"), executable=n.get("executable", False))
        if t == "outputs":
            return "".join(self.output(o) for o in n.get("children", []) if o.get("type") == "output")
        if t == "output":
            return self.output(n)
        if t == "image":
            src = n.get("url", "")
            if src.startswith("/"):
                src = self.asset(src)
            alt = esc(n.get("alt") or "")
            return f'<img src="{esc(src)}" alt="{alt}">'
        if t == "html":
            return n.get("value", "")
        if t == "admonition":
            kind = esc(n.get("kind", "note"))
            return f'<aside class="admonition {kind}">{self.children(n)}</aside>\n'
        if t == "admonitionTitle":
            return f"<p class='admonition-title'>{self.children(n)}</p>"
        if t in ("container", "figure"):
            return f"<figure>{self.children(n)}</figure>\n"
        if t == "caption":
            return f"<figcaption>{self.children(n)}</figcaption>"
        if t in ("comment", "mystComment", "footnoteDefinition"):
            return ""
        return self.children(n)  # anything else: its content, never nothing

    def code(self, source: str, lang: str | None, *, executable: bool = False) -> str:
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        lexer_name = lang or "text"
        body = source
        magic = ""
        if executable and source.startswith("%%"):
            first, _, rest = source.partition("\n")
            lexer_name = MAGIC_LEXERS.get(first.split()[0], lexer_name)
            magic, body = first, rest
        if lexer_name in ("ipython3", "ipython"):
            lexer_name = "python3"
        try:
            lexer = get_lexer_by_name(lexer_name)
        except ClassNotFound:
            lexer = get_lexer_by_name("text")
        highlighted = highlight(body, lexer, self.formatter)
        head = f'<span class="magic">{html.escape(magic)}</span>\n' if magic else ""
        cls = "code input" if executable else "code"
        return f'<pre class="{cls} highlight">{head}{highlighted}</pre>\n'

    def _text(self, entry: dict) -> str:
        if "content" in entry:
            return entry["content"]
        return self.get(entry["path"]).decode("utf-8", "replace")

    def output(self, node: dict) -> str:
        data = node.get("jupyter_data") or {}
        kind = data.get("output_type")
        if kind == "stream":
            text = ANSI.sub("", "".join(data.get("text", "")))
            return f'<pre class="output {html.escape(data.get("name", "stdout"))}">{html.escape(text)}</pre>\n'
        if kind == "error":
            text = ANSI.sub("", "\n".join(data.get("traceback") or [f"{data.get('ename')}: {data.get('evalue')}"]))
            return f'<pre class="output error">{html.escape(text)}</pre>\n'
        bundle = data.get("data") or {}
        for mime in ("image/png", "image/jpeg", "image/svg+xml"):
            if mime in bundle:
                entry = bundle[mime]
                self.figures += 1
                if "path" in entry:
                    src = self.asset(entry["path"])
                else:
                    src = f"data:{mime};base64,{entry.get('content', '')}"
                alt = html.escape(self._text(bundle["text/plain"]) if "text/plain" in bundle else "figure")
                return f'<div class="output figure"><img src="{html.escape(src)}" alt="{alt}"></div>\n'
        if "text/html" in bundle:
            return f'<div class="output html">{self._text(bundle["text/html"])}</div>\n'
        if "text/plain" in bundle:
            text = ANSI.sub("", self._text(bundle["text/plain"]))
            return f'<pre class="output result">{html.escape(text)}</pre>\n'
        return ""

    # -- pages ------------------------------------------------------------------------
    def render(self) -> dict:
        config = self.get_json("/config.json")
        project = config["projects"][0]
        prefix = f"/content/{project['slug']}" if project.get("slug") else "/content"
        entries = [{"slug": project["index"], "title": None, "level": 0}] + project["pages"]
        pages = [e for e in entries if e.get("slug")]
        rendered = []
        for i, entry in enumerate(pages):
            page = self.get_json(f"{prefix}/{entry['slug']}.json")
            entry["title"] = entry.get("title") or page["frontmatter"].get("title") or entry["slug"]
            self.page = page.get("location", entry["slug"]).lstrip("/")
            body = self.node(page["mdast"])
            prev_page = pages[i - 1] if i > 0 else None
            next_page = pages[i + 1] if i + 1 < len(pages) else None
            rendered.append((entry, page, body, prev_page, next_page))
        title = project.get("title") or "Course"
        for entry, page, body, prev_page, next_page in rendered:
            nav = self.nav(entries, entry["slug"])
            source = page.get("location", "").lstrip("/")
            downloads = "".join(
                f' · <a href="{html.escape(self.asset(e["url"]))}" download="{html.escape(e["filename"])}">'
                f'download {html.escape(e["filename"])}</a>'
                for e in page["frontmatter"].get("exports", []) if e.get("url"))
            pager = ""
            if prev_page:
                pager += f'<a class="prev" href="{prev_page["slug"]}.html">← {html.escape(prev_page["title"])}</a>'
            if next_page:
                pager += f'<a class="next" href="{next_page["slug"]}.html">{html.escape(next_page["title"])} →</a>'

            doc = PAGE.format(title=html.escape(entry["title"]), site=html.escape(title), nav=nav, body=body,
                              source=html.escape(source), downloads=downloads, pager=pager)
            (self.out / f"{entry['slug']}.html").write_text(doc, encoding="utf-8")
        from pygments.formatters import HtmlFormatter

        (self.out / "site.css").write_text(CSS + HtmlFormatter().get_style_defs(".highlight"), encoding="utf-8")
        report = {"pages": [{"slug": e["slug"], "title": e["title"], "source": p.get("location", "").lstrip("/")}
                            for e, p, *_ in rendered],
                  "figures": self.figures, "links": self.links, "broken_links": self.broken}
        (self.out / REPORT).write_text(json.dumps(report, indent=1), encoding="utf-8")
        return report

    def nav(self, entries: list[dict], current: str) -> str:
        items = []
        for e in entries:
            if not e.get("slug"):
                items.append(f'<li class="group">{html.escape(e.get("title", ""))}</li>')
                continue
            cls = ' class="current"' if e["slug"] == current else ""
            label = e.get("title") or "Start here"
            items.append(f'<li{cls}><a href="{e["slug"]}.html">{html.escape(label)}</a></li>')
        return "<ul>" + "".join(items) + "</ul>"


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {site}</title>
<link rel="stylesheet" href="site.css">
</head>
<body>
<nav class="site"><a class="home" href="index.html">{site}</a>{nav}</nav>
<main>
<h1>{title}</h1>
<p class="source">source: <code>{source}</code>{downloads}</p>
{body}
<footer class="pager">{pager}</footer>
</main>
</body>
</html>
"""

CSS = """
body { margin: 0; display: flex; font: 16px/1.55 system-ui, sans-serif; color: #1f2328; }
nav.site { width: 18rem; flex: none; height: 100vh; overflow-y: auto; position: sticky; top: 0;
           background: #f6f8fa; border-right: 1px solid #d0d7de; padding: 1rem; box-sizing: border-box;
           font-size: 14px; }
nav.site ul { list-style: none; padding: 0; margin: .5rem 0; }
nav.site li { margin: .15rem 0; }
nav.site li.group { margin-top: .9rem; font-weight: 600; color: #57606a; }
nav.site li.current > a { font-weight: 600; color: #0969da; }
nav.site a.home { font-weight: 700; font-size: 16px; }
a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
main { max-width: 60rem; padding: 1rem 2.5rem 4rem; min-width: 0; }
h1, h2, h3 { line-height: 1.25; } a.anchor { margin-left: .4rem; color: #d0d7de; font-size: .8em; }
p.source { color: #57606a; font-size: 13px; }
code { background: #eff1f3; padding: .1em .3em; border-radius: 4px; font-size: 90%; }
pre { tab-size: 4; background: #f6f8fa; padding: .75rem 1rem; overflow-x: auto; border-radius: 6px;
      font-size: 13px; line-height: 1.45; }
pre code { background: none; padding: 0; }
.cell { margin: 1rem 0; } .cell pre.input { border-left: 3px solid #0969da; margin-bottom: .25rem; }
pre.output { background: #fff; border: 1px solid #d0d7de; margin-top: 0; }
pre.output.stderr { background: #fff8f0; } pre.output.error { background: #ffebe9; }
span.magic { color: #8250df; font-weight: 600; }
div.output.figure img { max-width: 100%; height: auto; }
div.table { overflow-x: auto; } table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; vertical-align: top; } th { background: #f6f8fa; }
blockquote { border-left: 4px solid #d0d7de; margin: 0; padding: 0 1rem; color: #57606a; }
footer.pager { display: flex; justify-content: space-between; margin-top: 3rem; border-top: 1px solid #d0d7de;
               padding-top: 1rem; }
"""


def main() -> int:
    """Entry point of the template's render step."""
    cdn, out = os.environ.get("CONTENT_CDN"), os.environ.get("BUILD_DIRECTORY")
    if not cdn or not out:
        print("run by `jupyter-book build --html` (it sets CONTENT_CDN and BUILD_DIRECTORY): use `course site`",
              file=sys.stderr)
        return 2
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Renderer(cdn, out_dir).render()
    for b in report["broken_links"]:
        print(f"broken link: {b['page']}: {b['url']}", file=sys.stderr)
    print(f"rendered {len(report['pages'])} pages, {report['figures']} figures")
    return 1 if report["broken_links"] else 0
