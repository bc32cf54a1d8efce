"""Many processes against one database, on both backends (a SQLite file; a PostgreSQL database where each process
has its own connection pool, as each app server does): no lost spans, an intact audit chain (and file, on SQLite),
and exactly one winner when reviewers decide the same span at once. (Latencies are printed by
benchmarks/bench_teams.py and benchmarks/bench_backends.py.)"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys

import pytest

from annotator import review
from annotator.annotations import add_span
from annotator.audit import verify_chain
from annotator.demo import ensure_demo
from annotator.errors import Conflict, StorageError
from annotator.projects import add_member
from annotator.store import Store
from annotator.text import tokenize

WRITERS = 20
SPANS_EACH = 200
READERS = 3
REVIEWERS = 10
LABELS = ("CLAIM", "QUOTE", "SOURCE", "CUE")
CTX = mp.get_context("forkserver")  # children forked from a fresh single-threaded server, not from pytest

pytestmark = pytest.mark.slow
PYTEST_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def pytest_main(monkeypatch):
    """The children need pytest's own ``__main__``: a forkserver child imports the parent's main module again, and an
    AppTest of app.py earlier in the session leaves app.py there (Streamlit's script runner installs the script as
    ``__main__``), which then ran in every child and crashed it before it started."""
    monkeypatch.setitem(sys.modules, "__main__", PYTEST_MAIN)


def _open(location: str, secret: str | None) -> Store:
    """A child's own store. The secret file is handed over explicitly: forkserver children inherit the environment
    the fork server started with (perhaps in an earlier test), not the test's."""
    if secret:
        os.environ["NISBA_SECRET_FILE"] = secret
    return Store(location, migrate_schema=False)


def _secret() -> str | None:
    return os.environ.get("NISBA_SECRET_FILE")


def _team(path, role: str, n: int, prefix: str) -> tuple[list[int], int]:
    """The demo database plus ``n`` users of ``role`` in the demo project; (their ids, the document id)."""
    store = Store(path)
    ensure_demo(store)
    admin = store.user_by_username("admin")
    project = store.list_projects()[0]
    ids = []
    for i in range(n):
        with store.write():
            uid = store.insert_user(f"{prefix}{i:02d}", role)
        add_member(store, admin, project.id, uid)
        ids.append(uid)
    doc_id = store.list_documents(project.id)[0].id
    store.close()  # no connection may cross the fork
    return ids, doc_id


def _writer(path: str, secret, user_id: int, doc_id: int, offset: int, start, out) -> None:
    """Add SPANS_EACH single-word spans; a write refused as busy is retried, never silently dropped."""
    store = _open(path, secret)
    user = store.get_user(user_id)
    text = store.get_document(doc_id).text
    words = [t for t in tokenize(text) if text[t[0]].isalpha()]
    saved, retries = [], 0
    start.wait()
    for k in range(SPANS_EACH):
        s, e = words[(offset * 7 + k) % len(words)]
        while True:
            try:
                saved.append(add_span(store, user, doc_id, LABELS[k % len(LABELS)], s, e).id)
                break
            except StorageError:
                retries += 1
    out.put((user_id, saved, retries))


def _reader(path: str, secret, doc_id: int, reviewer_id: int, start, stop, out) -> None:
    """Read while the writers write: span counts never go down, and the review screen's data always loads."""
    store = _open(path, secret)
    reviewer = store.get_user(reviewer_id)
    start.wait()
    last, reads, problems = 0, 0, []
    while not stop.is_set():
        n = len(store.list_spans(doc_id))
        if n < last:
            problems.append(f"span count went down from {last} to {n}")
        last = n
        review.load_review(store, reviewer, doc_id)
        reads += 1
    out.put((reads, problems))


def test_twenty_writers_and_readers_lose_nothing(db_location, backend):
    path, secret = db_location, _secret()
    writers, doc_id = _team(path, "annotator", WRITERS, "writer")
    (reviewer_id,), _ = _team(path, "reviewer", 1, "reader")
    start, stop, out, reads = CTX.Barrier(WRITERS + READERS), CTX.Event(), CTX.Queue(), CTX.Queue()
    procs = [CTX.Process(target=_writer, args=(path, secret, uid, doc_id, i, start, out)) for i, uid in enumerate(writers)]
    readers = [CTX.Process(target=_reader, args=(path, secret, doc_id, reviewer_id, start, stop, reads)) for _ in range(READERS)]
    for p in procs + readers:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    stop.set()
    reader_results = [reads.get(timeout=60) for _ in readers]
    for p in procs + readers:
        p.join(timeout=60)
        assert p.exitcode == 0

    store = Store(path)
    saved = {sid for _uid, ids, _retries in results for sid in ids}
    assert len(saved) == WRITERS * SPANS_EACH
    stored = {s.id for s in store.list_spans(doc_id, annotator_ids=writers)}
    assert stored == saved  # 0 lost spans, none extra
    for uid, ids, _retries in results:
        assert len(ids) == SPANS_EACH and {s.id for s in store.list_spans(doc_id, annotator_ids=[uid])} == set(ids)
    if backend == "sqlite":  # the file itself (PostgreSQL has no such check; its own pages are its business)
        assert store.query("PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    report = verify_chain(store.iter_events(), store.audit_key())
    assert report.ok, report
    creates = store.query("SELECT count(*) AS n FROM audit_events WHERE action = 'create' AND entity = 'span'")[0]["n"]
    assert creates == WRITERS * SPANS_EACH
    assert all(not problems for _reads, problems in reader_results)
    assert all(n > 0 for n, _problems in reader_results)


def _decider(path: str, secret, user_id: int, span_id: int, decision: str, start, out) -> None:
    store = _open(path, secret)
    user = store.get_user(user_id)
    start.wait()
    try:
        review.decide(store, user, "span", span_id, decision, 0)
        out.put(("won", user_id, ""))
    except Conflict as exc:
        out.put(("conflict", user_id, str(exc)))
    except Exception as exc:  # anything else is a failure the test names, not a child that hangs the queue
        out.put(("error", user_id, f"{type(exc).__name__}: {exc}"))


def test_ten_reviewers_deciding_one_span_at_once(db_location):
    path, secret = db_location, _secret()
    reviewers, doc_id = _team(path, "reviewer", REVIEWERS, "reviewer")
    store = Store(path)
    span = add_span(store, store.user_by_username("amal"), doc_id, "CLAIM", 0, 4)
    store.close()
    start, out = CTX.Barrier(REVIEWERS), CTX.Queue()
    decisions = ["accepted" if i % 2 else "rejected" for i in range(REVIEWERS)]
    procs = [
        CTX.Process(target=_decider, args=(path, secret, uid, span.id, d, start, out))
        for uid, d in zip(reviewers, decisions, strict=True)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert [msg for outcome, _uid, msg in results if outcome == "error"] == []
    winners = [uid for outcome, uid, _msg in results if outcome == "won"]
    conflicts = [msg for outcome, _uid, msg in results if outcome == "conflict"]
    assert len(winners) == 1 and len(conflicts) == REVIEWERS - 1
    store = Store(path)
    decision = store.get_review("span", span.id)
    assert (decision.reviewer_id, decision.version) == (winners[0], 1)
    assert decision.decision == decisions[reviewers.index(winners[0])]
    # every loser was told who decided what, and nothing of theirs was written
    winner_name = store.get_user(winners[0]).name
    assert all(f"{winner_name} already {decision.decision}" in msg for msg in conflicts)
    assert len(list(store.iter_events("action = 'review'"))) == 1
    assert verify_chain(store.iter_events(), store.audit_key()).ok
