"""AppTest: who gets which pages, the logged-out screen, the demo banner, the users and audit log screens."""

from __future__ import annotations

import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from annotator import auth
from annotator.store import Store
from annotator.ui.widgets import md_literal


@pytest.fixture
def db(app_db):
    return app_db


def run(file: str, user=None) -> AppTest:
    at = AppTest.from_file(f"../{file}", default_timeout=30)
    if user is not None:
        at.session_state["nisba_user_id"] = user.id
    return at.run()


def html_bodies(at, where=None) -> list[str]:
    return [h.proto.body for h in (where or at).get("html")]


# ---- app.py: the gate's second line, navigation by role ------------------------------------------------------------


def test_without_a_session_the_app_shows_only_a_login_link(db):
    at = run("app.py")
    assert not at.exception
    assert [i.value for i in at.info] == ["Please log in."]
    assert any('href="/login"' in b for b in html_bodies(at))
    assert not at.warning  # not even the demo banner
    # every page asks again, so reaching one by its path shows nothing either
    for page in ("pages/annotate.py", "pages/users.py"):
        at.switch_page(page).run()
        assert [i.value for i in at.info] == ["Please log in."] and not at.title


def test_a_deactivated_user_is_stopped(db):
    auth.deactivate(db, db.users["admin"], db.users["amal"].id)
    at = run("app.py", db.users["amal"])
    assert [i.value for i in at.info] == ["Please log in."]


def test_annotators_get_no_admin_pages(db):
    at = run("app.py", db.users["amal"])
    assert not at.exception
    assert any("Demo data" in w.value for w in at.warning)
    assert any('action="/logout"' in b for b in html_bodies(at, at.sidebar))
    for page in ("pages/users.py", "pages/audit_log.py"):
        with pytest.raises(ValueError, match="Known pages"):
            at.switch_page(page)


def test_admins_get_the_users_and_audit_pages(db):
    at = run("app.py", db.users["admin"])
    at.switch_page("pages/users.py").run()
    assert not at.exception and at.title[0].value == "Users"
    at.switch_page("pages/audit_log.py").run()
    assert not at.exception and at.title[0].value == "Audit log"


def test_no_demo_banner_without_demo_data(tmp_path, monkeypatch):
    monkeypatch.setenv("NISBA_DB", str(tmp_path / "team.db"))
    monkeypatch.setenv("NISBA_DEMO", "0")
    store = Store(tmp_path / "team.db")
    admin = auth.create_first_admin(store, "founder", "founder-pass")
    at = run("app.py", admin)
    assert not at.exception and not at.warning


# ---- users ------------------------------------------------------------------------------------------------------------


def test_users_page_refuses_non_admins(db):
    for name in ("amal", "rana"):
        at = run("pages/users.py", db.users[name])
        assert [e.value for e in at.error] == ["Only admins manage accounts."]
        assert not at.dataframe


def test_admin_creates_an_account(db):
    at = run("pages/users.py", db.users["admin"])
    table = at.dataframe[0].value
    assert table["username"].tolist() == ["admin", "amal", "badr", "rana"]
    assert set(table["password"]) == {"set"}
    at.text_input(key="users_new_username").input("Layla")
    at.text_input(key="users_new_display").input("ليلى")
    at.selectbox(key="users_new_role").select("reviewer")
    at.text_input(key="users_new_password").input("layla-pass-1")
    at.button(key="FormSubmitter:users_create-Create account").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [md_literal("Created layla. Add them to a project under Projects below.")]
    assert at.dataframe[0].value["username"].tolist()[-1] == "layla"
    assert auth.authenticate(db, "layla", "layla-pass-1").role == "reviewer"


def test_a_refused_account_shows_the_core_message(db):
    at = run("pages/users.py", db.users["admin"])
    at.text_input(key="users_new_username").input("amal")
    at.text_input(key="users_new_password").input("long-enough")
    at.button(key="FormSubmitter:users_create-Create account").click().run()
    assert [e.value for e in at.error] == [md_literal("The user name 'amal' is taken.")]


