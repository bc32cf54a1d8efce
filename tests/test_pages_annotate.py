"""AppTest of the annotation page, and the component's actions as the Python callback carries them out.

AppTest cannot send a component trigger, so the actions are tested by calling ``apply_action`` (what the
callback calls) against a real database; the browser tests drive the same path from Chromium.
"""

from __future__ import annotations

import json

import pytest
from app_pages import run_page
from streamlit.testing.v1 import AppTest

from annotator.annotations import add_link, add_span
from annotator.article_actions import apply_action
from annotator.projects import add_document
from annotator.store import Store
from annotator.text import is_grapheme_boundary
from annotator.ui.article_component import COMPONENT_NAMES


@pytest.fixture
def db_env(app_db):
    """The demo database behind the app (``NISBA_DB``), with a second document in the demo project."""
    store = app_db
    admin = store.user_by_username("admin")
    project_id = store.list_projects()[0].id
    add_document(store, admin, project_id, "الثانية", "الفقرة الأولى: قال المصدر إن الخبر صحيح.\n\nالفقرة الثانية.")
    return store


def _page(store, username="amal"):
    return run_page(store, "annotate.py", username)


def _payload(at) -> dict:
    """The component's data as the browser gets it: UTF-8 JSON bytes, a full state or a delta."""
    (component,) = at.get("bidi_component")
    assert component.proto.WhichOneof("data") == "bytes"  # bytes: no \\u-escaped Arabic, no DataFrame sniffing
    return json.loads(component.proto.bytes.decode("utf-8"))


def _docs(store):
    return store.list_documents(store.list_projects()[0].id)


def test_page_shows_the_first_document_right_to_left(db_env):
    at = _page(db_env)
    assert not at.exception
    first = _docs(db_env)[0]
    data = _payload(at)
    full = data["full"]  # a new session gets the whole state once
    assert full["doc_id"] == first.id
    assert full["text"] == first.text
    assert full["spans"] == [] and full["links"] == []
    assert [lab["name"] for lab in full["labels"]] == ["CLAIM", "QUOTE", "SOURCE", "CUE"]
    assert data["ui"]["snap_words"] is True
    assert at.get("bidi_component")[0].proto.component_name in COMPONENT_NAMES


def test_full_state_spans_in_reading_order_with_links(db_env):
    amal = db_env.user_by_username("amal")
    doc = _docs(db_env)[0]
    i = doc.text.index("وبحسب الصحيفة")
    source = add_span(db_env, amal, doc.id, "SOURCE", i + 6, i + 13)
    claim = add_span(db_env, amal, doc.id, "CLAIM", i, i + 13, attributes={"form": "indirect"})
    link = add_link(db_env, amal, claim.id, source.id)
    full = _payload(_page(db_env))["full"]
    assert [(s["id"], s["l"], s["s"], s["e"], s["a"]) for s in full["spans"]] == [
        (claim.id, "CLAIM", i, i + 13, {"form": "indirect"}),
        (source.id, "SOURCE", i + 6, i + 13, {}),
    ]
    assert full["links"] == [{"id": link.id, "from": claim.id, "to": source.id, "type": "attributed_to"}]


def test_after_the_full_state_a_rerun_sends_only_what_changed(db_env):
    amal = db_env.user_by_username("amal")
    doc = _docs(db_env)[0]
    at = _page(db_env)
    first = _payload(at)
    at.run()  # the browser has not named its revision yet: the same full state, byte for byte
    assert _payload(at) == first
    at.session_state["annotate_article_sync"].client_rev = first["rev"]  # what the component's next action says
    at.run()  # nothing changed: no document, no spans, the same revision
    same = _payload(at)
    assert "full" not in same and "delta" not in same and same["rev"] == first["rev"]
    span = add_span(db_env, amal, doc.id, "CLAIM", 0, 4)  # e.g. from another tab of the same user
    at.run()
    changed = _payload(at)
    assert "full" not in changed and changed["base"] == first["rev"] and changed["rev"] == first["rev"] + 1
    assert [s["id"] for s in changed["delta"]["spans"]] == [span.id] and changed["delta"]["gone"] == []
    assert len(at.get("bidi_component")[0].proto.bytes) < 1000  # not the document again


def test_selected_span_and_range_from_python_reach_the_component(db_env):
    from annotator.ui.article_component import select_range

    amal = db_env.user_by_username("amal")
    doc = _docs(db_env)[0]
    span = add_span(db_env, amal, doc.id, "CLAIM", 0, 4)
    at = _page(db_env)
    at.session_state["annotate_article_pick"] = {"seq": 7, "id": span.id}
    at.run()
    assert _payload(at)["ui"]["select"] == {"seq": 7, "id": span.id}
    assert callable(select_range)


def test_next_previous_and_snap_toggle(db_env):
    first, second = _docs(db_env)
    at = _page(db_env)
    at.button(key="annotate_next").click().run()
    assert _payload(at)["full"]["doc_id"] == second.id  # another document: a new sync, the full state
    assert at.query_params["doc"] == str(second.id)
    at.button(key="annotate_prev").click().run()
    assert _payload(at)["full"]["doc_id"] == first.id
    at.toggle(key="annotate_snap_words").set_value(False).run()
    assert _payload(at)["ui"]["snap_words"] is False


