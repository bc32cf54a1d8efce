"""Peak memory and time of one JSONL import as the file grows (issue 7: memory flat, < 200 MB at 200,000 spans).

Each size runs in a fresh process (peak RSS is per process): the corpus file is written first, then
``python -m annotator import`` reads it from disk, as an admin would. Prints spans, file size, seconds and the
child's peak RSS; a process that only opens the database is measured for comparison.

Run: ``.venv/bin/python benchmarks/bench_import_memory.py [--spans 20000 100000 200000]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_transfer import fresh, make_corpus  # noqa: E402


def child_peak(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one child process, measured by GNU time (its own peak only)."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    return seconds, int(out.stderr.strip().splitlines()[-1]) / 1024, out.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", type=int, nargs="+", default=[20_000, 100_000, 200_000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.spans:
            db, src = Path(tmp) / f"m{n}.db", Path(tmp) / f"corpus{n}.jsonl"
            store, _admin, _project = fresh(db)
            store.close()
            with open(src, "w", encoding="utf-8") as fh:
                for d in make_corpus(n // 20, 20):
                    fh.write(json.dumps(d, ensure_ascii=False) + "\n")
            base = child_peak([sys.executable, "-c", f"from annotator.store import Store; Store({str(db)!r})"])
            cmd = [sys.executable, "-m", "annotator", "import", "--db", str(db), "--project", "Bench", "--annotator", "amal",
                   "--map-annotator", "amal=amal", str(src)]  # fmt: skip
            seconds, peak, code = child_peak(cmd)
            print(
                f"{n:>7} spans, {src.stat().st_size / 1e6:5.1f} MB file: {seconds:6.1f} s, peak RSS {peak:6.0f} MB "
                f"(open only: {base[1]:.0f} MB), exit {code}"
            )


if __name__ == "__main__":
    main()
