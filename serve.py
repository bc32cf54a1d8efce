"""Nisba's server: Streamlit's ``st.App`` runs app.py behind the login gate (``streamlit run serve.py``).

app.py stays the Streamlit script (navigation, pages); this file only adds the /login, /logout and /setup
routes and the middleware that refuses anonymous HTTP requests and websockets (annotator/ui/gate.py).
"""

import streamlit as st

from annotator.ui.gate import LoginGate

gate = LoginGate()
app = st.App("app.py", routes=gate.routes(), middleware=[gate.middleware()])
