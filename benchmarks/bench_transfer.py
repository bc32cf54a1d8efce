"""Import/export speed against raw baselines (issue 4): prints figures, asserts nothing.

5,000 documents of about 2,000 characters and 100,000 spans:
- import of one JSONL file (annotator.importing, preview + commit) vs a plain sqlite3 ``executemany`` of the
  same document and span rows in one transaction, into the same schema;
- CSV export of all spans (annotator.exporting, the full column set with context, links and neutralisation)
  vs ``SELECT`` + ``pandas.DataFrame.to_csv`` of the span rows;
- peak memory of the export (tracemalloc, in a separate run so it does not slow the timed one).

Run: ``.venv/bin/python benchmarks/bench_transfer.py [--docs 5000] [--spans-per-doc 20]``
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from annotator.demo import DEMO_ARTICLE, ensure_demo  # noqa: E402
from annotator.exporting import export_to_path  # noqa: E402
from annotator.importing import ImportFile, import_files  # noqa: E402
from annotator.projects import create_project  # noqa: E402
from annotator.store import Store, now  # noqa: E402
from annotator.text import text_sha256  # noqa: E402

LABELS = ["CLAIM", "SOURCE", "QUOTE", "CUE"]


def make_corpus(n_docs: int, spans_per_doc: int, seed: int = 7) -> list[dict]:
    """Documents cut from the demo article's words (about 2,000 characters each), with word-aligned spans."""
    rng = random.Random(seed)
    words = DEMO_ARTICLE.read_text(encoding="utf-8").split()
    docs = []
    for i in range(n_docs):
        out, pos, starts = [], 0, []
        while pos < 2000:
            w = rng.choice(words)
            starts.append((pos, pos + len(w)))
            out.append(w)
            pos += len(w) + 1
        text = f"وثيقة {i}: " + " ".join(out)
        shift = len(f"وثيقة {i}: ")
        picks = sorted(rng.sample(range(len(starts) - 3), spans_per_doc))
        labels = []
        for p in picks:
            a = starts[p][0] + shift
            b = starts[p + rng.randint(0, 2)][1] + shift
            labels.append([a, b, rng.choice(LABELS)])
        docs.append({"id": i, "text": text, "label": labels, "source": "bench"})
    return docs


def fresh(path: Path) -> tuple[Store, object, object]:
    store = Store(path)
    ensure_demo(store)
    admin = store.user_by_username("admin")
    project = create_project(store, admin, "Bench")
    return store, admin, project


def baseline_import(path: Path, corpus: list[dict], clock=time.perf_counter) -> float:
    """The same rows through plain sqlite3 executemany in one transaction (rows built before timing); seconds by
    ``clock`` (``time.process_time``: CPU seconds, steadier than wall time on a shared machine)."""
    store, admin, project = fresh(path)
    store.close()
    label_ids = {
        r[1]: r[0] for r in sqlite3.connect(path).execute("SELECT id, name FROM labels WHERE project_id = ?", (project.id,))
    }
    uid = admin.id
    t = now()
    doc_rows, span_rows = [], []
    doc_id = 1000
    span_id = 1
    for pos, d in enumerate(corpus, start=1):
        doc_id += 1
        doc_rows.append((doc_id, project.id, str(d["id"]), d["text"], d["text"], text_sha256(d["text"]), "bench", "{}", pos, t))
        for a, b, lab in d["label"]:
            span_rows.append((span_id, doc_id, label_ids[lab], uid, "annotator", a, b, d["text"][a:b], "{}", "{}", t, t))
            span_id += 1
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    start = clock()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO documents (id, project_id, title, text, raw_text, text_sha256, source, metadata, position, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        doc_rows,
    )
    conn.executemany(
        "INSERT INTO spans (id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes,"
        " origin, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        span_rows,
    )
    conn.execute("COMMIT")
    elapsed = clock() - start
    conn.close()
    return elapsed


def baseline_export(path: Path, out: Path) -> float:
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    rows = conn.execute(
        "SELECT p.name, d.id, d.title, d.text_sha256, s.id, l.name, s.start_offset, s.end_offset, s.text, u.username,"
        " s.created_at, s.updated_at FROM spans s JOIN documents d ON d.id = s.document_id JOIN projects p ON p.id = d.project_id"
        " JOIN labels l ON l.id = s.label_id JOIN users u ON u.id = s.annotator_id WHERE p.name = 'Bench'"
        " ORDER BY d.position, d.id, s.start_offset"
    ).fetchall()
    cols = [
        "project",
        "document_id",
        "document_title",
        "text_sha256",
        "span_id",
        "label",
        "start_offset",
        "end_offset",
        "text",
        "annotator",
        "created_at",
        "updated_at",
    ]
    pd.DataFrame(rows, columns=cols).to_csv(out, index=False)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


