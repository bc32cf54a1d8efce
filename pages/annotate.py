"""Annotation screen: pick a document, highlight the right-to-left article, see its spans in reading order."""

import pandas as pd
import streamlit as st

from annotator.errors import NisbaError
from annotator.projects import document_overview, get_document, list_projects, set_document_status
from annotator.render import document_choice, document_rows, feedback_line, neighbour
from annotator.review import feedback
from annotator.ui.article_component import article_view, select_range, select_span
from annotator.ui.find_in_document import find_in_document
from annotator.ui.guidelines import guidelines_button
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import linked_document, md_literal

store = get_store()
user = current_user(store)

projects = {p.id: p for p in list_projects(store, user)}
if not projects:
    st.info("You are not a member of any project yet; ask an admin to add you.")
    st.stop()

# A link ?doc=ID opens that document (and its project) when the session starts; afterwards the URL follows
# the open document, so a reload comes back to it. ?doc=ID&start=S&end=E (a search hit) opens it at any time
# with that text selected, ready for a hotkey; start and end are consumed.
hit = (st.query_params.get("start", ""), st.query_params.get("end", ""))
if "annotate_doc" not in st.session_state or all(hit):
    linked = linked_document(store, user, "annotate_project", "annotate_doc")  # refusals shown escaped
    if linked is not None and hit[0].isdigit() and hit[1].isdigit() and int(hit[0]) < int(hit[1]) <= len(linked.text):
        select_range("annotate_article", int(hit[0]), int(hit[1]))
for param in ("start", "end"):
    if param in st.query_params:
        del st.query_params[param]

if st.session_state.get("annotate_project") not in projects:
    st.session_state["annotate_project"] = st.session_state.get("nisba_project_id", next(iter(projects)))
    if st.session_state["annotate_project"] not in projects:
        st.session_state["annotate_project"] = next(iter(projects))
if len(projects) > 1:
    st.sidebar.selectbox("Project", list(projects), key="annotate_project", format_func=lambda pid: projects[pid].name)
project_id = st.session_state["annotate_project"]
st.session_state["nisba_project_id"] = project_id

overview = {row["id"]: row for row in document_overview(store, user, project_id)}
doc_ids = list(overview)
if not doc_ids:
    st.info("This project has no documents yet.")
    st.stop()
if st.session_state.get("annotate_doc") not in overview:
    st.session_state["annotate_doc"] = doc_ids[0]
label_names = [lab.name for lab in store.list_labels(project_id)]


def go(step: int) -> None:
    """Open the previous (-1) or next (+1) document of the project."""
    st.session_state["annotate_doc"] = neighbour(doc_ids, st.session_state["annotate_doc"], step)
    select_span("annotate_article", None)


def go_from_article(step: int) -> None:
    """n/p in the article: its action reran only the fragment, so the whole page must follow."""
    go(step)
    st.session_state["annotate_rerun_app"] = True


def mark_done(doc_id: int) -> None:
    done = st.session_state[f"annotate_done_{doc_id}"]
    try:
        set_document_status(store, user, doc_id, "submitted" if done else "in_progress")
    except NisbaError as exc:
        st.session_state["annotate_error"] = str(exc)


nav_prev, nav_pick, nav_next = st.columns([2, 7, 2], vertical_alignment="bottom")
nav_prev.button("◀ Previous", key="annotate_prev", on_click=go, args=(-1,), help="Previous document (p or PageUp)")
nav_pick.selectbox("Document", doc_ids, key="annotate_doc", format_func=lambda i: document_choice(overview[i], label_names))
nav_next.button("Next ▶", key="annotate_next", on_click=go, args=(1,), help="Next document (n or PageDown)")
doc_id = st.session_state["annotate_doc"]
st.query_params["doc"] = str(doc_id)
document = get_document(store, user, doc_id)

opt_snap, opt_done, _, opt_guide = st.columns([3, 2, 3, 2], vertical_alignment="center")
opt_snap.toggle("Snap to whole words", value=True, key="annotate_snap_words")
opt_done.toggle(
    "Mark as done", value=overview[doc_id]["status"] in ("submitted", "reviewed"),
    key=f"annotate_done_{doc_id}", on_change=mark_done, args=(doc_id,),
)  # fmt: skip
with opt_guide:
    guidelines_button(store, user, project_id, key="annotate_guidelines")
if "annotate_error" in st.session_state:
    st.error(md_literal(st.session_state.pop("annotate_error")))  # core errors quote label names and text
with st.expander(f"All documents of the project ({len(doc_ids)})"):
    st.dataframe(pd.DataFrame(document_rows(list(overview.values()), label_names)), hide_index=True, key="annotate_documents")


@st.fragment
def annotation_area() -> None:
    """The article, its selection panel and its span list: an action reruns only this part of the page, and
    the component gets only what changed."""
    if st.session_state.pop("annotate_rerun_app", False):
        st.rerun(scope="app")
    article_view(
        store, user, document, key="annotate_article", snap_words=st.session_state["annotate_snap_words"], on_nav=go_from_article
    )


annotation_area()
find_in_document(store, user, project_id, doc_id, article_key="annotate_article", key="annotate_find")

# What reviewers said about this user's spans and links (issue 3): decisions and comment threads. Read again
# only when something was written (it reads every span of the document: tens of ms on a long article).
feedback_token = (doc_id, user.id, store.head_event_id())
if st.session_state.get("annotate_feedback", (None,))[0] != feedback_token:
    st.session_state["annotate_feedback"] = (feedback_token, feedback(store, user, doc_id))
notes = st.session_state["annotate_feedback"][1]
if notes:
    with st.expander(f"Review of your work ({len(notes)})", expanded=True):
        for note in notes:  # escaped: article text and comments are shown as typed, never as Markdown
            st.markdown(md_literal(feedback_line(note)))
