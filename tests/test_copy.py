"""``python -m annotator copy`` (issue 13, moving a team): SQLite → PostgreSQL → SQLite on real databases, with the
exports, every row, the counts, the audit head and the chain (with the copied key) the same on all three."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from raw_db import dump, tamper

from annotator import keys
from annotator.annotations import add_span
from annotator.audit_log import verify_database
from annotator.cli import main
from annotator.database_copy import CopyRefused, copy_stores
from annotator.demo import ensure_demo
from annotator.exporting import export_zip
from annotator.review import add_comment, decide
from annotator.store import Store
from annotator.store.copying import COPIED_TABLES

FIXTURES = Path(__file__).parent / "fixtures"
CORPORA = {
    "Peers LS": FIXTURES / "peer-exports" / "labelstudio-1.23.json",
    "Peers doccano": FIXTURES / "peer-exports" / "doccano-1.8.export.zip",
    "Dev": FIXTURES / "attribution-dev.ar.jsonl",
}


@pytest.fixture
def keys_apart(tmp_path, monkeypatch):
    """Each database keeps its keys where the app looks by default (beside a file; data/ for a URL), so a copy has to
    bring the audit key across."""
    monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    monkeypatch.chdir(tmp_path)


def filled_source(path: Path) -> Store:
    """The demo, three imported corpora, and a row in every other data table."""
    store = Store(path)
    ensure_demo(store)
    for project, corpus in CORPORA.items():
        assert main(["import", "--db", str(path), "--project", project, str(corpus)]) == 0
    users = {u.username: u for u in store.list_users()}
    doc = store.list_documents(store.project_by_name("Peers LS").id)[0]
    demo_doc = store.list_documents(store.list_projects()[0].id)[0]
    span = add_span(store, users["amal"], demo_doc.id, "CUE", 0, 3)
    decide(store, users["rana"], "span", span.id, "accepted", 0)
    add_comment(store, users["rana"], "span", span.id, "«مصدر» = ثابت؟")
    with store.write():
        store.save_login_attempt("user:badr", 2, 1764000000.25, 0.0)
        store.insert_suggestion_cue(demo_doc.project_id, "صرّح", "صرح", "CUE", users["admin"].id)
        store.insert_dismissal(doc.id, users["admin"].id, "annotator", "CUE:0:3", "rules", "1")
        model = {"engine": "crf", "version": "1", "labels": ["CUE"], "training_documents": 3, "training_spans": 7,
                 "seconds": 0.123456789012345, "cross_validation": [], "model": {"b64": "QUJD"}}  # fmt: skip
        store.insert_suggestion_model(demo_doc.project_id, model, users["admin"].id)
        store.set_source_groups(demo_doc.project_id, {"مصادر": "مصدر"}, users["admin"].id)
    return store


def table_rows(store: Store) -> dict[str, list[dict]]:
    return {table: store.query(f"SELECT * FROM {table} ORDER BY {order}") for table, order in COPIED_TABLES}


def exports(store: Store) -> dict[str, bytes]:
    """The span CSV and the JSONL of every project: each data file's bytes (metadata.json holds the export time)."""
    admin = store.user_by_username("admin")
    out = {}
    for project in store.list_projects():
        for fmt in ("csv", "jsonl"):
            buffer = io.BytesIO()
            export_zip(store, admin, project.id, fmt, buffer)
            with zipfile.ZipFile(buffer) as zf:
                out |= {f"{project.name}/{n}": zf.read(n) for n in zf.namelist() if n != "metadata.json"}
    return out


