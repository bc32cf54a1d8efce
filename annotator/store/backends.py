"""Connections and transactions: a SQLite file or a PostgreSQL server (issue 13).

Both backends offer the same few calls to the store: ``execute`` (a cursor-like result with ``fetchone``,
``fetchall``, iteration and ``rowcount``), ``rows`` (dicts), ``stream`` (rows one at a time for exports and large
reads), ``executemany``, ``load`` (bulk rows: ``executemany`` on SQLite, ``COPY`` on PostgreSQL), and
``transaction``/``savepoint``. Every write transaction is serialised on both engines: SQLite's ``BEGIN IMMEDIATE``
takes the file's write lock, PostgreSQL's transactions take one advisory lock first. That keeps one audit chain
(each event hashes the one before it, so appends must be in commit order), makes ids assigned up front by an import
safe, and keeps every read-then-write of the core (first review decision, document position) as correct as on
SQLite. Write transactions are short (a few milliseconds), so several app servers still share one database well.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import count
from urllib.parse import unquote, urlsplit

from annotator.errors import StorageError
from annotator.store.dialect import PostgreSQL, SQLite

BUSY_TIMEOUT_MS = 10_000
# pg_advisory_xact_lock key for "a write transaction": any constant unlikely to collide with another application
WRITE_LOCK_KEY = 0x4E69_7362_6100  # "Nisba"
# How long a statement waits for a pooled connection when all NISBA_PG_POOL_MAX are busy: as long as a save waits
# for the write lock; longer means the server is overloaded, and the page should say so.
POOL_WAIT_S = BUSY_TIMEOUT_MS // 1000
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# Below this many rows an insert that skips existing keys runs as executemany rather than COPY through a temporary
# table (PostgresBackend.load). Measured on the throwaway cluster, document_status rows: 10 rows 2.9 ms against
# 7.0 ms, 100 rows 10.6 against 9.0, 1,000 rows 125 against 70, 40,000 rows 5.8 s against 3.0 s.
COPY_MIN_ROWS = 100


def is_postgres_url(location: str) -> bool:
    """True when ``location`` names a PostgreSQL database (``postgresql://…``) rather than a SQLite file."""
    return str(location).startswith(POSTGRES_SCHEMES)


def sqlite_path(location: str) -> str:
    """The file of a SQLite location: a path, or ``sqlite:///path``."""
    location = str(location)
    return location[len("sqlite:///") :] if location.startswith("sqlite:///") else location


def describe_url(url: str) -> str:
    """``database 'nisba' on host:port as user``: a PostgreSQL URL for messages, never with its password (a URL too
    malformed to parse, e.g. a port that is no number, is still described rather than raising)."""
    parts = urlsplit(url)
    db = unquote(parts.path.lstrip("/")) or "(default)"
    host = parts.hostname or "localhost (socket)"
    try:
        port = parts.port or 5432
    except ValueError:  # "host:abc": say what was written; psycopg's own message says why it is wrong
        port = parts.netloc.rpartition(":")[2]
    user = f" as {unquote(parts.username)}" if parts.username else ""
    return f"database {db!r} on {host}:{port}{user}"


class _Result:
    """A fully read result (PostgreSQL reads outside a transaction give the connection back at once)."""

    __slots__ = ("_rows", "rowcount", "description")

    def __init__(self, rows: list, rowcount: int, description):
        self._rows, self.rowcount, self.description = rows, rowcount, description

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list:
        return self._rows

    def __iter__(self):
        return iter(self._rows)


# ---- SQLite -------------------------------------------------------------------------------------------------

_savepoints = count(1)  # savepoint names: unique, so nested savepoints never release one another


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


class SQLiteBackend:
    """A database file. Connections are per thread (sqlite3 connections belong to the thread that made them, and
    Streamlit runs each session's script in its own thread), with foreign keys on, WAL and a busy timeout."""

    dialect = SQLite

    def __init__(self, location: str):
        from pathlib import Path

        self.path = sqlite_path(location)
        self.location = self.path
        self.display = self.path
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot use {self.path} as the database: {exc.strerror or exc} ({exc.filename}).") from None
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: the driver never opens transactions behind our back; transaction() does.
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            except sqlite3.Error as exc:
                raise StorageError(f"Cannot open the database {self.path}: {exc}.") from None
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous=NORMAL")
            # what sqlite-utils' Database(conn) set when every connection was wrapped in one: kept so that the
            # triggers behave the same whether or not a Database was made
            conn.execute("PRAGMA recursive_triggers=ON")
            self._local.conn = conn
        return conn

    @property
    def db(self):
        """This thread's connection as a sqlite-utils Database, for migrations and SQLite-only tests. Made on first
        use only: importing sqlite-utils imports pandas and numpy when installed (~1 s of CPU, issue 7)."""
        db = getattr(self._local, "db", None)
        if db is None or db.conn is not self.conn:
            from sqlite_utils import Database

            db = Database(self.conn)
            self._local.db = db
        return db

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, params: Iterable = ()):
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable) -> None:
        self.conn.executemany(sql, rows)

    def rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        cur = self.conn.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]

    def stream(self, sql: str, params: Iterable = ()) -> Iterator[tuple]:
        # a cursor of its own: the caller may run other statements while it reads
        yield from self.conn.cursor().execute(sql, list(params))

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple], *, skip_existing: bool = False) -> None:
        """Insert many rows (ids included when ``columns`` names them); ``skip_existing``: a row whose unique key is
        taken already is skipped."""
        marks = ", ".join("?" * len(columns))
        skip = " ON CONFLICT DO NOTHING" if skip_existing else ""
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){skip}", rows)

    def sync_ids(self, table: str) -> None:
        """Nothing to do: SQLite's next rowid is always max(id) + 1."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; database errors become :class:`StorageError` after a rollback."""
        conn = self.conn
        try:
            _begin_immediate(conn)
        except sqlite3.OperationalError as exc:
            raise StorageError(f"The database is busy or cannot be written: {exc}") from exc
        try:
            yield
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"The change was not saved: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint inside the open transaction, or a transaction of its own outside one (as sqlite-utils'
        ``Database.atomic``); an error rolls back to it, unless the error already ended the whole transaction."""
        conn = self.conn
        if not conn.in_transaction:
            conn.execute("BEGIN")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return
        name = f"nisba_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # a RAISE(ROLLBACK) trigger ends the transaction, savepoints included
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")

    def migrate(self) -> None:
        """Bring the file's schema up to date; a file that has every step already needs no sqlite-utils."""
        from annotator.schema import step_names

        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            applied = self.applied_steps()
            self._refuse_newer(applied)
            if set(step_names()) - set(applied):
                from annotator.schema import migrate

                migrate(self.db)
        except sqlite3.DatabaseError as exc:  # not a database, read-only, corrupt: one line, not a traceback
            raise StorageError(f"Cannot open {self.path} as a Nisba database: {exc}.") from None

    def _refuse_newer(self, applied: list[str]) -> None:
        """A file a newer Nisba migrated (a step unknown here) is refused before anything is written to it."""
        from annotator.schema import step_names

        known = set(step_names())
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise StorageError(
                f"The database {self.path} has a newer schema than this Nisba (step {', '.join(unknown)} is unknown"
                " here): upgrade Nisba to open it."
            )

    def applied_steps(self) -> list[str]:
        if not self.execute(SQLite.table_exists, ["_sqlite_migrations"]).fetchone():
            return []
        return [r[0] for r in self.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]

    @contextmanager
    def bulk_cache(self, mebibytes: int) -> Iterator[None]:
        conn = self.conn
        old = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size={-1024 * int(mebibytes)}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size={int(old)}")

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = self._local.db = None


