"""Spans and links in the core: saved exactly, refused cleanly, undone in order."""

import pytest

from annotator import annotations as A
from annotator.errors import Conflict, InvalidLabel, InvalidLink, InvalidSpan, PermissionDenied
from annotator.projects import add_document, create_project
from annotator.store import Store


def _counts(store):
    return (
        store.query("select count(*) AS n from spans")[0]["n"],
        store.query("select count(*) AS n from links")[0]["n"],
        store.query("select count(*) AS n from audit_events")[0]["n"],
    )


def test_span_is_saved_over_exact_characters_and_survives_restart(demo, users, demo_doc, tmp_path):
    i = demo_doc.text.index("وبحسب الصحيفة")
    span = A.add_span(demo, users["amal"], demo_doc.id, "CUE", i, i + len("وبحسب الصحيفة"))
    assert span.text == "وبحسب الصحيفة" == demo_doc.text[span.start_offset : span.end_offset]
    demo.close()
    reopened = Store(demo.path)
    [again] = reopened.list_spans(demo_doc.id)
    assert (again.id, again.label, again.text, again.annotator_id) == (span.id, "CUE", "وبحسب الصحيفة", users["amal"].id)


@pytest.mark.parametrize(
    "start, end, snapshot, message",
    [
        (-1, 3, None, "outside"),
        (10, 10, None, "empty"),
        (20, 10, None, "reversed"),
        (0, 10**6, None, "outside"),
        (0, 4, "شيء آخر", "does not equal"),
        ("0", 4, None, "whole numbers"),
    ],
)
def test_bad_offsets_are_refused_and_nothing_is_written(demo, users, demo_doc, start, end, snapshot, message):
    before = _counts(demo)
    with pytest.raises(InvalidSpan, match=message):
        A.add_span(demo, users["amal"], demo_doc.id, "CLAIM", start, end, snapshot)
    assert _counts(demo) == before


def test_a_span_that_splits_a_letter_from_its_harakat_is_refused(demo, users, tricky):
    doc = add_document(demo, users["admin"], demo.list_projects()[0].id, "harakat", tricky["harakat-tatweel"]["text"])
    i = doc.text.index("المُتَحَدِّثُ")
    with pytest.raises(InvalidSpan, match="splits a letter"):
        A.add_span(demo, users["amal"], doc.id, "SOURCE", i, i + 3)  # ends between م and its damma
    assert A.add_span(demo, users["amal"], doc.id, "SOURCE", i, i + 4).text == "المُ"


def test_span_after_emoji_uses_code_points(demo, users, tricky):
    doc = add_document(demo, users["admin"], demo.list_projects()[0].id, "emoji", tricky["emoji"]["text"])
    i = doc.text.index("المغرد")
    span = A.add_span(demo, users["amal"], doc.id, "SOURCE", i, i + 6)
    assert span.text == "المغرد" and span.start_offset == 7


def test_label_of_another_project_is_refused(demo, users, demo_doc):
    other = create_project(demo, users["admin"], "Other")
    other_label = demo.list_labels(other.id)[0]
    before = _counts(demo)
    with pytest.raises(InvalidLabel):
        A.add_span(demo, users["amal"], demo_doc.id, other_label.id, 0, 4)
    assert _counts(demo) == before


def test_attributes_must_be_allowed_by_the_label(demo, users, demo_doc):
    with pytest.raises(InvalidSpan, match="not an allowed form"):
        A.add_span(demo, users["amal"], demo_doc.id, "QUOTE", 0, 4, attributes={"form": "shouted"})
    with pytest.raises(InvalidSpan, match="no attribute"):
        A.add_span(demo, users["amal"], demo_doc.id, "CUE", 0, 4, attributes={"form": "direct"})
    span = A.add_span(demo, users["amal"], demo_doc.id, "QUOTE", 0, 4, attributes={"form": "direct"})
    assert span.attributes == {"form": "direct"}


def test_nested_spans_and_links(demo, users, demo_doc):
    amal = users["amal"]
    text = demo_doc.text
    i = text.index("وبحسب الصحيفة")
    claim = A.add_span(demo, amal, demo_doc.id, "CLAIM", i, i + 40)
    quote = A.add_span(demo, amal, demo_doc.id, "QUOTE", i + 6, i + 13)
    source = A.add_span(demo, amal, demo_doc.id, "SOURCE", i + 6, i + 13)
    cue = A.add_span(demo, amal, demo_doc.id, "CUE", i, i + 5)
    link = A.add_link(demo, amal, quote.id, source.id, "attributed_to")
    A.add_link(demo, amal, claim.id, cue.id, "cue")
    assert A.add_link(demo, amal, quote.id, source.id, "attributed_to").id == link.id  # no duplicate
    with pytest.raises(InvalidLink, match="attributed_to links"):
        A.add_link(demo, amal, source.id, quote.id, "attributed_to")
    with pytest.raises(InvalidLink, match="Unknown link type"):
        A.add_link(demo, amal, quote.id, source.id, "likes")
    with pytest.raises(InvalidLink, match="itself"):
        A.add_link(demo, amal, quote.id, quote.id)
    assert [s.label for s in demo.list_spans(demo_doc.id)] == ["CLAIM", "CUE", "QUOTE", "SOURCE"]
    assert len(demo.list_links(demo_doc.id)) == 2


