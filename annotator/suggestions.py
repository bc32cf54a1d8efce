"""Suggestions on the annotation screen: list, accept, dismiss and accept all, each checked through
annotator/access.py, audited, and one undoable action (annotations.undo_last); and a project's own cue forms.

Suggestions come from the rule engine (annotator.suggest) run on the document's text alone, and from the predictions
an import brought (annotator.suggest_imported, a model's output): they never derive from a colleague's spans, so
blind annotation holds. What a user already has (same label, start and end in the layer
they annotate) and what they dismissed is left out. An engine failure raises :class:`SuggestionEngineError`,
which the page shows once while annotation goes on without suggestions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from annotator import access
from annotator.annotations import add_link, add_span
from annotator.errors import NisbaError, NotFound
from annotator.models import Document, Label, Span, User
from annotator.store import Store
from annotator.suggest import Cue, LexiconError, Suggestion, engine_version, parse_lexicon, suggest
from annotator.suggest.lexicon import build_lexicon, default_cues, surface_forms
from annotator.text import context, fold, text_sha256

CACHE_SIZE = 32  # documents; one 100,000-character document's suggestions take ~100 ms to compute, ~1 MB to keep


class SuggestionEngineError(NisbaError):
    """The suggestion engine failed on this document: show it once and annotate without suggestions."""


_cache: OrderedDict[tuple[str, str], list[Suggestion]] = OrderedDict()
_cache_lock = threading.Lock()


def project_cues(store: Store, project_id: int) -> tuple[Cue, ...]:
    """The project's own cue forms as lexicon entries (added to the shipped lexicon)."""
    return tuple(Cue(r["form"], r["lemma"], r["kind"]) for r in store.list_suggestion_cues(project_id))


def engine_suggestions(store: Store, doc: Document) -> list[Suggestion]:
    """Every rule suggestion for the document, cached by text hash and lexicon version (no access check:
    callers check). Raises :class:`SuggestionEngineError` when the engine fails."""
    extra = project_cues(store, doc.project_id)
    try:
        key = (doc.text_sha256 or text_sha256(doc.text), engine_version(extra))
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        result = suggest(doc.text, extra)
    except Exception as exc:  # any engine failure: annotation must go on without suggestions
        raise SuggestionEngineError(f"Suggestions are unavailable for this document ({type(exc).__name__}: {exc}).") from exc
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


ENGINES = ("rules", "crf", "import")


def _engine_output(store: Store, doc: Document, engine: str) -> list[Suggestion]:
    """``rules``: the rules' suggestions with the imported predictions (annotator.suggest_imported); ``import``:
    the imported predictions alone; ``crf``: the project's learned model."""
    from annotator.suggest_imported import imported_suggestions, merged

    if engine == "rules":
        return merged(engine_suggestions(store, doc), imported_suggestions(store, doc))
    if engine == "import":
        return imported_suggestions(store, doc)
    if engine != "crf":
        raise SuggestionEngineError(f"Unknown suggestion engine {engine!r} (known: {', '.join(ENGINES)}).")
    from annotator.suggestion_models import ModelNotUsable, crf_suggestions

    try:
        return crf_suggestions(store, doc)
    except ModelNotUsable as exc:
        raise SuggestionEngineError(str(exc)) from None
    except Exception as exc:  # a broken model must not block annotation either
        raise SuggestionEngineError(f"The learned engine failed on this document ({type(exc).__name__}: {exc}).") from exc


@dataclass(frozen=True)
class Prepared:
    """One engine's suggestions for one document under the project's current labels: in reading order, by key,
    and the links pointing at each key (so accepting one finds the spans that link to it without a scan)."""

    items: list[Suggestion]
    by_key: dict[str, Suggestion]
    incoming: dict[str, list[tuple[str, str]]]  # target key -> [(source key, link type)]
    source: list[Suggestion]  # the engine's cached list it was made from (held, so its id is not reused)


