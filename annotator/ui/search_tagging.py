"""The Tag all panel of the Search page: choose a label, preview, tag every hit (or the ticked ones), undo."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotator.annotations import undo_tag_all
from annotator.bulk_tagging import TagPlan, preview_tag_all, tag_all
from annotator.errors import NisbaError
from annotator.models import User
from annotator.search import SearchResult, find_hits, search_scope
from annotator.store import Store
from annotator.ui.widgets import md_literal


def _plan_summary(plan: TagPlan) -> str:
    return (
        f"{len(plan.create)} span{'s' if len(plan.create) != 1 else ''} of {md_literal(plan.label)} will be made; "
        f"{len(plan.existing)} already exist; {len(plan.refused)} refused."
    )


def _show_plan(plan: TagPlan) -> None:
    st.info(_plan_summary(plan))
    if plan.existing:
        st.caption("Already tagged so (left as they are):")
        st.dataframe(pd.DataFrame([{"hit": h.text, "document": h.title, "start": h.start} for h, _ in plan.existing]),
                     hide_index=True, key="search_tag_existing")  # fmt: skip
    if plan.refused:
        st.caption("Refused (a span there would split a letter from its marks or an emoji from its modifier):")
        st.dataframe(pd.DataFrame([{"hit": h.text, "document": h.title, "start": h.start, "why": why} for h, why in plan.refused]),
                     hide_index=True, key="search_tag_refused")  # fmt: skip


def tag_all_panel(store: Store, user: User, project_id: int, query: str, filters: dict, result: SearchResult) -> None:
    """Tag every hit of the search, or the ticked hits of this page, with one label in the user's layer (or gold
    for reviewers and admins), after a preview; the last Tag all can be undone here or with Ctrl+Z."""
    with st.expander("Tag all", expanded=bool(st.session_state.get("search_tag_plan"))):
        labels = search_scope(store, user, project_id).labels
        c1, c2, c3 = st.columns(3)
        label = c1.selectbox("Label", labels, key="search_tag_label")
        layers = ["annotator", "gold"] if user.role in ("reviewer", "admin") else ["annotator"]
        layer = c2.selectbox("Layer", layers, key="search_tag_layer", format_func={"annotator": "my layer", "gold": "gold"}.get)
        which = c3.radio("Hits", ["all", "ticked"], key="search_tag_which", horizontal=True,
                         format_func={"all": f"every hit ({result.total})", "ticked": "ticked on this page"}.get)  # fmt: skip
        hits = result.hits
        if which == "ticked":
            ticks = st.data_editor(
                pd.DataFrame({"tag": [False] * len(hits), "hit": [h.text for h in hits], "context": [h.context for h in hits],
                              "document": [h.title for h in hits]}),
                key="search_tag_ticks", hide_index=True, disabled=["hit", "context", "document"],
            )  # fmt: skip
            hits = [h for h, t in zip(hits, ticks["tag"], strict=True) if t]
        signature = (
            query,
            repr(sorted(filters.items(), key=str)),
            label,
            layer,
            which,
            tuple((h.document_id, h.start) for h in hits),
        )
        try:
            if st.button("Preview", key="search_tag_preview"):
                chosen = find_hits(store, user, project_id, query, **filters) if which == "all" else hits
                st.session_state["search_tag_plan"] = (
                    signature,
                    chosen,
                    preview_tag_all(store, user, project_id, chosen, label, layer=layer),
                )
            saved = st.session_state.get("search_tag_plan")
            if saved and saved[0] == signature:
                _sig, chosen, plan = saved
                _show_plan(plan)
                if plan.create and st.button(
                    f"Tag {len(plan.create)} as {md_literal(label)}", key="search_tag_go", type="primary"
                ):
                    done = tag_all(store, user, project_id, chosen, label, layer=layer)
                    st.session_state.pop("search_tag_plan", None)
                    st.session_state["search_tag_batch"] = done.batch
                    st.session_state["search_tag_message"] = f"Made {len(done.span_ids)} spans of {md_literal(label)}."
                    st.rerun()
            if msg := st.session_state.pop("search_tag_message", None):
                st.success(msg + " Ctrl+Z on any of those documents, or the button below, removes them all.")
            if st.session_state.get("search_tag_batch") and st.button("Undo the last Tag all", key="search_tag_undo"):
                st.success(md_literal(undo_tag_all(store, user, st.session_state.pop("search_tag_batch"))))
        except NisbaError as exc:
            st.error(md_literal(str(exc)))
