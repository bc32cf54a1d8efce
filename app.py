"""Nisba entry point: page config, the store, who is acting, and navigation over pages/."""

import streamlit as st

from annotator.demo import is_demo
from annotator.ui.session import current_user, get_store, logout_form
from annotator.ui.widgets import md_literal

st.set_page_config(page_title="Nisba — نِسبة", page_icon="🖋️", layout="wide")

store = get_store()
user = current_user(store)

# Where each role starts: annotators annotate, reviewers review; admins start on the settings page, where
# only they create projects, paste articles and write the labels and guidelines the others work from.
LANDING = {"annotator": "pages/annotate.py", "reviewer": "pages/review.py", "admin": "pages/settings.py"}
landing = LANDING.get(user.role, "pages/annotate.py")


def page(path: str, title: str, icon: str) -> st.Page:
    return st.Page(path, title=title, icon=icon, default=path == landing)


pages = [page("pages/annotate.py", "Annotate", "🖍️"), page("pages/settings.py", "Project settings", "⚙️")]
pages.append(page("pages/search.py", "Search", "🔍"))  # every role: the core keeps blind annotators to their layer
if user.role in ("reviewer", "admin"):  # the core refuses others anyway; this only hides the pages
    pages += [page("pages/review.py", "Review", "🔎"), page("pages/agreement.py", "Agreement", "📊")]
if user.role == "admin":
    pages += [
        page("pages/users.py", "Users", "👥"),
        page("pages/audit_log.py", "Audit log", "📜"),
        page("pages/import_data.py", "Import", "📥"),
        page("pages/export_data.py", "Export", "📤"),
    ]
nav = st.navigation(pages)
st.sidebar.caption(f"Signed in as **{md_literal(user.name)}** ({user.role})")  # names may hold * _ $
with st.sidebar:
    logout_form()
if is_demo(store):
    st.warning("**Demo data** — public demo accounts and passwords (see the README); do not use for real work.", icon="🧪")
nav.run()
