"""Sources screen: who said what. Every SOURCE of the project with the quotes and claims attributed to it, where,
with which cue verbs and when; reviewers and admins merge spellings of one source and split them again."""

import pandas as pd
import streamlit as st

from annotator import attribution_index as ai
from annotator.errors import NisbaError
from annotator.ui.session import current_user, get_store
from annotator.ui.source_charts import cue_heatmap, top_sources_chart
from annotator.ui.widgets import md_literal, member_project_picker, mixed_script_columns

store = get_store()
user = current_user(store)
st.title("Sources")
project_id = member_project_picker(store, user, "sources_project")
layer = st.radio("Spans of", list(ai.LAYERS), key="sources_layer", horizontal=True,
                 format_func={"all": "every layer", "gold": "gold", "annotator": "annotators' layers"}.get)  # fmt: skip


# cache_resource, not cache_data: the index is read, never changed, and unpickling 100,000 spans' worth of it
# on every run cost 400 ms
@st.cache_resource(max_entries=8, show_spinner="Indexing sources…")
def cached_index(db_path: str, project_id: int, layer: str, version: int, user_id: int, _user):
    """The index with its table and cue matrix, rebuilt only when the data changed (``version``); access is
    checked before the cache."""
    index = ai.attribution_index(store, _user, project_id, layer=layer)
    return index, index.table(), index.cue_matrix()


try:
    index, table, matrix = cached_index(store.path, project_id, layer, ai.data_version(store, user, project_id), user.id, user)
except NisbaError as exc:
    st.error(md_literal(str(exc)))
    st.stop()
if table.empty:
    st.info("No SOURCE spans in this project yet: tag sources (and link quotes and claims to them) first.")
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("Sources", len(table))
c2.metric("Quotes and claims attributed", int(table["attributed"].sum()))
c3.metric("Documents", len({d for e in index.sources.values() for d in e.documents}))
left, right = st.columns(2)
left.altair_chart(top_sources_chart(table), key="sources_top_chart", width="stretch")
if matrix.empty:
    right.caption("No cue is linked to these quotes and claims yet: the heat map of cue verbs by source is empty.")
else:
    right.altair_chart(cue_heatmap(matrix), key="sources_cue_chart", width="stretch")

st.caption("Click a source to see what is attributed to it.")
st.dataframe(
    table.drop(columns="group"), key="sources_table", on_select="rerun", selection_mode="single-row", hide_index=True,
    column_config=mixed_script_columns("source", "cues"),
)  # fmt: skip
picked = st.session_state["sources_table"].selection.rows
if picked and picked[0] < len(table):
    group = table.iloc[picked[0]]["group"]
    rows = ai.attributions(store, user, index, group)
    st.subheader(f"Attributed to «{md_literal(index.sources[group].name)}»")

    def open_span() -> None:
        """A click on an attribution opens it on the annotation page (after this run, below)."""
        chosen = st.session_state["sources_attributions"].selection.rows
        if chosen and chosen[0] < len(rows):
            st.session_state["sources_open"] = rows[chosen[0]]

    st.dataframe(
        pd.DataFrame(rows, columns=["label", "text", "cues", "document"]), key="sources_attributions",
        on_select=open_span, selection_mode="single-row", hide_index=True,
        column_config=mixed_script_columns("text", "cues", "document"),
    )  # fmt: skip
if (hit := st.session_state.pop("sources_open", None)) is not None:
    st.switch_page(
        "pages/annotate.py", query_params={"doc": str(hit["document_id"]), "start": str(hit["start"]), "end": str(hit["end"])}
    )

if user.role in ("reviewer", "admin"):  # the core refuses others anyway
    with st.expander("Merge or split sources"):
        names = {g: e.name for g, e in index.sources.items()}
        chosen = st.multiselect("Sources that are one", list(names), key="sources_merge", format_func=names.get)
        into = st.selectbox("Merge into", chosen or [None], key="sources_into", format_func=lambda g: names.get(g, "—"))
        merged = sorted(g for g, e in index.sources.items() if len(e.variants) > 1)
        split = st.selectbox(
            "Merged source to split", [None, *merged], key="sources_split", format_func=lambda g: names.get(g, "—")
        )
        try:
            if st.button("Merge", key="sources_merge_go", disabled=len(chosen) < 2):
                ai.merge_sources(store, user, project_id, chosen, into)
                st.rerun()
            if st.button("Split", key="sources_split_go", disabled=split is None):
                ai.split_source(store, user, project_id, split)
                st.rerun()
        except NisbaError as exc:
            st.error(md_literal(str(exc)))

for name in ("sources.csv", "attributions.csv"):  # made when clicked: drawing the page writes no CSV
    st.download_button(f"Download {name}", lambda n=name: ai.index_csv(store, user, index)[n], file_name=name, mime="text/csv",
                       key=f"sources_download_{name}")  # fmt: skip
