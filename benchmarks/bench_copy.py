"""``copy`` speed (issue 13, moving a team): the demo database, and the demo plus 5,000 documents / 100,000 spans
(the corpus of bench_transfer.py, imported), copied SQLite → PostgreSQL, PostgreSQL → SQLite and SQLite → SQLite.

Beside each, a floor: the same rows, read beforehand, written into a new migrated target in one transaction by the
driver alone (psycopg ``COPY`` on PostgreSQL, sqlite3 ``executemany`` on SQLite), with no streaming, checks, search
index or chain verification.

Each run copies into a new empty target (a new database on the server, a new file) through
:func:`annotator.database_copy.copy_database`, which is the whole command: opening both, the checks, the one
transaction (load, id sequences, search index rebuild, counts, head, chain verification) and the key handover.
Prints figures; asserts nothing.

Run: ``.venv/bin/python benchmarks/bench_copy.py [--docs 5000] [--spans-per-doc 20] [--repeat 3]`` (a throwaway
cluster from tests/pg_cluster.py, fsync off) or with ``NISBA_BENCH_PG_URL=postgresql://…`` (a superuser URL: it
creates and drops databases) to measure a real server.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import psycopg  # noqa: E402
from bench_transfer import make_corpus  # noqa: E402
from pg_cluster import benchmark_server, create_database, drop_database  # noqa: E402

from annotator.database_copy import copy_database  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.importing import ImportFile, import_files  # noqa: E402
from annotator.projects import create_project  # noqa: E402
from annotator.store import Store  # noqa: E402
from annotator.store.copying import COPIED_TABLES  # noqa: E402


def build(path: Path, docs: int, spans_per_doc: int) -> tuple[dict[str, int], float]:
    """The demo, plus a Bench project with the corpus when ``docs``; returns the row counts and the import seconds."""
    store = Store(path)
    ensure_demo(store)
    seconds = 0.0
    if docs:
        admin = store.user_by_username("admin")
        project = create_project(store, admin, "Bench")
        corpus = make_corpus(docs, spans_per_doc)
        payload = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus).encode("utf-8")
        began = time.perf_counter()
        preview, _result = import_files(store, admin, project.id, [ImportFile("bench.jsonl", payload)], annotator="amal")
        seconds = time.perf_counter() - began
        assert not preview.rejected
    counts = store.row_counts()
    store.close()
    return counts, seconds


def _sqlite_files(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.secret.audit")):
        p.unlink(missing_ok=True)


def all_rows(location: str) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
    """Every copied table's rows, as the copy reads them: (table, columns by name, rows in key order)."""
    store = Store(location)
    out = []
    for table, order in COPIED_TABLES:
        columns = tuple(sorted(store.columns(table)))
        rows = [tuple(r.values()) for r in store.query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")]
        out.append((table, columns, rows))
    store.close()
    return out


def floor_to_postgresql(admin: str, tables) -> float:
    """psycopg ``COPY`` of the rows into a new migrated database, one transaction (the database is dropped after)."""
    url = create_database(admin)
    Store(url).close()
    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        with conn.transaction():
            for table, columns, rows in tables:
                with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        elapsed = time.perf_counter() - began
    drop_database(admin, url)
    return elapsed


def floor_to_sqlite(path: Path, tables) -> float:
    """sqlite3 ``executemany`` of the rows into a new migrated file (foreign keys on), one transaction."""
    Store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    began = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for table, columns, rows in tables:
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    _sqlite_files(path)
    return elapsed


def time_copies(admin: str, source: Path, tmp: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds per direction, runs interleaved (the machine is shared)."""
    names = ["SQLite → PostgreSQL", "  floor: COPY", "PostgreSQL → SQLite", "  floor: executemany", "SQLite → SQLite"]
    times: dict[str, list[float]] = {name: [] for name in names}
    tables = all_rows(str(source))
    for _ in range(repeat):
        url = create_database(admin)
        times["SQLite → PostgreSQL"].append(copy_database(str(source), url).seconds)
        times["  floor: COPY"].append(floor_to_postgresql(admin, tables))
        back = tmp / "back.db"
        times["PostgreSQL → SQLite"].append(copy_database(url, str(back)).seconds)
        _sqlite_files(back)
        times["  floor: executemany"].append(floor_to_sqlite(tmp / "floor.db", tables))
        drop_database(admin, url)
        again = tmp / "again.db"
        times["SQLite → SQLite"].append(copy_database(str(source), str(again)).seconds)
        _sqlite_files(again)
    return times


def fmt(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):.2f} s (runs {', '.join(f'{s:.2f}' for s in seconds)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--spans-per-doc", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.pop("NISBA_SECRET_FILE", None)  # each database keeps its own keys: the copy hands the audit key over
    with tempfile.TemporaryDirectory() as tmp, benchmark_server() as (admin, where):
        tmp = Path(tmp)
        os.chdir(tmp)  # a PostgreSQL database's keys go to data/ under the working directory
        print(f"PostgreSQL: {where}")
        for name, docs in (("demo", 0), (f"demo + {args.docs:,} documents", args.docs)):
            source = tmp / f"{name.split()[0]}-{docs}.db"
            counts, imported = build(source, docs, args.spans_per_doc)
            size = source.stat().st_size / 1e6
            extra = f"; the import took {imported:.1f} s" if docs else ""
            print(
                f"\n{name}: {sum(counts.values()):,} rows ({counts['documents']:,} documents, {counts['spans']:,} spans, "
                f"{counts['audit_events']:,} audit events), SQLite file {size:.1f} MB{extra}"
            )
            for direction, seconds in time_copies(admin, source, tmp, args.repeat).items():
                print(f"  {direction:<20} {fmt(seconds)}")


if __name__ == "__main__":
    main()
