"""The only place with SQL: connections, transactions, and queries returning dataclasses.

Connections are per thread (sqlite3 connections are tied to the thread that made them, and Streamlit runs
each session's script in its own thread). Every connection has foreign keys on, WAL and a busy timeout.
Writes go through :meth:`Store.write`, a ``BEGIN IMMEDIATE`` transaction: a deferred transaction that reads
and then writes fails at once with "database is locked" under WAL instead of waiting its turn.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from annotator import audit, keys
from annotator.errors import NotFound, StorageError
from annotator.models import (
    AnnotatedLayer,
    AuditEvent,
    Comment,
    Document,
    ExportDocument,
    ExportLink,
    ExportSpanRow,
    Label,
    Link,
    Project,
    Review,
    Span,
    User,
)
from annotator.schema import migrate
from annotator.text import fold_text

BUSY_TIMEOUT_MS = 10_000
DEFAULT_DB = "data/nisba.db"


def default_db_path() -> str:
    """The database path: ``$NISBA_DB`` or ``data/nisba.db``."""
    return os.environ.get("NISBA_DB") or DEFAULT_DB


def now() -> str:
    """UTC timestamp, ISO 8601 with microseconds, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _loads(value: str | None):
    # most spans have no attributes or origin: skip the JSON parser for them (review screens read thousands)
    return json.loads(value) if value and value != "{}" else {}


def _dumps(value) -> str:
    return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


_SPAN_SELECT = """
SELECT s.id, s.document_id, s.label_id, l.name AS label, s.annotator_id, s.start_offset, s.end_offset,
       s.text, s.attributes, s.layer, s.origin, s.created_at, s.updated_at, s.version
FROM spans s JOIN labels l ON l.id = s.label_id
"""


def _span(row) -> Span:
    return Span(
        id=row[0], document_id=row[1], label_id=row[2], label=row[3], annotator_id=row[4],
        start_offset=row[5], end_offset=row[6], text=row[7], attributes=_loads(row[8]), layer=row[9],
        origin=_loads(row[10]), created_at=row[11], updated_at=row[12], version=row[13],
    )  # fmt: skip


def _user(r: dict) -> User:
    return User(
        id=r["id"], username=r["username"], role=r["role"], display_name=r["display_name"], active=bool(r["active"]),
        origin=r["origin"],
    )  # fmt: skip


def _label(r: dict) -> Label:
    return Label(
        id=r["id"], project_id=r["project_id"], name=r["name"], kind=r["kind"], colour=r["colour"],
        hotkey=r["hotkey"], description=r["description"], attributes=_loads(r["attributes"]), position=r["position"],
    )  # fmt: skip


def _document(r: dict) -> Document:
    return Document(
        id=r["id"], project_id=r["project_id"], title=r["title"], text=r["text"], raw_text=r["raw_text"],
        text_sha256=r["text_sha256"], source=r["source"], metadata=_loads(r["metadata"]),
        position=r["position"], created_at=r["created_at"],
    )  # fmt: skip


def _link(r: dict) -> Link:
    return Link(
        id=r["id"], from_span_id=r["from_span_id"], to_span_id=r["to_span_id"], type=r["type"],
        annotator_id=r["annotator_id"], created_at=r["created_at"], version=r["version"],
    )  # fmt: skip


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting up to ``BUSY_TIMEOUT_MS`` while other connections write.

    SQLite's own busy handler backs off to 100 ms sleeps, so with many writers a waiting one keeps losing
    the lock to newcomers: with 20 writer processes some waited 29 s and gave up (benchmarks/bench_teams.py).
    Polling every few milliseconds, with jitter, gives every waiter the same chance (issue 3, concurrency).
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0.001, 0.004))
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


