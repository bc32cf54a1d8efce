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
