"""Label Studio predictions as suggestions (issue 8): the spans an import read from a task's ``predictions`` are kept
as their model's layer (so an export gives them back as predictions, losslessly), and the annotation screen offers
them to everyone as suggestions of engine ``import:<model_version>``, with their relations as suggested links.

They are a model's output, not a colleague's work, so offering them in a blind project reveals nobody's spans.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from annotator.formats.readers import PREDICTION_SOURCE
from annotator.models import Document
from annotator.store import Store
from annotator.suggest import Suggestion

IMPORT_ENGINE = "import"
CACHE_SIZE = 32

_cache: OrderedDict[tuple, list[Suggestion]] = OrderedDict()
_lock = threading.Lock()


def _prediction_authors(store: Store) -> list[int]:
    # predictions arrive through an import, whose accounts carry origin "import:<tool>" (annotator.auth)
    return [u.id for u in store.list_users() if u.origin.startswith("import:")]


def imported_suggestions(store: Store, doc: Document) -> list[Suggestion]:
    """The document's imported predictions as suggestions, in reading order (no access check: callers check).
    Cached by the stamps of the imported accounts' spans, so an unchanged import costs one indexed read."""
    authors = _prediction_authors(store)
    if not authors:
        return []
    stamps = store.span_stamps(doc.id, annotator_ids=authors)
    key = (store.path, doc.id, frozenset(stamps.items()))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    out = _build(store, doc, authors)
    with _lock:
        _cache[key] = out
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return out


def _build(store: Store, doc: Document, authors: list[int]) -> list[Suggestion]:
    spans = [s for s in store.list_spans(doc.id, annotator_ids=authors) if s.origin.get("source") == PREDICTION_SOURCE]
    keys = {s.id: f"{s.label}:{s.start_offset}:{s.end_offset}" for s in spans}
    links: dict[int, list[tuple[str, str]]] = {}
    for link in store.list_links(doc.id):
        if link.from_span_id in keys and link.to_span_id in keys:
            links.setdefault(link.from_span_id, []).append((link.type, keys[link.to_span_id]))
    out: dict[str, Suggestion] = {}
    for s in spans:  # two models suggesting the same span: the first keeps it
        version = str(s.origin.get("model_version") or "unknown")
        out.setdefault(
            keys[s.id],
            Suggestion(
                keys[s.id], s.label, s.start_offset, s.end_offset, s.text, f"{IMPORT_ENGINE}:{version}", version,
                tuple(links.get(s.id, ())), dict(s.attributes),
            ),
        )  # fmt: skip
    return sorted(out.values(), key=lambda x: (x.start, x.end, x.label))


def merged(rules: list[Suggestion], imported: list[Suggestion]) -> list[Suggestion]:
    """The rules' and the imported suggestions in reading order; where both suggest a span, the import's (a model
    the team chose to load). Cached by the two lists' identities, so the views built on it stay cached too."""
    if not imported:
        return rules
    key = (id(rules), id(imported))
    with _lock:
        hit = _merged.get(key)
        if hit is not None and hit[0] is rules and hit[1] is imported:
            return hit[2]
    taken = {s.key for s in imported}
    out = sorted(imported + [s for s in rules if s.key not in taken], key=lambda x: (x.start, x.end, x.label))
    with _lock:
        if len(_merged) > 2 * CACHE_SIZE:
            _merged.clear()
        _merged[key] = (rules, imported, out)
    return out


_merged: dict[tuple[int, int], tuple[list, list, list[Suggestion]]] = {}