EXPORT_CHILD = """
import sys
sys.path.insert(0, {root!r})
from annotator.store import Store
store = Store({db!r})
if {run!r}:
    from annotator.exporting import export_to_path
    admin = store.user_by_username("admin")
    export_to_path(store, admin, store.project_by_name("Bench").id, "csv", {out!r})
else:
    store.query("SELECT count(*) FROM spans")
# VmHWM: this process's own peak (ru_maxrss would include the parent's size at fork)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def export_rss(db: Path, out: Path) -> tuple[float, float]:
    """Peak resident memory (MB) of a fresh process exporting the CSV, and of one that only opens the store."""
    rss = []
    for run in (True, False):
        code = EXPORT_CHILD.format(root=str(ROOT), db=str(db), out=str(out), run=run)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rss.append(int(done.stdout.strip().splitlines()[-1]) / 1024)
    return rss[0], rss[1]


def _fmt(times: list[float]) -> str:
    return f"best {min(times):.2f} s (median {statistics.median(times):.2f}; runs {', '.join(f'{t:.2f}' for t in times)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--spans-per-doc", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement, interleaved (the machine may be shared)")
    args = ap.parse_args()
    corpus = make_corpus(args.docs, args.spans_per_doc)
    payload = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus).encode("utf-8")
    n_spans = sum(len(d["label"]) for d in corpus)
    chars = sum(len(d["text"]) for d in corpus) / len(corpus)
    print(f"corpus: {len(corpus)} documents (mean {chars:.0f} characters), {n_spans} spans, JSONL {len(payload) / 1e6:.1f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base_import, nisba_import = [], []
        for r in range(args.repeat):
            base_import.append(baseline_import(tmp / f"baseline{r}.db", corpus))
            (tmp / f"baseline{r}.db").unlink()
            store, admin, project = fresh(tmp / f"nisba{r}.db")
            start = time.perf_counter()
            preview, result = import_files(store, admin, project.id, [ImportFile("bench.jsonl", payload)], annotator="amal")
            nisba_import.append(time.perf_counter() - start)
            assert not preview.rejected and result.spans == n_spans, (preview.rejected[:3], result.spans)
            if r < args.repeat - 1:
                store.close()
                for f in tmp.glob(f"nisba{r}.db*"):
                    f.unlink()

        base_export, nisba_export = [], []
        for _r in range(args.repeat):
            start = time.perf_counter()
            export_to_path(store, admin, project.id, "csv", tmp / "spans.csv")
            nisba_export.append(time.perf_counter() - start)
            base_export.append(baseline_export(Path(store.path), tmp / "baseline.csv"))
        rows = sum(1 for _ in open(tmp / "spans.csv", encoding="utf-8", newline="")) - 1
        size = (tmp / "spans.csv").stat().st_size

        tracemalloc.start()
        export_to_path(store, admin, project.id, "csv", tmp / "spans2.csv")
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        store.close()
        rss_export, rss_idle = export_rss(Path(store.path), tmp / "spans3.csv")

    bi, ni, be, ne = min(base_import), min(nisba_import), min(base_export), min(nisba_export)
    print(f"import JSONL, Nisba (parse, check, preview, one transaction): {_fmt(nisba_import)}")
    print(f"import baseline, raw sqlite3 executemany of the same rows:    {_fmt(base_import)}")
    print(f"  -> import ratio (best/best): {ni / bi:.2f}x")
    print(
        f"export CSV, Nisba (all columns, context, links, neutralised): {_fmt(nisba_export)}  [{rows} rows, {size / 1e6:.1f} MB]"
    )
    print(f"export baseline, SELECT + pandas to_csv (12 plain columns):   {_fmt(base_export)}")
    print(f"  -> export ratio (best/best): {ne / be:.2f}x")
    print(
        f"export peak memory: Python heap (tracemalloc) {peak / 1e6:.1f} MB; process peak RSS {rss_export:.0f} MB "
        f"vs {rss_idle:.0f} MB for a process that only opens the database"
    )


if __name__ == "__main__":
    main()
