"""Widgets shared by several pages."""

from __future__ import annotations

import streamlit as st

from annotator.models import Project, User
from annotator.projects import list_projects
from annotator.store import Store


def admin_project_picker(store: Store, user: User, *, refusal: str, empty: str, label: str, key: str) -> Project:
    """For admin-only pages: stop with ``refusal`` for others (the core refuses them anyway; this avoids a page
    of errors), stop with ``empty`` when there is no project, else return the project chosen in a selectbox."""
    if user.role != "admin":
        st.error(refusal)
        st.stop()
    projects = list_projects(store, user)
    if not projects:
        st.info(empty)
        st.stop()
    return st.selectbox(label, projects, format_func=lambda p: p.name, key=key)
