"""What one app server pays to see another's work (issue 13): two stores on one database, as two `streamlit run
serve.py` processes have (on PostgreSQL a connection pool each), SQLite and PostgreSQL side by side.

- a tag saved through server B (``annotations.add_span``), then the article view of the same document on server A
  brought up to date (``ArticleSync.refresh``, what A's next run of the page does): the refresh that finds the tag,
  and the save-to-seen time from B's call to A's refresh returning;
- the refresh of a page when nothing was written anywhere (every run pays it: one query);
- the session check every request and every run makes (``auth.verify_session``: signature, expiry, the session
  generation and the account, read from the database each time, never cached per process).

A browser sees the tag on A's next run of the page (the app does not push): add the time of that run. Run:
``.venv/bin/python benchmarks/bench_two_servers.py [--tags 300]`` (a throwaway cluster with fsync off, or
``NISBA_BENCH_PG_URL``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

import psycopg  # noqa: E402
from bench_backends import BACKENDS, LABELS, Places, fresh, ms, pct, row  # noqa: E402
from pg_cluster import _parent_folder, benchmark_server  # noqa: E402

from annotator import auth  # noqa: E402
from annotator.annotations import add_span  # noqa: E402
from annotator.article_sync import ArticleSync  # noqa: E402
from annotator.projects import add_document, add_member  # noqa: E402
from annotator.store import Store  # noqa: E402

TEXT = "قال الوزير إن الحكومة ستعلن القرار غدا، بحسب مصادر مطلعة. " * 40


def bench(location: str, tags: int) -> dict[str, list[float]]:
    """Seconds per step for ``tags`` tags saved through B and seen through A."""
    server_b, admin, project = fresh(location)
    amal = server_b.user_by_username("amal")
    add_member(server_b, admin, project.id, amal.id)
    doc = add_document(server_b, admin, project.id, "two servers", TEXT)
    auth.set_password(server_b, auth.CONSOLE, amal.id, "bench-password")
    secret = auth.load_or_create_secret(location)
    token = auth.issue_session(server_b, secret, server_b.get_user(amal.id))
    server_a = Store(location, migrate_schema=False)
    sync = ArticleSync(server_a, amal, doc)
    sync.refresh(server_a, amal)
    words = [(i, i + 4) for i in range(0, len(TEXT) - 4, 9) if TEXT[i] != " " and TEXT[i + 4 : i + 5] == " "]
    out: dict[str, list[float]] = {"save": [], "refresh_found": [], "seen": [], "refresh_idle": [], "session": []}
    for k in range(tags):
        began = time.perf_counter()
        span = add_span(server_b, amal, doc.id, LABELS[k % 4], *words[k % len(words)])
        saved = time.perf_counter()
        found = sync.refresh(server_a, amal)
        seen = time.perf_counter()
        assert found and span.id in sync.spans, "server A did not see server B's tag"
        out["save"].append(saved - began)
        out["refresh_found"].append(seen - saved)
        out["seen"].append(seen - began)
        began = time.perf_counter()
        assert not sync.refresh(server_a, amal)
        out["refresh_idle"].append(time.perf_counter() - began)
        began = time.perf_counter()
        auth.verify_session(server_a, secret, token)
        out["session"].append(time.perf_counter() - began)
    server_a.close()
    server_b.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tags", type=int, default=300)
    args = ap.parse_args()
    with benchmark_server() as (admin_url, where), tempfile.TemporaryDirectory(dir=_parent_folder()) as tmp:
        os.environ["NISBA_SECRET_FILE"] = str(Path(tmp) / "bench.secret")
        places = Places(Path(tmp), admin_url)
        with psycopg.connect(admin_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {version}: {where}; SQLite {sqlite3.sqlite_version} (WAL) in {tmp}; load {os.getloadavg()[0]:.1f}")
        try:
            runs = {b: bench(places.new(b), args.tags) for b in BACKENDS}
        finally:
            places.drop_all()
    print(f"\n{args.tags} tags saved through server B, each then looked for through server A (p50 / p95):")
    row("", {"sqlite": "SQLite", "postgresql": "PostgreSQL"})
    for key, name in (
        ("save", "save through B (add_span)"),
        ("refresh_found", "A's refresh that finds the tag"),
        ("seen", "from B's save call to A having it"),
        ("refresh_idle", "A's refresh with nothing new (every run)"),
        ("session", "session check on A (every request, run)"),
    ):
        row(name, {b: f"{ms(pct(r[key], 0.5))} / {ms(pct(r[key], 0.95))}" for b, r in runs.items()})


if __name__ == "__main__":
    main()
