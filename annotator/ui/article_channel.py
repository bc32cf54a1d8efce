"""The article component's direct channel: its actions as one HTTP request each, answered with the delta, no rerun.

A Streamlit trigger reruns the page's fragment: about 15 ms of server CPU, and in the browser Streamlit's
frontend redraws its element tree (200+ ms of a renderer's CPU per tag, measured with 8 annotators on one
machine: the browsers, not the server, were the limit). Over this channel an action costs the server the
core's own work and the browser only the component's patch.

- :func:`open_channel` (called by :func:`~annotator.ui.article_component.article_view` on every run) gives the
  session's :class:`~annotator.article_sync.ArticleSync` a random token, the same for the sync's life; the
  component posts ``{token, epoch, base, ops}`` to :data:`CHANNEL_PATH`.
- :func:`answer` applies the ops through the same :func:`~annotator.article_actions.apply_ops` as the trigger
  (each action once, whichever way it came, or both), and answers with the same bytes a rerun would send
  (:meth:`ArticleSync.message`): acknowledgements and the delta from the browser's revision.
- The gate has already refused a request without a valid session (401). Here the session's user must be the
  sync's (same id and role), the token known to this process, the post same-origin (SameSite=Strict cookie,
  Origin checked, a JSON body a cross-site form cannot send) and small. Anything else gets a status and a
  one-line reason, never a traceback; the component then sends its actions as a trigger, as before.

The registry holds weak references: a sync lives in its browser session's state, and leaves with it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import weakref
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from annotator.article_actions import apply_ops
from annotator.article_sync import ArticleSync
from annotator.errors import NisbaError, StorageError
from annotator.models import Document, User
from annotator.store import Store
from annotator.ui.gate import same_origin

CHANNEL_PATH = "/_nisba/article"
MAX_BODY_BYTES = 256 * 1024  # a batch of unanswered actions is a few KB; nothing legitimate comes near this
MAX_OPS = 500
_log = logging.getLogger(__name__)


@dataclass
class Channel:
    """What a token stands for: the sync (weakly), whose it is, and how the page last drew it."""

    sync: weakref.ReferenceType
    store: Store
    user_id: int
    role: str
    document: Document
    layer: str
    snap_words: bool
    ui: dict


_CHANNELS: dict[str, Channel] = {}
_LOCK = threading.Lock()


def open_channel(
    store: Store, user: User, document: Document, sync: ArticleSync, *, layer: str, snap_words: bool, ui: dict
) -> dict:
    """Register (or refresh) the direct channel of ``sync`` and return what the component needs to use it:
    ``{"url", "token"}``. The token is the same for the sync's whole life, so the page's bytes stay the same
    while nothing changes."""
    if sync.channel_token is None:
        sync.channel_token = secrets.token_urlsafe(18)
    descriptor = {"url": CHANNEL_PATH, "token": sync.channel_token}
    shown = {**ui, "channel": descriptor}  # what an answer sends as ``ui``: the page's, channel included
    channel = Channel(weakref.ref(sync), store, user.id, user.role, document, layer, bool(snap_words), shown)
    with _LOCK:
        _forget_dead()
        _CHANNELS[sync.channel_token] = channel
    return descriptor


def _forget_dead() -> None:
    """Drop the tokens whose sync has gone with its session (called with ``_LOCK`` held)."""
    for token in [t for t, c in _CHANNELS.items() if c.sync() is None]:
        del _CHANNELS[token]


class Refused(Exception):
    """An action message this channel does not take: ``status`` and a one-line reason for the component."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def answer(user: User, payload: object) -> bytes:
    """Apply an action message ``{token, epoch, base, ops}`` posted by ``user`` (the verified session's user)
    and return the component's next data: acknowledgements and the changes since the revision it named.
    Raises :class:`Refused` for an unknown token, another user's sync, or a malformed message."""
    if not isinstance(payload, dict) or not isinstance(payload.get("ops"), list) or len(payload["ops"]) > MAX_OPS:
        raise Refused(400, "Malformed action message; nothing was saved.")
    with _LOCK:
        channel = _CHANNELS.get(str(payload.get("token", "")))
    sync = channel.sync() if channel is not None else None
    if sync is None:
        raise Refused(409, "This page's channel has ended; the action goes through the page instead.")
    if channel.user_id != user.id or channel.role != user.role:
        raise Refused(409, "This page belongs to another session; the action goes through the page instead.")
    if any(isinstance(op, dict) and op.get("type") == "nav" for op in payload["ops"]):
        raise Refused(400, "Moving to another document goes through the page.")
    with sync.lock:
        sync.client_rev = base = sync.named_rev(payload)
        apply_ops(channel.store, user, channel.document, sync, payload["ops"], layer=channel.layer, snap_words=channel.snap_words)
        sync.refresh(channel.store, user)
        return sync.message(base, channel.ui)


def routes(gate) -> list[Route]:
    """The channel's route, behind ``gate`` (annotator.ui.gate.LoginGate: it verifies the session cookie)."""

    async def post(request: Request) -> Response:
        if not same_origin(request):
            return refusal(403, "Cross-site requests are refused.")
        size = request.headers.get("content-length", "")
        if not size.isdigit() or int(size) > MAX_BODY_BYTES:
            return refusal(413, "The action message is too large.")
        body = await request.body()
        try:
            session = await run_in_threadpool(gate.session_of, request.headers.get("cookie"))
            if session is None:
                return refusal(401, "Login required.")
            data = await run_in_threadpool(answer, session.user, json.loads(body))
        except Refused as exc:
            return refusal(exc.status, str(exc))
        except (ValueError, UnicodeDecodeError):
            return refusal(400, "Malformed action message; nothing was saved.")
        except StorageError as exc:
            return refusal(503, f"The change was not saved: {exc}")
        except NisbaError as exc:  # e.g. access withdrawn while the page was open
            return refusal(403, str(exc))
        except Exception:
            _log.exception("article channel: an action message failed")
            return refusal(500, "An internal error; the action goes through the page instead.")
        return Response(data, media_type="application/json", headers={"Cache-Control": "no-store"})

    return [Route(CHANNEL_PATH, post, methods=["POST"])]


def refusal(status: int, reason: str) -> Response:
    """A refusal the component reads: ``{"error": reason}`` with ``status``."""
    body = json.dumps({"error": reason}, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"})
