"""ArticleSync: what the article component gets: the full state once, then deltas from the browser's revision."""

from __future__ import annotations

import copy
import json

import pytest

from annotator.annotations import add_link, add_span, delete_span, undo_last, update_span
from annotator.article_sync import ArticleSync
from annotator.labels import save_label


def _msg(sync, base, ui=None) -> dict:
    return json.loads(sync.message(base, ui or {}).decode("utf-8"))


def _apply(state: dict, msg: dict) -> dict:
    """What the browser does with a message (the JS rules): full replaces, a delta patches when base <= rev."""
    if "full" in msg:
        return {"rev": msg["rev"], "spans": {s["id"]: s for s in msg["full"]["spans"]},
                "links": {k["id"]: k for k in msg["full"]["links"]}}  # fmt: skip
    assert msg["base"] <= state["rev"], "a delta the browser cannot use must not be sent"
    if "delta" in msg and msg["rev"] > state["rev"]:
        d = msg["delta"]
        for i in d["gone"]:
            state["spans"].pop(i, None)
        state["spans"].update({s["id"]: s for s in d["spans"]})
        for i in d["gone_links"]:
            state["links"].pop(i, None)
        state["links"].update({k["id"]: k for k in d["links"]})
        state["rev"] = msg["rev"]
    return state


def _truth(sync) -> dict:
    return {"spans": sync.spans, "links": sync.links}


def test_full_state_then_deltas_that_converge_from_any_revision(demo, users, demo_doc):
    amal = users["amal"]
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    first = _msg(sync, None)
    assert first["full"]["text"] == demo_doc.text and first["full"]["spans"] == []
    browser_old = _apply({}, first)
    a = add_span(demo, amal, demo_doc.id, "CLAIM", 0, 4)
    assert sync.refresh(demo, amal)
    browser_mid = _apply(copy.deepcopy(browser_old), _msg(sync, browser_old["rev"]))
    b = add_span(demo, amal, demo_doc.id, "SOURCE", 5, 9)
    k = add_link(demo, amal, a.id, b.id)
    update_span(demo, amal, a.id, attributes={"form": "direct"}, expected_version=a.version)
    delete_span(demo, amal, b.id)  # its link goes with it
    assert sync.refresh(demo, amal)
    # one message built from the oldest base serves a browser at that base and one further on alike
    msg = _msg(sync, browser_old["rev"])
    for browser in (copy.deepcopy(browser_old), browser_mid):
        state = _apply(browser, msg)
        assert state["spans"] == {i: s for i, s in sync.spans.items()}
        assert state["links"] == {}
    assert b.id not in sync.spans and k.id not in sync.links  # made and removed between two reads: never sent
    assert sync.spans[a.id]["a"] == {"form": "direct"}


def test_nothing_written_means_no_read_and_the_same_bytes(demo, users, demo_doc):
    amal = users["amal"]
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    before = sync.message(sync.rev, {"x": 1})
    assert sync.refresh(demo, amal) is False
    assert sync.message(sync.rev, {"x": 1}) == before
    assert "delta" not in json.loads(before)


def test_a_stale_or_foreign_revision_gets_the_whole_state(demo, users, demo_doc):
    amal = users["amal"]
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    add_span(demo, amal, demo_doc.id, "CLAIM", 0, 4)
    sync.refresh(demo, amal)
    assert "full" in _msg(sync, sync.rev + 5)  # a revision this sync never had
    assert "full" in _msg(sync, -1)
    assert "full" in _msg(sync, None)
    admin = users["admin"]
    label = next(lab for lab in demo.list_labels(demo_doc.project_id) if lab.name == "CLAIM")
    save_label(demo, admin, demo_doc.project_id, {"name": label.name, "kind": label.kind, "colour": "#123456",
               "hotkey": label.hotkey, "description": label.description, "attributes": label.attributes}, label.id)  # fmt: skip
    assert sync.refresh(demo, amal)
    assert "full" in _msg(sync, sync.rev - 1)  # labels changed: no patch can carry that


@pytest.mark.sqlite_only  # PostgreSQL never hands an id out twice
def test_a_reused_span_id_is_seen_as_a_change(demo, users, demo_doc):
    amal = users["amal"]
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    span = add_span(demo, amal, demo_doc.id, "CLAIM", 0, 4)
    sync.refresh(demo, amal)
    base = sync.rev
    delete_span(demo, amal, span.id)
    again = add_span(demo, amal, demo_doc.id, "QUOTE", 5, 9)
    assert again.id == span.id  # SQLite hands the highest id out again
    sync.refresh(demo, amal)
    delta = _msg(sync, base)["delta"]
    assert [(s["id"], s["l"], s["s"]) for s in delta["spans"]] == [(span.id, "QUOTE", 5)]


