"""Review: aligning layers, decisions (versioned), comments, adoption into gold, status and progress."""

from __future__ import annotations

import pytest

from annotator import review
from annotator.annotations import add_link, add_span, update_span
from annotator.audit import verify_chain
from annotator.errors import Conflict, InvalidReview, NotFound, PermissionDenied


def at(text: str, phrase: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the nth occurrence of ``phrase`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


@pytest.fixture
def two_layers(demo, users, demo_doc):
    """amal and badr annotate the demo article with one case of each kind of (dis)agreement."""
    amal, badr = users["amal"], users["badr"]
    t = demo_doc.text
    d = demo_doc.id
    s = {}
    # agree: same CLAIM, same attributes, both linked to the same SOURCE
    s["claim_a"] = add_span(demo, amal, d, "CLAIM", *at(t, "بالضغط على حكوماتهم المضيفة"), attributes={"form": "indirect"})
    s["claim_b"] = add_span(demo, badr, d, "CLAIM", *at(t, "بالضغط على حكوماتهم المضيفة"), attributes={"form": "indirect"})
    s["src_a"] = add_span(demo, amal, d, "SOURCE", *at(t, "ماركو روبيو"))
    s["src_b"] = add_span(demo, badr, d, "SOURCE", *at(t, "ماركو روبيو"))
    add_link(demo, amal, s["claim_a"].id, s["src_a"].id)
    add_link(demo, badr, s["claim_b"].id, s["src_b"].id)
    # same text, different label
    s["label_a"] = add_span(demo, amal, d, "SOURCE", *at(t, "وثيقة"))
    s["label_b"] = add_span(demo, badr, d, "CUE", *at(t, "وثيقة"))
    # same label, overlapping, different boundaries
    s["bound_a"] = add_span(demo, amal, d, "QUOTE", *at(t, "تدعم المهاجرين بشكل مفرط"))
    s["bound_b"] = add_span(demo, badr, d, "QUOTE", *at(t, "تدعم المهاجرين"))
    # only one annotator
    s["only_a"] = add_span(demo, amal, d, "CUE", *at(t, "كشفت"))
    # same span, different attributes
    s["attr_a"] = add_span(demo, amal, d, "SOURCE", *at(t, "الدبلوماسيين"), attributes={"type": "person"})
    s["attr_b"] = add_span(demo, badr, d, "SOURCE", *at(t, "الدبلوماسيين"), attributes={"type": "organisation"})
    # same QUOTE, linked to different sources
    s["q_a"] = add_span(demo, amal, d, "QUOTE", *at(t, "لتقييد معظم أشكال الهجرة"))
    s["q_b"] = add_span(demo, badr, d, "QUOTE", *at(t, "لتقييد معظم أشكال الهجرة"))
    s["qsrc_a"] = add_span(demo, amal, d, "SOURCE", *at(t, "حكوماتهم"))
    s["qsrc_b"] = add_span(demo, badr, d, "SOURCE", *at(t, "حكوماتهم"))
    add_link(demo, amal, s["q_a"].id, s["qsrc_a"].id)
    add_link(demo, badr, s["q_b"].id, s["src_b"].id)
    return s


def row_of(view, span):
    return next(r for r in view.rows if span.id in {x.id for x in r.spans.values()})


def test_load_review_marks_each_kind_of_disagreement(demo, users, demo_doc, two_layers):
    s = two_layers
    view = review.load_review(demo, users["rana"], demo_doc.id)
    assert view.annotator_ids == [users["amal"].id, users["badr"].id]
    agreed = row_of(view, s["claim_a"])
    assert agreed.issues == () and agreed.spans == {users["amal"].id: s["claim_a"], users["badr"].id: s["claim_b"]}
    assert row_of(view, s["src_a"]).issues == ()
    assert row_of(view, s["label_a"]).issues == (review.LABEL,)
    assert row_of(view, s["label_a"]).others == (s["label_b"],)
    assert row_of(view, s["label_b"]).issues == (review.LABEL,)
    assert row_of(view, s["bound_a"]).issues == (review.BOUNDARIES,)
    assert row_of(view, s["bound_b"]).others == (s["bound_a"],)
    assert row_of(view, s["only_a"]).issues == (review.ONLY_SOME,)
    assert row_of(view, s["attr_a"]).issues == (review.ATTRIBUTES,)
    assert row_of(view, s["q_a"]).issues == (review.LINK_TARGET,)
    # one row per distinct (start, end, label): 4 agreed, 1 attributes, 2 + 2 label/boundaries, 1 only
    assert len(view.rows) == 10
    assert [r.start for r in view.rows] == sorted(r.start for r in view.rows)
    # links: the CLAIM → روبيو link is agreed; the QUOTE links point at different sources
    link_issues = sorted(r.issues for r in view.link_rows)
    assert link_issues == [(), (review.LINK_TARGET,), (review.LINK_TARGET,)]


def test_only_reviewers_load_the_review(demo, users, demo_doc, two_layers):
    with pytest.raises(PermissionDenied):
        review.load_review(demo, users["amal"], demo_doc.id)
    assert review.load_review(demo, users["admin"], demo_doc.id).rows


def count(store, table: str) -> int:
    return store.query(f"SELECT count(*) AS n FROM {table}")[0]["n"]


def test_decide_is_versioned_and_audited(demo, users, demo_doc, two_layers):
    span = two_layers["only_a"]
    rana, admin = users["rana"], users["admin"]
    first = review.decide(demo, rana, "span", span.id, "accepted", 0)
    assert (first.decision, first.version, first.reviewer_id, first.entity_version) == ("accepted", 1, rana.id, span.version)
    events = count(demo, "audit_events")
    # admin saw no decision (version 0): the colleague was first, nothing changes
    with pytest.raises(Conflict, match="already accepted"):
        review.decide(demo, admin, "span", span.id, "rejected", 0)
    assert demo.get_review("span", span.id) == first
    assert count(demo, "audit_events") == events
    second = review.decide(demo, admin, "span", span.id, "rejected", 1)
    assert (second.decision, second.version, second.reviewer_id) == ("rejected", 2, admin.id)
    ev = list(demo.iter_events("action = 'review'"))
    assert [e["after"]["decision"] for e in ev] == ["accepted", "rejected"]
    assert ev[1]["before"]["decision"] == "accepted"
    assert verify_chain(demo.iter_events(), demo.audit_key()).ok


def test_decide_refusals_write_nothing(demo, users, demo_doc, two_layers):
    span = two_layers["only_a"]
    events = count(demo, "audit_events")
    with pytest.raises(PermissionDenied):
        review.decide(demo, users["amal"], "span", span.id, "accepted", 0)
    with pytest.raises(InvalidReview):
        review.decide(demo, users["rana"], "span", span.id, "maybe", 0)
    with pytest.raises(InvalidReview):
        review.decide(demo, users["rana"], "document", demo_doc.id, "accepted", 0)
    with pytest.raises(NotFound):
        review.decide(demo, users["rana"], "span", 999_999, "accepted", 0)
    gold = review.adopt_into_gold(demo, users["rana"], span.id)
    events = count(demo, "audit_events")
    with pytest.raises(InvalidReview, match="Gold"):
        review.decide(demo, users["rana"], "span", gold.id, "rejected", 0)
    assert count(demo, "reviews") == 0
    assert count(demo, "audit_events") == events


def test_reviewer_of_another_project_is_refused(demo, users, demo_doc, two_layers):
    outsider_id = demo.insert_user("omar", "reviewer")
    outsider = demo.get_user(outsider_id)
    with pytest.raises(PermissionDenied):
        review.decide(demo, outsider, "span", two_layers["only_a"].id, "accepted", 0)
    with pytest.raises(PermissionDenied):
        review.load_review(demo, outsider, demo_doc.id)
    assert count(demo, "reviews") == 0


def test_decide_a_link(demo, users, demo_doc, two_layers):
    link = demo.links_of_span(two_layers["q_a"].id)[0]
    r = review.decide(demo, users["rana"], "link", link.id, "rejected", 0)
    assert (r.entity, r.entity_id, r.decision, r.document_id) == ("link", link.id, "rejected", demo_doc.id)
    view = review.load_review(demo, users["rana"], demo_doc.id)
    assert view.decision("link", link.id).decision == "rejected"


def test_comment_thread_seen_by_its_annotator_only(demo, users, demo_doc, two_layers):
    span = two_layers["label_a"]
    rana, amal, badr = users["rana"], users["amal"], users["badr"]
    review.add_comment(demo, rana, "span", span.id, "  هل هذا مصدر أم إشارة؟ ")
    review.add_comment(demo, amal, "span", span.id, "مصدر: الوثيقة نفسها.")
    with pytest.raises(PermissionDenied):
        review.add_comment(demo, badr, "span", span.id, "I disagree")
    with pytest.raises(InvalidReview):
        review.add_comment(demo, rana, "span", span.id, "   ")
    with pytest.raises(InvalidReview):
        review.add_comment(demo, rana, "span", span.id, "x" * (review.MAX_COMMENT + 1))
    thread = review.list_comments(demo, amal, demo_doc.id)
    assert [(c.author_id, c.body) for c in thread] == [(rana.id, "هل هذا مصدر أم إشارة؟"), (amal.id, "مصدر: الوثيقة نفسها.")]
    assert review.list_comments(demo, badr, demo_doc.id) == []
    assert len(review.list_comments(demo, rana, demo_doc.id, "span", span.id)) == 2
    assert [e["action"] for e in demo.iter_events("action = 'comment'")] == ["comment", "comment"]


def test_adopt_into_gold_with_provenance_and_links(demo, users, demo_doc, two_layers):
    s = two_layers
    rana = users["rana"]
    claim = review.adopt_into_gold(demo, rana, s["claim_a"].id)
    assert (claim.layer, claim.start_offset, claim.end_offset, claim.label, claim.attributes) == (
        "gold", s["claim_a"].start_offset, s["claim_a"].end_offset, "CLAIM", {"form": "indirect"})  # fmt: skip
    assert claim.origin == {"adopted_from": s["claim_a"].id, "annotator_id": users["amal"].id}
    assert demo.list_links(demo_doc.id) and not demo.links_of_span(claim.id)  # the source is not gold yet
    # adopting badr's identical CLAIM is the same gold span
    assert review.adopt_into_gold(demo, rana, s["claim_b"].id) == claim
    source = review.adopt_into_gold(demo, rana, s["src_b"].id)
    gold_links = demo.links_of_span(claim.id)
    assert [(k.from_span_id, k.to_span_id, k.type) for k in gold_links] == [(claim.id, source.id, "attributed_to")]
    with pytest.raises(InvalidReview):
        review.adopt_into_gold(demo, rana, claim.id)
    with pytest.raises(PermissionDenied):
        review.adopt_into_gold(demo, users["amal"], s["only_a"].id)
    assert [e["entity"] for e in demo.iter_events("action = 'adopt'")] == ["span", "span", "link"]


def test_adopt_agreed_takes_exactly_the_agreed_spans(demo, users, demo_doc, two_layers):
    s = two_layers
    created = review.adopt_agreed(demo, users["rana"], demo_doc.id)
    # agreed: CLAIM, its SOURCE, the QUOTE (its link target is disputed, the span is not) and the
    # QUOTE's source حكوماتهم; not the relabelled, moved, one-sided or attribute-disputed spans
    keys = {(g.start_offset, g.end_offset, g.label) for g in created}
    expected = {review.span_key(s[k]) for k in ("claim_a", "src_a", "q_a", "qsrc_a")}
    assert keys == expected
    gold = demo.list_spans(demo_doc.id, layer="gold")
    assert len(gold) == 4
    claim = next(g for g in gold if g.label == "CLAIM")
    assert claim.origin["agreed_by"] == [users["amal"].id, users["badr"].id]
    assert sorted(claim.origin["agreed_spans"]) == sorted([s["claim_a"].id, s["claim_b"].id])
    # only the agreed link comes along (the QUOTE's links disagree)
    gold_ids = {g.id for g in gold}
    gold_links = [k for k in demo.list_links(demo_doc.id) if k.from_span_id in gold_ids]
    assert [(k.from_span_id, k.type) for k in gold_links] == [(claim.id, "attributed_to")]
    assert review.adopt_agreed(demo, users["rana"], demo_doc.id) == []


def test_adopt_agreed_needs_two_layers_and_a_reviewer(demo, users, demo_doc):
    add_span(demo, users["amal"], demo_doc.id, "CUE", *at(demo_doc.text, "كشفت"))
    with pytest.raises(InvalidReview, match="two annotators"):
        review.adopt_agreed(demo, users["rana"], demo_doc.id)
    with pytest.raises(PermissionDenied):
        review.adopt_agreed(demo, users["amal"], demo_doc.id)
    assert demo.list_spans(demo_doc.id, layer="gold") == []


def test_adopt_agreed_is_one_transaction(demo, users, demo_doc, two_layers, monkeypatch):
    """A failure half-way through leaves no gold span and no audit event behind."""
    calls = {"n": 0}
    original = demo.insert_span

    def failing_insert(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise InvalidReview("simulated failure on the third span")
        return original(*args, **kwargs)

    events = count(demo, "audit_events")
    monkeypatch.setattr(demo, "insert_span", failing_insert)
    with pytest.raises(InvalidReview):
        review.adopt_agreed(demo, users["rana"], demo_doc.id)
    assert demo.list_spans(demo_doc.id, layer="gold") == []
    assert count(demo, "audit_events") == events


def test_status_and_project_progress(demo, users, demo_doc, two_layers):
    amal, badr, rana = users["amal"], users["badr"], users["rana"]
    review.decide(demo, rana, "span", two_layers["only_a"].id, "rejected", 0)
    review.decide(demo, rana, "span", two_layers["claim_a"].id, "accepted", 0)
    review.mark_reviewed(demo, rana, demo_doc.id, amal.id)
    with pytest.raises(PermissionDenied):
        review.mark_reviewed(demo, amal, demo_doc.id, amal.id)
    with pytest.raises(InvalidReview):
        review.mark_reviewed(demo, rana, demo_doc.id, rana.id)
    progress = review.project_progress(demo, rana, demo_doc.project_id)
    table = progress[["annotator_id", "status", "spans", "decided", "rejected"]].to_dict("records")
    assert table == [
        {"annotator_id": amal.id, "status": "reviewed", "spans": 8, "decided": 2, "rejected": 1},
        {"annotator_id": badr.id, "status": "in_progress", "spans": 7, "decided": 0, "rejected": 0},
    ]
    assert review.progress_summary(progress) == {
        "documents": 1, "in_progress": 1, "submitted": 0, "reviewed": 1, "spans": 15, "decided": 2,
    }  # fmt: skip
    with pytest.raises(PermissionDenied):
        review.project_progress(demo, amal, demo_doc.project_id)


def test_feedback_shows_an_annotator_the_decisions_and_comments_on_their_own_work(demo, users, demo_doc, two_layers):
    s = two_layers
    rana, amal, badr = users["rana"], users["amal"], users["badr"]
    review.decide(demo, rana, "span", s["only_a"].id, "rejected", 0)
    review.decide(demo, rana, "span", s["claim_b"].id, "accepted", 0)
    link = demo.links_of_span(s["q_a"].id)[0]
    review.decide(demo, rana, "link", link.id, "accepted", 0)
    review.add_comment(demo, rana, "span", s["only_a"].id, "ليست إشارة")
    rows = [(r["kind"], r["about"], r["who"], r["text"]) for r in review.feedback(demo, amal, demo_doc.id)]
    assert rows == [
        ("decision", "CUE «كشفت»", rana.name, "rejected"),
        ("decision", "attributed_to: «لتقييد معظم أشكال الهجرة» → «حكوماتهم»", rana.name, "accepted"),
        ("comment", "CUE «كشفت»", rana.name, "ليست إشارة"),
    ]
    assert [(r["kind"], r["text"]) for r in review.feedback(demo, badr, demo_doc.id)] == [("decision", "accepted")]


def test_the_table_shows_decisions_and_spans_changed_since(demo, users, demo_doc, two_layers):
    s = two_layers
    rana, amal = users["rana"], users["amal"]
    review.decide(demo, rana, "span", s["only_a"].id, "rejected", 0)
    review.decide(demo, rana, "span", s["attr_a"].id, "accepted", 0)
    update_span(demo, amal, s["attr_a"].id, attributes={"type": "organisation"})
    view = review.load_review(demo, rana, demo_doc.id)
    table = {(r["text"], r["label"]): r for r in view.span_table()}
    assert table[("كشفت", "CUE")][amal.name] == "✗ rejected"
    attr = table[("الدبلوماسيين", "SOURCE")]
    assert attr[amal.name] == "✓ accepted (changed since)" and attr[users["badr"].name] == "● tagged"
    # now both say organisation: the attributes agree
    assert attr["disagreement"] == ""
