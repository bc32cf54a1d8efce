"""What an analyst's trial found on the annotation screen (issue 10, points 1-4), in real Chromium: the article
stays put when a span is tagged, the status line reads its numbers left to right, an outer span shows where it
starts and ends, and a long article scrolls in its own box, keeping its place."""

from __future__ import annotations

import pytest

from .article_dom import article, fonts_settled, highlight, select_offsets
from .test_annotate_browser import open_document, wait_for_span

pytestmark = pytest.mark.browser

_WORD_RECT = """([box, start]) => { const S = box.getRootNode().__nisba;
  const i = S.chunkStarts.findLastIndex((x) => x <= start); const leaf = [...S.chunks[i].el.querySelectorAll('[data-start]')]
    .find((l) => !l.querySelector('[data-start]') && +l.dataset.start <= start && start < +l.dataset.end);
  const r = document.createRange(); const off = S.cps.slice(+leaf.dataset.start, start).join('').length;
  r.setStart(leaf.firstChild, off); r.setEnd(leaf.firstChild, off + 1); const b = r.getBoundingClientRect();
  return [b.left, b.top]; }"""


def test_tagging_does_not_move_the_article(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    fonts_settled(page)
    box = article(page).element_handle()
    probes = [text.index(" ", len(text) // 2) + 1, 3]  # a word far below, and the first word of the same line
    long_word = max(text[:150].split(), key=len)
    start = text.index(long_word)
    before = [page.evaluate(_WORD_RECT, [box, p]) for p in probes]
    top_before = box.bounding_box()["y"]
    select_offsets(page, start, start + len(long_word))  # the panel shows the selection
    page.keyboard.press("c")
    span = wait_for_span(app_db, doc_id, "CLAIM", long_word)
    highlight(page, span.id).first.wait_for()
    page.wait_for_function("(box) => box.dataset.pending === '0'", arg=box)
    assert box.bounding_box()["y"] == top_before  # the panel above keeps its height
    after = [page.evaluate(_WORD_RECT, [box, p]) for p in probes]
    assert after == before  # badges and brackets sit above the line: no reflow


def test_status_line_reads_the_offsets_left_to_right(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    word = "والقنصليات"
    start = text.index(word)
    select_offsets(page, start, start + len(word))
    status = page.locator('[data-nisba="status"]')
    assert f"{start}–{start + len(word)}" in status.inner_text()
    xs = status.evaluate(
        """(el, nums) => { const node = [...el.querySelectorAll('bdi')].find((b) => b.textContent.includes('–')).firstChild;
        return nums.map((n) => { const i = node.data.indexOf(n); const r = document.createRange();
          r.setStart(node, i); r.setEnd(node, i + n.length); return r.getBoundingClientRect().left; }); }""",
        [str(start), str(start + len(word))],
    )
    assert xs[0] < xs[1]  # "1936–1949", never "1949–1936"


def test_an_outer_span_shows_its_start_and_end(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["harakat-tatweel"]
    text = open_document(page, base_url, app_db, doc_id)
    words = text.split()
    outer_text = " ".join(words[1:4])
    s = text.index(outer_text)
    select_offsets(page, s, s + len(outer_text))
    page.keyboard.press("c")
    outer = wait_for_span(app_db, doc_id, "CLAIM", outer_text)
    inner_start = text.index(words[2], s)
    select_offsets(page, inner_start, inner_start + len(words[2]))
    page.keyboard.press("q")
    inner = wait_for_span(app_db, doc_id, "QUOTE", words[2])
    highlight(page, inner.id).first.wait_for()
    marks = highlight(page, outer.id)
    first, last = marks.first.locator("xpath=descendant-or-self::mark[contains(@class,'piece')]").first, marks.last
    last_piece = last.locator("xpath=descendant-or-self::mark[contains(@class,'piece')]").last
    style = first.evaluate("(m) => { const b = getComputedStyle(m, '::before'); return [b.content, parseFloat(b.fontSize)]; }")
    assert "CLAIM" in style[0] and style[1] >= 11  # the label at the start, legible
    end = last_piece.evaluate("(m) => getComputedStyle(m, '::after').content")
    assert "]" in end  # the end bracket
    assert article(page).text_content() == text  # marks add no characters


def test_the_long_article_scrolls_in_its_own_box_and_keeps_its_place(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["long"]
    text = open_document(page, base_url, app_db, doc_id)
    box = article(page).element_handle()
    height = page.evaluate("(box) => [box.clientHeight, box.scrollHeight, window.innerHeight]", box)
    assert height[0] < height[2] and height[1] > 10 * height[0]  # fits the window; the text scrolls inside
    page.evaluate("(box) => { box.scrollTop = box.scrollHeight / 3; }", box)
    page.wait_for_timeout(300)
    top = page.evaluate("(box) => box.scrollTop", box)
    # a tag in view (the fragment reruns) leaves the article where it was
    visible = page.evaluate(
        """(box) => { const top = box.getBoundingClientRect().top;
        return +[...box.querySelectorAll('.para')].find((p) => p.getBoundingClientRect().top >= top + 40).dataset.start; }""",
        box,
    )
    word = next(w for w in text[visible:].split() if len(w) > 3)
    s = text.index(word, visible)
    select_offsets(page, s, s + len(word))
    page.keyboard.press("u")
    page.wait_for_function("(box) => box.dataset.pending === '0'", arg=box)
    assert abs(page.evaluate("(box) => box.scrollTop", box) - top) < 2
    # a span chosen in the list far away is scrolled into the article's view
    page.locator('[data-nisba="spans-summary"]').click()
    row = page.locator('[data-nisba="span-rows"] .row[data-span-id]').first
    row.click()
    sid = row.get_attribute("data-span-id")
    inside = page.evaluate(
        """([box, id]) => { const m = box.querySelector(`mark[data-span-id="${id}"]`).getBoundingClientRect();
        const b = box.getBoundingClientRect(); return m.top >= b.top - 1 && m.bottom <= b.bottom + 1; }""",
        [box, sid],
    )
    assert inside
