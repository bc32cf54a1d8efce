"""Streaming JSONL imports (annotator.import_stream): the same result as the in-memory import for the same files
(documents, spans, links, statuses, accounts, labels, problems), one transaction, and a process killed half-way
leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import new_store

from annotator.audit_replay import import_record, replay_database
from annotator.demo import ensure_demo
from annotator.import_stream import import_jsonl_stream
from annotator.importing import ImportRejected, file_from_path, import_files
from annotator.projects import create_project
from annotator.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
PEER = FIXTURES / "peer-exports"
CASES = {
    "doccano": [PEER / "doccano-1.8.jsonl", PEER / "doccano-1.8.annotator2.jsonl"],
    "shared": [PEER / "input.shared.ar.jsonl"],
    "dev-twice": [FIXTURES / "attribution-dev.ar.jsonl", FIXTURES / "attribution-dev.ar.jsonl"],  # every text again
    "norel": [PEER / "doccano-1.8.norel.jsonl", PEER / "doccano-1.8.norel.annotator2.jsonl"],
}


def _fresh(path: Path, request=None, backend: str = "sqlite") -> tuple[Store, object, object]:
    """A demo database with a project to import into: the file ``path``, or (``backend`` postgresql) a database of
    its own on the test server."""
    store = Store(path) if backend == "sqlite" else new_store(request, path.parent, path.stem, backend)
    ensure_demo(store)
    admin = store.user_by_username("admin")
    return store, admin, create_project(store, admin, "Imported")


def _contents(store: Store, project_id: int) -> dict:
    """The project's rows without ids and times: what an import wrote."""
    q = store.query
    return {
        "documents": q(
            "SELECT title, text, raw_text, text_sha256, source, metadata, position FROM documents"
            " WHERE project_id = ? ORDER BY position",
            [project_id],
        ),  # fmt: skip
        "spans": q(
            "SELECT d.position, l.name AS label, u.username, s.layer, s.start_offset, s.end_offset, s.text, s.attributes,"
            " s.origin FROM spans s JOIN documents d ON d.id = s.document_id JOIN labels l ON l.id = s.label_id"
            " JOIN users u ON u.id = s.annotator_id WHERE d.project_id = ? ORDER BY d.position, s.id",
            [project_id],
        ),  # fmt: skip
        "links": q(
            "SELECT a.start_offset AS a0, b.start_offset AS b0, k.type, d.position FROM links k JOIN spans a ON a.id = k.from_span_id"
            " JOIN spans b ON b.id = k.to_span_id JOIN documents d ON d.id = a.document_id WHERE d.project_id = ?"
            " ORDER BY d.position, a.start_offset, b.start_offset, k.type",
            [project_id],
        ),  # fmt: skip
        "labels": q("SELECT name, kind, attributes, position FROM labels WHERE project_id = ? ORDER BY position", [project_id]),
        "accounts": q("SELECT username, display_name, role, origin FROM users ORDER BY username"),
        "status": q(
            "SELECT d.position, u.username, st.status FROM document_status st JOIN documents d ON d.id = st.document_id"
            " JOIN users u ON u.id = st.user_id WHERE d.project_id = ? ORDER BY d.position, u.username",
            [project_id],
        ),  # fmt: skip
    }


@pytest.mark.parametrize("case", list(CASES))
def test_streamed_and_in_memory_imports_write_the_same(request, tmp_path, backend, case):
    paths = CASES[case]
    a, admin_a, project_a = _fresh(tmp_path / "memory.db", request, backend)
    b, admin_b, project_b = _fresh(tmp_path / "stream.db", request, backend)
    options = {"annotator": "amal", "map_annotators": {"amal": "amal"}, "skip_rejected": True}
    preview_a, result_a = import_files(a, admin_a, project_a.id, [file_from_path(p) for p in paths], **options)
    preview_b, result_b = import_jsonl_stream(b, admin_b, project_b.id, paths, **options)
    assert _contents(b, project_b.id) == _contents(a, project_a.id)
    assert (result_b.spans, result_b.links, len(result_b.document_ids)) == (
        result_a.spans,
        result_a.links,
        len(result_a.document_ids),
    )
    assert [str(p) for p in preview_b.rejected] == [str(p) for p in preview_a.rejected]
    assert sorted(map(str, preview_b.duplicates)) == sorted(map(str, preview_a.duplicates))
    assert sorted(map(str, preview_b.joined)) == sorted(map(str, preview_a.joined))
    assert preview_b.repeats == preview_a.repeats
    assert dict(preview_b.spans_per_label) == dict(preview_a.spans_per_label)
    assert {m.source: m.account for m in preview_b.accounts.values()} == {
        m.source: m.account for m in preview_a.accounts.values()
    }
    assert replay_database(b).ok and replay_database(a).ok  # the imports' digests check out
    for store in (a, b):  # digested as the rows were built: the same as digesting them from the tables
        event = json.loads(store.query("SELECT after FROM audit_events WHERE action = 'import' ORDER BY id DESC")[0]["after"])
        record = event["rows"]
        first_span = (record["span_ids"] or [store.next_ids("spans")])[0]
        first_link = (record["link_ids"] or [store.next_ids("links")])[0]
        assert import_record(store, first_span, first_link) == record


def test_a_rejected_row_refuses_the_whole_streamed_import(tmp_path):
    store, admin, project = _fresh(tmp_path / "s.db")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "قال الوزير", "label": [[0, 3, "CUE"]]}\n{"text": "قال", "label": [[0, 9, "CUE"]]}\n', "utf-8")
    before = store.query("SELECT count(*) AS n FROM documents")[0]["n"]
    with pytest.raises(ImportRejected) as exc:
        import_jsonl_stream(store, admin, project.id, [bad], annotator="amal")
    assert "bad.jsonl, line 2" in str(exc.value.problems[0])
    assert store.query("SELECT count(*) AS n FROM documents")[0]["n"] == before


def _corpus(path: Path, docs: int) -> None:
    line = {"text": "قال الوزير إن الاتفاق قريب جدا، وأكد المتحدث أن الوفد وصل إلى العاصمة. " * 20,
            "label": [[0, 3, "CUE"], [4, 10, "SOURCE"], [14, 26, "CLAIM"]]}  # fmt: skip
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(docs):
            fh.write(
                json.dumps(
                    {
                        **line,
                        "text": f"{i} {line['text']}",
                        "label": [[a + len(str(i)) + 1, b + len(str(i)) + 1, lab] for a, b, lab in line["label"]],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


def test_a_streamed_import_killed_half_way_leaves_nothing(tmp_path):
    """kill -9 while the import writes (the WAL is growing): the database reopens with no document, span, label,
    account or audit event of it, and passes SQLite's integrity check."""
    db = tmp_path / "k.db"
    store, _admin, _project = _fresh(db)
    before = {t: store.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("documents", "spans", "users", "audit_events")}
    store.close()
    src = tmp_path / "big.jsonl"
    _corpus(src, 6000)
    cmd = [sys.executable, "-m", "annotator", "import", "--db", str(db), "--project", "Imported", "--annotator", "amal", str(src)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wal = Path(str(db) + "-wal")
    start = time.monotonic()
    # wait until the write pass has put rows into the WAL (the check pass writes nothing), then kill it
    while proc.poll() is None and time.monotonic() - start < 120:
        if wal.exists() and wal.stat().st_size > 2_000_000:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail("the import finished before it could be killed; make the corpus larger")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
    conn.close()
    assert after == before
