"""AppTest: the app on PostgreSQL (issue 13): the demo made on an empty database, a tag saved and shown, and a
database that cannot be reached, or goes away in the middle of a session, told in one line instead of a traceback
(and never a silent SQLite file in its place)."""

from __future__ import annotations

import psycopg
import pytest
from pg_cluster import drop_database
from streamlit.testing.v1 import AppTest

from annotator.annotations import add_span
from annotator.store import Store
from annotator.ui.widgets import md_literal


def run(user_id: int | None = None, file: str = "app.py") -> AppTest:
    at = AppTest.from_file(f"../{file}", default_timeout=60)
    if user_id is not None:
        at.session_state["nisba_user_id"] = user_id
    return at.run()


@pytest.fixture
def pg_app(pg_url, tmp_path, monkeypatch):
    """``NISBA_DB`` names a new, empty PostgreSQL database; the secret and audit key live in ``tmp_path``."""
    monkeypatch.setenv("NISBA_DB", pg_url)
    monkeypatch.setenv("NISBA_SECRET_FILE", str(tmp_path / "nisba.secret"))
    monkeypatch.chdir(tmp_path)  # a SQLite fallback would leave data/nisba.db here
    return pg_url


def test_the_app_makes_the_demo_on_an_empty_database_and_shows_a_saved_tag(pg_app, tmp_path):
    at = run(user_id=None)  # the first run opens the store: migrations and the demo project
    assert not at.exception, at.exception
    store = Store(pg_app, migrate_schema=False)
    try:
        amal = store.user_by_username("amal")
        doc = store.list_documents(store.list_projects()[0].id)[0]
        add_span(store, amal, doc.id, "SOURCE", doc.text.index("ماركو روبيو"), doc.text.index("ماركو روبيو") + 11)
        at = run(amal.id)
        assert not at.exception, at.exception
        assert any("Demo data" in w.value for w in at.warning)
        assert [c.value for c in at.sidebar.caption] == [f"Signed in as **{md_literal(amal.name)}** (annotator)"]
        assert not (tmp_path / "data" / "nisba.db").exists()
        assert [(s.label, s.text) for s in store.list_spans(doc.id)] == [("SOURCE", "ماركو روبيو")]
    finally:
        store.close()


def test_an_unreachable_database_is_one_line_on_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("NISBA_DB", "postgresql://nisba:s3cret@127.0.0.1:9/team")
    monkeypatch.chdir(tmp_path)
    at = run(user_id=1)
    assert not at.exception, at.exception
    [shown] = [e.value for e in at.error]
    assert shown.startswith("**The database cannot be used just now.** Cannot connect to PostgreSQL database 'team'")
    assert md_literal("127.0.0.1:9 as nisba: Connection refused") in shown and "s3cret" not in shown
    assert not list(tmp_path.rglob("*.db"))  # no SQLite file in its place


def test_a_database_gone_in_the_middle_of_a_session_is_one_line_not_a_traceback(pg_app, pg_server):
    at = run()
    store = Store(pg_app, migrate_schema=False)
    amal = store.user_by_username("amal").id
    store.close()
    at.session_state["nisba_user_id"] = amal
    at.run()
    assert not at.exception and not at.error
    drop_database(pg_server, pg_app)  # ends every connection to it, the app's pool's included
    at.run()
    assert not at.exception, at.exception
    [shown] = [e.value for e in at.error]
    assert "The database cannot be used just now." in shown and "does not exist" in shown
    with psycopg.connect(pg_server, autocommit=True) as admin:  # pg_url's own teardown drops it again
        admin.execute(f'CREATE DATABASE "{pg_app.rsplit("/", 1)[1]}"')
