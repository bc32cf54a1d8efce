"""The demo project of the quick start: the sample article, the default labels and demo accounts."""

from __future__ import annotations

import os
from pathlib import Path

from annotator.guidelines import DEFAULT_GUIDELINES_FILE
from annotator.projects import add_document, create_project
from annotator.store import Store

DEMO_PROJECT = "Demo: attribution in Arabic news"
DEMO_ARTICLE = Path(__file__).resolve().parent.parent / "data" / "demo" / "rubio-cable-migration.ar.txt"
DEMO_TITLE = "روبيو: برقية عن الهجرة"
# username, role, display name. Passwords (set by annotator.auth when present) are in the README.
DEMO_USERS = [
    ("admin", "admin", "Demo admin"),
    ("amal", "annotator", "أمل"),
    ("badr", "annotator", "بدر"),
    ("rana", "reviewer", "رنا"),
]
# The demo passwords are public (README): "nisba-<username>". Their Argon2id hashes are computed once here,
# with annotator.auth's parameters, so creating a demo database (every test fixture does) costs no hashing.
DEMO_PASSWORDS = {username: f"nisba-{username}" for username, _role, _display in DEMO_USERS}
DEMO_PASSWORD_HASHES = {
    "admin": "$argon2id$v=19$m=65536,t=2,p=1$625BYvmoI/rrBOQ7DrarDQ$x67P0p8wtd2qUaI2jrS+9AkNRRed3t124W2PmsFHPo8",
    "amal": "$argon2id$v=19$m=65536,t=2,p=1$NRa1mF+CWB+lu1qYuuKpig$1QzWBt3kDTw/Xn6N5Z+TgSbR+d+g6iBzOLUkjnwRb1I",
    "badr": "$argon2id$v=19$m=65536,t=2,p=1$Rx61qf4Nxjvgm83dF2nHWQ$N8MEBj58+GCyND8z80EplSiksqaT/6Cjx/yJ7PYIr/s",
    "rana": "$argon2id$v=19$m=65536,t=2,p=1$tkA+l0NC1kvOtrnpfMAsWw$N5QyVNBuIuXF2HrvmOCt7bHWJWAdYix54tntqp/+D5s",
}


def demo_enabled() -> bool:
    """Whether the server creates the demo project: yes unless ``NISBA_DEMO=0`` (a real team database,
    whose first visitor creates the admin account)."""
    return os.environ.get("NISBA_DEMO", "1") != "0"


def ensure_demo(store: Store) -> bool:
    """Create the demo project, article and users unless they exist, and give demo accounts without a
    password their demo password; returns True when it created the project.

    Idempotent: starting the app again never duplicates the demo, and never resets a password an admin set.
    """
    created = _ensure_demo_project(store)
    _ensure_demo_passwords(store)
    _ensure_demo_guidelines(store)
    return created


def _ensure_demo_guidelines(store: Store) -> None:
    """The default scheme's conventions as the demo project's guidelines, unless any were ever saved there
    (an admin's edit, even one that emptied them, is never overwritten)."""
    project = store.project_by_name(DEMO_PROJECT)
    if project is None or store.get_guidelines(project.id)[1]:
        return
    text = DEFAULT_GUIDELINES_FILE.read_text(encoding="utf-8").strip("\n")
    with store.write():
        if store.get_guidelines(project.id)[1]:  # another process wrote them meanwhile
            return
        store.set_guidelines(project.id, text, None)
        store.record_event(None, "update_guidelines", "project", project.id, after={"guidelines": text, "via": "demo"})


def _ensure_demo_passwords(store: Store) -> None:
    missing = [u for u in (store.user_by_username(name) for name in DEMO_PASSWORD_HASHES) if u and not store.password_hash(u.id)]
    if not missing:
        return
    with store.write():
        for user in missing:
            if store.password_hash(user.id):  # another process set it meanwhile
                continue
            store.update_user(user.id, password_hash=DEMO_PASSWORD_HASHES[user.username])
            store.record_event(None, "set_password", "user", user.id, after={"password": "set", "via": "demo"})


def is_demo(store: Store) -> bool:
    """True when the database holds demo data (a project with the setting ``demo``): the app shows a banner."""
    return any(p.settings.get("demo") for p in store.list_projects())


def _ensure_demo_project(store: Store) -> bool:
    if store.project_by_name(DEMO_PROJECT) is not None:
        return False
    with store.write():
        if store.project_by_name(DEMO_PROJECT) is not None:  # another process won the race
            return False
        ids = {}
        for username, role, display in DEMO_USERS:
            existing = store.user_by_username(username)
            ids[username] = existing.id if existing else store.insert_user(username, role, display)
        admin = store.get_user(ids["admin"])
        project = create_project(store, admin, DEMO_PROJECT, "The sample article with the default attribution labels.")
        project_settings = dict(project.settings, demo=True)
        store.update_project_settings(project.id, project_settings)
        for uid in ids.values():
            store.add_member(project.id, uid)
        add_document(store, admin, project.id, DEMO_TITLE, DEMO_ARTICLE.read_text(encoding="utf-8"), source="demo")
    return True
