"""Accounts: Argon2id passwords, logins with failed-login slowdown, signed session tokens, user administration.

Sessions are stateless tokens ``v1.<user id>.<expiry>.<generation>.<mac>``: the MAC is HMAC-SHA256 with the
server secret over the user id, the expiry, the user's session generation and a fingerprint of the user's
password hash. Logout, a password reset and deactivation bump the generation (a reset also changes the
fingerprint), so every token issued before stops verifying at once, in every browser.

The secret is generated on first start and kept beside the database (``<db>.secret``, mode 0600; data/ is
git-ignored) or in ``$NISBA_SECRET_FILE``; there is no default secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from annotator import access
from annotator.errors import AuthError, InvalidAccount, LoginThrottled, NotFound
from annotator.keys import SECRET_BYTES, load_or_create_secret, secret_path  # noqa: F401  (auth's public names)
from annotator.models import ROLES, User
from annotator.store import Store

# Argon2id above OWASP's minimum (19 MiB, 2 iterations, 1 lane): 64 MiB, 2 iterations, 1 lane takes
# ~175 ms on the 2-core development machine (benchmarks/bench_auth.py), inside the 50-500 ms target.
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_ITERATIONS = 2
ARGON2_PARALLELISM = 1
HASHER = PasswordHasher(
    time_cost=ARGON2_ITERATIONS,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # hashing is linear in the input; refuse megabyte "passwords"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")

COOKIE_NAME = "nisba_session"
SESSION_TTL = 12 * 3600  # seconds; the gate re-issues the cookie when less than half is left

# Failed-login slowdown, per user name and per client address. The first FREE_FAILURES failures inside
# WINDOW cost nothing; each further one doubles the wait (1, 2, 4 … s) up to the cap. The per-user cap is
# short because anyone can trigger it for any user name (a long one would lock colleagues out).
FREE_FAILURES = 5
WINDOW = 15 * 60
MAX_WAIT = {"user": 60, "client": 300}


# ---- passwords -------------------------------------------------------------------------------------------


def check_password_policy(password: str) -> None:
    """Refuse passwords shorter than 8 or longer than 1024 characters (InvalidAccount)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidAccount(f"A password can have at most {MAX_PASSWORD_LENGTH} characters.")


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string, salt and parameters included) of a password that passes the policy."""
    check_password_policy(password)
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for a mismatch, a missing or a malformed hash."""
    if not password_hash or not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def normalise_username(username: str) -> str:
    """User names are case-insensitive: stored and looked up lower-cased and stripped."""
    return str(username or "").strip().lower()


def check_username(username: str) -> str:
    """The normalised user name, or InvalidAccount: 1-40 of a-z 0-9 . _ - starting with a letter or digit."""
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise InvalidAccount(f"User name {username!r} must be 1-40 characters: letters a-z, digits, '.', '_' or '-'.")
    return name


def is_username(name: str) -> bool:
    """True when ``name`` is already a user name as :func:`check_username` would store it (no normalising)."""
    return bool(_USERNAME.match(name))


# ---- accounts for imported annotator names ---------------------------------------------------------------

_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]+")
MAX_SOURCE_NAME = 200  # an annotator name in a file; longer ones are refused rather than stored


@dataclass(slots=True)
class AccountMapping:
    """Which Nisba account an annotator name from an imported file becomes.

    ``source`` is the name as the file gives it (a doccano file name, ``completed_by``, ``meta.annotator``);
    ``account`` a valid user name; ``new`` says the import creates it (role annotator, no password, origin
    ``import:<tool>``); ``reason`` says why this account, for the preview."""

    source: str
    account: str
    new: bool
    reason: str


# Nisba accounts have no e-mail address; exports name an annotator by this derived one (``.invalid`` is reserved
# by RFC 2606, so it never reaches anyone), which Label Studio keeps as the annotation's author when a member
# has it, and which :func:`plan_import_accounts` maps back to the account of that user name.
EXPORT_EMAIL_DOMAIN = "nisba.invalid"


def export_email(username: str) -> str:
    """The stable address an export gives the account ``username``: ``<username>@nisba.invalid``."""
    return f"{username}@{EXPORT_EMAIL_DOMAIN}"


def username_from_export_email(source: str) -> str | None:
    """The user name in an address made by :func:`export_email`, or None for any other name."""
    local, at, domain = str(source).rpartition("@")
    if at and domain.lower() == EXPORT_EMAIL_DOMAIN and is_username(local.lower()):
        return local.lower()
    return None


