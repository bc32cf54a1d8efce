"""AppTest: what the review, agreement, import and export screens say to people (statuses in words, annotator
names instead of ids, an empty import announced, export counts readable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from annotator import agreement, review
from annotator.annotations import add_span
from annotator.demo import ensure_demo
from annotator.importing import file_from_path, import_files
from annotator.store import Store

PEER = Path(__file__).parent / "fixtures" / "peer-exports"


@pytest.fixture
def db(tmp_path, monkeypatch):
    """The demo database where amal and badr both tagged the article (one agreeing span, one not)."""
    path = tmp_path / "wording.db"
    monkeypatch.setenv("NISBA_DB", str(path))
    store = Store(path)
    ensure_demo(store)
    store.users = {u.username: u for u in store.list_users()}
    doc = store.list_documents(store.list_projects()[0].id)[0]
    for name, end in (("amal", 5), ("badr", 3)):
        add_span(store, store.users[name], doc.id, "CUE", 0, end)
        add_span(store, store.users[name], doc.id, "SOURCE", 69, 80)
    yield store
    store.close()


def page(store: Store, file: str, username: str) -> AppTest:
    at = AppTest.from_file(f"../pages/{file}", default_timeout=60)
    at.session_state["nisba_user_id"] = store.users[username].id
    return at.run()


def test_status_label_reads_as_words():
    assert review.status_label("in_progress") == "in progress"
    assert review.status_label("reviewed") == "reviewed"
    assert review.status_label(None) == "not started"


def test_review_page_shows_statuses_in_words(db):
    at = page(db, "review.py", "rana")
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "أمل: **in progress**" in shown and "in_progress" not in shown
    assert "in progress" in [m.label for m in at.metric]


def test_display_table_names_annotators_not_ids(db):
    report = agreement.agreement_report(db, db.users["rana"], db.list_projects()[0].id)
    project_rows = report.span_f1[report.span_f1["level"] == "project"]
    shown = agreement.display_table(project_rows)
    assert {"annotator A", "annotator B", "exact f1"} <= set(shown.columns)
    assert not {"annotator_a", "annotator_b", "document_id"} & set(shown.columns)
    assert set(shown["annotator A"]) | set(shown["annotator B"]) == {"أمل", "بدر"}
    assert "annotator_a" in report.span_f1.columns  # the download keeps the ids


def test_agreement_page_tables_and_measure_names(db):
    at = page(db, "agreement.py", "rana")
    assert not at.exception, at.exception
    assert at.radio(key="agreement_measure").format_func("exact_f1") == "exact F1"
    table = at.dataframe[0].value  # the first tab: span F1
    assert "annotator A" in table.columns and "annotator_a" not in table.columns
    # names in Arabic and Latin script share one alignment (Arabic cells would align right, Latin left)
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["annotator A"]["alignment"] == config["annotator B"]["alignment"] == "right"


def test_import_page_says_when_nothing_is_new(db):
    admin = db.users["admin"]
    import_files(db, admin, db.list_projects()[0].id, [file_from_path(PEER / "labelstudio-1.23.json")])
    at = page(db, "import_data.py", "admin")
    data = (PEER / "labelstudio-1.23.json").read_bytes()
    at.file_uploader(key="import_files").set_value(("labelstudio-1.23.json", data, "application/json")).run()
    at.button(key="import_preview_button").click().run()
    assert not at.exception, at.exception
    assert any("Nothing new to import" in i.value for i in at.info)
    assert at.button(key="import_confirm").disabled


def test_export_page_counts_read_number_first(db):
    at = page(db, "export_data.py", "admin")
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Ready: 4 spans")