def test_undo_restores_through_a_delta(demo, users, demo_doc):
    amal = users["amal"]
    span = add_span(demo, amal, demo_doc.id, "CLAIM", 0, 4)
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    base = sync.rev
    delete_span(demo, amal, span.id)
    undo_last(demo, amal, demo_doc.id)
    sync.refresh(demo, amal)
    assert [s["id"] for s in _msg(sync, base)["delta"]["spans"]] == [span.id]


def test_blind_annotation_holds_in_the_sync(demo, users, demo_doc):
    add_span(demo, users["badr"], demo_doc.id, "CLAIM", 0, 4)
    sync = ArticleSync(demo, users["amal"], demo_doc)
    sync.refresh(demo, users["amal"])
    assert _msg(sync, None)["full"]["spans"] == []


def test_actions_are_acknowledged_once_and_kept_for_replaced_messages(demo, users, demo_doc):
    sync = ArticleSync(demo, users["amal"], demo_doc)
    sync.refresh(demo, users["amal"])
    sync.record("m.1", {"kind": "saved", "message": "Saved"})
    assert sync.was_applied("m.1") and not sync.was_applied("m.2")
    sync.record("m.2", {"kind": "error", "message": "Not saved"})
    assert [a["cid"] for a in _msg(sync, sync.rev)["acks"]] == ["m.1", "m.2"]


def test_reads_only_what_the_events_name_and_ignores_other_documents(demo, users, demo_doc):
    from annotator.article_sync import _plan
    from annotator.projects import add_document

    amal, admin = users["amal"], users["admin"]
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    other = add_document(demo, admin, demo_doc.project_id, "another", "نص آخر قصير")
    add_span(demo, amal, other.id, "CLAIM", 0, 2)
    assert sync.refresh(demo, amal) is False  # another document's events: nothing drawn here changed
    span = add_span(demo, amal, demo_doc.id, "CLAIM", 0, 4)
    events = demo.events_after(sync.head)
    assert _plan(events, demo_doc.id) == ({span.id}, True)
    assert sync.refresh(demo, amal) is True and list(sync.spans) == [span.id]
    assert _plan([(1, "import", "project", 1, None)], demo_doc.id) is None  # an import: compare everything


def test_a_change_saved_through_another_server_reaches_the_next_refresh(demo, users, demo_doc):
    """Two app servers are two processes with a store each (on PostgreSQL, a pool each): the sync of a page on one
    server reads what a page on the other saved, since it asks the database for the events after its last look."""
    from annotator.store import Store

    amal = users["amal"]
    other_server = Store(demo.path, migrate_schema=False)
    try:
        sync = ArticleSync(demo, amal, demo_doc)
        sync.refresh(demo, amal)
        assert not sync.refresh(demo, amal)
        span = add_span(other_server, amal, demo_doc.id, "SOURCE", 5, 9)
        assert sync.refresh(demo, amal)
        assert sync.spans[span.id]["s"] == 5 and sync.spans[span.id]["l"] == "SOURCE"
        delete_span(other_server, amal, span.id)
        assert sync.refresh(demo, amal) and span.id not in sync.spans
    finally:
        other_server.close()


def test_open_suggestions_follow_the_spans_drawn_even_when_two_spans_cover_the_same_words(demo, users, demo_doc):
    from annotator.suggestions import list_suggestions

    amal = users["amal"]
    sync = ArticleSync(demo, amal, demo_doc)
    sync.refresh(demo, amal)
    sugg = list_suggestions(demo, amal, demo_doc.id)[0]
    assert sugg.key in sync.suggestions
    one = add_span(demo, amal, demo_doc.id, sugg.label, sugg.start, sugg.end)
    two = add_span(demo, amal, demo_doc.id, sugg.label, sugg.start, sugg.end)  # the same words twice (allowed)
    sync.refresh(demo, amal)
    assert sugg.key not in sync.suggestions and "gone_suggestions" in sync.delta(0)
    delete_span(demo, amal, one.id)
    sync.refresh(demo, amal)
    assert sugg.key not in sync.suggestions  # the other span still covers them
    delete_span(demo, amal, two.id)
    sync.refresh(demo, amal)
    assert sugg.key in sync.suggestions  # open again once no span covers them
    assert set(sync.suggestions) == {g.key for g in list_suggestions(demo, amal, demo_doc.id)}
