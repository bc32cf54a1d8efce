"""AppTest: the review and agreement screens call the core and show its results and refusals."""

from __future__ import annotations

import json

import pytest
from app_pages import run_page

from annotator import review
from annotator.annotations import add_span
from annotator.article_actions import apply_action
from annotator.ui.article_component import COMPONENT_NAMES


@pytest.fixture
def db(app_db):
    """The demo database with two layers on the article: one agreed CLAIM, one SOURCE only amal made,
    and an article fragment with markup that must stay text."""
    store = app_db
    users = store.users
    doc = store.list_documents(store.list_projects()[0].id)[0]
    t = doc.text
    q = t.index("بالضغط على حكوماتهم المضيفة")
    s = t.index("ماركو روبيو")
    store.spans = {
        "claim_a": add_span(store, users["amal"], doc.id, "CLAIM", q, q + 27),
        "claim_b": add_span(store, users["badr"], doc.id, "CLAIM", q, q + 27),
        "source_a": add_span(store, users["amal"], doc.id, "SOURCE", s, s + 11),
    }
    store.doc = doc
    return store


def test_reviewer_sees_layers_and_the_aligned_table(db):
    at = run_page(db, "review.py", "rana")
    assert not at.exception, at.exception
    table = at.dataframe(key="review_table").value
    assert table["label"].tolist() == ["SOURCE", "CLAIM"]  # reading order: ماركو روبيو comes first
    assert table["disagreement"].tolist() == [review.ISSUE_NAMES[review.ONLY_SOME], ""]
    article = next(h.proto.body for h in at.get("html") if 'data-nisba="review-article"' in h.proto.body)
    assert 'dir="rtl"' in article and "ماركو روبيو" in article


def test_keyboard_buttons_accept_and_adopt(db):
    at = run_page(db, "review.py", "rana")
    # the first disagreement is the SOURCE only amal made: accept it (Y), then it is decided
    assert at.button(key="review_accept").proto.shortcut.lower() == "y"
    at.button(key="review_accept").click().run()
    assert not at.exception
    assert db.get_review("span", db.spans["source_a"].id).decision == "accepted"
    at.button(key="review_adopt_agreed").click().run()
    assert "Adopted 1 agreed span" in at.success[0].value
    gold = db.list_spans(db.doc.id, layer="gold")
    assert [(g.label, g.origin["adopted_from"]) for g in gold] == [("CLAIM", db.spans["claim_a"].id)]


def test_a_colleague_deciding_first_is_reported_and_nothing_is_overwritten(db):
    at = run_page(db, "review.py", "rana")
    # admin rejects the SOURCE after rana's screen was drawn
    review.decide(db, db.users["admin"], "span", db.spans["source_a"].id, "rejected", 0)
    at.button(key="review_accept").click().run()
    assert "already rejected" in at.error[0].value
    assert db.get_review("span", db.spans["source_a"].id).decision == "rejected"


def test_comment_reaches_the_thread(db):
    at = run_page(db, "review.py", "rana")
    at.text_input(key="review_comment_0").set_value("من المصدر هنا؟")
    at.button(key="review_comment_add").click().run()
    assert not at.exception
    thread = review.list_comments(db, db.users["amal"], db.doc.id)
    assert [c.body for c in thread] == ["من المصدر هنا؟"]


def test_annotator_gets_no_review_screen(db):
    at = run_page(db, "review.py", "amal")
    assert not at.exception
    assert "for reviewers and admins" in at.info[0].value
    assert not at.get("html")


def test_agreement_page_shows_tables_and_download(db):
    at = run_page(db, "agreement.py", "rana")
    assert not at.exception, at.exception
    f1 = at.dataframe[0].value  # the first tab: span F1
    whole = f1[(f1["level"] == "project") & (f1["label"] == "(all)")].iloc[0]
    assert (whole["spans A"], whole["spans B"], whole["exact f1"]) == (2, 1, pytest.approx(2 / 3))
    assert at.get("download_button")


def test_annotator_gets_no_agreement_figures(db):
    at = run_page(db, "agreement.py", "amal")
    assert not at.exception
    assert "for reviewers and admins" in at.info[0].value
    assert not at.dataframe


