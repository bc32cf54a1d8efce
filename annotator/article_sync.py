"""What the article component holds and what it gets next: revisions, deltas of spans and links, full states.

The browser keeps the document, its spans and links, and patches its own drawing; the server sends it the
whole state once per document (and whenever the browser asks), then only what changed. One
:class:`ArticleSync` lives in each browser session for the document on screen:

- ``rev`` counts this session's changes of what is drawn; ``epoch`` names the sync, so a delta never reaches a
  drawing of another document, layer, user or server process.
- :meth:`ArticleSync.refresh` reads what changed since the last read: nothing at all when no event was audited
  (every write is), else the spans' ``(version, created_at)`` stamps and the links, and whole rows only for the
  spans whose stamp changed (a deleted id that SQLite reuses comes back with another ``created_at``).
- :meth:`ArticleSync.message` builds the bytes for the component from the revision the browser says it has:
  the changes since then (current values of every span and link touched since, so applying them to any state
  between that revision and now gives the same result), the full state when the browser has none or one too
  old, and the same bytes as before when nothing changed (Streamlit then does not re-invoke the component).

Pure Python, no Streamlit: the page keeps the object in session state; tests drive it directly. The wire is
UTF-8 JSON bytes (Streamlit's own JSON would escape Arabic as ``\\uXXXX``, three times the size, and sniff dicts
for DataFrames, importing pandas). Offsets are Python code points, as everywhere.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict

from annotator.annotations import list_links, list_spans, span_stamps
from annotator.errors import NisbaError
from annotator.models import Document, Link, Span, User
from annotator.render import label_payload
from annotator.store import Store

HISTORY = 256  # revisions a browser may lag behind and still get a delta (older: the full state)
ACKS_KEPT = 32  # outcomes of the latest actions repeated in every message, so none is lost to a replaced message
DONE_KEPT = 512  # action ids remembered as applied (a re-sent action is acknowledged, never applied twice)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def span_wire(span: Span) -> dict:
    """One span as the component draws it: id, offsets, label name, version, attributes."""
    return {"id": span.id, "s": span.start_offset, "e": span.end_offset, "l": span.label, "v": span.version, "a": span.attributes}


def link_wire(link: Link) -> dict:
    """One link as the component draws it: id, from and to span ids, type."""
    return {"id": link.id, "from": link.from_span_id, "to": link.to_span_id, "type": link.type}


def suggestion_wire(sugg) -> dict:
    """One open suggestion as the component draws it: key, offsets, label, suggested links ``[type, key]``."""
    return {"key": sugg.key, "s": sugg.start, "e": sugg.end, "l": sugg.label, "links": [list(k) for k in sugg.links]}


class ArticleSync:
    """The state one browser session's article component is kept in step with (see the module docstring)."""

    def __init__(self, store: Store, user: User, document: Document, *, layer: str = "annotator"):
        self.key = sync_key(store, user, document, layer)
        self.document_id = document.id
        self.project_id = document.project_id
        self.layer = layer
        self.text = document.text
        self.epoch = secrets.token_hex(6)
        self.rev = 0
        self.floor = 0  # the oldest revision a delta can start from (labels changed, or history trimmed)
        self.head: int | None = None  # the audit head at the last read
        self.labels: list[dict] = []
        self.stamps: dict[int, tuple[int, str]] = {}
        self.spans: dict[int, dict] = {}
        self.links: dict[int, dict] = {}
        self.suggestions: dict[str, dict] = {}  # open suggestions by key (see annotator.suggestions)
        self._sugg_wires: dict[str, tuple[object, dict]] = {}  # key -> (the engine's object, its wire form)
        self._spots: dict[tuple[str, int, int], int] = {}  # (label, start, end) of the spans drawn -> how many
        self.suggestion_error = ""  # why there are none, when the engine failed (shown once)
        # (rev, span ids, link ids, suggestion keys) touched by each revision
        self.history: list[tuple[int, frozenset[int], frozenset[int], frozenset[str]]] = []
        self.done: OrderedDict[str, dict] = OrderedDict()  # action id -> its outcome
        self.acks: list[dict] = []
        self._full: tuple[int, bytes] | None = None
        # The revision the browser last named (None: it has nothing of this sync yet). Actions reach one sync from
        # two threads (the page's rerun and the component's direct channel): hold ``lock`` around every use.
        self.client_rev: int | None = None
        self.channel_token: str | None = None  # the page's direct channel (annotator.ui.article_channel), once opened
        self.lock = threading.RLock()

    # ---- reading what changed -------------------------------------------------------------------------

    def refresh(self, store: Store, user: User) -> bool:
        """Bring the state up to date with the database; True when something drawn changed.

        Costs one query when nothing was written anywhere since the last call. Otherwise the audit events
        since then say what changed: span and link events of this document name their ids, so only those
        spans are read; any other event that could change what is drawn (labels, a project setting, an
        import, an adoption into gold, too many events) falls back to comparing every span's stamp. Access
        is checked on every read through the core (a user who lost access gets ``PermissionDenied``)."""
        head = store.head_event_id()
        if head == self.head:
            return False
        events = store.events_after(self.head or 0) if self.head is not None else None
        self.head = head
        plan = _plan(events, self.document_id)
        if plan is None:
            return self._refresh_all(store, user)
        span_ids, touched = plan
        if not touched:
            return False
        return self._apply(store, user, span_ids, everything=False)

    def _refresh_all(self, store: Store, user: User) -> bool:
        labels = label_payload(store.list_labels(self.project_id))
        stamps = span_stamps(store, user, self.document_id, layer=self.layer)
        changed = {i for i, stamp in stamps.items() if self.stamps.get(i) != stamp} | (self.stamps.keys() - stamps.keys())
        labels_changed = labels != self.labels
        self.labels = labels
        return self._apply(store, user, changed, everything=True, labels_changed=labels_changed)

    def _apply(self, store: Store, user: User, span_ids: set[int], *, everything: bool, labels_changed: bool = False) -> bool:
        """Read the spans ``span_ids`` (those not found are gone) and the document's links; record a revision."""
        found = {s.id: s for s in list_spans(store, user, self.document_id, layer=self.layer, ids=span_ids)} if span_ids else {}
        changed: set[int] = set()
        for i in span_ids:
            span = found.get(i)
            if span is None:
                if self._set_span(i, None):
                    changed.add(i)
                self.stamps.pop(i, None)
                continue
            self.stamps[i] = (span.version, span.created_at)
            if self._set_span(i, span_wire(span)):
                changed.add(i)
        links = {k.id: link_wire(k) for k in list_links(store, user, self.document_id, set(self.spans))}
        link_ids = {i for i in links.keys() | self.links.keys() if links.get(i) != self.links.get(i)}
        self.links = links
        sugg_keys = self._refresh_suggestions(store, user) if (changed or everything) else set()
        if not (changed or link_ids or labels_changed or sugg_keys):
            return False
        self._bump(frozenset(changed), frozenset(link_ids), frozenset(sugg_keys))
        if labels_changed:
            self.floor = self.rev  # label names, colours or keys changed: everyone redraws from the full state
        return True

    def _set_span(self, span_id: int, wire: dict | None) -> bool:
        """Put (or, with None, drop) a span's wire form, keeping ``_spots`` in step; True when it changed."""
        old = self.spans.get(span_id)
        if old == wire:
            return False
        if old is not None:
            spot = (old["l"], old["s"], old["e"])
            if self._spots[spot] == 1:
                del self._spots[spot]
            else:
                self._spots[spot] -= 1
            del self.spans[span_id]
        if wire is not None:
            self.spans[span_id] = wire
            spot = (wire["l"], wire["s"], wire["e"])
            self._spots[spot] = self._spots.get(spot, 0) + 1
        return True

    def _refresh_suggestions(self, store: Store, user: User) -> set[str]:
        """Re-list the open suggestions (the engine's output is cached; what the user has is this sync's own
        spans); returns the keys that appeared or went.

        Runs after every change on a long document with ~1,500 suggestions and 5,000 spans: the spans' spots
        are kept as they change (``_spots``, not rebuilt: 8 ms), and a suggestion's wire form is reused while the
        engine's cached object is the same (14 ms to rebuild them all)."""
        from annotator.suggestions import list_suggestions  # the engine loads its lexicon on first use

        try:
            found = list_suggestions(store, user, self.document_id, layer=self.layer, have=self._spots)
            self.suggestion_error = ""
        except NisbaError as exc:  # an engine error never blocks annotation: no suggestions, said once
            found, self.suggestion_error = [], str(exc)
        wires = {}
        for g in found:
            cached = self._sugg_wires.get(g.key)
            wires[g.key] = (g, cached[1] if cached is not None and cached[0] is g else suggestion_wire(g))
        self._sugg_wires = wires
        now = {key: wire for key, (_g, wire) in wires.items()}
        old = self.suggestions
        touched = (now.keys() ^ old.keys()) | {k for k in now.keys() & old.keys() if now[k] is not old[k] and now[k] != old[k]}
        self.suggestions = now
        return touched

    def _bump(self, spans: frozenset[int], links: frozenset[int], suggestions: frozenset[str] = frozenset()) -> None:
        self.rev += 1
        self.history.append((self.rev, spans, links, suggestions))
        if len(self.history) > HISTORY:
            del self.history[: len(self.history) - HISTORY]
            self.floor = max(self.floor, self.history[0][0] - 1)

    # ---- actions --------------------------------------------------------------------------------------

    def was_applied(self, cid: str) -> bool:
        """Whether action ``cid`` was applied already (a resend after a reconnect is answered, not applied twice)."""
        return cid in self.done

    def record(self, cid: str, outcome: dict) -> None:
        """Remember that action ``cid`` was applied with ``outcome`` (``{kind, message, select?}``)."""
        ack = {"cid": cid, **outcome}
        self.done[cid] = ack
        while len(self.done) > DONE_KEPT:
            self.done.popitem(last=False)
        self.acks = [a for a in self.acks if a["cid"] != cid] + [ack]
        del self.acks[: max(0, len(self.acks) - ACKS_KEPT)]

    # ---- messages -------------------------------------------------------------------------------------

    def full_state(self) -> dict:
        """Everything drawn, in the wire form: text, labels, spans (reading order) and links."""
        spans = sorted(self.spans.values(), key=lambda s: (s["s"], -s["e"], s["id"]))
        return {"doc_id": self.document_id, "text": self.text, "labels": self.labels, "spans": spans,
                "links": sorted(self.links.values(), key=lambda k: k["id"]),
                "suggestions": sorted(self.suggestions.values(), key=lambda g: (g["s"], -g["e"], g["key"]))}  # fmt: skip

    def delta(self, base: int) -> dict:
        """The changes from revision ``base`` to now: current values of what was touched, ids that are gone."""
        span_ids: set[int] = set()
        link_ids: set[int] = set()
        keys: set[str] = set()
        for rev, spans, links, suggestions in self.history:
            if rev > base:
                span_ids |= spans
                link_ids |= links
                keys |= suggestions
        return {
            "spans": [self.spans[i] for i in sorted(span_ids) if i in self.spans],
            "gone": sorted(i for i in span_ids if i not in self.spans),
            "links": [self.links[i] for i in sorted(link_ids) if i in self.links],
            "gone_links": sorted(i for i in link_ids if i not in self.links),
            "suggestions": [self.suggestions[k] for k in sorted(keys) if k in self.suggestions],
            "gone_suggestions": sorted(k for k in keys if k not in self.suggestions),
        }

    def named_rev(self, payload: dict) -> int | None:
        """The revision an action message ``{epoch, base, ...}`` says the browser has: None when it names another
        sync (another epoch) or none at all (the browser asks for the full state)."""
        base = payload.get("base")
        return base if payload.get("epoch") == self.epoch and isinstance(base, int) and not isinstance(base, bool) else None

    def can_patch(self, base: int | None) -> bool:
        """Whether a browser at revision ``base`` can be brought up to date by a delta."""
        return base is not None and self.floor <= base <= self.rev

    def message(self, base: int | None, ui: dict) -> bytes:
        """The component's data for a browser at revision ``base`` (None: it has nothing usable).

        Deterministic: the same state, base and ``ui`` give the same bytes."""
        head = {"epoch": self.epoch, "rev": self.rev, "acks": self.acks, "ui": ui}
        if self.suggestion_error:
            head["suggestion_error"] = self.suggestion_error
        if not self.can_patch(base):
            if self._full is None or self._full[0] != self.rev:
                self._full = (self.rev, _dumps(self.full_state()).encode())
            return _dumps(head)[:-1].encode() + b',"full":' + self._full[1] + b"}"
        head["base"] = base
        if base != self.rev:
            head["delta"] = self.delta(base)
        return _dumps(head).encode()


