"""The delta protocol in real Chromium: a key right after mouse-up, two tabs of one user, a browser that missed
a change, and a long document whose highlights must equal the database after many tags and deletes."""

from __future__ import annotations

import pytest

from annotator.text import Boundaries

from .article_dom import article, cluster_rect, fonts_settled, highlight, select_offsets
from .conftest import new_context, open_app, server_store
from .test_annotate_browser import doc_text, open_document, spans_of, wait_for_span

pytestmark = pytest.mark.browser

_STATE = "(box) => box.getRootNode().__nisba"


def settled(page) -> None:
    """Wait until every action of this page was acknowledged."""
    page.wait_for_function(
        "(box) => box.dataset.pending === '0' || box.dataset.pending === undefined", arg=article(page).element_handle()
    )


def test_a_key_pressed_right_after_mouse_up_saves_the_dragged_words(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["demo"]
    text = open_document(page, base_url, app_db, doc_id)
    fonts_settled(page)
    word = "الخارجية"
    start = text.index(word)
    first, last = cluster_rect(page, text, start), cluster_rect(page, text, start + len(word) - 1)
    y = (first["top"] + first["bottom"]) / 2
    page.mouse.move(first["right"] - 1, y)
    page.mouse.down()
    page.mouse.move(last["left"] + 1, y, steps=8)
    page.mouse.up()
    page.keyboard.press("u")  # no wait: the selection made no round trip, so nothing is in the way
    span = wait_for_span(app_db, doc_id, "CUE", word)
    assert (span.start_offset, span.end_offset) == (start, start + len(word))
    highlight(page, span.id).first.wait_for()


def test_two_tabs_of_one_user_stay_consistent(browser, base_url, app_db, doc_ids):
    doc_id = doc_ids["harakat-tatweel"]
    text = doc_text(app_db, doc_id)
    context = new_context(browser)
    try:
        one, two = context.new_page(), context.new_page()
        open_app(one, base_url, doc=doc_id)
        open_app(two, base_url, doc=doc_id)
        words = [w for w in text.split() if len(w) > 3]
        a = text.index(words[0])
        select_offsets(one, a, a + len(words[0]))
        one.keyboard.press("c")
        made_in_one = wait_for_span(app_db, doc_id, "CLAIM", words[0])
        # the second tab learns of it with its own next action (no server push in Streamlit)
        b = text.index(words[-1])
        select_offsets(two, b, b + len(words[-1]))
        two.keyboard.press("s")
        made_in_two = wait_for_span(app_db, doc_id, "SOURCE", words[-1])
        highlight(two, made_in_one.id).first.wait_for()
        highlight(two, made_in_two.id).first.wait_for()
        # and the first tab learns of the second's on its next action
        c = text.index(words[1])
        before = {s.id for s in spans_of(app_db, doc_id)}  # the session's database has older spans of these words
        select_offsets(one, c, c + len(words[1]))
        one.keyboard.press("q")
        made_again = wait_for_span(app_db, doc_id, "QUOTE", words[1], exclude=before)
        highlight(one, made_in_two.id).first.wait_for()
        highlight(one, made_again.id).first.wait_for()
        # undo is the user's, whichever tab: Ctrl+Z in the second tab takes back the first tab's last tag
        two.keyboard.press("Control+z")
        highlight(two, made_in_one.id).first.wait_for()
        settled(two)
        assert made_again.id not in {s.id for s in spans_of(app_db, doc_id)}
        assert highlight(two, made_again.id).count() == 0
    finally:
        context.close()


def test_a_browser_that_missed_a_change_gets_the_whole_state(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["emoji"]
    text = open_document(page, base_url, app_db, doc_id)
    box = article(page).element_handle()
    # make the browser believe it is behind (as when Streamlit replaced a delta before sending it)
    page.evaluate(f"(box) => {{ const S = ({_STATE})(box); S.rev = -5; }}", box)
    with server_store(app_db) as store:
        amal = store.user_by_username("amal")
        from annotator.annotations import add_span

        i = text.index("المنشور") if "المنشور" in text else text.index(text.split()[1])
        word_end = i + len(text[i:].split()[0])
        other = add_span(store, amal, doc_id, "QUOTE", i, word_end)  # written elsewhere
    page.keyboard.press("Control+z")  # any action; the reply is a delta the browser cannot apply -> full state
    highlight(page, other.id).first.wait_for(state="detached")  # the undo removed it, drawn from the full state
    settled(page)
    assert page.evaluate(f"(box) => ({_STATE})(box).rev", box) >= 0  # it asked for and got the whole state
    drawn = page.evaluate("(box) => [...box.querySelectorAll('mark[data-span-id]')].map((m) => m.dataset.spanId)", box)
    assert sorted({int(i) for i in drawn}) == sorted(s.id for s in spans_of(app_db, doc_id) if s.annotator_id == amal.id)


def test_long_document_highlights_equal_the_database_after_20_tags_and_10_deletes(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["long"]
    text = open_document(page, base_url, app_db, doc_id)
    box = article(page).element_handle()
    words = [w for w in Boundaries(text).words if w[1] - w[0] >= 3]
    picks = words[:: max(1, len(words) // 25)][:20]
    before = {sp.id for sp in spans_of(app_db, doc_id)}
    for n, (s, e) in enumerate(picks):
        select_offsets(page, s, e)
        page.keyboard.press("cqsu"[n % 4])
    settled(page)
    with server_store(app_db) as store:
        amal = store.user_by_username("amal")
        mine = [sp for sp in store.list_spans(doc_id) if sp.annotator_id == amal.id]
    made = [sp for sp in mine if sp.id not in before]
    assert sorted((sp.start_offset, sp.end_offset) for sp in made) == sorted(picks)
    for sp in made[:10]:
        page.evaluate('([box, id]) => box.querySelector(`mark[data-span-id="${id}"]`).click()', [box, sp.id])
        page.wait_for_function(f"(box) => box.dataset.selected === '{sp.id}'", arg=box)
        page.keyboard.press("Delete")
        settled(page)
    left = {sp.id for sp in spans_of(app_db, doc_id) if sp.annotator_id == amal.id}
    assert len(left) == len(mine) - 10
    drawn = page.evaluate(
        "(box) => { const S = box.getRootNode().__nisba; return [[...S.spans.keys()].filter((k) => typeof k === 'number'), "
        "Number(box.dataset.count)]; }",
        box,
    )
    assert set(drawn[0]) == left and drawn[1] == len(left)
    # every drawn piece of every span spells its text
    bad = page.evaluate(
        """(box) => { const S = box.getRootNode().__nisba; let bad = 0;
        for (const m of box.querySelectorAll('mark.piece')) { const a = +m.dataset.start, b = +m.dataset.end;
          if (m.textContent !== S.cps.slice(a, b).join('')) bad++; } return bad; }""",
        box,
    )
    assert bad == 0


def test_a_search_hit_link_opens_with_the_hit_selected_ready_for_a_hotkey(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["harakat-tatweel"]
    text = doc_text(app_db, doc_id)
    word = max(text.split(), key=len)
    start = text.index(word)
    open_app(page, base_url, doc=doc_ids["emoji"])  # a session already on another document
    page.goto(f"{base_url}/?doc={doc_id}&start={start}&end={start + len(word)}")
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]')
    status = page.locator('[data-nisba="status"]')
    status.filter(has_text=f"{start}–{start + len(word)}").wait_for()
    before = {s.id for s in spans_of(app_db, doc_id)}
    page.keyboard.press("s")
    span = wait_for_span(app_db, doc_id, "SOURCE", word, exclude=before)
    assert (span.start_offset, span.end_offset) == (start, start + len(word))


def test_an_action_sent_again_after_a_reconnect_is_answered_not_applied_twice(browser, base_url, app_db, doc_ids):
    doc_id = doc_ids["emoji"]
    text = doc_text(app_db, doc_id)
    word = max(text.split(), key=len)
    start = text.index(word)
    context = new_context(browser)
    try:
        first, second = context.new_page(), context.new_page()
        open_app(first, base_url, doc=doc_id)
        before = {s.id for s in spans_of(app_db, doc_id)}
        select_offsets(first, start, start + len(word))
        first.keyboard.press("c")
        made = wait_for_span(app_db, doc_id, "CLAIM", word, exclude=before)
        settled(first)
        cid = first.evaluate(
            "(box) => { const S = box.getRootNode().__nisba; return `${S.mount}.${S.seq}`; }", article(first).element_handle()
        )
        # a new session (as after a reconnect) receives the same, already applied action again
        open_app(second, base_url, doc=doc_id)
        second.evaluate(
            """([box, start, end, cid]) => { const S = box.getRootNode().__nisba;
            const op = { type: 'tag', label: 'CLAIM', start, end, snap_words: true, cid, doc_id: S.docId };
            S.pending.push({ op, temp: null, deleting: null, hide: null, hideAll: null, t0: performance.now() });
            S.trigger('action', { epoch: S.epoch, base: S.rev, ops: [op] }); }""",
            [article(second).element_handle(), start, start + len(word), cid],
        )
        settled(second)
        again = [s for s in spans_of(app_db, doc_id) if s.id not in before and s.label == "CLAIM" and s.text == word]
        assert [s.id for s in again] == [made.id]
    finally:
        context.close()


def test_a_tag_goes_over_the_direct_channel_without_a_rerun(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["harakat-tatweel"]
    text = open_document(page, base_url, app_db, doc_id)
    start, end = max(Boundaries(text).words, key=lambda w: w[1] - w[0])
    word = text[start:end]
    posts: list[int] = []
    page.on("requestfinished", lambda r: posts.append(1) if r.url.endswith("/_nisba/article") and r.method == "POST" else None)
    before = {s.id for s in spans_of(app_db, doc_id)}
    select_offsets(page, start, end)
    page.keyboard.press("q")
    span = wait_for_span(app_db, doc_id, "QUOTE", word, exclude=before)
    assert (span.start_offset, span.end_offset) == (start, end)
    highlight(page, span.id).first.wait_for()
    settled(page)
    assert posts  # it went over the channel (the refusal test below shows the trigger still works)


def test_when_the_direct_channel_is_refused_the_trigger_saves_the_tag(page, base_url, app_db, doc_ids):
    doc_id = doc_ids["emoji"]
    text = open_document(page, base_url, app_db, doc_id)
    refused: list[str] = []

    def refuse(route):
        refused.append(route.request.url)
        route.fulfill(status=409, content_type="application/json", body='{"error": "This page\'s channel has ended"}')

    page.route("**/_nisba/article", refuse)  # answered only while Playwright waits (settled), not while we sleep
    (start, end), (s2, e2) = sorted(Boundaries(text).words, key=lambda w: w[0] - w[1])[:2]
    word = text[start:end]
    before = {s.id for s in spans_of(app_db, doc_id)}
    select_offsets(page, start, end)
    page.keyboard.press("s")
    settled(page)
    span = wait_for_span(app_db, doc_id, "SOURCE", word, exclude=before)
    assert (span.start_offset, span.end_offset) == (start, end) and refused
    highlight(page, span.id).first.wait_for()
    settled(page)
    # the page keeps to the trigger from then on: a second tag saves without asking the channel again
    asked = len(refused)
    select_offsets(page, s2, e2)
    page.keyboard.press("c")
    settled(page)
    other = wait_for_span(app_db, doc_id, "CLAIM", text[s2:e2], exclude=before)
    assert (other.start_offset, other.end_offset) == (s2, e2)
    assert len(refused) == asked
