"""SQLite and PostgreSQL side by side (issue 13): prints figures, asserts nothing.

For each backend, on the same machine in one run:
- import of 5,000 documents / 100,000 spans (one JSONL file through annotator.importing: preview + one
  transaction, search index fold and audit digests included) against a raw baseline of the same document and span
  rows into the same schema in one transaction: ``executemany`` on SQLite, ``COPY`` on PostgreSQL;
- CSV export of those spans (annotator.exporting, every column);
- save latency p50/p95 of one ``annotations.add_span`` through the core, from 1 writer process and from 20
  concurrent writer processes (each with its own store: a connection pool on PostgreSQL, as an app server has);
- the audit append under contention: time of ``record_event`` (head read, HMAC, insert) and time the write lock
  is held per save (lock granted → commit done), with 1 and with 20 writers; the rest of a save's latency under
  load is waiting for the lock.

PostgreSQL: a throwaway cluster (tests/pg_cluster.py: fsync and synchronous_commit off, data in /dev/shm when it
has room), or ``NISBA_BENCH_PG_URL=postgresql://…`` (a superuser URL: databases are created and dropped there).
The SQLite files go in the same parent folder as the throwaway cluster (memory when it is /dev/shm), so both
engines write to the same kind of storage.

Run: ``.venv/bin/python benchmarks/bench_backends.py [--docs 5000] [--spans-per-doc 20] [--writers 20]``
(about 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sqlite3
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import psycopg  # noqa: E402
from bench_transfer import make_corpus  # noqa: E402
from pg_cluster import _parent_folder, benchmark_server, create_database, drop_database  # noqa: E402

from annotator.annotations import add_span  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.errors import StorageError  # noqa: E402
from annotator.exporting import export_to_path  # noqa: E402
from annotator.importing import ImportFile, import_files  # noqa: E402
from annotator.projects import add_member, create_project  # noqa: E402
from annotator.store import Store, now  # noqa: E402
from annotator.store.transfer import DOCUMENT_COLUMNS, SPAN_COLUMNS  # noqa: E402
from annotator.text import Boundaries, text_sha256  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
LABELS = ("CLAIM", "QUOTE", "SOURCE", "CUE")


class Places:
    """Fresh databases of either backend: files in one folder, databases on one server (dropped at the end)."""

    def __init__(self, folder: Path, admin_url: str):
        self.folder, self.admin, self.urls, self.n = folder, admin_url, [], 0

    def new(self, backend: str) -> str:
        self.n += 1
        if backend == "sqlite":
            return str(self.folder / f"bench{self.n}.db")
        url = create_database(self.admin)
        self.urls.append(url)
        return url

    def drop_all(self) -> None:
        for url in self.urls:
            drop_database(self.admin, url)


def fresh(location: str):
    store = Store(location)
    ensure_demo(store)
    admin = store.user_by_username("admin")
    return store, admin, create_project(store, admin, "Bench")


# ---- import -------------------------------------------------------------------------------------------------


def baseline_rows(store: Store, project_id: int, uid: int, corpus: list[dict]) -> tuple[list[tuple], list[tuple]]:
    """The document and span rows an import writes (ids from the store's next free ids), built before timing."""
    label_ids = {lab.name: lab.id for lab in store.list_labels(project_id)}
    doc_id, span_id, t = store.next_ids("documents"), store.next_ids("spans"), now()
    doc_rows, span_rows = [], []
    for pos, d in enumerate(corpus, start=1):
        doc_rows.append((doc_id, project_id, str(d["id"]), d["text"], d["text"], text_sha256(d["text"]), "bench", "{}", pos, t))
        for a, b, lab in d["label"]:
            span_rows.append((span_id, doc_id, label_ids[lab], uid, "annotator", a, b, d["text"][a:b], "{}", "{}", t, t))
            span_id += 1
        doc_id += 1
    return doc_rows, span_rows


def baseline_import(location: str, backend: str, corpus: list[dict]) -> float:
    """Seconds for the raw driver to write the same rows in one transaction: sqlite3 executemany, psycopg COPY."""
    store, admin, project = fresh(location)
    doc_rows, span_rows = baseline_rows(store, project.id, admin.id, corpus)
    store.close()
    docs_sql, spans_sql = ", ".join(DOCUMENT_COLUMNS), ", ".join(SPAN_COLUMNS)
    if backend == "sqlite":
        conn = sqlite3.connect(location, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO documents ({docs_sql}) VALUES ({', '.join('?' * len(DOCUMENT_COLUMNS))})", doc_rows)
        conn.executemany(f"INSERT INTO spans ({spans_sql}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))})", span_rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed
    with psycopg.connect(location) as conn:
        start = time.perf_counter()
        with conn.cursor().copy(f"COPY documents ({docs_sql}) FROM STDIN") as copy:
            for row in doc_rows:
                copy.write_row(row)
        with conn.cursor().copy(f"COPY spans ({spans_sql}) FROM STDIN") as copy:
            for row in span_rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - start


def nisba_import(location: str, payload: bytes, n_spans: int) -> tuple[float, Store, object, object]:
    store, admin, project = fresh(location)
    start = time.perf_counter()
    preview, result = import_files(store, admin, project.id, [ImportFile("bench.jsonl", payload)], annotator="amal")
    elapsed = time.perf_counter() - start
    assert not preview.rejected and result.spans == n_spans, (preview.rejected[:3], result.spans)
    return elapsed, store, admin, project


def bench_import(places: Places, corpus: list[dict], repeat: int) -> dict:
    """Import and baseline times per backend (runs interleaved), then the CSV export of the last import."""
    payload = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus).encode("utf-8")
    n_spans = sum(len(d["label"]) for d in corpus)
    out = {b: {"base": [], "nisba": [], "export": []} for b in BACKENDS}
    kept = {}
    for r in range(repeat):
        for backend in BACKENDS:
            out[backend]["base"].append(baseline_import(places.new(backend), backend, corpus))
            seconds, store, admin, project = nisba_import(places.new(backend), payload, n_spans)
            out[backend]["nisba"].append(seconds)
            if r == repeat - 1:
                kept[backend] = (store, admin, project)
            else:
                store.close()
    for _r in range(repeat):
        for backend, (store, admin, project) in kept.items():
            start = time.perf_counter()
            export_to_path(store, admin, project.id, "csv", places.folder / f"spans-{backend}.csv")
            out[backend]["export"].append(time.perf_counter() - start)
    for backend, (store, _admin, _project) in kept.items():
        out[backend]["rows"] = sum(1 for _ in open(places.folder / f"spans-{backend}.csv", encoding="utf-8", newline="")) - 1
        store.close()
    return out


# ---- saves under load ---------------------------------------------------------------------------------------


def team(location: str, writers: int) -> tuple[list[int], int]:
    """The demo database plus ``writers`` annotators in its project; (their ids, the demo document's id)."""
    store = Store(location)
    ensure_demo(store)
    admin = store.user_by_username("admin")
    project = store.list_projects()[0]
    ids = []
    for i in range(writers):
        with store.write():
            uid = store.insert_user(f"writer{i:02d}", "annotator")
        add_member(store, admin, project.id, uid)
        ids.append(uid)
    doc_id = store.list_documents(project.id)[0].id
    store.close()  # no connection may cross the fork
    return ids, doc_id


def _timed(store: Store) -> tuple[list[float], list[float]]:
    """Record, for each save of this store, the ``record_event`` time and the time the write lock was held
    (from the lock granted to the commit done): wraps the two calls of this one object."""
    events, held = [], []
    record, transaction = store.record_event, store._backend.transaction

    def record_event(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return record(*args, **kwargs)
        finally:
            events.append(time.perf_counter() - t0)

    @contextmanager
    def timed_transaction():
        granted = 0.0
        with transaction():
            granted = time.perf_counter()
            yield
        held.append(time.perf_counter() - granted)  # after the commit; a rolled-back save is not counted

    store.record_event = record_event
    store._backend.transaction = timed_transaction
    return events, held


def _writer(location: str, user_id: int, doc_id: int, offset: int, n: int, start, out) -> None:
    """Save ``n`` single-word spans through the core, timing each; a save refused as busy is retried."""
    store = Store(location, migrate_schema=False)
    user = store.get_user(user_id)
    words = Boundaries(store.get_document(doc_id).text).words
    add_span(store, user, doc_id, "CLAIM", *words[offset % len(words)])  # warm: pool, audit key, caches
    events, held = _timed(store)
    latencies, retries = [], 0
    start.wait()
    for k in range(n):
        s, e = words[(offset * 7 + k) % len(words)]
        t0 = time.perf_counter()
        while True:
            try:
                add_span(store, user, doc_id, LABELS[k % 4], s, e)
                break
            except StorageError:
                retries += 1
        latencies.append(time.perf_counter() - t0)
    store.close()
    out.put((latencies, events, held, retries))


def bench_saves(location: str, writers: int, spans_each: int) -> dict:
    ids, doc_id = team(location, writers)
    ctx = mp.get_context("forkserver")  # children forked from a fresh single-threaded server
    start, out = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(location, uid, doc_id, i, spans_each, start, out)) for i, uid in enumerate(ids)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    flat = [[x for r in results for x in r[i]] for i in range(3)]
    return {"latency": flat[0], "event": flat[1], "held": flat[2], "retries": sum(r[3] for r in results), "wall": wall}


# ---- output -------------------------------------------------------------------------------------------------


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def secs(times: list[float]) -> str:
    return f"{min(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})"


def row(name: str, values: dict[str, str]) -> None:
    print(f"  {name:<44} {values['sqlite']:>28}   {values['postgresql']:>28}")


def report_import(imp: dict, n_docs: int, n_spans: int) -> None:
    print(f"\nimport of {n_docs} documents / {n_spans} spans (best of runs):")
    row("", {"sqlite": "SQLite", "postgresql": "PostgreSQL"})
    row("Nisba import (preview + one transaction)", {b: secs(imp[b]["nisba"]) for b in BACKENDS})
    row("raw baseline (executemany / COPY)", {b: secs(imp[b]["base"]) for b in BACKENDS})
    row("ratio Nisba / baseline", {b: f"{min(imp[b]['nisba']) / min(imp[b]['base']):.2f}x" for b in BACKENDS})
    row(f"CSV export of the spans ({imp['sqlite']['rows']} rows)", {b: secs(imp[b]["export"]) for b in BACKENDS})


def report_saves(saves: dict) -> None:
    for label, runs in saves.items():
        n = len(runs["sqlite"]["latency"])
        print(f"\nsaves (annotations.add_span), {label}: {n} saves per backend")
        row("", {"sqlite": "SQLite", "postgresql": "PostgreSQL"})
        row("latency p50 / p95", {b: f"{ms(pct(r['latency'], 0.5))} / {ms(pct(r['latency'], 0.95))}" for b, r in runs.items()})
        row("throughput", {b: f"{len(r['latency']) / r['wall']:.0f} saves/s" for b, r in runs.items()})
        row(
            "write lock held per save p50 / p95",
            {b: f"{ms(pct(r['held'], 0.5))} / {ms(pct(r['held'], 0.95))}" for b, r in runs.items()},
        )
        row(
            "audit record_event p50 / p95",
            {b: f"{ms(pct(r['event'], 0.5))} / {ms(pct(r['event'], 0.95))}" for b, r in runs.items()},
        )
        row("saves retried (busy)", {b: str(r["retries"]) for b, r in runs.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--spans-per-doc", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2, help="runs of the import and export, interleaved")
    ap.add_argument("--writers", type=int, default=20)
    ap.add_argument("--spans-each", type=int, default=100, help="saves per writer under load")
    ap.add_argument("--single", type=int, default=300, help="saves of the lone writer")
    ap.add_argument("--parts", default="import,saves", help="what to measure: import (with export), saves, or both")
    args = ap.parse_args()
    corpus = make_corpus(args.docs, args.spans_per_doc)
    n_spans = sum(len(d["label"]) for d in corpus)
    with benchmark_server() as (admin_url, where), tempfile.TemporaryDirectory(dir=_parent_folder()) as tmp:
        os.environ["NISBA_SECRET_FILE"] = str(Path(tmp) / "bench.secret")  # before the fork server starts
        places = Places(Path(tmp), admin_url)
        with psycopg.connect(admin_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {version}: {where}; SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL) in {tmp}")
        print(f"machine: {os.cpu_count()} cores, load average {load()} at the start (other work slows both backends alike)")
        try:
            if "import" in args.parts:
                report_import(bench_import(places, corpus, args.repeat), len(corpus), n_spans)
                print(f"  (load average {load()})")
            if "saves" in args.parts:
                saves = {
                    "1 writer": {b: bench_saves(places.new(b), 1, args.single) for b in BACKENDS},
                    f"{args.writers} concurrent writer processes": {
                        b: bench_saves(places.new(b), args.writers, args.spans_each) for b in BACKENDS
                    },
                }
                report_saves(saves)
                print(f"  (load average {load()})")
        finally:
            places.drop_all()


if __name__ == "__main__":
    main()
