"""The tamper-evident audit log: event hashing and chain verification (the store writes the rows)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces, so the same event always hashes the same."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(prev_hash: str, event: dict) -> str:
    """SHA-256 over the previous hash and the event's fields (everything but id and hash)."""
    body = {k: event.get(k) for k in ("at", "user_id", "action", "entity", "entity_id", "document_id", "before", "after")}
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify_chain`: ``ok``, the head hash, and the first broken event if any."""

    ok: bool
    head: str
    count: int
    broken_event_id: int | None = None
    reason: str = ""


def verify_chain(events) -> ChainReport:
    """Check every event's ``prev_hash`` and ``hash`` in id order.

    ``events`` yields dicts with the audit_events columns, ``before``/``after`` already decoded.
    An edited event breaks its own hash; a deleted one breaks the next event's ``prev_hash``.
    """
    prev = GENESIS
    count = 0
    for ev in events:
        count += 1
        if ev["prev_hash"] != prev:
            return ChainReport(
                False, prev, count, ev["id"], "prev_hash does not match the previous event (an event was deleted or reordered)"
            )
        if event_hash(prev, ev) != ev["hash"]:
            return ChainReport(False, prev, count, ev["id"], "hash does not match the event's content (the event was edited)")
        prev = ev["hash"]
    return ChainReport(True, prev, count)
