"""What a test saw, made readable: terminal escapes removed, HTML pages summarised."""
from __future__ import annotations

import pytest

from course.grading import readable


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[90mat file:///srv/app.js:3:7\x1b[39m", "at file:///srv/app.js:3:7"),  # Node's grey stack frames
    ("\x1b[1;31mError\x1b[0m: boom", "Error: boom"),
    ("\x1b]8;;https://nodejs.org\x07docs\x1b]8;;\x07", "docs"),  # OSC 8 hyperlink, BEL-terminated
    ("\x1b]0;title\x1b\\text", "text"),  # OSC ended by ST
    ("10%\r50%\r100%\r\n", "10%\n50%\n100%\n"),  # a progress line redrawn in place
    ("tab\there\x00\x07", "tab\there"),
    (None, ""),
])
def test_plain_removes_what_a_terminal_would_interpret(raw, shown):
    assert readable.plain(raw) == shown


def test_an_html_error_page_is_summarised_by_its_title_and_message():
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n"
            "<body>\n<pre>TypeError: Cannot read properties of undefined (reading &#39;id&#39;)<br> &nbsp; &nbsp;"
            "at /srv/app.js:3:7<br> &nbsp; &nbsp;at Layer.handle (/srv/node_modules/express/lib/router/la")
    assert readable.body(page, "text/html; charset=utf-8") == (
        "HTML page \"Error\": TypeError: Cannot read properties of undefined (reading 'id') "
        "(+ 2 more lines, a stack trace)")


def test_html_is_recognised_without_a_content_type_and_scripts_are_skipped():
    page = "<html><head><style>p{}</style><script>var x = 1;</script></head><body><h1>502 Bad Gateway</h1>" \
           "<p>nginx</p></body></html>"
    assert readable.body(page) == "HTML page: 502 Bad Gateway / nginx"


def test_other_bodies_are_only_made_plain():
    assert readable.body('{"error": {"code": "NOT_FOUND"}}', "application/json") == '{"error": {"code": "NOT_FOUND"}}'
    assert readable.body("\x1b[31mred\x1b[0m", "text/plain") == "red"
