"""The store's foundation: which backend, transactions, and the few calls every part of the store runs SQL with."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from annotator.models import Document
from annotator.store.backends import PostgresBackend, SQLiteBackend, is_postgres_url

DEFAULT_DB = "data/nisba.db"


def default_db_path() -> str:
    """The database: ``$NISBA_DB`` (a file path, ``sqlite:///path`` or ``postgresql://…``) or ``data/nisba.db``."""
    return os.environ.get("NISBA_DB") or DEFAULT_DB


def now() -> str:
    """UTC timestamp, ISO 8601 with microseconds, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def loads(value: str | None):
    # most spans have no attributes or origin: skip the JSON parser for them (review screens read thousands)
    return json.loads(value) if value and value != "{}" else {}


def dumps(value) -> str:
    return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


class StoreBase:
    """A Nisba database: a SQLite file (the default) or a PostgreSQL database named by URL. Cheap to create."""

    def __init__(self, path: str | os.PathLike | None = None, *, migrate_schema: bool = True):
        location = str(path or default_db_path())
        self._backend = PostgresBackend(location) if is_postgres_url(location) else SQLiteBackend(location)
        self.dialect = self._backend.dialect
        # ``path``: where the data is (file path or URL); a key for caches and for the files kept beside it
        self.path = self._backend.location
        self._local = threading.local()
        self._has_search_index: bool | None = None
        self._key: bytes | None = None  # the audit key, read on the first event this store records
        self._audit_keyed = False  # the chain has its switch event (read once, then kept)
        self._documents: dict[int, Document] = {}  # see get_document
        if migrate_schema:
            try:
                self._backend.migrate()
            except BaseException:
                self._backend.close()  # a refused database (newer schema, unreachable) keeps no pool open
                raise
            if self._search_queued():  # rows queued by a migration (or by a writer outside the store)
                with self.write():
                    pass  # the commit folds the queue

    @property
    def backend_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.dialect.name

    @property
    def display_name(self) -> str:
        """Where the data is, for people: the file, or the PostgreSQL database without its password."""
        return self._backend.display

    @property
    def db(self):
        """This thread's SQLite connection as a sqlite-utils Database (SQLite only: migrations and its own tests)."""
        if not isinstance(self._backend, SQLiteBackend):
            raise TypeError("store.db is the SQLite connection; this store is on PostgreSQL")
        return self._backend.db

    def close(self) -> None:
        """Close this thread's connection (SQLite) or the connection pool (PostgreSQL)."""
        self._backend.close()

    # ---- running SQL (the parts of the store call only these) ------------------------------------------

    def _x(self, sql: str, params: Iterable = ()):
        """Run one statement; a cursor-like result (fetchone, fetchall, iteration, rowcount)."""
        return self._backend.execute(sql, params)

    def _many(self, sql: str, rows: Iterable) -> None:
        self._backend.executemany(sql, rows)

    def _insert(self, sql: str, params: Iterable = ()) -> int | None:
        """Run an INSERT and return the new row's id (None when ``ON CONFLICT DO NOTHING`` skipped it)."""
        row = self._backend.execute(sql + " RETURNING id", params).fetchone()
        return row[0] if row else None

    def _stream(self, sql: str, params: Iterable = ()) -> Iterator[tuple]:
        return self._backend.stream(sql, params)

    def query(self, sql: str, params: Iterable = ()) -> list[dict]:
        """Rows of a read query as dicts (``?`` placeholders on both backends)."""
        return self._backend.rows(sql, params)

    def in_list(self, column: str, values: Iterable) -> tuple[str, object]:
        """(``column`` is one of ``values``, its one parameter): for lists of any length."""
        return self.dialect.in_list(column), self.dialect.list_param(values)

    # ---- transactions ------------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[StoreBase]:
        """A write transaction, serialised with every other writer (see :mod:`annotator.store.backends`); nested
        calls become savepoints. Database errors (locked too long, disk full, read-only file, lost connection)
        become :class:`StorageError` after a rollback, so nothing half-written stays."""
        backend = self._backend
        if backend.in_transaction:
            with backend.savepoint():
                yield self
            return
        with backend.transaction():
            self._local.switch_written = False
            yield self
            self._flush_search_queue()
        self._audit_keyed = self._audit_keyed or self._local.switch_written

    @property
    def in_transaction(self) -> bool:
        return self._backend.in_transaction

    # ---- catalogue ---------------------------------------------------------------------------------------

    def has_table(self, name: str) -> bool:
        return self._x(self.dialect.table_exists, [name]).fetchone() is not None

    def columns(self, table: str) -> set[str]:
        sql, params = self.dialect.columns_sql(table)
        return {r[0] for r in self._x(sql, params)}

    def schema_steps(self) -> list[str]:
        """The names of the schema steps applied to this database, in order (the same names on both backends)."""
        return self._backend.applied_steps()

    def _search_queued(self) -> bool:  # overridden by the search index part
        return False

    def _flush_search_queue(self) -> int:  # overridden by the search index part
        return 0
