"""The tamper-evident audit log: the hash chain, its verification (core and CLI), the admin listing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from raw_db import tamper as raw_tamper

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
    """Change the database behind the app's back, as someone with a SQLite shell or psql would."""
    raw_tamper(store, sql, params)


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


def test_an_edit_with_a_recomputed_plain_hash_breaks_the_keyed_event_itself(busy):
    from annotator.audit import event_hash

    ids = event_ids(busy)
    ev = next(e for e in busy.iter_events() if e["id"] == ids[1])
    ev["after"] = {"forged": True}
    tamper(
        busy,
        "UPDATE audit_events SET after = ?, hash = ? WHERE id = ?",
        ('{"forged":true}', event_hash(ev["prev_hash"], ev), ids[1]),
    )
    assert audit_log.verify_database(busy).broken_event_id == ids[1]


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


# ---- a head kept elsewhere, and the keyed chain (issue 9) ------------------------------------------------------


def verify_cli_expecting(store, head):
    return subprocess.run(
        [sys.executable, "-m", "annotator", "audit", "verify", "--db", store.path, "--expect-head", head],
        capture_output=True, text=True,
    )  # fmt: skip


def test_expect_head_catches_removed_newest_events_and_an_emptied_log(busy, users):
    head = audit_log.verify_database(busy).head
    assert verify_cli_expecting(busy, head).returncode == 0
    # the log grows: the kept head is still in the chain
    auth.create_user(busy, users["admin"], "later", "annotator")
    out = verify_cli_expecting(busy, head)
    assert out.returncode == 0 and "1 event(s) since" in out.stdout
    # the newest events removed by hand: the chain alone still verifies, the kept head does not
    tamper(busy, "DELETE FROM audit_events WHERE id >= (SELECT id FROM audit_events WHERE hash = ?)", (head,))
    assert audit_log.verify_database(busy).ok
    out = verify_cli_expecting(busy, head)
    assert out.returncode == 1 and "not in the chain" in out.stderr
    tamper(busy, "DELETE FROM audit_events")
    assert verify_cli_expecting(busy, head).returncode == 1


def test_an_edit_with_every_later_hash_recomputed_fails_without_the_key(busy):
    """Someone with the database but not the key edits an event and recomputes the whole chain after it with
    plain SHA-256 (the old scheme), or with a key of their own: both fail verification."""
    import hashlib
    import hmac
    import json

    from annotator.audit import canonical_json

    events = list(busy.iter_events())
    target = events[3]["id"]
    for forged_key in (None, b"0" * 64):
        prev = events[2]["hash"]
        updates = []
        for ev in events[3:]:
            if ev["id"] == target:
                ev = {**ev, "after": {"forged": True}}
            body = {k: ev[k] for k in ("at", "user_id", "action", "entity", "entity_id", "document_id", "before", "after")}
            message = (prev + canonical_json(body)).encode()
            h = hmac.new(forged_key, message, hashlib.sha256).hexdigest() if forged_key else hashlib.sha256(message).hexdigest()
            updates.append((None if ev["after"] is None else json.dumps(ev["after"]), prev, h, ev["id"]))
            prev = h
        for row in updates:
            tamper(busy, "UPDATE audit_events SET after = ?, prev_hash = ?, hash = ? WHERE id = ?", row)
        report = audit_log.verify_database(busy)
        assert not report.ok and report.broken_event_id == target


def test_an_unkeyed_chain_still_verifies_and_the_switch_is_an_event(tmp_path):
    """A database written before keying: its plain SHA-256 events verify; the first write adds the switch event,
    keyed like everything after it."""
    from annotator.audit import GENESIS, SWITCH, canonical_json, event_hash
    from annotator.keys import audit_key_path
    from annotator.store import Store

    path = tmp_path / "old.db"
    Store(path).close()
    prev = GENESIS
    conn = sqlite3.connect(path)
    with conn:
        for k in range(3):
            ev = {"at": f"2026-01-0{k + 1}T00:00:00", "user_id": None, "action": "create", "entity": "project",
                  "entity_id": k, "document_id": None, "before": None, "after": {"name": f"p{k}"}}  # fmt: skip
            h = event_hash(prev, ev)
            conn.execute(
                "INSERT INTO audit_events (at, user_id, action, entity, entity_id, document_id, before, after, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ev["at"], None, "create", "project", k, None, None, canonical_json(ev["after"]), prev, h),
            )
            prev = h
    conn.close()
    store = Store(path)
    assert not audit_key_path(path).exists()
    report = audit_log.verify_database(store)
    assert report.ok and report.keyed_from is None and report.count == 3
    auth.create_user(store, auth.CONSOLE, "first", "admin", "first-password")
    events = list(store.iter_events())
    assert (events[3]["action"], events[3]["entity"]) == SWITCH and audit_key_path(path).exists()
    report = audit_log.verify_database(store)
    assert report.ok and report.keyed_from == events[3]["id"] and report.count == 5
    # without the key the keyed part cannot be checked; a rewrite that drops the switch event is caught too
    key = audit_key_path(path).read_bytes()
    audit_key_path(path).unlink()
    assert not audit_log.verify_database(Store(path)).ok
    audit_key_path(path).write_bytes(key)
    tamper(store, "DELETE FROM audit_events WHERE id >= ?", (events[3]["id"],))
    report = audit_log.verify_database(Store(path))
    assert not report.ok and "no switch event" in report.reason
