"""Imported annotator names become accounts through auth's one user-name rule, mapped and never silently merged:
the preview shows the mapping, the admin (page or ``--map-annotator``) can change it, and every created account
is one that can log in and be found by ``users reset-password``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from annotator import auth
from annotator.cli import main
from annotator.errors import InvalidAccount
from annotator.importing import ImportFile, import_files, preview_import
from annotator.projects import create_project
from annotator.store import Store

PEER = Path(__file__).parent / "fixtures" / "peer-exports"
TEXT = "قال الوزير إن الاتفاق قريب."


def _jsonl(*names: str) -> ImportFile:
    lines = [
        json.dumps({"text": f"{TEXT} {k}", "label": [[0, 3, "CUE"]], "meta": {"annotator": n}}, ensure_ascii=False)
        for k, n in enumerate(names)
    ]
    return ImportFile("peers.jsonl", ("\n".join(lines) + "\n").encode())


@pytest.fixture
def project(demo, users):
    return create_project(demo, users["admin"], "Imports")


def _owners(store, project_id) -> dict[str, int]:
    rows = store.query(
        "SELECT u.username, count(*) AS n FROM spans s JOIN documents d ON d.id = s.document_id"
        " JOIN users u ON u.id = s.annotator_id WHERE d.project_id = ? GROUP BY u.username",
        [project_id],
    )
    return {r["username"]: r["n"] for r in rows}


def test_an_unusable_name_gets_an_account_that_logs_in_and_is_found_by_reset_password(demo, users, project, monkeypatch):
    preview, _ = import_files(demo, users["admin"], project.id, [_jsonl("Omar@Desk")])
    assert preview.accounts["Omar@Desk"].account == "omar-desk"
    assert _owners(demo, project.id) == {"omar-desk": 1}
    account = demo.user_by_username("omar-desk")
    assert (account.display_name, account.origin) == ("Omar@Desk", "import:doccano")
    # the admin gives it a password; it logs in; the console finds it by name to reset it
    auth.set_password(demo, users["admin"], account.id, "first-password")
    assert auth.authenticate(demo, "omar-desk", "first-password").id == account.id
    monkeypatch.setattr(sys, "stdin", io.StringIO("second-password\n"))
    assert main(["users", "reset-password", "--db", demo.path, "--username", "omar-desk"]) == 0
    assert auth.authenticate(demo, "omar-desk", "second-password").id == account.id


@pytest.mark.parametrize("name", ["-admin", "+x", "@y", "=1+1"])
def test_names_starting_with_signs_become_valid_accounts(demo, users, project, name):
    preview, _ = import_files(demo, users["admin"], project.id, [_jsonl(name)])
    account = preview.accounts[name].account
    assert auth.check_username(account) == account and account[0].isalnum()
    assert account != "admin"  # "-admin" is not Nisba's admin


def test_names_without_latin_letters_get_a_tool_account(demo, users, project):
    preview, _ = import_files(demo, users["admin"], project.id, [_jsonl("عمر", "سارة")])
    assert {m.account for m in preview.accounts.values()} == {"doccano.annotator", "doccano.annotator-2"}
    assert demo.user_by_username("doccano.annotator").display_name in ("عمر", "سارة")


def test_two_names_never_share_a_new_account(demo, users, project):
    preview = preview_import(demo, users["admin"], project.id, [_jsonl("Omar@Desk", "omar-desk")])
    assert preview.accounts["Omar@Desk"].account != preview.accounts["omar-desk"].account


def test_a_later_import_from_the_same_tool_reuses_the_imported_account(demo, users, project):
    import_files(demo, users["admin"], project.id, [_jsonl("admin")])
    assert _owners(demo, project.id) == {"doccano.admin": 1}
    preview, _ = import_files(demo, users["admin"], project.id, [ImportFile("more.jsonl", _jsonl("admin", "admin").data)])
    assert not preview.accounts["admin"].new and preview.accounts["admin"].account == "doccano.admin"
    assert len({u.username for u in demo.list_users() if u.username.startswith("doccano.")}) == 1


def test_an_existing_annotator_made_by_hand_is_not_merged_by_default(demo, users, project):
    preview = preview_import(demo, users["admin"], project.id, [_jsonl("amal")])
    assert preview.accounts["amal"].account == "doccano.amal" and preview.accounts["amal"].new


def test_the_admin_maps_names_to_existing_or_new_accounts(demo, users, project):
    preview, _ = import_files(
        demo, users["admin"], project.id, [_jsonl("Omar@Desk", "amal")], map_annotators={"amal": "AMAL", "Omar@Desk": "omar"}
    )
    assert _owners(demo, project.id) == {"amal": 1, "omar": 1}
    assert demo.user_by_username("omar").origin == "import:doccano"


def test_a_chosen_account_must_follow_the_user_name_rule(demo, users, project):
    with pytest.raises(InvalidAccount):
        preview_import(demo, users["admin"], project.id, [_jsonl("x")], map_annotators={"x": "Omar@Desk"})


def test_an_account_taken_after_the_preview_refuses_the_commit(demo, users, project):
    from annotator.importing import commit_import

    preview = preview_import(demo, users["admin"], project.id, [_jsonl("Omar@Desk")])
    auth.create_user(demo, users["admin"], "omar-desk", "reviewer")
    before = demo.query("SELECT count(*) AS n FROM spans")[0]["n"]
    with pytest.raises(InvalidAccount, match="preview the import again"):
        commit_import(demo, users["admin"], preview)
    assert demo.query("SELECT count(*) AS n FROM spans")[0]["n"] == before


def test_cli_map_annotator(demo, capsys):
    zip_path = str(PEER / "doccano-1.8.export.zip")
    argv = ["import", "--db", demo.path, "--project", "Peers", "--map-annotator", "admin=doccano-boss", zip_path]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "annotator 'admin' -> account 'doccano-boss' (chosen)" in out
    assert "annotator 'annotator2' -> account 'annotator2' (new account)" in out
    store = Store(demo.path)
    assert _owners(store, store.project_by_name("Peers").id) == {"doccano-boss": 48, "annotator2": 7}
    assert main(["import", "--db", demo.path, "--project", "Peers", "--map-annotator", "admin", zip_path]) == 1
    assert "SOURCE=ACCOUNT" in capsys.readouterr().err


def test_export_address_maps_back_to_its_account(demo):
    """``<user>@nisba.invalid`` (what Nisba's exports write) is that account, even one an admin made; an
    address of no account becomes the plain user name, not ``amal-nisba.invalid``."""
    plan = auth.plan_import_accounts(
        demo, {"amal@nisba.invalid": "labelstudio", "nobody@nisba.invalid": "labelstudio", "amal@example.com": "labelstudio"}
    )
    assert (plan["amal@nisba.invalid"].account, plan["amal@nisba.invalid"].new) == ("amal", False)
    assert (plan["nobody@nisba.invalid"].account, plan["nobody@nisba.invalid"].new) == ("nobody", True)
    assert plan["amal@example.com"].account == "amal-example.com"
    assert auth.export_email("amal") == "amal@nisba.invalid"
