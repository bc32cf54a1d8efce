"""Nisba entry point: page config, the store, who is acting, and navigation over pages/."""

import streamlit as st

from annotator.demo import is_demo
from annotator.ui.session import current_user, get_store, logout_form, storage_errors_shown
from annotator.ui.widgets import bidi_text_fields, md_literal

st.set_page_config(page_title="Nisba — نِسبة", page_icon="🖋️", layout="wide")
bidi_text_fields()

store = get_store()
user = current_user(store)

annotate = st.Page("pages/annotate.py", title="Annotate", icon="🖍️", default=True)
pages = [annotate, st.Page("pages/settings.py", title="Project settings", icon="⚙️")]
# every role: the core keeps blind annotators to their own layer (and gold)
pages += [st.Page("pages/search.py", title="Search", icon="🔍"), st.Page("pages/sources.py", title="Sources", icon="🗣️")]
if user.role in ("reviewer", "admin"):  # the core refuses others anyway; this only hides the pages
    pages += [
        st.Page("pages/review.py", title="Review", icon="🔎"),
        st.Page("pages/agreement.py", title="Agreement", icon="📊"),
    ]
if user.role == "admin":
    pages += [
        st.Page("pages/users.py", title="Users", icon="👥"),
        st.Page("pages/audit_log.py", title="Audit log", icon="📜"),
        st.Page("pages/import_data.py", title="Import", icon="📥"),
        st.Page("pages/export_data.py", title="Export", icon="📤"),
    ]
nav = st.navigation(pages)
# Where each role starts: annotators annotate, reviewers review; admins start on the settings page, where only
# they create projects, paste articles and write the labels and guidelines the others work from. Annotate stays
# the default page (the root address) so every page keeps its own address (/review?doc=…): a session that
# opens the root address without a document is sent on once, on its first run.
LANDING = {"reviewer": "pages/review.py", "admin": "pages/settings.py"}
if not st.session_state.get("nisba_landed"):
    st.session_state["nisba_landed"] = True
    if nav is annotate and user.role in LANDING and "doc" not in st.query_params:
        st.switch_page(LANDING[user.role])
st.sidebar.caption(f"Signed in as **{md_literal(user.name)}** ({user.role})")  # names may hold * _ $
with st.sidebar:
    logout_form()
with storage_errors_shown():  # the database lost in the middle of a run: one line, not a traceback
    if is_demo(store):
        st.warning("**Demo data** — public demo accounts and passwords (see the README); do not use for real work.", icon="🧪")
    nav.run()
