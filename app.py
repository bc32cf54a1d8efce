"""Nisba entry point: page config, the store, who is acting, and navigation over pages/."""

import streamlit as st

from annotator.ui.session import current_user, get_store

st.set_page_config(page_title="Nisba — نِسبة", page_icon="🖋️", layout="wide")

store = get_store()
user = current_user(store)

pages = [
    st.Page("pages/annotate.py", title="Annotate", icon="🖍️", default=True),
    st.Page("pages/settings.py", title="Project settings", icon="⚙️"),
]
nav = st.navigation(pages)
st.sidebar.caption(f"Signed in as **{user.name}** ({user.role})")
nav.run()
