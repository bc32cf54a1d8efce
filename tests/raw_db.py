"""Reaching a test's database behind the store's back, on either backend: as someone with a SQLite shell or psql
would (tampering tests), and a full dump of every table (tests that a refused action changed nothing)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from annotator.store import Store, is_postgres_url


@contextmanager
def raw_connection(store: Store) -> Iterator:
    """A DB-API connection of its own to the store's database, committing when the block ends."""
    if is_postgres_url(store.path):
        with psycopg.connect(store.path) as conn:  # commits on a clean exit
            yield conn
        return
    conn = sqlite3.connect(store.path)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def tamper(store: Store, sql: str, params=(), *, keys_checked: bool = False) -> None:
    """Run one statement (``?`` placeholders) outside the store and commit it. Foreign keys are not checked (a plain
    sqlite3 shell has them off) unless ``keys_checked``; on PostgreSQL that also switches off the triggers."""
    with raw_connection(store) as conn:
        if is_postgres_url(store.path) and not keys_checked:
            # a superuser's psql can switch off the foreign-key triggers, as a plain sqlite3 shell has them off
            conn.execute("SET session_replication_role = replica")
        if is_postgres_url(store.path):
            sql = sql.replace("?", "%s")
        conn.execute(sql, params)


def dump(store: Store) -> str:
    """Every row of every table, in a stable order (SQLite: its own dump, schema included)."""
    if not is_postgres_url(store.path):
        with raw_connection(store) as conn:
            return "\n".join(conn.iterdump())
    out = []
    with raw_connection(store) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
        )]  # fmt: skip
        for table in tables:
            width = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
            order = ", ".join(str(i + 1) for i in range(width))
            out += [f"{table}: {row!r}" for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}")]
    return "\n".join(out)