def account_name_from(source: str) -> str:
    """A valid user name made from an imported annotator name: lower-cased, every run of other characters
    (``@``, spaces, Arabic letters …) turned into ``-``, trimmed to 40; ``""`` when nothing usable is left."""
    name = _NOT_IN_NAME.sub("-", normalise_username(source)).strip("-._")[:40].rstrip("-._")
    return name if is_username(name) else ""


def plan_import_accounts(
    store: Store, sources: dict[str, str], chosen: dict[str, str] | None = None
) -> dict[str, AccountMapping]:
    """Map each imported annotator name (``sources``: name -> tool, e.g. ``{"admin": "doccano"}``) to an
    account, never silently merging it into an account of someone else.

    ``chosen`` holds the admin's own choices (name -> account, ``--map-annotator``), checked with
    :func:`check_username`; a chosen account that exists is used as it is. Otherwise the name becomes
    :func:`account_name_from` it, used when no account has it, reused when an account has it that an import
    from the same tool created (role annotator), and else prefixed with the tool (``doccano.admin``: the dot
    form the user-name rule accepts), with ``-2``, ``-3`` … until it is free or such an import account. Two
    names never share a new account. A name with nothing usable (``عمر``) becomes ``<tool>.annotator``.
    An address Nisba's own exports write (:func:`export_email`, ``amal@nisba.invalid``) is the account of that
    user name when it exists, whoever made it: that is where the spans were exported from.
    """
    chosen = {k: check_username(v) for k, v in (chosen or {}).items()}
    users = {u.username: u for u in store.list_users()}
    taken: set[str] = set()
    out: dict[str, AccountMapping] = {}
    for source in sorted(sources, key=lambda s: (s not in chosen, s)):
        tool = sources[source]
        if source in chosen:
            account = chosen[source]
            out[source] = AccountMapping(source, account, account not in users, "chosen")
            taken.add(account)
            continue
        own = username_from_export_email(source)
        if own is not None and own in users and own not in taken:
            out[source] = AccountMapping(source, own, False, f"the Nisba account exported as {source}")
            taken.add(own)
            continue
        base = own or account_name_from(source)
        for candidate in _candidates(base, tool):
            u = users.get(candidate)
            if u is None and candidate not in taken:
                if candidate == base:
                    reason = "new account" if base == source else "new account (the name made valid)"
                else:
                    reason = f"new account: {base!r} is someone else's" if base else "new account (no letters a-z in the name)"
                out[source] = AccountMapping(source, candidate, True, reason)
                break
            if u is not None and u.role == "annotator" and u.origin == f"import:{tool}":
                out[source] = AccountMapping(source, candidate, False, f"existing account from an earlier {tool} import")
                break
        taken.add(out[source].account)
    return out


def _candidates(base: str, tool: str):
    """The names :func:`plan_import_accounts` tries for ``base``: itself, then prefixed, then numbered."""
    if base:
        yield base
    stem = f"{account_name_from(tool) or 'import'}.{base or 'annotator'}"[:37]
    yield stem
    for n in range(2, 10_000):
        yield f"{stem}-{n}"


def create_import_accounts(store: Store, admin_id: int, mappings: list[AccountMapping], tools: dict[str, str]) -> dict[str, int]:
    """Inside the caller's transaction: the account id of each mapping's source name, creating the new
    accounts (role annotator, no password, the source name as display name, origin ``import:<tool>``; one
    audited ``create`` each). Refuses (InvalidAccount) a new account whose name was taken since the preview."""
    ids: dict[str, int] = {}
    for m in mappings:
        name = check_username(m.account)
        u = store.user_by_username(name)
        if m.new:
            if u is not None:
                raise InvalidAccount(f"The user name {name!r} was taken after the preview; preview the import again.")
            origin = f"import:{tools.get(m.source, 'import')}"
            uid = store.insert_user(name, "annotator", m.source[:MAX_SOURCE_NAME].strip(), None, origin)
            store.record_event(
                admin_id, "create", "user", uid,
                after={"username": name, "role": "annotator", "via": "import", "origin": origin, "source_name": m.source},
            )  # fmt: skip
        elif u is None:
            raise InvalidAccount(f"There is no account {name!r} any more; preview the import again.")
        else:
            uid = u.id
        ids[m.source] = uid
    return ids


def check_role(role: str) -> str:
    """``role`` when it is one of ROLES; InvalidAccount naming the roles otherwise."""
    if role not in ROLES:
        raise InvalidAccount(f"Unknown role {role!r} (one of {', '.join(ROLES)}).")
    return role


