"""Figures for the annotation screen (issue 2): payload build, span save, page rerun, hotkey-to-highlight.

Run: ``.venv/bin/python benchmarks/bench_annotation.py [--no-browser]``. Prints figures; asserts nothing.
Targets from the issue: payload < 50 ms, save < 5 ms (median), rerun < 150 ms, hotkey to highlight < 300 ms.
Reruns are timed twice: without a data change (cached spans/payload/table) and right after a span was saved.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from annotator.annotations import add_span, list_links, list_spans  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.models import Span  # noqa: E402
from annotator.projects import add_document  # noqa: E402
from annotator.render import component_payload  # noqa: E402
from annotator.store import Store  # noqa: E402
from annotator.text import Boundaries  # noqa: E402
from annotator.ui.article_component import apply_action  # noqa: E402

N_CHARS = 100_000
N_SPANS = 5_000


def synthetic_text(n: int = N_CHARS) -> str:
    """About ``n`` characters of the demo article repeated (paragraphs, Latin names, digits), cut at a word."""
    base = (ROOT / "data/demo/rubio-cable-migration.ar.txt").read_text(encoding="utf-8")
    text = (base + "\n\n") * (n // len(base) + 1)
    return text[: text.rfind(" ", 0, n)]


def synthetic_spans(text: str, n: int = N_SPANS, seed: int = 2) -> list[tuple[int, int]]:
    """``n`` word-aligned spans, heavily overlapping: short ones nested in claims, claims crossing each other."""
    rng = random.Random(seed)
    words = Boundaries(text).words
    out = []
    for _ in range(n):
        i = rng.randrange(len(words) - 40)
        length = rng.choice([1, 1, 2, 3, 5, 12, 30])
        out.append((words[i][0], words[i + length - 1][1]))
    return out


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


def bench_payload(store: Store, doc_id: int) -> None:
    doc = store.get_document(doc_id)
    spans = store.list_spans(doc_id)
    labels = store.list_labels(doc.project_id)
    links = store.list_links(doc_id)
    print(f"synthetic document: {len(doc.text):,} characters, {len(spans):,} spans")
    show("payload build (render.component_payload)", timed(lambda: component_payload(
        doc.id, doc.text, spans, labels, links, text_sha256=doc.text_sha256), 30), "< 50 ms")  # fmt: skip
    show("  + serialising it to JSON (what the page sends)", timed(lambda: json.dumps(component_payload(
        doc.id, doc.text, spans, labels, links, text_sha256=doc.text_sha256)), 30), "-")  # fmt: skip
    show("  + reading the spans from SQLite first (list_spans)", timed(lambda: component_payload(
        doc.id, doc.text, store.list_spans(doc_id), labels, store.list_links(doc_id), text_sha256=doc.text_sha256), 15), "-")  # fmt: skip
    amal = store.user_by_username("amal")

    def rebuild() -> str:  # what the page rebuilds after a change (annotator.ui.article_component._drawn)
        own = list_spans(store, amal, doc_id)
        own_links = list_links(store, amal, doc_id, {s.id for s in own})
        payload = component_payload(
            doc.id, doc.text, own, store.list_labels(doc.project_id), own_links, text_sha256=doc.text_sha256
        )
        return json.dumps(payload, separators=(",", ":"))

    show("  the page's rebuild after a change (list_spans, links, payload, JSON)", timed(rebuild, 15), "-")
    # in-memory spans, no database: the pure function alone
    mem = [Span(id=s.id, document_id=1, label_id=s.label_id, label=s.label, annotator_id=1, start_offset=s.start_offset,
                end_offset=s.end_offset, text=s.text) for s in spans]  # fmt: skip
    payload = component_payload(doc.id, doc.text, mem, labels, links)
    depth = max(len(seg["ids"]) for seg in payload["segments"])
    print(f"  segments: {len(payload['segments']):,}, deepest overlap: {depth} spans")


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


_KEY_TO_PAINT_JS = """(box, key) => new Promise((resolve) => {
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  obs.observe(box, { attributes: true, attributeFilter: ['data-rev'] });
  document.dispatchEvent(new KeyboardEvent('keydown', { key, code: 'Key' + key.toUpperCase(), bubbles: true }));
})"""


def bench_browser(tmp: Path) -> None:
    from browser.article_dom import article, select_offsets
    from browser.conftest import launch_chromium, open_app, prepare_db, running_app
    from conftest import load_tricky
    from playwright.sync_api import sync_playwright

    db_path = tmp / "browser.db"
    ids = prepare_db(db_path, {c["id"]: c for c in load_tricky()})
    store = Store(db_path)
    text = store.get_document(ids["demo"]).text
    store.close()
    words = [w for w in Boundaries(text).words if w[1] - w[0] >= 4][:40]
    wall, in_page = [], []
    with running_app(db_path, tmp / "streamlit.log") as base_url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_app(page, base_url, doc=ids["demo"])
        box = article(page).element_handle()
        for i, (s, e) in enumerate(words[::2][:24]):
            key = "cuqs"[i % 4]
            select_offsets(page, s, e)
            page.wait_for_timeout(400)  # let the selection's own rerun settle
            before = box.get_attribute("data-rev")
            if i % 2:  # a real key press from Playwright, timed from Python until the new highlight is drawn
                t = time.perf_counter()
                page.keyboard.press(key)
                page.wait_for_function("([box, rev]) => box.dataset.rev !== rev", arg=[box, before], polling="raf")
                wall.append((time.perf_counter() - t) * 1000)
            else:  # timed inside the page: keydown until the frame after the article was rebuilt
                in_page.append(box.evaluate(_KEY_TO_PAINT_JS, key))
        browser.close()
    show("Chromium demo article: key press -> highlight drawn (Playwright)", wall, "< 300 ms")
    show("Chromium demo article: keydown -> next frame after redraw (in page)", in_page, "< 300 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium figure")
    args = parser.parse_args()
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
        bench_payload(store, big.id)
        demo_id = store.list_documents(project_id)[0].id
        bench_save(store, amal, big.id, big.text, "synthetic 100k doc")
        bench_save(store, amal, demo_id, store.get_document(demo_id).text, "demo article")
        docs = {"demo article (+200 spans)": demo_id, "synthetic 100k / 5,200 spans": big.id}
        bench_rerun(tmp / "bench.db", docs, amal.id)
        store.close()
        if not args.no_browser:
            bench_browser(tmp)


if __name__ == "__main__":
    main()
