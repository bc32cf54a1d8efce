"""Moving a team between databases (issue 13): copy every data table of one Nisba database into another, SQLite or
PostgreSQL either way, with ids kept, and check the result before it is committed.

The source is read inside its own write transaction: a consistent snapshot, and no save can land in the source
during the copy and be left behind (writers wait, then are told the database is busy). The target is written in
one transaction that commits only when its row counts and audit head equal the source's and its chain verifies
with the source's audit key; any failure rolls it back (a SQLite file the copy created is removed again).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from annotator import audit, keys
from annotator.errors import NisbaError
from annotator.store import Store, is_postgres_url
from annotator.store.backends import sqlite_path


class CopyRefused(NisbaError):
    """The copy was not made: a non-empty target, different schemas, a source chain that does not verify, …"""


@dataclass(frozen=True)
class CopyReport:
    """What a copy moved and checked: rows per table (equal on both sides), the audit head, the key handover."""

    source: str
    target: str
    counts: dict[str, int]
    head: str | None
    events: int
    key: keys.AuditKeyHandover
    emptied: list[str]
    seconds: float


def copy_database(
    source_location: str, target_location: str, *, force: bool = False, target_secret: str | None = None
) -> CopyReport:
    """Copy the database at ``source_location`` into the one at ``target_location`` (file paths, ``sqlite:///``
    paths or ``postgresql://`` URLs; both are opened, and so migrated, first).

    Refuses (:class:`CopyRefused`, nothing written) a target holding any row, unless ``force``, which empties it in
    the same transaction and sets a different audit key of the target aside; a source and target of different schema
    steps; a source whose audit chain does not verify. The source's audit key is copied to where the target's is
    looked for (:func:`annotator.keys.plan_audit_key_handover`), or beside ``target_secret``: the session secret the
    target's app servers will use (their ``NISBA_SECRET_FILE``)."""
    _check_locations(source_location, target_location)
    created = None if is_postgres_url(target_location) else Path(sqlite_path(target_location))
    created = created if created is not None and not created.exists() else None
    started = time.perf_counter()
    source = Store(source_location)
    try:
        target = Store(target_location)
    except BaseException:
        source.close()
        raise
    try:
        report = copy_stores(source, target, force=force, started=started, target_secret=target_secret)
    except BaseException:
        target.close()
        if created is not None:  # the file did not exist before: leave nothing behind
            for path in (created, Path(f"{created}-wal"), Path(f"{created}-shm")):
                path.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    target.close()
    return report


def _check_locations(source_location: str, target_location: str) -> None:
    if not is_postgres_url(source_location) and not Path(sqlite_path(source_location)).is_file():
        raise CopyRefused(f"No database at {sqlite_path(source_location)} (the source must exist).")
    if _same(source_location, target_location):
        raise CopyRefused("The source and the target are the same database.")


def _same(a: str, b: str) -> bool:
    if is_postgres_url(a) or is_postgres_url(b):
        return a == b
    return Path(sqlite_path(a)).resolve() == Path(sqlite_path(b)).resolve()


def copy_stores(
    source: Store, target: Store, *, force: bool = False, started: float | None = None, target_secret: str | None = None
) -> CopyReport:
    """Copy between two open stores (what :func:`copy_database` does once it has opened them; ``started``: a
    :func:`time.perf_counter` reading the reported seconds count from)."""
    started = time.perf_counter() if started is None else started
    steps, target_steps = source.schema_steps(), target.schema_steps()
    if steps != target_steps:
        raise CopyRefused(
            f"The source and the target are at different schema steps ({_step_gap(steps, target_steps)}):"
            " open both with this Nisba first (each is upgraded when opened), then copy."
        )
    for store in (source, target):
        if unknown := store.unknown_tables():
            raise CopyRefused(f"{store.display_name} has tables this copy does not know: {', '.join(unknown)}.")
    if not force:
        _refuse_nonempty(target, target.nonempty_tables())  # before the key: the clearer reason comes first
    handover = keys.plan_audit_key_handover(source.path, target.path, replace=force, target_secret=target_secret)
    key = keys.source_audit_key(handover)
    with source.write():
        chain = audit.verify_chain(source.iter_events(), key)
        if not chain.ok:
            where = f"at event {chain.broken_event_id}" if chain.broken_event_id else ""
            raise CopyRefused(
                f"The audit chain of {source.display_name} does not verify {where} ({chain.reason}); nothing was copied."
            )
        counts, head = source.row_counts(), source.audit_head()
        emptied = _load(source, target, counts, head, key, force=force)
    keys.apply_audit_key_handover(handover)
    final = audit.verify_chain(target.iter_events(), keys.target_audit_key(handover))
    if not final.ok or final.head != chain.head:
        raise NisbaError(
            f"The copy is committed but its chain does not verify with the target's audit key ({final.reason});"
            f" the source's key is {handover.source}."
        )
    return CopyReport(
        source.display_name, target.display_name, counts, head, chain.count, handover, emptied, time.perf_counter() - started
    )


def _load(source: Store, target: Store, counts: dict[str, int], head: str | None, key: bytes | None, *, force: bool):
    """The target's one transaction: empty it (``force``), load, and check before committing."""
    with target.write():
        emptied = target.nonempty_tables()  # again, inside the transaction: a writer may have come meanwhile
        if not force:
            _refuse_nonempty(target, emptied)
        target.empty_copied_tables()
        target.load_copy_of(source)
        copied = target.row_counts()
        if copied != counts:
            differ = ", ".join(f"{t} {counts[t]} → {copied[t]}" for t in counts if copied[t] != counts[t])
            raise NisbaError(f"Row counts differ after the copy ({differ}); the target was left as it was.")
        if target.audit_head() != head:
            raise NisbaError("The audit head differs after the copy; the target was left as it was.")
        chain = audit.verify_chain(target.iter_events(), key)
        if not chain.ok:
            raise NisbaError(f"The copied audit chain does not verify ({chain.reason}); the target was left as it was.")
    return emptied


def _refuse_nonempty(target: Store, tables: list[str]) -> None:
    if tables:
        raise CopyRefused(
            f"{target.display_name} is not empty (rows in {', '.join(tables)}); nothing was copied."
            " Use --force to replace its contents."
        )


def _step_gap(source: list[str], target: list[str]) -> str:
    """Which steps each side lacks (or, with the same steps, that their order differs)."""
    gaps = [
        f"the {side} lacks {', '.join(missing)}"
        for side, missing in (
            ("target", [n for n in source if n not in target]),
            ("source", [n for n in target if n not in source]),
        )
        if missing
    ]
    return "; ".join(gaps) or "applied in another order"
