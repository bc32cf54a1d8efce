"""Running one page of the app in Streamlit's AppTest as a logged-in user (the tests/test_pages_*.py files)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from annotator.store import Store


def run_page(store: Store, file: str, username: str, *, timeout: float = 60, **state) -> AppTest:
    """``pages/<file>`` run once as ``username`` of ``store``, as the login gate leaves a session (the user's id in
    ``nisba_user_id``), with ``state`` put in the session state first. ``timeout`` is per run, in seconds."""
    # a path relative to this file: AppTest resolves it from the file that calls from_file
    at = AppTest.from_file(f"../pages/{file}", default_timeout=timeout)
    at.session_state["nisba_user_id"] = store.user_by_username(username).id
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()
