"""The course site (`make site`): Jupyter Book 2 builds it from the same sources, and every
internal link in it resolves — to a page, a figure, a downloadable file, or an anchor that exists."""
from __future__ import annotations

import html
import re
import shutil
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from course.authoring import site as site_module
from course.grading import spec

from helpers import REPO

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="Jupyter Book 2 (mystmd) runs on Node.js")
SECTIONS_WITH_FIGURES = ("01-nodejs", "02-python", "03-go", "06-worker-threads", "08-troubleshooting")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (attribute, value)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value:
                self.refs.append((tag, value))


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def site():
    return site_module.build()


def test_every_internal_link_resolves(site):
    pages = sorted(site_module.HTML.glob("*.html"))
    assert len(pages) == len(site["pages"])
    parsed = {p: parse(p) for p in pages}
    checked = 0
    for page, links in parsed.items():
        for tag, ref in links.refs:
            url = urllib.parse.urlparse(ref)
            if url.scheme in ("http", "https", "mailto", "data"):
                continue
            target = (page.parent / urllib.parse.unquote(url.path)).resolve() if url.path else page
            assert target.is_file(), f"{page.name}: <{tag}> {ref} → no such file"
            if url.fragment and target.suffix == ".html":
                assert url.fragment in parsed[target].ids, f"{page.name}: {ref} → no id {url.fragment!r}"
            checked += 1
    assert checked > 200, "the site should link its pages to each other"


def test_lessons_with_outputs_and_figures_and_one_page_per_exercise(site):
    sources = {p["source"]: p["slug"] for p in site["pages"]}
    lessons = sorted(str(p.relative_to(REPO)) for p in (REPO / "notebooks").rglob("*.ipynb")
                     if ".ipynb_checkpoints" not in p.parts)
    assert set(lessons) <= set(sources), set(lessons) - set(sources)
    for ex in spec.catalogue().values():
        rel = str(ex.exercise_path.relative_to(REPO))
        assert rel in sources, f"no page for the exercise {rel}"
        text = html.unescape(re.sub(r"<[^>]+>", "", (site_module.HTML / f"{sources[rel]}.html").read_text()))
        assert f'course.check("{ex.id}")' in text, f"the page for {rel} lacks its code"
    for section in SECTIONS_WITH_FIGURES:
        pages = [slug for source, slug in sources.items() if source.startswith(f"notebooks/{section}/")]
        images = sum(1 for slug in pages for tag, ref in parse(site_module.HTML / f"{slug}.html").refs
                     if tag == "img" and ref.endswith(".png"))
        assert images >= 1, f"no figure on the site for section {section}"
    index = (site_module.HTML / "index.html").read_text()
    assert 'class="output stdout"' in index, "the index shows what its cells printed"
    assert site["figures"] >= 8


def test_an_unresolved_link_is_reported_with_its_page(tmp_path):
    r = site_module.Renderer("http://127.0.0.1:9", tmp_path)
    r.page = "notebooks/x.ipynb"
    r.node({"type": "link", "url": "nope.md", "urlSource": "nope.md", "children": [{"type": "text", "value": "x"}]})
    r.node({"type": "link", "url": "/frameworks", "internal": True, "children": []})
    assert r.broken == [{"page": "notebooks/x.ipynb", "url": "nope.md"}]
    assert r.href({"type": "link", "url": "/frameworks#id-5", "internal": True}) == "frameworks.html#id-5"
