"""AppTest of the Search page: hits in context, paging, restrictions, messages, Tag all with preview and undo."""

from __future__ import annotations

import pytest
from app_pages import run_page

from annotator.annotations import add_span
from annotator.projects import add_document


@pytest.fixture
def db(app_db):
    admin = app_db.users["admin"]
    project_id = app_db.list_projects()[0].id
    add_document(app_db, admin, project_id, "=وثيقة", "قَالَ الوزير إن بالوزارة موظفين. وقال آخر: قال. ثم قال")
    return app_db


def _page(store, username="amal", query=None, **state):
    at = run_page(store, "search.py", username, **state)
    if query is not None:
        at.text_input(key="search_query").set_value(query).run()
    return at


def _frame(at):
    """The results table (the page styles it: AppTest gives the data behind the Styler)."""
    value = at.dataframe[0].value
    return value.data if hasattr(value, "data") else value


def test_search_shows_hits_in_context(db):
    at = _page(db, query="قال")
    assert not at.exception
    assert "hits in" in at.markdown[0].value
    frame = _frame(at)
    assert list(frame.columns) == ["after", "hit", "before", "title"]
    assert "قَالَ" in list(frame["hit"])
    row = frame[frame["hit"] == "قَالَ"].iloc[0]
    assert row["title"] == "=وثيقة" and row["after"].startswith("الوزير")


def test_empty_and_punctuation_queries_say_so(db):
    at = _page(db)
    assert "Type a word" in at.info[0].value
    at.text_input(key="search_query").set_value("«»؟").run()
    assert not at.exception
    assert "no letters or digits" in at.warning[0].value


def test_substring_toggle_and_no_hits(db):
    at = _page(db, query="الوزارة")  # only «بالوزارة» is there: not as a word
    assert "No hits" in at.info[0].value
    at.toggle(key="search_substring").set_value(True).run()
    assert list(_frame(at)["hit"]) == ["الوزارة"]


def test_blind_annotator_cannot_pick_another_layer(db):
    at = _page(db, query="قال")
    options = at.selectbox(key="search_annotator").options
    assert len(options) <= 2  # (any layer) and, at most, amal's own
    rana = _page(db, username="rana", query="قال")
    assert not rana.exception


def test_tag_all_preview_tag_and_undo(db):
    amal = db.users["amal"]
    doc = [d for d in db.list_documents(db.list_projects()[0].id) if d.title == "=وثيقة"][0]
    add_span(db, amal, doc.id, "CUE", 0, 5)
    at = _page(db, query="قال")
    total = int(at.markdown[0].value.split("**")[1])
    at.selectbox(key="search_tag_label").set_value("CUE").run()
    at.button(key="search_tag_preview").click().run()
    assert not at.exception
    summary = [i.value for i in at.info if "will be made" in i.value][0]
    assert summary.startswith(f"{total - 1} spans of CUE will be made; 1 already exist")
    before = db.query("SELECT count(*) AS n FROM spans")[0]["n"]
    at.button(key="search_tag_go").click().run()
    assert db.query("SELECT count(*) AS n FROM spans")[0]["n"] == before + total - 1
    assert any(f"Made {total - 1} spans" in s.value for s in at.success)
    at.button(key="search_tag_undo").click().run()
    assert db.query("SELECT count(*) AS n FROM spans")[0]["n"] == before
    assert any("Tag all undone" in s.value for s in at.success)
