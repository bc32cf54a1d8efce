"""The login gate, driven through raw ASGI calls (no server): redirects, the websocket refusal, the forms,
the cookie's flags, logout, the slowdown, first start. The real server is covered by tests/browser/test_login.py."""

from __future__ import annotations

import asyncio
import threading
import time
from http.cookies import SimpleCookie

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from annotator import auth
from annotator.ui.gate import LoginGate, with_hints
from annotator.ui.page_hints import hint_tags

ORIGIN = "http://nisba.test"
APP_DATA = b"APP DATA: the article"


async def _app_page(request):
    return PlainTextResponse(APP_DATA.decode())


async def _stream(websocket):
    await websocket.accept()
    await websocket.send_text("APP DATA over the websocket")
    await websocket.close()


def run_in_fresh_loop(coro) -> None:
    """Run ``coro`` on a new event loop in its own thread: Playwright's sync API (browser tests in the same
    pytest process) keeps a loop running in the main thread, where ``asyncio.run`` refuses to start."""
    errors = []

    def target():
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def make_app(gate: LoginGate) -> Starlette:
    """The gate in front of stand-ins for Streamlit's page and websocket."""
    inner = [Route("/", _app_page), Route("/annotate", _app_page), WebSocketRoute("/_stcore/stream", _stream)]
    return Starlette(routes=[*gate.routes(), *inner], middleware=[gate.middleware()])


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return next((v for k, v in self.headers if k == name), None)

    def cookie(self):
        raw = self.header("set-cookie")
        if raw is None:
            return None
        jar = SimpleCookie()
        jar.load(raw)
        return jar[auth.COOKIE_NAME]


def http(app, method, target, *, headers=None, form=None, raw=None, client="127.0.0.1"):
    path, _, query = target.partition("?")
    body = raw or b""
    hdrs = {"host": "nisba.test", **(headers or {})}
    if form is not None:
        from urllib.parse import urlencode

        body = urlencode(form).encode()
        hdrs["content-type"] = "application/x-www-form-urlencoded"
    if method == "POST":
        hdrs.setdefault("content-length", str(len(body)))  # as browsers send it
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in hdrs.items()],
        "client": (client, 50000), "server": ("nisba.test", 80),
    }  # fmt: skip
    messages = []

    async def run():
        sent = False

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)

        async def send(message):
            messages.append(message)

        await app(scope, receive, send)

    run_in_fresh_loop(run())
    start = next(m for m in messages if m["type"] == "http.response.start")
    headers_out = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
    return Reply(
        start["status"], headers_out, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    )


def websocket(app, *, cookie=None):
    """Open /_stcore/stream; returns the messages the app sent (accept/close/send)."""
    headers = [(b"host", b"nisba.test")] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws", "path": "/_stcore/stream",
        "raw_path": b"/_stcore/stream", "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50001), "server": ("nisba.test", 80), "subprotocols": [],
    }  # fmt: skip
    sent = []

    async def run():
        incoming = [{"type": "websocket.connect"}]

        async def receive():
            if incoming:
                return incoming.pop(0)
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)

    run_in_fresh_loop(run())
    return sent


@pytest.fixture
def gate(demo, monkeypatch):
    if demo.backend_name == "sqlite":  # the secret beside the file; on PostgreSQL the fixture's own in tmp_path
        monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    return LoginGate(demo.path)


@pytest.fixture
def app(gate):
    return make_app(gate)


def login(app, username="amal", password=None, **kw):
    return http(
        app,
        "POST",
        "/login",
        headers={"origin": ORIGIN},
        form={"username": username, "password": password or f"nisba-{username}"},
        **kw,
    )


def cookie_header(reply):
    return f"{auth.COOKIE_NAME}={reply.cookie().value}"


# ---- anonymous visitors ------------------------------------------------------------------------------------------


def test_anonymous_page_request_is_redirected_to_login(app):
    reply = http(app, "GET", "/annotate", headers={"accept": "text/html,*/*"})
    assert reply.status == 303 and reply.header("location") == "/login"
    assert APP_DATA not in reply.body


def test_anonymous_other_requests_get_401(app):
    for method in ("GET", "POST"):
        reply = http(app, method, "/")
        assert reply.status == 401 and APP_DATA not in reply.body


def test_anonymous_websocket_is_closed_before_it_is_accepted(app):
    sent = websocket(app)
    assert [m["type"] for m in sent] == ["websocket.close"]


def test_health_probe_stays_open(gate):
    async def health(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[*gate.routes(), Route("/_stcore/health", health)], middleware=[gate.middleware()])
    assert http(app, "GET", "/_stcore/health").status == 200


