"""Widgets shared by several pages."""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st

from annotator.errors import NisbaError
from annotator.models import Document, Project, User
from annotator.projects import get_document, list_projects
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


def member_project_picker(store: Store, user: User, key: str) -> int:
    """For pages open to every member: the project chosen in the sidebar (session key ``key``), starting from the
    one chosen elsewhere in the session; stops with a message when the user belongs to no project."""
    projects = {p.id: p for p in list_projects(store, user)}
    if not projects:
        st.info("You are not a member of any project yet.")
        st.stop()
    if st.session_state.get(key) not in projects:
        chosen = st.session_state.get("nisba_project_id")
        st.session_state[key] = chosen if chosen in projects else next(iter(projects))
    st.sidebar.selectbox("Project", list(projects), key=key, format_func=lambda p: projects[p].name)
    return st.session_state[key]


def mixed_script_columns(*columns: str, **titled: str) -> dict:
    """``column_config`` for table columns that hold names or text in Arabic and Latin script mixed: all
    cells aligned to the right, as the Arabic ones already are, so the column does not zigzag. ``titled``
    maps more such columns to the heading they show (``display_name="Display name"``)."""
    config = {c: st.column_config.TextColumn(alignment="right") for c in columns}
    config.update({c: st.column_config.TextColumn(title, alignment="right") for c, title in titled.items()})
    return config


# Markdown (and Streamlit's additions: $math$, :emoji: and :colour[...] directives) that text must not trigger.
_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:&")
# GitHub-flavoured Markdown turns bare http://…, www.… and name@host.tld into links after unescaping, so
# backslashes cannot stop it: an invisible WORD JOINER (U+2060) goes where the pattern needs its next character.
_AUTOLINK = re.compile(r"(?i)(https?|ftp)(?=:)|\b(www)(?=\.)|(@)(?=[-\w])")


def md_literal(text: str) -> str:
    """``text`` backslash-escaped for st.markdown, st.caption and the alert boxes, so article text, titles,
    comments and names are shown as typed: ``**``, ``[link](…)``, ``![image](…)``, ``$x$`` or ``:red[…]`` in
    an imported article or a comment stay characters (an image would otherwise load from anywhere), and a bare
    address (``http://…``, ``www.…``, ``name@host``) stays text, with an invisible U+2060 that breaks the autolink."""
    text = _AUTOLINK.sub(lambda m: m.group(0) + "\u2060", str(text or ""))
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in text)


def iso_day_range(since: dt.date | None, until: dt.date | None) -> tuple[str | None, str | None]:
    """A screen's "from" and "until (inclusive)" days as the core's ISO bounds, whose end is excluded: the end
    moves to the next day here, and only here."""
    return (since.isoformat() if since else None, (until + dt.timedelta(days=1)).isoformat() if until else None)


def linked_document(store: Store, user: User, project_key: str, document_key: str) -> Document | None:
    """The document a ``?doc=ID`` link names, when the user may open it: its project and id go into the page's
    session-state keys (``project_key``, ``document_key``). A refusal is shown (escaped) and gives None."""
    raw = st.query_params.get("doc", "")
    if not raw.isdigit():
        return None
    try:
        linked = get_document(store, user, int(raw))
    except NisbaError as exc:
        st.warning(md_literal(f"Could not open the linked document: {exc}"))
        return None
    st.session_state[project_key], st.session_state[document_key] = linked.project_id, linked.id
    return linked


# Every text field takes its direction from what is typed in it (its first strong letter): Arabic runs right to
# left from the right edge, a user name or a URL left to right, in the same app. One rule for every field.
_BIDI_FIELDS_CSS = (
    "<style>[data-testid='stTextInput'] input, [data-testid='stTextArea'] textarea"
    " { unicode-bidi: plaintext; text-align: start; }</style>"
)


def bidi_text_fields() -> None:
    """Make every text input and text area of the page follow its content's direction (call once per run)."""
    st.html(_BIDI_FIELDS_CSS)
