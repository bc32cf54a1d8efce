"""AppTest: user-controlled strings (label names and descriptions, titles, display names, comments, and error
messages quoting them) reach Streamlit's Markdown escaped on the settings, review and import pages, for every role.

Each Markdown source the page sends is rendered with a CommonMark renderer: no image, no link and no raw HTML
may come out, and Streamlit's own additions ($math$, :colour[...]) must be escaped characters."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from app_pages import run_page
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from annotator import review
from annotator.annotations import add_span

PAYLOADS = ["![i](http://127.0.0.1:9/x.png)", "[x](http://127.0.0.1:9/)", "$x$", ":red[x]", "<img src=x onerror=alert(1)>"]
# a label name cannot hold spaces, quotes or <>, so the label gets the payloads that fit those rules
LABEL_NAME = "![i](http://127.0.0.1:9/x.png)"
_MD = MarkdownIt("commonmark")
# elements whose value is Markdown, and elements whose label is
_VALUE_TYPES = ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader", "toast")
_LABEL_TYPES = ("expander", "button", "checkbox", "toggle", "text_input", "selectbox", "text_area", "multiselect", "metric")


def markdown_sources(at: AppTest) -> list[str]:
    """Every Markdown string the page sent: element bodies and widget/expander labels."""
    out = []
    for kind in _VALUE_TYPES:
        out += [e.value for e in at.get(kind) if isinstance(getattr(e, "value", None), str)]
    for kind in _LABEL_TYPES:
        out += [e.label for e in at.get(kind) if isinstance(getattr(e, "label", None), str)]
    return out


def assert_inert(at: AppTest) -> None:
    sources = markdown_sources(at)
    assert sources
    for src in sources:
        html = _MD.render(src)
        assert "<img" not in html and "<a " not in html, src
        # GitHub-flavoured Markdown also links bare addresses found in the text after unescaping
        assert not re.search(r"(?i)https?://|\bwww\.|[-.\w+]+@[-\w]+\.[-\w]", re.sub(r"<[^>]+>", "", html)), src
        # $math$ and :directive[...] are Streamlit's additions: each $ and : must be an escaped character
        assert not re.search(r"(?<!\\)\$", src), src
        assert not re.search(r"(?<!\\):[a-z]+(?<!\\)\[", src), src


@pytest.fixture
def hostile(app_db):
    """The demo database with every user-controlled field carrying a payload: a label name and description,
    a document title, display names, a comment, and a review decision by a reviewer whose name is a payload."""
    store = app_db
    users = store.users
    project = store.list_projects()[0]
    doc = store.list_documents(project.id)[0]
    with store.write():
        store.insert_label(
            project.id,
            {"name": LABEL_NAME, "kind": "content", "colour": "#123456", "hotkey": "", "position": 9,
             "description": " ".join(PAYLOADS), "attributes": {}},
        )  # fmt: skip
        for name in ("amal", "badr", "rana", "admin"):
            store.update_user(users[name].id, display_name=" ".join(PAYLOADS))
    with sqlite3.connect(store.path) as con:  # titles come from imports and pastes; set one directly
        con.execute("UPDATE documents SET title = ? WHERE id = ?", [" ".join(PAYLOADS), doc.id])
    t = store.get_document(doc.id).text
    q = t.index("بالضغط على حكوماتهم المضيفة")
    a = add_span(store, users["amal"], doc.id, LABEL_NAME, q, q + 27)
    add_span(store, users["badr"], doc.id, "CLAIM", q, q + 27)
    review.add_comment(store, users["rana"], "span", a.id, " ".join(PAYLOADS))
    store.span_id = a.id
    return store


@pytest.mark.parametrize("username", ["admin", "rana", "amal"])
def test_settings_page_escapes_labels_for_every_role(hostile, username):
    at = run_page(hostile, "settings.py", username)
    assert not at.exception, at.exception
    assert any("i" in e.label and "127" in e.label for e in at.expander)  # the label is listed, as text
    assert_inert(at)


def test_settings_page_error_quoting_a_label_is_escaped(hostile):
    at = run_page(hostile, "settings.py", "admin")
    lab = next(lab for lab in hostile.list_labels(1) if lab.name == LABEL_NAME)
    claim = next(lab for lab in hostile.list_labels(1) if lab.name == "CLAIM")
    at.text_input(key=f"settings_label_{claim.id}_name").set_value(LABEL_NAME)  # taken: the error quotes it
    at.button(key=f"FormSubmitter:settings_label_{claim.id}-Save").click().run()
    assert at.error and "Another label" in at.error[0].value
    assert_inert(at)
    assert lab.id  # the payload label is still there, unchanged
    assert hostile.get_label(claim.id).name == "CLAIM"


@pytest.mark.parametrize("username", ["admin", "rana"])
def test_review_page_escapes_labels_names_and_comments(hostile, username):
    at = run_page(hostile, "review.py", username)
    assert not at.exception, at.exception
    assert any("onerror" in m.value for m in at.markdown)  # the comment is shown, as text
    assert_inert(at)


def test_review_conflict_message_escapes_the_reviewers_name(hostile):
    at = run_page(hostile, "review.py", "rana")
    # admin (display name: the payloads) decides the row first; rana's Accept is refused naming admin
    row_spans = [hostile.span_id]
    review.decide(hostile, hostile.users["admin"], "span", row_spans[0], "rejected", 0)
    at.button(key="review_accept").click().run()
    assert at.error and "already rejected" in at.error[0].value and "127" in at.error[0].value
    assert_inert(at)


def test_import_preview_escapes_new_labels_before_confirming(hostile):
    at = run_page(hostile, "import_data.py", "admin")
    record = {"text": "قال الوزير إن الاتفاق قريب.", "label": [[0, 3, "[x](http://127.0.0.1:9/)"]]}
    at.file_uploader(key="import_files").set_value(("omar.jsonl", json.dumps(record, ensure_ascii=False).encode(), "x"))
    at.run()
    at.button(key="import_preview_button").click().run()
    assert not at.exception, at.exception
    assert any("127" in m.value for m in at.info)  # the new label is announced, as text
    assert_inert(at)