class Store:
    """A Nisba database file. Cheap to create; connections are opened lazily per thread."""

    def __init__(self, path: str | os.PathLike | None = None, *, migrate_schema: bool = True):
        self.path = str(path or default_db_path())
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._has_search_index: bool | None = None
        self._key: bytes | None = None  # the audit key, read on the first event this store records
        self._audit_keyed = False  # the chain has its switch event (read once, then kept)
        self._documents: dict[int, Document] = {}  # see get_document
        if migrate_schema:
            db = self.db
            db.conn.execute("PRAGMA journal_mode=WAL")
            migrate(db)
            if self._search_queued():  # rows queued by a migration (or by a writer outside the store)
                with self.write():
                    pass  # the commit folds the queue

    # ---- connections and transactions -------------------------------------------------------------

    @property
    def db(self) -> Database:
        """This thread's connection, as a sqlite-utils Database."""
        db = getattr(self._local, "db", None)
        if db is None:
            # isolation_level=None: the driver never opens transactions behind our back; write() does.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous=NORMAL")
            db = Database(conn)
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls become savepoints.

        Database errors (locked too long, disk full, read-only file) become :class:`StorageError`,
        after a rollback, so nothing half-written stays.
        """
        db = self.db
        conn = db.conn
        if conn.in_transaction:
            with db.atomic():
                yield db
            return
        try:
            _begin_immediate(conn)
        except sqlite3.OperationalError as exc:
            raise StorageError(f"The database is busy or cannot be written: {exc}") from exc
        self._local.switch_written = False
        try:
            yield db
            self._flush_search_queue()
            conn.execute("COMMIT")
            self._audit_keyed = self._audit_keyed or self._local.switch_written
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"The change was not saved: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def query(self, sql: str, params: Iterable = ()) -> list[dict]:
        """Rows of a read query as dicts."""
        return list(self.db.query(sql, list(params)))

    # ---- audit -----------------------------------------------------------------------------------

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
            if not self.db.conn.execute(
                "SELECT 1 FROM audit_events WHERE action = ? AND entity = ? LIMIT 1", audit.SWITCH
            ).fetchone():
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
        conn = self.db.conn
        row = conn.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
        prev = row[0] if row else audit.GENESIS
        event = {
            "at": now(), "user_id": user_id, "action": action, "entity": entity, "entity_id": entity_id,
            "document_id": document_id, "before": before, "after": after,
        }  # fmt: skip
        event["hash"] = audit.event_hash(prev, event, key)
        cur = conn.execute(
            "INSERT INTO audit_events (at, user_id, action, entity, entity_id, document_id, before, after, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event["at"], user_id, action, entity, entity_id, document_id,
                None if before is None else audit.canonical_json(before),
                None if after is None else audit.canonical_json(after), prev, event["hash"],
            ),
        )  # fmt: skip
        return AuditEvent(id=cur.lastrowid, prev_hash=prev, **event)

    def iter_events(self, where: str = "", params: Iterable = (), *, order: str = "id") -> Iterator[dict]:
        """Audit events as dicts with ``before``/``after`` decoded, in ``order``."""
        sql = "SELECT * FROM audit_events" + (f" WHERE {where}" if where else "") + f" ORDER BY {order}"
        for r in self.db.query(sql, list(params)):
            r["before"] = None if r["before"] is None else json.loads(r["before"])
            r["after"] = None if r["after"] is None else json.loads(r["after"])
            yield r

    def get_events(self, ids: Iterable[int]) -> list[dict]:
        """The audit events with these ids (decoded as :meth:`iter_events` does), in id order."""
        ids = [int(i) for i in ids]
        if not ids:
            return []
        return list(self.iter_events("id IN (SELECT value FROM json_each(?))", [json.dumps(ids)]))

    def user_event_ids_since(self, user_id: int, document_id: int, since: int) -> list[int]:
        """Ids of this user's events on the document after event ``since``, oldest first."""
        sql = "SELECT id FROM audit_events WHERE user_id = ? AND document_id = ? AND id > ? ORDER BY id"
        return [r[0] for r in self.db.conn.execute(sql, [user_id, document_id, since])]

    def last_user_events(self, user_id: int, document_id: int, limit: int = 200) -> list[dict]:
        """This user's latest events on a document, newest first (for undo)."""
        return list(
            self.iter_events("user_id = ? AND document_id = ?", [user_id, document_id], order="id DESC LIMIT " + str(int(limit)))
        )

    # ---- projects and users ------------------------------------------------------------------------

    def insert_project(self, name: str, description: str = "", settings: dict | None = None) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO projects (name, description, settings, created_at) VALUES (?, ?, ?, ?)",
            (name, description, _dumps(settings), now()),
        )
        return cur.lastrowid

    def get_project(self, project_id: int) -> Project:
        rows = self.query("SELECT * FROM projects WHERE id = ?", [project_id])
        if not rows:
            raise NotFound(f"There is no project {project_id}.")
        r = rows[0]
        return Project(id=r["id"], name=r["name"], description=r["description"], settings=_loads(r["settings"]))

    def project_by_name(self, name: str) -> Project | None:
        rows = self.query("SELECT id FROM projects WHERE name = ?", [name])
        return self.get_project(rows[0]["id"]) if rows else None

    def list_projects(self, user_id: int | None = None) -> list[Project]:
        """All projects, or only those ``user_id`` is a member of."""
        if user_id is None:
            rows = self.query("SELECT id FROM projects ORDER BY id")
        else:
            rows = self.query(
                "SELECT p.id FROM projects p JOIN project_members m ON m.project_id = p.id WHERE m.user_id = ? ORDER BY p.id",
                [user_id],
            )
        return [self.get_project(r["id"]) for r in rows]

    def update_project_settings(self, project_id: int, settings: dict) -> None:
        self.db.conn.execute("UPDATE projects SET settings = ? WHERE id = ?", (_dumps(settings), project_id))

    def get_guidelines(self, project_id: int) -> tuple[str, int]:
        """The project's annotation guidelines and their version (``("", 0)`` before the first edit)."""
        rows = self.query("SELECT body, version FROM project_guidelines WHERE project_id = ?", [project_id])
        return (rows[0]["body"], rows[0]["version"]) if rows else ("", 0)

    def set_guidelines(self, project_id: int, body: str, user_id: int | None) -> int:
        """Replace the project's guidelines; returns the new version. Call inside :meth:`write`."""
        self.db.conn.execute(
            "INSERT INTO project_guidelines (project_id, body, updated_by, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (project_id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at, version = project_guidelines.version + 1",
            (project_id, body, user_id, now()),
        )
        return self.get_guidelines(project_id)[1]

    def insert_user(
        self, username: str, role: str, display_name: str = "", password_hash: str | None = None, origin: str = ""
    ) -> int:
        """Insert an account (the caller checked the name with ``auth.check_username``); returns its id."""
        cur = self.db.conn.execute(
            "INSERT INTO users (username, display_name, role, password_hash, active, created_at, origin)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)",
            (username, display_name, role, password_hash, now(), origin),
        )
        return cur.lastrowid

    def get_user(self, user_id: int) -> User:
        rows = self.query("SELECT * FROM users WHERE id = ?", [user_id])
        if not rows:
            raise NotFound(f"There is no user {user_id}.")
        return _user(rows[0])

    def user_by_username(self, username: str) -> User | None:
        rows = self.query("SELECT * FROM users WHERE username = ?", [username])
        return _user(rows[0]) if rows else None

    def password_hash(self, user_id: int) -> str | None:
        rows = self.query("SELECT password_hash FROM users WHERE id = ?", [user_id])
        return rows[0]["password_hash"] if rows else None

    def list_users(self) -> list[User]:
        return [_user(r) for r in self.query("SELECT * FROM users ORDER BY id")]

    def update_user(self, user_id: int, **fields) -> None:
        """Set any of ``role``, ``display_name``, ``password_hash``, ``active``."""
        allowed = {"role", "display_name", "password_hash", "active"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update user fields {sorted(bad)}")
        if fields:
            cols = ", ".join(f"{k} = ?" for k in fields)
            self.db.conn.execute(f"UPDATE users SET {cols} WHERE id = ?", [*fields.values(), user_id])

    def add_member(self, project_id: int, user_id: int) -> None:
        self.db.conn.execute("INSERT OR IGNORE INTO project_members (project_id, user_id) VALUES (?, ?)", (project_id, user_id))

    def is_member(self, project_id: int, user_id: int) -> bool:
        return bool(self.query("SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ?", [project_id, user_id]))

    def list_members(self, project_id: int) -> list[User]:
        rows = self.query(
            "SELECT u.* FROM users u JOIN project_members m ON m.user_id = u.id WHERE m.project_id = ? ORDER BY u.id",
            [project_id],
        )
        return [_user(r) for r in rows]

    # ---- labels ----------------------------------------------------------------------------------

    def insert_label(self, project_id: int, label: dict) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO labels (project_id, name, kind, colour, hotkey, description, attributes, position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                project_id, label["name"], label.get("kind", "span"), label.get("colour", "#cccccc"),
                label.get("hotkey", ""), label.get("description", ""), _dumps(label.get("attributes")),
                label.get("position", 0),
            ),
        )  # fmt: skip
        return cur.lastrowid

    def list_labels(self, project_id: int) -> list[Label]:
        return [_label(r) for r in self.query("SELECT * FROM labels WHERE project_id = ? ORDER BY position, id", [project_id])]

    def get_label(self, label_id: int) -> Label:
        rows = self.query("SELECT * FROM labels WHERE id = ?", [label_id])
        if not rows:
            raise NotFound(f"There is no label {label_id}.")
        return _label(rows[0])

    def update_label(self, label_id: int, **fields) -> None:
        """Set any of ``name``, ``kind``, ``colour``, ``hotkey``, ``description``, ``attributes``, ``position``."""
        allowed = {"name", "kind", "colour", "hotkey", "description", "attributes", "position"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update label fields {sorted(bad)}")
        if "attributes" in fields:
            fields["attributes"] = _dumps(fields["attributes"])
        if fields:
            cols = ", ".join(f"{k} = ?" for k in fields)
            self.db.conn.execute(f"UPDATE labels SET {cols} WHERE id = ?", [*fields.values(), label_id])

    def delete_label(self, label_id: int) -> None:
        self.db.conn.execute("DELETE FROM labels WHERE id = ?", (label_id,))

    def count_label_spans(self, label_id: int) -> int:
        return self.db.conn.execute("SELECT count(*) FROM spans WHERE label_id = ?", (label_id,)).fetchone()[0]

    # ---- documents -------------------------------------------------------------------------------

    def insert_document(
        self, project_id: int, title: str, text: str, raw_text: str, text_sha256: str,
        source: str = "", metadata: dict | None = None,
    ) -> int:  # fmt: skip
        conn = self.db.conn
        pos = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM documents WHERE project_id = ?", (project_id,)).fetchone()[
            0
        ]
        cur = conn.execute(
            "INSERT INTO documents (project_id, title, text, raw_text, text_sha256, source, metadata, position, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (project_id, title, text, raw_text, text_sha256, source, _dumps(metadata), pos, now()),
        )
        return cur.lastrowid

    def get_document(self, document_id: int) -> Document:
        """One document. Documents are never changed or deleted, so the last few read outside a transaction
        are kept (every save checks access through its document: re-reading a 100,000-character text cost
        about 1 ms each time, four times per tag); reads inside a transaction are not kept, since it may
        still roll back."""
        cached = self._documents.get(document_id)
        if cached is not None:
            return cached
        rows = self.query("SELECT * FROM documents WHERE id = ?", [document_id])
        if not rows:
            raise NotFound(f"There is no document {document_id}.")
        doc = _document(rows[0])
        if not self.db.conn.in_transaction:
            if len(self._documents) >= 16:
                self._documents.pop(next(iter(self._documents)), None)
            self._documents[document_id] = doc
        return doc

    def list_documents(self, project_id: int) -> list[Document]:
        return [
            _document(r) for r in self.query("SELECT * FROM documents WHERE project_id = ? ORDER BY position, id", [project_id])
        ]

    def document_ids_by_sha(self, project_id: int) -> dict[str, int]:
        return {
            r["text_sha256"]: r["id"]
            for r in self.query("SELECT id, text_sha256 FROM documents WHERE project_id = ?", [project_id])
        }

    def document_overview(self, project_id: int, user_id: int | None, layer: str = "annotator") -> list[dict]:
        """Per document: id, title, position, span counts per label (for ``user_id``'s layer, or all), status."""
        docs = self.query("SELECT id, title, position FROM documents WHERE project_id = ? ORDER BY position, id", [project_id])
        where = "d.project_id = ? AND s.layer = ?"
        params: list = [project_id, layer]
        if user_id is not None:
            where += " AND s.annotator_id = ?"
            params.append(user_id)
        counts: dict[int, dict[str, int]] = {}
        for r in self.query(
            f"SELECT s.document_id, l.name, count(*) AS n FROM spans s JOIN labels l ON l.id = s.label_id"
            f" JOIN documents d ON d.id = s.document_id WHERE {where} GROUP BY s.document_id, l.name",
            params,
        ):
            counts.setdefault(r["document_id"], {})[r["name"]] = r["n"]
        status: dict[int, str] = {}
        if user_id is not None:
            for r in self.query(
                "SELECT ds.document_id, ds.status FROM document_status ds JOIN documents d ON d.id = ds.document_id"
                " WHERE d.project_id = ? AND ds.user_id = ?",
                [project_id, user_id],
            ):
                status[r["document_id"]] = r["status"]
        return [{**d, "counts": counts.get(d["id"], {}), "status": status.get(d["id"], "")} for d in docs]

    def set_status(self, document_id: int, user_id: int, status: str) -> None:
        self.db.conn.execute(
            "INSERT INTO document_status (document_id, user_id, status, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (document_id, user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            (document_id, user_id, status, now()),
        )

    def get_status(self, document_id: int, user_id: int) -> str:
        rows = self.query("SELECT status FROM document_status WHERE document_id = ? AND user_id = ?", [document_id, user_id])
        return rows[0]["status"] if rows else ""

    # ---- spans -----------------------------------------------------------------------------------

    def insert_span(
        self, document_id: int, label_id: int, annotator_id: int, start: int, end: int, text: str,
        attributes: dict | None = None, layer: str = "annotator", origin: dict | None = None,
        created_at: str | None = None,
    ) -> int:  # fmt: skip
        t = created_at or now()
        cur = self.db.conn.execute(
            "INSERT INTO spans (document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes,"
            " origin, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (document_id, label_id, annotator_id, layer, start, end, text, _dumps(attributes), _dumps(origin), t, t),
        )
        return cur.lastrowid

    def restore_span(self, span: dict) -> None:
        """Re-insert a deleted span with its original id (undo)."""
        self.db.conn.execute(
            "INSERT INTO spans (id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes,"
            " origin, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                span["id"], span["document_id"], span["label_id"], span["annotator_id"], span.get("layer", "annotator"),
                span["start_offset"], span["end_offset"], span["text"], _dumps(span.get("attributes")),
                _dumps(span.get("origin")), span["created_at"], now(), span.get("version", 1) + 1,
            ),
        )  # fmt: skip

    def get_span(self, span_id: int) -> Span:
        row = self.db.conn.execute(_SPAN_SELECT + " WHERE s.id = ?", (span_id,)).fetchone()
        if row is None:
            raise NotFound(f"There is no span {span_id}.")
        return _span(row)

    def list_spans(
        self,
        document_id: int,
        *,
        annotator_ids: Iterable[int] | None = None,
        layer: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[Span]:
        """Spans of a document in reading order, optionally for some annotators, one layer, or some span ids."""
        sql = _SPAN_SELECT + " WHERE s.document_id = ?"
        params: list = [document_id]
        if ids is not None:
            wanted = sorted(set(ids))
            if not wanted:
                return []
            if len(wanted) > 500:  # past SQLite's parameter limits a scan of the document is as fast
                keep = set(wanted)
                return [s for s in self.list_spans(document_id, annotator_ids=annotator_ids, layer=layer) if s.id in keep]
            sql += f" AND s.id IN ({','.join('?' * len(wanted))})"
            params += wanted
        if annotator_ids is not None:
            ids = list(annotator_ids)
            if not ids:
                return []
            sql += f" AND s.annotator_id IN ({','.join('?' * len(ids))})"
            params += ids
        if layer is not None:
            sql += " AND s.layer = ?"
            params.append(layer)
        sql += " ORDER BY s.start_offset, s.end_offset DESC, s.id"
        return [_span(r) for r in self.db.conn.execute(sql, params)]

    def span_stamps(
        self, document_id: int, *, annotator_ids: Iterable[int] | None = None, layer: str | None = None
    ) -> dict[int, tuple[int, str]]:
        """``{id: (version, created_at)}`` of a document's spans (same filters as :meth:`list_spans`): what the
        annotation screen compares to find changed spans without reading them (about 2 ms for 5,000 spans)."""
        sql = "SELECT id, version, created_at FROM spans WHERE document_id = ?"
        params: list = [document_id]
        if annotator_ids is not None:
            who = list(annotator_ids)
            if not who:
                return {}
            sql += f" AND annotator_id IN ({','.join('?' * len(who))})"
            params += who
        if layer is not None:
            sql += " AND layer = ?"
            params.append(layer)
        return {r[0]: (r[1], r[2]) for r in self.db.conn.execute(sql, params)}

    def update_span(self, span_id: int, expected_version: int, **fields) -> bool:
        """Update ``label_id``, ``start_offset``, ``end_offset``, ``text``, ``attributes`` if the version still
        matches; returns False (and changes nothing) when a colleague changed it first."""
        allowed = {"label_id", "start_offset", "end_offset", "text", "attributes"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update span fields {sorted(bad)}")
        if "attributes" in fields:
            fields["attributes"] = _dumps(fields["attributes"])
        cols = "".join(f"{k} = ?, " for k in fields)
        cur = self.db.conn.execute(
            f"UPDATE spans SET {cols}updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
            [*fields.values(), now(), span_id, expected_version],
        )
        return cur.rowcount == 1

    def delete_span(self, span_id: int, expected_version: int | None = None) -> bool:
        if expected_version is None:
            cur = self.db.conn.execute("DELETE FROM spans WHERE id = ?", (span_id,))
        else:
            cur = self.db.conn.execute("DELETE FROM spans WHERE id = ? AND version = ?", (span_id, expected_version))
        return cur.rowcount == 1

    def span_exists(self, span_id: int) -> bool:
        """True when a span with this id is in the table."""
        return self.db.conn.execute("SELECT 1 FROM spans WHERE id = ?", (span_id,)).fetchone() is not None

    def span_row(self, span_id: int) -> dict:
        """The raw row of a span (for audit before/after and undo)."""
        rows = self.query("SELECT * FROM spans WHERE id = ?", [span_id])
        if not rows:
            raise NotFound(f"There is no span {span_id}.")
        r = rows[0]
        r["attributes"] = _loads(r["attributes"])
        r["origin"] = _loads(r["origin"])
        return r

    # ---- links -----------------------------------------------------------------------------------

    def insert_link(self, from_span_id: int, to_span_id: int, type_: str, annotator_id: int, link_id: int | None = None) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO links (id, from_span_id, to_span_id, type, annotator_id, created_at, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
            (link_id, from_span_id, to_span_id, type_, annotator_id, now()),
        )
        return cur.lastrowid

    def get_link(self, link_id: int) -> Link:
        rows = self.query("SELECT * FROM links WHERE id = ?", [link_id])
        if not rows:
            raise NotFound(f"There is no link {link_id}.")
        return _link(rows[0])

    def find_link(self, from_span_id: int, to_span_id: int, type_: str) -> Link | None:
        rows = self.query(
            "SELECT * FROM links WHERE from_span_id = ? AND to_span_id = ? AND type = ?", [from_span_id, to_span_id, type_]
        )
        return _link(rows[0]) if rows else None

    def list_links(self, document_id: int) -> list[Link]:
        rows = self.query(
            "SELECT k.* FROM links k JOIN spans s ON s.id = k.from_span_id WHERE s.document_id = ? ORDER BY k.id", [document_id]
        )
        return [_link(r) for r in rows]

    def links_of_span(self, span_id: int) -> list[Link]:
        rows = self.query("SELECT * FROM links WHERE from_span_id = ? OR to_span_id = ? ORDER BY id", [span_id, span_id])
        return [_link(r) for r in rows]

    def delete_link(self, link_id: int) -> bool:
        return self.db.conn.execute("DELETE FROM links WHERE id = ?", (link_id,)).rowcount == 1

    # ---- review: decisions, comments, gold adoption, progress and agreement data (issue 3) -------------

    def get_review(self, entity: str, entity_id: int) -> Review | None:
        """The current decision on a span or link, or None when nobody decided yet."""
        rows = self.query("SELECT * FROM reviews WHERE entity = ? AND entity_id = ?", [entity, entity_id])
        return Review(**rows[0]) if rows else None

    def list_reviews(self, document_id: int) -> list[Review]:
        return [Review(**r) for r in self.query("SELECT * FROM reviews WHERE document_id = ? ORDER BY id", [document_id])]

    def insert_review(
        self, entity: str, entity_id: int, document_id: int, reviewer_id: int, decision: str, entity_version: int
    ) -> int:
        t = now()
        cur = self.db.conn.execute(
            "INSERT INTO reviews (entity, entity_id, document_id, reviewer_id, decision, entity_version, created_at, updated_at, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (entity, entity_id, document_id, reviewer_id, decision, entity_version, t, t),
        )
        return cur.lastrowid

    def update_review(self, review_id: int, expected_version: int, reviewer_id: int, decision: str, entity_version: int) -> bool:
        """Change a decision if its version still matches; False (nothing changed) when a colleague was first."""
        cur = self.db.conn.execute(
            "UPDATE reviews SET reviewer_id = ?, decision = ?, entity_version = ?, updated_at = ?, version = version + 1"
            " WHERE id = ? AND version = ?",
            (reviewer_id, decision, entity_version, now(), review_id, expected_version),
        )
        return cur.rowcount == 1

    def insert_comment(self, entity: str, entity_id: int, document_id: int, author_id: int, body: str) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO comments (entity, entity_id, document_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (entity, entity_id, document_id, author_id, body, now()),
        )
        return cur.lastrowid

    def list_comments(self, document_id: int, entity: str | None = None, entity_id: int | None = None) -> list[Comment]:
        """Comments of a document (optionally on one span or link), oldest first."""
        sql, params = "SELECT * FROM comments WHERE document_id = ?", [document_id]
        if entity is not None:
            sql += " AND entity = ? AND entity_id = ?"
            params += [entity, entity_id]
        return [Comment(**r) for r in self.query(sql + " ORDER BY id", params)]

    def find_gold_span(self, document_id: int, label_id: int, start: int, end: int) -> Span | None:
        """The gold span with exactly these offsets and label, if any."""
        row = self.db.conn.execute(
            _SPAN_SELECT
            + " WHERE s.document_id = ? AND s.layer = 'gold' AND s.label_id = ? AND s.start_offset = ? AND s.end_offset = ?"
            " ORDER BY s.id LIMIT 1",
            (document_id, label_id, start, end),
        ).fetchone()
        return _span(row) if row else None

    def document_annotator_ids(self, document_id: int) -> list[int]:
        """Whose layers a document has: authors of annotator-layer spans, and annotators with a status row
        (someone who submitted an empty layer still counts: they found nothing to tag)."""
        rows = self.query(
            "SELECT annotator_id AS uid FROM spans WHERE document_id = ? AND layer = 'annotator'"
            " UNION SELECT ds.user_id FROM document_status ds JOIN users u ON u.id = ds.user_id"
            " WHERE ds.document_id = ? AND u.role = 'annotator' ORDER BY uid",
            [document_id, document_id],
        )
        return [r["uid"] for r in rows]

    def project_status_rows(self, project_id: int) -> list[dict]:
        """Per document and annotator: status and counts of spans, decided spans and rejected spans."""
        return self.query(
            """
            WITH layer AS (
                SELECT s.document_id, s.annotator_id AS user_id, count(*) AS spans,
                       count(r.id) AS decided, sum(r.decision = 'rejected') AS rejected
                FROM spans s JOIN documents d ON d.id = s.document_id
                LEFT JOIN reviews r ON r.entity = 'span' AND r.entity_id = s.id
                WHERE d.project_id = ? AND s.layer = 'annotator'
                GROUP BY s.document_id, s.annotator_id
            ), who AS (
                SELECT document_id, user_id FROM layer
                UNION SELECT ds.document_id, ds.user_id FROM document_status ds
                JOIN documents d ON d.id = ds.document_id JOIN users u ON u.id = ds.user_id
                WHERE d.project_id = ? AND u.role = 'annotator'
            )
            SELECT w.document_id, d.title, d.position, w.user_id, coalesce(ds.status, 'in_progress') AS status,
                   coalesce(l.spans, 0) AS spans, coalesce(l.decided, 0) AS decided, coalesce(l.rejected, 0) AS rejected
            FROM who w JOIN documents d ON d.id = w.document_id
            LEFT JOIN layer l ON l.document_id = w.document_id AND l.user_id = w.user_id
            LEFT JOIN document_status ds ON ds.document_id = w.document_id AND ds.user_id = w.user_id
            ORDER BY d.position, d.id, w.user_id
            """,
            [project_id, project_id],
        )

    def project_annotator_spans(self, project_id: int) -> list[tuple]:
        """All annotator-layer spans of a project as plain tuples, for agreement figures:
        (document_id, span_id, annotator_id, label, start, end, attributes JSON)."""
        return self.db.conn.execute(
            "SELECT s.document_id, s.id, s.annotator_id, l.name, s.start_offset, s.end_offset, s.attributes"
            " FROM spans s JOIN labels l ON l.id = s.label_id JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND s.layer = 'annotator' ORDER BY s.document_id, s.start_offset, s.id",
            (project_id,),
        ).fetchall()

    def project_annotator_links(self, project_id: int) -> list[tuple]:
        """All links between annotator-layer spans of a project: (document_id, link_id, annotator_id, type,
        from_span_id, to_span_id)."""
        return self.db.conn.execute(
            "SELECT s.document_id, k.id, k.annotator_id, k.type, k.from_span_id, k.to_span_id"
            " FROM links k JOIN spans s ON s.id = k.from_span_id JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND s.layer = 'annotator' ORDER BY k.id",
            (project_id,),
        ).fetchall()

    def project_document_annotators(self, project_id: int) -> list[tuple]:
        """(document_id, annotator_id) pairs: whose layers each document of the project has (see
        :meth:`document_annotator_ids`)."""
        return self.db.conn.execute(
            "SELECT s.document_id, s.annotator_id FROM spans s JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND s.layer = 'annotator'"
            " UNION SELECT ds.document_id, ds.user_id FROM document_status ds JOIN documents d ON d.id = ds.document_id"
            " JOIN users u ON u.id = ds.user_id WHERE d.project_id = ? AND u.role = 'annotator'",
            (project_id, project_id),
        ).fetchall()

    def project_texts(self, project_id: int) -> dict[int, str]:
        """Document id → canonical text, for every document of the project."""
        return dict(self.db.conn.execute("SELECT id, text FROM documents WHERE project_id = ?", (project_id,)).fetchall())

    def events_after(self, event_id: int, limit: int = 1000) -> list[tuple]:
        """``(id, action, entity, entity_id, document_id)`` of the audit events after ``event_id``, oldest first,
        at most ``limit`` (the annotation screen reads what changed since its last look from these)."""
        sql = "SELECT id, action, entity, entity_id, document_id FROM audit_events WHERE id > ? ORDER BY id LIMIT ?"
        return self.db.conn.execute(sql, (event_id, limit)).fetchall()

    def head_event_id(self) -> int:
        """The id of the latest audit event: every write records one, so it changes whenever the data does
        (a cache key for figures computed from the whole project)."""
        return self.db.conn.execute("SELECT coalesce(max(id), 0) FROM audit_events").fetchone()[0]

    # ---- accounts: sessions, failed-login throttling, admins, membership, audit listing (issue 3) ---------

    def session_generation(self, user_id: int) -> int:
        """The user's session generation: tokens signed with an older value are no longer valid."""
        rows = self.query("SELECT session_generation FROM users WHERE id = ?", [user_id])
        if not rows:
            raise NotFound(f"There is no user {user_id}.")
        return rows[0]["session_generation"]

    def bump_session_generation(self, user_id: int) -> None:
        self.db.conn.execute("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?", (user_id,))

    def login_attempt(self, key: str) -> dict | None:
        """The failure count of ``key`` ("user:NAME" / "client:ADDRESS"): failures, last_failure_at, blocked_until."""
        rows = self.query("SELECT failures, last_failure_at, blocked_until FROM login_attempts WHERE key = ?", [key])
        return rows[0] if rows else None

    def save_login_attempt(self, key: str, failures: int, last_failure_at: float, blocked_until: float) -> None:
        self.db.conn.execute(
            "INSERT INTO login_attempts (key, failures, last_failure_at, blocked_until) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,"
            " blocked_until = excluded.blocked_until",
            (key, failures, last_failure_at, blocked_until),
        )

    def clear_login_attempt(self, key: str) -> None:
        self.db.conn.execute("DELETE FROM login_attempts WHERE key = ?", (key,))

    def count_active_admins(self) -> int:
        """Active admins that can log in (have a password)."""
        return self.db.conn.execute(
            "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND password_hash IS NOT NULL"
        ).fetchone()[0]

    def remove_member(self, project_id: int, user_id: int) -> bool:
        cur = self.db.conn.execute("DELETE FROM project_members WHERE project_id = ? AND user_id = ?", (project_id, user_id))
        return cur.rowcount == 1

    def member_project_ids(self, user_id: int) -> list[int]:
        rows = self.query("SELECT project_id FROM project_members WHERE user_id = ? ORDER BY project_id", [user_id])
        return [r["project_id"] for r in rows]

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

    # ---- import/export (issue 4): bulk writes for imports, streaming reads for exports ------------------
    # Imports write thousands of rows in one transaction, so they use executemany with ids assigned up
    # front (safe: the caller holds the BEGIN IMMEDIATE write lock). Exports stream rows from a cursor.

    def next_ids(self, table: str) -> int:
        """The next free id of ``documents``, ``spans`` or ``links`` (call inside :meth:`write`)."""
        if table not in ("documents", "spans", "links"):
            raise ValueError(f"no id allocation for {table!r}")
        return self.db.conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    def iter_import_rows(self, first_span: int, last_span: int, first_link: int, last_link: int) -> Iterator[tuple]:
        """An import's own rows for its digests, one at a time, ordered by document, spans before links, by id:
        (document_id, "span", id, *span content) or (document_id, "link", id, *link content), the content as
        :meth:`replay_rows` gives it."""
        conn = self.db.conn
        spans = conn.execute(
            "SELECT document_id, id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes"
            " FROM spans WHERE id BETWEEN ? AND ? ORDER BY document_id, id",
            (first_span, last_span),
        )
        links = conn.cursor().execute(
            "SELECT s.document_id, k.id, k.from_span_id, k.to_span_id, k.type, k.annotator_id FROM links k"
            " JOIN spans s ON s.id = k.from_span_id WHERE k.id BETWEEN ? AND ? ORDER BY s.document_id, k.id",
            (first_link, last_link),
        )
        pending = next(links, None)
        for r in spans:
            while pending is not None and pending[0] < r[0]:
                yield (pending[0], "link", *pending[1:])
                pending = next(links, None)
            attrs = "{}" if r[9] in ("{}", "", None) else audit.canonical_json(_loads(r[9]))
            yield (r[0], "span", r[1], *r[2:9], attrs)
        while pending is not None:
            yield (pending[0], "link", *pending[1:])
            pending = next(links, None)

    def replay_rows(self, first_span: int = 1, first_link: int = 1, last_span: int | None = None,
                    last_link: int | None = None) -> tuple[dict[int, tuple], dict[int, tuple], dict[tuple, tuple]]:  # fmt: skip
        """Content rows for :mod:`annotator.audit_replay`: spans by id as (document_id, label_id, annotator_id, layer,
        start_offset, end_offset, text, attributes JSON), links by id as (from_span_id, to_span_id, type,
        annotator_id), review decisions by (entity, entity_id) as (reviewer_id, decision, version). Ids limited to
        ``[first, last]`` when given (an import's own rows); reviews only for the full read."""
        hi_s, hi_l = last_span if last_span is not None else 1 << 62, last_link if last_link is not None else 1 << 62
        conn = self.db.conn
        spans = {
            r[0]: (r[1], r[2], r[3], r[4], r[5], r[6], r[7], "{}" if r[8] in ("{}", "", None) else audit.canonical_json(_loads(r[8])))
            for r in conn.execute(
                "SELECT id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes FROM spans"
                " WHERE id BETWEEN ? AND ? ORDER BY id", (first_span, hi_s),
            )
        }  # fmt: skip
        links = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                "SELECT id, from_span_id, to_span_id, type, annotator_id FROM links WHERE id BETWEEN ? AND ? ORDER BY id",
                (first_link, hi_l),
            )
        }
        reviews = {}
        if last_span is None:
            reviews = {
                (r[0], r[1]): tuple(r[2:])
                for r in conn.execute("SELECT entity, entity_id, reviewer_id, decision, version FROM reviews")
            }
        return spans, links, reviews

    def next_document_position(self, project_id: int) -> int:
        return self.db.conn.execute(
            "SELECT coalesce(max(position), 0) + 1 FROM documents WHERE project_id = ?", (project_id,)
        ).fetchone()[0]

    @contextmanager
    def bulk_cache(self, mebibytes: int = 128) -> Iterator[None]:
        """A larger page cache on this connection while a bulk import inserts (the index pages of a 100,000-span
        insert otherwise leave and re-enter the default 2 MB cache); the old size comes back afterwards."""
        conn = self.db.conn
        old = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size={-1024 * int(mebibytes)}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size={int(old)}")

    def bulk_insert_documents(self, rows: Iterable[tuple]) -> None:
        """Rows of (id, project_id, title, text, raw_text, text_sha256, source, metadata_json, position, created_at)."""
        self.db.conn.executemany(
            "INSERT INTO documents (id, project_id, title, text, raw_text, text_sha256, source, metadata, position, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def bulk_insert_spans(self, rows: Iterable[tuple]) -> None:
        """Rows of (id, document_id, label_id, annotator_id, layer, start, end, text, attributes_json, origin_json,
        created_at, updated_at)."""
        self.db.conn.executemany(
            "INSERT INTO spans (id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes,"
            " origin, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            rows,
        )

    def bulk_insert_links(self, rows: Iterable[tuple]) -> None:
        """Rows of (from_span_id, to_span_id, type, annotator_id, created_at); repeats are ignored."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO links (from_span_id, to_span_id, type, annotator_id, created_at, version)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            rows,
        )

    def bulk_set_status(self, rows: Iterable[tuple]) -> None:
        """Rows of (document_id, user_id, status, updated_at); an existing status is kept."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO document_status (document_id, user_id, status, updated_at) VALUES (?, ?, ?, ?)", rows
        )

    def annotated_documents(self, project_id: int) -> set[AnnotatedLayer]:
        """Every (document, annotator, layer) that already has spans in the project."""
        rows = self.db.conn.execute(
            "SELECT DISTINCT s.document_id, s.annotator_id, s.layer FROM spans s JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ?",
            (project_id,),
        )
        return set(map(AnnotatedLayer._make, rows))

    def has_table(self, name: str) -> bool:
        return bool(self.db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone())

    def _has_reviews(self) -> bool:
        # The reviews table comes with issue 3; exports fill review columns only when it exists.
        if not self.has_table("reviews"):
            return False
        cols = {r[1] for r in self.db.conn.execute("PRAGMA table_info(reviews)")}
        return {"entity", "entity_id", "decision", "reviewer_id"} <= cols

    @staticmethod
    def _span_filter_sql(
        project_id: int, document_ids=None, annotator_ids=None, layer=None, labels=None,
        date_from=None, date_to=None, review_status=None, has_reviews=False,
    ) -> tuple[str, list]:  # fmt: skip
        where = ["d.project_id = ?"]
        params: list = [project_id]
        for column, values in (("s.document_id", document_ids), ("s.annotator_id", annotator_ids), ("l.name", labels)):
            if values is not None:
                values = list(values)
                where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
                params += values
        if layer is not None:
            where.append("s.layer = ?")
            params.append(layer)
        if date_from:
            where.append("s.updated_at >= ?")
            params.append(date_from)
        if date_to:
            where.append("s.updated_at < ?")
            params.append(date_to)
        if review_status:
            if not has_reviews:
                where.append("0" if review_status != "unreviewed" else "1")
            elif review_status == "unreviewed":
                where.append("r.decision IS NULL")
            else:
                where.append("r.decision = ?")
                params.append(review_status)
        return " AND ".join(where), params

    def iter_export_spans(self, project_id: int, **filters) -> Iterator[ExportSpanRow]:
        """Spans of the project matching the filters, in document order, as :class:`ExportSpanRow`.

        ``filters``: document_ids, annotator_ids, layer, labels, date_from, date_to (on updated_at),
        review_status ('accepted' | 'rejected' | 'unreviewed'). Source and cue come from the span's
        ``attributed_to`` and ``cue`` links, several joined with '\\x1f'.
        """
        has_reviews = self._has_reviews()
        where, params = self._span_filter_sql(project_id, has_reviews=has_reviews, **filters)
        review_cols = "r.decision, ru.username" if has_reviews else "NULL, NULL"
        review_join = (
            " LEFT JOIN reviews r ON r.entity = 'span' AND r.entity_id = s.id LEFT JOIN users ru ON ru.id = r.reviewer_id"
            if has_reviews
            else ""
        )
        sql = f"""
            SELECT s.id, s.document_id, l.name, l.kind, u.username, s.layer, s.start_offset, s.end_offset, s.text,
                   s.attributes, s.created_at, s.updated_at, {review_cols},
                   (SELECT group_concat(k.to_span_id, char(31)) FROM links k
                     WHERE k.from_span_id = s.id AND k.type = 'attributed_to'),
                   (SELECT group_concat(t.text, char(31)) FROM links k JOIN spans t ON t.id = k.to_span_id
                     WHERE k.from_span_id = s.id AND k.type = 'attributed_to'),
                   (SELECT group_concat(t.text, char(31)) FROM links k JOIN spans t ON t.id = k.to_span_id
                     WHERE k.from_span_id = s.id AND k.type = 'cue'),
                   (SELECT group_concat(k.to_span_id, char(31)) FROM links k
                     WHERE k.from_span_id = s.id AND k.type = 'cue'),
                   s.origin
            FROM spans s JOIN documents d ON d.id = s.document_id JOIN labels l ON l.id = s.label_id
            JOIN users u ON u.id = s.annotator_id{review_join}
            WHERE {where}
            ORDER BY d.position, d.id, s.layer, s.annotator_id, s.start_offset, s.end_offset DESC, s.id"""
        yield from map(ExportSpanRow._make, self.db.conn.execute(sql, params))

    def iter_export_links(self, project_id: int, **filters) -> Iterator[ExportLink]:
        """Links whose ``from`` span matches the filters, by id."""
        has_reviews = self._has_reviews()
        where, params = self._span_filter_sql(project_id, has_reviews=has_reviews, **filters)
        review_join = " LEFT JOIN reviews r ON r.entity = 'span' AND r.entity_id = s.id" if has_reviews else ""
        sql = (
            "SELECT k.id, k.from_span_id, k.to_span_id, k.type FROM links k JOIN spans s ON s.id = k.from_span_id"
            f" JOIN documents d ON d.id = s.document_id JOIN labels l ON l.id = s.label_id{review_join}"
            f" WHERE {where} ORDER BY k.id"
        )
        yield from map(ExportLink._make, self.db.conn.execute(sql, params))

    def iter_export_documents(self, project_id: int, document_ids=None) -> Iterator[ExportDocument]:
        """The project's documents (or those of ``document_ids``) in document order."""
        sql = "SELECT id, title, text, text_sha256, source, metadata, created_at FROM documents WHERE project_id = ?"
        params: list = [project_id]
        if document_ids is not None:
            ids = list(document_ids)
            sql += f" AND id IN ({','.join('?' * len(ids))})" if ids else " AND 0"
            params += ids
        yield from map(ExportDocument._make, self.db.conn.execute(sql + " ORDER BY position, id", params))

    def document_header(self, document_id: int) -> tuple[str, str, str]:
        """(title, text, text_sha256) of a document, for exports that walk spans."""
        row = self.db.conn.execute("SELECT title, text, text_sha256 FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise NotFound(f"There is no document {document_id}.")
        return row

    def span_attribute_names(self, project_id: int) -> list[str]:
        """Attribute names used on spans of the project (beyond the label definitions), sorted."""
        rows = self.db.conn.execute(
            "SELECT DISTINCT j.key FROM spans s JOIN documents d ON d.id = s.document_id, json_each(s.attributes) j"
            " WHERE d.project_id = ? ORDER BY j.key",
            (project_id,),
        )
        return [r[0] for r in rows]

    def project_annotators(self, project_id: int) -> list[tuple[int, str]]:
        """(user id, username) of everyone with spans in the project."""
        rows = self.db.conn.execute(
            "SELECT DISTINCT u.id, u.username FROM spans s JOIN documents d ON d.id = s.document_id"
            " JOIN users u ON u.id = s.annotator_id WHERE d.project_id = ? ORDER BY u.id",
            (project_id,),
        )
        return [tuple(r) for r in rows]

    def project_span_count(self, project_id: int) -> int:
        """How many spans the project holds (for export progress bars)."""
        return self.db.conn.execute(
            "SELECT count(*) FROM spans s JOIN documents d ON d.id = s.document_id WHERE d.project_id = ?", (project_id,)
        ).fetchone()[0]

    def first_active_admin(self) -> User | None:
        """The active admin with the lowest id (the command line acts as this user)."""
        rows = self.query("SELECT * FROM users WHERE role = 'admin' AND active = 1 ORDER BY id LIMIT 1")
        return _user(rows[0]) if rows else None

    # ---- end of import/export section ----------------------------------------------------------------

    # ---- search index (issue 12): folded text of documents, FTS5 over it ----------------------------------
    # Triggers (schema.m_search_index) queue every inserted document in search_pending;
    # each write transaction folds its queue before it commits, so the index is current after add, edit,
    # delete, undo, adoption and import alike, whichever function wrote.

    def _search_queued(self) -> bool:
        if self._has_search_index is None:
            self._has_search_index = self.has_table("search_pending")
        if not self._has_search_index:
            return False
        return self.db.conn.execute("SELECT 1 FROM search_pending LIMIT 1").fetchone() is not None

    def _flush_search_queue(self) -> int:
        """Fold what the triggers queued into ``search_folded`` (the FTS5 tables follow by trigger); returns how
        many rows were folded. Runs inside the write transaction, just before it commits."""
        if not self._search_queued():
            return 0
        conn = self.db.conn
        conn.execute(
            "DELETE FROM search_folded WHERE id IN (SELECT f.id FROM search_pending p JOIN search_folded f"
            " ON f.kind = p.kind AND f.ref_id = p.ref_id)"
        )
        # folded one document at a time from the cursor: an import of 10,000 documents held all their texts
        # at once here (~40 MB of Python strings for a 42 MB file; issue 7 wants an import's memory flat)
        pending = conn.cursor().execute(
            "SELECT 'doc', d.id, d.id, d.text FROM search_pending p JOIN documents d ON p.kind = 'doc' AND d.id = p.ref_id"
        )
        count = 0

        def folded():
            nonlocal count
            for kind, ref, doc, text in pending:
                count += 1
                yield kind, ref, doc, fold_text(text)

        conn.executemany("INSERT INTO search_folded (kind, ref_id, document_id, folded) VALUES (?, ?, ?, ?)", folded())
        conn.execute("DELETE FROM search_pending")
        return count

    def rebuild_search_index(self) -> int:
        """Fold every document again (after a change of the folding rules); returns the row count."""
        with self.write() as db:
            db.conn.execute("DELETE FROM search_folded")
            db.conn.execute("INSERT OR IGNORE INTO search_pending (kind, ref_id) SELECT 'doc', id FROM documents")
            return self._flush_search_queue()

    @staticmethod
    def _search_clause(match: str | None, contains: list[list[str]]) -> tuple[str, str, list]:
        """(from, where, params) selecting ``search_folded f`` rows: an FTS5 ``match`` on the word index, and/or
        folded text containing, for each list of ``contains``, one of its strings (parts of words in spans: a
        trigram index for them cost three times the word index to build)."""
        source, where, params = "search_folded f", [], []
        if match:
            # CROSS JOIN keeps the FTS5 table as the outer loop: otherwise the planner may walk search_folded and
            # ask the FTS table about each row (0.7 s for a word that is nowhere, against 1 ms)
            source = "search_words CROSS JOIN search_folded f ON search_words.rowid = f.id"
            where.append("search_words MATCH ?")
            params.append(match)
        for forms in contains:
            where.append("(" + " OR ".join(["instr(f.folded, ?) > 0"] * len(forms)) + ")")
            params += forms
        return source, " AND ".join(where) or "1", params

    def project_document_order(self, project_id: int, document_ids=None) -> dict[int, int]:
        """Document id → rank in the project's reading order (position, id), optionally only some documents.
        Read from the covering index (project_id, position, id): joining documents row by row walks each
        document's overflow pages to reach ``position`` (30 ms of a 75 ms frequent-word query)."""
        rows = self.db.conn.execute("SELECT id FROM documents WHERE project_id = ? ORDER BY position, id", (project_id,))
        ids = [r[0] for r in rows]
        if document_ids is not None:
            wanted = set(document_ids)
            ids = [i for i in ids if i in wanted]
        return {doc: rank for rank, doc in enumerate(ids)}

    def search_documents(
        self, project_id: int, match: str | None, contains: list[list[str]], *, document_ids=None
    ) -> list[tuple[int, str]]:
        """(document id, folded text) of the project's documents matching, in document order. ``match`` is an
        FTS5 query (already quoted); ``contains``: for each term, folded forms one of which must occur."""
        source, where, params = self._search_clause(match, contains)
        order = self.project_document_order(project_id, document_ids)
        sql = (
            f"SELECT f.document_id, f.folded FROM {source} WHERE f.kind = 'doc' AND {where}"
            " AND f.document_id IN (SELECT value FROM json_each(?))"
        )
        rows = self.db.conn.execute(sql, [*params, json.dumps(list(order))]).fetchall()
        return sorted(rows, key=lambda r: order[r[0]])

    def folded_documents(self, document_ids: Iterable[int]) -> dict[int, str]:
        """Document id → folded text, from the search index."""
        rows = self.db.conn.execute(
            "SELECT document_id, folded FROM search_folded WHERE kind = 'doc' AND document_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(document_ids)),),
        )
        return dict(rows.fetchall())

    def word_counts(self, token: str) -> dict[int, int]:
        """Document id → how often one folded word occurs (documents only), read from the word index itself
        (fts5vocab): counting a frequent word's hits reads no text (4 ms for 4,500 hits, against 85 ms
        reading the 3,000 texts that hold them)."""
        rows = self.db.conn.execute(
            "SELECT f.document_id, count(*) FROM search_words_instance v JOIN search_folded f ON f.id = v.doc"
            " WHERE v.term = ? AND f.kind = 'doc' GROUP BY v.doc",
            (token,),
        )
        return dict(rows.fetchall())

    def restriction_spans(
        self, project_id: int, *, document_ids=None, labels=None, label_kinds=None, annotator_id: int | None = None,
        visible_to: int | None = None, attributed_to=None,
    ) -> list[tuple[int, int, int, int]]:  # fmt: skip
        """(span id, document id, start, end) of the project's spans a search is restricted to, in document and
        reading order. Filters: ``document_ids``, ``labels`` (names), ``label_kinds``, ``annotator_id`` (that
        annotator's layer), ``visible_to`` (a blind annotator's id: their own spans and gold only),
        ``attributed_to`` (ids of SOURCE spans the span must be linked to). Labels belong to one project, so the
        project is found through them, without reading the documents."""
        sql = (
            "SELECT s.id, s.document_id, s.start_offset, s.end_offset FROM spans s JOIN labels l ON l.id = s.label_id"
            " WHERE l.project_id = ?"
        )
        params: list = [project_id]
        for column, values in (("s.document_id", document_ids), ("l.name", labels), ("l.kind", label_kinds)):
            if values is not None:
                sql += f" AND {column} IN (SELECT value FROM json_each(?))"
                params.append(json.dumps(list(values), ensure_ascii=False))
        if annotator_id is not None:
            sql += " AND s.annotator_id = ? AND s.layer = 'annotator'"
            params.append(annotator_id)
        if visible_to is not None:
            sql += " AND (s.annotator_id = ? OR s.layer = 'gold')"
            params.append(visible_to)
        if attributed_to is not None:
            sql += (
                " AND s.id IN (SELECT k.from_span_id FROM links k WHERE k.type = 'attributed_to'"
                " AND k.to_span_id IN (SELECT value FROM json_each(?)))"
            )
            params.append(json.dumps(list(attributed_to)))
        return self.db.conn.execute(sql + " ORDER BY s.document_id, s.start_offset, s.end_offset DESC, s.id", params).fetchall()

    def document_titles_and_texts(self, document_ids: Iterable[int], project_id: int | None = None) -> dict[int, tuple[str, str]]:
        """Document id → (title, stored text) for the given ids (only those of ``project_id`` when given)."""
        sql = "SELECT id, title, text FROM documents WHERE id IN (SELECT value FROM json_each(?))"
        params: list = [json.dumps(list(document_ids))]
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        return {r[0]: (r[1], r[2]) for r in self.db.conn.execute(sql, params)}

    def span_places(self, label_id: int, annotator_id: int, layer: str, document_ids: Iterable[int]) -> dict[tuple, int]:
        """(document id, start, end) → span id of the spans of one label in one user's layer (for Tag all)."""
        sql = (
            "SELECT document_id, start_offset, end_offset, id FROM spans WHERE label_id = ? AND layer = ?"
            " AND document_id IN (SELECT value FROM json_each(?))"
        )
        params: list = [label_id, layer, json.dumps(list(document_ids))]
        if layer == "annotator":
            sql += " AND annotator_id = ?"
            params.append(annotator_id)
        return {(d, s, e): i for d, s, e, i in self.db.conn.execute(sql, params)}

    def open_batch_events(self, user_id: int, batch: str) -> list[dict]:
        """This user's ``create span`` events carrying ``origin.tag_all == batch`` that no ``undo`` event names
        yet: the spans one Tag all made and that are still to undo, oldest first."""
        return self.query(
            "SELECT e.id, e.entity_id, e.document_id FROM audit_events e WHERE e.user_id = ? AND e.action = 'create'"
            " AND e.entity = 'span' AND json_extract(e.after, '$.origin.tag_all') = ? AND NOT EXISTS"
            " (SELECT 1 FROM audit_events u WHERE u.user_id = e.user_id AND u.action = 'undo'"
            " AND u.document_id = e.document_id AND json_extract(u.after, '$.undid') = e.id) ORDER BY e.id",
            [user_id, batch],
        )

    # ---- suggestions: a project's cue forms and each user's dismissals (issue 8) ---------------------------

    def list_suggestion_cues(self, project_id: int) -> list[dict]:
        """The project's own cue forms (id, form, lemma, kind, created_by, created_at), oldest first."""
        return self.query("SELECT * FROM suggestion_cues WHERE project_id = ? ORDER BY id", [project_id])

    def insert_suggestion_cue(self, project_id: int, form: str, lemma: str, kind: str, created_by: int) -> int | None:
        """Add a cue form to the project; None when the same form and kind is already there (nothing written)."""
        cur = self.db.conn.execute(
            "INSERT OR IGNORE INTO suggestion_cues (project_id, form, lemma, kind, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [project_id, form, lemma, kind, created_by, now()],
        )
        return cur.lastrowid if cur.rowcount else None

    def delete_suggestion_cue(self, project_id: int, cue_id: int) -> dict:
        """Remove one of the project's cue forms and return its row; NotFound when it is not the project's."""
        rows = self.query("SELECT * FROM suggestion_cues WHERE id = ? AND project_id = ?", [cue_id, project_id])
        if not rows:
            raise NotFound(f"No cue form {cue_id} in this project.")
        self.db.conn.execute("DELETE FROM suggestion_cues WHERE id = ?", [cue_id])
        return rows[0]

    def dismissed_keys(self, document_id: int, user_id: int, layer: str) -> set[str]:
        """Keys of the suggestions this user dismissed on the document's layer."""
        sql = "SELECT key FROM suggestion_dismissals WHERE document_id = ? AND user_id = ? AND layer = ?"
        return {r[0] for r in self.db.conn.execute(sql, [document_id, user_id, layer])}

    def insert_dismissal(self, document_id: int, user_id: int, layer: str, key: str, engine: str, engine_version: str) -> bool:
        """Remember a dismissed suggestion; False when it was already dismissed."""
        cur = self.db.conn.execute(
            "INSERT OR IGNORE INTO suggestion_dismissals (document_id, user_id, layer, key, engine, engine_version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [document_id, user_id, layer, key, engine, engine_version, now()],
        )
        return cur.rowcount == 1

    def delete_dismissal(self, document_id: int, user_id: int, layer: str, key: str) -> bool:
        """Forget a dismissal (undo); False when there was none."""
        cur = self.db.conn.execute(
            "DELETE FROM suggestion_dismissals WHERE document_id = ? AND user_id = ? AND layer = ? AND key = ?",
            [document_id, user_id, layer, key],
        )
        return cur.rowcount == 1

    def suggestion_counts(self, project_id: int) -> list[tuple[str, str, str, int]]:
        """(engine, label, outcome, count) over the project: spans whose origin names an engine, still standing,
        ``accepted`` as suggested or ``changed`` since (label, offsets or attributes edited: version > 1), and
        ``dismissed`` suggestions (label from the key)."""
        accepted = self.db.conn.execute(
            "SELECT json_extract(s.origin, '$.engine'), l.name, CASE WHEN s.version > 1 THEN 'changed' ELSE 'accepted' END,"
            " count(*) FROM spans s JOIN labels l ON l.id = s.label_id JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND json_extract(s.origin, '$.engine') IS NOT NULL GROUP BY 1, 2, 3",
            [project_id],
        ).fetchall()
        dismissed = self.db.conn.execute(
            "SELECT x.engine, substr(x.key, 1, instr(x.key, ':') - 1), 'dismissed', count(*) FROM suggestion_dismissals x"
            " JOIN documents d ON d.id = x.document_id WHERE d.project_id = ? GROUP BY 1, 2",
            [project_id],
        ).fetchall()
        return [tuple(r) for r in accepted + dismissed]

    def insert_suggestion_model(self, project_id: int, row: dict, created_by: int) -> int:
        """Store a trained model (``row``: engine, version, labels, training_documents, training_spans, seconds,
        cross_validation, model); returns its id."""
        cur = self.db.conn.execute(
            "INSERT INTO suggestion_models (project_id, engine, version, labels, trained_at, training_documents,"
            " training_spans, seconds, cross_validation, model, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                project_id, row["engine"], row["version"], json.dumps(row["labels"], ensure_ascii=False), now(),
                row["training_documents"], row["training_spans"], row["seconds"], json.dumps(row["cross_validation"]),
                json.dumps(row["model"]), created_by,
            ],
        )  # fmt: skip
        return cur.lastrowid

    def latest_suggestion_model(self, project_id: int, engine: str, *, with_model: bool = True) -> dict | None:
        """The project's latest model of ``engine`` as a dict (JSON fields decoded), or None."""
        cols = (
            "*"
            if with_model
            else "id, project_id, engine, version, labels, trained_at, training_documents, training_spans, seconds, cross_validation, created_by"
        )
        rows = self.query(
            f"SELECT {cols} FROM suggestion_models WHERE project_id = ? AND engine = ? ORDER BY id DESC LIMIT 1",
            [project_id, engine],
        )
        if not rows:
            return None
        row = rows[0]
        for key in ("labels", "cross_validation", "model"):
            if key in row:
                row[key] = json.loads(row[key])
        return row

    # ---- attribution index (issue 12): sources, what is attributed to them, merged variants ---------------

    @staticmethod
    def _source_filter(project_id: int, layer: str | None, visible_to: int | None) -> tuple[str, list]:
        """WHERE over SOURCE-kind spans ``s`` of a project: ``layer`` keeps one layer; ``visible_to`` (a blind
        annotator's id) keeps their own spans and gold. Labels belong to one project, so starting from the
        project's SOURCE labels reads only the source spans (idx_spans_label), not every span of every document."""
        where = ["s.label_id IN (SELECT id FROM labels WHERE project_id = ? AND kind = 'source')"]
        params: list = [project_id]
        if layer is not None:
            where.append("s.layer = ?")
            params.append(layer)
        if visible_to is not None:
            where.append("(s.annotator_id = ? OR s.layer = 'gold')")
            params.append(visible_to)
        return " AND ".join(where), params

    def source_summaries(self, project_id: int, *, layer: str | None = None, visible_to: int | None = None) -> dict:
        """The attribution index counted by SQLite, per stored source text (a few hundred rows for 100,000 spans,
        where one row per source span and attribution took 1 s to read and walk):
        ``spans``: text → (SOURCE spans, comma-separated document ids); ``labels``: (text, content label, distinct
        contents); ``cues``: (text, cue text, uses). Filters as :meth:`_source_filter`."""
        where, params = self._source_filter(project_id, layer, visible_to)
        conn = self.db.conn
        spans = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                f"SELECT s.text, count(*), group_concat(DISTINCT s.document_id) FROM spans s WHERE {where} GROUP BY s.text",
                params,
            )
        }
        attributed = (
            "FROM spans s JOIN links a ON a.to_span_id = s.id AND a.type = 'attributed_to' JOIN spans c ON c.id = a.from_span_id"
        )
        labels = conn.execute(
            f"SELECT s.text, l.name, count(DISTINCT c.id) {attributed} JOIN labels l ON l.id = c.label_id"
            f" WHERE {where} GROUP BY s.text, l.name",
            params,
        ).fetchall()
        cues = conn.execute(
            f"SELECT s.text, q.text, count(*) {attributed} JOIN links k ON k.from_span_id = c.id AND k.type = 'cue'"
            f" JOIN spans q ON q.id = k.to_span_id WHERE {where} GROUP BY s.text, q.text",
            params,
        ).fetchall()
        return {"spans": spans, "labels": labels, "cues": cues}

    def source_attributions(
        self, project_id: int, texts: Iterable[str] | None = None, *, layer: str | None = None, visible_to: int | None = None
    ) -> list[tuple]:
        """What is attributed to sources written as ``texts`` (all when None): (source text, content id, content
        label, content text, document id, start, end, cue texts joined by U+001F), in document order."""
        where, params = self._source_filter(project_id, layer, visible_to)
        if texts is not None:
            where += " AND s.text IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(texts), ensure_ascii=False))
        sql = f"""
            SELECT s.text, c.id, l.name, c.text, c.document_id, c.start_offset, c.end_offset,
                   (SELECT group_concat(q.text, char(31)) FROM links k JOIN spans q ON q.id = k.to_span_id
                     WHERE k.from_span_id = c.id AND k.type = 'cue')
            FROM spans s JOIN links a ON a.to_span_id = s.id AND a.type = 'attributed_to'
            JOIN spans c ON c.id = a.from_span_id JOIN labels l ON l.id = c.label_id
            WHERE {where} ORDER BY c.document_id, c.start_offset, c.id"""
        return self.db.conn.execute(sql, params).fetchall()

    def document_titles_and_dates(self, project_id: int) -> dict[int, tuple[str, str]]:
        """Document id → (title, date): the metadata's ``date`` (or ``published``) when an import brought one,
        else the day the document was added."""
        rows = self.db.conn.execute(
            "SELECT id, title, coalesce(json_extract(metadata, '$.date'), json_extract(metadata, '$.published'),"
            " substr(created_at, 1, 10)) FROM documents WHERE project_id = ?",
            (project_id,),
        )
        return {r[0]: (r[1], str(r[2])) for r in rows}

    def source_groups(self, project_id: int) -> dict[str, str]:
        """Folded source variant → the group it was merged into."""
        rows = self.db.conn.execute("SELECT variant, group_name FROM source_groups WHERE project_id = ?", (project_id,))
        return dict(rows.fetchall())

    def set_source_groups(self, project_id: int, mapping: dict[str, str], user_id: int) -> None:
        """Put each variant into its group (call inside :meth:`write`)."""
        t = now()
        self.db.conn.executemany(
            "INSERT INTO source_groups (project_id, variant, group_name, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (project_id, variant) DO UPDATE SET group_name = excluded.group_name,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            [(project_id, v, g, user_id, t) for v, g in mapping.items()],
        )

    def clear_source_groups(self, project_id: int, variants: Iterable[str]) -> None:
        """Make each variant a group of its own again (call inside :meth:`write`)."""
        self.db.conn.executemany(
            "DELETE FROM source_groups WHERE project_id = ? AND variant = ?", [(project_id, v) for v in variants]
        )
