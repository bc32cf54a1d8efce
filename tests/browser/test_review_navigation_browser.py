"""The review screen in real headless Chromium: J and K bring the current disagreement into view — its row line
next to the buttons, the article scrolled to its marked text — however far down the article it is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from annotator.annotations import add_span
from annotator.demo import DEMO_ARTICLE

from .conftest import APP_READY, log_in, own_project, server_store, wait_ready

pytestmark = pytest.mark.browser
SPANS = 24


@pytest.fixture
def many_disagreements(app_db):
    """A project of its own whose article carries SPANS words that only amal tagged, spread over the whole text."""
    with server_store(app_db) as store:
        doc = own_project(
            store, "Review navigation", ("amal", "badr", "rana"), "navigation", DEMO_ARTICLE.read_text(encoding="utf-8")
        )
        amal, badr = store.user_by_username("amal"), store.user_by_username("badr")
        words = [m for m in re.finditer(r"\w{3,}", doc.text)]
        step = len(words) // SPANS
        for m in words[::step][:SPANS]:
            add_span(store, amal, doc.id, "CUE", m.start(), m.end())
        first = words[0]
        add_span(store, badr, doc.id, "CUE", first.start(), first.end())  # badr has a layer too: two to compare
    return doc


IN_VIEW = """(rowText) => {
    const inWindow = (el) => {
        const r = el && el.getBoundingClientRect();
        return !!r && r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
    };
    const box = document.querySelector('[data-nisba="review-article"]');
    const mark = box && box.querySelector('[data-focus="1"]');
    if (!mark) return false;
    const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
    const row = [...document.querySelectorAll("p")].find((p) => p.innerText.startsWith(rowText));
    const accept = [...document.querySelectorAll("button")].find((x) => x.innerText.startsWith("Accept"));  // "Accept" + its key
    return m.top >= b.top && m.bottom <= b.bottom && inWindow(mark) && inWindow(row) && inWindow(accept);
}"""


def test_j_brings_the_current_disagreement_into_view(page, base_url, many_disagreements):
    doc = many_disagreements
    log_in(page, base_url, "rana")
    page.goto(f"{base_url}/review?doc={doc.id}")
    wait_ready(page)
    article = page.locator('[data-nisba="review-article"]')
    article.wait_for()
    status = page.get_by_text(re.compile(r"^Row \d+ of \d+"))
    status.filter(has_text="Row 2 of").wait_for()  # row 1 (the first word) both tagged: the first disagreement is row 2
    # the gold editor further down takes the keyboard focus once it is drawn: let it, then click the title
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
    for n in range(3, 17):  # 14 presses of J
        page.wait_for_selector(APP_READY)  # the editor's first sync reruns the page: a key during a run can be lost
        page.locator("h1").first.click()
        page.wait_for_timeout(200)  # a key pressed in the same instant as the click was sometimes dropped
        page.keyboard.press("j")
        status.filter(has_text=f"Row {n} of").wait_for()
        page.wait_for_selector(APP_READY)
        # the script scrolls the article after it is drawn (and a rerun may draw it again): wait until the marked
        # text is inside the article's scroll area, and it, the row line and Accept are inside the window
        try:
            page.wait_for_function(IN_VIEW, arg=f"Row {n} of", timeout=10_000)
        except PlaywrightTimeout:
            raise AssertionError(f"row {n}: the marked text, the row line or Accept is not in view") from None
    # by now the article has scrolled well down: the last rows are far below its first screen
    assert article.evaluate("el => el.scrollTop") > 100
    page.locator("h1").first.click()
    page.wait_for_timeout(200)  # a key pressed in the same instant as the click was sometimes dropped
    page.keyboard.press("k")
    status.filter(has_text="Row 15 of").wait_for()


def test_guidelines_open_from_the_review_page_with_arabic_right_to_left(page, base_url, doc_ids):
    log_in(page, base_url, "rana")
    page.goto(f"{base_url}/review?doc={doc_ids['demo']}")
    wait_ready(page)
    page.get_by_role("button", name="Guidelines").click()
    dialog = page.get_by_role("dialog")
    guidelines = dialog.locator('[data-nisba="guidelines"]')
    guidelines.wait_for()
    assert "CUE: the attributing words" in guidelines.inner_text()
    example = guidelines.locator("bdi", has_text="وفقا للوثيقة").first
    assert example.evaluate("el => getComputedStyle(el).direction") == "rtl"
