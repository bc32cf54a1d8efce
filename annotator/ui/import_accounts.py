"""The import preview's annotator table: which Nisba account each annotator name in the files becomes, editable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotator.importing import ImportPreview

SOURCE, ACCOUNT, NEW, WHY = "name in the files", "Nisba account", "new account", "why"


def account_mapping_editor(preview: ImportPreview, chosen: dict[str, str]) -> dict[str, str] | None:
    """Show the mapping with the account column editable. Returns the admin's choices (``chosen`` plus the
    accounts changed here) when they press Apply, else None; the page previews again with them."""
    if not preview.accounts:
        return None
    st.subheader("Annotators")
    st.caption(
        "Each annotator name in the files becomes the account on its right; a name that is someone else's account "
        "gets a new one with the tool's prefix, never theirs. Type another account (existing or new) and press "
        "Apply to put those spans there."
    )
    rows = [{SOURCE: m.source, ACCOUNT: m.account, NEW: m.new, WHY: m.reason} for m in preview.accounts.values()]
    edited = st.data_editor(
        pd.DataFrame(rows, columns=[SOURCE, ACCOUNT, NEW, WHY]), disabled=[SOURCE, NEW, WHY], hide_index=True,
        key="import_accounts", column_config={ACCOUNT: st.column_config.TextColumn(ACCOUNT, required=True)},
    )  # fmt: skip
    if not st.button("Apply the mapping", key="import_apply_mapping"):
        return None
    changed = {
        r[SOURCE]: str(r[ACCOUNT]).strip()
        for r in edited.to_dict("records")
        if str(r[ACCOUNT]).strip() and str(r[ACCOUNT]).strip() != preview.accounts[r[SOURCE]].account
    }
    return {**chosen, **changed}
