"""Figures for the annotation screen's server side: the component's state and deltas, span save, page rerun.

Run: ``.venv/bin/python benchmarks/bench_annotation.py``. Prints figures; asserts nothing. The browser loop
(hotkey to paint, bytes, server CPU, several annotators) is ``bench_annotation_loop.py``.
Targets: save < 5 ms (median), rerun < 150 ms.
Reruns are timed twice: without a data change (cached spans/payload/table) and right after a span was saved.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser.long_document import synthetic_spans, synthetic_text  # noqa: E402

from annotator.annotations import add_span  # noqa: E402
from annotator.article_actions import apply_action  # noqa: E402
from annotator.article_sync import ArticleSync  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.projects import add_document  # noqa: E402
from annotator.store import Store  # noqa: E402
from annotator.text import Boundaries  # noqa: E402

N_CHARS = 100_000
N_SPANS = 5_000


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def show(name: str, times: list[float], target: str) -> None:
    print(
        f"{name:<58} median {statistics.median(times):7.1f} ms   min {min(times):7.1f} ms   (n={len(times)}, target {target})",
        flush=True,
    )


def bench_sync(store: Store, doc_id: int) -> None:
    """What the server does for the article component (annotator.article_sync): the full state once per
    document, then per tag: read what changed and build the delta."""
    doc = store.get_document(doc_id)
    amal = store.user_by_username("amal")
    print(f"synthetic document: {len(doc.text):,} characters, {len(store.list_spans(doc_id)):,} spans")

    def full() -> bytes:
        sync = ArticleSync(store, amal, doc)
        sync.refresh(store, amal)
        return sync.message(None, {})

    show("full state: read spans + links, UTF-8 JSON (once per document)", timed(full, 10), "-")
    print(f"  full state size: {len(full()) / 1024:.0f} KB")
    sync = ArticleSync(store, amal, doc)
    sync.refresh(store, amal)
    words = iter(Boundaries(doc.text).words[3::11])

    times = []
    for _ in range(30):
        add_span(store, amal, doc_id, "CUE", *next(words))
        base = sync.rev
        t = time.perf_counter()
        sync.refresh(store, amal)
        data = sync.message(base, {})
        times.append((time.perf_counter() - t) * 1000)
    show("per tag: read what changed + delta message", times, "-")
    print(f"  delta size: {len(data)} bytes")


def bench_save(store: Store, user, doc_id: int, text: str, name: str) -> None:
    words = Boundaries(text).words
    rng = random.Random(5)
    picks = [words[rng.randrange(len(words) - 3)] for _ in range(100)]
    pending = iter(picks)
    times = timed(lambda: add_span(store, user, doc_id, "CLAIM", *next(pending)), len(picks))
    show(f"save one span (add_span, file DB, WAL), {name}", times, "< 5 ms")
    doc = store.get_document(doc_id)
    pending = iter(picks)

    def tag() -> None:
        s, e = next(pending)
        out = apply_action(store, user, doc, {"type": "tag", "label": "QUOTE", "start": s, "end": max(s + 1, e - 1)})
        assert out.kind == "saved", out.message

    show(f"  the page's tag action (snap + add_span), {name}", timed(tag, len(picks)), "-")


def bench_rerun(db_path: Path, doc_ids: dict[str, int], user_id: int) -> None:
    """Page reruns as AppTest sees them: without a data change (a click, a toggle: the cached spans, payload
    and table are reused) and right after a change (a span saved through the core: everything is rebuilt)."""
    from streamlit.testing.v1 import AppTest

    os.environ["NISBA_DB"] = str(db_path)
    store = Store(db_path)
    user = store.get_user(user_id)
    for name, doc_id in doc_ids.items():
        at = AppTest.from_file(str(ROOT / "pages/annotate.py"), default_timeout=60)
        at.session_state["nisba_user_id"] = user_id
        at.query_params["doc"] = str(doc_id)
        at.run()
        if at.exception:
            print("  AppTest exception:", at.exception)
            return
        show(f"page rerun without a change, {name}", timed(at.run, 10), "< 150 ms")
        words = iter(Boundaries(store.get_document(doc_id).text).words[5::7])
        after_change = []
        for _ in range(10):
            add_span(store, user, doc_id, "CLAIM", *next(words))  # not timed: the save itself is measured above
            after_change.append(timed(at.run, 1)[0])
        show(f"page rerun after a change (a span saved), {name}", after_change, "< 150 ms")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load} (figures are wall times)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        store = Store(tmp / "bench.db")
        ensure_demo(store)
        admin = store.user_by_username("admin")
        amal = store.user_by_username("amal")
        project_id = store.list_projects()[0].id
        text = synthetic_text()
        big = add_document(store, admin, project_id, "synthetic 100k", text)
        label_ids = [lab.id for lab in store.list_labels(project_id)]
        with store.write():  # setup only: 5,000 spans straight into the table
            for i, (s, e) in enumerate(synthetic_spans(big.text)):
                store.insert_span(big.id, label_ids[i % 4], amal.id, s, e, big.text[s:e])
        bench_sync(store, big.id)
        demo_id = store.list_documents(project_id)[0].id
        bench_save(store, amal, big.id, big.text, "synthetic 100k doc")
        bench_save(store, amal, demo_id, store.get_document(demo_id).text, "demo article")
        docs = {"demo article (+200 spans)": demo_id, "synthetic 100k / 5,200 spans": big.id}
        bench_rerun(tmp / "bench.db", docs, amal.id)
        store.close()


if __name__ == "__main__":
    main()
