"""Suggestions in the article, in real Chromium: Tab to one, Enter accepts it (a span with its origin), x dismisses
it for good, accept all of one label, and the toggle hides them."""

from __future__ import annotations

import pytest

from annotator.suggestions import list_suggestions

from .article_dom import article
from .conftest import open_app, server_store
from .test_annotate_browser import doc_text, spans_of

pytestmark = pytest.mark.browser


def open_suggestions(db_path, username: str, doc_id: int):
    with server_store(db_path) as store:
        return list_suggestions(store, store.user_by_username(username), doc_id)


def user_id(db_path, username: str) -> int:
    with server_store(db_path) as store:
        return store.user_by_username(username).id


def settled(page) -> None:
    page.wait_for_function("(box) => box.dataset.pending === '0' || !box.dataset.pending", arg=article(page).element_handle())


def focused_key(page) -> str:
    return page.evaluate("(box) => box.getRootNode().__nisba.focus", article(page).element_handle())


def test_tab_enter_accepts_a_suggestion_with_its_origin(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    open_app(page, base_url, "badr", doc=doc_id)
    before = open_suggestions(app_db, "badr", doc_id)
    assert before, "the demo article has rule suggestions"
    shown = page.locator('[data-nisba="article"] mark.sugg')
    shown.first.wait_for()
    page.keyboard.press("Tab")
    key = focused_key(page)
    assert key in {g.key for g in before}
    assert page.locator(f'[data-nisba="article"] mark.sugg.focus[data-sugg-key="{key}"]').count() >= 1
    page.keyboard.press("Enter")
    settled(page)
    sugg = next(g for g in before if g.key == key)
    badr = user_id(app_db, "badr")
    [made] = [s for s in spans_of(app_db, doc_id) if (s.label, s.start_offset, s.end_offset) == (sugg.label, sugg.start, sugg.end)
              and s.annotator_id == badr]  # fmt: skip
    assert made.origin["engine"] == "rules" and made.origin["suggestion"] == key
    assert made.text == doc_text(app_db, doc_id)[sugg.start : sugg.end]
    page.locator(f'[data-nisba="article"] mark[data-span-id="{made.id}"]').first.wait_for()
    assert page.locator(f'[data-nisba="article"] mark.sugg[data-sugg-key="{key}"]').count() == 0


def test_x_dismisses_and_it_stays_dismissed_after_a_reload(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    open_app(page, base_url, "badr", doc=doc_id)
    page.locator('[data-nisba="article"] mark.sugg').first.wait_for()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    key = focused_key(page)
    page.keyboard.press("x")
    settled(page)
    assert key not in {g.key for g in open_suggestions(app_db, "badr", doc_id)}
    open_app(page, base_url, "badr", doc=doc_id)
    page.locator('[data-nisba="article"] mark.sugg').first.wait_for()
    assert page.locator(f'[data-nisba="article"] mark.sugg[data-sugg-key="{key}"]').count() == 0


def test_accept_all_cues_and_the_toggle_hides_suggestions(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["harakat-tatweel"]
    open_app(page, base_url, "amal", doc=doc_id)
    cues = [g for g in open_suggestions(app_db, "amal", doc_id) if g.label == "CUE"]
    if not cues:
        doc_id = doc_ids["demo"]
        open_app(page, base_url, "amal", doc=doc_id)
        cues = [g for g in open_suggestions(app_db, "amal", doc_id) if g.label == "CUE"]
    assert cues
    page.locator(f'[data-nisba="article"] mark.sugg[data-sugg-key="{cues[0].key}"]').first.click()
    page.locator('[data-nisba="panel"] [data-nisba="accept-all"]').click()
    settled(page)
    assert not [g for g in open_suggestions(app_db, "amal", doc_id) if g.label == "CUE"]
    mine = {
        (s.start_offset, s.end_offset) for s in spans_of(app_db, doc_id) if s.label == "CUE" and s.origin.get("engine") == "rules"
    }
    assert {(g.start, g.end) for g in cues} <= mine
    assert page.locator('[data-nisba="article"] mark.sugg[data-label="CUE"]').count() == 0
    # the focus moved on to a suggestion of another label, whose "Accept all" is now the next click
    if open_suggestions(app_db, "amal", doc_id):
        button = page.locator('[data-nisba="panel"] [data-nisba="accept-all"]')
        button.wait_for()
        assert "CUE" not in button.inner_text()
    # the toggle: hidden, and Tab no longer walks them; shown again after a reload too (kept in the browser)
    page.locator('[data-nisba="toggle-suggestions"]').click()
    assert page.locator('[data-nisba="article"] mark.sugg').count() == 0
    open_app(page, base_url, "amal", doc=doc_id)
    assert page.locator('[data-nisba="article"] mark.sugg').count() == 0
    page.locator('[data-nisba="toggle-suggestions"]').click()
    page.locator('[data-nisba="article"] mark.sugg').first.wait_for()
