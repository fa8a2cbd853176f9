"""A learner's first minutes: the URL `make lab` prints, the first screen, the file browser, the index."""
from __future__ import annotations

import re
import time

import pytest

import browser_lab as bl

expect = pytest.importorskip("playwright.sync_api").expect

INDEX = "notebooks/index.ipynb"


def test_the_printed_url_opens_the_index_and_nothing_covers_it(page, lab):
    page.goto(lab.url)
    bl.wait_open(page, "index.ipynb")
    current = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(current).to_have_attribute("title", re.compile(rf"Path: {re.escape(INDEX)}"))
    expect(bl.notebook(page, "index.ipynb").locator("h1", has_text="Backend Patterns Lab")).to_be_visible()
    assert page.locator(".jp-Launcher").count() == 0, "the Launcher is open: the URL should land on the index"
    # JupyterLab asks "Would you like to receive official Jupyter news?" once it is restored
    time.sleep(2)
    toasts = page.locator(".Toastify__toast")
    assert toasts.count() == 0, f"a notification covers the page: {toasts.all_inner_texts()}"


@pytest.fixture
def artefacts():
    """Build artefacts as a learner's checkout has them (the egg-info appears with some pip
    versions only: made here if missing, removed after)."""
    made = []
    egg = bl.REPO / "backend_patterns_lab.egg-info"
    if not egg.exists():
        egg.mkdir()
        made.append(egg)
    node_modules = bl.REPO / "course" / "projects" / "node" / "node_modules"
    assert node_modules.is_dir(), "make setup installs node_modules"
    assert (bl.REPO / "_build").is_dir()  # the lab fixture's scratch folder lives there
    yield
    for path in made:
        path.rmdir()


def listing(page, folder: str) -> list[str]:
    """The names the file browser shows in ``folder`` (relative to the root), reached by
    clicking, as a learner would: the home crumb, then each folder."""
    browser = page.locator(".jp-FileBrowser")

    def item(name: str):
        return browser.locator(".jp-DirListing-item", has=page.locator(".jp-DirListing-itemText",
                                                                        has_text=re.compile(f"^{re.escape(name)}$")))

    browser.locator(".jp-BreadCrumbs-home").click()
    expect(item("notebooks")).to_be_visible()  # the root's listing, not the previous folder's
    for part in [p for p in folder.split("/") if p]:
        item(part).dblclick()
        expect(browser.locator(".jp-BreadCrumbs")).to_contain_text(part)
        expect(item(part)).to_have_count(0)  # the parent's listing is gone
    page.wait_for_timeout(500)
    return browser.locator(".jp-DirListing-itemText").all_inner_texts()


def test_build_artefacts_are_not_in_the_file_browser(page, lab, artefacts):
    page.goto(lab.url)
    bl.wait_open(page, "index.ipynb")
    root = listing(page, "")
    assert {"notebooks", "exercises", "README.md"} <= set(root), root
    shown = [name for name in root if name == "_build" or name.endswith(".egg-info")]
    assert not shown, f"build artefacts in the file browser: {shown}"
    node = listing(page, "course/projects/node")
    assert "package.json" in node and "node_modules" not in node, node


def index_links() -> list[str]:
    """Every relative link in the index's Markdown, as written."""
    text = (bl.REPO / "notebooks" / "index.md").read_text()
    return [link for link in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"\w+:", link)]


def test_each_index_link_opens_its_notebook(page, lab):
    written = index_links()
    assert len(written) > 20, written
    page.goto(lab.url)
    index = bl.wait_open(page, "index.ipynb")
    links = index.locator(".jp-RenderedMarkdown a[href]:not(.jp-InternalAnchorLink)")
    expect(links).to_have_count(len(written))
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    before = {link: (bl.REPO / "notebooks" / link).resolve().read_bytes() for link in written}
    for n, link in enumerate(written):
        target = (bl.REPO / "notebooks" / link).resolve().relative_to(bl.REPO.resolve())
        infos = bl.kernel_infos(page)
        links.nth(n).click()
        expect(tab).to_have_attribute("title", re.compile(rf"Path: {re.escape(str(target))}$", re.MULTILINE),
                                      timeout=30_000)
        if link.endswith(".ipynb"):
            bl.wait_open(page, target.name, infos)  # closing it while its kernel starts makes JupyterLab log errors
            assert not bl.is_dirty(page), f"opening {link} marked it modified"
        else:
            page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden) .jp-FileEditor, "
                         ".jp-MainAreaWidget:not(.lm-mod-hidden) .jp-RenderedMarkdown").first.wait_for()
        assert page.locator(".jp-Dialog").count() == 0, f"{link}: {page.locator('.jp-Dialog').inner_text()}"
        bl.close_tab(page)
        expect(tab).to_have_attribute("title", re.compile(rf"Path: {re.escape(INDEX)}"))
        lab.end_sessions(keep=(INDEX,))  # closing a tab leaves its kernel running
    changed = [link for link, data in before.items() if (bl.REPO / "notebooks" / link).resolve().read_bytes() != data]
    assert not changed, f"opening them changed {changed}"
