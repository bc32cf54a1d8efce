"""The server's keys, kept beside the database: the secret that signs session cookies and the key of the audit chain.

The secret is generated on first start and kept beside the database (``<db>.secret``, mode 0600; data/ is
git-ignored) or in ``$NISBA_SECRET_FILE``; there is no default secret. The audit key sits next to it
(``<secret>.audit``, mode 0600): audit event hashes are HMACs with it, so someone who edits the database and
recomputes the later hashes cannot produce valid ones without the key (issue 9).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from annotator.errors import AuthError

SECRET_BYTES = 32


def secret_path(db_path: str | os.PathLike) -> Path:
    """Where the cookie-signing secret lives: ``$NISBA_SECRET_FILE``, else ``<db>.secret`` beside a SQLite file, or
    ``data/postgresql-<host>-<port>-<database>.secret`` for a PostgreSQL URL (several app servers on one database
    must share one secret: set ``NISBA_SECRET_FILE`` to the same file on each)."""
    configured = os.environ.get("NISBA_SECRET_FILE")
    if configured:
        return Path(configured)
    location = str(db_path)
    if location.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(location)
        name = f"postgresql-{parts.hostname or 'local'}-{parts.port or 5432}-{unquote(parts.path.lstrip('/')) or 'default'}"
        return Path("data") / (re.sub(r"[^\w.-]", "_", name) + ".secret")
    return Path(f"{location}.secret")


def load_or_create_secret(db_path: str | os.PathLike) -> bytes:
    """Read the secret, creating it (32 random bytes, mode 0600) on first start.

    Creation uses O_EXCL, so two processes starting together end up with the same secret.
    A secret file readable by others is tightened to 0600; a too short one is refused.
    """
    return _load_or_create(secret_path(db_path), "session secret")


def audit_key_path(db_path: str | os.PathLike) -> Path:
    """Where the audit chain's key lives: beside the session secret (``<secret>.audit``)."""
    path = secret_path(db_path)
    return path.with_name(path.name + ".audit")


def load_audit_key(db_path: str | os.PathLike, *, create: bool) -> bytes | None:
    """The audit chain's key; created (32 random bytes, 0600) when ``create`` and missing, else None when missing."""
    path = audit_key_path(db_path)
    if not path.exists() and not create:
        return None
    return _load_or_create(path, "audit key")


def _load_or_create(path: Path, what: str) -> bytes:
    """Read a hex key file, creating it first (O_EXCL: two processes starting together share one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(SECRET_BYTES) + "\n")
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 2 * SECRET_BYTES:
        raise AuthError(f"The {what} {path} is too short; delete it to generate a new one.")
    return value.encode("ascii")


@dataclass(frozen=True)
class AuditKeyHandover:
    """What a database copy does with the audit key, so that the target verifies the copied chain with the key that
    signed it. ``action``: ``shared`` (both databases look in the same file), ``same`` (the target's file already
    holds the source's key), ``copy`` (the target has none: the source's is copied), ``replace`` (the target's
    different key is set aside as ``<key>.replaced-<time>`` and the source's copied), ``none`` (neither has one),
    ``set-aside`` (the source has none, so the target's is set aside: a key without a keyed chain reads as a
    rewritten log)."""

    source: Path
    target: Path
    action: str

    def describe(self) -> str:
        """One line for the copy's report."""
        return {
            "shared": f"both databases use the audit key {self.target}",
            "same": f"the target's audit key {self.target} is already the source's",
            "copy": f"copied the source's audit key {self.source} to {self.target}",
            "replace": f"replaced the target's audit key {self.target} with the source's {self.source} (the old one kept beside it)",
            "none": "neither database has an audit key yet (the chain is not keyed)",
            "set-aside": f"set the target's audit key {self.target} aside: the source has none",
        }[self.action]


def plan_audit_key_handover(
    source_db: str | os.PathLike, target_db: str | os.PathLike, *, replace: bool, target_secret: str | os.PathLike | None = None
) -> AuditKeyHandover:
    """Decide what copying ``source_db`` into ``target_db`` does with the audit key (nothing is written here).
    ``target_secret``: the session secret the target's app servers will use (their ``NISBA_SECRET_FILE``), when not
    where this process would look. Raises :class:`AuthError` when the target already has a different key and
    ``replace`` is false."""
    source = audit_key_path(source_db)
    target = Path(f"{target_secret}.audit") if target_secret else audit_key_path(target_db)
    if source.resolve() == target.resolve():
        return AuditKeyHandover(source, target, "shared")
    if not target.exists():
        return AuditKeyHandover(source, target, "copy" if source.exists() else "none")
    if source.exists() and _read_key(source) == _read_key(target):
        return AuditKeyHandover(source, target, "same")
    if not replace:
        theirs = "has a different audit key" if source.exists() else "has an audit key and the source has none"
        raise AuthError(
            f"The target {theirs} ({target}): its chain would not verify. Use --force to set it aside"
            " (kept as <key>.replaced-<time>)."
        )
    return AuditKeyHandover(source, target, "replace" if source.exists() else "set-aside")


def source_audit_key(handover: AuditKeyHandover) -> bytes | None:
    """The key the copied chain must verify with on the target (None when the source has none)."""
    return _read_key(handover.source) if handover.source.exists() else None


def target_audit_key(handover: AuditKeyHandover) -> bytes | None:
    """The key the target's app servers will find once the handover is applied (None when there is none)."""
    return _read_key(handover.target) if handover.target.exists() else None


def apply_audit_key_handover(handover: AuditKeyHandover) -> None:
    """Put the source's audit key where the target looks for it (mode 0600), setting a different one aside."""
    if handover.action in ("replace", "set-aside"):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        handover.target.rename(handover.target.with_name(f"{handover.target.name}.replaced-{stamp}"))
    if handover.action in ("copy", "replace"):
        handover.target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(handover.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(_read_key(handover.source).decode("ascii") + "\n")


def _read_key(path: Path) -> bytes:
    return path.read_text(encoding="ascii").strip().encode("ascii")
