"""Search in real headless Chromium: type «قال» without harakat, find «قَالَ», click the row, and the annotation
page opens on that document with the hit selected."""

from __future__ import annotations

import pytest

from .conftest import open_app, own_project, poll, select_first_row, server_store, wait_ready

pytestmark = pytest.mark.browser
TEXT = "قَالَ الوزير إن الخطة جاهزة، ثم غادر."


@pytest.fixture
def search_doc(app_db):
    """A project of its own (amal a member) with one vocalised sentence, so no other test's documents match."""
    with server_store(app_db) as store:
        return own_project(store, "Search flow", ("amal",), "بحث", TEXT)


def _text_edge(page, box) -> str:
    """Which edge of the field its text is drawn against: measured by drawing the value in a span with the field's
    font, direction and alignment rules, as Chromium resolves them for the field."""
    return box.evaluate(
        """e => {
            const s = getComputedStyle(e), probe = document.createElement('div');
            Object.assign(probe.style, {position: 'fixed', top: '0', left: '0', width: e.clientWidth + 'px',
              font: s.font, unicodeBidi: s.unicodeBidi, textAlign: s.textAlign, direction: s.direction});
            const span = document.createElement('span'); span.textContent = e.value; probe.appendChild(span);
            document.body.appendChild(probe);
            const p = probe.getBoundingClientRect(), r = span.getBoundingClientRect();
            probe.remove();
            return (p.right - r.right) < (r.left - p.left) ? 'right' : 'left';
        }"""
    )


def test_search_without_harakat_click_opens_the_hit(page, base_url, app_db, search_doc):
    open_app(page, base_url, doc=search_doc.id)  # the session's project becomes the search project
    page.get_by_role("link", name="Search").click()
    wait_ready(page)
    box = page.locator('input[aria-label="Search"]')
    box.fill("قال")
    # Arabic typed in a field runs from its right edge; a Latin word in the same field from its left
    assert box.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    assert _text_edge(page, box) == "right"
    box.fill("minister")
    assert _text_edge(page, box) == "left"
    box.fill("قال")
    box.press("Enter")
    wait_ready(page)
    page.get_by_text("1 hit in 1 document").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    select_first_row(page, grid)
    # annotators land on the annotation page, so its address is the app's root: /?doc=ID (start and end consumed)
    page.wait_for_url(lambda url: "/search" not in url and f"doc={search_doc.id}" in url, timeout=30_000)
    wait_ready(page)
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
    assert page.locator('[data-nisba="article"]').inner_text().replace("\n", "").startswith("قَالَ")
    # the hit [0, 5) is selected on arrival (the lead's annotation component)
    page.wait_for_selector('[data-nisba="status"]:has-text("0–5")', timeout=15_000)
    page.keyboard.press("u")
    spans = poll(app_db, lambda s: s.list_spans(search_doc.id), "the CUE on the hit", timeout=15, page=page)
    assert [(s.label, s.start_offset, s.end_offset, s.text) for s in spans] == [("CUE", 0, 5, "قَالَ")]
