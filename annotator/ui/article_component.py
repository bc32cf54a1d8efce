"""The article component: a right-to-left Arabic article to highlight with the mouse, and the actions it sends.

A Streamlit components v2 component (HTML here, CSS and JS in ``annotator/ui/article/``, open shadow root, no
build step). The browser keeps the document, its spans and links, and draws them; a text selection never leaves
it. It sends only actions: over its direct channel (annotator.ui.article_channel: one HTTP request, no rerun of
the page) or, when that cannot be used, as one trigger. :func:`~annotator.article_actions.apply_ops` turns each
into calls of the core (annotator.annotations), so the database decides what is saved, and the changes come back
as a delta built by :class:`~annotator.article_sync.ArticleSync`. Offsets are Python code points everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from annotator.article_actions import apply_ops
from annotator.article_sync import ArticleSync, sync_key
from annotator.models import Document, User
from annotator.store import Store
from annotator.ui.article_channel import open_channel

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


def serve_component_files():
    """The running server's component manager, with the component's JS and CSS registered as files it serves
    (``/_stcore/bidi-components/nisba.article/…``); None without a server (AppTest, bare imports).

    An installed package declares its ``asset_dir`` in pyproject.toml; Nisba runs from its folder, so it registers
    the same manifest with the running server's component manager itself (checked on every call: a process may
    see more than one runtime, as tests do). The login gate calls this before it names the files in a page's
    preload hints (annotator/ui/page_hints.py): a hint to a file not yet served would fetch a 404, and the
    browser keeps that failure for the page's module import."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
    from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    manager = get_bidi_component_manager()
    if manager.get_component_asset_root("nisba.article") is None:
        manifest = ComponentManifest(name="nisba", version="1", components=[ComponentConfig("article", "article")])
        manager.register_from_manifest(manifest, _ASSETS.parent)
    return manager


def _declare_component():
    """The component, its JS and CSS served as files when a Streamlit server runs.

    Streamlit copies inline JS and CSS into every message that carries new data (about 30 KB per tag here);
    file-backed assets of a component with an ``asset_dir`` go as a URL and the browser caches the file
    (:func:`serve_component_files`). Without a server (AppTest, bare imports) the code is inline."""
    try:
        manager = serve_component_files()
        if manager is not None:
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
    return sync


def _on_action(store: Store, user: User, document: Document, key: str, layer: str, snap_words: bool, on_nav) -> None:
    """The trigger: ``{epoch, base, ops}``. Each op is applied once (ops not yet acknowledged come again with
    every trigger, because Streamlit keeps only the newest trigger of queued reruns)."""
    payload = (st.session_state.get(key) or {}).get("action")
    if not isinstance(payload, dict):
        return
    sync = _sync_for(store, user, document, key, layer)
    with sync.lock:
        sync.client_rev = sync.named_rev(payload)
        nav = apply_ops(store, user, document, sync, payload.get("ops") or [], layer=layer, snap_words=snap_words)
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
    changes (:class:`~annotator.article_sync.ArticleSync`, kept in ``{key}_sync``, knows the revision the
    browser last named). Actions arrive over the component's direct channel
    (:mod:`annotator.ui.article_channel`, no rerun) or, when that is unavailable, as one trigger; both apply them
    with :func:`apply_ops`; their outcomes go back as acknowledgements the component shows. ``{key}_pick``
    (set by :func:`select_span` / :func:`select_range`) selects a span or a range from Python.
    ``layer="gold"`` shows and edits the gold layer (reviewers and admins; the core checks).
    """
    sync = _sync_for(store, user, document, key, layer)
    ui = {"snap_words": bool(snap_words), "font_base": FONT_BASE, "select": st.session_state.get(f"{key}_pick")}
    ui["channel"] = open_channel(store, user, document, sync, layer=layer, snap_words=snap_words, ui=ui)
    with sync.lock:
        sync.refresh(store, user)
        # Until the browser names its revision (with its next action) it gets the full state on every run: the
        # same bytes while nothing changes, which Streamlit sends as a reference to what the browser has cached.
        data = sync.message(sync.client_rev, ui)
    result = _declare_component()(
        key=key,
        data=data,
        on_action_change=lambda: _on_action(store, user, document, key, layer, snap_words, on_nav),
    )
    return ArticleView(result, sync)
