"""Reading the audit log: filtered listing for the admin screen and chain verification (screen and CLI)."""

from __future__ import annotations

from annotator import access
from annotator.audit import ChainReport, verify_chain
from annotator.models import User
from annotator.store import Store


def list_events(
    store: Store,
    actor: User,
    *,
    user_id: int | None = None,
    action: str | None = None,
    entity: str | None = None,
    document_id: int | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 500,
) -> list[dict]:
    """Audit events matching every given filter, newest first, at most ``limit`` (admins only).

    ``since``/``until`` are ISO timestamps or dates (``until`` excluded); each event is a dict with the
    audit_events columns, ``before``/``after`` decoded.
    """
    access.require_admin(store, actor)
    return store.filter_events(
        user_id=user_id, action=action or None, entity=entity or None, document_id=document_id,
        since=since or None, until=until or None, limit=max(1, min(int(limit), 10_000)),
    )  # fmt: skip


def event_vocabulary(store: Store, actor: User) -> dict[str, list[str]]:
    """The actions and entities present in the log, for the filter menus (admins only)."""
    access.require_admin(store, actor)
    return store.event_vocabulary()


def chain_status(store: Store, actor: User) -> ChainReport:
    """Verify the whole hash chain (admins only); see :func:`verify_database`."""
    access.require_admin(store, actor)
    return verify_database(store)


def verify_database(store: Store, expect_head: str | None = None) -> ChainReport:
    """Verify every event's hash and link to the previous one, in id order (the command line's ``audit verify``),
    keyed events with the database's audit key.

    ``ok`` with the head hash on an intact chain; otherwise ``broken_event_id`` names the first event whose
    hash or ``prev_hash`` does not match (an edited event names itself; a deleted one names the next).
    ``expect_head`` (a head hash kept outside the database) must be the hash of one of the chain's events.
    """
    return verify_chain(store.iter_events(), store.audit_key(), expect_head)


def short_time(at: str) -> str:
    """An event's stored ISO time (UTC, microseconds) as the table shows it: ``2026-11-29 18:27:32``."""
    return at[:19].replace("T", " ")