def test_query_parameter_opens_a_document(db_env):
    second = _docs(db_env)[1]
    at = AppTest.from_file("../pages/annotate.py", default_timeout=30)
    at.session_state["nisba_user_id"] = db_env.user_by_username("amal").id
    at.query_params["doc"] = str(second.id)
    at.run()
    assert _payload(at)["full"]["doc_id"] == second.id


def test_a_search_hit_link_opens_the_document_with_the_range_selected(db_env):
    first, second = _docs(db_env)
    at = _page(db_env)  # a session already on the first document
    start = second.text.index("المصدر")
    at.query_params.update({"doc": str(second.id), "start": str(start), "end": str(start + 6)})
    at.run()
    data = _payload(at)
    assert data["full"]["doc_id"] == second.id
    assert data["ui"]["select"]["range"] == [start, start + 6]
    assert "start" not in at.query_params and at.query_params["doc"] == str(second.id)


def test_mark_as_done(db_env):
    amal = db_env.user_by_username("amal")
    doc = _docs(db_env)[0]
    at = _page(db_env)
    at.toggle(key=f"annotate_done_{doc.id}").set_value(True).run()
    assert not at.exception
    assert db_env.get_status(doc.id, amal.id) == "submitted"
    assert at.selectbox(key="annotate_doc").format_func(doc.id).startswith("✓ ")
    (documents,) = [d.value for d in at.dataframe if "title" in d.value.columns]
    assert list(documents["done"]) == [True, False]


# ---- the actions the component sends, as the callback carries them out ---------------------------------


@pytest.fixture
def actor(db_env):
    return db_env.user_by_username("amal")


@pytest.fixture
def doc(db_env):
    return _docs(db_env)[0]


def test_tag_snaps_to_whole_words_and_saves(db_env, actor, doc):
    i = doc.text.index("وبحسب الصحيفة")
    out = apply_action(db_env, actor, doc, {"type": "tag", "label": "CLAIM", "start": i + 2, "end": i + 9, "doc_id": doc.id})
    assert out.kind == "saved", out.message
    (span,) = db_env.list_spans(doc.id)
    assert span.text == "وبحسب الصحيفة"
    assert out.selected == span.id


def test_tag_without_word_snapping_still_keeps_clusters_whole(db_env, actor, tricky):
    admin = db_env.user_by_username("admin")
    text = tricky["harakat-tatweel"]["text"]
    d = add_document(db_env, admin, doc_project(db_env), "harakat", text)
    word = "المُتَحَدِّثُ"
    i = text.index(word)
    # end right after the dal, before its shadda and kasra: the saved span takes the marks along
    dal = i + word.index("د")
    out = apply_action(db_env, actor, d, {"type": "tag", "label": "QUOTE", "start": i, "end": dal + 1}, snap_words=False)
    assert out.kind == "saved", out.message
    (span,) = db_env.list_spans(d.id)
    assert span.text == text[i : dal + 3] == "المُتَحَدِّ"
    assert is_grapheme_boundary(text, dal + 3)


def doc_project(store):
    return store.list_projects()[0].id


def test_relabel_attributes_link_delete_and_undo(db_env, actor, doc):
    i = doc.text.index("وبحسب الصحيفة")
    quote = add_span(db_env, actor, doc.id, "CLAIM", i, i + 13)
    source = add_span(db_env, actor, doc.id, "SOURCE", i + 6, i + 13)
    assert (
        apply_action(db_env, actor, doc, {"type": "relabel", "span_id": quote.id, "label": "QUOTE", "version": 1}).kind == "saved"
    )
    assert db_env.get_span(quote.id).label == "QUOTE"
    out = apply_action(db_env, actor, doc, {"type": "attr", "span_id": quote.id, "attributes": {"form": "partial"}})
    assert out.kind == "saved" and db_env.get_span(quote.id).attributes == {"form": "partial"}
    out = apply_action(
        db_env, actor, doc, {"type": "link", "from_span_id": quote.id, "to_span_id": source.id, "link_type": "attributed_to"}
    )
    assert out.kind == "saved"
    (link,) = db_env.list_links(doc.id)
    assert apply_action(db_env, actor, doc, {"type": "delete", "span_id": source.id}).selected is None
    assert db_env.list_links(doc.id) == []
    out = apply_action(db_env, actor, doc, {"type": "undo"})
    assert out.kind == "saved"
    assert db_env.get_span(source.id).text == "الصحيفة"
    assert [k.id for k in db_env.list_links(doc.id)] == [link.id]
    assert apply_action(db_env, actor, doc, {"type": "unlink", "link_id": link.id}).kind == "saved"
    assert db_env.list_links(doc.id) == []


