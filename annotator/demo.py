"""The demo project of the quick start: the sample article, the default labels and demo accounts."""

from __future__ import annotations

from pathlib import Path

from annotator.models import User
from annotator.projects import add_document, create_project
from annotator.store import Store

DEMO_PROJECT = "Demo: attribution in Arabic news"
DEMO_ARTICLE = Path(__file__).resolve().parent.parent / "data" / "demo" / "rubio-cable-migration.ar.txt"
DEMO_TITLE = "روبيو: برقية عن الهجرة"
# username, role, display name. Passwords (set by annotator.auth when present) are in the README.
DEMO_USERS = [
    ("admin", "admin", "Demo admin"),
    ("amal", "annotator", "أمل (annotator)"),
    ("badr", "annotator", "بدر (annotator)"),
    ("rana", "reviewer", "رنا (reviewer)"),
]


def ensure_demo(store: Store) -> bool:
    """Create the demo project, article and users unless they exist; returns True when it created them.

    Idempotent: starting the app again never duplicates the demo.
    """
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


def default_user(store: Store) -> User:
    """The demo annotator used before accounts exist."""
    user = store.user_by_username("amal")
    if user is None:
        raise LookupError("no demo user")
    return user
