"""Search screen: find words, phrases or parts of words as Arabic is written, see them in context, open one in the
annotation screen, or tag them all with one label."""

import pandas as pd
import streamlit as st

from annotator.errors import NisbaError
from annotator.search import DEFAULT_PAGE_SIZE, kwic_rows, search, search_scope
from annotator.ui.search_tagging import tag_all_panel
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import md_literal, member_project_picker

store = get_store()
user = current_user(store)
st.title("Search")
project_id = member_project_picker(store, user, "search_project")
scope = search_scope(store, user, project_id)

query = st.text_input("Search", key="search_query", placeholder='قال  ·  "قال الوزير"  ·  الوزارة')
st.caption("Harakat, tatweel and the forms of alef are ignored; every word must occur; put a phrase in double quotes.")
c1, c2, c3 = st.columns(3)
substring = c1.toggle("Part of a word (finds «الوزارة» inside «بالوزارة» too)", key="search_substring")
ya = c2.toggle("ى and ي are the same", value=True, key="search_ya")
ta = c3.toggle("ة and ه are the same", value=True, key="search_ta")
with st.expander("Restrict the search"):
    r1, r2, r3 = st.columns(3)
    label = r1.selectbox(
        "Inside spans of the label", [None, *scope.labels], key="search_label", format_func=lambda x: x or "(any text)"
    )
    annotator_id = r2.selectbox(
        "Inside the layer of", [None, *scope.annotators], key="search_annotator",
        format_func=lambda x: "(any layer)" if x is None else scope.annotators[x],
    )  # fmt: skip
    source = r3.text_input("Attributed to a source matching", key="search_source") or None
    document_ids = st.multiselect(
        "Only these documents", list(scope.documents), key="search_documents", format_func=scope.documents.get
    )
if not query.strip():
    st.info("Type a word to search for.")
    st.stop()

filters = dict(
    substring=substring, label=label, source=source, annotator_id=annotator_id, document_ids=document_ids or None, ya=ya, ta=ta
)
signature = repr((project_id, query, sorted(filters.items(), key=str)))
if st.session_state.get("search_signature") != signature:  # a new search starts on its first page
    st.session_state["search_signature"] = signature
    st.session_state["search_page_number"] = 1
page = st.session_state.get("search_page_number", 1) - 1
try:
    result = search(store, user, project_id, query, page=page, page_size=DEFAULT_PAGE_SIZE, **filters)
except NisbaError as exc:
    st.warning(md_literal(str(exc)))  # it may quote the query: shown as typed
    st.stop()
if result.total == 0:
    st.info("No hits.")
    st.stop()
st.markdown(
    f"**{result.total}** hit{'s' if result.total != 1 else ''} in **{result.documents}** document{'s' if result.documents != 1 else ''}"
)
if result.pages > 1:
    st.number_input(f"Page (of {result.pages})", 1, result.pages, key="search_page_number")
rows = kwic_rows(result.hits)


def open_hit() -> None:
    """A click on a row opens that hit on the annotation page (after this run, see below)."""
    picked = st.session_state["search_results"].selection.rows
    if picked and picked[0] < len(rows):
        st.session_state["search_open"] = rows[picked[0]]


frame = pd.DataFrame(rows, columns=["after", "hit", "before", "title"])
styled = frame.style.set_properties(subset=["hit"], **{"background-color": "#ffd966", "font-weight": "bold"})
st.caption("Read from the right: what comes before the hit, the hit (marked), what follows. Click a row to open it.")
st.dataframe(
    styled, key="search_results", on_select=open_hit, selection_mode="single-row", hide_index=True, width="stretch",
    column_config={
        "before": st.column_config.TextColumn("before", alignment="left"),
        "hit": st.column_config.TextColumn("hit", alignment="center"),
        "after": st.column_config.TextColumn("after", alignment="right"),
        "title": st.column_config.TextColumn("document", alignment="right"),
    },
)  # fmt: skip
if (hit := st.session_state.pop("search_open", None)) is not None:
    # The annotation page reads doc, start and end from the URL: it opens the document with the hit selected.
    st.switch_page(
        "pages/annotate.py", query_params={"doc": str(hit["document_id"]), "start": str(hit["start"]), "end": str(hit["end"])}
    )

tag_all_panel(store, user, project_id, query, filters, result)
