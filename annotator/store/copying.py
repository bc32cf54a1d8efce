"""Copying a whole database into this one (``python -m annotator copy``, issue 13): the data tables in foreign-key
order, read by column name and bulk-loaded with their ids, row counts and the audit chain's head for the checks.

The target runs all of it in one write transaction (see :mod:`annotator.database_copy`); the search index is not
copied but rebuilt there: the documents' insert triggers queue every document and the commit folds the queue
(and, on SQLite, adds the folded rows to the FTS5 word index).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from annotator.errors import NisbaError, StorageError
from annotator.store.base import StoreBase

# (table, order of its rows): every data table, parents before children, so foreign keys hold at each insert
COPIED_TABLES: tuple[tuple[str, str], ...] = (
    ("projects", "id"),
    ("users", "id"),
    ("project_members", "project_id, user_id"),
    ("documents", "id"),
    ("labels", "id"),
    ("spans", "id"),
    ("links", "id"),
    ("document_status", "document_id, user_id"),
    ("reviews", "id"),
    ("comments", "id"),
    ("audit_events", "id"),
    ("login_attempts", "key"),
    ("suggestion_cues", "id"),
    ("suggestion_dismissals", "document_id, user_id, layer, key"),
    ("suggestion_models", "id"),
    ("source_groups", "project_id, variant"),
    ("project_guidelines", "project_id"),
)
# derived from the documents (rebuilt on the target), the schema's own bookkeeping, and SQLite's FTS5 word index
# with its shadow tables (filled from search_folded by the store's flush)
NOT_COPIED = ("search_folded", "search_pending", "_sqlite_migrations", "nisba_migrations")
NOT_COPIED_PREFIX = "search_words"


class Copying(StoreBase):
    @property
    def copied_tables(self) -> list[str]:
        """The data tables a copy moves, in foreign-key order (parents first)."""
        return [table for table, _ in COPIED_TABLES]

    def unknown_tables(self) -> list[str]:
        """Tables of this database that a copy would neither move nor rebuild (a schema step added a table and
        :data:`COPIED_TABLES` was not told): a copy refuses rather than leave their rows behind."""
        names = [r[0] for r in self._x(self.dialect.list_tables)]
        known = set(self.copied_tables) | set(NOT_COPIED)
        return sorted(n for n in names if n not in known and not n.startswith(NOT_COPIED_PREFIX))

    def row_counts(self) -> dict[str, int]:
        """Rows per copied table, in copy order."""
        return {table: self._x(f"SELECT count(*) FROM {table}").fetchone()[0] for table in self.copied_tables}

    def nonempty_tables(self) -> list[str]:
        """The copied tables holding at least one row."""
        return [t for t in self.copied_tables if self._x(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None]

    def audit_head(self) -> str | None:
        """The hash of the latest audit event (None for an empty log)."""
        row = self._x("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def empty_copied_tables(self) -> None:
        """Delete every row of the copied tables, children first (``copy --force``; call inside :meth:`write`).
        Deleting the documents drops their folded search rows by trigger."""
        for table in reversed(self.copied_tables):
            self._x(f"DELETE FROM {table}")

    def load_copy_of(self, source: Copying) -> dict[str, int]:
        """Insert every row of ``source``'s copied tables here, ids kept, then move this database's id sequences past
        them; returns the rows loaded per table. Call inside this store's :meth:`write` (and, for a consistent
        snapshot, inside ``source``'s). Columns are matched by name: the two must have the same columns.
        A database error becomes one :class:`StorageError` line naming the table."""
        loaded: dict[str, int] = {}
        for table, order in COPIED_TABLES:
            with self._copy_errors(f"copying table {table}"):
                columns = tuple(sorted(source.columns(table)))
                here = self.columns(table)
                if set(columns) != here:
                    differ = ", ".join(sorted(set(columns) ^ here))
                    raise StorageError(f"Table {table} has different columns on the two databases ({differ}).")
                stream = source._stream(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
                counter = _Counter(stream)
                try:
                    self._backend.load(table, columns, counter)
                finally:
                    stream.close()  # a load that failed half-way: close the read now, not after its connection
                loaded[table] = counter.count
                if order == "id":
                    self._backend.sync_ids(table)
        return loaded

    @contextmanager
    def _copy_errors(self, what: str) -> Iterator[None]:
        """Driver errors (a row the target refuses, a lost connection) as one line: the CLI shows no tracebacks."""
        import sqlite3

        import psycopg

        try:
            yield
        except NisbaError:
            raise
        except (sqlite3.Error, psycopg.Error) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StorageError(f"The copy failed while {what}: {reason}") from exc


class _Counter:
    """Rows passed through, counted (the loaders take any iterable)."""

    def __init__(self, rows):
        self._rows, self.count = rows, 0

    def __iter__(self):
        for row in self._rows:
            self.count += 1
            yield row
