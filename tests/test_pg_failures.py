"""PostgreSQL failing under the store (issue 13, "Bad input and failure"): a connection lost in the middle of a save,
connections the server closed while they sat in the pool, and URLs that lead nowhere. Each is one clear StorageError
(one line, naming the database, never its password), nothing half written, and the next save goes through."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from raw_db import dump

from annotator.cli import main
from annotator.errors import StorageError
from annotator.store import Store


@pytest.fixture
def pg_store(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("NISBA_SECRET_FILE", str(tmp_path / "nisba.secret"))
    store = Store(pg_url)
    yield store
    store.close()


def terminate(url: str, pid: int | None = None) -> int:
    """End one backend (``pid``), or every other backend of the database, from a connection of its own, as an
    administrator's ``pg_terminate_backend`` or a server restart would; returns how many were ended."""
    with psycopg.connect(url, autocommit=True) as admin:
        if pid is not None:
            return int(admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0])
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        )


def test_a_connection_lost_mid_transaction_rolls_back_and_the_next_save_works(pg_store, pg_url):
    with pg_store.write():
        pg_store.insert_project("before")
    before = dump(pg_store)
    with pytest.raises(StorageError) as failed:
        with pg_store.write():
            pid = pg_store._x("SELECT pg_backend_pid()").fetchone()[0]  # the backend of this very transaction
            pg_store.insert_project("written, then lost")
            assert terminate(pg_url, pid) == 1
            pg_store.insert_project("after the connection died")
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("The change was not saved (nothing was written): the connection to the database ")
    assert f"database '{urlsplit(pg_url).path[1:]}' on 127.0.0.1:" in message and message.endswith("Try again.")
    assert "was lost: terminating connection due to administrator command." in message
    assert dump(pg_store) == before
    assert not pg_store.in_transaction
    with pg_store.write():
        pg_store.insert_project("next save")
    assert [p.name for p in pg_store.list_projects()] == ["before", "next save"]


def test_connections_the_server_closed_in_the_pool_cost_no_read_and_no_save(pg_store, pg_url):
    """A restart or an idle timeout closes every pooled connection: the first read meets a dead one, the pool
    checks the rest, and the read runs again on a working connection; the next save needs no second try."""
    with pg_store.write():
        pg_store.insert_project("kept")
    assert terminate(pg_url) >= 1
    assert [p.name for p in pg_store.list_projects()] == ["kept"]
    with pg_store.write():
        pg_store.insert_project("saved")
    assert [p.name for p in pg_store.list_projects()] == ["kept", "saved"]


def test_a_write_outside_a_transaction_on_a_dead_connection_fails_once_and_is_not_repeated(pg_store, pg_url):
    """Writes are never retried (one might have run before its answer was lost): this one fails with a clear
    line, changes nothing, and the same write afterwards counts once."""
    uid = pg_store.insert_user("amal", "annotator")
    generation = pg_store.session_generation(uid)
    terminate(pg_url)  # the pool's idle connection is gone; a write borrows it first
    with pytest.raises(StorageError, match="was lost: terminating connection"):
        pg_store.bump_session_generation(uid)
    assert pg_store.session_generation(uid) == generation
    pg_store.bump_session_generation(uid)
    assert pg_store.session_generation(uid) == generation + 1


def with_netloc(url: str, netloc: str, path: str | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=netloc, path=path if path is not None else parts.path))


def refusal(url: str) -> str:
    with pytest.raises(StorageError) as refused:
        Store(url)
    message = str(refused.value)
    assert "\n" not in message and "s3cret" not in message and "(NISBA_DB, --db" in message
    return message


def test_urls_that_lead_nowhere_are_one_line_naming_the_database_never_the_password(pg_url):
    parts = urlsplit(pg_url)
    port = parts.port
    assert refusal(with_netloc(pg_url, f"postgres:s3cret@127.0.0.1:{port}", "/no_such_db")).startswith(
        f"Cannot connect to PostgreSQL database 'no_such_db' on 127.0.0.1:{port} as postgres: "
        'database "no_such_db" does not exist.'
    )
    assert 'role "nobody" does not exist' in refusal(with_netloc(pg_url, f"nobody:s3cret@127.0.0.1:{port}"))
    assert "127.0.0.1:9 as postgres: Connection refused." in refusal(with_netloc(pg_url, "postgres:s3cret@127.0.0.1:9"))
    assert 'invalid integer value "abc" for connection option "port"' in refusal(
        with_netloc(pg_url, "postgres:s3cret@127.0.0.1:abc")
    )


def test_cli_init_names_the_database_without_its_password_and_refuses_in_one_line(pg_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NISBA_SECRET_FILE", str(tmp_path / "nisba.secret"))
    parts = urlsplit(pg_url)
    with_password = with_netloc(pg_url, f"postgres:s3cret@127.0.0.1:{parts.port}")  # trust auth: any password passes
    assert main(["init", "--db", with_password]) == 0
    out = capsys.readouterr().out
    assert out == f"Database ready: PostgreSQL database '{parts.path[1:]}' on 127.0.0.1:{parts.port} as postgres\n"
    done = subprocess.run(
        [sys.executable, "-m", "annotator", "init", "--db", with_netloc(pg_url, "postgres:s3cret@127.0.0.1:9")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr and "s3cret" not in done.stderr
    assert done.stderr.startswith("error: Cannot connect to PostgreSQL database ")
