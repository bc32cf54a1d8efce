"""AppTest: the import page previews then imports; the export page builds a zip to download; both admin-only."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from app_pages import run_page

from annotator.ui.widgets import md_literal

PEER = Path(__file__).parent / "fixtures" / "peer-exports"


@pytest.fixture
def db(app_db):
    return app_db


def _project(store):
    return store.list_projects()[0]


def preview_upload(at, path: Path, mime: str):
    """Upload the file at ``path`` on the Import page and press Preview; returns the page."""
    at.file_uploader(key="import_files").set_value((path.name, path.read_bytes(), mime))
    at.run()
    return at.button(key="import_preview_button").click().run()


def test_import_page_previews_then_imports(db):
    at = run_page(db, "import_data.py", "admin")
    assert not at.exception, at.exception
    assert any("200 MB" in c.value for c in at.caption)
    preview_upload(at, PEER / "labelstudio-1.23.json", "application/json")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # the demo project already holds the Rubio article: its spans join that document instead of a copy
    assert metrics["New documents"] == "13" and metrics["Texts already here"] == "1"
    assert metrics["Spans"] == "55" and metrics["Links"] == "22"
    assert not db.list_spans(db.list_documents(_project(db).id)[-1].id)  # nothing written yet
    at.button(key="import_confirm").click().run()
    assert not at.exception, at.exception
    assert "Imported 13 document(s), 55 span(s) and 22 link(s)." in at.success[0].value
    assert len(db.list_documents(_project(db).id)) == 14


def test_import_page_shows_rejected_rows_and_blocks_import(db):
    at = run_page(db, "import_data.py", "admin")
    bad = '{"text": "قال", "label": [[0, 9, "CUE"]]}\n{"text": "نص سليم."}\n'.encode()
    at.file_uploader(key="import_files").set_value(("bad.jsonl", bad, "application/json"))
    at.text_input(key="import_annotator").input("amal")
    at.run()
    at.button(key="import_preview_button").click().run()
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert rejected["line"].tolist() == [1] and "out of range" in rejected["reason"][0]
    assert at.button(key="import_confirm").disabled
    at.checkbox(key="import_skip_rejected").check().run()
    at.button(key="import_confirm").click().run()
    assert "Imported 1 document(s)" in at.success[0].value


def test_import_page_csv_column_choice(db):
    at = run_page(db, "import_data.py", "admin")
    csv_bytes = "headline,body\nعنوان,نص المقال.\n".encode()
    at.file_uploader(key="import_files").set_value(("a.csv", csv_bytes, "text/csv"))
    at.run()
    assert at.selectbox(key="import_csv_text").value == "body"
    at.selectbox(key="import_csv_title").select("headline").run()
    at.button(key="import_preview_button").click().run()
    at.button(key="import_confirm").click().run()
    assert not at.exception, at.exception
    assert db.list_documents(_project(db).id)[-1].title == "عنوان"


def test_export_page_builds_a_zip(db):
    at = run_page(db, "export_data.py", "admin")
    assert not at.exception, at.exception
    assert at.checkbox(key="export_excel").value is True  # "for Excel" on by default
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")
    name, data, counts = at.session_state["export_result"]
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.read("spans.csv").startswith(b"\xef\xbb\xbf")
    assert json.loads(zf.read("metadata.json"))["text_direction"] == "rtl"


def test_export_page_jsonl_offsets_and_layout(db):
    """JSONL offers doccano's unit (UTF-16, the default) or code points, and its two layouts; the zip has a file
    per annotator and metadata.json names the unit."""
    at = run_page(db, "export_data.py", "admin")
    at.selectbox(key="export_format").set_value("jsonl").run()
    assert at.radio(key="export_offsets").value == "utf16" and at.radio(key="export_layout").value == "entities"
    at.radio(key="export_offsets").set_value("codepoints").run()
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    _name, data, _counts = at.session_state["export_result"]
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert json.loads(zf.read("metadata.json"))["offset_unit"] == "Unicode code points"
    assert "spans.jsonl" not in zf.namelist() and all(n.endswith(".jsonl") for n in zf.namelist() if n != "metadata.json")


def test_pages_refuse_non_admins(db):
    for file in ("import_data.py", "export_data.py"):
        at = run_page(db, file, "amal")
        assert not at.exception
        assert "Only admins" in at.error[0].value


def test_import_preview_shows_the_annotator_mapping_and_the_admin_changes_it(db):
    from annotator.ui.import_accounts import ACCOUNT, SOURCE

    at = preview_upload(run_page(db, "import_data.py", "admin"), PEER / "doccano-1.8.export.zip", "application/zip")
    assert not at.exception, at.exception
    table = at.data_editor(key="import_accounts").value
    mapping = dict(zip(table[SOURCE], table[ACCOUNT], strict=True))
    assert mapping == {"admin": "doccano.admin", "annotator2": "annotator2"}  # doccano's admin is not Nisba's
    # the second user's file lists the same texts: said as spans added, not as duplicates (issue 11)
    assert "Texts already here: their spans were added (14)" in [e.label for e in at.expander]
    # the admin puts doccano's admin on a new account of their choosing, then imports
    row = list(table[SOURCE]).index("admin")
    at.session_state["import_accounts"] = {"edited_rows": {row: {ACCOUNT: "doccano-boss"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="import_apply_mapping").click().run()
    assert not at.exception, at.exception
    table = at.data_editor(key="import_accounts").value
    assert dict(zip(table[SOURCE], table[ACCOUNT], strict=True))["admin"] == "doccano-boss"
    at.button(key="import_confirm").click().run()
    assert not at.exception, at.exception
    owners = db.query(
        "SELECT u.username, count(*) AS n FROM spans s JOIN users u ON u.id = s.annotator_id"
        " JOIN documents d ON d.id = s.document_id WHERE d.project_id = ? GROUP BY u.username",
        [_project(db).id],
    )
    assert {r["username"]: r["n"] for r in owners} == {"doccano-boss": 48, "annotator2": 7}


def test_import_mapping_to_an_invalid_account_is_refused_on_the_page(db):
    from annotator.ui.import_accounts import ACCOUNT

    at = preview_upload(run_page(db, "import_data.py", "admin"), PEER / "doccano-1.8.export.zip", "application/zip")
    at.session_state["import_accounts"] = {"edited_rows": {0: {ACCOUNT: "Omar@Desk"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="import_apply_mapping").click().run()
    assert not at.exception, at.exception
    assert at.error and md_literal("User name 'Omar@Desk'") in at.error[0].value


def test_a_jsonl_upload_is_streamed_with_the_same_preview_mapping_and_rows(db):
    """A JSONL upload goes through the streamed import (its records wait on disk, not in the session): the page
    shows what the in-memory preview finds, the admin's mapping applies, and the import writes those rows."""
    from annotator.audit_replay import replay_database
    from annotator.import_stream import StreamedPreview
    from annotator.importing import file_from_path, preview_import
    from annotator.ui.import_accounts import ACCOUNT, SOURCE

    path = PEER / "doccano-1.8.jsonl"
    admin = db.user_by_username("admin")
    expected = preview_import(db, admin, _project(db).id, [file_from_path(path)], annotator="amal").summary()
    at = run_page(db, "import_data.py", "admin")
    at.file_uploader(key="import_files").set_value((path.name, path.read_bytes(), "application/json"))
    at.text_input(key="import_annotator").input("amal")
    at.run()
    at.button(key="import_preview_button").click().run()
    assert not at.exception, at.exception
    preview = at.session_state["import_preview"]
    assert isinstance(preview, StreamedPreview) and preview.documents == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "New documents": str(expected["documents"]), "Spans": str(expected["spans"]), "Links": str(expected["links"]),
        "Texts already here": str(expected["duplicates"]), "Rejected": str(expected["rejected"]),
    }  # fmt: skip
    table = at.data_editor(key="import_accounts").value
    assert dict(zip(table[SOURCE], table[ACCOUNT], strict=True)) == {"amal": "amal"}
    at.session_state["import_accounts"] = {"edited_rows": {0: {ACCOUNT: "amal-stream"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="import_apply_mapping").click().run()
    assert not at.exception, at.exception
    at.button(key="import_confirm").click().run()
    assert not at.exception, at.exception
    assert f"Imported {expected['documents']} document(s), {expected['spans']} span(s)" in at.success[0].value
    owners = db.query(
        "SELECT u.username, count(*) AS n FROM spans s JOIN users u ON u.id = s.annotator_id"
        " JOIN documents d ON d.id = s.document_id WHERE d.project_id = ? AND u.username LIKE 'amal%' GROUP BY u.username",
        [_project(db).id],
    )
    assert {r["username"]: r["n"] for r in owners} == {"amal-stream": expected["spans"]}
    assert replay_database(db).ok