def test_refusals_are_shown_and_nothing_is_written(db_env, actor, doc):
    i = doc.text.index("الصحيفة")
    source = add_span(db_env, actor, doc.id, "SOURCE", i, i + 7)
    cases = [
        {"type": "tag", "label": "NOPE", "start": 0, "end": 4},
        {"type": "tag", "label": "CLAIM", "start": -3, "end": 4},
        {"type": "tag", "label": "CLAIM", "start": 4, "end": 4},
        {"type": "tag", "label": "CLAIM", "start": 0, "end": len(doc.text) + 5},
        {"type": "tag", "label": "CLAIM", "start": "x", "end": 4},
        {"type": "tag", "label": "CLAIM", "start": 0, "end": 4, "doc_id": doc.id + 1},
        {"type": "relabel", "span_id": source.id, "label": "QUOTE", "version": 99},
        {"type": "link", "from_span_id": source.id, "to_span_id": source.id},
        {"type": "attr", "span_id": source.id, "attributes": {"type": "alien"}},
        {"type": "fly"},
    ]
    for action in cases:
        out = apply_action(db_env, actor, doc, action)
        assert out.kind == "error", action
        assert out.message
    assert [s.id for s in db_env.list_spans(doc.id)] == [source.id]
    assert db_env.get_span(source.id).version == 1


def test_another_annotators_span_cannot_be_deleted(db_env, actor, doc):
    badr = db_env.user_by_username("badr")
    span = add_span(db_env, badr, doc.id, "CLAIM", 0, 4)
    out = apply_action(db_env, actor, doc, {"type": "delete", "span_id": span.id})
    assert out.kind == "error" and "own spans" in out.message
    assert db_env.get_span(span.id)


def test_nav_action_asks_for_the_neighbour(db_env, actor, doc):
    assert apply_action(db_env, actor, doc, {"type": "nav", "step": 1}).nav == 1
    assert apply_action(db_env, actor, doc, {"type": "nav", "step": -1}).nav == -1


def test_a_locked_database_refuses_the_tag_with_a_reason(db_env, actor, doc, monkeypatch):
    import sqlite3

    import annotator.store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    impatient = Store(db_env.path, migrate_schema=False)
    blocker = sqlite3.connect(db_env.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a colleague's long write holds the lock
    try:
        out = apply_action(impatient, actor, doc, {"type": "tag", "label": "CLAIM", "start": 0, "end": 4})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        impatient.close()
    assert out.kind == "error"
    assert "not saved" in out.message.lower() or "busy" in out.message.lower()
    assert db_env.list_spans(doc.id) == []


def test_another_user_in_the_same_session_never_sees_the_previous_layer(db_env):
    amal, badr = db_env.user_by_username("amal"), db_env.user_by_username("badr")
    doc = _docs(db_env)[0]
    add_span(db_env, amal, doc.id, "CLAIM", 0, 4)
    at = _page(db_env)
    assert len(_payload(at)["full"]["spans"]) == 1
    at.session_state["nisba_user_id"] = badr.id  # nothing was written in between: only the user differs
    at.run()
    assert not at.exception
    data = _payload(at)
    assert data["full"]["spans"] == []  # a new sync for badr: never a delta on amal's drawing
    assert data["full"]["doc_id"] == doc.id


def test_review_of_my_work_shows_decisions_and_comments_as_literal_text(db_env):
    from annotator import review

    store = db_env
    amal, rana = store.user_by_username("amal"), store.user_by_username("rana")
    doc = _docs(store)[0]
    span = add_span(store, amal, doc.id, "CUE", 0, 4)
    review.decide(store, rana, "span", span.id, "accepted", expected_version=0)
    review.add_comment(store, rana, "span", span.id, "![x](http://example.invalid/x.png) **راجعي** الحدود")
    at = _page(store)
    lines = [m.value for m in at.markdown]
    assert f"✓ accepted CUE «{doc.text[0:4]}» — رنا" in lines
    [comment] = [v for v in lines if v.startswith("Comment on")]
    # Markdown is escaped: the image and the bold stay characters
    assert "\\!\\[x\\]\\(http" in comment and "\\*\\*راجعي\\*\\*" in comment
    assert not any("Comment on" in v for v in (m.value for m in _page(store, "badr").markdown))


def test_guidelines_are_one_click_away_on_the_annotation_page(db_env):
    at = _page(db_env)
    assert not any('data-nisba="guidelines"' in h.proto.body for h in at.get("html"))
    at.button(key="annotate_guidelines").click().run()
    assert not at.exception, at.exception
    (shown,) = [h.proto.body for h in at.get("html") if 'data-nisba="guidelines"' in h.proto.body]
    assert "CUE: the attributing words" in shown and "وفقا للوثيقة" in shown


def test_find_in_this_document_selects_each_hit_in_the_article(db_env):
    doc = _docs(db_env)[0]
    at = _page(db_env)
    at.text_input(key="annotate_find_query").input("الخارجية").run()  # written without harakat or hamza forms
    first = doc.text.index("الخارجية")
    assert _payload(at)["ui"]["select"]["range"] == [first, first + len("الخارجية")]
    at.button(key="annotate_find_next").click().run()
    second = doc.text.index("الخارجية", first + 1)
    assert _payload(at)["ui"]["select"]["range"] == [second, second + len("الخارجية")]
    at.text_input(key="annotate_find_query").input("كلمة-غير-موجودة").run()
    assert any("Not found" in c.value for c in at.caption)
