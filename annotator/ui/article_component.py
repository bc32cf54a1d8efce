"""The article component: a right-to-left Arabic article to highlight with the mouse, and the actions it sends.

A Streamlit components v2 component (HTML here, CSS and JS in ``annotator/ui/article/``, open shadow root, no
build step). The browser keeps the document, its spans and links, and draws them; a text selection never leaves
it. It sends only actions, as one trigger; :func:`apply_action` turns each into calls of the core
(annotator.annotations), so the database decides what is saved, and the changes come back as a delta built by
:class:`~annotator.article_sync.ArticleSync`. Offsets are Python code points everywhere.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from annotator.annotations import add_link, add_span, delete_link, delete_span, undo_last, update_span
from annotator.article_sync import ArticleSync, sync_key
from annotator.errors import InvalidSpan, NisbaError
from annotator.models import Document, User
from annotator.store import Store
from annotator.suggestions import accept_all, accept_suggestion, dismiss_suggestion
from annotator.text import snap

FONT_BASE = "/app/static/fonts/"  # .streamlit/config.toml enables static serving of ./static at /app/static
_ASSETS = Path(__file__).with_name("article")
_log = logging.getLogger(__name__)

HTML = """
<div class="nisba" data-nisba="root">
  <div class="bar" dir="ltr">
    <span class="labels" data-nisba="labels"></span>
    <button type="button" class="tool" data-nisba="undo" title="Undo your last action (Ctrl+Z)">↶ Undo</button>
    <button type="button" class="tool" data-nisba="toggle-suggestions"
      title="Show or hide suggested spans (Tab: next suggestion, Enter: accept, x: dismiss)">Suggestions</button>
    <span class="status" data-nisba="status" role="status" aria-live="polite"></span>
  </div>
  <div class="panel" dir="ltr" data-nisba="panel"></div>
  <div class="article" dir="rtl" lang="ar" data-nisba="article" data-ready="0"></div>
  <details class="spans" dir="ltr" data-nisba="spans">
    <summary data-nisba="spans-summary">Spans</summary>
    <div class="rows" data-nisba="span-rows"></div>
  </details>
</div>
"""


def _declare_component():
    """The component, its JS and CSS served as files when a Streamlit server runs.

    Streamlit copies inline JS and CSS into every message that carries new data (about 30 KB per tag here);
    file-backed assets of a component with an ``asset_dir`` go as a URL and the browser caches the file. An
    installed package declares its ``asset_dir`` in pyproject.toml; Nisba runs from its folder, so it
    registers the same manifest with the running server's component manager itself (checked on every call:
    a process may see more than one runtime, as tests do). Without a server (AppTest, bare imports) the code
    is inline."""
    try:
        from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
        from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
        from streamlit.runtime import Runtime

        if Runtime.exists():
            manager = get_bidi_component_manager()
            if manager.get_component_asset_root("nisba.article") is None:
                manifest = ComponentManifest(name="nisba", version="1", components=[ComponentConfig("article", "article")])
                manager.register_from_manifest(manifest, _ASSETS.parent)
            cached = _declared.get(id(manager))
            if cached is None or cached[0] is not manager:
                component = st.components.v2.component("nisba.article", html=HTML, css="article.css", js="article.js",
                                                       isolate_styles=True)  # fmt: skip
                cached = _declared[id(manager)] = (manager, component)
            return cached[1]
    except Exception:  # an internal API of Streamlit 1.67: if it moves, inline code still works
        _log.warning("article component: file-backed assets unavailable, sending the code inline", exc_info=True)
    if "inline" not in _declared:
        css = (_ASSETS / "article.css").read_text(encoding="utf-8")
        js = (_ASSETS / "article.js").read_text(encoding="utf-8")
        _declared["inline"] = (None, st.components.v2.component("nisba_article", html=HTML, css=css, js=js, isolate_styles=True))
    return _declared["inline"][1]


_declared: dict = {}  # id of a component manager (or "inline") -> (manager, component)
COMPONENT_NAMES = ("nisba.article", "nisba_article")  # file-backed, inline


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


def select_span(key: str, span_id: int | None) -> None:
    """Select a span in the article component ``key`` from Python (e.g. a link from another page); call it in
    a callback or before the component is drawn."""
    _pick(key, {"id": span_id})


def select_range(key: str, start: int, end: int) -> None:
    """Select the text ``[start, end)`` (code points) in the article component ``key``, scrolled into view and
    ready for a hotkey (a search hit)."""
    _pick(key, {"range": [int(start), int(end)]})


def _pick(key: str, what: dict) -> None:
    seq = st.session_state.get(f"{key}_pick", {}).get("seq", 0) + 1
    st.session_state[f"{key}_pick"] = {"seq": seq, **what}


@dataclass
class ArticleView:
    """What :func:`article_view` drew: the component's result and the sync it keeps (spans and links as the
    browser has them, see :class:`~annotator.article_sync.ArticleSync`)."""

    result: object
    sync: ArticleSync


def _sync_for(store: Store, user: User, document: Document, key: str, layer: str) -> ArticleSync:
    """This session's sync for the component ``key``: kept while document, layer, user and role stay the same."""
    sync = st.session_state.get(f"{key}_sync")
    if not isinstance(sync, ArticleSync) or sync.key != sync_key(store, user, document, layer):
        sync = ArticleSync(store, user, document, layer=layer)
        st.session_state[f"{key}_sync"] = sync
        st.session_state[f"{key}_base"] = None  # the browser has nothing of this sync yet
    return sync


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


