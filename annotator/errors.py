"""Named exceptions raised by the core; pages show their message with ``st.error``."""


class NisbaError(Exception):
    """Base class: every refusal by the core is one of these, with a message for the user."""


class InvalidText(NisbaError):
    """Text that cannot be stored (NUL or other control characters, lone surrogates)."""


class InvalidSpan(NisbaError):
    """A span whose offsets are out of range, empty, reversed, or whose snapshot does not match."""


class InvalidLabel(NisbaError):
    """A label that does not exist or belongs to another project; a bad label scheme edit."""


class InvalidLink(NisbaError):
    """A link between spans of different documents, of an unknown type, or to itself."""


class NotFound(NisbaError):
    """A project, document, span, link or user id that does not exist."""


class PermissionDenied(NisbaError):
    """The acting user's role or membership does not allow this action."""


class AuthError(NisbaError):
    """Wrong password, unknown or deactivated user, bad session."""


class Conflict(NisbaError):
    """A colleague changed the record first (its version moved on); nothing was written."""


class StorageError(NisbaError):
    """The database refused the write (locked for too long, disk full, read-only)."""


class InvalidReview(NisbaError):
    """A review decision, comment or adoption that cannot be made (unknown decision, empty comment, …)."""


class InvalidAccount(NisbaError):
    """A user name, password or role that cannot be used, or a change that would leave no active admin."""


class LoginThrottled(AuthError):
    """Too many recent failed logins for this user name or address; ``retry_after`` says how many seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class InvalidQuery(NisbaError):
    """A search that cannot run: empty, or only punctuation and marks."""