# (id of the engine's cached list, label names) -> view; checked by identity, so an evicted list never matches
_prepared_cache: dict[tuple[int, tuple[str, ...]], Prepared] = {}


def _in_scheme(store: Store, doc: Document, engine: str = "rules") -> tuple[Prepared, dict[str, Label]]:
    """The suggestions whose label the project's scheme has (links to dropped ones removed), and the labels.
    The view is cached with the engine's (cached) list: 2,000 suggestions take ~5 ms to filter and index."""
    labels = {lab.name: lab for lab in store.list_labels(doc.project_id)}
    every = _engine_output(store, doc, engine)
    cache_key = (id(every), tuple(sorted(labels)))
    with _cache_lock:
        hit = _prepared_cache.get(cache_key)
    if hit is not None and hit.source is every:
        return hit, labels
    kept = {s.key for s in every if s.label in labels}
    items, incoming = [], {}
    for s in every:
        if s.key in kept:
            links = tuple(k for k in s.links if k[1] in kept)
            items.append(s if links == s.links else Suggestion(**{**s.__dict__, "links": links}))
            for link_type, target in links:
                incoming.setdefault(target, []).append((s.key, link_type))
    prepared = Prepared(items, {s.key: s for s in items}, incoming, every)
    with _cache_lock:
        if len(_prepared_cache) > 2 * CACHE_SIZE:
            _prepared_cache.clear()
        _prepared_cache[cache_key] = prepared
    return prepared, labels


def _layer_spans(store: Store, user: User, document_id: int, layer: str) -> list[Span]:
    if layer == "gold":
        return store.list_spans(document_id, layer="gold")
    return store.list_spans(document_id, annotator_ids=[user.id], layer="annotator")


def _spot(label: str, start: int, end: int) -> tuple[str, int, int]:
    return (label, start, end)


def _open(store: Store, user: User, doc: Document, layer: str, every: list[Suggestion], have=None) -> list[Suggestion]:
    if have is None:
        have = {_spot(s.label, s.start_offset, s.end_offset) for s in _layer_spans(store, user, doc.id, layer)}
    dismissed = store.dismissed_keys(doc.id, user.id, layer)
    return [s for s in every if s.key not in dismissed and _spot(s.label, s.start, s.end) not in have]


def _open_one(store: Store, user: User, doc: Document, layer: str, prepared: Prepared, key: str) -> Suggestion:
    """The suggestion ``key`` if it is open for the user (suggested, not dismissed, not already a span), else
    NotFound."""
    sugg = prepared.by_key.get(key)
    if sugg is not None and key not in store.dismissed_keys(doc.id, user.id, layer):
        have = {_spot(s.label, s.start_offset, s.end_offset) for s in _layer_spans(store, user, doc.id, layer)}
        if _spot(sugg.label, sugg.start, sugg.end) not in have:
            return sugg
    raise NotFound(f"No open suggestion {key!r} here: it was accepted, dismissed or is no longer suggested.")


def list_suggestions(
    store: Store, actor: User, document_id: int, *, layer: str = "annotator", engine: str = "rules", have=None
) -> list[Suggestion]:
    """The open suggestions for the actor's own layer (``"gold"`` for reviewers and admins) of the document, in
    reading order: the rules' suggestions minus the spans the actor already has there and minus what they
    dismissed. ``engine`` is "rules" or "crf" (the project's learned model, when it has a usable one).
    ``have`` is a fast path for a caller that already holds the actor's spans of that layer (the annotation
    screen's sync): a set of ``(label, start, end)``, so 5,000 spans are not read again for every tag.
    Raises PermissionDenied / NotFound, or :class:`SuggestionEngineError` when the engine fails or is unusable."""
    user, doc = access.require_document(store, actor, document_id)
    access.require_layer_write(user, layer)
    prepared, _labels = _in_scheme(store, doc, engine)
    return _open(store, user, doc, layer, prepared.items, have)


