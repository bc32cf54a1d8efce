"""The agreement page's table of what became of suggestions: per engine and label, how many were accepted as
suggested, changed after accepting, or dismissed (reviewers and admins)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotator import suggestions
from annotator.errors import NisbaError
from annotator.models import User
from annotator.store import Store
from annotator.ui.widgets import md_literal


def outcomes_section(store: Store, user: User, project_id: int) -> None:
    """Draw the table for the project (the core checks the role)."""
    st.subheader("Suggestions")
    try:
        rows = suggestions.suggestion_counts(store, user, project_id)
    except NisbaError as exc:
        st.error(md_literal(str(exc)))
        return
    if not rows:
        st.caption("No suggestion has been accepted or dismissed in this project yet.")
        return
    st.caption("Spans made from suggestions, per engine and label: still as suggested, changed since, and dismissed.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="agreement_suggestions")
