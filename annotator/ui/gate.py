"""The login gate in front of Streamlit: /login, /logout and first-run /setup pages, and a raw-ASGI middleware.

``serve.py`` mounts both on ``st.App``. The middleware looks at every HTTP request *and* every websocket
(Starlette's ``BaseHTTPMiddleware`` skips websockets, and the app's data flows over ``/_stcore/stream``):
without a valid session cookie a page request is redirected to /login, any other request gets 401, and the
websocket is closed before it is accepted — so an anonymous browser never runs the script at all.

A logged-in browser's page request (Streamlit's index.html, the same for every page) gets preload hints in its
``<head>`` when serve.py gives the gate :func:`annotator.ui.page_hints.hint_tags`, so the files the first screen
needs load while the script runs.

The cookie is HttpOnly (no script can read it), SameSite=Strict (never sent on cross-site requests, which
with the Origin check on every POST makes the forms CSRF-safe), and holds a token from
:func:`annotator.auth.issue_session`. The gate re-issues it when less than half its life is left.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from annotator import auth
from annotator.demo import DEMO_PASSWORDS, demo_enabled, ensure_demo, is_demo
from annotator.errors import AuthError, LoginThrottled, NisbaError, StorageError
from annotator.store import Store, default_db_path

# Paths an anonymous visitor may reach: the login pages and the health probe (it reveals nothing).
OPEN_PATHS = ("/login", "/logout", "/setup", "/_stcore/health")
MAX_FORM_BYTES = 16 * 1024  # the login forms are tiny; anonymous visitors must not make us buffer more
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The login pages have no script at all; styles are inline.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


class LoginGate:
    """The store, the secret and the login routes of one server (the database of ``$NISBA_DB`` by default)."""

    def __init__(self, db_path: str | None = None, *, ttl: int = auth.SESSION_TTL, page_hints: Callable[[], bytes] | None = None):
        self._db_path = db_path
        self.page_hints = page_hints  # the tags a page's <head> gets (None: pages pass unchanged)
        self._store: Store | None = None
        self._secret: bytes | None = None
        self._lock = threading.Lock()
        self.ttl = ttl

    # ---- lazily opened: importing serve.py must not touch the disk ----------------------------------------

    def _open(self) -> None:
        with self._lock:
            if self._store is None:
                store = Store(self._db_path or default_db_path())
                try:
                    if demo_enabled():
                        ensure_demo(store)
                    self._secret = auth.load_or_create_secret(store.path)
                except BaseException:
                    store.close()  # the next request tries again
                    raise
                self._store = store

    @property
    def store(self) -> Store:
        if self._store is None:
            self._open()
        return self._store

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._open()
        return self._secret

    # ---- sessions -----------------------------------------------------------------------------------------

    def session_of(self, cookie_header: str | None) -> auth.Session | None:
        """The verified session named by a Cookie header, or None (blocking: call from a worker thread)."""
        token = read_cookie(cookie_header, auth.COOKIE_NAME)
        if not token:
            return None
        try:
            return auth.verify_session(self.store, self.secret, token)
        except AuthError:
            return None

    def issue(self, user) -> str:
        """A fresh session token for ``user`` (blocking)."""
        return auth.issue_session(self.store, self.secret, user, ttl=self.ttl)

    def set_cookie(self, response: Response, token: str, secure: bool) -> None:
        response.set_cookie(
            auth.COOKIE_NAME, token, max_age=self.ttl, path="/", httponly=True, samesite="strict", secure=secure
        )  # fmt: skip

    def clear_cookie(self, response: Response, secure: bool) -> None:
        response.delete_cookie(auth.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=secure)

    # ---- wiring for st.App --------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/login", unavailable_on_storage_error(self.login), methods=["GET", "POST"]),
            Route("/setup", unavailable_on_storage_error(self.setup), methods=["GET", "POST"]),
            Route("/logout", unavailable_on_storage_error(self.logout), methods=["GET", "POST"]),
        ]

    def middleware(self) -> Middleware:
        return Middleware(GateMiddleware, gate=self)

    # ---- the pages ------------------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        secure = request.url.scheme == "https"
        if await run_in_threadpool(auth.needs_first_admin, self.store):
            return page(SETUP_FORM.format(error="", username=""), title="Create the admin account")
        if request.method == "GET":
            if await run_in_threadpool(self.session_of, request.headers.get("cookie")):
                return RedirectResponse("/", status_code=303)
            notice = ""
            if request.query_params.get("bye"):
                notice = '<p class="ok">You have logged out.</p>'
            elif request.query_params.get("ended"):
                notice = '<p class="ok">Your session has ended (expired, logged out elsewhere, or the account changed). Please log in again.</p>'
            return await self._login_page(notice)
        if refusal := refuse_post(request):
            return refusal
        form = await request.form(max_files=0, max_fields=10)
        username, password = str(form.get("username", ""))[:100], str(form.get("password", ""))
        client = request.client.host if request.client else ""
        try:
            user = await run_in_threadpool(auth.authenticate, self.store, username, password, client=client)
            token = await run_in_threadpool(self.issue, user)
        except LoginThrottled as exc:
            response = await self._login_page(error(str(exc)), username, status=429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except NisbaError as exc:
            return await self._login_page(error(str(exc)), username, status=401)
        response = RedirectResponse("/", status_code=303)
        self.set_cookie(response, token, secure)
        return response

    async def _login_page(self, message: str = "", username: str = "", status: int = 200) -> Response:
        demo = await run_in_threadpool(is_demo, self.store)
        hint = DEMO_HINT.format(names=", ".join(DEMO_PASSWORDS)) if demo else ""
        # after a failed attempt the name is filled in again: the cursor waits in the password field
        focus = {"user_focus": "" if username else "autofocus", "password_focus": "autofocus" if username else ""}
        body = LOGIN_FORM.format(message=message, username=html.escape(username, quote=True), demo=hint, **focus)
        return page(body, title="Log in", status=status)

    async def setup(self, request: Request) -> Response:
        """First start: create the admin account (only while no active admin has a password). A GET shows the
        form while that is so, else goes to /login (never Streamlit's page, with the gate's headers either way)."""
        if request.method == "GET":
            if await run_in_threadpool(auth.needs_first_admin, self.store):
                return page(SETUP_FORM.format(error="", username=""), title="Create the admin account")
            return RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
        if refusal := refuse_post(request):
            return refusal
        form = await request.form(max_files=0, max_fields=10)
        username, display = str(form.get("username", ""))[:100], str(form.get("display_name", ""))[:100]
        password, again = str(form.get("password", "")), str(form.get("password_again", ""))
        try:
            if password != again:
                raise NisbaError("The two passwords differ.")
            user = await run_in_threadpool(auth.create_first_admin, self.store, username, password, display)
            token = await run_in_threadpool(self.issue, user)
        except NisbaError as exc:
            body = SETUP_FORM.format(error=error(str(exc)), username=html.escape(username, quote=True))
            return page(body, title="Create the admin account", status=400)
        response = RedirectResponse("/", status_code=303)
        self.set_cookie(response, token, request.url.scheme == "https")
        return response

    async def logout(self, request: Request) -> Response:
        """POST: end every session of the user and clear the cookie. GET only shows the button (a link or a
        prefetch must not log anyone out)."""
        if request.method == "GET":
            return page(LOGOUT_FORM, title="Log out")
        if refusal := refuse_post(request):
            return refusal
        session = await run_in_threadpool(self.session_of, request.headers.get("cookie"))
        if session is not None:
            await run_in_threadpool(auth.logout, self.store, session.user)
        response = RedirectResponse("/login?bye=1", status_code=303)
        self.clear_cookie(response, request.url.scheme == "https")
        return response


class GateMiddleware:
    """Pure ASGI middleware: HTTP requests and websockets need a valid session, except :data:`OPEN_PATHS`."""

    def __init__(self, app, gate: LoginGate):
        self.app = app
        self.gate = gate

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        cookie = _header(scope, b"cookie")
        try:
            session = await run_in_threadpool(self.gate.session_of, cookie)
        except StorageError as exc:  # the database cannot be opened or reached: nobody can be let in, say why
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013, "reason": "database unavailable"})
                return
            return await unavailable(exc)(scope, receive, send)
        if session is None:
            if scope["type"] == "websocket":
                # Closing before accepting makes the server answer the upgrade with 403: no session, no data.
                await send({"type": "websocket.close", "code": 4401, "reason": "login required"})
                return
            return await self._refuse(scope, receive, send, has_cookie=bool(read_cookie(cookie, auth.COOKIE_NAME)))
        if scope["type"] == "http" and session.expires_at - time.time() < self.gate.ttl / 2:
            try:
                token = await run_in_threadpool(self.gate.issue, session.user)
            except NisbaError:  # deactivated a moment ago: no renewal; the next request is refused
                token = None
            if token:
                send = _with_cookie(send, self.gate, token, scope.get("scheme") == "https")
        if scope["type"] == "http" and self.gate.page_hints is not None and _is_page_request(scope):
            scope, send = _page_with_hints(scope, send, self.gate.page_hints())
        return await self.app(scope, receive, send)

    async def _refuse(self, scope, receive, send, *, has_cookie: bool):
        accepts_html = "text/html" in (_header(scope, b"accept") or "")
        if scope["method"] in ("GET", "HEAD") and accepts_html:
            target = "/login?ended=1" if has_cookie else "/login"
            response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
        else:
            response = PlainTextResponse("Login required.", status_code=401, headers={"Cache-Control": "no-store"})
        if has_cookie:  # an expired, forged or logged-out cookie: drop it
            self.gate.clear_cookie(response, scope.get("scheme") == "https")
        await response(scope, receive, send)


def unavailable_on_storage_error(handler):
    """Wrap a route so a database that cannot be opened or reached gives :func:`unavailable`, not a 500."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except StorageError as exc:
            return unavailable(exc)

    return wrapped


