"""Browser test fixtures: the real app on a free port, headless Debian Chromium, and ``open_app``.

Every browser test opens the app through :func:`open_app`, so logging in (when accounts arrive) is added in
one place. One server serves the whole session: starting Streamlit costs seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from required_tools import missing

from annotator.auth import COOKIE_NAME
from annotator.demo import DEMO_PASSWORDS, ensure_demo
from annotator.projects import add_document, add_member, create_project
from annotator.store import Store

from .long_document import add_long_document

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TRICKY_PROJECT = "Tricky texts"
TRICKY_IDS = ("emoji", "harakat-tatweel", "html-injection")
APP_READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError("streamlit did not become healthy in time")


@contextmanager
def server_store(db_path: Path | str) -> Iterator[Store]:
    """The running server's database (a file or a PostgreSQL URL), opened without migrating it (the server did),
    closed on leaving: tests check what was saved here, and add what they need before opening a page."""
    store = Store(db_path, migrate_schema=False)
    try:
        yield store
    finally:
        store.close()


def poll(db_path: Path | str, check, what: str, timeout: float = 20.0, page=None):
    """Poll the database until ``check(store)`` returns something truthy (the app saves asynchronously) and
    return it. With ``page``, wait through Playwright so its event loop keeps running meanwhile."""
    with server_store(db_path) as store:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check(store)
            if found:
                return found
            if page is not None:
                page.wait_for_timeout(100)
            else:
                time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def own_project(store: Store, purpose: str, members: tuple[str, ...], title: str, text: str):
    """A new project (named for ``purpose``, made unique) with ``members`` and one document; returns the
    document. A test's own project, so no other test's spans or documents count in it."""
    admin = store.user_by_username("admin")
    project = create_project(store, admin, f"{purpose} {time.time_ns()}")
    for name in members:
        add_member(store, admin, project.id, store.user_by_username(name).id)
    return add_document(store, admin, project.id, title, text)


def prepare_db(path: Path, tricky: dict[str, dict]) -> dict[str, int]:
    """The demo database plus a project holding some tricky texts (amal is a member); returns doc ids by name."""
    store = Store(path)
    ensure_demo(store)
    admin = store.user_by_username("admin")
    amal = store.user_by_username("amal")
    ids = {"demo": store.list_documents(store.project_by_name("Demo: attribution in Arabic news").id)[0].id}
    project = create_project(store, admin, TRICKY_PROJECT, "Hard cases from tests/fixtures/tricky.ar.jsonl")
    add_member(store, admin, project.id, amal.id)
    for case_id in TRICKY_IDS:
        ids[case_id] = add_document(store, admin, project.id, case_id, tricky[case_id]["text"], source="tricky").id
    ids["long"] = add_long_document(store, admin, project.id, amal)  # 100,000 characters, 5,000 of amal's spans
    store.close()
    return ids


SERVER_PIDS: dict[str, int] = {}  # base URL -> process id of its server (benchmarks read its CPU time)


@contextmanager
def running_app(db_path: Path | str, log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run serve.py`` (app.py behind the login gate) on a free port against ``db_path`` (a SQLite file
    or a PostgreSQL URL), with ``env`` added to the environment; yields the base URL."""
    port = _free_port()
    env = {**os.environ, "NISBA_DB": str(db_path), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
    cmd = [str(ROOT / ".venv/bin/streamlit"), "run", "serve.py", "--server.port", str(port), "--server.headless", "true"]
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "streamlit"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        SERVER_PIDS[base_url] = proc.pid
        try:
            _wait_healthy(base_url, proc)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, tricky):
    """The real app for the whole session, on a database prepared before it starts (see :func:`prepare_db`).

    Yields ``(base_url, db_path, doc_ids)``.
    """
    tmp = tmp_path_factory.mktemp("nisba-app")
    db_path = tmp / "nisba.db"
    doc_ids = prepare_db(db_path, tricky)
    with running_app(db_path, tmp / "streamlit.log") as base_url:
        yield base_url, db_path, doc_ids


@pytest.fixture(scope="session")
def base_url(app_server) -> str:
    return app_server[0]


@pytest.fixture(scope="session")
def app_db(app_server) -> Path:
    """The server's database file (open it with annotator.store.Store to check what was saved)."""
    return app_server[1]


@pytest.fixture(scope="session")
def doc_ids(app_server) -> dict[str, int]:
    """Document ids in the server's database: ``demo`` and the tricky cases by their id."""
    return app_server[2]


def launch_chromium(playwright):
    """Debian's Chromium with the project's flags. Missing browser: fail on CI, skip elsewhere."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


def new_context(browser):
    """A browser context (own cookies and storage) sized for the wide layout, in Arabic."""
    return browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ar")


def new_page(browser):
    """A page in a context of its own (:func:`new_context`): another user at the same time."""
    page = new_context(browser).new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page(browser):
    """A fresh page in a context of its own per test (see :func:`new_page`)."""
    pg = new_page(browser)
    yield pg
    pg.context.close()


def wait_ready(page) -> None:
    """Wait until Streamlit finished running the script."""
    page.wait_for_selector(APP_READY, timeout=30_000)


_LOGGED_IN: dict[int, str] = {}  # id(browser context) -> the user name its session cookie belongs to


def log_in(page, base_url: str, user: str, password: str | None = None) -> None:
    """Log in through the /login form (demo password ``nisba-<user>`` by default); the HttpOnly session cookie
    then stays in the page's browser context. Does nothing when the context is already logged in as ``user``."""
    context = page.context
    if _LOGGED_IN.get(id(context)) == user and any(c["name"] == COOKIE_NAME for c in context.cookies()):
        return
    context.clear_cookies()
    page.goto(base_url + "/login")
    page.fill("#username", user)
    page.fill("#password", password or DEMO_PASSWORDS[user])
    with page.expect_navigation():
        page.click('form[data-nisba="login-form"] button[type="submit"]')
    if page.url.split("?")[0].endswith("/login"):  # the form came back with an error
        raise AssertionError(f"login as {user} failed: {page.inner_text('main')}")
    _LOGGED_IN[id(context)] = user


def select_first_row(page, grid) -> None:
    """Tick the row-selection checkbox of the first row of a ``st.dataframe`` grid: the grid is drawn on a canvas,
    so the mouse clicks where the checkbox is drawn (left of the cells, below the 35-pixel header)."""
    rect = grid.bounding_box()
    page.mouse.click(rect["x"] + 18, rect["y"] + 35 + 17)


def log_in_over_http(page, base_url: str, user: str) -> None:
    """Log in by posting the /login form, without opening any app page first (the session cookie lands in the
    page's context)."""
    response = page.context.request.post(
        base_url + "/login",
        form={"username": user, "password": DEMO_PASSWORDS[user]},
        headers={"Origin": base_url},
        max_redirects=0,
    )
    assert response.status == 303


def open_app(page, base_url: str, user: str = "amal", *, doc: int | None = None) -> None:
    """Log in as ``user`` (see :func:`log_in`), open the app and wait until it has rendered.

    With ``doc``, open that document (``?doc=ID``). Waits for the article component to be drawn.
    """
    log_in(page, base_url, user)
    url = base_url + "/" + (f"?doc={doc}" if doc is not None else "")
    page.goto(url)
    wait_ready(page)
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
