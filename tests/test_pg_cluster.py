"""The PostgreSQL test fixtures: a real server, a fresh empty database per test, dropped afterwards; the throwaway
cluster runs as a non-root user on loopback only and leaves nothing behind, even when its owner is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from pg_cluster import ClusterUnavailable, PgCluster, create_database, drop_database, find_bindir
from required_tools import missing

OWN_CLUSTER = not os.environ.get("NISBA_TEST_PG_URL")
SEEN: list[str] = []  # the databases earlier turns of test_each_test_gets_its_own_empty_database were given


def user_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()[0] == 1


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_its_own_empty_database(pg_server, pg_url, turn):
    name = urlsplit(pg_url).path.lstrip("/")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == name
        assert conn.execute("SHOW server_encoding").fetchone()[0] == "UTF8"
    assert user_tables(pg_url) == []
    for earlier in SEEN:  # the earlier turn's database held a table; it was dropped after that test
        assert earlier != name
        assert not database_exists(pg_server, earlier)
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE mark (note text)")
        conn.execute("INSERT INTO mark VALUES ('نسبة')")
    assert user_tables(pg_url) == ["mark"]
    SEEN.append(name)


def test_a_table_in_one_database_is_not_in_another(pg_server, pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE only_here (id int)")
    other = pg_url.replace(urlsplit(pg_url).path, "/postgres")
    assert user_tables(pg_url) == ["only_here"]
    assert "only_here" not in user_tables(other)


def test_an_open_connection_does_not_stop_the_drop(pg_server):
    url = create_database(pg_server)
    left_open = psycopg.connect(url)  # a test that forgot to close its pool
    drop_database(pg_server, url)
    assert not database_exists(pg_server, urlsplit(url).path.lstrip("/"))
    with pytest.raises(psycopg.OperationalError):  # the drop ended it
        left_open.execute("SELECT 1")
    left_open.close()


@pytest.mark.skipif(not OWN_CLUSTER, reason="NISBA_TEST_PG_URL points at a server this session did not start")
def test_the_throwaway_server_is_tuned_for_tests_and_listens_on_loopback_only(pg_url):
    with psycopg.connect(pg_url) as conn:
        show = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in ("listen_addresses", "fsync", "max_connections")}
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert show == {"listen_addresses": "127.0.0.1", "fsync": "off", "max_connections": "200"}
    uid = next(line.split()[1] for line in Path(f"/proc/{backend}/status").read_text().splitlines() if line.startswith("Uid:"))
    assert uid != "0"  # PostgreSQL refuses root; as root the cluster runs as the postgres user


def require_binaries() -> Path:
    bindir = find_bindir()
    if bindir is None:
        missing("no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return bindir


def test_stop_ends_the_server_and_removes_its_folder():
    require_binaries()
    cluster = PgCluster()
    cluster.start()
    folder, url = cluster.folder, cluster.url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    cluster.stop()
    cluster.stop()  # a second stop (the atexit guard) does nothing
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)


def test_no_binaries_is_a_clear_refusal(tmp_path):
    with pytest.raises(ClusterUnavailable, match="apt-get install postgresql"):
        PgCluster(bindir=tmp_path).start()


@pytest.mark.slow
def test_a_killed_owner_leaves_no_server_behind():
    require_binaries()
    script = Path(__file__).with_name("pg_cluster.py")
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    url = owner.stdout.readline().split()[0]
    with psycopg.connect(url) as conn:
        folder = Path(conn.execute("SHOW data_directory").fetchone()[0]).parent
    assert folder.exists()
    owner.send_signal(signal.SIGKILL)  # no atexit, no finally: only the watchdog can clean up
    owner.wait()
    deadline = time.monotonic() + 30
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_server_fails_on_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no server here"):
        missing("no server here")
