"""Figures for teams (issue 3): agreement over a project, review screen server time, write latency under load.

Run: ``.venv/bin/python benchmarks/bench_teams.py``. Prints figures; asserts nothing.
Targets from the issue: agreement over 200 documents × 3 annotators × 50 spans < 2 s; review screen server
time for a document with 3 × 500 spans < 200 ms; write latency p50/p95 under 20 writer processes (no target).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from annotator import agreement, review  # noqa: E402
from annotator.annotations import add_span  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.errors import StorageError  # noqa: E402
from annotator.projects import add_document, add_member, create_project  # noqa: E402
from annotator.store import Store  # noqa: E402
from annotator.text import Boundaries  # noqa: E402
from annotator.ui.review_layers import layers_html  # noqa: E402

LABELS = ("CLAIM", "QUOTE", "SOURCE", "CUE")
ARTICLE = (ROOT / "data/demo/rubio-cable-migration.ar.txt").read_text(encoding="utf-8")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def show(name: str, times: list[float], target: str = "") -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(
        f"{name}: median {ms(statistics.median(times))}, p95 {ms(p95)}, min {ms(times[0])}  (n={len(times)}{', target ' + target if target else ''})"
    )


def team(store: Store, name: str, n_annotators: int) -> tuple[int, list[int], object]:
    """A project with ``n_annotators`` annotators and a reviewer; (project id, annotator ids, reviewer)."""
    admin = store.user_by_username("admin")
    project = create_project(store, admin, name)
    ids = []
    with store.write():
        for i in range(n_annotators):
            ids.append(store.insert_user(f"{name}-annotator{i}", "annotator"))
        reviewer_id = store.insert_user(f"{name}-reviewer", "reviewer")
    for uid in [*ids, reviewer_id]:
        add_member(store, admin, project.id, uid)
    return project.id, ids, store.get_user(reviewer_id)


def layers(
    store: Store, doc_id: int, text: str, annotators: list[int], n_spans: int, rng: random.Random, label_ids: dict
) -> None:
    """``n_spans`` word-aligned spans per annotator: mostly shared, some moved, relabelled or only one's.
    Inserted directly (one transaction): this is benchmark setup, not the code measured."""
    words = Boundaries(text).words
    base = []
    for _ in range(n_spans):
        i = rng.randrange(len(words) - 12)
        base.append((words[i][0], words[i + rng.choice([0, 1, 2, 5, 10])][1], rng.choice(LABELS)))
    with store.write():
        for a in annotators:
            for s, e, label in base:
                roll = rng.random()
                if roll < 0.10:
                    label = rng.choice(LABELS)  # another label
                elif roll < 0.20:
                    e = min(len(text), e + 3)  # other boundaries
                    e = Boundaries(text).snap_grapheme(s, e)[1]
                elif roll < 0.25:
                    i = rng.randrange(len(words) - 1)
                    s, e = words[i]  # a span only this annotator made
                store.insert_span(doc_id, label_ids[label], a, s, e, text[s:e], {}, "annotator")


def bench_agreement(store: Store) -> None:
    pid, annotators, reviewer = team(store, "agreement-bench", 3)
    admin = store.user_by_username("admin")
    label_ids = {lab.name: lab.id for lab in store.list_labels(pid)}
    rng = random.Random(3)
    for d in range(200):
        doc = add_document(store, admin, pid, f"doc {d}", ARTICLE)
        layers(store, doc.id, doc.text, annotators, 50, rng, label_ids)
    times, compute_times = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        report = agreement.agreement_report(store, reviewer, pid)
        times.append(time.perf_counter() - t0)
        data = agreement.load_project(store, reviewer, pid)
        t0 = time.perf_counter()
        agreement.compute(data)
        compute_times.append(time.perf_counter() - t0)
    print(f"agreement report, 200 documents × 3 annotators × 50 spans ({len(data.spans)} spans, {len(report.span_f1)} F1 rows):")
    show("  read + compute", times, "< 2 s")
    show("  compute only", compute_times)
    whole = report.alpha[(report.alpha.level == "project") & (report.alpha.label == agreement.ALL)].alpha.iloc[0]
    print(f"  (synthetic layers: token alpha {whole:.3f})")


def bench_review_screen(store: Store, db_path: str) -> None:
    from streamlit.testing.v1 import AppTest

    pid, annotators, reviewer = team(store, "review-bench", 3)
    admin = store.user_by_username("admin")
    label_ids = {lab.name: lab.id for lab in store.list_labels(pid)}
    doc = add_document(store, admin, pid, "long article", "\n\n".join([ARTICLE] * 4))
    layers(store, doc.id, doc.text, annotators, 500, random.Random(5), label_ids)
    print(f"review screen, one document of {len(doc.text)} characters with 3 × 500 spans:")

    def core() -> None:
        view = review.load_review(store, reviewer, doc.id)
        view.span_table()
        view.link_table()
        layers_html(view.document.text, view.spans, view.annotator_ids, view.labels, gold=view.gold, names=view.names)

    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        core()
        times.append(time.perf_counter() - t0)
    show("  load + align + table + layered HTML (core)", times)

    os.environ["NISBA_DB"] = db_path
    at = AppTest.from_file(str(ROOT / "pages/review.py"), default_timeout=60)
    at.session_state["nisba_user_id"] = reviewer.id
    at.session_state["review_project"] = pid
    at.run()
    if at.exception:
        print("  AppTest exception:", at.exception)
        return
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    show("  page rerun, AppTest.run() wall time", times, "< 200 ms")


def _writer(path: str, user_id: int, doc_id: int, offset: int, n: int, start, out) -> None:
    store = Store(path, migrate_schema=False)
    user = store.get_user(user_id)
    text = store.get_document(doc_id).text
    words = Boundaries(text).words
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
    out.put((latencies, retries))


def _reader(path: str, doc_id: int, reviewer_id: int, start, stop) -> None:
    store = Store(path, migrate_schema=False)
    reviewer = store.get_user(reviewer_id)
    start.wait()
    while not stop.is_set():
        review.load_review(store, reviewer, doc_id)


def bench_write_load(tmp: Path, writers: int = 20, spans_each: int = 200, readers: int = 3) -> None:
    path = str(tmp / "load.db")
    store = Store(path)
    ensure_demo(store)
    pid, annotators, reviewer = team(store, "load-bench", writers)
    doc_id = add_document(store, store.user_by_username("admin"), pid, "article", ARTICLE).id
    store.close()
    ctx = mp.get_context("forkserver")  # children forked from a fresh single-threaded server
    start, stop, out = ctx.Barrier(writers + readers + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, uid, doc_id, i, spans_each, start, out)) for i, uid in enumerate(annotators)]
    procs += [ctx.Process(target=_reader, args=(path, doc_id, reviewer.id, start, stop)) for _ in range(readers)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [out.get() for _ in range(writers)]
    wall = time.perf_counter() - t0
    stop.set()
    for p in procs:
        p.join()
    latencies = [x for lat, _r in results for x in lat]
    retries = sum(r for _lat, r in results)
    print(f"write load: {writers} writer processes × {spans_each} spans + {readers} readers (review screen data) on one file:")
    show("  add_span latency (check, insert, audit event, commit)", latencies)
    print(
        f"  throughput {len(latencies) / wall:.0f} spans/s, wall {wall:.1f} s, busy retries {retries}, max {ms(max(latencies))}"
    )
    store = Store(path)
    n = store.query("SELECT count(*) AS n FROM spans WHERE document_id = ?", [doc_id])[0]["n"]
    print(
        f"  spans stored {n} of {writers * spans_each}; integrity_check {store.query('PRAGMA integrity_check')[0]['integrity_check']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["agreement", "review", "load"], action="append", help="run only these parts")
    parts = set(parser.parse_args().only or ["agreement", "review", "load"])
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "bench.db")
        store = Store(db_path)
        ensure_demo(store)
        if "agreement" in parts:
            bench_agreement(store)
        if "load" in parts:  # before the AppTest run, which replaces __main__ (the writers are pickled by name)
            bench_write_load(Path(tmp))
        if "review" in parts:
            bench_review_screen(store, db_path)
        store.close()


if __name__ == "__main__":
    main()
