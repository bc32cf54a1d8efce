"""Review screen: every annotator's layer over the article, the aligned table of agreements and
disagreements, accept / reject / comment, adoption into gold, per-annotator status and project progress.

Keys: J next, K previous (disagreement), Y accept, D reject (decline), G adopt into gold (label hotkeys cannot take them).
The sections live in annotator/ui/review_sections.py; this file lays them out."""

import streamlit as st

from annotator import review
from annotator.projects import document_overview, list_projects
from annotator.ui import review_sections as sections
from annotator.ui.guidelines import guidelines_button
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import linked_document, require_page_role

store = get_store()
user = current_user(store)
st.title("Review")
require_page_role(user, review.REVIEWER_ROLES, "The review screen is for reviewers and admins.", as_error=False)
projects = {p.id: p for p in list_projects(store, user)}
if not projects:
    st.info("You are not a member of any project yet.")
    st.stop()
# ?doc=ID opens that document (and its project) when the session starts; afterwards the URL follows the
# open document, so a reload or a shared link comes back to it.
if "review_doc" not in st.session_state:
    linked_document(store, user, "review_project", "review_doc")
project_id = st.sidebar.selectbox("Project", list(projects), key="review_project", format_func=lambda p: projects[p].name)
progress = sections.progress_section(store, user, project_id)

docs = {row["id"]: row["title"] for row in document_overview(store, user, project_id)}
if not docs:
    st.info("This project has no documents yet.")
    st.stop()
if st.session_state.get("review_doc") not in docs:
    st.session_state["review_doc"] = next(iter(docs))
doc_col, guide_col = st.columns([6, 1], vertical_alignment="bottom")
doc_id = doc_col.selectbox("Document", list(docs), key="review_doc", format_func=lambda d: docs[d])
with guide_col:
    guidelines_button(store, user, project_id, key="review_guidelines")
st.query_params["doc"] = str(doc_id)
sections.show_message()

only_disagreements_key = "review_only_disagreements"
ctx = sections.ReviewContext.load(store, user, doc_id, st.session_state.get(only_disagreements_key, True))
if len(ctx.view.annotator_ids) < 2:
    st.caption("Fewer than two annotators have a layer on this document: nothing to compare yet.")
st.toggle("Step through disagreements only", value=True, key=only_disagreements_key)
sections.row_buttons(ctx)
sections.row_and_layers(ctx)
sections.comment_box(ctx)
sections.aligned_spans(ctx)
sections.links_section(ctx)
sections.status_section(ctx, progress)
sections.gold_section(ctx)
