"""The accounts command line: users add/list/deactivate/reactivate/reset-password/set-role."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from raw_db import tamper

from annotator import auth
from annotator.cli import main
from annotator.errors import AuthError
from annotator.store import Store


@pytest.fixture
def db(demo):
    return demo.path


@pytest.fixture
def store_of_db(demo):
    return demo


def feed(monkeypatch, text):
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_users_add_reads_the_password_from_stdin(db, monkeypatch, capsys):
    feed(monkeypatch, "layla-password\n")
    assert main(["users", "add", "--db", db, "--username", "Layla", "--role", "reviewer", "--display-name", "ليلى"]) == 0
    assert "Created reviewer 'layla'" in capsys.readouterr().out
    store = Store(db)
    user = auth.authenticate(store, "layla", "layla-password")
    assert (user.role, user.display_name) == ("reviewer", "ليلى")
    ev = [e for e in store.iter_events() if e["action"] == "create" and e["entity"] == "user"][-1]
    assert ev["user_id"] is None and ev["after"]["via"] == "console"


def test_the_password_is_never_an_argument(db):
    with pytest.raises(SystemExit) as exc:
        main(["users", "add", "--db", db, "--username", "x", "--role", "annotator", "--password", "secret-pass"])
    assert exc.value.code == 2


def test_users_add_through_python_dash_m(db):
    out = subprocess.run(
        [sys.executable, "-m", "annotator", "users", "add", "--db", db, "--username", "omar", "--role", "annotator"],
        input="omar-password\n", capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert auth.authenticate(Store(db), "omar", "omar-password").username == "omar"


def test_a_weak_or_taken_account_is_refused_with_exit_1(db, monkeypatch, capsys):
    feed(monkeypatch, "short\n")
    assert main(["users", "add", "--db", db, "--username", "x", "--role", "annotator"]) == 1
    feed(monkeypatch, "long-enough\n")
    assert main(["users", "add", "--db", db, "--username", "amal", "--role", "annotator"]) == 1
    err = capsys.readouterr().err
    assert "at least 8" in err and "taken" in err
    assert Store(db).user_by_username("x") is None


def test_users_list(db, capsys):
    assert main(["users", "list", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["id", "username", "role", "active", "password"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["rana"][2:5] == ["reviewer", "yes", "set"]
    assert set(rows) == {"admin", "amal", "badr", "rana"}


def test_deactivate_and_reactivate(db, capsys):
    assert main(["users", "deactivate", "--db", db, "--username", "badr"]) == 0
    with pytest.raises(AuthError, match="deactivated"):
        auth.authenticate(Store(db), "badr", "nisba-badr")
    assert main(["users", "reactivate", "--db", db, "--username", "badr"]) == 0
    assert auth.authenticate(Store(db), "badr", "nisba-badr").username == "badr"
    assert main(["users", "deactivate", "--db", db, "--username", "nobody"]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err


def test_the_last_admin_cannot_be_deactivated_from_the_console(db, capsys):
    assert main(["users", "deactivate", "--db", db, "--username", "admin"]) == 1
    assert "last active admin" in capsys.readouterr().err
    assert Store(db).user_by_username("admin").active


def test_reset_password_and_set_role(db, monkeypatch):
    feed(monkeypatch, "fresh-password\n")
    assert main(["users", "reset-password", "--db", db, "--username", "amal"]) == 0
    store = Store(db)
    assert auth.authenticate(store, "amal", "fresh-password").username == "amal"
    assert main(["users", "set-role", "--db", db, "--username", "amal", "--role", "reviewer"]) == 0
    assert store.user_by_username("amal").role == "reviewer"


def test_users_add_on_a_fresh_database_creates_the_first_admin(tmp_path, monkeypatch):
    db = str(tmp_path / "team.db")
    feed(monkeypatch, "founder-pass\n")
    assert main(["users", "add", "--db", db, "--username", "founder", "--role", "admin"]) == 0
    assert not auth.needs_first_admin(Store(db))


def test_audit_verify_exit_codes(db, store_of_db, capsys):
    assert main(["audit", "verify", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and "head " in out
    first = store_of_db.query("SELECT min(id) AS id FROM audit_events")[0]["id"]
    tamper(store_of_db, "UPDATE audit_events SET action = 'tampered' WHERE id = ?", (first,))
    assert main(["audit", "verify", "--db", db]) == 1
    assert f"BROKEN at event {first}" in capsys.readouterr().err