# ---- PostgreSQL ---------------------------------------------------------------------------------------------


# libpq's prefixes before the reason itself: 'connection failed: connection to server at "h" (addr), port 5432
# failed: FATAL:  password authentication failed for user "x"' says, for people, 'password authentication failed …'
_LIBPQ_PREFIX = re.compile(
    r'^(connection (failed|is bad): )?(connection to server at "[^"]*"( \([^)]*\))?, port \d+ failed: )?(FATAL: +)?'
)


def connection_problem(exc: Exception) -> str:
    """Why a connection failed, in one line without libpq's prefixes (the first line that says something)."""
    for line in str(exc).splitlines():
        reason = _LIBPQ_PREFIX.sub("", line.strip()).strip().rstrip(".")
        if reason:
            return reason
    return type(exc).__name__


def _connect_error(url: str, exc: Exception) -> StorageError:
    """One clear line for a connection that failed: which database, why, what to do."""
    return StorageError(
        f"Cannot connect to PostgreSQL {describe_url(url)}: {connection_problem(exc)}. "
        "Check the database URL you gave (NISBA_DB, --db, copy's --from/--to: user, password, host, port, database"
        " name) and that the server is running."
    )


class PostgresBackend:
    """A PostgreSQL database through a psycopg-pool of autocommit connections. A read borrows a connection for one
    statement; a write transaction keeps one (thread-local) until it commits."""

    dialect = PostgreSQL
    _cursor_names = count(1)

    def __init__(self, url: str):
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self.location = url
        self.display = "PostgreSQL " + describe_url(url)
        self._local = threading.local()
        self._psycopg = psycopg
        try:  # a first connection of our own, for a clear message instead of the pool's retries and timeouts
            psycopg.connect(url, connect_timeout=5, autocommit=True).close()
        except psycopg.Error as exc:
            raise _connect_error(url, exc) from None
        max_size = int(os.environ.get("NISBA_PG_POOL_MAX", "20"))
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, kwargs={"autocommit": True}, open=False, name="nisba", timeout=POOL_WAIT_S
        )
        self._pool.open(wait=True, timeout=10)

    # -- connections --

    def _probe(self) -> StorageError | None:
        """None when a new connection can be made now, else why not (one line). A direct connection, at most 5 s:
        the pool, asked instead, would retry in the background and make the caller wait POOL_WAIT_S for nothing."""
        try:
            self._psycopg.connect(self.url, connect_timeout=5, autocommit=True).close()
        except self._psycopg.Error as exc:
            return _connect_error(self.url, exc)
        return None

    def _lost(self, conn, exc: Exception) -> tuple[StorageError, bool]:
        """(the StorageError for a statement that failed on ``conn``, whether a read may be tried once more).

        A connection the server closed (a restart, ``idle_session_timeout``, a proxy, ``pg_terminate_backend``) is
        dropped by the pool when given back. When the server takes new connections, the idle ones beside it were
        most likely closed too, so the pool checks them all now (about 0.1 ms each) rather than hand each out to
        fail once more; when it does not, the error says why (the database was dropped, the server is down)."""
        from psycopg_pool import PoolTimeout

        where = describe_url(self.url)
        if conn is not None and conn.closed:
            if refused := self._probe():
                return refused, False
            self._pool.check()
            return StorageError(f"The connection to the {where} was lost: {connection_problem(exc)}."), True
        if isinstance(exc, PoolTimeout):
            return self._probe() or StorageError(
                f"No connection to the {where} came free within {POOL_WAIT_S} s: every one of this server's"
                f" {self._pool.max_size} (NISBA_PG_POOL_MAX) is busy. Try again."
            ), False
        return StorageError(f"The {where} refused the statement: {connection_problem(exc)}."), False

    @contextmanager
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn  # errors reach transaction(), which rolls back and raises StorageError
            return
        conn = None
        try:
            with self._pool.connection() as conn:
                yield conn
        except self._psycopg.OperationalError as exc:
            raise self._lost(conn, exc)[0] from exc

    def _run(self, sql: str, work):
        """``work(conn)`` on this thread's transaction connection, else on a pooled one. Outside a transaction a read
        (``SELECT``) that met a connection the server had closed runs once more after :meth:`_lost` swept the pool,
        so the first page after a database restart reads normally; a write is never repeated (it may have run)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return work(conn)
        retry = sql.lstrip()[:6].upper() == "SELECT"
        while True:
            conn = None
            try:
                with self._pool.connection() as conn:
                    return work(conn)
            except self._psycopg.OperationalError as exc:
                error, may_retry = self._lost(conn, exc)
                if not (retry and may_retry):
                    raise error from exc
                retry = False

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def execute(self, sql: str, params: Iterable = ()) -> _Result:
        params = list(params)

        def work(conn):
            cur = conn.execute(PostgreSQL.translate(sql), params or None)
            return _Result(cur.fetchall() if cur.description else [], cur.rowcount, cur.description)

        return self._run(sql, work)

    def executemany(self, sql: str, rows: Iterable) -> None:
        rows = list(rows)
        if rows:
            with self._conn() as conn:
                conn.cursor().executemany(PostgreSQL.translate(sql), rows)

    def rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        from psycopg.rows import dict_row

        params = list(params)
        return self._run(
            sql, lambda conn: conn.cursor(row_factory=dict_row).execute(PostgreSQL.translate(sql), params or None).fetchall()
        )

    def stream(self, sql: str, params: Iterable = ()) -> Iterator[tuple]:
        """Rows one at a time. Inside a transaction through a server-side cursor (the caller may run other
        statements meanwhile, as the search index flush does); outside through single-row streaming."""
        with self._conn() as conn:
            if self.in_transaction:
                cur = conn.cursor(name=f"nisba_{next(self._cursor_names)}")
                cur.itersize = 2000
                cur.execute(PostgreSQL.translate(sql), list(params) or None)
                try:
                    yield from cur
                finally:
                    cur.close()
            else:
                yield from conn.cursor().stream(PostgreSQL.translate(sql), list(params) or None)

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple], *, skip_existing: bool = False) -> None:
        """Bulk insert with ``COPY … FROM STDIN`` (binary-safe text rows written by psycopg). ``skip_existing``: a
        row whose unique key is taken already is skipped; COPY cannot skip, so the rows are copied into a temporary
        table first and inserted from it with ``ON CONFLICT DO NOTHING``, in their order (ids follow it). A few
        rows go through ``executemany``, which is quicker than creating a table for them."""
        names = ", ".join(columns)
        if not skip_existing:
            with self._conn() as conn, conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        rows = list(rows)
        if len(rows) < COPY_MIN_ROWS:
            marks = ", ".join(["?"] * len(columns))
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows)
            return
        # a savepoint (or a transaction of its own outside one): a failure leaves no temporary table behind
        with self._conn() as conn, conn.transaction():
            conn.execute(f"CREATE TEMPORARY TABLE nisba_load AS SELECT 0::bigint AS nisba_n, {names} FROM {table} WITH NO DATA")
            with conn.cursor().copy(f"COPY nisba_load (nisba_n, {names}) FROM STDIN") as copy:
                for n, row in enumerate(rows):
                    copy.write_row((n, *row))
            conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM nisba_load ORDER BY nisba_n ON CONFLICT DO NOTHING")
            conn.execute("DROP TABLE nisba_load")

    def sync_ids(self, table: str) -> None:
        """Move ``table``'s id sequence past rows inserted with explicit ids (imports, copies, undo), through the
        schema's one owner of that rule (forward only)."""
        from annotator.store import pg_schema

        with self._conn() as conn:
            pg_schema.sync_sequences(conn, [table])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction: one pooled connection, the write lock first (waiting at most BUSY_TIMEOUT_MS). A lost
        connection (the server restarted, or ended this backend) rolls everything back: StorageError, nothing
        written, and the pool replaces the connection, so the next save goes through (tests/test_pg_failures.py)."""
        pg = self._psycopg
        conn = None
        try:
            with self._pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        conn.execute(
                            "SELECT set_config('lock_timeout', %s, true), pg_advisory_xact_lock(%s)",
                            (f"{BUSY_TIMEOUT_MS}ms", WRITE_LOCK_KEY),
                        )
                        yield
                finally:
                    self._local.conn = None
        except pg.errors.LockNotAvailable as exc:
            raise StorageError(
                f"The database is busy (another save held it for {BUSY_TIMEOUT_MS // 1000} s); try again."
            ) from exc
        except pg.OperationalError as exc:
            reason = str(self._lost(conn, exc)[0])  # also sweeps the pool when the connection was lost
            raise StorageError(
                f"The change was not saved (nothing was written): {reason[:1].lower()}{reason[1:]} Try again."
            ) from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self._local.conn.transaction():
            yield

    def migrate(self) -> None:
        from annotator.store import pg_schema

        with self._pool.connection() as conn:
            pg_schema.migrate(conn)

    def applied_steps(self) -> list[str]:
        from annotator.store import pg_schema

        with self._pool.connection() as conn:
            return pg_schema.applied(conn)

    @contextmanager
    def bulk_cache(self, mebibytes: int) -> Iterator[None]:
        yield  # the server's shared buffers serve every connection

    def close(self) -> None:
        self._pool.close()
