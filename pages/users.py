"""Users (admins): the accounts table, creating accounts, roles, password resets, deactivation, projects."""

import pandas as pd
import streamlit as st

from annotator import auth
from annotator.errors import NisbaError
from annotator.models import ROLES
from annotator.projects import add_member, list_projects, member_project_ids, remove_member
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import md_literal, mixed_script_columns, require_page_role

store = get_store()
user = current_user(store)
st.title("Users")
require_page_role(user, ("admin",), "Only admins manage accounts.")


def attempt(action, success: str) -> None:
    """Run a core call; show its refusal, or remember the success message and rerun so the table updates."""
    try:
        action()
    except NisbaError as exc:
        st.error(md_literal(str(exc)))
    else:
        st.session_state["users_notice"] = success
        st.rerun()


if notice := st.session_state.pop("users_notice", None):
    st.success(md_literal(notice))

rows = auth.account_overview(store, user)
st.dataframe(pd.DataFrame(rows), hide_index=True, key="users_table", width="stretch",
             column_config={**mixed_script_columns(display_name="Display name"), "username": "User name", "role": "Role",
                            "active": "Active", "password": "Password", "projects": "Projects"})  # fmt: skip

with st.expander("Create an account", expanded=not rows):
    with st.form("users_create", clear_on_submit=True):
        cols = st.columns(3)
        username = cols[0].text_input("User name", key="users_new_username")
        display_name = cols[1].text_input("Display name (may be Arabic)", key="users_new_display")
        role = cols[2].selectbox("Role", ROLES, key="users_new_role")
        password = st.text_input("Password (at least 8 characters)", type="password", key="users_new_password")
        if st.form_submit_button("Create account"):

            def create() -> None:
                created = auth.create_user(store, user, username, role, password, display_name)
                st.session_state["users_target"] = created.id  # "Change an account" opens on them

            attempt(create, f"Created {username.strip().lower()}. Add them to a project under Projects below.")

st.subheader("Change an account")
accounts = {r["id"]: r for r in rows}
target_id = st.selectbox("Account", list(accounts), key="users_target",
                         format_func=lambda i: f"{accounts[i]['username']} ({accounts[i]['role']})")  # fmt: skip
target = accounts[target_id]

role_col, password_col = st.columns(2)
with role_col.form("users_role"):
    new_role = st.selectbox("Role", ROLES, index=ROLES.index(target["role"]), key=f"users_role_{target_id}")
    if st.form_submit_button("Save role"):
        attempt(lambda: auth.set_role(store, user, target_id, new_role), f"{target['username']} is now {new_role}.")
with password_col.form("users_password", clear_on_submit=True):
    new_password = st.text_input("New password", type="password", key="users_password_value")
    if st.form_submit_button("Reset password"):
        attempt(lambda: auth.set_password(store, user, target_id, new_password), f"New password set for {target['username']}.")

if target["active"]:
    if st.button(f"Deactivate {target['username']}", key="users_deactivate", help="Ends their sessions at once"):
        attempt(lambda: auth.deactivate(store, user, target_id), f"Deactivated {target['username']}.")
elif st.button(f"Reactivate {target['username']}", key="users_reactivate"):
    attempt(lambda: auth.reactivate(store, user, target_id), f"Reactivated {target['username']}.")

st.subheader("Projects")
projects = {p.id: p.name for p in list_projects(store, user)}
current = set(member_project_ids(store, user, target_id))
chosen = st.multiselect(f"Projects {target['username']} belongs to", list(projects), default=sorted(current),
                        format_func=projects.get, key=f"users_projects_{target_id}")  # fmt: skip
if st.button("Save projects", key="users_save_projects"):

    def save_projects():
        for pid in set(chosen) - current:
            add_member(store, user, pid, target_id)
        for pid in current - set(chosen):
            remove_member(store, user, pid, target_id)

    attempt(save_projects, f"Projects of {target['username']} saved.")
