"""``audit replay``: spans, links, review decisions and gold rebuilt from the audit events and compared with the
tables; every row changed outside the app is named. Each tamper is plain SQL on the file, as someone with a
SQLite shell would do it, and ``audit verify`` still says ok for each (the log itself is untouched)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from raw_db import tamper as raw_tamper

from annotator import annotations as A
from annotator import audit_log, review
from annotator.audit_replay import replay, replay_database
from annotator.errors import PermissionDenied
from annotator.importing import ImportFile, import_files
from annotator.projects import create_project


def tamper(store, sql, params=()):
    raw_tamper(store, sql, params)


@pytest.fixture
def lived(demo, users, demo_doc):
    """A database with a history: spans made, edited, deleted and undone, links, a review decision, gold, and an
    import of two documents whose rows an annotator then edited and deleted through the app."""
    amal, rana = users["amal"], users["rana"]
    text = demo_doc.text
    i = text.index("روبيو")
    claim = A.add_span(demo, amal, demo_doc.id, "CLAIM", 0, 4)
    source = A.add_span(demo, amal, demo_doc.id, "SOURCE", i, i + len("روبيو"))
    A.add_link(demo, amal, claim.id, source.id)
    A.update_span(demo, amal, claim.id, label="QUOTE", expected_version=claim.version)
    gone = A.add_span(demo, amal, demo_doc.id, "CUE", i + 6, i + 10)
    A.delete_span(demo, amal, gone.id)
    A.undo_last(demo, amal, demo_doc.id)  # the CUE comes back
    extra = A.add_span(demo, amal, demo_doc.id, "CUE", 5, 10)
    A.undo_last(demo, amal, demo_doc.id)  # and this one goes
    review.decide(demo, rana, "span", source.id, "accepted", 0)
    review.adopt_into_gold(demo, rana, source.id)
    project = create_project(demo, users["admin"], "Imported")
    lines = [
        {"text": "قال الوزير إن الاتفاق قريب.", "entities": [
            {"id": 1, "label": "CUE", "start_offset": 0, "end_offset": 3},
            {"id": 2, "label": "SOURCE", "start_offset": 4, "end_offset": 10},
            {"id": 3, "label": "CLAIM", "start_offset": 14, "end_offset": 26}],
         "relations": [{"from_id": 3, "to_id": 2, "type": "attributed_to"}]},
        {"text": "وأكد المتحدث أن الوفد وصل.", "label": [[0, 4, "CUE"], [5, 12, "SOURCE"]]},
    ]  # fmt: skip
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    import_files(
        demo, users["admin"], project.id, [ImportFile("a.jsonl", data)], map_annotators={"amal": "amal"}, annotator="amal"
    )
    docs = demo.list_documents(project.id)
    first, second = (demo.list_spans(d.id) for d in docs)
    A.delete_span(demo, amal, second[1].id)
    demo.ids = {"claim": claim.id, "source": source.id, "extra": extra.id, "imported": [s.id for s in first],
                "second_doc": docs[1].id, "first_doc": docs[0].id, "gone": gone.id}  # fmt: skip
    return demo


def test_an_untouched_history_replays_clean(lived):
    report = replay_database(lived)
    assert report.ok, report.differences
    assert report.spans >= 8 and report.links >= 2 and report.reviews == 1


def test_replay_is_admin_only(lived, users):
    with pytest.raises(PermissionDenied):
        replay(lived, users["rana"])
    assert replay(lived, users["admin"]).ok


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("UPDATE spans SET text = 'مزور' WHERE id = {claim}", "span {claim} differs from its last event"),
        ("UPDATE spans SET start_offset = start_offset + 1 WHERE id = {source}", "span {source} differs"),
        ("DELETE FROM spans WHERE id = {claim}", "span {claim} is missing from the table"),
        ("UPDATE spans SET annotator_id = 1 WHERE layer = 'gold'", "differs from its last event"),
        ("UPDATE reviews SET decision = 'rejected'", "review of span {source} differs"),
        ("DELETE FROM links WHERE from_span_id = {claim}", "is missing from the table"),
        (
            "INSERT INTO spans (document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes,"
            " origin, created_at, updated_at, version) SELECT document_id, label_id, annotator_id, layer, start_offset,"
            " end_offset, text, attributes, origin, created_at, updated_at, 1 FROM spans WHERE id = {claim}",
            "is in the table but no event made it",
        ),
        ("UPDATE spans SET label_id = label_id + 1 WHERE id = {imported0}", "document {first_doc}: the rows import event"),
        ("DELETE FROM spans WHERE id = {imported1}", "span {imported1} (written by import event"),
        ("UPDATE links SET type = 'cue' WHERE from_span_id = {imported2}", "document {first_doc}: the rows import event"),
    ],
)
def test_each_change_outside_the_app_is_named(lived, sql, named):
    ids = {**lived.ids, **{f"imported{k}": v for k, v in enumerate(lived.ids["imported"])}}
    tamper(lived, sql.format(**ids))
    assert audit_log.verify_database(lived).ok  # the log itself is intact: only the data changed
    report = replay_database(lived)
    assert not report.ok
    assert any(named.format(**ids) in d for d in report.differences), report.differences


def test_an_imported_row_edited_by_the_app_then_by_hand_is_named_exactly(lived, users):
    sid = lived.ids["imported"][0]
    span = lived.get_span(sid)
    A.update_span(lived, users["amal"], sid, label="QUOTE", expected_version=span.version)
    assert replay_database(lived).ok
    tamper(lived, "UPDATE spans SET text = 'x' WHERE id = ?", (sid,))
    assert any(f"span {sid} differs from its last event" in d for d in replay_database(lived).differences)


def test_the_command_line(lived):
    run = [sys.executable, "-m", "annotator", "audit", "replay", "--db", lived.path]
    out = subprocess.run(run, capture_output=True, text=True)
    assert out.returncode == 0 and "ok:" in out.stdout
    tamper(lived, "UPDATE spans SET text = 'مزور' WHERE id = ?", (lived.ids["claim"],))
    out = subprocess.run(run, capture_output=True, text=True)
    assert out.returncode == 1 and f"span {lived.ids['claim']} differs" in out.stderr
