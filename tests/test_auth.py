"""Accounts: Argon2id hashing, logins and their slowdown, session tokens, the secret, user administration."""

from __future__ import annotations

import json
import os
import stat

import pytest

from annotator import auth
from annotator.demo import DEMO_PASSWORD_HASHES, DEMO_PASSWORDS, ensure_demo
from annotator.errors import AuthError, InvalidAccount, LoginThrottled, PermissionDenied

T0 = 1_800_000_000.0  # a fixed "now" for the slowdown and expiry tests


def events(store, action=None):
    return [e for e in store.iter_events() if action is None or e["action"] == action]


# ---- hashing ---------------------------------------------------------------------------------------------


def test_hash_parameters_meet_owasp_minimum():
    assert auth.ARGON2_MEMORY_KIB >= 19 * 1024
    assert auth.ARGON2_ITERATIONS >= 2
    assert auth.ARGON2_PARALLELISM >= 1
    h = auth.hash_password("correct horse")
    assert h.startswith(f"$argon2id$v=19$m={auth.ARGON2_MEMORY_KIB},t={auth.ARGON2_ITERATIONS},p={auth.ARGON2_PARALLELISM}$")
    assert auth.verify_password(h, "correct horse")
    assert not auth.verify_password(h, "correct horsE")
    assert auth.hash_password("correct horse") != h  # salted


def test_verify_password_refuses_missing_and_malformed_hashes():
    assert not auth.verify_password(None, "whatever1")
    assert not auth.verify_password("", "whatever1")
    assert not auth.verify_password("$argon2id$garbage", "whatever1")
    assert not auth.verify_password("plain-text-password", "plain-text-password")


def test_password_policy():
    with pytest.raises(InvalidAccount, match="at least 8"):
        auth.hash_password("short")
    with pytest.raises(InvalidAccount, match="at most"):
        auth.hash_password("x" * 1025)


def test_demo_hashes_match_the_published_passwords_and_current_parameters():
    for username, h in DEMO_PASSWORD_HASHES.items():
        assert auth.verify_password(h, DEMO_PASSWORDS[username])
        assert not auth.HASHER.check_needs_rehash(h)


# ---- authenticate ----------------------------------------------------------------------------------------


def test_login_with_the_demo_password(demo, users):
    user = auth.authenticate(demo, "amal", "nisba-amal", client="10.0.0.1")
    assert user.id == users["amal"].id
    (ev,) = events(demo, "login")
    assert ev["user_id"] == user.id and ev["after"] == {"client": "10.0.0.1"}


def test_login_user_names_are_case_insensitive(demo):
    assert auth.authenticate(demo, "  AMAL ", "nisba-amal").username == "amal"


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [("amal", "nisba-badr", "wrong_password"), ("nobody", "nisba-amal", "unknown_user"), ("amal", "", "wrong_password")],
)
def test_failed_logins_get_one_message_and_are_audited(demo, username, password, reason):
    with pytest.raises(AuthError, match="Wrong user name or password"):
        auth.authenticate(demo, username, password, client="c1")
    (ev,) = events(demo, "failed_login")
    assert ev["after"]["reason"] == reason and ev["after"]["username"] == username
    assert not events(demo, "login")


def test_account_without_password_cannot_log_in(store):
    store_user = auth.create_user(store, auth.CONSOLE, "nopass", "annotator")
    with pytest.raises(AuthError, match="Wrong user name or password"):
        auth.authenticate(store, "nopass", "")
    assert events(store, "failed_login")[0]["after"]["reason"] == "no_password"
    assert store_user.active


def test_deactivated_user_cannot_log_in(demo, users):
    auth.deactivate(demo, users["admin"], users["amal"].id)
    with pytest.raises(AuthError, match="deactivated"):
        auth.authenticate(demo, "amal", "nisba-amal")
    assert events(demo, "failed_login")[0]["after"]["reason"] == "deactivated"


