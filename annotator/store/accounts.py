"""User accounts: sessions, failed-login throttling, admins."""

from __future__ import annotations

from annotator.errors import NotFound
from annotator.models import User
from annotator.store.base import StoreBase, now
from annotator.store.rows import user_from_row


class Accounts(StoreBase):
    def insert_user(
        self, username: str, role: str, display_name: str = "", password_hash: str | None = None, origin: str = ""
    ) -> int:
        """Insert an account (the caller checked the name with ``auth.check_username``); returns its id."""
        return self._insert(
            "INSERT INTO users (username, display_name, role, password_hash, active, created_at, origin)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)",
            (username, display_name, role, password_hash, now(), origin),
        )

    def get_user(self, user_id: int) -> User:
        rows = self.query("SELECT * FROM users WHERE id = ?", [user_id])
        if not rows:
            raise NotFound(f"There is no user {user_id}.")
        return user_from_row(rows[0])

    def user_by_username(self, username: str) -> User | None:
        rows = self.query("SELECT * FROM users WHERE username = ?", [username])
        return user_from_row(rows[0]) if rows else None

    def password_hash(self, user_id: int) -> str | None:
        rows = self.query("SELECT password_hash FROM users WHERE id = ?", [user_id])
        return rows[0]["password_hash"] if rows else None

    def list_users(self) -> list[User]:
        return [user_from_row(r) for r in self.query("SELECT * FROM users ORDER BY id")]

    def update_user(self, user_id: int, **fields) -> None:
        """Set any of ``role``, ``display_name``, ``password_hash``, ``active``."""
        allowed = {"role", "display_name", "password_hash", "active"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update user fields {sorted(bad)}")
        if fields:
            cols = ", ".join(f"{k} = ?" for k in fields)
            self._x(f"UPDATE users SET {cols} WHERE id = ?", [*fields.values(), user_id])

    def session_generation(self, user_id: int) -> int:
        """The user's session generation: tokens signed with an older value are no longer valid."""
        rows = self.query("SELECT session_generation FROM users WHERE id = ?", [user_id])
        if not rows:
            raise NotFound(f"There is no user {user_id}.")
        return rows[0]["session_generation"]

    def bump_session_generation(self, user_id: int) -> None:
        self._x("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?", (user_id,))

    def login_attempt(self, key: str) -> dict | None:
        """The failure count of ``key`` ("user:NAME" / "client:ADDRESS"): failures, last_failure_at, blocked_until."""
        rows = self.query("SELECT failures, last_failure_at, blocked_until FROM login_attempts WHERE key = ?", [key])
        return rows[0] if rows else None

    def save_login_attempt(self, key: str, failures: int, last_failure_at: float, blocked_until: float) -> None:
        self._x(
            "INSERT INTO login_attempts (key, failures, last_failure_at, blocked_until) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,"
            " blocked_until = excluded.blocked_until",
            (key, failures, last_failure_at, blocked_until),
        )

    def clear_login_attempt(self, key: str) -> None:
        self._x("DELETE FROM login_attempts WHERE key = ?", (key,))

    def count_active_admins(self) -> int:
        """Active admins that can log in (have a password)."""
        return self._x("SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND password_hash IS NOT NULL").fetchone()[
            0
        ]

    def first_active_admin(self) -> User | None:
        """The active admin with the lowest id (the command line acts as this user)."""
        rows = self.query("SELECT * FROM users WHERE role = 'admin' AND active = 1 ORDER BY id LIMIT 1")
        return user_from_row(rows[0]) if rows else None