def _allowed_attributes(label: Label, attributes: dict) -> dict:
    return {k: v for k, v in attributes.items() if v in label.attributes.get(k, ())}


def _accept_one(store: Store, user: User, doc: Document, sugg: Suggestion, prepared: Prepared, labels, layer: str) -> Span:
    """Make the span and the suggested links whose other end the user's layer already has (both directions)."""
    origin = {"engine": sugg.engine, "engine_version": sugg.engine_version, "suggestion": sugg.key}
    attrs = _allowed_attributes(labels[sugg.label], sugg.attributes)
    span = add_span(store, user, doc.id, sugg.label, sugg.start, sugg.end, sugg.text, attrs, layer=layer, origin=origin)
    index = {_spot(s.label, s.start_offset, s.end_offset): s.id for s in _layer_spans(store, user, doc.id, layer)}
    by_key = prepared.by_key
    for link_type, target in sugg.links:
        t = by_key[target]
        if (tid := index.get(_spot(t.label, t.start, t.end))) is not None:
            add_link(store, user, span.id, tid, link_type)
    for source_key, link_type in prepared.incoming.get(sugg.key, ()):
        other = by_key[source_key]
        if (fid := index.get(_spot(other.label, other.start, other.end))) is not None:
            add_link(store, user, fid, span.id, link_type)
    return span


def _record_group(store: Store, user: User, document_id: int, action: str, since: int, after: dict) -> None:
    """One audit event naming the span and link events made since event ``since``: undo reverses them together."""
    made = store.user_event_ids_since(user.id, document_id, since)
    store.record_event(user.id, action, "suggestion", None, document_id=document_id, after={**after, "events": made})


def accept_suggestion(
    store: Store, actor: User, document_id: int, key: str, *, layer: str = "annotator", engine: str = "rules"
) -> Span:
    """Accept the open suggestion ``key``: it becomes the actor's span (``origin`` names the engine, its version
    and the key) with its suggested links where both ends exist. One transaction, one undoable action.
    Raises NotFound when the key is not open (accepted, dismissed or no longer suggested)."""
    with store.write():
        user, doc = access.require_document(store, actor, document_id)
        access.require_layer_write(user, layer)
        prepared, labels = _in_scheme(store, doc, engine)
        sugg = _open_one(store, user, doc, layer, prepared, key)
        since = store.head_event_id()
        span = _accept_one(store, user, doc, sugg, prepared, labels, layer)
        _record_group(store, user, doc.id, "accept", since, {"key": key, "layer": layer, "span_id": span.id})
    return span


def accept_all(
    store: Store, actor: User, document_id: int, label: str, *, layer: str = "annotator", engine: str = "rules"
) -> list[Span]:
    """Accept every open suggestion of ``label`` in the document (reading order), with their links; one
    transaction and one undoable action. Returns the new spans (empty when none was open)."""
    with store.write():
        user, doc = access.require_document(store, actor, document_id)
        access.require_layer_write(user, layer)
        prepared, labels = _in_scheme(store, doc, engine)
        todo = [s for s in _open(store, user, doc, layer, prepared.items) if s.label == label]
        if not todo:
            return []
        since = store.head_event_id()
        spans = [_accept_one(store, user, doc, s, prepared, labels, layer) for s in todo]
        _record_group(store, user, doc.id, "accept_all", since, {"label": label, "layer": layer, "keys": [s.key for s in todo]})
    return spans


def dismiss_suggestion(
    store: Store, actor: User, document_id: int, key: str, *, layer: str = "annotator", engine: str = "rules"
) -> None:
    """Dismiss the open suggestion ``key`` for the actor on this document and layer: it is not suggested to them
    again (remembered in the database). One undoable action. NotFound when the key is not open."""
    with store.write():
        user, doc = access.require_document(store, actor, document_id)
        access.require_layer_write(user, layer)
        prepared, _labels = _in_scheme(store, doc, engine)
        sugg = _open_one(store, user, doc, layer, prepared, key)
        store.insert_dismissal(doc.id, user.id, layer, key, sugg.engine, sugg.engine_version)
        after = {"key": key, "layer": layer, "engine": sugg.engine, "engine_version": sugg.engine_version}
        store.record_event(user.id, "dismiss", "suggestion", None, document_id=doc.id, after=after)


