"""Shared fixtures: a real SQLite file in tmp_path, the demo project, its users, the tricky texts, and a real
PostgreSQL server (``pg_server``) with a fresh database per test (``pg_url``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from pg_cluster import ClusterUnavailable, PgCluster, create_database, drop_database
from required_tools import missing

from annotator.demo import ensure_demo
from annotator.store import Store

FIXTURES = Path(__file__).parent / "fixtures"


# The core's tests run on both backends (issue 13): every test taking ``store`` or ``demo`` runs once on a SQLite file
# and once on a PostgreSQL database of its own. A test about SQLite itself (its file, its connections, sqlite3 opened
# beside the store) is marked ``sqlite_only`` and runs on SQLite alone.
BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself; runs without its PostgreSQL twin")


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("backend")
        (drop if backend == "postgresql" and item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """``sqlite`` or ``postgresql``: which backend the store fixtures open."""
    return request.param


@pytest.fixture(scope="session")
def pg_template(pg_server) -> Iterator[str]:
    """A migrated empty PostgreSQL database that each test's database is copied from (migrating costs ~150 ms)."""
    url = create_database(pg_server)
    Store(url).close()
    yield url
    drop_database(pg_server, url)


def new_store(request, tmp_path: Path, name: str, backend: str) -> Store:
    """An empty migrated store: a file in ``tmp_path``, or a PostgreSQL database of its own (dropped after the test)
    with its secret files in ``tmp_path``."""
    if backend == "sqlite":
        return Store(tmp_path / f"{name}.db")
    server, template = request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template")
    request.getfixturevalue("monkeypatch").setenv("NISBA_SECRET_FILE", str(tmp_path / f"{name}.secret"))
    url = create_database(server, template=urlsplit(template).path.lstrip("/"))
    request.addfinalizer(lambda: drop_database(server, url))
    return Store(url)


@pytest.fixture
def db_location(request, tmp_path, backend) -> str:
    """Where an empty migrated database is, for tests that open it from several processes: a SQLite file path, or
    the URL of a PostgreSQL database of its own (``NISBA_SECRET_FILE`` is set here; hand it to child processes)."""
    s = new_store(request, tmp_path, "shared", backend)
    s.close()
    return s.path


@pytest.fixture
def store(request, tmp_path, backend) -> Store:
    """An empty, migrated database (SQLite file, then PostgreSQL)."""
    s = new_store(request, tmp_path, "nisba", backend)
    yield s
    s.close()


@pytest.fixture
def demo(request, tmp_path, backend) -> Store:
    """A database holding the demo project (article, default labels, demo users)."""
    s = new_store(request, tmp_path, "demo", backend)
    ensure_demo(s)
    yield s
    s.close()


@pytest.fixture
def app_db(tmp_path, monkeypatch) -> Store:
    """The demo database behind the app for AppTest (``NISBA_DB`` points at it; no secret file override),
    with the demo users by username as ``.users``."""
    path = tmp_path / "app.db"
    monkeypatch.setenv("NISBA_DB", str(path))
    monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    s = Store(path)
    ensure_demo(s)
    s.users = {u.username: u for u in s.list_users()}
    yield s
    s.close()


@pytest.fixture
def users(demo) -> dict:
    """The demo users by username: admin, amal and badr (annotators), rana (reviewer)."""
    return {u.username: u for u in demo.list_users()}


@pytest.fixture
def demo_doc(demo):
    return demo.list_documents(demo.list_projects()[0].id)[0]


def load_tricky() -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / "tricky.ar.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tricky() -> dict[str, dict]:
    """The hard cases of tricky.ar.jsonl by id."""
    return {case["id"]: case for case in load_tricky()}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL (may CREATE DATABASE) of a PostgreSQL server for the whole session: ``NISBA_TEST_PG_URL`` when
    set, else a throwaway cluster started here (about 1 s, see tests/pg_cluster.py) and stopped at the end.
    No server: the test fails under ``CI=true`` and is skipped elsewhere."""
    url = os.environ.get("NISBA_TEST_PG_URL")
    if url:
        if problem := _unreachable(url):
            missing(problem)
        yield url
        return
    cluster, problem = PgCluster(), None
    try:
        cluster.start()
    except ClusterUnavailable as e:
        problem = f"PostgreSQL tests start their own server, which failed: {e}"
    if problem:  # outside the except block, so the message is not buried under a chained traceback
        missing(problem)
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _unreachable(url: str) -> str | None:
    """Why ``url`` (NISBA_TEST_PG_URL) cannot be used, naming host, port and database but not the password."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as e:
        where = urlsplit(url)
        return f"NISBA_TEST_PG_URL ({where.hostname}:{where.port or 5432}{where.path}) does not answer: {e}"
    return None


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """The URL of a new, empty database of its own for this test (about 30 ms), dropped afterwards with any
    connection the test left open."""
    url = create_database(pg_server)
    yield url
    drop_database(pg_server, url)