def copy(capsys, source: str, target: str, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what came before (the imports' reports)
    code = main(["copy", "--from", source, "--to", target, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sqlite_to_postgresql_to_sqlite_keeps_every_row_export_count_and_the_chain(tmp_path, pg_url, keys_apart, capsys):
    source = filled_source(tmp_path / "team.db")
    before = exports(source)
    rows = table_rows(source)
    head = source.audit_head()
    assert rows["spans"] and all(rows[t] for t, _ in COPIED_TABLES), [t for t, _ in COPIED_TABLES if not rows[t]]
    source.close()

    code, out, err = copy(capsys, "team.db", pg_url)
    assert code == 0, err
    assert f"head {head} on both sides" in out and "copied the source's audit key" in out
    assert re.search(rf"^ +spans +{len(rows['spans']):,}$", out, re.M), out
    code, out, err = copy(capsys, pg_url, f"sqlite:///{tmp_path / 'back.db'}")
    assert code == 0, err

    source_key = keys.audit_key_path("team.db").read_bytes()
    for location in (pg_url, "back.db"):
        copied = Store(location)
        assert keys.audit_key_path(location).read_bytes() == source_key
        assert table_rows(copied) == rows
        assert copied.row_counts() == {t: len(r) for t, r in rows.items()} and copied.audit_head() == head
        report = verify_database(copied)
        assert report.ok and report.head == head, report
        assert exports(copied) == before
        copied.close()


def test_the_search_index_is_rebuilt_on_each_copy(tmp_path, pg_url, keys_apart, capsys):
    source = filled_source(tmp_path / "team.db")
    project = source.project_by_name("Dev").id
    ids = [d.id for p in source.list_projects() for d in source.list_documents(p.id)]
    folded, found = source.folded_documents(ids), source.search_documents(project, [("قال",)])
    assert len(folded) == len(ids) and found
    assert copy(capsys, "team.db", pg_url)[0] == 0
    assert copy(capsys, pg_url, "back.db")[0] == 0
    for location in (pg_url, "back.db"):
        target = Store(location)
        assert target.folded_documents(ids) == folded
        assert target.query("SELECT count(*) AS n FROM search_pending") == [{"n": 0}]
        target.close()
    back = Store("back.db")  # the same engine as the source: the same hits from its rebuilt word index
    assert back.search_documents(project, [("قال",)]) == found
    back.close()


def test_the_copied_postgresql_database_takes_new_spans_and_its_chain_stays_valid(tmp_path, pg_url, keys_apart, capsys):
    source = filled_source(tmp_path / "team.db")
    top = source.query("SELECT max(id) AS top FROM spans")[0]["top"]
    source.close()
    assert copy(capsys, "team.db", pg_url)[0] == 0
    target = Store(pg_url)
    amal = target.user_by_username("amal")
    doc = target.list_documents(target.list_projects()[0].id)[0]
    spans = [add_span(target, amal, doc.id, "CUE", i, i + 2) for i in (4, 8)]
    assert [s.id for s in spans] == [top + 1, top + 2]  # the sequence moved past the copied ids
    report = verify_database(target)
    assert report.ok and report.head == target.audit_head(), report
    target.close()


def test_a_non_empty_target_is_refused_and_left_as_it_was(tmp_path, backend, request, keys_apart, capsys):
    filled_source(tmp_path / "team.db").close()
    target_location = str(tmp_path / "other.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    target = Store(target_location)
    ensure_demo(target)
    before = dump(target)
    code, out, err = copy(capsys, "team.db", target_location)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "is not empty (rows in projects, users" in err and "--force" in err
    assert dump(target) == before
    target.close()


def test_force_replaces_the_target_and_sets_its_different_key_aside(tmp_path, pg_url, keys_apart, capsys):
    source = filled_source(tmp_path / "team.db")
    rows = table_rows(source)
    source.close()
    target = Store(pg_url)
    ensure_demo(target)  # its own rows and its own audit key
    own_key = keys.audit_key_path(pg_url).read_bytes()
    target.close()
    code, _out, err = copy(capsys, "team.db", pg_url)
    assert code == 1 and "not empty" in err
    code, out, err = copy(capsys, "team.db", pg_url, "--force")
    assert code == 0, err
    assert "emptied the target's projects" in out and "replaced the target's audit key" in out
    target = Store(pg_url)
    assert table_rows(target) == rows and verify_database(target).ok
    assert [p.read_bytes() for p in keys.audit_key_path(pg_url).parent.glob("*.audit.replaced-*")] == [own_key]
    target.close()


def test_an_empty_target_with_a_different_key_is_refused_unless_forced(tmp_path, keys_apart, capsys):
    filled_source(tmp_path / "team.db").close()
    Store("new.db").close()
    keys.load_audit_key("new.db", create=True)
    code, _out, err = copy(capsys, "team.db", "new.db")
    assert code == 1 and "has a different audit key" in err and err.count("\n") == 1
    assert Store("new.db").nonempty_tables() == []
    assert copy(capsys, "team.db", "new.db", "--force")[0] == 0
    assert verify_database(Store("new.db")).ok


def test_the_key_goes_beside_the_secret_the_target_servers_will_use(tmp_path, pg_url, keys_apart, capsys, monkeypatch):
    filled_source(tmp_path / "team.db").close()
    secret = tmp_path / "etc" / "session.secret"
    code, out, err = copy(capsys, "team.db", pg_url, "--target-secret", str(secret))
    assert code == 0, err
    assert f"to {secret}.audit" in out
    assert Path(f"{secret}.audit").read_bytes() == keys.audit_key_path("team.db").read_bytes()
    assert not keys.audit_key_path(pg_url).exists()  # nothing where this process alone would have looked
    monkeypatch.setenv("NISBA_SECRET_FILE", str(secret))  # as the target's app servers run
    target = Store(pg_url)
    assert verify_database(target).ok
    target.close()


def test_a_row_the_target_refuses_rolls_the_whole_copy_back_in_one_line(tmp_path, pg_url, keys_apart, capsys):
    source = filled_source(tmp_path / "team.db")
    tamper(source, "UPDATE spans SET label_id = 9999 WHERE id = (SELECT max(id) FROM spans)")  # foreign keys off
    source.close()
    target = Store(pg_url)
    before = dump(target)
    code, out, err = copy(capsys, "team.db", pg_url)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "while copying table spans" in err and "foreign key" in err
    assert dump(target) == before  # not even the projects and documents copied before the spans
    target.close()
    code, out, err = copy(capsys, "team.db", "fresh.db")
    assert code == 1 and "while copying table spans" in err
    assert not Path("fresh.db").exists()  # a file the copy created is gone again


def test_a_bad_url_or_a_missing_source_is_one_line_without_the_password(tmp_path, keys_apart, capsys):
    filled_source(tmp_path / "team.db").close()
    code, out, err = copy(capsys, "team.db", "postgresql://nisba:hunter2@127.0.0.1:1/team")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "Cannot connect to PostgreSQL database 'team' on 127.0.0.1:1 as nisba" in err and "hunter2" not in err
    code, out, err = copy(capsys, "missing.db", "other.db")
    assert code == 1 and err == "error: No database at missing.db (the source must exist).\n"
    assert not Path("missing.db").exists() and not Path("other.db").exists()
    code, out, err = copy(capsys, "team.db", f"sqlite:///{tmp_path / 'team.db'}")
    assert code == 1 and "the same database" in err


def test_a_target_of_other_schema_steps_is_refused_with_one_line(tmp_path, pg_url, keys_apart):
    source = filled_source(tmp_path / "team.db")
    target = Store(pg_url, migrate_schema=False)  # a database nobody has opened (and so upgraded) yet
    with pytest.raises(CopyRefused) as refused:
        copy_stores(source, target)
    assert "m001_core" in str(refused.value) and "open both with this Nisba first" in str(refused.value)
    assert target.schema_steps() == [] and "\n" not in str(refused.value)
    target.close()


def test_every_table_is_copied_or_rebuilt(store):
    """A table added by a schema step must be added to COPIED_TABLES (or named as derived), on both backends."""
    assert store.unknown_tables() == []
    assert all(store.has_table(table) for table in store.copied_tables)
