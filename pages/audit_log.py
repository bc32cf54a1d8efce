"""Audit log (admins): every change as a hash-chained event; filter them and verify the chain."""

import json

import pandas as pd
import streamlit as st

from annotator import audit_log, auth
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import iso_day_range, require_page_role

store = get_store()
user = current_user(store)
st.title("Audit log")
require_page_role(user, ("admin",), "Only admins read the audit log.")

# ---- chain status: verifying reads every event, so it runs on request -------------------------------------
if st.button("Verify the hash chain", key="audit_verify"):
    st.session_state["audit_report"] = audit_log.chain_status(store, user)
if report := st.session_state.get("audit_report"):
    if report.ok:
        st.success(f"Chain intact: {report.count} events. Head hash `{report.head}` (keep a copy outside the database).")
    else:
        st.error(f"Chain broken at event {report.broken_event_id}: {report.reason}.")
st.caption("Command line: `python -m annotator audit verify --db PATH` checks the same chain and prints the head hash.")

# ---- filters ------------------------------------------------------------------------------------------------
names = {u.id: u.username for u in auth.list_users(store, user)}
vocab = audit_log.event_vocabulary(store, user)
cols = st.columns([2, 2, 2, 2, 2, 1])
who = cols[0].selectbox("User", [None, *names], format_func=lambda i: "anyone" if i is None else names[i], key="audit_user")
action = cols[1].selectbox("Action", [None, *vocab["action"]], format_func=lambda a: a or "any", key="audit_action")
entity = cols[2].selectbox("Entity", [None, *vocab["entity"]], format_func=lambda e: e or "any", key="audit_entity")
since = cols[3].date_input("From", value=None, key="audit_since")
until = cols[4].date_input("To (inclusive)", value=None, key="audit_until")
limit = cols[5].number_input("Rows", min_value=10, max_value=10_000, value=500, step=100, key="audit_limit")

since_iso, until_iso = iso_day_range(since, until)
events = audit_log.list_events(
    store, user, user_id=who, action=action, entity=entity, since=since_iso, until=until_iso, limit=limit,
)  # fmt: skip


def as_text(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


table = pd.DataFrame(
    [
        {
            "id": e["id"], "at (UTC)": audit_log.short_time(e["at"]), "user": "—" if e["user_id"] is None else names.get(e["user_id"], str(e["user_id"])),
            "action": e["action"], "entity": e["entity"], "entity_id": e["entity_id"], "document": e["document_id"],
            "before": as_text(e["before"]), "after": as_text(e["after"]), "hash": e["hash"][:12],
        }
        for e in events
    ],
    columns=["id", "at (UTC)", "user", "action", "entity", "entity_id", "document", "before", "after", "hash"],
)  # fmt: skip
st.caption(f"{len(table)} events, newest first.")
st.dataframe(table, hide_index=True, key="audit_table", width="stretch")