def unavailable(exc: StorageError) -> HTMLResponse:
    """The page shown while the database cannot be used: the store's one-line reason (which database, why, what to
    do; never a password), status 503 so a proxy or a monitor sees it too. Nothing is kept: the next request tries
    the database again."""
    body = f'{error(str(exc))}<p class="sub">Nothing was saved. Reload this page once the database is back.</p>'
    return page(body, title="Database unavailable", status=503)


def _with_cookie(send, gate: LoginGate, token: str, secure: bool):
    """Wrap ``send`` so the response carries a fresh session cookie."""
    holder = Response()
    gate.set_cookie(holder, token, secure)
    cookie_headers = [(k, v) for k, v in holder.raw_headers if k == b"set-cookie"]

    async def wrapped(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *cookie_headers]}
        await send(message)

    return wrapped


def _is_page_request(scope) -> bool:
    """A browser navigation: a GET asking for HTML (Streamlit answers every page address with its index.html)."""
    return scope["method"] == "GET" and "text/html" in (_header(scope, b"accept") or "")


def _page_with_hints(scope, send, tags: bytes):
    """The scope and ``send`` for a page request whose HTML gets ``tags`` at the end of its ``<head>``: the request
    asks for no compression (the page is 8 KB) so the body can be edited; the length is set anew, and the file's
    ETag and Last-Modified are dropped, because they describe the file, not the page sent (a revalidation must
    never keep a page with other hints)."""
    scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]}
    start: dict | None = None
    chunks: list[bytes] = []

    async def wrapped(message):
        nonlocal start
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if message["status"] != 200 or not headers.get(b"content-type", b"").startswith(b"text/html"):
                start = None
                return await send(message)
            start = message
            return None
        if start is None or message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return None
        body = with_hints(b"".join(chunks), tags)
        drop = (b"content-length", b"etag", b"last-modified")
        headers = [(k, v) for k, v in start.get("headers", []) if k not in drop]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return scope, wrapped


