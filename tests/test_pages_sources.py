"""AppTest of the Sources page: the index table, charts, what a source carries, merge for reviewers, CSV files."""

from __future__ import annotations

import pytest
from app_pages import run_page

from annotator.annotations import add_link, add_span
from annotator.attribution_index import merge_sources
from annotator.projects import add_document


@pytest.fixture
def db(app_db):
    admin, amal = app_db.users["admin"], app_db.users["amal"]
    project_id = app_db.list_projects()[0].id
    doc = add_document(app_db, admin, project_id, "مصادر", "قال ماركو روبيو إن الاتفاق قريب، وزعم روبيو أن الخطة جاهزة.")
    for source, content, cue in (("ماركو روبيو", "الاتفاق قريب", "قال"), ("روبيو", "الخطة جاهزة", "وزعم")):
        i = doc.text.index(source)
        s = add_span(app_db, amal, doc.id, "SOURCE", i, i + len(source))
        j = doc.text.index(content)
        c = add_span(app_db, amal, doc.id, "CLAIM", j, j + len(content))
        k = doc.text.index(cue)
        q = add_span(app_db, amal, doc.id, "CUE", k, k + len(cue))
        add_link(app_db, amal, c.id, s.id)
        add_link(app_db, amal, c.id, q.id, "cue")
    return app_db


def _page(store, username):
    return run_page(store, "sources.py", username)


def test_sources_table_charts_and_downloads(db):
    at = _page(db, "rana")
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["source"]) == ["روبيو", "ماركو روبيو"] and list(table["claims"]) == [1, 1]
    assert len(at.get("vega_lite_chart")) == 2
    charts = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert all('"labelAngle": 0' in spec or '"labelAngle":0' in spec for spec in charts)  # Arabic names kept level
    assert [b.proto.label for b in at.get("download_button")] == ["Download sources.csv", "Download attributions.csv"]


def test_merge_controls_for_reviewers_only_and_merge_shows(db):
    rana = _page(db, "rana")
    assert rana.button(key="sources_merge_go")
    amal = _page(db, "amal")
    assert not amal.exception
    assert not [b for b in amal.button if b.key == "sources_merge_go"]
    project_id = db.list_projects()[0].id
    merge_sources(db, db.users["rana"], project_id, ["روبيو", "ماركو روبيو"], "روبيو")
    merged = _page(db, "rana").dataframe[0].value
    assert len(merged) == 1 and merged.iloc[0]["variants"] == 2 and merged.iloc[0]["claims"] == 2


def test_merge_through_the_page(db):
    at = _page(db, "rana")
    at.multiselect(key="sources_merge").set_value(["روبيو", "ماركو روبيو"]).run()
    at.selectbox(key="sources_into").set_value("روبيو").run()
    at.button(key="sources_merge_go").click().run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 1
    assert db.query("SELECT count(*) AS n FROM audit_events WHERE action = 'merge'")[0]["n"] == 1


def test_empty_project_says_so(app_db):
    at = _page(app_db, "rana")
    assert "No SOURCE spans" in at.info[0].value