# ---- session tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A verified session: the (fresh, active) user and when the token expires (Unix seconds)."""

    user: User
    expires_at: int


_TOKEN = re.compile(r"^v1\.(\d{1,12})\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{64})$")


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:32]


def _mac(secret: bytes, user_id: int, expires_at: int, generation: int, password_hash: str | None) -> str:
    message = f"nisba-session|v1|{user_id}|{expires_at}|{generation}|{_fingerprint(password_hash)}"
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def issue_session(store: Store, secret: bytes, user: User, *, now: float | None = None, ttl: int = SESSION_TTL) -> str:
    """A signed session token for ``user`` (who must be active and have a password), valid ``ttl`` seconds."""
    fresh = access.current(store, user)
    password_hash = store.password_hash(fresh.id)
    if not password_hash:
        raise AuthError(f"The account {fresh.username!r} has no password yet.")
    expires_at = int((time.time() if now is None else now) + ttl)
    generation = store.session_generation(fresh.id)
    return f"v1.{fresh.id}.{expires_at}.{generation}.{_mac(secret, fresh.id, expires_at, generation, password_hash)}"


def verify_session(store: Store, secret: bytes, token: str | None, *, now: float | None = None) -> Session:
    """Check a session token: well formed, signed by ``secret``, not expired, and still matching the user's
    current session generation and password; the user must exist and be active. Raises AuthError."""
    match = _TOKEN.match(token) if isinstance(token, str) else None
    if not match:
        raise AuthError("Please log in.")
    user_id, expires_at, generation, mac = int(match[1]), int(match[2]), int(match[3]), match[4]
    try:
        user = store.get_user(user_id)
        password_hash = store.password_hash(user_id)
        current_generation = store.session_generation(user_id)
    except NotFound:
        raise AuthError("Your session is not valid; please log in.") from None
    # Compare the MAC before looking at anything else the token claims.
    if not hmac.compare_digest(mac, _mac(secret, user_id, expires_at, generation, password_hash)):
        raise AuthError("Your session is not valid; please log in.")
    if expires_at <= (time.time() if now is None else now):
        raise AuthError("Your session has expired; please log in again.")
    if not user.active:  # before the generation, which deactivation also bumps: say why
        raise AuthError(f"The account {user.username!r} is deactivated.")
    if generation != current_generation:
        raise AuthError("You have been logged out; please log in again.")
    return Session(user=user, expires_at=expires_at)


# ---- logging in and out ----------------------------------------------------------------------------------


def _wait(row: dict | None, now: float) -> float:
    """Seconds until the key may try again (0 when it may try now)."""
    if not row:
        return 0.0
    return max(0.0, row["blocked_until"] - now)


def _count_failure(store: Store, key: str, now: float) -> dict | None:
    """Add one failure to ``key`` and set its block; returns the row as it was before (to restore it)."""
    kind = key.split(":", 1)[0]
    row = store.login_attempt(key)
    failures = row["failures"] if row and now - row["last_failure_at"] <= WINDOW else 0
    failures += 1
    wait = 0 if failures < FREE_FAILURES else min(MAX_WAIT[kind], 2 ** (failures - FREE_FAILURES))
    store.save_login_attempt(key, failures, now, now + wait)
    return row


def _forgive(store: Store, key: str, before: dict | None, now: float) -> None:
    """Take back the failure :func:`_count_failure` counted at ``now`` for a login that succeeded."""
    row = store.login_attempt(key)
    if row is None or row["failures"] <= 1:
        store.clear_login_attempt(key)
        return
    if row["last_failure_at"] == now:  # ours is still the latest failure: the block goes back to what it was
        last, blocked = (before["last_failure_at"], before["blocked_until"]) if before else (0.0, 0.0)
    else:  # someone failed after us: their block stands
        last, blocked = row["last_failure_at"], row["blocked_until"]
    store.save_login_attempt(key, row["failures"] - 1, last, blocked)