def _on_action(store: Store, user: User, document: Document, key: str, layer: str, snap_words: bool, on_nav) -> None:
    """The trigger: ``{epoch, base, ops}``. Each op is applied once (ops not yet acknowledged come again with
    every trigger, because Streamlit keeps only the newest trigger of queued reruns)."""
    payload = (st.session_state.get(key) or {}).get("action")
    if not isinstance(payload, dict):
        return
    sync = _sync_for(store, user, document, key, layer)
    base = payload.get("base")
    same = payload.get("epoch") == sync.epoch and isinstance(base, int)
    st.session_state[f"{key}_base"] = base if same else None
    nav = 0
    for op in payload.get("ops") or []:
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
    if nav and on_nav is not None:
        on_nav(nav)


def article_view(
    store: Store,
    user: User,
    document: Document,
    *,
    key: str,
    snap_words: bool = True,
    on_nav: Callable[[int], None] | None = None,
    layer: str = "annotator",
) -> ArticleView:
    """Show the article component for ``document`` and wire its actions to the core.

    The browser keeps the document and draws it; this sends the full state once per document and then only
    changes (:class:`~annotator.article_sync.ArticleSync`, kept in ``{key}_sync``; ``{key}_base`` is the
    revision the browser last said it has). Actions arrive as one trigger and are applied by
    :func:`apply_action`; their outcomes go back as acknowledgements the component shows. ``{key}_pick``
    (set by :func:`select_span` / :func:`select_range`) selects a span or a range from Python.
    ``layer="gold"`` shows and edits the gold layer (reviewers and admins; the core checks).
    """
    sync = _sync_for(store, user, document, key, layer)
    sync.refresh(store, user)
    base = st.session_state.get(f"{key}_base")
    ui = {"snap_words": bool(snap_words), "font_base": FONT_BASE, "select": st.session_state.get(f"{key}_pick")}
    # Until the browser names its revision (with its next action) it gets the full state on every run: the
    # same bytes while nothing changes, which Streamlit sends as a reference to what the browser has cached.
    data = sync.message(base, ui)
    result = _declare_component()(
        key=key,
        data=data,
        on_action_change=lambda: _on_action(store, user, document, key, layer, snap_words, on_nav),
    )
    return ArticleView(result, sync)
