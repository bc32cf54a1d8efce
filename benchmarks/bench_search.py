"""Search speed (issue 12): prints figures, asserts nothing.

5,000 documents of about 2,000 characters cut from the demo article's words, one word in fifty written with
harakat or tatweel (so folding takes its slow path on most documents):
- loading the texts (documents inserted in one transaction) against building the search index from them
  (folding every text and filling the FTS5 word index); the same texts through the importer, and what the
  index adds to an import of 5,000 documents with 100,000 spans;
- a word search and a substring search (first page of 50 hits, with the total counted), median of repeats,
  for a frequent word, a rare word and a phrase;
- the Sources page over 100,000 spans (SOURCE, CUE and CLAIM/QUOTE with their links, 300 names written several
  ways): the index alone, and the whole page run by Streamlit's AppTest, first (index built) and cached.

Run: ``.venv/bin/python benchmarks/bench_search.py [--docs 5000] [--repeats 7] [--spans 100000]``
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from annotator.demo import DEMO_ARTICLE  # noqa: E402
from annotator.projects import create_project  # noqa: E402
from annotator.search import search  # noqa: E402
from annotator.store import Store, now  # noqa: E402
from annotator.text import canonicalize  # noqa: E402

VOCALISED = {"قال": "قَالَ", "الوزير": "الوَزِيرُ", "وزير": "وزيـــر", "أن": "أنَّ"}


def make_texts(n_docs: int, seed: int = 11) -> list[str]:
    """Documents of about 2,000 characters of the demo article's words, some written with harakat/tatweel."""
    rng = random.Random(seed)
    words = DEMO_ARTICLE.read_text(encoding="utf-8").split() + list(VOCALISED)
    texts = []
    for i in range(n_docs):
        out, size = [], 0
        while size < 2000:
            w = rng.choice(words)
            if rng.random() < 0.02:
                w = VOCALISED.get(w, w[:1] + "\u064e" + w[1:])
            out.append(w)
            size += len(w) + 1
        texts.append(f"وثيقة {i}: " + " ".join(out))
    return texts


def load(store: Store, project_id: int, texts: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """Insert the documents in one transaction; returns (wall, CPU) seconds loading and building the index. The
    triggers only queue rows while loading; folding the queue (what every commit does) is timed apart."""
    rows = []
    next_id = 1
    t0, c0 = time.perf_counter(), time.process_time()
    with store.write():
        for i, raw in enumerate(texts):
            c = canonicalize(raw)
            rows.append((next_id + i, project_id, f"doc {i}", c.text, raw, c.sha256, "", "{}", i + 1, now()))
        store.bulk_insert_documents(rows)
        t1, c1 = time.perf_counter(), time.process_time()
        store._flush_search_queue()
        t2, c2 = time.perf_counter(), time.process_time()
    return (t1 - t0, c1 - c0), (t2 - t1, c2 - c1)


def import_with_index(store: Store, admin, texts: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """Import the texts as a JSONL file into a new project the way the app does; returns (wall, CPU) of the whole
    import and of the index fold inside it (the store's flush, timed by wrapping it)."""
    import json

    from annotator.importing import ImportFile, import_files

    project = create_project(store, admin, "imported", default_labels=True)
    data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts).encode()
    flush, spent = store._flush_search_queue, [0.0, 0.0]

    def timed_flush() -> int:
        t, c = time.perf_counter(), time.process_time()
        try:
            return flush()
        finally:
            spent[0] += time.perf_counter() - t
            spent[1] += time.process_time() - c

    store._flush_search_queue = timed_flush
    t, c = time.perf_counter(), time.process_time()
    import_files(store, admin, project.id, [ImportFile("texts.jsonl", data)])
    total = (time.perf_counter() - t, time.process_time() - c)
    del store._flush_search_queue
    return total, (spent[0], spent[1])


def import_cost_of_the_index(docs: int) -> None:
    """Import ``docs`` documents with 20 spans each (bench_transfer's corpus) into two fresh databases, one with
    the search index's triggers dropped: what the index adds to an import."""
    import json

    from bench_transfer import make_corpus

    from annotator.importing import ImportFile, import_files

    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make_corpus(docs, 20)).encode()
    for with_index in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "import.db")
            if not with_index:
                for when in ("ai", "au", "ad"):
                    store.db.conn.execute(f"DROP TRIGGER search_documents_{when}")
            admin = store.get_user(store.insert_user("admin", "admin"))
            project = create_project(store, admin, "import", default_labels=True)
            t, c = time.perf_counter(), time.process_time()
            import_files(store, admin, project.id, [ImportFile("bench.jsonl", payload)], annotator="amal")
            spans = store.project_span_count(project.id)
            print(
                f"import {docs} documents + {spans:,} spans {'with' if with_index else 'without'} the search index:"
                f" {time.perf_counter() - t:.2f} s (CPU {time.process_time() - c:.2f} s)"
            )
            store.close()


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall-clock and CPU seconds of ``fn`` over ``repeats`` calls, and its last result. CPU time is
    printed too because the machine is shared: wall-clock figures grow with the load, CPU time much less."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls), statistics.median(cpus), out