def test_login_page_is_a_form_with_strict_headers(app):
    reply = http(app, "GET", "/login")
    assert reply.status == 200
    body = reply.body.decode()
    assert 'data-nisba="login-form"' in body and 'type="password"' in body and 'action="/login"' in body
    assert 'data-nisba="demo-hint"' in body  # the demo database says so
    assert "<script" not in body
    assert "frame-ancestors 'none'" in reply.header("content-security-policy")
    assert reply.header("cache-control") == "no-store"


# ---- logging in ----------------------------------------------------------------------------------------------------


def test_login_sets_a_strict_httponly_cookie_and_opens_the_app(app, users):
    reply = login(app)
    assert reply.status == 303 and reply.header("location") == "/"
    morsel = reply.cookie()
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) == auth.SESSION_TTL
    assert morsel.value.startswith(f"v1.{users['amal'].id}.")
    cookie = cookie_header(reply)
    page = http(app, "GET", "/annotate", headers={"cookie": cookie, "accept": "text/html"})
    assert page.status == 200 and page.body == APP_DATA
    assert [m["type"] for m in websocket(app, cookie=cookie)][:2] == ["websocket.accept", "websocket.send"]
    # a logged-in visitor going to /login lands in the app
    assert http(app, "GET", "/login", headers={"cookie": cookie}).header("location") == "/"


@pytest.mark.parametrize(
    "headers", [{}, {"origin": "http://evil.example"}, {"origin": "null"}, {"referer": "http://evil.example/x"}]
)
def test_cross_site_or_unsigned_posts_are_refused(app, headers):
    reply = http(app, "POST", "/login", headers=headers, form={"username": "amal", "password": "nisba-amal"})
    assert reply.status == 403 and reply.header("set-cookie") is None


def test_oversized_or_unsized_form_posts_are_refused(app):
    big = {"username": "amal", "password": "x" * 20_000}
    assert http(app, "POST", "/login", headers={"origin": ORIGIN}, form=big).status == 413
    unsized = http(app, "POST", "/login", headers={"origin": ORIGIN, "content-length": ""}, form={"username": "amal"})
    assert unsized.status == 413


def test_referer_from_this_site_is_accepted_without_origin(app):
    reply = http(
        app, "POST", "/login", headers={"referer": ORIGIN + "/login"}, form={"username": "amal", "password": "nisba-amal"}
    )
    assert reply.status == 303


def test_wrong_password_shows_the_form_again_with_the_name_escaped(app, demo):
    reply = login(app, username='<b onmouseover="x">', password="whatever1")
    assert reply.status == 401 and reply.header("set-cookie") is None
    body = reply.body.decode()
    assert "Wrong user name or password." in body
    assert "<b onmouseover" not in body and "&lt;b onmouseover=&quot;x&quot;&gt;" in body
    assert [e["action"] for e in demo.iter_events()][-1] == "failed_login"


def test_repeated_failures_get_429_with_retry_after(gate, app):
    assert login(app, password="wrong-pw-1", client="192.0.2.7").status == 401
    # the backoff itself is tested with a fixed clock in test_auth.py; here an address already waiting
    with gate.store.write():
        gate.store.save_login_attempt("client:192.0.2.7", auth.FREE_FAILURES + 3, time.time(), time.time() + 30)
    reply = login(app, client="192.0.2.7")
    assert reply.status == 429 and int(reply.header("retry-after")) >= 1
    assert "Too many failed logins" in reply.body.decode() and reply.header("set-cookie") is None


def test_forged_cookie_is_refused_and_dropped(app):
    cookie = cookie_header(login(app))
    forged = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    reply = http(app, "GET", "/", headers={"cookie": forged, "accept": "text/html"})
    assert reply.status == 303 and reply.header("location") == "/login?ended=1"
    assert reply.cookie().value == ""  # cleared
    assert "Your session has ended" in http(app, "GET", "/login?ended=1").body.decode()
    assert [m["type"] for m in websocket(app, cookie=forged)] == ["websocket.close"]


def test_cookie_is_renewed_when_half_its_life_is_gone(gate, app, users):
    old = auth.issue_session(gate.store, gate.secret, users["amal"], now=time.time() - auth.SESSION_TTL * 0.6)
    reply = http(app, "GET", "/", headers={"cookie": f"{auth.COOKIE_NAME}={old}"})
    assert reply.status == 200
    renewed = reply.cookie()
    assert renewed is not None and renewed.value != old and renewed["httponly"] is True
    fresh = auth.verify_session(gate.store, gate.secret, renewed.value)
    assert fresh.expires_at > time.time() + auth.SESSION_TTL * 0.9
    # a young cookie is left alone
    assert http(app, "GET", "/", headers={"cookie": f"{auth.COOKIE_NAME}={renewed.value}"}).header("set-cookie") is None


