"""Time and peak memory of one JSONL import as the file grows, against the raw baseline (issue 7: memory flat,
< 200 MB at 200,000 spans; time within 1.5x of the raw baseline).

Per size, in this order (``--repeat`` runs interleaved, best of each kept; the machine may be shared):
- the raw baseline (benchmarks/bench_transfer.baseline_import): the same document and span rows through plain
  sqlite3 ``executemany`` in one transaction, rows built before timing;
- ``python -m annotator import`` of the corpus file, as an admin would run it, in a fresh process: wall time
  (interpreter start and reading the file included) and the child's own peak RSS;
- the search index's part: the baseline's database holds the same documents queued for the search index (its
  triggers fired, nothing folded), so a process that only commits that queue (fold, word index) times what the
  import spends on it;
- a process that only opens the database (start-up and the store's imports, and its peak RSS).

Prints one line per size with the ratio to the baseline, with and without the search index's part.

``--cpu`` compares CPU seconds (user + system) instead of wall time: steadier when other work shares the machine.

Run: ``.venv/bin/python benchmarks/bench_import_memory.py [--spans 20000 100000 200000] [--repeat 1] [--cpu]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_transfer import baseline_import, fresh, make_corpus  # noqa: E402

# times the commit of the search queue (Store.write folds what the triggers queued before it commits)
FLUSH_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from annotator.store import Store
store = Store({db!r}, migrate_schema=False)
store.query("SELECT 1")  # the connection before the timer: start-up is apart
start = time.{clock}()
with store.write():
    pass
print(time.{clock}() - start)
"""


def child_peak(cmd: list[str], cpu: bool = False) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, stdout) of one child process, measured by GNU time (its own peak only);
    seconds of wall time, or of CPU (user + system) with ``cpu``."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *cmd], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    peak, user, system = out.stderr.strip().splitlines()[-1].split()
    return float(user) + float(system) if cpu else seconds, int(peak) / 1024, out.returncode, out.stdout


def _copy_db(template: Path, target: Path) -> None:
    """A copy of the template database and of the audit key beside it."""
    for f in target.parent.glob(target.name + "*"):
        f.unlink()
    for suffix in ("", ".secret.audit"):
        if Path(str(template) + suffix).exists():
            shutil.copy(str(template) + suffix, str(target) + suffix)


def measure(tmp: Path, n: int, repeat: int, cpu: bool = False) -> dict:
    """Best times (and peaks) of the baseline, the import, the search index's part and a bare open at ``n`` spans."""
    template, src = tmp / f"t{n}.db", tmp / f"corpus{n}.jsonl"
    store, _admin, _project = fresh(template)
    store.close()
    corpus = make_corpus(n // 20, 20)
    with open(src, "w", encoding="utf-8") as fh:
        for d in corpus:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    best: dict = {"size": src.stat().st_size / 1e6}
    db = tmp / "run.db"
    for _ in range(repeat):
        # baseline_import builds its own database from scratch (project, labels), as fresh() does
        for f in tmp.glob("base.db*"):
            f.unlink()
        base = baseline_import(tmp / "base.db", corpus, time.process_time if cpu else time.perf_counter)
        code = FLUSH_CHILD.format(root=str(ROOT), db=str(tmp / "base.db"), clock="process_time" if cpu else "perf_counter")
        flush = float(child_peak([sys.executable, "-c", code])[3])
        _copy_db(template, db)
        cmd = [sys.executable, "-m", "annotator", "import", "--db", str(db), "--project", "Bench", "--annotator", "amal",
               "--map-annotator", "amal=amal", str(src)]  # fmt: skip
        seconds, peak, code, _out = child_peak(cmd, cpu)
        _copy_db(template, db)
        opened = child_peak([sys.executable, "-c", f"from annotator.store import Store; Store({str(db)!r})"], cpu)
        for key, value in (("base", base), ("import", seconds), ("search", flush), ("open", opened[0])):
            best[key] = min(best.get(key, value), value)
        best["peak"], best["open_peak"], best["code"] = max(best.get("peak", 0), peak), opened[1], code
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", type=int, nargs="+", default=[20_000, 100_000, 200_000])
    ap.add_argument("--repeat", type=int, default=1, help="runs per size, interleaved; the best of each is kept")
    ap.add_argument("--cpu", action="store_true", help="CPU seconds (user + system) instead of wall time")
    args = ap.parse_args()
    what = "CPU seconds" if args.cpu else "wall seconds"
    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; {what}, best of {args.repeat}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.spans:
            m = measure(Path(tmp), n, args.repeat, args.cpu)
            print(
                f"{n:>7} spans, {m['size']:5.1f} MB file: import {m['import']:6.2f} s, raw baseline {m['base']:5.2f} s"
                f" -> {m['import'] / m['base']:4.2f}x; of the import: search index {m['search']:5.2f} s, start-up"
                f" {m['open']:4.2f} s; without the search index {(m['import'] - m['search']) / m['base']:4.2f}x,"
                f" and without start-up {(m['import'] - m['search'] - m['open']) / m['base']:4.2f}x;"
                f" peak RSS {m['peak']:4.0f} MB (open only: {m['open_peak']:.0f} MB), exit {m['code']}"
            )
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
