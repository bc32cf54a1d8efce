"""Widgets shared by several pages."""

from __future__ import annotations

import streamlit as st

from annotator.models import Project, User
from annotator.projects import list_projects
from annotator.store import Store


def require_page_role(user: User, roles: tuple[str, ...], refusal: str, *, as_error: bool = True) -> None:
    """Stop the page with ``refusal`` unless the user has one of ``roles``. The core refuses them anyway;
    this only spares them a page of errors."""
    if user.role not in roles:
        (st.error if as_error else st.info)(refusal)
        st.stop()


def admin_project_picker(store: Store, user: User, *, refusal: str, empty: str, label: str, key: str) -> Project:
    """For admin-only pages: stop with ``refusal`` for others, stop with ``empty`` when there is no project,
    else return the project chosen in a selectbox."""
    require_page_role(user, ("admin",), refusal)
    projects = list_projects(store, user)
    if not projects:
        st.info(empty)
        st.stop()
    return st.selectbox(label, projects, format_func=lambda p: p.name, key=key)


def mixed_script_columns(*columns: str, **titled: str) -> dict:
    """``column_config`` for table columns that hold names or text in Arabic and Latin script mixed: all
    cells aligned to the right, as the Arabic ones already are, so the column does not zigzag. ``titled``
    maps more such columns to the heading they show (``display_name="Display name"``)."""
    config = {c: st.column_config.TextColumn(alignment="right") for c in columns}
    config.update({c: st.column_config.TextColumn(title, alignment="right") for c, title in titled.items()})
    return config


# Markdown (and Streamlit's additions: $math$, :emoji: and :colour[...] directives) that text must not trigger.
_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:&")


def md_literal(text: str) -> str:
    """``text`` backslash-escaped for st.markdown, st.caption and the alert boxes, so article text, titles,
    comments and names are shown as typed: ``**``, ``[link](…)``, ``![image](…)``, ``$x$`` or ``:red[…]`` in
    an imported article or a comment stay characters (an image would otherwise load from anywhere)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in str(text or ""))
