"""Streamlit glue shared by pages: the store of this server, and who is acting in this session."""

from __future__ import annotations

import streamlit as st

from annotator.demo import default_user, ensure_demo
from annotator.models import User
from annotator.store import Store, default_db_path


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    store = Store(path)
    ensure_demo(store)
    return store


def get_store() -> Store:
    """The Store for ``$NISBA_DB`` (or data/nisba.db), migrated and holding the demo project."""
    return _store(default_db_path())


def current_user(store: Store) -> User:
    """The acting user of this browser session (the demo annotator until accounts exist)."""
    uid = st.session_state.get("nisba_user_id")
    if uid is not None:
        return store.get_user(uid)
    user = default_user(store)
    st.session_state["nisba_user_id"] = user.id
    return user


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