def authenticate(store: Store, username: str, password: str, *, client: str = "", now: float | None = None) -> User:
    """Check a user name and password and return the user; record ``login`` or ``failed_login`` in the audit log.

    Raises LoginThrottled while this user name or client address must wait after repeated failures, and
    AuthError ("Wrong user name or password.") for an unknown user, a wrong or missing password, or a
    deactivated account (named only when the password was right). Each attempt is counted as a failure
    *before* the password is checked and forgiven on success, so parallel guesses are slowed down too.
    """
    t = time.time() if now is None else now
    name = normalise_username(username)[:100]
    keys = [f"user:{name}"] + ([f"client:{client[:100]}"] if client else [])
    with store.write():
        wait = max(_wait(store.login_attempt(k), t) for k in keys)
        user = store.user_by_username(name)
        if wait > 0:
            store.record_event(
                user.id if user else None, "failed_login", "user", user.id if user else None,
                after={"username": name, "client": client, "reason": "throttled"},
            )  # fmt: skip
        else:
            previous = {k: _count_failure(store, k, t) for k in keys}
        password_hash = store.password_hash(user.id) if user else None
    if wait > 0:
        seconds = int(wait) + 1
        raise LoginThrottled(f"Too many failed logins; wait {seconds} s and try again.", retry_after=seconds)

    # Slow on purpose (Argon2id), so outside the write transaction; unknown users cost the same time.
    ok = verify_password(password_hash or _dummy_hash(), password) and password_hash is not None
    reason = "unknown_user" if user is None else "no_password" if not password_hash else "wrong_password" if not ok else ""
    if ok and not user.active:
        reason = "deactivated"
    rehashed = HASHER.hash(password) if not reason and HASHER.check_needs_rehash(password_hash) else None
    with store.write():
        if reason:
            store.record_event(
                user.id if user else None, "failed_login", "user", user.id if user else None,
                after={"username": name, "client": client, "reason": reason},
            )  # fmt: skip
        else:
            store.clear_login_attempt(keys[0])
            for key in keys[1:]:  # forgive this attempt for the address; other failures (even concurrent) stand
                _forgive(store, key, previous[key], t)
            if rehashed:  # the parameters were raised since this password was set
                store.update_user(user.id, password_hash=rehashed)
            store.record_event(user.id, "login", "user", user.id, after={"client": client})
    if reason == "deactivated":
        raise AuthError(f"The account {name!r} is deactivated; ask an admin.")
    if reason:
        raise AuthError("Wrong user name or password.")
    return store.get_user(user.id)


def logout(store: Store, actor: User) -> None:
    """End every session of the actor (bumps the session generation) and record ``logout``."""
    with store.write():
        user = store.get_user(actor.id)
        store.bump_session_generation(user.id)
        store.record_event(user.id, "logout", "user", user.id)


# ---- administration: admins only (or the console), audited -----------------------------------------------


class ConsoleOperator:
    """The person at the command line. Whoever can write the database file is trusted like an admin;
    events they cause are recorded with no user id and ``"via": "console"``."""

    def __repr__(self) -> str:
        return "CONSOLE"


CONSOLE = ConsoleOperator()


def _admin_id(store: Store, actor: User | ConsoleOperator) -> int | None:
    """The acting admin's id (None for the console); PermissionDenied for anyone else."""
    if actor is CONSOLE:
        return None
    return access.require_admin(store, actor).id


def _via(actor) -> dict:
    return {"via": "console"} if actor is CONSOLE else {}


def _keep_an_admin(store: Store, target: User) -> None:
    """Refuse a change that would remove the last active admin who can log in."""
    if target.role == "admin" and target.active and store.password_hash(target.id) and store.count_active_admins() <= 1:
        raise InvalidAccount(f"{target.username!r} is the last active admin; make another admin first.")


def _user_after(store: Store, user_id: int) -> dict:
    u = store.get_user(user_id)
    return {"username": u.username, "role": u.role, "display_name": u.display_name, "active": u.active}


def create_user(
    store: Store,
    actor: User | ConsoleOperator,
    username: str,
    role: str = "annotator",
    password: str | None = None,
    display_name: str = "",
) -> User:
    """Create an account (admins or the console). Without a password the account cannot log in until an
    admin sets one. Raises InvalidAccount for a bad or taken user name, an unknown role or a weak password."""
    _admin_id(store, actor)  # refuse before spending time on hashing
    name = check_username(username)
    check_role(role)
    password_hash = hash_password(password) if password is not None else None
    with store.write():
        admin_id = _admin_id(store, actor)
        if store.user_by_username(name) is not None:
            raise InvalidAccount(f"The user name {name!r} is taken.")
        user_id = store.insert_user(name, role, display_name.strip(), password_hash)
        after = {**_user_after(store, user_id), "password": "set" if password_hash else "none", **_via(actor)}
        store.record_event(admin_id, "create", "user", user_id, after=after)
    return store.get_user(user_id)