def test_repeated_failures_are_slowed_down_per_user_name(demo):
    for i in range(auth.FREE_FAILURES - 1):
        with pytest.raises(AuthError) as exc:
            auth.authenticate(demo, "amal", f"guess-{i}xx", client=f"c{i}", now=T0)
        assert not isinstance(exc.value, LoginThrottled)
    with pytest.raises(AuthError):  # the FREE_FAILURES-th failure sets a 1 s wait
        auth.authenticate(demo, "amal", "guess-last", client="cx", now=T0)
    # even the right password waits, from any address
    with pytest.raises(LoginThrottled) as exc:
        auth.authenticate(demo, "amal", "nisba-amal", client="elsewhere", now=T0 + 0.5)
    assert exc.value.retry_after >= 1
    assert events(demo, "failed_login")[-1]["after"]["reason"] == "throttled"
    # other user names are not affected
    assert auth.authenticate(demo, "badr", "nisba-badr", client="elsewhere", now=T0 + 0.5).username == "badr"
    # after the wait the right password works and forgives the user name
    assert auth.authenticate(demo, "amal", "nisba-amal", client="elsewhere", now=T0 + 2).username == "amal"
    assert demo.login_attempt("user:amal") is None


def test_the_wait_doubles_and_is_capped(demo):
    waits = []
    t = T0
    for i in range(auth.FREE_FAILURES + 8):
        row = demo.login_attempt("user:amal")
        t = max(t, row["blocked_until"]) if row else t
        with pytest.raises(AuthError):
            auth.authenticate(demo, "amal", f"wrong-{i}xx", now=t)
        row = demo.login_attempt("user:amal")
        waits.append(row["blocked_until"] - t)
    assert waits[: auth.FREE_FAILURES - 1] == [0] * (auth.FREE_FAILURES - 1)
    assert waits[auth.FREE_FAILURES - 1 : auth.FREE_FAILURES + 3] == [1, 2, 4, 8]
    assert max(waits) == auth.MAX_WAIT["user"]


def test_failures_older_than_the_window_are_forgotten(demo):
    for i in range(auth.FREE_FAILURES):
        with pytest.raises(AuthError):
            auth.authenticate(demo, "amal", f"wrong-{i}xx", now=T0)
    later = T0 + auth.WINDOW + 1
    with pytest.raises(AuthError) as exc:
        auth.authenticate(demo, "amal", "wrong-againxx", now=later)
    assert not isinstance(exc.value, LoginThrottled)
    assert demo.login_attempt("user:amal")["failures"] == 1


def test_one_client_spraying_many_user_names_is_slowed_down(demo):
    for i in range(auth.FREE_FAILURES):
        with pytest.raises(AuthError):
            auth.authenticate(demo, f"user{i}", "password1", client="203.0.113.9", now=T0)
    with pytest.raises(LoginThrottled):
        auth.authenticate(demo, "rana", "nisba-rana", client="203.0.113.9", now=T0 + 0.5)
    assert auth.authenticate(demo, "rana", "nisba-rana", client="198.51.100.1", now=T0 + 0.5).username == "rana"


def test_a_successful_login_does_not_reset_the_clients_earlier_failures(demo):
    for i in range(3):
        with pytest.raises(AuthError):
            auth.authenticate(demo, f"x{i}", "password1", client="c", now=T0)
    auth.authenticate(demo, "amal", "nisba-amal", client="c", now=T0)
    assert demo.login_attempt("client:c")["failures"] == 3


# ---- session tokens --------------------------------------------------------------------------------------

SECRET = b"k" * 64


def test_token_round_trip(demo, users):
    token = auth.issue_session(demo, SECRET, users["amal"], now=T0)
    session = auth.verify_session(demo, SECRET, token, now=T0 + 60)
    assert session.user.id == users["amal"].id
    assert session.expires_at == int(T0) + auth.SESSION_TTL