def with_hints(html_page: bytes, tags: bytes) -> bytes:
    """``html_page`` with ``tags`` at the end of its ``<head>`` (unchanged when it has none)."""
    head_end = html_page.find(b"</head>")
    if head_end < 0 or not tags:
        return html_page
    return html_page[:head_end] + tags + html_page[head_end:]


def _header(scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return "; ".join(values) if values else None


def read_cookie(cookie_header: str | None, name: str) -> str | None:
    """One cookie's value from a Cookie header (None when absent or unparsable)."""
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # a malformed header from any client must not crash the gate
        return None
    return jar[name].value if name in jar else None


def refuse_post(request: Request) -> Response | None:
    """A 403 for a form posted from another site, a 413 for an oversized or unsized body; None when fine."""
    if not same_origin(request):
        return PlainTextResponse("Cross-site form posts are refused.", status_code=403, headers=SECURITY_HEADERS)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return PlainTextResponse("The form is too large.", status_code=413, headers=SECURITY_HEADERS)
    return None


def same_origin(request: Request) -> bool:
    """The form was posted from this site: Origin (or, without it, Referer) names this host.

    Browsers send Origin on every POST; a request with neither header is refused.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc == request.headers.get("host", "")


def error(message: str) -> str:
    return f'<p class="error" role="alert">{html.escape(message)}</p>'


def page(body: str, *, title: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status, headers=SECURITY_HEADERS)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Nisba</title>
<style>
  :root {{ color-scheme: light; }}
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         font-family: system-ui, "Segoe UI", "Noto Sans Arabic", sans-serif; background: #f4f1ea; color: #222; }}
  main {{ background: #fff; padding: 2rem 2.25rem; border-radius: 12px; width: min(24rem, 90vw);
          box-shadow: 0 2px 14px rgba(0, 0, 0, .08); }}
  h1 {{ margin: 0 0 .25rem; font-size: 1.5rem; }}
  h1 .ar {{ font-weight: 400; color: #8a6d3b; margin-left: .6rem; }}
  .sub {{ margin: 0 0 1.5rem; color: #666; font-size: .95rem; }}
  label {{ display: block; font-size: .9rem; margin: .9rem 0 .3rem; }}
  input {{ width: 100%; box-sizing: border-box; padding: .6rem .7rem; font-size: 1rem;
           border: 1px solid #c9c2b4; border-radius: 6px; }}
  input:focus {{ outline: 2px solid #8a6d3b; border-color: #8a6d3b; }}
  button {{ margin-top: 1.4rem; width: 100%; padding: .7rem; font-size: 1rem; border: 0; border-radius: 6px;
            background: #8a6d3b; color: #fff; cursor: pointer; }}
  button:hover {{ background: #6f5730; }}
  .error {{ background: #fde8e8; color: #8a1c1c; padding: .6rem .8rem; border-radius: 6px; }}
  .ok {{ background: #e8f5e9; color: #1b5e20; padding: .6rem .8rem; border-radius: 6px; }}
  .demo {{ margin-top: 1.4rem; font-size: .85rem; color: #555; background: #fff8e1; padding: .6rem .8rem;
           border-radius: 6px; }}
</style></head>
<body><main>
<h1>Nisba<span class="ar" lang="ar" dir="rtl">نِسبة</span></h1>
{body}
</main></body></html>"""

LOGIN_FORM = """<p class="sub">Attribution in Arabic news. Please log in.</p>
{message}
<form method="post" action="/login" data-nisba="login-form">
  <label for="username">User name</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false"
         required {user_focus} value="{username}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required {password_focus}>
  <button type="submit">Log in</button>
</form>
{demo}"""

DEMO_HINT = """<p class="demo" data-nisba="demo-hint"><strong>Demo data.</strong> Demo accounts: {names};
the password is <code>nisba-</code> followed by the user name (e.g. <code>nisba-amal</code>).</p>"""

SETUP_FORM = """<p class="sub">This is a new database: create the admin account.</p>
{error}
<form method="post" action="/setup" data-nisba="setup-form">
  <label for="username">Admin user name</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false"
         required autofocus value="{username}">
  <label for="display_name">Display name (optional)</label>
  <input id="display_name" name="display_name">
  <label for="password">Password (at least 8 characters)</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
  <label for="password_again">Password again</label>
  <input id="password_again" name="password_again" type="password" autocomplete="new-password" required>
  <button type="submit">Create the admin account</button>
</form>"""

LOGOUT_FORM = """<p class="sub">End your session on every device?</p>
<form method="post" action="/logout" data-nisba="logout-form"><button type="submit">Log out</button></form>"""
