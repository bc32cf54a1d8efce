"""Figures for suggestions (issue 8): the rule engine over a 100,000-character document.

Run: ``.venv/bin/python benchmarks/bench_suggest.py``. Prints figures; asserts nothing. Targets from the issue:
suggestions for a 100,000-character document in under 200 ms; accepting one in under the page's save latency
(the annotation benchmark's span save). The API figures are on a real SQLite file holding that document.

The text is the demo article and the dev-set paragraphs repeated (attribution is dense there: about one cue every
45 characters), cut at a word. Times are the median of several runs on a fresh text each time, so nothing is served
from a cache: the grapheme boundaries of the text are computed inside every run, as in the app's first request.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from annotator.suggest import suggest  # noqa: E402

N_CHARS = 100_000
RUNS = 7


def sample_text(n: int = N_CHARS, salt: int = 0) -> str:
    """About ``n`` characters of news-style Arabic with attributions, cut at a word; ``salt`` makes it unique."""
    parts = [(ROOT / "data/demo/rubio-cable-migration.ar.txt").read_text(encoding="utf-8")]
    dev = ROOT / "tests/fixtures/attribution-dev.ar.jsonl"
    parts += [json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    base = "\n\n".join(parts)
    text = f"({salt})\n" + (base + "\n\n") * (n // len(base) + 1)
    return text[: text.rfind(" ", 0, n)]


def main() -> None:
    suggest("قال الوزير إن الاجتماع انتهى.")  # build the lexicon once, as a running app has
    times, count = [], 0
    for run in range(RUNS):
        text = sample_text(salt=run)
        t0 = time.perf_counter()
        result = suggest(text)
        times.append((time.perf_counter() - t0) * 1000)
        count = len(result)
    t0 = time.perf_counter()
    sum(1 for ch in text if ch in "abc")  # a fixed pure-Python loop over the text: how busy the machine is
    calibration = (time.perf_counter() - t0) * 1000
    print(f"suggest(): {len(text):,} characters, {count:,} suggestions")
    print(f"  calibration: a bare loop over the text took {calibration:.1f} ms (about 3-4 ms on an idle core)")
    print(
        f"  median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms over {RUNS} runs (target < 200 ms)"
    )


def bench_api() -> None:
    """list_suggestions (first call computes, later ones hit the cache), accept_suggestion and dismiss_suggestion."""
    import tempfile

    from annotator import suggestions
    from annotator.annotations import add_span
    from annotator.demo import ensure_demo
    from annotator.projects import add_document
    from annotator.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        ensure_demo(store)
        users = {u.username: u for u in store.list_users()}
        project = store.list_projects()[0]
        doc = add_document(store, users["admin"], project.id, "طويل", sample_text(salt=99))
        t0 = time.perf_counter()
        open_ = suggestions.list_suggestions(store, users["amal"], doc.id)
        first = (time.perf_counter() - t0) * 1000
        lists, accepts, dismisses, saves = [], [], [], []
        cues = [s for s in open_ if s.label == "CUE"]
        for i in range(10):
            t0 = time.perf_counter()
            suggestions.list_suggestions(store, users["amal"], doc.id)
            lists.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            suggestions.accept_suggestion(store, users["amal"], doc.id, cues[2 * i].key)
            accepts.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            suggestions.dismiss_suggestion(store, users["amal"], doc.id, cues[2 * i + 1].key)
            dismisses.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            add_span(store, users["badr"], doc.id, "CUE", cues[2 * i].start, cues[2 * i].end)
            saves.append((time.perf_counter() - t0) * 1000)
        med = statistics.median
        print(f"API on a {len(doc.text):,}-character document with {len(open_):,} open suggestions (median of 10):")
        print(f"  list_suggestions: first {first:.0f} ms (computes), then {med(lists):.1f} ms (cached)")
        print(
            f"  accept_suggestion {med(accepts):.1f} ms, dismiss_suggestion {med(dismisses):.1f} ms; a plain span save {med(saves):.1f} ms"
        )
        store.close()


# Texts built to make a careless rule quadratic: no sentence end, thousands of unclosed marks, chained بحسب.
PATHOLOGICAL = {
    "one 100,000-character sentence": "وقال الوزير إن الاقتصاد ينمو، ",
    "10,000 unclosed quotation marks": "قال: «كلام ",
    "chained بحسب / وفقا": "بحسب الوزارة، وفقا للتقرير، ",
    "full harakat, no full stop": "قَالَ الْوَزِيرُ إِنَّ ",
    "quotation marks only": '"«»“”',
}


def bench_pathological() -> None:
    print("Pathological texts (100,000 characters each):")
    for name, unit in PATHOLOGICAL.items():
        text = (unit * (N_CHARS // len(unit) + 1))[:N_CHARS]
        t0 = time.perf_counter()
        count = len(suggest(text))
        print(f"  {name}: {(time.perf_counter() - t0) * 1000:.0f} ms, {count:,} suggestions")


if __name__ == "__main__":
    main()
    bench_api()
    bench_pathological()
