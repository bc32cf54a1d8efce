"""Search speed (issue 12): prints figures, asserts nothing.

5,000 documents of about 2,000 characters cut from the demo article's words, one word in fifty written with
harakat or tatweel (so folding takes its slow path on most documents):
- loading the texts (documents inserted in one transaction) against building the search index from them
  (folding every text and filling both FTS5 tables);
- a word search and a substring search (first page of 50 hits, with the total counted), median of repeats,
  for a frequent word, a rare word and a phrase.

Run: ``.venv/bin/python benchmarks/bench_search.py [--docs 5000] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def load(store: Store, project_id: int, texts: list[str]) -> tuple[float, float]:
    """Insert the documents in one transaction; returns (seconds loading, seconds building the index). The
    triggers only queue rows while loading; folding the queue (what every commit does) is timed apart."""
    rows = []
    next_id = 1
    t0 = time.perf_counter()
    with store.write():
        for i, raw in enumerate(texts):
            c = canonicalize(raw)
            rows.append((next_id + i, project_id, f"doc {i}", c.text, raw, c.sha256, "", "{}", i + 1, now()))
        store.bulk_insert_documents(rows)
        t1 = time.perf_counter()
        store._flush_search_queue()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    texts = make_texts(args.docs)
    chars = sum(map(len, texts))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        admin = store.get_user(store.insert_user("admin", "admin"))
        project = create_project(store, admin, "bench", default_labels=True)
        load_s, build_s = load(store, project.id, texts)
        print(f"{args.docs} documents, {chars:,} characters")
        print(f"load texts (canonicalise + insert): {load_s:.2f} s")
        print(f"build index (fold + FTS5 words + trigrams): {build_s:.2f} s  = {build_s / load_s:.2f}x load")
        t = time.perf_counter()
        store.rebuild_search_index()
        print(f"rebuild index from scratch (rebuild_search_index): {time.perf_counter() - t:.2f} s")
        cases = [
            ("word, frequent", "قال", False),
            ("word, rare", "الاتحاد", False),
            ("phrase", '"وزير الخارجية"', False),
            ("substring, frequent", "الوزار", True),
            ("substring, attached forms", "الخارجية", True),
            ("substring, two letters", "قا", True),
        ]
        for name, query, substring in cases:
            seconds, result = timed(lambda q=query, s=substring: search(store, admin, project.id, q, substring=s), args.repeats)
            print(f"{name:28s} {query:18s} {seconds * 1000:7.1f} ms  ({result.total:,} hits in {result.documents:,} documents)")
        store.close()


if __name__ == "__main__":
    main()
