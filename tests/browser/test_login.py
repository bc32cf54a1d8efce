"""Login in real Chromium against the real server (serve.py): the anonymous view, the websocket refusal,
a login that survives reload, logout, a deactivated account's open session."""

from __future__ import annotations

import base64
import os
import re
import socket

import pytest

from annotator import auth
from annotator.store import Store

from .conftest import log_in, open_app, wait_ready

pytestmark = pytest.mark.browser
ARTICLE_WORDS = "ماركو روبيو"


def session_cookie(page):
    return next((c for c in page.context.cookies() if c["name"] == auth.COOKIE_NAME), None)


def test_anonymous_browser_gets_the_login_page_and_no_app_data(page, base_url, doc_ids):
    for path in ("/", f"/?doc={doc_ids['demo']}", "/annotate", "/users"):
        response = page.goto(base_url + path)
        assert re.search(r"/login$", page.url), page.url
        assert response.status == 200
        assert page.locator('form[data-nisba="login-form"]').is_visible()
        assert ARTICLE_WORDS not in page.content()
        assert page.locator('[data-testid="stApp"]').count() == 0
    assert session_cookie(page) is None


def websocket_handshake(base_url: str, cookie: str | None = None) -> str:
    """Send a raw websocket upgrade for /_stcore/stream; returns the server's status line."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [
        "GET /_stcore/stream HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: streamlit", f"Origin: {base_url}",
    ] + ([f"Cookie: {cookie}"] if cookie else [])  # fmt: skip
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n")[0]


def test_raw_websocket_to_the_app_stream_is_refused(page, base_url):
    assert websocket_handshake(base_url).startswith("HTTP/1.1 403")
    forged = f"{auth.COOKIE_NAME}=v1.2.9999999999.0.{'0' * 64}"
    assert websocket_handshake(base_url, forged).startswith("HTTP/1.1 403")
    # the same handshake with a real session is accepted: the refusal above is the gate, not the request
    log_in(page, base_url, "rana")
    real = f"{auth.COOKIE_NAME}={session_cookie(page)['value']}"
    assert websocket_handshake(base_url, real).startswith("HTTP/1.1 101")


def test_wrong_password_is_refused_with_a_message(page, base_url):
    page.goto(base_url + "/login")
    page.fill("#username", "badr")
    page.fill("#password", "not-the-password")
    page.click('form[data-nisba="login-form"] button[type="submit"]')
    assert page.locator(".error").inner_text() == "Wrong user name or password."
    assert page.input_value("#username") == "badr"
    assert session_cookie(page) is None


def test_login_survives_reload_and_logout_ends_it(page, base_url, doc_ids, browser):
    open_app(page, base_url, "amal", doc=doc_ids["demo"])
    assert page.get_by_text("Signed in as").first.is_visible()
    assert "أمل" in page.locator('[data-testid="stSidebar"]').inner_text()  # the display name
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert auth.COOKIE_NAME not in page.evaluate("document.cookie")  # scripts cannot read it

    page.reload()
    wait_ready(page)
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
    assert "/login" not in page.url and ARTICLE_WORDS in page.locator('[data-nisba="article"]').inner_text()

    with page.expect_navigation():
        page.locator('form[data-nisba="logout"] button').click()
    assert page.url.endswith("/login?bye=1")
    assert page.get_by_text("You have logged out.").is_visible()
    assert session_cookie(page) is None
    page.goto(base_url + "/")
    assert page.url.endswith("/login")

    # the old cookie, replayed from elsewhere, no longer opens anything
    thief = browser.new_context()
    try:
        thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
        other = thief.new_page()
        other.goto(base_url + "/")
        assert other.url.endswith("/login?ended=1")
        assert other.get_by_text("Your session has ended").is_visible()
    finally:
        thief.close()


def test_deactivation_ends_an_open_session(page, base_url, app_db, doc_ids):
    store = Store(app_db)
    admin, badr = store.user_by_username("admin"), store.user_by_username("badr")
    open_app(page, base_url, "badr", doc=doc_ids["demo"])
    try:
        auth.deactivate(store, admin, badr.id)
        # the websocket is still open: the next run of the script re-checks the cookie and stops
        page.get_by_role("link", name="Project settings").click()
        page.wait_for_selector("text=The account 'badr' is deactivated.", timeout=15_000)
        assert page.locator('[data-nisba="login-link"]').is_visible()
        page.reload()
        assert page.url.endswith("/login?ended=1")
    finally:
        auth.reactivate(store, admin, badr.id)
        store.close()
    log_in(page, base_url, "badr")  # a fresh login works again after reactivation
