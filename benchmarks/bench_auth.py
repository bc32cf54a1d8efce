"""Figures for accounts (issue 3): Argon2id hash and verify time, a full login, session checks per request.

Run: ``.venv/bin/python benchmarks/bench_auth.py``. Prints figures; asserts nothing.
Target from the issue: password hash time between 50 and 500 ms on this machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from annotator import auth  # noqa: E402
from annotator.demo import ensure_demo  # noqa: E402
from annotator.store import Store  # noqa: E402


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return sorted(out)


def show(name: str, times: list[float], target: str = "") -> None:
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{name:<44} median {statistics.median(times) * 1000:8.2f} ms   p95 {p95 * 1000:8.2f} ms   n={len(times)}  {target}")


def main() -> None:
    print(
        f"Argon2id: memory {auth.ARGON2_MEMORY_KIB // 1024} MiB, {auth.ARGON2_ITERATIONS} iterations, "
        f"parallelism {auth.ARGON2_PARALLELISM}; {os.cpu_count()} CPUs"
    )
    auth.hash_password("warm-up-password")
    show("hash a password", timed(lambda: auth.hash_password("correct horse battery"), 20), "(target 50-500 ms)")
    h = auth.hash_password("correct horse battery")
    show("verify a password", timed(lambda: auth.verify_password(h, "correct horse battery"), 20))

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        ensure_demo(store)
        show("authenticate (verify + audit event)", timed(lambda: auth.authenticate(store, "amal", "nisba-amal"), 20))
        secret = auth.load_or_create_secret(store.path)
        amal = store.user_by_username("amal")
        token = auth.issue_session(store, secret, amal)
        show("verify a session token (every request)", timed(lambda: auth.verify_session(store, secret, token), 2000))
        store.close()


if __name__ == "__main__":
    main()
