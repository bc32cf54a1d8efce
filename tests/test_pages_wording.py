"""AppTest: what the review, agreement, import and export screens say to people (statuses in words, annotator
names instead of ids, an empty import announced, export counts readable)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.ipc
import pytest
from app_pages import run_page
from streamlit.testing.v1 import AppTest

from annotator import agreement, review
from annotator.annotations import add_span
from annotator.importing import file_from_path, import_files
from annotator.ui.widgets import md_literal

PEER = Path(__file__).parent / "fixtures" / "peer-exports"


@pytest.fixture
def db(app_db):
    """The demo database where amal and badr both tagged the article (one agreeing span, one not)."""
    store = app_db
    doc = store.list_documents(store.list_projects()[0].id)[0]
    for name, end in (("amal", 5), ("badr", 3)):
        add_span(store, store.users[name], doc.id, "CUE", 0, end)
        add_span(store, store.users[name], doc.id, "SOURCE", 69, 80)
    return store


def test_status_label_reads_as_words():
    assert review.status_label("in_progress") == "in progress"
    assert review.status_label("reviewed") == "reviewed"
    assert review.status_label(None) == "not started"


def test_review_page_shows_statuses_in_words(db):
    at = run_page(db, "review.py", "rana")
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
    at = run_page(db, "agreement.py", "rana")
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
    at = run_page(db, "import_data.py", "admin")
    data = (PEER / "labelstudio-1.23.json").read_bytes()
    at.file_uploader(key="import_files").set_value(("labelstudio-1.23.json", data, "application/json")).run()
    at.button(key="import_preview_button").click().run()
    assert not at.exception, at.exception
    assert any("Nothing new to import" in i.value for i in at.info)
    assert at.button(key="import_confirm").disabled


def test_export_page_counts_read_number_first(db):
    at = run_page(db, "export_data.py", "admin")
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Ready: 4 spans")


def test_adopt_all_agreed_with_nothing_agreed_explains_instead_of_success(db):
    at = run_page(db, "review.py", "rana")
    at.button(key="review_adopt_agreed").click().run()  # adopts the one SOURCE both made
    assert md_literal("Adopted 1 agreed span(s) into gold.") in [s.value for s in at.success]
    at.button(key="review_adopt_agreed").click().run()  # again: it is in gold already
    assert not at.exception, at.exception
    assert not at.success  # "Adopted 0 span(s)" in green read as if the button did something
    assert any("Nothing adopted" in i.value and "all 2 annotators" in i.value for i in at.info)


def test_adopt_all_agreed_reports_what_it_adopted(db):
    at = run_page(db, "review.py", "rana")
    doc = db.list_documents(db.list_projects()[0].id)[0]
    for name in ("amal", "badr"):  # a second span both made identically
        add_span(db, db.users[name], doc.id, "CLAIM", 81, 117)
    at.button(key="review_adopt_agreed").click().run()
    assert md_literal("Adopted 2 agreed span(s) into gold.") in [s.value for s in at.success]


def test_users_page_new_account_is_selected_for_changes(db):
    at = run_page(db, "users.py", "admin")
    at.text_input(key="users_new_username").input("salma")
    at.text_input(key="users_new_display").input("سلمى")
    at.text_input(key="users_new_password").input("salma-pass-1")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    assert "Add them to a project" in at.success[0].value
    assert at.selectbox(key="users_target").value == db.user_by_username("salma").id
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["display_name"]["alignment"] == "right"


def test_audit_log_times_to_the_second(db):
    at = run_page(db, "audit_log.py", "admin")
    assert not at.exception, at.exception
    times = at.dataframe[0].value["at (UTC)"]
    assert all(len(t) == 19 and "T" not in t for t in times)


def test_review_progress_table_has_no_none_cells(db):
    # imported documents carry other annotators: amal and badr have no status on them
    import_files(db, db.users["admin"], db.list_projects()[0].id, [file_from_path(PEER / "labelstudio-1.23.json")])
    at = run_page(db, "review.py", "rana")
    table = at.dataframe[0].value  # the project progress, one column per annotator
    assert not table.isna().any().any()
    assert table["أمل"].value_counts()["not started"] == len(table) - 1


def zip_download(at) -> list:
    return [b for b in at.get("download_button") if "export_download" in b.proto.id]


def test_export_download_goes_away_when_the_choice_changes(db):
    at = run_page(db, "export_data.py", "admin")
    at.button(key="export_run").click().run()
    assert zip_download(at)
    at.selectbox(key="export_format").set_value("jsonl").run()  # the zip on offer would still be the CSV one
    assert not at.exception, at.exception
    assert not zip_download(at) and not at.success
    at.button(key="export_run").click().run()
    assert zip_download(at) and at.session_state["export_result"][0].startswith("nisba-jsonl-")


def test_export_page_offers_the_spans_table_in_one_click(db):
    at = run_page(db, "export_data.py", "admin")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download spans CSV (Excel-ready)", "Download spans workbook (.xlsx)"]  # no Prepare step first
    events = len(list(db.iter_events()))
    at.run()
    assert len(list(db.iter_events())) == events  # drawing the page exports nothing: the file is made on click


def test_export_page_says_when_the_project_is_empty(db):
    from annotator.projects import create_project

    create_project(db, db.users["admin"], "Empty desk", "")
    at = run_page(db, "export_data.py", "admin")
    at.selectbox(key="export_project").select_index(1).run()
    assert any("no documents yet" in i.value for i in at.info)


def test_review_gold_table_empty_state_then_rows(db):
    at = run_page(db, "review.py", "rana")
    assert any("No gold spans yet" in c.value for c in at.caption)
    at.button(key="review_adopt_agreed").click().run()
    assert not any("No gold spans yet" in c.value for c in at.caption)
    gold = at.dataframe[-1].value
    assert list(gold["text"]) == ["\u2067ماركو روبيو\u2069"]  # shown isolated right to left (RLI … PDI)


MARKDOWN_BAIT = "قال **المصدر** ![x](http://example.invalid/x.png) $5$ :red[تحذير] <b>"


def test_md_literal_leaves_nothing_for_markdown():
    from annotator.ui.widgets import md_literal

    escaped = md_literal(MARKDOWN_BAIT)
    assert "![" not in escaped and "**" not in escaped and ":red[" not in escaped
    assert escaped.replace("\\", "").replace("\u2060", "") == MARKDOWN_BAIT  # only backslashes and word joiners added
    assert "http\u2060" in escaped  # GFM's bare-address autolink is broken too
    assert md_literal(None) == ""


def test_review_shows_article_text_and_comments_as_typed(db):
    from annotator.projects import add_document

    project = db.list_projects()[0]
    doc = add_document(db, db.users["admin"], project.id, "bait", MARKDOWN_BAIT)
    add_span(db, db.users["amal"], doc.id, "QUOTE", 4, len(MARKDOWN_BAIT))
    add_span(db, db.users["badr"], doc.id, "CLAIM", 4, len(MARKDOWN_BAIT))
    at = AppTest.from_file("../pages/review.py", default_timeout=60)
    at.session_state["nisba_user_id"] = db.users["rana"].id
    at.query_params["doc"] = str(doc.id)
    at.run()
    assert not at.exception, at.exception
    row_line = next(m.value for m in at.markdown if m.value.startswith("**Row"))
    assert "\\!\\[x\\]\\(http" in row_line and "\\$5\\$" in row_line and "**المصدر**" not in row_line
    at.text_input(key="review_comment_0").input("see ![t](http://example.invalid/t.png)")
    at.button(key="review_comment_add").click().run()
    comment = next(m.value for m in at.markdown if "span:" in m.value)
    assert "\\!\\[t\\]" in comment


def test_sidebar_shows_a_display_name_as_typed(db):
    from annotator import auth

    auth.create_user(db, db.users["admin"], "nour", "annotator", "nour-pass-1", "نور_*الهدى*")
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.session_state["nisba_user_id"] = db.user_by_username("nour").id
    at.run()
    signed = next(c.value for c in at.sidebar.caption if c.value.startswith("Signed in as"))
    assert "**نور\\_\\*الهدى\\***" in signed


def test_agreement_document_rows_name_the_document(db):
    at = run_page(db, "agreement.py", "rana")
    at.radio(key="agreement_level").set_value("document").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert set(table["document"]) == {"روبيو: برقية عن الهجرة"}


def test_agreement_chart_axes_are_not_vertical(db):
    # vertical Arabic reads as a column of loose letters; both charts slant or keep their names level
    at = run_page(db, "agreement.py", "rana")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 2

    def x_axis(spec):
        enc = spec.get("encoding") or spec["layer"][0]["encoding"]
        return enc["x"]["axis"]

    assert [x_axis(s)["labelAngle"] for s in specs] == [0, 0]


def test_agreement_heatmap_has_no_self_pairs_and_its_own_size(db):
    at = run_page(db, "agreement.py", "rana")
    chart = at.get("vega_lite_chart")[0].proto
    heat = json.loads(chart.spec)
    (data,) = [pyarrow.ipc.open_stream(d.data.data).read_pandas() for d in chart.datasets]
    assert data[["annotator_a_name", "annotator_b_name"]].values.tolist() == [["أمل", "بدر"]]  # no أمل × أمل
    assert heat["autosize"]["type"] == "pad"  # "fit" on banded axes made Vega drop fit-y
    assert heat["width"] == {"step": 84}


def test_mark_reviewed_then_the_button_rests(db):
    at = run_page(db, "review.py", "rana")
    amal = db.users["amal"].id
    assert not at.button(key=f"review_mark_{amal}").disabled
    at.button(key=f"review_mark_{amal}").click().run()
    assert not at.exception, at.exception
    assert md_literal("أمل's layer marked reviewed.") in [s.value for s in at.success]
    assert at.button(key=f"review_mark_{amal}").disabled
    assert any(m.value == "أمل: **reviewed**" for m in at.markdown)


def test_review_tables_say_how_to_use_them(db):
    doc = db.list_documents(db.list_projects()[0].id)[0]
    spans = {s.annotator_id: s for s in db.list_spans(doc.id) if s.label == "SOURCE"}
    from annotator.annotations import add_link

    amal = db.users["amal"]
    add_link(db, amal, add_span(db, amal, doc.id, "CLAIM", 81, 117).id, spans[amal.id].id, "attributed_to")
    at = run_page(db, "review.py", "rana")
    captions = [c.value for c in at.caption]
    assert any("Select a row" in c for c in captions)
    assert any("Tick links" in c for c in captions)
    assert at.button(key="review_links_accepted").disabled
