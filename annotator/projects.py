"""Projects and documents: creating them, adding canonicalised text, membership."""

from __future__ import annotations

from annotator import access
from annotator.errors import InvalidText, NisbaError
from annotator.labels import install_default_scheme
from annotator.models import Document, Project, User
from annotator.store import Store
from annotator.text import canonicalize


def create_project(store: Store, actor: User, name: str, description: str = "", *, default_labels: bool = True) -> Project:
    """Create a project (admins only) with the default attribution labels; the creator becomes a member."""
    name = name.strip()
    if not name:
        raise NisbaError("A project needs a name.")
    with store.write():
        user = access.require_admin(store, actor)
        if store.project_by_name(name):
            raise NisbaError(f"A project called {name!r} already exists.")
        pid = store.insert_project(name, description)
        if default_labels:
            install_default_scheme(store, pid)
        store.add_member(pid, user.id)
        store.record_event(user.id, "create", "project", pid, after={"name": name, "description": description})
    return store.get_project(pid)


def add_document(
    store: Store, actor: User, project_id: int, title: str, raw_text: str, *, source: str = "", metadata: dict | None = None
) -> Document:
    """Canonicalise ``raw_text`` and store it as a new document of the project (admins only).

    What canonicalisation removed is recorded in the metadata (``removed_characters``, ``suspicious``).
    Raises InvalidText for NUL and other control characters; nothing is written then.
    """
    canon = canonicalize(raw_text)
    if not canon.text.strip():
        raise InvalidText("The text is empty.")
    meta = {**(metadata or {}), **canon.metadata()}
    with store.write():
        user = access.require_admin(store, actor)
        store.get_project(project_id)
        doc_id = store.insert_document(project_id, title.strip() or "untitled", canon.text, raw_text, canon.sha256, source, meta)
        store.record_event(
            user.id, "create", "document", doc_id, document_id=doc_id, after={"title": title, "text_sha256": canon.sha256}
        )
    return store.get_document(doc_id)


def add_member(store: Store, actor: User, project_id: int, user_id: int) -> None:
    """Add a user to a project (admins only)."""
    with store.write():
        admin = access.require_admin(store, actor)
        store.get_project(project_id)
        store.get_user(user_id)
        store.add_member(project_id, user_id)
        store.record_event(admin.id, "add_member", "project", project_id, after={"user_id": user_id})


def remove_member(store: Store, actor: User, project_id: int, user_id: int) -> None:
    """Take a user off a project (admins only); their spans stay, but they can no longer open its documents."""
    with store.write():
        admin = access.require_admin(store, actor)
        store.get_project(project_id)
        store.get_user(user_id)
        if store.remove_member(project_id, user_id):
            store.record_event(admin.id, "remove_member", "project", project_id, before={"user_id": user_id})


def member_project_ids(store: Store, actor: User, user_id: int) -> list[int]:
    """Ids of the projects a user belongs to (admins, or the user themself)."""
    user = access.current(store, actor)
    if user.role != "admin" and user.id != user_id:
        raise access.PermissionDenied("Only admins see other people's projects.")
    return store.member_project_ids(user_id)


def list_projects(store: Store, actor: User) -> list[Project]:
    """Projects the actor can open: all for admins, their own for others."""
    user = access.current(store, actor)
    return store.list_projects(None if user.role == "admin" else user.id)


def document_overview(store: Store, actor: User, project_id: int) -> list[dict]:
    """The document list for the annotation screen: title, spans per label in the actor's layer, status."""
    user = access.require_project(store, actor, project_id)
    return store.document_overview(project_id, user.id)


def get_document(store: Store, actor: User, document_id: int) -> Document:
    """A document the actor may read."""
    return access.require_document(store, actor, document_id)[1]


def set_document_status(store: Store, actor: User, document_id: int, status: str) -> None:
    """Mark the actor's work on a document ``in_progress`` or ``submitted`` (done); reviewers may set ``reviewed``."""
    if status not in ("in_progress", "submitted", "reviewed"):
        raise NisbaError(f"Unknown status {status!r}.")
    with store.write():
        user, _doc = access.require_document(store, actor, document_id)
        if status == "reviewed" and user.role not in ("reviewer", "admin"):
            raise access.PermissionDenied("Only reviewers mark a document reviewed.")
        store.set_status(document_id, user.id, status)
        store.record_event(user.id, "status", "document", document_id, document_id=document_id, after={"status": status})


def update_settings(store: Store, actor: User, project_id: int, **changes) -> Project:
    """Change project settings (admins only), e.g. ``show_others`` (annotators see each other's layers)."""
    allowed = {"show_others", "description"}
    bad = set(changes) - allowed
    if bad:
        raise NisbaError(f"Unknown project settings {sorted(bad)}.")
    with store.write():
        user = access.require_admin(store, actor)
        project = store.get_project(project_id)
        settings = {**project.settings, **{k: v for k, v in changes.items() if k != "description"}}
        store.update_project_settings(project_id, settings)
        store.record_event(user.id, "update", "project", project_id, before=project.settings, after=settings)
    return store.get_project(project_id)