def test_admin_changes_role_resets_password_and_deactivates(db):
    rana = db.users["rana"]
    at = run("pages/users.py", db.users["admin"])
    at.selectbox(key="users_target").select(rana.id).run()
    at.selectbox(key=f"users_role_{rana.id}").select("annotator")
    at.button(key="FormSubmitter:users_role-Save role").click().run()
    assert [s.value for s in at.success] == [md_literal("rana is now annotator.")]
    assert db.get_user(rana.id).role == "annotator"

    at.text_input(key="users_password_value").input("rana-new-pass")
    at.button(key="FormSubmitter:users_password-Reset password").click().run()
    assert auth.authenticate(db, "rana", "rana-new-pass").id == rana.id

    at.button(key="users_deactivate").click().run()
    assert not db.get_user(rana.id).active
    at.button(key="users_reactivate").click().run()
    assert db.get_user(rana.id).active


def test_the_last_admin_cannot_deactivate_themself(db):
    admin = db.users["admin"]
    at = run("pages/users.py", admin)
    at.selectbox(key="users_target").select(admin.id).run()
    at.button(key="users_deactivate").click().run()
    assert [e.value for e in at.error] == [md_literal("'admin' is the last active admin; make another admin first.")]
    assert db.get_user(admin.id).active


def test_admin_sets_project_membership(db):
    badr = db.users["badr"]
    project = db.list_projects()[0]
    at = run("pages/users.py", db.users["admin"])
    at.selectbox(key="users_target").select(badr.id).run()
    assert at.multiselect(key=f"users_projects_{badr.id}").value == [project.id]
    at.multiselect(key=f"users_projects_{badr.id}").unselect(project.id)
    at.button(key="users_save_projects").click().run()
    assert not at.error and not db.is_member(project.id, badr.id)
    assert ("remove_member", "project") in {(e["action"], e["entity"]) for e in db.iter_events()}


# ---- audit log --------------------------------------------------------------------------------------------------------


def test_audit_page_refuses_non_admins(db):
    at = run("pages/audit_log.py", db.users["rana"])
    assert [e.value for e in at.error] == ["Only admins read the audit log."]
    assert not at.dataframe


def test_audit_page_lists_filters_and_verifies(db):
    auth.set_role(db, db.users["admin"], db.users["badr"].id, "reviewer")
    at = run("pages/audit_log.py", db.users["admin"])
    table = at.dataframe[0].value
    assert len(table) == len(list(db.iter_events()))
    assert table.iloc[0]["action"] == "set_role" and table.iloc[0]["user"] == "admin"
    at.selectbox(key="audit_action").select("set_role").run()
    filtered = at.dataframe[0].value
    assert filtered["action"].tolist() == ["set_role"]
    assert '"role": "reviewer"' in filtered.iloc[0]["after"]
    at.button(key="audit_verify").click().run()
    head = list(db.iter_events())[-1]["hash"]
    assert head in at.success[0].value and "Chain intact" in at.success[0].value


def test_audit_page_names_a_tampered_event(db):
    first = next(db.iter_events())["id"]
    conn = sqlite3.connect(db.path)
    with conn:
        conn.execute("UPDATE audit_events SET after = '{}' WHERE id = ?", (first,))
    conn.close()
    at = run("pages/audit_log.py", db.users["admin"])
    at.button(key="audit_verify").click().run()
    assert at.error[0].value.startswith(f"Chain broken at event {first}:")


def test_users_table_has_readable_headings(db):
    import json

    at = run("pages/users.py", db.users["admin"])
    (table,) = [d for d in at.dataframe if "username" in d.value.columns]
    config = json.loads(table.proto.columns)
    assert config["username"]["label"] == "User name"
    assert config["display_name"]["label"] == "Display name" and config["display_name"]["alignment"] == "right"


@pytest.mark.parametrize(
    ("username", "landing_key"), [("amal", "annotate_doc"), ("rana", "review_doc"), ("admin", "settings_project")]
)
def test_each_role_lands_on_its_own_page(db, username, landing_key):
    """Annotators on Annotate, reviewers on Review, admins on Project settings (each page's own widget)."""
    at = run("app.py", db.users[username])
    assert not at.exception
    keys = {w.key for w in at.selectbox}
    assert landing_key in keys
    assert not keys & ({"annotate_doc", "review_doc", "settings_project"} - {landing_key})