# ---- the app's page: preload hints ----------------------------------------------------------------------------------

SHELL = b'<!doctype html><html><head><title>Streamlit</title></head><body><div id="root"></div></body></html>'


def shell_app(gate: LoginGate, seen: list) -> Starlette:
    """The gate in front of a stand-in for Streamlit's index.html (with the file's ETag), noting each request."""

    async def shell(request):
        seen.append(request)
        return HTMLResponse(SHELL.decode(), headers={"etag": '"file-etag"', "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT"})

    return Starlette(routes=[*gate.routes(), Route("/review", shell), Route("/", _app_page)], middleware=[gate.middleware()])


@pytest.fixture
def hinting_gate(demo, gate):
    return LoginGate(demo.path, page_hints=hint_tags)  # as serve.py builds it


def test_the_page_gets_preload_hints_with_its_length_set_anew(hinting_gate, users):
    seen = []
    app = shell_app(hinting_gate, seen)
    cookie = cookie_header(login(app))
    reply = http(app, "GET", "/review", headers={"cookie": cookie, "accept": "text/html", "accept-encoding": "gzip, br"})
    tags = hint_tags()
    assert b'rel="modulepreload"' in tags and b"/BidiComponent." in tags  # Streamlit's chunks, read from its build
    assert reply.status == 200 and reply.body == SHELL.replace(b"</head>", tags + b"</head>")
    assert reply.header("content-length") == str(len(reply.body))
    # the file's validators would let a revalidation keep a page with other hints; the body is edited, not compressed
    assert reply.header("etag") is None and reply.header("last-modified") is None
    assert "accept-encoding" not in seen[0].headers
    # other responses pass untouched: a script's fetch (no HTML asked), a non-HTML body
    assert http(app, "GET", "/review", headers={"cookie": cookie}).body == SHELL
    assert http(app, "GET", "/", headers={"cookie": cookie, "accept": "text/html"}).body == APP_DATA


def test_a_renewed_cookie_and_the_hints_go_together(hinting_gate, users):
    app = shell_app(hinting_gate, [])
    old = auth.issue_session(hinting_gate.store, hinting_gate.secret, users["amal"], now=time.time() - auth.SESSION_TTL * 0.6)
    reply = http(app, "GET", "/review", headers={"cookie": f"{auth.COOKIE_NAME}={old}", "accept": "text/html"})
    assert reply.cookie().value != old and b'rel="modulepreload"' in reply.body


def test_an_anonymous_page_request_gets_no_page_and_no_hints(hinting_gate):
    seen = []
    reply = http(shell_app(hinting_gate, seen), "GET", "/review", headers={"accept": "text/html"})
    assert reply.status == 303 and reply.header("location") == "/login" and b"modulepreload" not in reply.body
    assert seen == []


def test_a_gate_without_hints_passes_the_page_unchanged(gate, users):
    app = shell_app(gate, [])
    reply = http(app, "GET", "/review", headers={"cookie": cookie_header(login(app)), "accept": "text/html"})
    assert reply.body == SHELL and reply.header("etag") == '"file-etag"'


def test_with_hints_puts_the_tags_at_the_end_of_the_head():
    page = b"<html><head><title>t</title></head><body>x</body></html>"
    assert with_hints(page, b"<link>") == b"<html><head><title>t</title><link></head><body>x</body></html>"
    assert with_hints(b"<p>no head</p>", b"<link>") == b"<p>no head</p>"


# ---- logging out, deactivation ------------------------------------------------------------------------------------


def test_logout_ends_the_session_and_clears_the_cookie(app, demo):
    cookie = cookie_header(login(app))
    assert http(app, "GET", "/logout", headers={"cookie": cookie}).status == 200  # GET only shows the button
    assert http(app, "GET", "/", headers={"cookie": cookie}).status == 200
    assert http(app, "POST", "/logout", headers={"cookie": cookie, "origin": "http://evil.example"}).status == 403
    reply = http(app, "POST", "/logout", headers={"cookie": cookie, "origin": ORIGIN})
    assert reply.status == 303 and reply.header("location") == "/login?bye=1"
    assert reply.cookie().value == ""
    assert http(app, "GET", "/", headers={"cookie": cookie, "accept": "text/html"}).status == 303
    assert [m["type"] for m in websocket(app, cookie=cookie)] == ["websocket.close"]
    assert "You have logged out." in http(app, "GET", "/login?bye=1").body.decode()
    assert [e["action"] for e in demo.iter_events()][-1] == "logout"


