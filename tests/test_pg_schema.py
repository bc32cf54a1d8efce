"""The PostgreSQL schema (annotator/store/pg_schema.py): the same steps and the same end state as the SQLite
migrations, constraints that refuse and cascade, the search queue triggers, the runner and its refusals."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid

import psycopg
import pytest
from pg_cluster import database_url, drop_database
from psycopg import sql
from sqlite_utils import Database

from annotator import schema
from annotator.errors import StorageError
from annotator.store import Store, pg_schema

NOW = "2026-01-01T00:00:00.000000+00:00"


@pytest.fixture
def pg(pg_url):
    """A connection to a migrated database."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pg_schema.migrate(conn)
        yield conn


@pytest.fixture(scope="module")
def lite(tmp_path_factory) -> sqlite3.Connection:
    """A SQLite database migrated by annotator/schema.py, to compare with."""
    path = tmp_path_factory.mktemp("lite") / "nisba.db"
    db = Database(path)
    schema.migrate(db)
    yield db.conn
    db.conn.close()


# ---- the same steps, the same schema ---------------------------------------------------------------------------


def test_step_names_are_the_sqlite_migrations_in_order(tmp_path):
    db = Database(tmp_path / "nisba.db")
    schema.migrate(db)
    assert pg_schema.STEP_NAMES == [m.name for m in schema.sqlite_migrations().applied(db)]


