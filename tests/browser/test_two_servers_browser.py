"""Two app servers on one PostgreSQL database (issue 13), in real headless Chromium: two ``streamlit run serve.py``
processes on two loopback ports with the same NISBA_DB and NISBA_SECRET_FILE, no proxy between. An annotator tags
through server A, a reviewer on server B sees the tag and accepts it, the annotator on A sees the decision; a login
on A is valid on B, and a logout on A ends the session on B (its open page on the next run, and the same cookie on
any later request or websocket). Every step is checked in the database as well."""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from pg_cluster import create_database, drop_database

from annotator import auth
from annotator.audit import verify_chain
from annotator.demo import DEMO_ARTICLE, DEMO_PROJECT
from annotator.projects import add_document, add_member, create_project
from annotator.store import Store

from .article_dom import drag_rtl, highlight
from .conftest import log_in, open_app, running_app, wait_ready
from .test_login import session_cookie, websocket_handshake
from .test_review_browser import new_page, poll

pytestmark = pytest.mark.browser
WORD = "ماركو روبيو"


@pytest.fixture(scope="module")
def two_servers(pg_server, tmp_path_factory):
    """(server A's URL, server B's URL, the database URL, a document, user ids by name): two processes started on a
    new, empty PostgreSQL database, which make the demo between them on their first requests (at the same time);
    then a project of its own (amal, badr, rana members) with the demo article."""
    tmp = tmp_path_factory.mktemp("two-servers")
    url = create_database(pg_server)
    env = {"NISBA_SECRET_FILE": str(tmp / "nisba.secret")}  # the audit key sits beside it: one chain, one key
    try:
        with running_app(url, tmp / "a.log", env) as a, running_app(url, tmp / "b.log", env) as b:
            with ThreadPoolExecutor(2) as pool:  # both open the store and make the demo at once
                pages = list(pool.map(lambda base: urllib.request.urlopen(base + "/login", timeout=60).read(), (a, b)))
            assert all(b'data-nisba="demo-hint"' in page for page in pages)
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("NISBA_SECRET_FILE", env["NISBA_SECRET_FILE"])  # this process writes audit events too
                store = Store(url, migrate_schema=False)
                assert [p.name for p in store.list_projects()] == [DEMO_PROJECT]  # one demo, not two
                admin = store.user_by_username("admin")
                project = create_project(store, admin, "Two servers")
                users = {name: store.user_by_username(name).id for name in ("amal", "badr", "rana")}
                for uid in users.values():
                    add_member(store, admin, project.id, uid)
                doc = add_document(store, admin, project.id, "two servers", DEMO_ARTICLE.read_text(encoding="utf-8"))
                try:
                    yield a, b, url, doc, users
                    # what both servers and this process wrote is one audit chain, valid under the shared key
                    report = verify_chain(store.iter_events(), store.audit_key())
                    assert report.ok, report
                finally:
                    store.close()
    finally:
        drop_database(pg_server, url)
    for log in ("a.log", "b.log"):  # neither server met an error it did not show as a page
        assert "Traceback" not in (tmp / log).read_text(), (tmp / log).read_text()


def test_a_tag_saved_on_a_is_accepted_on_b_and_the_decision_shows_on_a(browser, two_servers):
    a, b, url, doc, users = two_servers
    assert a.rsplit(":", 1)[1] != b.rsplit(":", 1)[1]
    page_a, page_r = new_page(browser), new_page(browser)
    try:
        log_in(page_r, b, "rana")  # logged in on B itself; the cookie test below logs in on A only
        page_r.goto(f"{b}/review?doc={doc.id}")
        wait_ready(page_r)
        open_app(page_a, a, "amal", doc=doc.id)
        start = doc.text.index(WORD)
        drag_rtl(page_a, doc.text, start, start + len(WORD))
        page_a.keyboard.press("s")
        pressed = time.monotonic()
        span = poll(
            url,
            lambda s: next((x for x in s.list_spans(doc.id, annotator_ids=[users["amal"]]) if x.text == WORD), None),
            "amal's SOURCE saved through server A",
            page=page_a,
        )
        saved = time.monotonic()
        assert span.label == "SOURCE"
        highlight(page_a, span.id).first.wait_for()

        # the reviewer's next run on B (the page was open before the tag) shows it
        page_r.reload()
        wait_ready(page_r)
        layers = page_r.locator('[data-nisba="review-article"]')
        layers.wait_for()
        assert WORD in layers.inner_text()
        shown = time.monotonic()
        print(f"\ntag on A: in the database {saved - pressed:.2f} s after the key press; on B's review page, reloaded"
              f" once it was saved, {shown - saved:.2f} s later")  # fmt: skip
        page_r.get_by_role("button", name="Accept").click()
        poll(url, lambda s: (r := s.get_review("span", span.id)) and r.decision == "accepted", "the accept on B", page=page_r)
        page_r.get_by_text("Accepted 1 span(s).").wait_for()

        # the annotator's next run on A reads the decision written through B
        page_a.reload()
        wait_ready(page_a)
        page_a.get_by_text(f"accepted SOURCE «{WORD}»").wait_for()
    finally:
        for p in (page_a, page_r):
            p.context.close()


def test_a_login_on_a_is_valid_on_b_and_a_logout_on_a_ends_it_on_b(browser, two_servers):
    a, b, url, doc, users = two_servers
    page_a = new_page(browser)
    page_b = new_page(browser)  # a browser context of its own: it gets the cookie from A only by copying it
    try:
        open_app(page_a, a, "badr", doc=doc.id)
        token = session_cookie(page_a)["value"]
        page_b.context.add_cookies([{"name": auth.COOKIE_NAME, "value": token, "url": b}])
        page_b.goto(f"{b}/?doc={doc.id}")
        wait_ready(page_b)
        page_b.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
        assert "بدر" in page_b.locator('[data-testid="stSidebar"]').inner_text()  # badr's display name, on B
        assert websocket_handshake(b, f"{auth.COOKIE_NAME}={token}").startswith("HTTP/1.1 101")

        with page_a.expect_navigation():
            page_a.locator('form[data-nisba="logout"] button').click()
        assert page_a.url.endswith("/login?bye=1")
        store = Store(url, migrate_schema=False)
        try:
            assert store.session_generation(users["badr"]) == 1
        finally:
            store.close()

        # B's open page: its next run (a click in its navigation, over the websocket opened before) is refused
        page_b.locator('[data-testid="stSidebarNav"] a', has_text="Search").click()
        page_b.get_by_text("You have been logged out; please log in again.").wait_for()
        assert page_b.locator('[data-nisba="article"]').count() == 0
        # the same cookie on any new request to B: the page goes to the login form, the websocket is refused
        page_b.goto(f"{b}/?doc={doc.id}")
        assert page_b.url.endswith("/login?ended=1")
        assert websocket_handshake(b, f"{auth.COOKIE_NAME}={token}").startswith("HTTP/1.1 403")
    finally:
        for p in (page_a, page_b):
            p.context.close()
