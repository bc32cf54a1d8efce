"""The hash-chained audit log: appending events (one chain, serialised with every write) and reading them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from annotator import audit, keys
from annotator.models import AuditEvent
from annotator.store.base import StoreBase, now


class AuditLog(StoreBase):
    def record_event(
        self,
        user_id: int | None,
        action: str,
        entity: str,
        entity_id: int | None = None,
        *,
        document_id: int | None = None,
        before=None,
        after=None,
    ) -> AuditEvent:
        """Append one audit event, chained to the previous one by an HMAC with the audit key (created beside the
        session secret on first use; a chain written before gets the switch event first). Call inside :meth:`write`."""
        key = self._audit_key()
        if not self._audit_keyed and not getattr(self._local, "switch_written", False):
            # read inside the write transaction, so two processes cannot both add the switch event; remembered
            # for good only once a transaction that saw it commits (a rollback may take it away again)
            if not self._x("SELECT 1 FROM audit_events WHERE action = ? AND entity = ? LIMIT 1", audit.SWITCH).fetchone():
                self._append_event(key, None, *audit.SWITCH, None, None, None, {"hashes": "HMAC-SHA256 from this event on"})
            self._local.switch_written = True
        return self._append_event(key, user_id, action, entity, entity_id, document_id, before, after)

    def _audit_key(self) -> bytes:
        if self._key is None:
            self._key = keys.load_audit_key(self.path, create=True)
        return self._key

    def audit_key(self) -> bytes | None:
        """The audit chain's key, or None when this database has none yet (for verification; never creates it)."""
        return self._key or keys.load_audit_key(self.path, create=False)

    def _append_event(self, key, user_id, action, entity, entity_id, document_id, before, after) -> AuditEvent:
        # every write transaction holds the write lock (backends.py), so the head read here stays the head
        row = self._x("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
        prev = row[0] if row else audit.GENESIS
        event = {
            "at": now(), "user_id": user_id, "action": action, "entity": entity, "entity_id": entity_id,
            "document_id": document_id, "before": before, "after": after,
        }  # fmt: skip
        event["hash"] = audit.event_hash(prev, event, key)
        event_id = self._insert(
            "INSERT INTO audit_events (at, user_id, action, entity, entity_id, document_id, before, after, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event["at"], user_id, action, entity, entity_id, document_id,
                None if before is None else audit.canonical_json(before),
                None if after is None else audit.canonical_json(after), prev, event["hash"],
            ),
        )  # fmt: skip
        return AuditEvent(id=event_id, prev_hash=prev, **event)

    def iter_events(self, where: str = "", params: Iterable = (), *, order: str = "id") -> Iterator[dict]:
        """Audit events as dicts with ``before``/``after`` decoded, in ``order``."""
        sql = "SELECT * FROM audit_events" + (f" WHERE {where}" if where else "") + f" ORDER BY {order}"
        for r in self.query(sql, params):
            r["before"] = None if r["before"] is None else json.loads(r["before"])
            r["after"] = None if r["after"] is None else json.loads(r["after"])
            yield r

    def get_events(self, ids: Iterable[int]) -> list[dict]:
        """The audit events with these ids (decoded as :meth:`iter_events` does), in id order."""
        ids = [int(i) for i in ids]
        if not ids:
            return []
        where, param = self.in_list("id", ids)
        return list(self.iter_events(where, [param]))

    def user_event_ids_since(self, user_id: int, document_id: int, since: int) -> list[int]:
        """Ids of this user's events on the document after event ``since``, oldest first."""
        sql = "SELECT id FROM audit_events WHERE user_id = ? AND document_id = ? AND id > ? ORDER BY id"
        return [r[0] for r in self._x(sql, [user_id, document_id, since])]

    def last_user_events(self, user_id: int, document_id: int, limit: int = 200) -> list[dict]:
        """This user's latest events on a document, newest first (for undo)."""
        return list(
            self.iter_events("user_id = ? AND document_id = ?", [user_id, document_id], order="id DESC LIMIT " + str(int(limit)))
        )

    def events_after(self, event_id: int, limit: int = 1000) -> list[tuple]:
        """``(id, action, entity, entity_id, document_id)`` of the audit events after ``event_id``, oldest first,
        at most ``limit`` (the annotation screen reads what changed since its last look from these)."""
        sql = "SELECT id, action, entity, entity_id, document_id FROM audit_events WHERE id > ? ORDER BY id LIMIT ?"
        return self._x(sql, (event_id, limit)).fetchall()

    def head_event_id(self) -> int:
        """The id of the latest audit event: every write records one, so it changes whenever the data does
        (a cache key for figures computed from the whole project)."""
        return self._x("SELECT coalesce(max(id), 0) FROM audit_events").fetchone()[0]

    def filter_events(
        self,
        *,
        user_id: int | None = None,
        action: str | None = None,
        entity: str | None = None,
        document_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 500,
    ) -> list[dict]:
        """Audit events matching every given filter, newest first (``since``/``until``: ISO timestamps)."""
        clauses, params = [], []
        for column, value in (("user_id", user_id), ("action", action), ("entity", entity), ("document_id", document_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since:
            clauses.append("at >= ?")
            params.append(since)
        if until:
            clauses.append("at < ?")
            params.append(until)
        return list(self.iter_events(" AND ".join(clauses), params, order=f"id DESC LIMIT {int(limit)}"))

    def event_vocabulary(self) -> dict[str, list[str]]:
        """The distinct actions and entities in the audit log (for filter menus)."""
        return {
            col: [r[col] for r in self.query(f"SELECT DISTINCT {col} FROM audit_events ORDER BY {col}")]
            for col in ("action", "entity")
        }

    def open_batch_events(self, user_id: int, batch: str) -> list[dict]:
        """This user's ``create span`` events carrying ``origin.tag_all == batch`` that no ``undo`` event names
        yet: the spans one Tag all made and that are still to undo, oldest first."""
        d = self.dialect
        return self.query(
            "SELECT e.id, e.entity_id, e.document_id FROM audit_events e WHERE e.user_id = ? AND e.action = 'create'"
            f" AND e.entity = 'span' AND {d.json_text('e.after', 'origin', 'tag_all')} = ? AND NOT EXISTS"
            " (SELECT 1 FROM audit_events u WHERE u.user_id = e.user_id AND u.action = 'undo'"
            f" AND u.document_id = e.document_id AND {d.json_int('u.after', 'undid')} = e.id) ORDER BY e.id",
            [user_id, batch],
        )
