"""Who may do what, checked in the core on every read and write (pages only hide buttons).

Roles: annotator (own spans and links, on projects they belong to; sees only their own layer unless the
project shows others'), reviewer (sees every layer, reviews anything, edits the gold layer), admin (everything).
"""

from __future__ import annotations

from annotator.errors import NotFound, PermissionDenied
from annotator.models import Document, Span, User
from annotator.store import Store


def current(store: Store, actor: User | None) -> User:
    """Re-read the acting user from the database: a deactivated user's next action fails even in an open session."""
    if actor is None:
        raise PermissionDenied("Please log in.")
    try:
        fresh = store.get_user(actor.id)
    except NotFound:
        raise PermissionDenied("This account no longer exists.") from None
    if not fresh.active:
        raise PermissionDenied(f"The account {fresh.username!r} is deactivated.")
    return fresh


def require_admin(store: Store, actor: User | None) -> User:
    """The actor, when they are an active admin; PermissionDenied otherwise."""
    user = current(store, actor)
    if user.role != "admin":
        raise PermissionDenied("Only an admin can do this.")
    return user


def require_role(store: Store, actor: User | None, *roles: str) -> User:
    """The actor, when their role is one of ``roles``; PermissionDenied naming the roles otherwise."""
    user = current(store, actor)
    if user.role not in roles:
        raise PermissionDenied(f"This needs the role {' or '.join(roles)}; you are {user.role}.")
    return user


def require_project(store: Store, actor: User | None, project_id: int) -> User:
    """The actor may read the project: an admin, or a member."""
    user = current(store, actor)
    store.get_project(project_id)  # NotFound for an unknown id
    if user.role != "admin" and not store.is_member(project_id, user.id):
        raise PermissionDenied("You are not a member of this project.")
    return user


def require_document(store: Store, actor: User | None, document_id: int) -> tuple[User, Document]:
    """The actor may read the document (through its project); returns the fresh user and the document."""
    doc = store.get_document(document_id)
    return require_project(store, actor, doc.project_id), doc


def can_see_others(store: Store, user: User, project_id: int) -> bool:
    """Reviewers and admins see every layer; annotators only when the project allows it."""
    if user.role in ("reviewer", "admin"):
        return True
    return bool(store.get_project(project_id).settings.get("show_others", False))


def require_span_write(store: Store, user: User, span: Span) -> None:
    """Annotators change only their own annotator-layer spans; reviewers their own and gold; admins all."""
    if user.role == "admin":
        return
    if span.layer == "gold":
        if user.role != "reviewer":
            raise PermissionDenied("Only reviewers and admins edit the gold layer.")
        return
    if span.annotator_id != user.id:
        raise PermissionDenied("You can only change your own spans.")


def require_layer_write(user: User, layer: str) -> None:
    """PermissionDenied unless ``user`` may write to ``layer``: anyone to their annotator layer, reviewers and
    admins to gold; any other layer name is refused."""
    if layer == "gold" and user.role not in ("reviewer", "admin"):
        raise PermissionDenied("Only reviewers and admins edit the gold layer.")
    if layer not in ("annotator", "gold"):
        raise PermissionDenied(f"Unknown layer {layer!r}.")
