"""A search box for the document on the annotation screen: find a word as Arabic is written (harakat, tatweel and
alef forms ignored) and select each hit in the article, ready for a hotkey."""

from __future__ import annotations

import streamlit as st

from annotator.errors import NisbaError
from annotator.models import User
from annotator.search import Hit, find_hits
from annotator.store import Store
from annotator.ui.article_component import select_range
from annotator.ui.widgets import md_literal


def _hits(store: Store, user: User, project_id: int, document_id: int, key: str) -> list[Hit] | str:
    query = st.session_state.get(f"{key}_query", "")
    if not query.strip():
        return []
    try:
        return find_hits(store, user, project_id, query, substring=bool(st.session_state.get(f"{key}_substring")),
                         document_ids=[document_id])  # fmt: skip
    except NisbaError as exc:
        return str(exc)


def find_in_document(store: Store, user: User, project_id: int, document_id: int, *, article_key: str, key: str) -> None:
    """The "Find in this document" box: the hits of the query in reading order, ◀ ▶ to step through them; the
    current hit is selected in the article component ``article_key`` (set in the widgets' callbacks, which run
    before the article is drawn). Session keys are prefixed with ``key``."""

    def go(step: int) -> None:
        hits = _hits(store, user, project_id, document_id, key)
        if not isinstance(hits, list) or not hits:
            st.session_state[f"{key}_at"] = -1
            return
        at = 0 if step == 0 else (st.session_state.get(f"{key}_at", -1) + step) % len(hits)
        st.session_state[f"{key}_at"] = at
        select_range(article_key, hits[at].start, hits[at].end)

    with st.expander("Find in this document", expanded=bool(st.session_state.get(f"{key}_query"))):
        c_query, c_part = st.columns([3, 1], vertical_alignment="bottom")
        c_query.text_input("Find", key=f"{key}_query", placeholder="قال  ·  الوزارة", label_visibility="collapsed",
                           on_change=go, args=(0,))  # fmt: skip
        c_part.toggle("Part of a word", key=f"{key}_substring", on_change=go, args=(0,))
        hits = _hits(store, user, project_id, document_id, key)
        if isinstance(hits, str):
            st.info(md_literal(hits))  # the search's refusal may quote the query
            return
        if not st.session_state.get(f"{key}_query", "").strip():
            return
        if not hits:
            st.caption("Not found in this document.")
            return
        c_prev, c_where, c_next = st.columns([1, 3, 1], vertical_alignment="center")
        c_prev.button("◀", key=f"{key}_prev", on_click=go, args=(-1,), help="Previous hit")
        c_next.button("▶", key=f"{key}_next", on_click=go, args=(1,), help="Next hit")
        at = min(max(st.session_state.get(f"{key}_at", 0), 0), len(hits) - 1)
        c_where.caption(f"Hit {at + 1} of {len(hits)} — selected in the article: press a label key to tag it")
