"""Streamlit glue shared by pages: the store of this server, and who is acting in this session."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from annotator import auth
from annotator.demo import demo_enabled, ensure_demo
from annotator.errors import AuthError, StorageError
from annotator.models import User
from annotator.store import Store, default_db_path
from annotator.ui.widgets import md_literal


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    store = Store(path)
    try:
        if demo_enabled():
            ensure_demo(store)
    except BaseException:
        store.close()  # not cached: the next run opens it again, and no pool is left behind
        raise
    # Move what is loaded by now (Streamlit, pandas, the app's modules) out of the collector's reach: later
    # full collections then scan only what runs create (measured in the delta-protocol spike: 299 -> 160 ms
    # of CPU per tag from this alone).
    gc.collect()
    gc.freeze()
    return store


@st.cache_resource(show_spinner=False)
def _secret(path: str) -> bytes:
    return auth.load_or_create_secret(path)


def get_store() -> Store:
    """The Store for ``$NISBA_DB`` (or data/nisba.db), migrated and holding the demo project. A database that cannot
    be opened (a wrong URL, an unreachable server, wrong credentials, a newer schema) stops the page with the
    store's one-line reason; nothing is cached then, so the next run tries again."""
    try:
        return _store(default_db_path())
    except StorageError as exc:
        _stop_unavailable(exc)


@contextmanager
def storage_errors_shown() -> Iterator[None]:
    """Run a page: a :class:`StorageError` it did not show itself (the database went away in the middle of a run)
    stops it with the one-line reason instead of a traceback. Saves show their own ("Not saved: …")."""
    try:
        yield
    except StorageError as exc:
        _stop_unavailable(exc)


def _stop_unavailable(exc: StorageError) -> None:
    st.error(f"**The database cannot be used just now.** {md_literal(str(exc))}", icon="⚠️")
    st.caption("Nothing more was saved. Reload the page once the database is back.")
    st.stop()


def current_user(store: Store) -> User:
    """The logged-in user of this browser session; otherwise the page stops with a link to /login.

    In a browser the user comes only from the session cookie (``st.context.cookies``, sent with the
    websocket handshake), re-verified on every run: signature, expiry, session generation, active account.
    The gate in serve.py has already refused anonymous websockets; this check is the second line, and it
    also ends an open session at once after logout, a password reset or deactivation.

    ``st.session_state["nisba_user_id"]`` is trusted only under AppTest, which has no cookies: AppTest sets
    the hidden ``global.appTest`` option while it runs, and a real browser session always has request
    headers (a websocket handshake cannot come without a Host header). A browser cannot set that key either:
    no widget uses it.
    """
    try:
        return _verified_user(store)
    except StorageError as exc:  # the database went away since the store was opened
        _stop_unavailable(exc)


def _verified_user(store: Store) -> User:
    token = st.context.cookies.get(auth.COOKIE_NAME)
    if isinstance(token, str) and token:  # under AppTest the cookie jar is a stand-in object
        try:
            return auth.verify_session(store, _secret(store.path), token).user
        except AuthError as exc:
            _stop_logged_out(str(exc))
    if _under_app_test():
        uid = st.session_state.get("nisba_user_id")
        user = store.get_user(uid) if uid is not None else None
        if user is not None and user.active:
            return user
    _stop_logged_out("Please log in.")


def _under_app_test() -> bool:
    from streamlit import config

    return bool(config.get_option("global.appTest")) and not dict(st.context.headers)


def _stop_logged_out(message: str) -> None:
    st.info(message)
    # st.html keeps a link without a target, so it opens in this tab (markdown links open a new one).
    st.html('<a href="/login" data-nisba="login-link">Log in</a>')
    st.stop()


def logout_form() -> None:
    """A "Log out" button posting to the gate's /logout (ends every session of the user, clears the cookie)."""
    st.html(
        '<form method="post" action="/logout" data-nisba="logout">'
        '<button type="submit" style="padding:.3rem .8rem;border-radius:6px;border:1px solid #c9c2b4;'
        'background:#fff;cursor:pointer">Log out</button></form>'
    )


def current_project_id(store: Store, user: User) -> int | None:
    """The project chosen in this session (the first one the user may open, by default)."""
    from annotator.projects import list_projects

    projects = list_projects(store, user)
    if not projects:
        return None
    pid = st.session_state.get("nisba_project_id")
    if pid not in {p.id for p in projects}:
        pid = projects[0].id
        st.session_state["nisba_project_id"] = pid
    return pid
