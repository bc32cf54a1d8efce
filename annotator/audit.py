"""The tamper-evident audit log: event hashing and chain verification (the store writes the rows).

Each event's hash covers the previous event's hash and the event's fields. Since issue 9 the hashes are
HMAC-SHA256 with the audit key kept beside the session secret (annotator.keys): someone who edits an event and
recomputes every later hash with plain SHA-256 no longer produces a chain that verifies. Chains written before
stay valid: their events keep plain SHA-256 up to the switch event (action ``key_chain``, entity ``audit``),
which is the first keyed one. A head hash kept outside the database (``audit verify --expect-head``) catches what
a chain cannot show by itself: events removed from the end, or the whole log replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
SWITCH = ("key_chain", "audit")  # (action, entity) of the event from which hashes are keyed


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces, so the same event always hashes the same."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_attributes(stored: str | None) -> str:
    """A span's attributes column (JSON text) as import digests and the replay compare it: ``{}`` or canonical JSON."""
    return "{}" if stored in ("{}", "", None) else canonical_json(json.loads(stored))


def event_hash(prev_hash: str, event: dict, key: bytes | None = None) -> str:
    """The hash over the previous hash and the event's fields (everything but id and hash): HMAC-SHA256 with
    ``key`` for keyed events, plain SHA-256 for events written before the chain was keyed."""
    body = {k: event.get(k) for k in ("at", "user_id", "action", "entity", "entity_id", "document_id", "before", "after")}
    message = (prev_hash + canonical_json(body)).encode("utf-8")
    if key is not None:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def is_switch(event: dict) -> bool:
    """True for the event from which the chain is keyed."""
    return (event["action"], event["entity"]) == SWITCH


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify_chain`: ``ok``, the head hash, and the first broken event if any.

    ``keyed_from`` is the id of the switch event (None for a chain without one); ``expected_at`` the id of the
    event whose hash is the expected head, ``after_expected`` how many events came after it."""

    ok: bool
    head: str
    count: int
    broken_event_id: int | None = None
    reason: str = ""
    keyed_from: int | None = None
    expected_at: int | None = None
    after_expected: int = 0


def verify_chain(events: Iterable[dict], key: bytes | None = None, expect_head: str | None = None) -> ChainReport:
    """Check every event's ``prev_hash`` and ``hash`` in id order.

    ``events`` yields dicts with the audit_events columns, ``before``/``after`` already decoded. An edited event
    breaks its own hash; a deleted one breaks the next event's ``prev_hash``; from the switch event on, hashes
    are checked with ``key`` (a keyed chain cannot be verified without it, and a key with no switch event in
    the chain means the log was rewritten). ``expect_head``: a head hash kept elsewhere, which must be the hash
    of an event of the chain (the newest, or an earlier one when events were added since).
    """
    prev, count, keyed_from, expected_at, after = GENESIS, 0, None, None, 0
    for ev in events:
        count += 1
        if keyed_from is None and is_switch(ev):
            keyed_from = ev["id"]
            if key is None:
                return ChainReport(False, prev, count, ev["id"], "the chain is keyed from here and the audit key is missing")
        if ev["prev_hash"] != prev:
            return ChainReport(
                False, prev, count, ev["id"], "prev_hash does not match the previous event (an event was deleted or reordered)"
            )
        if event_hash(prev, ev, key if keyed_from is not None else None) != ev["hash"]:
            return ChainReport(False, prev, count, ev["id"], "hash does not match the event's content (the event was edited)")
        prev = ev["hash"]
        if expected_at is not None:
            after += 1
        elif prev == expect_head:
            expected_at = ev["id"]
    if key is not None and keyed_from is None and count:
        return ChainReport(
            False, prev, count, None, "the audit key exists but the chain has no switch event (the log was rewritten)"
        )
    if expect_head is not None and expected_at is None:
        reason = "the expected head hash is not in the chain (events were removed from the end, or the log was replaced)"
        return ChainReport(False, prev, count, None, reason, keyed_from)
    return ChainReport(True, prev, count, keyed_from=keyed_from, expected_at=expected_at, after_expected=after)