# ---- a project's own cue forms (admins) ----------------------------------------------------------------------


def list_project_cues(store: Store, actor: User, project_id: int) -> list[dict]:
    """The project's added cue forms (id, form, lemma, kind, created_at), for members of the project."""
    access.require_project(store, actor, project_id)
    return store.list_suggestion_cues(project_id)


def add_project_cues(store: Store, actor: User, project_id: int, tsv: str) -> list[Cue]:
    """Add cue forms from TSV lines (form, lemma, kind; see annotator/suggest/cues.tsv) to the project, all or
    nothing. A malformed line, or a form the lexicon already has, raises LexiconError naming its line number.
    Returns the added entries."""
    with store.write():
        user = access.require_admin(store, actor)
        store.get_project(project_id)
        cues = parse_lexicon(tsv)
        if not cues:
            raise LexiconError("No cue form given (one line: form, lemma and kind, separated by tabs).")
        known = build_lexicon(default_cues() + project_cues(store, project_id)).forms
        lines = [n for n, line in enumerate(tsv.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
        for number, cue in zip(lines, cues, strict=True):
            if fold(cue.form).text in known:
                raise LexiconError(f"Lexicon line {number}: {cue.form!r} is already a cue form.")
        for cue in cues:
            store.insert_suggestion_cue(project_id, cue.form, cue.lemma, cue.kind, user.id)
        after = {"cues": [[c.form, c.lemma, c.kind] for c in cues]}
        store.record_event(user.id, "create", "suggestion_cue", project_id, after=after)
    return cues


def delete_project_cue(store: Store, actor: User, project_id: int, cue_id: int) -> None:
    """Remove one of the project's added cue forms (admins)."""
    with store.write():
        user = access.require_admin(store, actor)
        row = store.delete_suggestion_cue(project_id, cue_id)
        store.record_event(user.id, "delete", "suggestion_cue", project_id, before={k: row[k] for k in ("form", "lemma", "kind")})


def cue_firings(store: Store, actor: User, project_id: int, form: str, *, limit: int = 200) -> list[dict]:
    """Where a cue form fires in the project's documents (admins): the CUE suggestions whose words are one of
    the form's surface forms, as rows (document_id, title, start, end, text, before, after), at most ``limit``."""
    access.require_admin(store, actor)
    entries = [c for c in default_cues() + project_cues(store, project_id) if c.form == form]
    if not entries:
        raise NotFound(f"{form!r} is not a cue form of this project.")
    forms = {f for c in entries for f, _clitic in surface_forms(c)}
    rows: list[dict] = []
    for doc in store.list_documents(project_id):
        for s in engine_suggestions(store, doc):
            if s.label == "CUE" and " ".join(fold(s.text).text.split()) in forms:
                before, after = context(doc.text, s.start, s.end)
                rows.append(
                    dict(document_id=doc.id, title=doc.title, start=s.start, end=s.end, text=s.text, before=before, after=after)
                )
                if len(rows) >= limit:
                    return rows
    return rows


def suggestion_counts(store: Store, actor: User, project_id: int) -> list[dict]:
    """Per engine and label: suggestions accepted (span unchanged), changed after accepting, and dismissed, over
    the project (reviewers and admins)."""
    access.require_role(store, actor, "reviewer", "admin")
    access.require_project(store, actor, project_id)
    table: dict[tuple[str, str], dict] = {}
    for engine, label, outcome, count in store.suggestion_counts(project_id):
        row = table.setdefault((engine, label), dict(engine=engine, label=label, accepted=0, changed=0, dismissed=0))
        row[outcome] += count
    return [table[k] for k in sorted(table)]
