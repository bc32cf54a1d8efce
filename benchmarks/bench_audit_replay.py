"""``audit replay`` on a large project (issue 9): prints figures, asserts nothing.

5,000 documents and 100,000 spans imported in one transaction (bench_transfer's corpus), then 1,000 span edits
and 200 review decisions through the app; the replay reads every event and every row and checks the import's
digests. Also times the digest the import itself now computes (part of the import's transaction).

Run: ``.venv/bin/python benchmarks/bench_audit_replay.py [--docs 5000] [--spans-per-doc 20]``
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator import annotations as A  # noqa: E402
from annotator import review  # noqa: E402
from annotator.audit_replay import import_record, replay_database  # noqa: E402
from annotator.importing import ImportFile, import_files  # noqa: E402
from annotator.projects import add_member  # noqa: E402
from benchmarks.bench_transfer import fresh, make_corpus  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--spans-per-doc", type=int, default=20)
    args = ap.parse_args()
    corpus = make_corpus(args.docs, args.spans_per_doc)
    data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus).encode()
    with tempfile.TemporaryDirectory() as tmp:
        store, admin, project = fresh(Path(tmp) / "replay.db")
        t = time.perf_counter()
        import_files(store, admin, project.id, [ImportFile("corpus.jsonl", data)], annotator="amal",
                     map_annotators={"amal": "amal"})  # fmt: skip
        print(f"import of {len(corpus)} documents, {sum(len(d['label']) for d in corpus)} spans: {time.perf_counter() - t:.2f} s")
        with store.write():
            t = time.perf_counter()
            import_record(store, 1, 1)
            print(f"  of which the import's row digests: {time.perf_counter() - t:.2f} s")
        amal, rana = store.user_by_username("amal"), store.user_by_username("rana")
        add_member(store, admin, project.id, rana.id)
        rng = random.Random(3)
        ids = [r["id"] for r in store.query("SELECT id FROM spans")]
        for sid in rng.sample(ids, 1000):
            span = store.get_span(sid)
            A.update_span(store, amal, sid, label="QUOTE" if span.label != "QUOTE" else "CLAIM", expected_version=span.version)
        for sid in rng.sample(ids, 200):
            review.decide(
                store,
                rana,
                "span",
                sid,
                "accepted",
                store.get_review("span", sid).version if store.get_review("span", sid) else 0,
            )
        times = []
        for _ in range(3):
            t = time.perf_counter()
            report = replay_database(store)
            times.append(time.perf_counter() - t)
        print(f"replay: {report.events} events, {report.spans} spans, {report.links} links, {report.reviews} reviews, "
              f"ok={report.ok}: best {min(times):.2f} s (runs {', '.join(f'{x:.2f}' for x in times)})")  # fmt: skip


if __name__ == "__main__":
    main()
