"""Actions an analyst needs to reach the reference annotation of the demo article, with and without suggestions.

Run: ``.venv/bin/python benchmarks/bench_suggest_actions.py``. Prints; asserts nothing (but says whether the end
state equals the reference). The strategy is carried out through the same core functions the annotation
screen calls, and each call is counted as the actions it takes on screen:
- per label, the cheaper of "Accept all LABEL" (1 click) and then each wrong one deleted (click + Delete), or
  each right one accepted alone (click its outline + Enter);
- each reference span still missing: a drag and a hotkey (2);
- each reference link still missing: click the span, a or l, click the target (3); each wrong link removed:
  click the span, click its × (2).
Without suggestions: 2 actions per span and 3 per link (the trial's figure). Target (issue 8): under 1 action per
correct span.
The same strategy with real input events in headless Chromium: bench_suggest_actions_browser.py (there "Accept all"
costs 2, a click on one outline to show the button, then the button; a link from a span just tagged costs 2, the
new span being selected already).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from annotator.annotations import add_link, add_span, delete_link, delete_span  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.store import Store  # noqa: E402
from annotator.suggest.evaluate import read_gold  # noqa: E402
from annotator.suggestions import accept_all, accept_suggestion, list_suggestions  # noqa: E402

REFERENCE = ROOT / "tests/fixtures/demo-reference.ar.jsonl"


def spot(span) -> tuple[str, int, int]:
    return (span.label, span.start_offset, span.end_offset)


def accept_suggestions(store: Store, user, doc_id: int, wanted: frozenset) -> int:
    """Accept what is right, label by label, the cheaper way; returns the actions."""
    actions = 0
    open_now = list_suggestions(store, user, doc_id)
    for label in sorted({g.label for g in open_now}):
        mine = [g for g in open_now if g.label == label]
        right = [g for g in mine if (g.label, g.start, g.end) in wanted]
        wrong = len(mine) - len(right)
        if 1 + 2 * wrong <= 2 * len(right):
            accept_all(store, user, doc_id, label)
            actions += 1
            for span in store.list_spans(doc_id, annotator_ids=[user.id]):
                if span.label == label and spot(span) not in wanted:
                    delete_span(store, user, span.id)
                    actions += 2
        else:
            for g in right:
                accept_suggestion(store, user, doc_id, g.key)
                actions += 2
    return actions


def finish_by_hand(store: Store, user, doc_id: int, gold) -> tuple[int, int]:
    """Add the missing spans and fix the links; returns (span actions, link actions)."""
    have = {spot(s) for s in store.list_spans(doc_id, annotator_ids=[user.id])}
    span_actions = 0
    for label, start, end in sorted(gold.spans - have, key=lambda s: s[1]):
        add_span(store, user, doc_id, label, start, end)
        span_actions += 2
    by_spot = {spot(s): s.id for s in store.list_spans(doc_id, annotator_ids=[user.id])}
    by_id = {v: k for k, v in by_spot.items()}
    links = {(by_id[k.from_span_id], k.type, by_id[k.to_span_id]): k.id for k in store.list_links(doc_id)
             if k.from_span_id in by_id and k.to_span_id in by_id}  # fmt: skip
    link_actions = 0
    for extra in links.keys() - gold.links:
        delete_link(store, user, links[extra])
        link_actions += 2
    for src, kind, dst in gold.links - links.keys():
        add_link(store, user, by_spot[src], by_spot[dst], kind)
        link_actions += 3
    return span_actions, link_actions


def main() -> None:
    [gold] = read_gold(REFERENCE)
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "bench.db")
        ensure_demo(store)
        doc = store.list_documents(store.list_projects()[0].id)[0]
        if doc.text != gold.text:
            print("the demo article differs from the reference's text; nothing measured")
            return
        user = store.user_by_username("badr")
        suggested = list_suggestions(store, user, doc.id)
        accepted = accept_suggestions(store, user, doc.id, gold.spans)
        span_actions, link_actions = finish_by_hand(store, user, doc.id, gold)
        final = {spot(s) for s in store.list_spans(doc.id, annotator_ids=[user.id])}
        ids = {s.id: spot(s) for s in store.list_spans(doc.id, annotator_ids=[user.id])}
        final_links = {
            (ids[k.from_span_id], k.type, ids[k.to_span_id]) for k in store.list_links(doc.id) if k.from_span_id in ids
        }
        store.close()
    n, m = len(gold.spans), len(gold.links)
    total = accepted + span_actions + link_actions
    print(f"demo article reference: {n} spans, {m} links; {len(suggested)} suggestions offered")
    print(f"  with suggestions: {accepted} actions accepting/deleting, {span_actions} for missing spans, "
          f"{link_actions} for links = {total} actions, {total / n:.2f} per correct span (target < 1)")  # fmt: skip
    print(f"  without suggestions: {2 * n + 3 * m} actions ({(2 * n + 3 * m) / n:.2f} per span)")
    print(f"  end state equals the reference: spans {final == set(gold.spans)}, links {final_links == set(gold.links)}")


if __name__ == "__main__":
    main()