CUES = ["قال", "أكد", "زعم", "أوضح", "نفى", "بحسب", "أشار", "ذكر"]
NAMES = [f"{first} {last}" for first in ("ماركو", "محمد", "سارة", "علي", "ليلى", "يوسف", "مريم", "خالد", "هدى", "عمر")
         for last in ("روبيو", "الأحمد", "الخطيب", "حداد", "النجار", "السيد", "الحسن", "منصور", "شريف", "عيسى",
                      "الزين", "قاسم", "البدري", "العلي", "سليمان", "داود", "يعقوب", "صالح", "نصر", "فارس",
                      "الشامي", "المصري", "العراقي", "التونسي", "الليبي", "اليمني", "السوري", "المغربي", "الكويتي",
                      "القطري")]  # fmt: skip


def sources_corpus(store: Store, project_id: int, spans: int, docs: int, seed: int = 5) -> None:
    """Documents of sentences «CUE SOURCE إن CONTENT.», each giving a SOURCE, a CUE and a CLAIM or QUOTE span with
    their two links (``spans`` spans in all, over ``docs`` documents); names sometimes written with harakat."""
    rng = random.Random(seed)
    labels = {lab.name: lab.id for lab in store.list_labels(project_id)}
    words = DEMO_ARTICLE.read_text(encoding="utf-8").split()
    sentences = spans // 3
    doc_rows, span_rows, link_rows = [], [], []
    with store.write():
        doc_id, span_id = store.next_ids("documents"), store.next_ids("spans")
        t = now()
        for d in range(docs):
            parts, pos = [], 0
            for _ in range(sentences // docs + (d < sentences % docs)):
                name = rng.choice(NAMES)
                if rng.random() < 0.2:
                    name = name[0] + "\u064f" + name[1:]
                cue, content = rng.choice(CUES), " ".join(rng.choices(words, k=8))
                sentence = f"{cue} {name} إن {content}."
                offsets = [("CUE", 0, len(cue)), ("SOURCE", len(cue) + 1, len(cue) + 1 + len(name))]
                c0 = len(cue) + len(name) + 5
                offsets.append((rng.choice(["CLAIM", "QUOTE"]), c0, c0 + len(content)))
                ids = []
                for label, a, b in offsets:
                    span_rows.append((span_id, doc_id, labels[label], 1, "annotator", pos + a, pos + b,
                                      sentence[a:b], "{}", "{}", t, t))  # fmt: skip
                    ids.append(span_id)
                    span_id += 1
                link_rows += [(ids[2], ids[1], "attributed_to", 1, t), (ids[2], ids[0], "cue", 1, t)]
                parts.append(sentence)
                pos += len(sentence) + 1
            text = " ".join(parts)
            doc_rows.append((doc_id, project_id, f"خبر {d}", text, text, "", "", "{}", d + 1, t))
            doc_id += 1
        store.bulk_insert_documents(doc_rows)
        store.bulk_insert_spans(span_rows)
        store.bulk_insert_links(link_rows)


def bench_sources(args) -> None:
    """The Sources page over ``args.spans`` spans: the index, then the page under AppTest (first and cached run)."""
    import os

    from streamlit.testing.v1 import AppTest

    from annotator.attribution_index import attribution_index, index_csv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.db"
        store = Store(path)
        admin = store.get_user(store.insert_user("admin", "admin"))
        project = create_project(store, admin, "sources", default_labels=True)
        sources_corpus(store, project.id, args.spans, args.docs)
        n = store.project_span_count(project.id)
        t = time.perf_counter()
        index = attribution_index(store, admin, project.id)
        table = index.table()
        t_index = time.perf_counter() - t
        t = time.perf_counter()
        index_csv(store, admin, index)
        t_csv = time.perf_counter() - t
        print(f"Sources: {n:,} spans, {len(table)} sources: index {t_index * 1000:.0f} ms, CSV files {t_csv * 1000:.0f} ms")
        os.environ["NISBA_DB"] = str(path)
        at = AppTest.from_file(str(ROOT / "pages" / "sources.py"), default_timeout=120)
        at.session_state["nisba_user_id"] = admin.id
        runs = [
            ("first run (imports Streamlit's and the page's modules, builds the index)", None),
            ("index built again (annotators' layers chosen)", "annotator"),
            ("cached (same layer again)", None),
        ]
        for run, layer in runs:
            if layer is not None:
                at.radio(key="sources_layer").set_value(layer)
            t = time.perf_counter()
            at.run()
            print(f"Sources page, {run}: {(time.perf_counter() - t) * 1000:.0f} ms" + (" (exception!)" if at.exception else ""))
        store.close()


@contextmanager
def bench_location(backend: str, tmp: Path):
    """A SQLite file in ``tmp``, or a new database on $NISBA_BENCH_PG_URL or on a throwaway cluster."""
    if backend == "sqlite":
        yield tmp / "bench.db"
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_cluster import benchmark_server, create_database

    os.environ["NISBA_SECRET_FILE"] = str(tmp / "bench.secret")
    with benchmark_server() as (admin_url, _where):
        yield create_database(admin_url)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--spans", type=int, default=100_000)
    ap.add_argument("--only", choices=["search", "sources"], default=None)
    ap.add_argument(
        "--backend", choices=["sqlite", "postgresql"], default="sqlite",
        help="where the search part runs: postgresql starts a throwaway cluster (or uses $NISBA_BENCH_PG_URL)",
    )  # fmt: skip
    args = ap.parse_args()
    if args.only != "search":
        bench_sources(args)
    if args.only == "sources":
        return
    texts = make_texts(args.docs)
    chars = sum(map(len, texts))
    with tempfile.TemporaryDirectory() as tmp, bench_location(args.backend, Path(tmp)) as location:
        store = Store(location)
        print(f"backend: {store.display_name}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        admin = store.get_user(store.insert_user("admin", "admin"))
        project = create_project(store, admin, "bench", default_labels=True)
        (load_s, load_cpu), (build_s, build_cpu) = load(store, project.id, texts)
        print(f"{args.docs} documents, {chars:,} characters")
        print(f"load texts (canonicalise + insert): {load_s:.2f} s (CPU {load_cpu:.2f} s)")
        print(
            f"build index (fold + FTS5 word index): {build_s:.2f} s (CPU {build_cpu:.2f} s)"
            f" = {build_s / load_s:.2f}x load (CPU {build_cpu / load_cpu:.2f}x)"
        )
        t, c = time.perf_counter(), time.process_time()
        store.rebuild_search_index()
        rebuild_s, rebuild_cpu = time.perf_counter() - t, time.process_time() - c
        print(
            f"rebuild index from scratch (rebuild_search_index): {rebuild_s:.2f} s (CPU {rebuild_cpu:.2f} s)"
            f" = {rebuild_s / load_s:.2f}x load (CPU {rebuild_cpu / load_cpu:.2f}x)"
        )
        if args.backend == "sqlite":  # it drops SQLite triggers to compare
            import_cost_of_the_index(args.docs)
        imported, index_part = import_with_index(store, admin, texts)
        print(
            f"import of the same texts (importing.import_files, index built in its transaction): {imported[0]:.2f} s"
            f" (CPU {imported[1]:.2f} s), of which the index {index_part[0]:.2f} s (CPU {index_part[1]:.2f} s)"
            f" = {index_part[1] / (imported[1] - index_part[1]):.2f}x the rest of the import (CPU)"
        )
        cases = [
            ("word, frequent", "قال", False),
            ("word, rare", "الاتحاد", False),
            ("phrase", '"وزير الخارجية"', False),
            ("substring, frequent", "حكومات", True),  # inside الحكومات and حكوماتهم
            ("substring, rare", "سفارات", True),  # inside السفارات
            ("substring, found nowhere", "الوزار", True),
            ("substring, attached forms", "الخارجية", True),
            ("substring, two letters", "قا", True),
        ]
        for name, query, substring in cases:
            wall, cpu, result = timed(lambda q=query, s=substring: search(store, admin, project.id, q, substring=s), args.repeats)
            print(
                f"{name:28s} {query:18s} {wall * 1000:7.1f} ms (CPU {cpu * 1000:6.1f} ms)"
                f"  {result.total:,} hits in {result.documents:,} documents"
            )
        store.close()


if __name__ == "__main__":
    main()
