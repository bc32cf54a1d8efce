"""The Sources page in real headless Chromium: the charts are drawn, a click on a source lists what it said, and a
click on that opens the annotation page with the quote selected."""

from __future__ import annotations

import time

import pytest

from annotator.annotations import add_link, add_span

from .conftest import log_in, own_project, select_first_row, server_store, wait_ready

pytestmark = pytest.mark.browser
TEXT = "قال وزير الخارجية ماركو روبيو إن الاتفاق قريب، وأكد روبيو أن المحادثات مستمرة."


@pytest.fixture
def sources_doc(app_db):
    """A project of its own (rana reviews it) where amal tagged two sources with a claim each."""
    with server_store(app_db) as store:
        doc = own_project(store, "Sources flow", ("amal", "rana"), "من قال", TEXT)
        amal = store.user_by_username("amal")
        for source, content in (("وزير الخارجية ماركو روبيو", "الاتفاق قريب"), ("روبيو", "المحادثات مستمرة")):
            i, j = TEXT.index(source), TEXT.index(content)
            s = add_span(store, amal, doc.id, "SOURCE", i, i + len(source))
            c = add_span(store, amal, doc.id, "CLAIM", j, j + len(content))
            add_link(store, amal, c.id, s.id)
    return doc


def test_sources_charts_and_click_through(page, base_url, app_db, sources_doc):
    log_in(page, base_url, "rana")
    page.goto(f"{base_url}/?doc={sources_doc.id}")  # the annotation page makes this the session's project
    wait_ready(page)
    page.get_by_role("link", name="Sources").click()
    wait_ready(page)
    page.get_by_text("Click a source to see what is attributed to it.").wait_for()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.first.wait_for()
    assert charts.count() == 1  # top sources; no cue is linked, so the page says so instead of a heat map
    page.get_by_text("No cue is linked").wait_for()
    tables = page.locator('[data-testid="stDataFrame"]')
    select_first_row(page, tables.first)  # the first source
    page.get_by_text("Attributed to").wait_for()
    second = tables.nth(1)
    second.wait_for()
    select_first_row(page, second)
    page.wait_for_url(lambda url: "/sources" not in url and f"doc={sources_doc.id}" in url, timeout=30_000)
    wait_ready(page)
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
    # one of the two claims is selected on arrival: its offsets are in the status line
    starts = [TEXT.index(c) for c in ("الاتفاق قريب", "المحادثات مستمرة")]
    status = page.locator('[data-nisba="status"]')
    status.wait_for()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(f"{s}–" in status.inner_text() for s in starts):
        page.wait_for_timeout(100)
    assert any(f"{s}–" in status.inner_text() for s in starts), status.inner_text()
