"""The annotation screen in real headless Chromium: mouse drags in right-to-left Arabic, hotkeys, reloads.

Each test checks the database through annotator.store.Store on the server's own file, so "saved" means
saved. Tests use different words of the demo article, so they do not depend on each other's spans.
"""

from __future__ import annotations

import time

import pytest

from .article_dom import article, drag_rtl, highlight, select_offsets
from .conftest import open_app, poll, server_store, wait_ready

pytestmark = pytest.mark.browser


def wait_for_span(db_path, doc_id: int, label: str, text: str, *, timeout: float = 15.0, exclude=frozenset()):
    """Poll the database until a span with this label and text exists (saves are asynchronous); spans whose
    ids are in ``exclude`` (made before) do not count."""
    return poll(
        db_path,
        lambda store: next(
            (s for s in store.list_spans(doc_id) if s.label == label and s.text == text and s.id not in exclude), None
        ),
        f"{label} «{text}» saved in document {doc_id}",
        timeout,
    )


def spans_of(db_path, doc_id: int):
    with server_store(db_path) as store:
        return store.list_spans(doc_id)


def links_of(db_path, doc_id: int):
    with server_store(db_path) as store:
        return store.list_links(doc_id)


def doc_text(db_path, doc_id: int) -> str:
    with server_store(db_path) as store:
        return store.get_document(doc_id).text


def open_document(page, base_url: str, db_path, doc_id: int) -> str:
    """Open document ``doc_id`` on the annotation page as amal (:func:`open_app`: drawn and ready); its text."""
    text = doc_text(db_path, doc_id)
    open_app(page, base_url, doc=doc_id)
    return text


def tag_by_drag(page, db_path, doc_id: int, text: str, word: str, key: str, label: str, *, after: int = 0):
    """Drag over the first ``word`` at or after ``after``, press ``key``, wait for the saved span and its highlight."""
    start = text.index(word, after)
    drag_rtl(page, text, start, start + len(word))
    page.keyboard.press(key)
    span = wait_for_span(db_path, doc_id, label, word)
    highlight(page, span.id).first.wait_for()
    return span


