"""The tamper-evident audit log: the hash chain, its verification (core and CLI), the admin listing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from annotator import annotations as A
from annotator import audit_log, auth
from annotator.errors import PermissionDenied


@pytest.fixture
def busy(demo, users, demo_doc):
    """The demo database with a few span, link and account events."""
    text = demo_doc.text
    i = text.index("روبيو")
    claim = A.add_span(demo, users["amal"], demo_doc.id, "CLAIM", 0, 10)
    source = A.add_span(demo, users["amal"], demo_doc.id, "SOURCE", i, i + len("روبيو"))
    A.add_link(demo, users["amal"], claim.id, source.id)
    auth.create_user(demo, users["admin"], "layla", "annotator", "layla-pass")
    A.delete_span(demo, users["amal"], source.id)
    return demo


def tamper(store, sql, params=()):
    """Change the file behind the app's back, as someone with a SQLite shell would."""
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute(sql, params)
    conn.close()


def event_ids(store):
    return [e["id"] for e in store.iter_events()]


def verify_cli(store):
    return subprocess.run(
        [sys.executable, "-m", "annotator", "audit", "verify", "--db", store.path], capture_output=True, text=True
    )


def test_intact_chain_verifies_and_reports_the_head(busy):
    report = audit_log.verify_database(busy)
    last = list(busy.iter_events())[-1]
    assert report.ok and report.head == last["hash"] and report.count == len(event_ids(busy))
    out = verify_cli(busy)
    assert out.returncode == 0
    assert f"head {last['hash']}" in out.stdout


def test_every_kind_of_change_is_in_the_log(busy, users):
    seen = {(e["action"], e["entity"]) for e in busy.iter_events()}
    assert {("create", "span"), ("create", "link"), ("create", "user"), ("delete", "span")} <= seen


def test_an_edited_event_is_named(busy):
    ids = event_ids(busy)
    target = ids[len(ids) // 2]
    tamper(busy, "UPDATE audit_events SET after = ? WHERE id = ?", ('{"forged":true}', target))
    report = audit_log.verify_database(busy)
    assert not report.ok and report.broken_event_id == target and "edited" in report.reason
    out = verify_cli(busy)
    assert out.returncode != 0
    assert f"BROKEN at event {target}:" in out.stderr


def test_an_edited_user_or_time_is_named(busy):
    ids = event_ids(busy)
    tamper(busy, "UPDATE audit_events SET user_id = 99 WHERE id = ?", (ids[-1],))
    assert audit_log.verify_database(busy).broken_event_id == ids[-1]


def test_a_deleted_event_names_the_next_one(busy):
    ids = event_ids(busy)
    tamper(busy, "DELETE FROM audit_events WHERE id = ?", (ids[2],))
    report = audit_log.verify_database(busy)
    assert not report.ok and report.broken_event_id == ids[3] and "deleted" in report.reason
    out = verify_cli(busy)
    assert out.returncode != 0 and f"event {ids[3]}" in out.stderr


def test_an_edit_with_a_recomputed_hash_still_breaks_the_next_link(busy):
    from annotator.audit import event_hash

    ids = event_ids(busy)
    ev = next(e for e in busy.iter_events() if e["id"] == ids[1])
    ev["after"] = {"forged": True}
    tamper(
        busy,
        "UPDATE audit_events SET after = ?, hash = ? WHERE id = ?",
        ('{"forged":true}', event_hash(ev["prev_hash"], ev), ids[1]),
    )
    assert audit_log.verify_database(busy).broken_event_id == ids[2]


def test_removing_the_newest_events_changes_the_head(busy):
    """Truncation leaves a valid shorter chain: that is why the head hash is kept outside the database."""
    head = audit_log.verify_database(busy).head
    tamper(busy, "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)")
    report = audit_log.verify_database(busy)
    assert report.ok and report.head != head


def test_admins_list_and_filter_events(busy, users):
    admin = users["admin"]
    everything = audit_log.list_events(busy, admin)
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    amal_spans = audit_log.list_events(busy, admin, user_id=users["amal"].id, entity="span")
    assert amal_spans and all(e["user_id"] == users["amal"].id and e["entity"] == "span" for e in amal_spans)
    assert [e["action"] for e in audit_log.list_events(busy, admin, action="delete")] == ["delete"]
    assert len(audit_log.list_events(busy, admin, limit=2)) == 2
    assert audit_log.list_events(busy, admin, since="2999-01-01") == []
    assert audit_log.list_events(busy, admin, until="2000-01-01") == []
    vocab = audit_log.event_vocabulary(busy, admin)
    assert "create" in vocab["action"] and "span" in vocab["entity"]
    assert audit_log.chain_status(busy, admin).ok


@pytest.mark.parametrize("who", ["amal", "rana"])
def test_only_admins_read_the_log(busy, users, who):
    with pytest.raises(PermissionDenied):
        audit_log.list_events(busy, users[who])
    with pytest.raises(PermissionDenied):
        audit_log.chain_status(busy, users[who])
