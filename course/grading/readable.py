"""What a test saw, made readable in a feedback panel.

Servers write for terminals and browsers, not for a notebook panel: Node colours its stack
traces (``\\x1b[90m at file:///…``), and Express answers an uncaught error with an HTML page
whose text is one ``<pre>`` under a ``<title>``. Shown raw, the escapes read as ``[90m``
noise and the page as markup cut off mid-path. These functions turn both into plain text;
the panel and the plain-text report use them for every message, body and log they show.
"""
from __future__ import annotations

import html.parser
import re

# CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST) and the other
# two-byte escapes (ECMA-48): everything a terminal would interpret rather than print.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what remains unprintable (tabs, newlines kept)
SUMMARY_LINES = 3


def plain(text: str | None) -> str:
    """``text`` without terminal escapes or other control characters; carriage returns
    become newlines (a progress line redrawn in place reads as its successive states)."""
    if not text:
        return ""
    text = ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL.sub("", text)


def is_html(body: str | None, content_type: str | None = None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = (body or "").lstrip()[:100].lower()
    return head.startswith(("<!doctype html", "<html"))


class _Text(html.parser.HTMLParser):
    """The title and the visible text of a page; ``<br>`` and block ends are line breaks."""

    BREAKS = {"br", "p", "div", "pre", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "title"}
    SKIP = {"script", "style", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.text.append("\n")
        elif tag not in ("meta", "link", "img", "input", "hr"):  # void elements never close
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass
        if tag in self.BREAKS:
            self.text.append("\n")

    def handle_data(self, data):
        if "title" in self._open:
            self.title.append(data)
        elif not self.SKIP.intersection(self._open):
            self.text.append(data)


def summarise_html(body: str) -> str:
    """A page as its title and first lines of text, e.g. ``HTML page "Error": Error: kaboom
    (+ 9 more lines)`` for Express's error page; stack frames (``at …``) are counted, not shown."""
    parser = _Text()
    parser.feed(body)
    parser.close()
    title = " ".join("".join(parser.title).split())
    lines = [" ".join(line.split()) for line in "".join(parser.text).splitlines()]
    lines = [line for line in lines if line]
    frames = [line for line in lines if line.startswith("at ")]
    shown = [line for line in lines if not line.startswith("at ")][:SUMMARY_LINES]
    more = len(lines) - len(shown)
    out = f'HTML page "{title}"' if title else "HTML page"
    if shown:
        out += ": " + " / ".join(shown)
    if more:
        out += f" (+ {more} more line{'s' if more != 1 else ''}{', a stack trace' if frames else ''})"
    return plain(out)


def body(text: str | None, content_type: str | None = None) -> str:
    """A response body as a learner should read it: HTML summarised, anything else plain."""
    if not text:
        return ""
    return summarise_html(text) if is_html(text, content_type) else plain(text)
