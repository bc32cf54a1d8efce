"""The store: connection settings, migrations, transactions, the demo project."""

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from annotator.demo import DEMO_PROJECT, ensure_demo
from annotator.errors import InvalidText, StorageError
from annotator.projects import add_document
from annotator.schema import step_names
from annotator.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.sqlite_only
def test_connection_pragmas(store):
    conn = store.db.conn
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrations_apply_once_and_keep_table_names(store):
    Store(store.path).close()  # second open migrates nothing new
    assert store.schema_steps() == step_names()
    tables = {t for t in ("projects", "documents", "labels", "spans", "links", "users", "audit_events") if store.has_table(t)}
    assert {"projects", "documents", "labels", "spans", "links", "users", "audit_events"} == tables
    cols = store.columns("spans")
    assert {"id", "document_id", "label_id", "annotator_id", "start_offset", "end_offset", "text", "attributes",
            "created_at", "updated_at", "version"} <= cols  # fmt: skip
    cols = store.columns("documents")
    assert {"id", "project_id", "title", "text", "raw_text", "text_sha256", "source", "metadata", "created_at"} <= cols


def test_demo_is_created_once(tmp_path):
    s = Store(tmp_path / "d.db")
    assert ensure_demo(s) is True
    assert ensure_demo(Store(s.path)) is False
    projects = s.list_projects()
    assert [p.name for p in projects] == [DEMO_PROJECT]
    [doc] = s.list_documents(projects[0].id)
    assert doc.text.startswith("كشفت وثيقة") and len(doc.text) == 2195
    assert [lab.name for lab in s.list_labels(projects[0].id)] == ["CLAIM", "QUOTE", "SOURCE", "CUE"]


def test_document_keeps_raw_text_and_records_canonicalisation(demo, users, tricky):
    pid = demo.list_projects()[0].id
    raw = tricky["bidi-controls"]["text"]
    doc = add_document(demo, users["admin"], pid, "bidi", raw)
    assert doc.raw_text == raw
    assert "\u202e" not in doc.text
    assert doc.metadata["suspicious"] == ["U+202E right-to-left override"]


def test_nul_text_is_refused_and_nothing_written(demo, users):
    pid = demo.list_projects()[0].id
    n = len(demo.list_documents(pid))
    with pytest.raises(InvalidText, match="NUL"):
        add_document(demo, users["admin"], pid, "bad", "قال\x00")
    assert len(demo.list_documents(pid)) == n


def test_markup_is_stored_as_text(demo, users, tricky):
    pid = demo.list_projects()[0].id
    doc = add_document(demo, users["admin"], pid, "html", tricky["html-injection"]["text"])
    assert "<script>alert('x')</script>" in doc.text


def test_write_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.write():
            store.insert_project("p")
            raise RuntimeError("boom")
    assert store.list_projects() == []


def test_a_failed_nested_write_undoes_only_its_own_part(store):
    """A write inside a write is a savepoint: its error undoes its rows and leaves the outer transaction's."""
    with store.write():
        store.insert_project("kept")
        with pytest.raises(RuntimeError):
            with store.write():
                store.insert_project("undone")
                raise RuntimeError("boom")
        store.insert_project("kept too")
    assert sorted(p.name for p in store.list_projects()) == ["kept", "kept too"]


def test_opening_an_up_to_date_database_imports_no_sqlite_utils(store):
    """A process that opens a migrated database and reads it never imports sqlite-utils, nor pandas and numpy
    through it (~1 s of CPU for every CLI command; issue 7). A new database is migrated by the fixture."""
    code = (
        "import sys; from annotator.store import Store; "
        f"s = Store({store.path!r}); print(len(s.list_projects())); "
        "print(sorted(m for m in ('sqlite_utils', 'pandas', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split("\n")[:2] == ["0", "[]"]


@pytest.mark.sqlite_only
def test_a_database_missing_a_step_gets_it_on_open(tmp_path):
    """The check that skips sqlite-utils for an up-to-date file still runs a step the file lacks."""
    path = tmp_path / "old.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm_project_guidelines'")
        conn.execute("DROP TABLE project_guidelines")
    conn.close()
    again = Store(path)
    assert again.schema_steps()[-1] == "m_project_guidelines" and again.has_table("project_guidelines")


@pytest.mark.sqlite_only
def test_a_locked_database_gives_a_storage_error_not_a_crash(store, monkeypatch):
    monkeypatch.setattr("annotator.store.backends.BUSY_TIMEOUT_MS", 100)
    s2 = Store(store.path)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = {}

        def attempt():
            try:
                with s2.write():
                    s2.insert_project("x")
            except StorageError as exc:
                result["error"] = str(exc)

        t = threading.Thread(target=attempt)  # a fresh thread gets a fresh connection with the short timeout
        t.start()
        t.join()
        assert "busy" in result["error"] or "locked" in result["error"]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.list_projects() == []


def test_a_held_write_lock_on_postgresql_gives_a_storage_error(pg_url, tmp_path, monkeypatch):
    """Another server's write transaction holding the write lock past the timeout: a clear StorageError, nothing
    written, and the next save goes through once the lock is free."""
    import psycopg

    from annotator.store.backends import WRITE_LOCK_KEY

    monkeypatch.setenv("NISBA_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setattr("annotator.store.backends.BUSY_TIMEOUT_MS", 200)
    store = Store(pg_url)
    with psycopg.connect(pg_url) as blocker:
        blocker.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        with pytest.raises(StorageError, match="busy"):
            with store.write():
                store.insert_project("x")
    assert store.list_projects() == []
    with store.write():
        store.insert_project("y")
    assert [p.name for p in store.list_projects()] == ["y"]
    store.close()


def test_a_postgresql_server_that_does_not_answer_is_one_clear_line(tmp_path):
    with pytest.raises(StorageError) as caught:
        Store("postgresql://nobody@127.0.0.1:9/nisba")
    message = str(caught.value)
    assert "\n" not in message and "database 'nisba' on 127.0.0.1:9 as nobody" in message and "NISBA_DB" in message


@pytest.mark.sqlite_only
def test_each_thread_gets_its_own_connection(store):
    seen = []
    t = threading.Thread(target=lambda: seen.append(id(store.db.conn)))
    t.start()
    t.join()
    assert seen[0] != id(store.db.conn)