def test_deactivation_ends_an_open_session(app, demo, users):
    cookie = cookie_header(login(app, "badr"))
    auth.deactivate(demo, users["admin"], users["badr"].id)
    assert http(app, "GET", "/", headers={"cookie": cookie}).status == 401
    assert [m["type"] for m in websocket(app, cookie=cookie)] == ["websocket.close"]
    assert "deactivated" in login(app, "badr").body.decode()


# ---- first start ------------------------------------------------------------------------------------------------------


def test_a_new_database_asks_for_the_admin_account(tmp_path, monkeypatch):
    monkeypatch.setenv("NISBA_DEMO", "0")
    monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    gate = LoginGate(str(tmp_path / "team.db"))
    app = make_app(gate)
    body = http(app, "GET", "/login").body.decode()
    assert 'data-nisba="setup-form"' in body and "demo-hint" not in body
    form = {"username": "founder", "display_name": "مؤسس", "password": "founder-pass", "password_again": "other-pass"}
    assert http(app, "POST", "/setup", headers={"origin": ORIGIN}, form=form).status == 400
    assert http(app, "POST", "/setup", form={**form, "password_again": "founder-pass"}).status == 403  # no Origin
    reply = http(app, "POST", "/setup", headers={"origin": ORIGIN}, form={**form, "password_again": "founder-pass"})
    assert reply.status == 303 and reply.cookie()["httponly"] is True
    assert http(app, "GET", "/", headers={"cookie": cookie_header(reply)}).status == 200
    assert gate.store.user_by_username("founder").role == "admin"
    # the next visitor gets the login form, and cannot create a second "first" admin
    assert 'data-nisba="login-form"' in http(app, "GET", "/login").body.decode()
    again = http(
        app, "POST", "/setup", headers={"origin": ORIGIN}, form={**form, "username": "intruder", "password_again": "founder-pass"}
    )
    assert again.status == 400 and "exists already" in again.body.decode()
    assert gate.store.user_by_username("intruder") is None
    # GET /setup now leads to the login page, with the gate's headers (not Streamlit's page)
    redirect = http(app, "GET", "/setup")
    assert redirect.status == 303 and redirect.header("location") == "/login"
    assert "default-src 'none'" in redirect.header("content-security-policy")


def test_get_setup_shows_the_form_only_while_there_is_no_admin(tmp_path, monkeypatch):
    monkeypatch.setenv("NISBA_DEMO", "0")
    monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    app = make_app(LoginGate(str(tmp_path / "team.db")))
    reply = http(app, "GET", "/setup")
    assert reply.status == 200 and 'data-nisba="setup-form"' in reply.body.decode()
    assert reply.header("x-frame-options") == "DENY"


def test_after_a_failed_login_the_cursor_waits_in_the_password_field(app):
    first = http(app, "GET", "/login").body.decode()
    assert 'id="username"' in first and first.index("autofocus") < first.index('id="password"')
    again = login(app, username="amal", password="wrong-one").body.decode()
    assert again.index("autofocus") > again.index('id="password"')
    assert again.count("autofocus") == 1


def test_a_database_that_cannot_be_reached_is_a_503_page_naming_it_and_no_websocket(tmp_path, monkeypatch):
    """No traceback, no 500, no SQLite file in its place: every route and the app's own paths say which database
    and why (never its password), and the next request tries the database again."""
    monkeypatch.chdir(tmp_path)
    gate = LoginGate("postgresql://nisba:s3cret@127.0.0.1:9/team")
    app = make_app(gate)
    for method, path, form in (("GET", "/login", None), ("POST", "/login", {"username": "amal", "password": "x"}),
                               ("GET", "/setup", None), ("POST", "/logout", {}), ("GET", "/annotate", None)):  # fmt: skip
        cookie = f"{auth.COOKIE_NAME}=v1.2.9999999999.0.{'0' * 64}"  # well formed: only the database can judge it
        reply = http(app, method, path, headers={"origin": ORIGIN, "accept": "text/html", "cookie": cookie}, form=form)
        body = reply.body.decode()
        assert reply.status == 503, (method, path)
        assert "Cannot connect to PostgreSQL database &#x27;team&#x27; on 127.0.0.1:9 as nisba: Connection refused" in body
        assert "s3cret" not in body and "Traceback" not in body and APP_DATA not in reply.body
        assert reply.header("cache-control") == "no-store"
    sent = websocket(app, cookie=f"{auth.COOKIE_NAME}=v1.2.9999999999.0.{'0' * 64}")
    assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 1013)]  # 1013: try again later
    assert not list(tmp_path.rglob("*.db")) and gate._store is None