def set_password(store: Store, actor: User | ConsoleOperator, user_id: int, password: str) -> None:
    """Reset a user's password (admins or the console); ends that user's open sessions."""
    _admin_id(store, actor)
    store.get_user(user_id)
    password_hash = hash_password(password)
    with store.write():
        admin_id = _admin_id(store, actor)
        store.get_user(user_id)
        store.update_user(user_id, password_hash=password_hash)
        store.bump_session_generation(user_id)
        store.record_event(admin_id, "set_password", "user", user_id, after={"password": "set", **_via(actor)})


def set_role(store: Store, actor: User | ConsoleOperator, user_id: int, role: str) -> User:
    """Change a user's role (admins or the console); the last active admin keeps theirs."""
    check_role(role)
    with store.write():
        admin_id = _admin_id(store, actor)
        target = store.get_user(user_id)
        if target.role == role:
            return target
        if target.role == "admin":
            _keep_an_admin(store, target)
        store.update_user(user_id, role=role)
        store.record_event(
            admin_id, "set_role", "user", user_id, before={"role": target.role}, after={"role": role, **_via(actor)}
        )
    return store.get_user(user_id)


def deactivate(store: Store, actor: User | ConsoleOperator, user_id: int) -> User:
    """Deactivate an account (admins or the console): its open sessions end and its next action fails.
    The last active admin cannot be deactivated. Spans and history are kept."""
    with store.write():
        admin_id = _admin_id(store, actor)
        target = store.get_user(user_id)
        if not target.active:
            return target
        _keep_an_admin(store, target)
        store.update_user(user_id, active=0)
        store.bump_session_generation(user_id)
        store.record_event(
            admin_id, "deactivate", "user", user_id, before={"active": True}, after={"active": False, **_via(actor)}
        )
    return store.get_user(user_id)


def reactivate(store: Store, actor: User | ConsoleOperator, user_id: int) -> User:
    """Let a deactivated account log in again (admins or the console)."""
    with store.write():
        admin_id = _admin_id(store, actor)
        target = store.get_user(user_id)
        if target.active:
            return target
        store.update_user(user_id, active=1)
        store.record_event(
            admin_id, "reactivate", "user", user_id, before={"active": False}, after={"active": True, **_via(actor)}
        )
    return store.get_user(user_id)


def list_users(store: Store, actor: User | ConsoleOperator) -> list[User]:
    """Every account (admins or the console)."""
    _admin_id(store, actor)
    return store.list_users()


def account_overview(store: Store, actor: User | ConsoleOperator) -> list[dict]:
    """One row per account for the admin screen: id, username, display_name, role, active, password
    ("set"/"none") and the names of its projects (admins or the console)."""
    _admin_id(store, actor)
    names = {p.id: p.name for p in store.list_projects()}
    return [
        {
            "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active,
            "password": "set" if store.password_hash(u.id) else "none",
            "projects": ", ".join(names[i] for i in store.member_project_ids(u.id)),
        }
        for u in store.list_users()
    ]  # fmt: skip


def user_by_username(store: Store, actor: User | ConsoleOperator, username: str) -> User:
    """The account called ``username`` (admins or the console); NotFound otherwise."""
    _admin_id(store, actor)
    user = store.user_by_username(normalise_username(username))
    if user is None:
        raise NotFound(f"There is no user {username!r}.")
    return user


# ---- first start -------------------------------------------------------------------------------------------


def needs_first_admin(store: Store) -> bool:
    """True while no active admin has a password: the first visitor is asked to create the admin account."""
    return store.count_active_admins() == 0


def create_first_admin(store: Store, username: str, password: str, display_name: str = "") -> User:
    """Create the first admin (or give a password to an existing password-less admin of that name).

    Only while :func:`needs_first_admin`; checked again inside the transaction, so two visitors racing
    for it cannot both succeed (the second gets PermissionDenied).
    """
    name = check_username(username)
    password_hash = hash_password(password)
    with store.write():
        if not needs_first_admin(store):
            raise access.PermissionDenied("The admin account exists already; please log in.")
        existing = store.user_by_username(name)
        if existing is not None and existing.role != "admin":
            raise InvalidAccount(f"The user name {name!r} is taken by a {existing.role}.")
        if existing is None:
            user_id = store.insert_user(name, "admin", display_name.strip(), password_hash)
        else:
            user_id = existing.id
            store.update_user(user_id, password_hash=password_hash, active=1)
            store.bump_session_generation(user_id)
        after = {**_user_after(store, user_id), "password": "set", "via": "first_run"}
        store.record_event(user_id, "create" if existing is None else "set_password", "user", user_id, after=after)
    return store.get_user(user_id)