# Events that never change what the component draws, and events whose ids say exactly which span or link changed.
_QUIET = {"review", "comment", "document"}
_EXACT = {"span", "link"}
_QUIET_ACTIONS = {"login", "logout", "failed_login"}


def _plan(events: list[tuple] | None, document_id: int) -> tuple[set[int], bool] | None:
    """From the audit events since the last read: ``(span ids to re-read, anything touched)``, or None when
    only a full comparison can tell (no earlier read, too many events, or an event that may change spans,
    labels or visibility in a way its ids do not say)."""
    if events is None or len(events) >= 1000:
        return None
    span_ids: set[int] = set()
    touched = False
    for _id, action, entity, entity_id, doc in events:
        if action in _QUIET_ACTIONS or entity in _QUIET:
            continue
        if doc is not None and doc != document_id:
            continue  # another document's spans and links
        if doc == document_id and entity in _EXACT and entity_id is not None:
            touched = True
            if entity == "span":
                span_ids.add(entity_id)
            continue
        if doc is None and entity == "user" and action in ("create", "set_password"):
            continue  # a new account or password changes nothing drawn
        return None
    return span_ids, touched


def sync_key(store: Store, user: User, document: Document, layer: str) -> tuple:
    """What a sync is valid for: one database, document text, layer, user and role. Another key: a new sync
    (and a full state), so one user's layer never reaches another's drawing."""
    return (store.path, document.id, document.text_sha256, layer, user.id, user.role)