def test_drag_over_arabic_words_hotkey_survives_reload(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    word = "وبحسب الصحيفة"
    span = tag_by_drag(page, app_db, doc_id, text, word, "c", "CLAIM")
    assert (span.start_offset, span.end_offset) == (text.index(word), text.index(word) + len(word))
    assert text[span.start_offset : span.end_offset] == span.text == word
    page.reload()
    wait_ready(page)
    marks = highlight(page, span.id)
    marks.first.wait_for()
    assert marks.first.get_attribute("data-label") == "CLAIM"
    # the highlight covers exactly the dragged characters, and the page adds no characters of its own
    assert "".join(marks.all_text_contents()) == word
    assert article(page).text_content() == text


def test_drag_after_an_emoji_uses_code_points(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["emoji"]
    text = open_document(page, base_url, app_db, doc_id)
    span = tag_by_drag(page, app_db, doc_id, text, "المغرد", "s", "SOURCE")
    assert span.start_offset == text.index("المغرد")  # code points: 👍🏽 counts 2, not 4 UTF-16 units
    page.reload()
    wait_ready(page)
    highlight(page, span.id).first.wait_for()
    assert highlight(page, span.id).first.text_content() == "المغرد"


def test_word_with_harakat_is_never_split(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["harakat-tatweel"]
    text = open_document(page, base_url, app_db, doc_id)
    word = "المُتَحَدِّثُ"
    span = tag_by_drag(page, app_db, doc_id, text, word, "q", "QUOTE")
    assert span.text == word
    # without word snapping, a selection ending between a letter and its marks still takes the marks
    page.get_by_text("Snap to whole words").click()
    page.wait_for_selector('[data-nisba="article"][data-snap-words="0"]')
    start = text.index(word)
    dal = start + word.index("د")
    select_offsets(page, start, dal + 1)
    page.keyboard.press("c")
    partial = wait_for_span(app_db, doc_id, "CLAIM", "المُتَحَدِّ")
    assert partial.end_offset == dal + 3


def test_nest_a_quote_inside_a_claim_and_click_cycles_outward(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    claim = tag_by_drag(page, app_db, doc_id, text, "التواصل بانتظام مع الحكومات المضيفة", "c", "CLAIM")
    quote = tag_by_drag(page, app_db, doc_id, text, "بانتظام", "q", "QUOTE", after=claim.start_offset)
    assert claim.start_offset < quote.start_offset and quote.end_offset < claim.end_offset
    inner = page.locator(f'[data-nisba="article"] mark[data-span-id="{claim.id}"] mark[data-span-id="{quote.id}"]')
    assert inner.count() == 1
    # the claim's text is still exactly the characters, with the quote's highlight inside it
    assert "".join(highlight(page, claim.id).first.all_text_contents()) != ""
    page.keyboard.press("Escape")
    inner.evaluate("(m) => m.scrollIntoView({ block: 'center' })")  # in the middle of the article's own scroll box
    inner.click()
    assert article(page).get_attribute("data-selected") == str(quote.id)
    inner.click()
    assert article(page).get_attribute("data-selected") == str(claim.id)
    inner.click()
    assert article(page).get_attribute("data-selected") == str(quote.id)


def test_link_a_quote_to_its_source(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    at = text.index("وذكرت البرقية")
    source = tag_by_drag(page, app_db, doc_id, text, "البرقية", "s", "SOURCE", after=at)
    quote = tag_by_drag(page, app_db, doc_id, text, "دعم الحكومات المضيفة", "q", "QUOTE", after=at)
    page.keyboard.press("Escape")
    highlight(page, quote.id).first.click()
    assert article(page).get_attribute("data-selected") == str(quote.id)
    page.keyboard.press("a")
    highlight(page, source.id).first.click()
    deadline = time.monotonic() + 15
    while not links_of(app_db, doc_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    link = next(k for k in links_of(app_db, doc_id) if k.from_span_id == quote.id)
    assert (link.to_span_id, link.type) == (source.id, "attributed_to")
    panel = page.locator('[data-nisba="panel"] [data-nisba="unlink"]')
    panel.first.wait_for()
    assert "البرقية" in panel.first.text_content()
    # attributes come from the label's allowed values
    page.locator('[data-nisba="panel"] select[data-nisba-attr="form"]').select_option("direct")
    poll(app_db, lambda store: store.get_span(quote.id).attributes == {"form": "direct"}, "the QUOTE's form", 15)


def wait_links(db_path, doc_id: int, until, *, timeout: float = 15.0):
    """Poll the document's links until ``until(links)`` holds (saves are asynchronous); returns them."""
    deadline = time.monotonic() + timeout
    while not until(links := links_of(db_path, doc_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return links


def test_a_new_claim_links_to_its_cue_with_l_and_unlinks_with_its_cross(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    cue = tag_by_drag(page, app_db, doc_id, text, "ووصف", "u", "CUE")
    claim = tag_by_drag(page, app_db, doc_id, text, "آفة في الولاياتالمتحدة", "c", "CLAIM", after=cue.end_offset)
    assert article(page).get_attribute("data-selected") == str(claim.id)  # the new span is selected: no click
    page.keyboard.press("l")
    highlight(page, cue.id).first.click()
    links = wait_links(app_db, doc_id, lambda ks: any(k.from_span_id == claim.id for k in ks))
    [link] = [k for k in links if k.from_span_id == claim.id]
    assert (link.to_span_id, link.type) == (cue.id, "cue")
    page.locator(f'[data-nisba="panel"] [data-nisba="unlink"][data-link-id="{link.id}"]').click()
    assert link.id not in {k.id for k in wait_links(app_db, doc_id, lambda ks: link.id not in {k.id for k in ks})}


def test_delete_then_undo_with_ctrl_z(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    cue = tag_by_drag(page, app_db, doc_id, text, "وأوضحت", "u", "CUE")
    assert article(page).get_attribute("data-selected") == str(cue.id)  # a new span is selected
    page.keyboard.press("s")  # a label key with a span selected (and no text selected) changes its label
    page.wait_for_selector(f'[data-nisba="article"] mark[data-span-id="{cue.id}"][data-label="SOURCE"]')
    page.keyboard.press("Delete")
    highlight(page, cue.id).first.wait_for(state="detached")
    assert cue.id not in {s.id for s in spans_of(app_db, doc_id)}
    page.keyboard.press("Control+z")
    highlight(page, cue.id).first.wait_for()
    restored = next(s for s in spans_of(app_db, doc_id) if s.id == cue.id)
    assert (restored.text, restored.label) == ("وأوضحت", "SOURCE")


def test_markup_in_article_text_is_shown_as_text(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["html-injection"]
    text = doc_text(app_db, doc_id)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_app(page, base_url, doc=doc_id)
    # tag the markup itself: the highlight must show it as characters too
    start = text.index("<img")
    end = text.index(">", start) + 1
    select_offsets(page, start, end)
    page.keyboard.press("c")
    span = wait_for_span(app_db, doc_id, "CLAIM", text[start:end])
    highlight(page, span.id).first.wait_for()
    page.wait_for_timeout(500)  # give an injected onerror handler the chance to fire (it must not)
    assert dialogs == []
    assert article(page).text_content() == text
    assert page.locator('[data-nisba="article"] img, [data-nisba="article"] script').count() == 0
    assert page.locator("img[src=x]").count() == 0


def test_next_and_previous_document_keys(page, base_url, app_db, doc_ids):
    first, second = doc_ids["emoji"], doc_ids["harakat-tatweel"]
    open_app(page, base_url, doc=first)
    page.keyboard.press("n")
    page.wait_for_url(f"**/?doc={second}")
    wait_ready(page)
    page.wait_for_function(
        "([box, text]) => box.textContent === text",
        arg=[article(page).element_handle(), doc_text(app_db, second)],
    )
    page.keyboard.press("PageUp")
    page.wait_for_url(f"**/?doc={first}")
    page.wait_for_function(
        "([box, text]) => box.textContent === text",
        arg=[article(page).element_handle(), doc_text(app_db, first)],
    )


def test_clicking_a_row_of_the_span_list_selects_its_highlight(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["emoji"]
    text = open_document(page, base_url, app_db, doc_id)
    start = text.index("التغريدة")
    select_offsets(page, start, start + len("التغريدة"))
    page.keyboard.press("c")
    span = wait_for_span(app_db, doc_id, "CLAIM", "التغريدة")
    highlight(page, span.id).first.wait_for()
    page.keyboard.press("Escape")
    page.wait_for_function("(box) => box.dataset.selected === ''", arg=article(page).element_handle())
    page.locator('[data-nisba="spans-summary"]').click()
    rows = page.locator('[data-nisba="span-rows"] .row[data-span-id]')
    ordered = [s.id for s in sorted(spans_of(app_db, doc_id), key=lambda s: (s.start_offset, -s.end_offset, s.id))]
    rows.nth(len(ordered) - 1).wait_for()
    assert [int(rows.nth(i).get_attribute("data-span-id")) for i in range(rows.count())] == ordered
    rows.nth(ordered.index(span.id)).click()
    page.wait_for_function(f"(box) => box.dataset.selected === '{span.id}'", arg=article(page).element_handle())
    assert highlight(page, span.id).first.get_attribute("class").count("sel") == 1
