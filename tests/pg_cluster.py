"""A throwaway PostgreSQL cluster for tests, benchmarks and a developer: Debian's binaries, a temporary folder, a
free loopback port, stopped and removed at the end.

    with PgCluster() as cluster:          # cluster.url: postgresql://postgres@127.0.0.1:<port>/postgres
        url = create_database(cluster.url)
        ...
        drop_database(cluster.url, url)

``python tests/pg_cluster.py`` starts one, prints its URL and keeps it until Ctrl-C.

PostgreSQL refuses to run as root: as root the folder is given to the ``postgres`` user and every binary runs
through ``runuser -u postgres --``. The cluster is stopped by :meth:`PgCluster.stop`, by an ``atexit`` guard, and,
if this process is killed outright (SIGKILL, a CI timeout), by a watchdog process that notices its pipe close.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
RUN_AS = "postgres"  # the OS user the server runs as when we are root
# Speed over durability: a test cluster is thrown away.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",  # concurrency tests open pools from many processes
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "'256MB'",  # the folder may be in memory (see _parent_folder); checkpoints are cheap here
}
HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"  # loopback only; nothing else is listened on


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL binaries, or the cluster did not start (the message says which and why)."""


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb``, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parts[-3])] or [0])
    return Path(newest).parent


def _parent_folder() -> str | None:
    """Where the cluster's folder goes: /dev/shm (memory) when it has room, else the usual temporary folder.

    Measured here: CREATE DATABASE took 16 ms (median of 20) with the data in /dev/shm and 127 ms on the disk
    under /tmp, fsync=off in both; the cluster started in 0.97 s and 1.09 s.
    """
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= 1 << 30:
        return shm
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user() -> list[str]:
    """The command prefix that runs a binary as a user PostgreSQL accepts (empty unless we are root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        raise ClusterUnavailable(f"running as root and there is no '{RUN_AS}' user to run PostgreSQL as") from None
    return ["runuser", "-u", RUN_AS, "--"]


def _stop_and_remove(bindir: str, folder: str) -> None:
    """Stop the server whose data lives in ``folder`` (if it runs) and remove the folder; safe to call twice."""
    data = Path(folder) / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            [*_as_server_user(), f"{bindir}/pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w"],
            cwd=folder, capture_output=True, timeout=60,
        )  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


class PgCluster:
    """A PostgreSQL cluster in a temporary folder on a free loopback port; a context manager.

    ``url`` is the superuser's URL to the ``postgres`` database (trust auth, no password). ``start_seconds`` is how
    long :meth:`start` took (initdb + start).
    """

    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir or find_bindir()
        self.folder: Path | None = None
        self.url = ""
        self.start_seconds = 0.0
        self._watchdog: subprocess.Popen | None = None

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self, *args: str) -> None:
        cmd = [*_as_server_user(), str(self.bindir / args[0]), *args[1:]]
        done = subprocess.run(cmd, cwd=self.folder, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterUnavailable(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n{tail}".strip())

    def start(self) -> None:
        """initdb into a new temporary folder and start the server; raises :class:`ClusterUnavailable`."""
        if self.bindir is None or not (self.bindir / "initdb").exists():
            raise ClusterUnavailable("no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        began = time.perf_counter()
        prefix = _as_server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="nisba-pg-", dir=_parent_folder()))
        atexit.register(self.stop)
        self._watch()
        if prefix:
            shutil.chown(self.folder, user=RUN_AS)
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8", "-A", "trust", "-N")
        (data / "pg_hba.conf").write_text(HBA)
        for attempt in range(3):  # another process may take the free port between our check and the server's bind
            port = _free_port()
            settings = {**SETTINGS, "port": str(port), "unix_socket_directories": f"'{self.folder}'"}
            with open(data / "postgresql.conf", "a") as conf:
                conf.write("".join(f"{k} = {v}\n" for k, v in settings.items()))
            try:
                self._run("pg_ctl", "start", "-D", str(data), "-l", str(self.folder / "server.log"), "-w", "-t", "60")
                break
            except ClusterUnavailable:
                if attempt == 2 or "in use" not in (self.folder / "server.log").read_text(errors="replace"):
                    self.stop()
                    raise
        self.url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        self.start_seconds = time.perf_counter() - began

    def _watch(self) -> None:
        """Start the watchdog: a process in its own session that cleans up once our end of its pipe closes, which
        happens when we stop the cluster or when this process dies in any way."""
        self._watchdog = subprocess.Popen(
            [sys.executable, __file__, "--watchdog", str(self.bindir), str(self.folder)],
            stdin=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server (immediate mode) and remove its folder; safe to call more than once."""
        if self.folder is not None:
            _stop_and_remove(str(self.bindir), str(self.folder))
            self.folder = None
        if self._watchdog is not None:  # its work is done; a forked child may still hold the pipe open, so end it
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog.stdin.close()
            self._watchdog = None


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` with its database name replaced by ``name`` (user, host, port and query kept)."""
    return urlsplit(admin_url)._replace(path="/" + name).geturl()


def create_database(admin_url: str, template: str | None = None) -> str:
    """Create a new empty database (a copy of ``template`` when given) on the server of ``admin_url`` and return
    its URL. Names are ``nisba_test_<random>``, so several test sessions can share one server."""
    name = "nisba_test_" + secrets.token_hex(6)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
    return database_url(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database of ``url``, ending any connection still open on it (a test's leftover pool)."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def benchmark_server():
    """(admin URL, description) of the PostgreSQL server a benchmark creates its databases on: the one at
    ``$NISBA_BENCH_PG_URL`` (a real server, fsync on, to compare with), else a throwaway cluster for the run."""
    url = os.environ.get("NISBA_BENCH_PG_URL")
    if url:
        yield url, "the server at NISBA_BENCH_PG_URL"
        return
    with PgCluster() as cluster:
        yield cluster.url, f"a throwaway cluster in {cluster.folder.parent} (fsync off, synchronous_commit off)"


def _watchdog(bindir: str, folder: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the parent must not skip the cleanup
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
    _stop_and_remove(bindir, folder)


def main() -> None:
    """Run a cluster by hand: print its URL, keep it until Ctrl-C."""
    with PgCluster() as cluster:
        print(f"{cluster.url}   (started in {cluster.start_seconds:.2f} s; Ctrl-C stops it)", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    if sys.argv[1:2] == ["--watchdog"]:
        _watchdog(*sys.argv[2:4])
    else:
        main()