def test_forged_tokens_are_refused(demo, users):
    token = auth.issue_session(demo, SECRET, users["amal"], now=T0)
    _v, uid, exp, gen, mac = token.split(".")
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    forged = [
        f"v1.{uid}.{exp}.{gen}.{flipped}",  # bad MAC
        f"v1.{users['admin'].id}.{exp}.{gen}.{mac}",  # someone else's id
        f"v1.{uid}.{int(exp) + 10**6}.{gen}.{mac}",  # longer life
        auth.issue_session(demo, b"z" * 64, users["amal"], now=T0),  # another server's secret
        "", "garbage", "v1.1.2.3", f"v2.{uid}.{exp}.{gen}.{mac}", token + "0", " " + token,
    ]  # fmt: skip
    for bad in forged:
        with pytest.raises(AuthError):
            auth.verify_session(demo, SECRET, bad, now=T0 + 60)
    with pytest.raises(AuthError):
        auth.verify_session(demo, SECRET, None)


def test_expired_token_is_refused(demo, users):
    token = auth.issue_session(demo, SECRET, users["amal"], now=T0, ttl=3600)
    auth.verify_session(demo, SECRET, token, now=T0 + 3599)
    with pytest.raises(AuthError, match="expired"):
        auth.verify_session(demo, SECRET, token, now=T0 + 3600)


def test_logout_ends_every_session_of_the_user(demo, users):
    first = auth.issue_session(demo, SECRET, users["amal"], now=T0)
    second = auth.issue_session(demo, SECRET, users["amal"], now=T0 + 1)
    other = auth.issue_session(demo, SECRET, users["badr"], now=T0)
    auth.logout(demo, users["amal"])
    for token in (first, second):
        with pytest.raises(AuthError, match="logged out"):
            auth.verify_session(demo, SECRET, token, now=T0 + 2)
    assert auth.verify_session(demo, SECRET, other, now=T0 + 2).user.username == "badr"
    assert events(demo, "logout")[0]["user_id"] == users["amal"].id
    fresh = auth.issue_session(demo, SECRET, users["amal"], now=T0 + 3)
    assert auth.verify_session(demo, SECRET, fresh, now=T0 + 4).user.username == "amal"


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(demo, users):
    token = auth.issue_session(demo, SECRET, users["amal"], now=T0)
    auth.deactivate(demo, users["admin"], users["amal"].id)
    with pytest.raises(AuthError, match="deactivated"):
        auth.verify_session(demo, SECRET, token, now=T0 + 1)
    with pytest.raises(PermissionDenied):
        auth.issue_session(demo, SECRET, users["amal"], now=T0 + 1)
    auth.reactivate(demo, users["admin"], users["amal"].id)
    with pytest.raises(AuthError):
        auth.verify_session(demo, SECRET, token, now=T0 + 2)


def test_password_reset_ends_sessions(demo, users):
    token = auth.issue_session(demo, SECRET, users["amal"], now=T0)
    auth.set_password(demo, users["admin"], users["amal"].id, "a-new-password")
    with pytest.raises(AuthError):
        auth.verify_session(demo, SECRET, token, now=T0 + 1)
    assert auth.authenticate(demo, "amal", "a-new-password").username == "amal"
    with pytest.raises(AuthError):
        auth.authenticate(demo, "amal", "nisba-amal")


# ---- the secret --------------------------------------------------------------------------------------------


def test_secret_is_generated_once_beside_the_database_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    db = tmp_path / "team.db"
    secret = auth.load_or_create_secret(db)
    path = tmp_path / "team.db.secret"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) == 64 and int(secret, 16)
    assert auth.load_or_create_secret(db) == secret
    other = auth.load_or_create_secret(tmp_path / "other.db")
    assert other != secret


