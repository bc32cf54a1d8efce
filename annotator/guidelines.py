"""Annotation guidelines per project: what counts as a CLAIM, where a SOURCE stops, written by admins and read by
everyone on the project. Plain text: the pages show it as text, never as Markdown or HTML."""

from __future__ import annotations

from pathlib import Path

from annotator import access
from annotator.errors import NisbaError
from annotator.models import User
from annotator.store import Store

MAX_GUIDELINES = 100_000  # characters: a long manual fits; a pasted book does not
# The conventions of the default scheme, shipped with the demo project (see annotator.demo).
DEFAULT_GUIDELINES_FILE = Path(__file__).resolve().parent.parent / "data" / "demo" / "guidelines.txt"


def get_guidelines(store: Store, actor: User | None, project_id: int) -> str:
    """The project's guidelines ("" when none are written); anyone who may open the project may read them."""
    access.require_project(store, actor, project_id)
    return store.get_guidelines(project_id)[0]


def save_guidelines(store: Store, actor: User | None, project_id: int, body: str, *, seen_version: int | None = None) -> int:
    """Replace the project's guidelines (admins only); returns the new version, audited with the text before and
    after. With ``seen_version``, refuses when another admin saved since that version was read (nothing written)."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if len(body) > MAX_GUIDELINES:
        raise NisbaError(f"Guidelines are limited to {MAX_GUIDELINES:,} characters; these have {len(body):,}.")
    with store.write():
        user = access.require_admin(store, actor)
        store.get_project(project_id)
        before, version = store.get_guidelines(project_id)
        if seen_version is not None and seen_version != version:
            raise NisbaError("Another admin changed these guidelines meanwhile: reload the page to see their text.")
        if body == before:
            return version
        new_version = store.set_guidelines(project_id, body, user.id)
        store.record_event(
            user.id, "update_guidelines", "project", project_id, before={"guidelines": before}, after={"guidelines": body}
        )
    return new_version


def guidelines_version(store: Store, actor: User | None, project_id: int) -> int:
    """How many times the guidelines were saved (0: never), for an edit form's conflict check."""
    access.require_project(store, actor, project_id)
    return store.get_guidelines(project_id)[1]