def test_migrate_applies_every_step_once_in_order(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pg_schema.applied(conn) == []
        assert pg_schema.migrate(conn) == pg_schema.STEP_NAMES
        assert pg_schema.applied(conn) == pg_schema.STEP_NAMES
        assert pg_schema.migrate(conn) == []
        assert pg_schema.applied(conn) == pg_schema.STEP_NAMES
        stamp = conn.execute("SELECT applied_at FROM nisba_migrations ORDER BY id LIMIT 1").fetchone()[0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", stamp)


def test_migrate_works_on_a_connection_that_is_not_autocommit(pg_url):
    with psycopg.connect(pg_url) as conn:
        assert pg_schema.migrate(conn) == pg_schema.STEP_NAMES
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with psycopg.connect(pg_url, autocommit=True) as other:
        assert pg_schema.applied(other) == pg_schema.STEP_NAMES


def test_migrate_refuses_a_connection_inside_a_transaction(pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(ValueError, match="outside a transaction"):
            pg_schema.migrate(conn)


def _sqlite_only(lite: sqlite3.Connection) -> set[str]:
    """FTS5 tables and their shadow tables, which have no PostgreSQL twin, and sqlite-utils' own table."""
    virtual = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")}
    # A new virtual table needs a decision for PostgreSQL: add it here only once the store handles it there.
    assert virtual == {"search_words", "search_words_instance", "search_words_row"}
    # search_words_version (schema.m_search_words_terms), the word index's version, has no twin either: its name
    # falls under the prefix rule below
    names = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {n for n in names if n in virtual or any(n.startswith(f"{v}_") for v in virtual)} | {"_sqlite_migrations"}


def _lite_tables(lite) -> list[str]:
    names = [r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return sorted(set(names) - _sqlite_only(lite))


def _pg_tables(pg) -> list[str]:
    rows = pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'nisba_migrations'")
    return sorted(r[0] for r in rows)


def test_the_same_tables(pg, lite):
    assert _pg_tables(pg) == _lite_tables(lite)


def _pg_type(table: str, column: str, sqlite_type: str) -> str:
    """The type rule of pg_schema: integers are BIGINT (``users.active``, a 0/1 flag, INTEGER), REAL is DOUBLE
    PRECISION, TEXT stays TEXT."""
    if sqlite_type == "INTEGER":
        return "integer" if (table, column) == ("users", "active") else "bigint"
    return {"TEXT": "text", "REAL": "double precision"}[sqlite_type]


def _pg_default(value: str | None) -> str | None:
    return None if value is None else re.sub(r"::(text|bigint|integer|double precision)$", "", value)


def test_the_same_columns_types_nullability_and_defaults(pg, lite):
    for table in _lite_tables(lite):
        expected = []
        info = lite.execute(f"PRAGMA table_info({table})").fetchall()
        single_key = sum(1 for r in info if r[5]) == 1
        for _, name, decl, notnull, default, pk in info:
            # SQLite's INTEGER PRIMARY KEY is the rowid: never null, numbered by default (identity on PostgreSQL),
            # except project_guidelines.project_id, the project's id, not a number of its own.
            rowid = single_key and pk == 1 and decl == "INTEGER" and table != "project_guidelines"
            collation = "C" if decl == "TEXT" and (table, name) != ("search_folded", "folded") else None
            expected.append((name, _pg_type(table, name, decl), bool(notnull or pk), default, rowid, collation))
        got = pg.execute(
            "SELECT column_name, data_type, is_nullable = 'NO', column_default, is_identity = 'YES', collation_name"
            " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s"
            " ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        got = [
            (name, kind, notnull, _pg_default(default), identity, coll) for name, kind, notnull, default, identity, coll in got
        ]
        assert got == expected, table


def _pg_constraint_columns(pg, table: str, kind: str) -> set[tuple[str, ...]]:
    rows = pg.execute(
        "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = %s::regclass AND c.contype = %s GROUP BY c.oid",
        (table, kind),
    )
    return {tuple(r[0]) for r in rows}


def test_the_same_primary_keys_and_unique_constraints(pg, lite):
    for table in _lite_tables(lite):
        info = lite.execute(f"PRAGMA table_info({table})").fetchall()
        primary = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        assert _pg_constraint_columns(pg, table, "p") == {primary}, table
        unique = set()
        for _, index, _, origin, _ in lite.execute(f"PRAGMA index_list({table})"):
            if origin == "u":
                unique.add(tuple(r[2] for r in lite.execute(f"PRAGMA index_info({index})")))
        assert _pg_constraint_columns(pg, table, "u") == unique, table


_ON_DELETE = {"a": "NO ACTION", "c": "CASCADE", "r": "RESTRICT", "n": "SET NULL", "d": "SET DEFAULT"}


def test_the_same_foreign_keys_with_the_same_on_delete(pg, lite):
    for table in _lite_tables(lite):
        expected = {(r[3], r[2], r[4], r[6]) for r in lite.execute(f"PRAGMA foreign_key_list({table})")}
        rows = pg.execute(
            "SELECT a.attname, c.confrelid::regclass::text, f.attname, c.confdeltype FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1]"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
            (table,),
        ).fetchall()
        assert {(col, ref, ref_col, _ON_DELETE[rule]) for col, ref, ref_col, rule in rows} == expected, table


def test_the_same_named_indexes(pg, lite):
    expected = {}
    for table in _lite_tables(lite):
        for _, index, _, origin, _ in lite.execute(f"PRAGMA index_list({table})"):
            if origin == "c":
                expected[index] = (table, tuple(r[2] for r in lite.execute(f"PRAGMA index_info({index})")))
    rows = pg.execute(
        "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text,"
        " array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        "       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'nisba_migrations'"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
    ).fetchall()
    assert {name: (table, tuple(columns)) for name, table, columns in rows} == expected


def test_the_same_number_of_check_constraints(pg, lite):
    for table in _lite_tables(lite):
        create = lite.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        count = pg.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'", (table,))
        assert count.fetchone()[0] == create.count("CHECK ("), table


def test_the_same_triggers_except_those_feeding_fts5(pg, lite):
    expected = {(name, table) for name, table in lite.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")}
    # On SQLite, triggers on search_folded keep the FTS5 word index current; PostgreSQL has no such index.
    expected = {(name, table) for name, table in expected if table != "search_folded"}
    rows = pg.execute(
        "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
    )
    assert set(rows.fetchall()) == expected


@pytest.fixture
def en_us(pg_server):
    """A migrated database whose default collation is ICU's en-US (as hosted PostgreSQL often is), not C."""
    name = f"nisba_test_en_us_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1").fetchone() is None:
            pytest.skip("this PostgreSQL server was built without ICU")
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'").format(sql.Identifier(name))
        )
    url = database_url(pg_server, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            pg_schema.migrate(conn)
            yield conn
    finally:
        drop_database(pg_server, url)


def test_text_sorts_and_compares_by_code_point_as_on_sqlite_whatever_the_database_collation(en_us, tmp_path):
    names = ["a", "B", "_x", "Z", "ا", "b-2", "b1"]
    in_database_order = en_us.execute("SELECT array_agg(n ORDER BY n) FROM unnest(%s::text[]) AS n", (names,)).fetchone()[0]
    assert in_database_order == ["_x", "a", "B", "b-2", "b1", "Z", "ا"]  # en-US: not SQLite's order
    lite = Database(tmp_path / "nisba.db")
    schema.migrate(lite)
    for name in names:
        en_us.execute("INSERT INTO users (username, created_at) VALUES (%s, %s)", (name, NOW))
        lite.execute("INSERT INTO users (username, created_at) VALUES (?, ?)", (name, NOW))
    on_sqlite = [r[0] for r in lite.execute("SELECT username FROM users ORDER BY username")]
    assert on_sqlite == sorted(names)
    assert [r[0] for r in en_us.execute("SELECT username FROM users ORDER BY username")] == on_sqlite
    below = "SELECT count(*) FROM users WHERE username < 'a'"  # B, Z and _x (en-US: _x only)
    assert en_us.execute(below).fetchone()[0] == lite.execute(below).fetchone()[0] == 3


def test_folded_text_keeps_the_database_collation_so_arabic_words_have_boundaries(en_us):
    en_us.execute("INSERT INTO search_folded (kind, ref_id, document_id, folded) VALUES ('doc', 1, 1, 'قال الوزير')")
    word = r"\mالوزير\M"
    assert en_us.execute("SELECT folded ~ %s FROM search_folded", (word,)).fetchone()[0] is True
    # The reason folded is not COLLATE "C" like the rest: there, no Arabic letter is a word character.
    assert en_us.execute('SELECT (folded COLLATE "C") ~ %s FROM search_folded', (word,)).fetchone()[0] is False


# ---- constraints that refuse and cascade -------------------------------------------------------------------------


def _project_with_a_span(pg) -> dict[str, int]:
    """A project, a user, a label, a document with two linked spans, a review, a comment and a status."""
    ids = {}
    ids["project"] = pg.execute("INSERT INTO projects (name, created_at) VALUES ('p', %s) RETURNING id", (NOW,)).fetchone()[0]
    ids["user"] = pg.execute("INSERT INTO users (username, created_at) VALUES ('amal', %s) RETURNING id", (NOW,)).fetchone()[0]
    ids["label"] = pg.execute(
        "INSERT INTO labels (project_id, name) VALUES (%s, 'CLAIM') RETURNING id", (ids["project"],)
    ).fetchone()[0]
    ids["document"] = pg.execute(
        "INSERT INTO documents (project_id, title, text, raw_text, text_sha256, created_at)"
        " VALUES (%s, 't', 'قال الوزير إن', 'قال الوزير إن', 'x', %s) RETURNING id",
        (ids["project"], NOW),
    ).fetchone()[0]
    spans = []
    for start, end, text in ((0, 3, "قال"), (4, 10, "الوزير")):
        spans.append(
            pg.execute(
                "INSERT INTO spans (document_id, label_id, annotator_id, start_offset, end_offset, text, created_at,"
                " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (ids["document"], ids["label"], ids["user"], start, end, text, NOW, NOW),
            ).fetchone()[0]
        )
    ids["span"] = spans[0]
    pg.execute(
        "INSERT INTO links (from_span_id, to_span_id, type, annotator_id, created_at) VALUES (%s, %s, 'cue_of', %s, %s)",
        (spans[0], spans[1], ids["user"], NOW),
    )
    pg.execute(
        "INSERT INTO reviews (entity, entity_id, document_id, reviewer_id, decision, created_at, updated_at)"
        " VALUES ('span', %s, %s, %s, 'accepted', %s, %s)",
        (spans[0], ids["document"], ids["user"], NOW, NOW),
    )
    pg.execute(
        "INSERT INTO comments (entity, entity_id, document_id, author_id, body, created_at) VALUES ('span', %s, %s, %s, 'why?', %s)",
        (spans[0], ids["document"], ids["user"], NOW),
    )
    pg.execute(
        "INSERT INTO document_status (document_id, user_id, status, updated_at) VALUES (%s, %s, 'submitted', %s)",
        (ids["document"], ids["user"], NOW),
    )
    return ids


def _count(pg, table: str) -> int:
    return pg.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def test_a_check_refuses_a_bad_role_and_reversed_offsets(pg):
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("INSERT INTO users (username, role, created_at) VALUES ('x', 'boss', %s)", (NOW,))
    ids = _project_with_a_span(pg)
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("UPDATE spans SET end_offset = start_offset WHERE id = %s", (ids["span"],))
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("UPDATE comments SET body = ''")
    assert _count(pg, "users") == 1
    assert pg.execute("SELECT end_offset FROM spans WHERE id = %s", (ids["span"],)).fetchone()[0] == 3


def test_deleting_a_document_cascades_to_its_spans_links_reviews_comments_and_status(pg):
    ids = _project_with_a_span(pg)
    tables = ["spans", "links", "reviews", "comments", "document_status"]
    assert [_count(pg, t) for t in tables] == [2, 1, 1, 1, 1]
    pg.execute("DELETE FROM documents WHERE id = %s", (ids["document"],))
    assert [_count(pg, t) for t in tables] == [0, 0, 0, 0, 0]
    assert [_count(pg, t) for t in ("projects", "users", "labels")] == [1, 1, 1]


def test_a_label_in_use_cannot_be_deleted(pg):
    ids = _project_with_a_span(pg)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        pg.execute("DELETE FROM labels WHERE id = %s", (ids["label"],))
    assert _count(pg, "labels") == 1


# ---- search queue triggers ---------------------------------------------------------------------------------------


def _queue(pg) -> list[tuple[str, int]]:
    return pg.execute("SELECT kind, ref_id FROM search_pending ORDER BY kind, ref_id").fetchall()


def _fold(pg, doc: int) -> None:
    """What the store does before it commits: fold the queued document, empty the queue."""
    pg.execute("INSERT INTO search_folded (kind, ref_id, document_id, folded) VALUES ('doc', %s, %s, 'folded')", (doc, doc))
    pg.execute("DELETE FROM search_pending")


def test_the_search_triggers_queue_documents_only(pg):
    ids = _project_with_a_span(pg)
    doc = ids["document"]
    assert _queue(pg) == [("doc", doc)]  # inserted; its spans are not queued
    _fold(pg, doc)
    pg.execute("UPDATE documents SET title = 'new title' WHERE id = %s", (doc,))
    assert _queue(pg) == []
    assert _count(pg, "search_folded") == 1
    pg.execute("UPDATE documents SET text = text || '.' WHERE id = %s", (doc,))
    assert _queue(pg) == [("doc", doc)]
    assert _count(pg, "search_folded") == 0  # the stale folded text goes at once
    pg.execute("UPDATE documents SET text = text || '.' WHERE id = %s", (doc,))  # queued twice: one row
    assert _queue(pg) == [("doc", doc)]
    _fold(pg, doc)
    pg.execute("DELETE FROM documents WHERE id = %s", (doc,))
    assert _queue(pg) == []
    assert _count(pg, "search_folded") == 0


def test_a_document_deleted_before_it_was_folded_leaves_no_queue_row(pg):
    ids = _project_with_a_span(pg)
    pg.execute("DELETE FROM projects WHERE id = %s", (ids["project"],))  # cascades to the document
    assert _queue(pg) == []


# ---- the runner's refusals and locking ---------------------------------------------------------------------------


def test_a_database_of_a_newer_schema_is_refused_with_one_clear_line(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pg_schema.migrate(conn)
        conn.execute("INSERT INTO nisba_migrations (name) VALUES ('m_from_a_newer_nisba')")
        tables = _pg_tables(conn)
        with pytest.raises(StorageError) as refused:
            pg_schema.migrate(conn)
        with pytest.raises(StorageError):
            pg_schema.ensure_not_newer(conn)
        assert _pg_tables(conn) == tables
        assert pg_schema.applied(conn)[-1] == "m_from_a_newer_nisba"
    message = str(refused.value)
    assert "\n" not in message
    dbname = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    assert f"database {dbname} on " in message
    assert "newer schema than this Nisba" in message
    assert "m_from_a_newer_nisba" in message
    assert "upgrade Nisba" in message


def test_a_step_the_database_refuses_is_a_storage_error_naming_the_step(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE projects (id BIGINT)")  # not a Nisba database
        with pytest.raises(StorageError, match=r"failed at step m001_core: .*projects") as refused:
            pg_schema.migrate(conn)
        assert "\n" not in str(refused.value)
        assert pg_schema.applied(conn) == []  # the step rolled back; nothing recorded
        assert _pg_tables(conn) == ["projects"]


def test_processes_starting_together_apply_each_step_once(pg_url):
    results, errors = [], []
    start = threading.Barrier(4)

    def run() -> None:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            start.wait()
            try:
                results.append(pg_schema.migrate(conn))
            except Exception as exc:  # collected: an error in a thread would not fail the test
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(name for names in results for name in names) == sorted(pg_schema.STEP_NAMES)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pg_schema.applied(conn) == pg_schema.STEP_NAMES


# ---- explicit ids and the sequences -------------------------------------------------------------------------------


def test_explicit_ids_then_sync_sequences_then_a_default_id(pg):
    ids = _project_with_a_span(pg)
    pg.execute(
        "INSERT INTO documents (id, project_id, title, text, raw_text, text_sha256, created_at)"
        " VALUES (41, %s, 'a', 'a', 'a', 'a', %s), (42, %s, 'b', 'b', 'b', 'b', %s)",
        (ids["project"], NOW, ids["project"], NOW),
    )
    assert pg_schema.sync_sequences(pg, ["documents"]) == {"documents": 42}
    new = "INSERT INTO documents (project_id, title, text, raw_text, text_sha256, created_at) VALUES (%s, 'c', 'c', 'c', 'c', %s) RETURNING id"
    assert pg.execute(new, (ids["project"], NOW)).fetchone()[0] == 43
    # Only forward: a sequence already past the largest id stays where it is (43 handed out, 42 deleted).
    pg.execute("DELETE FROM documents WHERE id IN (42, 43)")
    assert pg_schema.sync_sequences(pg, ["documents"]) == {}
    assert pg.execute(new, (ids["project"], NOW)).fetchone()[0] == 44


def test_sync_sequences_covers_every_identity_table_by_default(pg):
    pg.execute("INSERT INTO projects (id, name, created_at) VALUES (7, 'p', %s)", (NOW,))
    pg.execute("INSERT INTO users (id, username, created_at) VALUES (9, 'u', %s)", (NOW,))
    assert pg_schema.sync_sequences(pg) == {"projects": 7, "users": 9}
    assert pg.execute("INSERT INTO users (username, created_at) VALUES ('v', %s) RETURNING id", (NOW,)).fetchone()[0] == 10
    with pytest.raises(ValueError, match="project_members"):
        pg_schema.sync_sequences(pg, ["project_members"])


def test_a_connection_lost_while_migrating_is_one_line_and_writes_nothing(pg_url):
    with psycopg.connect(pg_url) as holder, psycopg.connect(pg_url, autocommit=True) as victim:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (pg_schema.MIGRATION_LOCK_KEY,))  # another process migrating
        errors = []

        def run() -> None:
            try:
                pg_schema.migrate(victim)
            except Exception as exc:  # collected: an error in a thread would not fail the test
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        waiting = "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted"
        deadline = time.monotonic() + 10
        while holder.execute(waiting, (victim.info.backend_pid,)).fetchone() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        holder.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
        holder.rollback()
        thread.join()
    assert len(errors) == 1 and isinstance(errors[0], StorageError)
    message = str(errors[0])
    assert "\n" not in message
    assert message.startswith(f"Upgrading the database {psycopg.conninfo.conninfo_to_dict(pg_url)['dbname']} on ")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pg_schema.applied(conn) == []
        assert _pg_tables(conn) == []


def test_the_message_names_the_database_as_the_caller_does(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pg_schema.migrate(conn)
        conn.execute("INSERT INTO nisba_migrations (name) VALUES ('m_from_a_newer_nisba')")
        with pytest.raises(StorageError, match=r"^The database 'x' on h:1 as u has a newer schema than this Nisba"):
            pg_schema.migrate(conn, where="database 'x' on h:1 as u")


def test_a_store_on_postgresql_migrates_through_this_runner_and_refuses_a_newer_schema(pg_url):
    store = Store(pg_url)
    try:
        assert store.backend_name == "postgresql"
    finally:
        store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pg_schema.applied(conn) == pg_schema.STEP_NAMES
        conn.execute("INSERT INTO nisba_migrations (name) VALUES ('m_from_a_newer_nisba')")
    with pytest.raises(StorageError, match="newer schema than this Nisba.*upgrade Nisba"):
        Store(pg_url)
