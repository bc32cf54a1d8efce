"""The team workflow in real headless Chromium: two annotators tag the same article at the same time in two
browser contexts, a reviewer accepts one span and rejects another with the keyboard, adopts the agreed
span into gold, and annotator A sees the decision on their screen. Every step is checked in the database."""

from __future__ import annotations

import pytest

from annotator.demo import DEMO_ARTICLE

from .article_dom import drag_rtl, highlight
from .conftest import APP_READY, log_in, new_page, open_app, own_project, poll, server_store, wait_ready

pytestmark = pytest.mark.browser
GOLD_READY = '[data-nisba="article"][data-ready="1"]'


@pytest.fixture
def review_doc(app_db):
    """A project of its own (amal, badr and rana members) with the demo article, so no other test's spans count."""
    with server_store(app_db) as store:
        doc = own_project(store, "Review flow", ("amal", "badr", "rana"), "review flow", DEMO_ARTICLE.read_text(encoding="utf-8"))
        users = {name: store.user_by_username(name).id for name in ("amal", "badr", "rana")}
    return doc, users


def decide_by_key(page, db_path, key: str, span, decision: str) -> None:
    """Once the review page has finished running, press the reviewer's ``key`` with the focus on the page (not in
    a field) and wait until ``span`` has that ``decision`` in the database."""
    page.wait_for_selector(APP_READY)
    page.wait_for_selector(GOLD_READY)
    page.locator("h1").first.click()
    page.keyboard.press(key)
    poll(
        db_path,
        lambda s: (r := s.get_review("span", span.id)) and r.decision == decision,
        f"the {span.label} to be {decision}",
        page=page,
    )


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
        decide_by_key(page_r, app_db, "y", cue, "accepted")
        # the rerun after the decision has drawn the next disagreement (only then do keys act on it)
        page_r.get_by_text("Accepted 1 span(s).").wait_for()
        page_r.get_by_text("CLAIM · «وزير الخارجية»").wait_for()
        decide_by_key(page_r, app_db, "d", claim, "rejected")
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
