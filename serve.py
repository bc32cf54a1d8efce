"""Nisba's server: Streamlit's ``st.App`` runs app.py behind the login gate (``streamlit run serve.py``).

app.py stays the Streamlit script (navigation, pages); this file only adds the /login, /logout and /setup
routes, the article component's direct channel (annotator/ui/article_channel.py) and the middleware that
refuses anonymous HTTP requests and websockets (annotator/ui/gate.py).
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from annotator.ui import article_channel
from annotator.ui.gate import LoginGate
from annotator.ui.page_hints import hint_tags

# app.py navigates with st.navigation; the pages/ folder only holds its page files. Streamlit otherwise guesses
# from that folder that this is an old-style multipage app and, on the first visit after a start that asks for
# a page's address (/review), runs that file without app.py: no login sidebar, every file listed in the
# navigation (tests/browser/test_first_visit_browser.py). The flag is only guessed while it is None.
PagesManager.uses_pages_directory = False

gate = LoginGate(page_hints=hint_tags)  # preload hints in the app's page (issue 7)
app = st.App("app.py", routes=[*gate.routes(), *article_channel.routes(gate)], middleware=[gate.middleware()])