def test_gold_layer_is_edited_with_the_annotation_component(db):
    review.adopt_into_gold(db, db.users["rana"], db.spans["claim_a"].id)
    at = run_page(db, "review.py", "rana")
    (gold,) = [c for c in at.get("bidi_component") if c.proto.component_name in COMPONENT_NAMES]
    payload = json.loads(gold.proto.bytes.decode("utf-8"))["full"]  # the article component's full state
    assert payload["doc_id"] == db.doc.id
    assert [(s["l"], s["s"]) for s in payload["spans"]] == [("CLAIM", db.spans["claim_a"].start_offset)]
    # a tag sent by the component lands in gold for a reviewer, and is refused for an annotator
    s = db.doc.text.index("ماركو روبيو")
    action = {"type": "tag", "doc_id": db.doc.id, "label": "SOURCE", "start": s, "end": s + 11}
    outcome = apply_action(db, db.users["rana"], db.doc, action, layer="gold")
    assert outcome.kind == "saved"
    refused = apply_action(db, db.users["amal"], db.doc, action, layer="gold")
    assert refused.kind == "error" and "gold" in refused.message
    assert [(g.label, g.annotator_id) for g in db.list_spans(db.doc.id, layer="gold")] == [
        ("SOURCE", db.users["rana"].id),
        ("CLAIM", db.users["rana"].id),
    ]


def test_annotator_reads_the_reviewers_comment_on_the_annotation_screen(db):
    review.add_comment(db, db.users["rana"], "span", db.spans["source_a"].id, "هل روبيو هو المصدر؟")
    at = run_page(db, "annotate.py", "amal")
    assert not at.exception
    assert any("هل روبيو هو المصدر؟" in m.value and "SOURCE «ماركو روبيو»" in m.value for m in at.markdown)
    review.decide(db, db.users["rana"], "span", db.spans["source_a"].id, "rejected", 0)
    at.run()
    assert any("✗ rejected SOURCE «ماركو روبيو»" in m.value for m in at.markdown)
    # badr's screen shows nothing of it: the comment is on amal's span
    at = run_page(db, "annotate.py", "badr")
    assert not any("هل روبيو" in m.value for m in at.markdown)


def test_agreement_page_follows_new_spans(db):
    at = run_page(db, "agreement.py", "rana")
    s = db.doc.text.index("ماركو روبيو")
    add_span(db, db.users["badr"], db.doc.id, "SOURCE", s, s + 11)
    at.run()
    f1 = at.dataframe[0].value
    whole = f1[(f1["level"] == "project") & (f1["label"] == "(all)")].iloc[0]
    assert (whole["spans A"], whole["spans B"], whole["exact f1"]) == (2, 2, 1.0)


def test_agreement_page_counts_suggestions_per_engine_and_label(db):
    from annotator import suggestions

    doc = db.list_documents(db.list_projects()[0].id)[0]
    amal = db.users["amal"]
    cues = [s for s in suggestions.list_suggestions(db, amal, doc.id) if s.label == "CUE"]
    suggestions.accept_suggestion(db, amal, doc.id, cues[0].key)
    suggestions.dismiss_suggestion(db, amal, doc.id, cues[1].key)
    at = run_page(db, "agreement.py", "rana")
    assert not at.exception
    table = at.dataframe[-1].value
    assert table.to_dict("records") == [dict(engine="rules", label="CUE", accepted=1, changed=0, dismissed=1)]


def test_review_tables_keep_label_and_arabic_apart_and_size_their_columns(db):
    from annotator.annotations import add_link

    add_link(db, db.users["amal"], db.spans["claim_a"].id, db.spans["source_a"].id, "attributed_to")
    at = run_page(db, "review.py", "rana")
    assert not at.exception, at.exception
    links = at.dataframe(key="review_links").value
    # the target's label and its text in two columns: one cell "SOURCE: ماركو روبيو" read "SOURCE :ماركو روبيو"
    assert (links["target label"].tolist(), links["target"].tolist()) == (["SOURCE"], ["\u2067ماركو روبيو\u2069"])
    columns = json.loads(at.dataframe(key="review_table").proto.columns)
    assert columns["text"]["width"] >= 240 and columns["text"]["alignment"] == "right"
    order = list(at.dataframe(key="review_table").proto.column_order)
    assert order[:3] == ["text", "label", "disagreement"]  # what differs shows before the annotators' columns
    assert columns["disagreement"]["width"] >= 200
    assert at.dataframe(key="review_table").proto.row_height > 64  # the grid wraps text only in rows over 4rem


def test_guidelines_are_one_click_away_on_the_review_page(db):
    at = run_page(db, "review.py", "rana")
    assert not any('data-nisba="guidelines"' in h.proto.body for h in at.get("html"))
    at.button(key="review_guidelines").click().run()
    assert not at.exception, at.exception
    (shown,) = [h.proto.body for h in at.get("html") if 'data-nisba="guidelines"' in h.proto.body]
    assert "# CUE" not in shown and "CUE: the attributing words" in shown and "وفقا للوثيقة" in shown
