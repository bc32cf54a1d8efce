"""The article component's actions carried out through the core: one action (:func:`apply_action`) and a batch
applied once each (:func:`apply_ops`), whichever way they arrived (the component's trigger or its direct channel).

No Streamlit here: the component (annotator.ui.article_component) and the channel (annotator.ui.article_channel)
both call these. Offsets are Python code points.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from annotator.annotations import add_link, add_span, delete_link, delete_span, undo_last, update_span
from annotator.article_sync import ArticleSync
from annotator.errors import InvalidSpan, NisbaError
from annotator.models import Document, User
from annotator.store import Store
from annotator.suggestions import accept_all, accept_suggestion, dismiss_suggestion
from annotator.text import snap

_log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one action did: ``kind`` is ``saved``, ``error`` or ``info``; ``selected`` the span to select
    afterwards (``keep`` leaves the selection alone); ``nav`` a step to another document."""

    kind: str
    message: str
    selected: int | None | str = "keep"
    nav: int = 0


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def apply_action(
    store: Store, user: User, document: Document, action: dict, *, snap_words: bool = True, layer: str = "annotator"
) -> Outcome:
    """Carry out one action sent by the component by calling the core; errors become an ``error`` outcome.

    ``tag`` re-snaps the offsets in Python (grapheme clusters always, whole words when ``snap_words``) before
    :func:`~annotator.annotations.add_span`, so a browser that snapped differently cannot split a letter.
    """
    if not isinstance(action, dict):
        return Outcome("error", "Malformed action; nothing was saved.")
    kind = action.get("type")
    try:
        if action.get("doc_id") not in (None, document.id):
            return Outcome("error", "That action was for another document; nothing was saved.")
        if kind == "tag":
            start, end = int(action["start"]), int(action["end"])
            if 0 <= start < end <= len(document.text):
                start, end = snap(document.text, start, end, words=snap_words)
                if start >= end:
                    raise InvalidSpan("The selection holds no word to tag.")
            span = add_span(store, user, document.id, str(action["label"]), start, end, layer=layer)
            return Outcome("saved", f"Saved {span.label} «{_short(span.text)}»", selected=span.id)
        if kind == "relabel":
            span = update_span(
                store, user, int(action["span_id"]), label=str(action["label"]), expected_version=action.get("version")
            )
            return Outcome("saved", f"Changed to {span.label} «{_short(span.text)}»", selected=span.id)
        if kind == "attr":
            attrs = {str(k): v for k, v in dict(action.get("attributes") or {}).items()}
            span = update_span(store, user, int(action["span_id"]), attributes=attrs, expected_version=action.get("version"))
            return Outcome("saved", f"Saved attributes of {span.label} «{_short(span.text)}»", selected=span.id)
        if kind == "delete":
            delete_span(store, user, int(action["span_id"]), expected_version=action.get("version"))
            return Outcome("saved", "Deleted (Ctrl+Z brings it back)", selected=None)
        if kind == "undo":
            what = undo_last(store, user, document.id)
            return Outcome("saved" if what else "info", f"Undone: {what}" if what else "Nothing left to undo.")
        if kind == "link":
            link_type = str(action.get("link_type", "attributed_to"))
            add_link(store, user, int(action["from_span_id"]), int(action["to_span_id"]), link_type)
            return Outcome("saved", "Linked: " + ("attributed to the source" if link_type == "attributed_to" else "cue"))
        if kind == "unlink":
            delete_link(store, user, int(action["link_id"]))
            return Outcome("saved", "Link removed")
        if kind in ("accept", "dismiss", "accept_all"):
            return _suggestion_action(store, user, document, action, layer)
        if kind == "nav":
            return Outcome("info", "", nav=1 if int(action.get("step", 1)) > 0 else -1)
        return Outcome("error", f"Unknown action {kind!r}; nothing was saved.")
    except NisbaError as exc:
        return Outcome("error", f"Not saved: {exc}")
    except (KeyError, TypeError, ValueError) as exc:
        return Outcome("error", f"Malformed action ({exc!r}); nothing was saved.")


def _suggestion_action(store: Store, user: User, document: Document, action: dict, layer: str) -> Outcome:
    """Accept or dismiss one suggestion, or accept all of a label (see annotator.suggestions)."""
    kind = action["type"]
    if kind == "accept":
        span = accept_suggestion(store, user, document.id, str(action["key"]), layer=layer)
        return Outcome("saved", f"Accepted {span.label} «{_short(span.text)}»", selected=span.id)
    if kind == "dismiss":
        dismiss_suggestion(store, user, document.id, str(action["key"]), layer=layer)
        return Outcome("saved", "Suggestion dismissed (Ctrl+Z brings it back)")
    n = len(accept_all(store, user, document.id, str(action["label"]), layer=layer))
    return Outcome("saved" if n else "info", f"Accepted {n} {action['label']} suggestion{'' if n == 1 else 's'}")


# Actions applied by this server process, by (user id, action id): a browser whose websocket reconnected gets a
# new session (and a new sync) but still holds its unanswered actions; it sends them again, and they must be
# answered, not applied twice. Action ids are unique per mounted component (a random prefix and a counter).
_APPLIED: OrderedDict[tuple[int, str], dict] = OrderedDict()
_APPLIED_LOCK = threading.Lock()
_APPLIED_KEPT = 20_000


def _applied_before(user_id: int, cid: str) -> dict | None:
    with _APPLIED_LOCK:
        return _APPLIED.get((user_id, cid))


def _remember_applied(user_id: int, cid: str, ack: dict) -> None:
    with _APPLIED_LOCK:
        _APPLIED[(user_id, cid)] = ack
        while len(_APPLIED) > _APPLIED_KEPT:
            _APPLIED.popitem(last=False)


def apply_ops(store: Store, user: User, document: Document, sync: ArticleSync, ops, *, layer: str, snap_words: bool) -> int:
    """Apply each action of ``ops`` once and record its outcome in ``sync`` (the caller holds ``sync.lock``);
    returns the last navigation step asked for (0: none). Both ways an action arrives go through here: the
    component's trigger (:func:`_on_action`) and its direct channel (annotator.ui.article_channel)."""
    nav = 0
    for op in ops if isinstance(ops, list) else []:
        cid = str(op.get("cid", "")) if isinstance(op, dict) else ""
        if not cid or sync.was_applied(cid):
            continue
        earlier = _applied_before(user.id, cid)
        if earlier is not None:  # applied in an earlier session of this browser tab (a reconnect): answer again
            sync.record(cid, earlier)
            continue
        try:
            outcome = apply_action(store, user, document, op, snap_words=bool(op.get("snap_words", snap_words)), layer=layer)
        except Exception as exc:  # a bug must not lose the analyst's page: say so in the component, log the rest
            _log.exception("article action %r failed", op.get("type"))
            outcome = Outcome("error", f"Not saved: an internal error ({type(exc).__name__}); please report it.")
        ack = {"kind": outcome.kind, "message": outcome.message}
        if outcome.selected != "keep":
            ack["select"] = outcome.selected
        sync.record(cid, ack)
        _remember_applied(user.id, cid, ack)
        nav = outcome.nav or nav
    return nav
