"""Figures for the PostgreSQL schema (annotator/store/pg_schema.py): migrating an empty database, opening an
up-to-date one, and what the search queue triggers add to a bulk load of documents.

Run: ``.venv/bin/python benchmarks/bench_pg_schema.py`` (a throwaway cluster from tests/pg_cluster.py, which runs
with fsync off) or with ``NISBA_BENCH_PG_URL=postgresql://…`` (a superuser URL: it creates and drops databases) to
measure a real server. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import psycopg  # noqa: E402
from pg_cluster import ClusterUnavailable, benchmark_server, create_database, drop_database  # noqa: E402

from annotator.store import pg_schema  # noqa: E402

RUNS = 10
DOCUMENTS = 5_000
TEXT = "قال الوزير إن الحكومة ستعلن القرار غدا، بحسب مصادر مطلعة. " * 35  # about 2,000 characters


def ms(seconds: list[float]) -> str:
    return f"median {1000 * statistics.median(seconds):.1f} ms (min {1000 * min(seconds):.1f}, max {1000 * max(seconds):.1f})"


def migrate_times(admin: str) -> tuple[list[float], list[float]]:
    """Seconds to migrate a fresh database, and to run migrate again on it (what every app start does)."""
    fresh, again = [], []
    for _ in range(RUNS):
        url = create_database(admin)
        with psycopg.connect(url, autocommit=True) as conn:
            began = time.perf_counter()
            pg_schema.migrate(conn)
            fresh.append(time.perf_counter() - began)
            began = time.perf_counter()
            pg_schema.migrate(conn)
            again.append(time.perf_counter() - began)
        drop_database(admin, url)
    return fresh, again


def copy_documents(conn: psycopg.Connection, project_id: int) -> float:
    with conn.transaction():
        began = time.perf_counter()
        columns = "project_id, title, text, raw_text, text_sha256, created_at"
        with conn.cursor().copy(f"COPY documents ({columns}) FROM STDIN") as copy:
            for i in range(DOCUMENTS):
                copy.write_row((project_id, f"document {i}", TEXT, TEXT, "sha", "2026-01-01T00:00:00+00:00"))
        seconds = time.perf_counter() - began
    conn.execute("TRUNCATE documents, search_pending CASCADE")  # no dead rows left to slow the next run
    return seconds


def trigger_cost(admin: str) -> tuple[list[float], list[float]]:
    """Seconds to COPY DOCUMENTS documents with the search queue triggers, and with them disabled."""
    url = create_database(admin)
    on, off = [], []
    with psycopg.connect(url, autocommit=True) as conn:
        pg_schema.migrate(conn)
        project = conn.execute("INSERT INTO projects (name, created_at) VALUES ('bench', '') RETURNING id").fetchone()[0]
        for _ in range(5):
            conn.execute("ALTER TABLE documents ENABLE TRIGGER USER")
            on.append(copy_documents(conn, project))
            conn.execute("ALTER TABLE documents DISABLE TRIGGER USER")
            off.append(copy_documents(conn, project))
    drop_database(admin, url)
    return on, off


def main() -> None:
    try:
        with benchmark_server() as (admin, where):
            version = psycopg.connect(admin).info.server_version
            print(f"PostgreSQL {version // 10000}.{version % 10000} on {where}")
            fresh, again = migrate_times(admin)
            print(f"migrate an empty database ({len(pg_schema.STEP_NAMES)} steps): {ms(fresh)}")
            print(f"migrate an up-to-date database: {ms(again)}")
            on, off = trigger_cost(admin)
            print(f"COPY {DOCUMENTS:,} documents of {len(TEXT):,} characters: with the search queue triggers {ms(on)}")
            print(
                f"  without them {ms(off)}; the triggers add {1e6 * (statistics.median(on) - statistics.median(off)) / DOCUMENTS:.0f} µs a document"
            )
    except ClusterUnavailable as exc:
        print(f"skipped: no PostgreSQL server ({exc})")


if __name__ == "__main__":
    main()