def test_secret_file_from_the_environment_and_loose_modes_are_tightened(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere" / "nisba.secret"
    monkeypatch.setenv("NISBA_SECRET_FILE", str(path))
    secret = auth.load_or_create_secret(tmp_path / "x.db")
    assert path.read_text().strip().encode() == secret
    os.chmod(path, 0o644)
    assert auth.load_or_create_secret(tmp_path / "x.db") == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short")
    with pytest.raises(AuthError, match="too short"):
        auth.load_or_create_secret(tmp_path / "x.db")


# ---- administration ------------------------------------------------------------------------------------------


def test_admin_creates_user_who_can_log_in(demo, users):
    user = auth.create_user(demo, users["admin"], "Layla", "reviewer", "layla-pass-1", "ليلى")
    assert (user.username, user.role, user.display_name, user.active) == ("layla", "reviewer", "ليلى", True)
    assert auth.authenticate(demo, "layla", "layla-pass-1").id == user.id
    ev = [e for e in events(demo, "create") if e["entity"] == "user"][-1]
    assert ev["user_id"] == users["admin"].id and ev["after"]["role"] == "reviewer" and ev["after"]["password"] == "set"


def test_bad_accounts_are_refused(demo, users):
    admin = users["admin"]
    with pytest.raises(InvalidAccount, match="taken"):
        auth.create_user(demo, admin, "AMAL", "annotator", "password-1")
    with pytest.raises(InvalidAccount, match="User name"):
        auth.create_user(demo, admin, "has space", "annotator", "password-1")
    with pytest.raises(InvalidAccount, match="Unknown role"):
        auth.create_user(demo, admin, "newbie", "owner", "password-1")
    with pytest.raises(InvalidAccount, match="at least"):
        auth.create_user(demo, admin, "newbie", "annotator", "pw")
    assert demo.user_by_username("newbie") is None


def test_the_last_active_admin_stays(demo, users):
    admin = users["admin"]
    with pytest.raises(InvalidAccount, match="last active admin"):
        auth.deactivate(demo, admin, admin.id)
    with pytest.raises(InvalidAccount, match="last active admin"):
        auth.set_role(demo, admin, admin.id, "annotator")
    second = auth.create_user(demo, admin, "boss", "admin", "boss-password")
    auth.set_role(demo, admin, admin.id, "reviewer")  # now allowed: boss remains
    with pytest.raises(PermissionDenied):  # and the old admin has lost the power at once
        auth.deactivate(demo, admin, second.id)
    with pytest.raises(InvalidAccount, match="last active admin"):
        auth.deactivate(demo, second, second.id)


def test_role_change_is_audited_and_applies_immediately(demo, users):
    auth.set_role(demo, users["admin"], users["rana"].id, "annotator")
    ev = events(demo, "set_role")[0]
    assert ev["before"] == {"role": "reviewer"} and ev["after"] == {"role": "annotator"}
    assert demo.get_user(users["rana"].id).role == "annotator"


def test_password_hashes_never_reach_the_audit_log(demo, users):
    auth.create_user(demo, users["admin"], "layla", "annotator", "layla-pass-1")
    auth.set_password(demo, users["admin"], users["amal"].id, "another-pass")
    dumped = json.dumps(list(demo.iter_events()))
    assert "$argon2" not in dumped and "layla-pass-1" not in dumped and "another-pass" not in dumped


# ---- first start and the demo ----------------------------------------------------------------------------------


def test_first_visitor_creates_the_admin_once(store):
    assert auth.needs_first_admin(store)
    admin = auth.create_first_admin(store, "Founder", "founder-pass")
    assert admin.role == "admin" and not auth.needs_first_admin(store)
    with pytest.raises(PermissionDenied, match="exists already"):
        auth.create_first_admin(store, "intruder", "intruder-pass")
    assert store.user_by_username("intruder") is None
    assert auth.authenticate(store, "founder", "founder-pass").id == admin.id


def test_demo_keeps_a_password_an_admin_changed(demo, users):
    auth.set_password(demo, users["admin"], users["amal"].id, "changed-pass")
    ensure_demo(demo)
    assert auth.authenticate(demo, "amal", "changed-pass").username == "amal"
    assert not auth.needs_first_admin(demo)
