"""Markdown payloads in every user-controlled field, in real headless Chromium: a label name and description, a
document title, every display name and a comment hold ``![i](http://127.0.0.1:9/x.png)``, ``[x](http://127.0.0.1:9/)``,
``$x$``, ``:red[x]`` and ``<img src=x onerror=alert(1)>``. On every page each role can open, the browser makes no
request to 127.0.0.1:9, the page has no link or image pointing there, and no dialog opens (issue 9)."""

from __future__ import annotations

import sqlite3

import pytest

from annotator import review
from annotator.annotations import add_span
from annotator.demo import ensure_demo
from annotator.store import Store

from .conftest import log_in, running_app, wait_ready

pytestmark = pytest.mark.browser
PAYLOADS = ["![i](http://127.0.0.1:9/x.png)", "[x](http://127.0.0.1:9/)", "$x$", ":red[x]", "<img src=x onerror=alert(1)>"]
LABEL = "![i](http://127.0.0.1:9/x.png)"  # a label name holds no spaces, quotes or <>: this payload fits
PAGES = {
    "admin": ["", "settings", "search", "sources", "review", "agreement", "users", "audit_log", "import_data", "export_data"],
    "rana": ["", "settings", "search", "sources", "review", "agreement"],
    "amal": ["", "settings", "search", "sources"],
}


def hostile_db(path) -> None:
    store = Store(path)
    ensure_demo(store)
    project = store.list_projects()[0]
    doc = store.list_documents(project.id)[0]
    users = {u.username: u for u in store.list_users()}
    with store.write():
        store.insert_label(
            project.id,
            {"name": LABEL, "kind": "content", "colour": "#123456", "hotkey": "", "position": 9,
             "description": " ".join(PAYLOADS), "attributes": {}},
        )  # fmt: skip
        for u in users.values():
            store.update_user(u.id, display_name=" ".join(PAYLOADS))
    text = doc.text
    q = text.index("بالضغط على حكوماتهم المضيفة")
    span = add_span(store, users["amal"], doc.id, LABEL, q, q + 27)
    add_span(store, users["badr"], doc.id, "CLAIM", q, q + 27)
    review.add_comment(store, users["rana"], "span", span.id, " ".join(PAYLOADS))
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE documents SET title = ? WHERE id = ?", (" ".join(PAYLOADS), doc.id))
    conn.close()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    hostile_db(tmp / "hostile.db")
    with running_app(tmp / "hostile.db", tmp / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("user", list(PAGES))
def test_no_page_fetches_links_or_runs_a_payload(browser, hostile_app, user):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    fetched, dialogs = [], []
    page.on("request", lambda r: fetched.append(r.url) if "127.0.0.1:9/" in r.url else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        log_in(page, hostile_app, user)
        for path in PAGES[user]:
            page.goto(f"{hostile_app}/{path}")
            wait_ready(page)
            page.wait_for_timeout(500)  # images and iframes start loading after the script finished
            body = page.inner_text("body")
            assert "Traceback" not in body, (user, path)
            assert page.locator('a[href*="127.0.0.1:9"]').count() == 0, (user, path)
            assert page.locator('img[src*="127.0.0.1:9"], img[src="x"]').count() == 0, (user, path)
            for frame in page.frames[1:]:  # components render in iframes
                assert frame.locator('a[href*="127.0.0.1:9"], img[src*="127.0.0.1:9"]').count() == 0, (user, path)
        assert fetched == [] and dialogs == []
        if user != "amal":  # the payload label is on their settings page, shown as text
            page.goto(f"{hostile_app}/settings")
            wait_ready(page)
            assert "127.0.0.1:9/x.png" in page.inner_text("body")
    finally:
        context.close()
