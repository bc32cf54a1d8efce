"""The team workflow in real headless Chromium: two annotators tag the same article at the same time in two
browser contexts, a reviewer accepts one span and rejects another with the keyboard, adopts the agreed
span into gold, and annotator A sees the decision on their screen. Every step is checked in the database."""

from __future__ import annotations

import time

import pytest

from annotator.demo import DEMO_ARTICLE
from annotator.projects import add_document, add_member, create_project
from annotator.store import Store

from .article_dom import drag_rtl, highlight
from .conftest import APP_READY, log_in, open_app, wait_ready

pytestmark = pytest.mark.browser
GOLD_READY = '[data-nisba="article"][data-ready="1"]'


def poll(db_path, check, what: str, timeout: float = 20.0, page=None):
    """Poll the database until ``check(store)`` returns something truthy (the app saves asynchronously).
    With ``page``, wait through Playwright so its event loop keeps running meanwhile."""
    store = Store(db_path, migrate_schema=False)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check(store)
            if found:
                return found
            if page is not None:
                page.wait_for_timeout(100)
            else:
                time.sleep(0.1)
    finally:
        store.close()
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def review_doc(app_db):
    """A project of its own (amal, badr and rana members) with the demo article, so no other test's spans count."""
    store = Store(app_db, migrate_schema=False)
    admin = store.user_by_username("admin")
    project = create_project(store, admin, f"Review flow {time.time_ns()}")
    for name in ("amal", "badr", "rana"):
        add_member(store, admin, project.id, store.user_by_username(name).id)
    doc = add_document(store, admin, project.id, "review flow", DEMO_ARTICLE.read_text(encoding="utf-8"))
    users = {name: store.user_by_username(name).id for name in ("amal", "badr", "rana")}
    store.close()
    return doc, users


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ar")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_annotate_in_two_browsers_review_adopt_and_annotator_sees_it(browser, base_url, app_db, review_doc):
    doc, users = review_doc
    text = doc.text
    page_a, page_b, page_r = new_page(browser), new_page(browser), new_page(browser)
    try:
        open_app(page_a, base_url, "amal", doc=doc.id)
        open_app(page_b, base_url, "badr", doc=doc.id)
        # both at once: the same SOURCE, then one span each that the other did not make

        def tag(page, user: str, word: str, key: str, label: str):
            """Drag over ``word``, press the label key, wait for this user's span in the database and on screen."""
            start = text.index(word)
            drag_rtl(page, text, start, start + len(word))
            page.keyboard.press(key)
            span = poll(
                app_db,
                lambda s: next(
                    (x for x in s.list_spans(doc.id, annotator_ids=[users[user]]) if (x.label, x.text) == (label, word)), None
                ),
                f"{user}'s {label} «{word}»",
            )
            highlight(page, span.id).first.wait_for()
            return span

        tag(page_a, "amal", "ماركو روبيو", "s", "SOURCE")
        tag(page_b, "badr", "ماركو روبيو", "s", "SOURCE")
        cue = tag(page_a, "amal", "كشفت", "u", "CUE")
        claim = tag(page_b, "badr", "وزير الخارجية", "c", "CLAIM")

        log_in(page_r, base_url, "rana")
        page_r.goto(f"{base_url}/review?doc={doc.id}")
        wait_ready(page_r)
        layers = page_r.locator('[data-nisba="review-article"]')
        layers.wait_for()
        assert "ماركو روبيو" in layers.inner_text()
        # keyboard: the first disagreement is amal's CUE: Y accepts it and moves on to badr's CLAIM: D rejects it.
        # The gold editor on the same page (its own hotkeys are page-wide) lets these keys through.
        page_r.wait_for_selector(GOLD_READY)
        page_r.locator("h1").first.click()
        page_r.keyboard.press("y")
        poll(
            app_db,
            lambda s: (r := s.get_review("span", cue.id)) and r.decision == "accepted",
            "the CUE to be accepted",
            page=page_r,
        )
        # the rerun after the decision has drawn the next disagreement (only then do keys act on it)
        page_r.get_by_text("Accepted 1 span(s).").wait_for()
        page_r.get_by_text("CLAIM · «وزير الخارجية»").wait_for()
        page_r.wait_for_selector(APP_READY)
        page_r.wait_for_selector(GOLD_READY)
        page_r.locator("h1").first.click()
        page_r.keyboard.press("d")
        poll(
            app_db,
            lambda s: (r := s.get_review("span", claim.id)) and r.decision == "rejected",
            "the CLAIM to be rejected",
            page=page_r,
        )
        page_r.get_by_text("Rejected 1 span(s).").wait_for()
        page_r.wait_for_selector(APP_READY)
        page_r.get_by_role("button", name="Adopt all agreed").click()
        gold = poll(app_db, lambda s: s.list_spans(doc.id, layer="gold"), "the agreed SOURCE in gold", page=page_r)
        assert [(g.label, g.text, g.annotator_id) for g in gold] == [("SOURCE", "ماركو روبيو", users["rana"])]
        assert gold[0].origin["agreed_by"] == [users["amal"], users["badr"]]

        # annotator A sees the decision on their own screen
        page_a.reload()
        wait_ready(page_a)
        page_a.get_by_text("accepted CUE «كشفت»").wait_for()
        assert page_b.get_by_text("accepted CUE «كشفت»").count() == 0
    finally:
        for p in (page_a, page_b, page_r):
            p.context.close()