def test_link_between_documents_is_refused(demo, users, demo_doc):
    doc2 = add_document(demo, users["admin"], demo_doc.project_id, "second", "قال المصدر إن الخبر صحيح.")
    quote = A.add_span(demo, users["amal"], demo_doc.id, "QUOTE", 0, 4)
    source = A.add_span(demo, users["amal"], doc2.id, "SOURCE", 4, 10)
    before = _counts(demo)
    with pytest.raises(InvalidLink, match="same document"):
        A.add_link(demo, users["amal"], quote.id, source.id)
    assert _counts(demo) == before


def test_update_changes_label_and_drops_attributes_the_new_label_lacks(demo, users, demo_doc):
    span = A.add_span(demo, users["amal"], demo_doc.id, "QUOTE", 0, 4, attributes={"form": "partial"})
    updated = A.update_span(demo, users["amal"], span.id, label="SOURCE", expected_version=1)
    assert (updated.label, updated.attributes, updated.version) == ("SOURCE", {}, 2)
    with pytest.raises(Conflict):
        A.update_span(demo, users["amal"], span.id, label="CLAIM", expected_version=1)
    assert demo.get_span(span.id).label == "SOURCE"


def test_annotator_cannot_touch_another_annotators_span(demo, users, demo_doc):
    span = A.add_span(demo, users["amal"], demo_doc.id, "CLAIM", 0, 4)
    before = _counts(demo)
    with pytest.raises(PermissionDenied):
        A.delete_span(demo, users["badr"], span.id)
    with pytest.raises(PermissionDenied):
        A.update_span(demo, users["badr"], span.id, label="QUOTE")
    with pytest.raises(PermissionDenied):
        A.list_spans(demo, users["badr"], demo_doc.id, annotator_id=users["amal"].id)
    assert _counts(demo) == before


def test_delete_and_undo_walk_back_through_history(demo, users, demo_doc):
    amal = users["amal"]
    quote = A.add_span(demo, amal, demo_doc.id, "QUOTE", 0, 4)
    source = A.add_span(demo, amal, demo_doc.id, "SOURCE", 5, 11)
    A.add_link(demo, amal, quote.id, source.id)
    A.update_span(demo, amal, quote.id, attributes={"form": "direct"})
    A.delete_span(demo, amal, source.id)
    assert len(demo.list_links(demo_doc.id)) == 0
    assert "restored" in A.undo_last(demo, amal, demo_doc.id)  # the delete: span and its link come back
    restored = demo.get_span(source.id)
    assert (restored.text, len(demo.list_links(demo_doc.id))) == (demo_doc.text[5:11], 1)
    A.undo_last(demo, amal, demo_doc.id)  # the attribute change
    assert demo.get_span(quote.id).attributes == {}
    A.undo_last(demo, amal, demo_doc.id)  # the link
    assert demo.list_links(demo_doc.id) == []
    A.undo_last(demo, amal, demo_doc.id)  # the source span
    A.undo_last(demo, amal, demo_doc.id)  # the quote span
    assert demo.list_spans(demo_doc.id) == []
    assert A.undo_last(demo, amal, demo_doc.id) is None


def test_undo_is_per_user(demo, users, demo_doc):
    A.add_span(demo, users["amal"], demo_doc.id, "QUOTE", 0, 4)
    assert A.undo_last(demo, users["badr"], demo_doc.id) is None
    assert len(demo.list_spans(demo_doc.id)) == 1


def test_every_change_is_in_the_audit_chain(demo, users, demo_doc):
    from annotator.audit import verify_chain

    span = A.add_span(demo, users["amal"], demo_doc.id, "QUOTE", 0, 4)
    A.delete_span(demo, users["amal"], span.id)
    report = verify_chain(demo.iter_events(), demo.audit_key())
    assert report.ok
    actions = [(e["action"], e["entity"]) for e in demo.iter_events()][-2:]
    assert actions == [("create", "span"), ("delete", "span")]
