"""How long ``python -m annotator --help`` takes, next to a bare interpreter start (issue 7's target: < 0.5 s).

Run: ``.venv/bin/python benchmarks/bench_cli_startup.py [--runs 10]``; prints the best and median of each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    runs = ap.parse_args().runs
    for name, cmd in (("python -c pass", [sys.executable, "-c", "pass"]),
                      ("python -m annotator --help", [sys.executable, "-m", "annotator", "--help"])):  # fmt: skip
        t = timed(cmd, runs)
        print(f"{name:28s} best {min(t):.3f} s, median {statistics.median(t):.3f} s ({runs} runs)")


if __name__ == "__main__":
    main()
