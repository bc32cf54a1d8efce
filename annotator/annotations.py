"""Spans and links: create, change, delete and undo, each checked, audited and saved in one transaction."""

from __future__ import annotations

from dataclasses import asdict

from annotator import access
from annotator.errors import Conflict, InvalidLabel, InvalidLink, InvalidSpan, NotFound
from annotator.labels import LINK_TYPES
from annotator.models import Label, Link, Span, User
from annotator.store import Store
from annotator.text import boundaries


def check_offsets(text: str, start, end, snapshot: str | None = None) -> None:
    """Refuse offsets outside the text, empty or reversed spans, spans that split a letter from its marks,
    and snapshots that differ from ``text[start:end]``."""
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        raise InvalidSpan(f"Offsets must be whole numbers, got {start!r} and {end!r}.")
    if start < 0 or end > len(text):
        raise InvalidSpan(f"Span [{start}, {end}) is outside the text (0 to {len(text)}).")
    if start == end:
        raise InvalidSpan(f"Span [{start}, {end}) is empty.")
    if start > end:
        raise InvalidSpan(f"Span [{start}, {end}) is reversed: the start comes after the end.")
    if snapshot is not None and text[start:end] != snapshot:
        raise InvalidSpan(
            f"Span text {snapshot!r} does not equal the document's characters {text[start:end]!r} at [{start}, {end})."
        )
    b = boundaries(text)  # cached: a long document is scanned once, not on every save
    if b.snap_grapheme(start, end) != (start, end):
        raise InvalidSpan(f"Span [{start}, {end}) splits a letter from its marks; select whole letters.")


def _resolve_label(store: Store, project_id: int, label: int | str) -> Label:
    labels = store.list_labels(project_id)
    for lab in labels:
        if lab.id == label or lab.name == label:
            return lab
    raise InvalidLabel(f"Label {label!r} does not belong to this document's project.")


def check_attributes(label: Label, attributes: dict | None) -> dict:
    """Attributes must be allowed by the label and take one of the allowed values (empty means unset)."""
    clean = {}
    for key, value in (attributes or {}).items():
        if key not in label.attributes:
            raise InvalidSpan(f"{label.name} has no attribute {key!r} (allowed: {', '.join(label.attributes) or 'none'}).")
        if value in (None, ""):
            continue
        if value not in label.attributes[key]:
            raise InvalidSpan(f"{value!r} is not an allowed {key} for {label.name} ({', '.join(label.attributes[key])}).")
        clean[key] = value
    return clean


def _span_dict(span: Span) -> dict:
    return asdict(span)


def add_span(
    store: Store,
    actor: User,
    document_id: int,
    label: int | str,
    start: int,
    end: int,
    text: str | None = None,
    attributes: dict | None = None,
    *,
    layer: str = "annotator",
    origin: dict | None = None,
) -> Span:
    """Save a new span of ``actor`` over ``[start, end)`` of the document and return it.

    ``label`` is a label id or name of the document's project; ``text``, when given, must equal the slice.
    Raises InvalidSpan, InvalidLabel, PermissionDenied or NotFound; nothing is written then.
    """
    with store.write():
        user, doc = access.require_document(store, actor, document_id)
        access.require_layer_write(user, layer)
        lab = _resolve_label(store, doc.project_id, label)
        check_offsets(doc.text, start, end, text)
        attrs = check_attributes(lab, attributes)
        span_id = store.insert_span(document_id, lab.id, user.id, start, end, doc.text[start:end], attrs, layer, origin)
        span = store.get_span(span_id)
        store.record_event(user.id, "create", "span", span_id, document_id=document_id, after=_span_dict(span))
        if store.get_status(document_id, user.id) == "":
            store.set_status(document_id, user.id, "in_progress")
    return span


def _writable_span(store: Store, actor: User, span_id: int) -> tuple[User, Span]:
    span = store.get_span(span_id)
    user, _doc = access.require_document(store, actor, span.document_id)
    access.require_span_write(store, user, span)
    return user, span


def update_span(
    store: Store,
    actor: User,
    span_id: int,
    *,
    expected_version: int | None = None,
    label: int | str | None = None,
    attributes: dict | None = None,
    start: int | None = None,
    end: int | None = None,
) -> Span:
    """Change a span's label, attributes or boundaries. With ``expected_version``, a span that a colleague
    changed first raises :class:`Conflict` and nothing is written."""
    with store.write():
        user, span = _writable_span(store, actor, span_id)
        if expected_version is not None and span.version != expected_version:
            raise Conflict(f"A colleague changed this span first (now version {span.version}); reload to see it.")
        doc = store.get_document(span.document_id)
        lab = _resolve_label(store, doc.project_id, label if label is not None else span.label_id)
        fields: dict = {}
        if lab.id != span.label_id:
            fields["label_id"] = lab.id
        new_attrs = span.attributes if attributes is None else attributes
        # keep only attributes the (possibly new) label allows
        new_attrs = {k: v for k, v in new_attrs.items() if k in lab.attributes}
        new_attrs = check_attributes(lab, new_attrs)
        if new_attrs != span.attributes:
            fields["attributes"] = new_attrs
        s = span.start_offset if start is None else start
        e = span.end_offset if end is None else end
        if (s, e) != (span.start_offset, span.end_offset):
            check_offsets(doc.text, s, e)
            fields.update(start_offset=s, end_offset=e, text=doc.text[s:e])
        if not fields:
            return span
        if not store.update_span(span_id, span.version, **fields):
            raise Conflict("A colleague changed this span first; reload to see it.")
        after = store.get_span(span_id)
        store.record_event(
            user.id, "update", "span", span_id, document_id=span.document_id, before=_span_dict(span), after=_span_dict(after)
        )
    return after


def delete_span(store: Store, actor: User, span_id: int, *, expected_version: int | None = None) -> None:
    """Delete a span and its links (recorded, so undo can bring both back)."""
    with store.write():
        user, span = _writable_span(store, actor, span_id)
        if expected_version is not None and span.version != expected_version:
            raise Conflict(f"A colleague changed this span first (now version {span.version}); reload to see it.")
        row = store.span_row(span_id)
        links = [asdict(k) for k in store.links_of_span(span_id)]
        store.delete_span(span_id)
        store.record_event(user.id, "delete", "span", span_id, document_id=span.document_id, before={"span": row, "links": links})


def add_link(store: Store, actor: User, from_span_id: int, to_span_id: int, type_: str = "attributed_to") -> Link:
    """Link two spans of one document (``attributed_to``: content → source; ``cue``: content → cue)."""
    with store.write():
        if type_ not in LINK_TYPES:
            raise InvalidLink(f"Unknown link type {type_!r} (known: {', '.join(LINK_TYPES)}).")
        if from_span_id == to_span_id:
            raise InvalidLink("A span cannot be linked to itself.")
        src = store.get_span(from_span_id)
        dst = store.get_span(to_span_id)
        if src.document_id != dst.document_id:
            raise InvalidLink("Both spans of a link must be in the same document.")
        user, _doc = access.require_document(store, actor, src.document_id)
        access.require_span_write(store, user, src)
        access.require_span_write(store, user, dst)  # a link joins two spans of one layer the actor may change
        if src.layer != dst.layer:
            raise InvalidLink("Both spans of a link must be in the same layer.")
        from_kinds, to_kinds = LINK_TYPES[type_]
        src_kind = store.get_label(src.label_id).kind
        dst_kind = store.get_label(dst.label_id).kind
        if src_kind not in from_kinds or dst_kind not in to_kinds:
            raise InvalidLink(
                f"{type_} links a CLAIM or QUOTE to a {'SOURCE' if type_ == 'attributed_to' else 'CUE'}; got {src.label} → {dst.label}."
            )
        existing = store.find_link(from_span_id, to_span_id, type_)
        if existing:
            return existing
        link_id = store.insert_link(from_span_id, to_span_id, type_, user.id)
        link = store.get_link(link_id)
        store.record_event(user.id, "create", "link", link_id, document_id=src.document_id, after=asdict(link))
    return link


def delete_link(store: Store, actor: User, link_id: int) -> None:
    """Delete a link (its ``from`` span's owner, a reviewer on gold, or an admin)."""
    with store.write():
        link = store.get_link(link_id)
        src = store.get_span(link.from_span_id)
        user, _doc = access.require_document(store, actor, src.document_id)
        access.require_span_write(store, user, src)
        store.delete_link(link_id)
        store.record_event(user.id, "delete", "link", link_id, document_id=src.document_id, before=asdict(link))


def _visible_scope(store: Store, actor: User, document_id: int, annotator_id: int | None, layer: str) -> dict:
    """The one rule for which spans of a document the actor may read, as store filters: their own layer by
    default; another annotator's only when the project lets them see others; gold for everyone who may open it."""
    user, doc = access.require_document(store, actor, document_id)
    if layer == "gold":
        return {"layer": "gold"}
    who = user.id if annotator_id is None else annotator_id
    if who != user.id and not access.can_see_others(store, user, doc.project_id):
        raise access.PermissionDenied("Annotation is blind in this project: you see only your own spans.")
    return {"annotator_ids": [who], "layer": layer}


def list_spans(
    store: Store, actor: User, document_id: int, *, annotator_id: int | None = None, layer: str = "annotator", ids=None
) -> list[Span]:
    """The spans the actor may see: their own layer by default; another annotator's or gold when allowed.
    ``ids`` keeps only those span ids (the annotation screen reads just what changed)."""
    scope = _visible_scope(store, actor, document_id, annotator_id, layer)
    return store.list_spans(document_id, ids=ids, **scope)


def span_stamps(
    store: Store, actor: User, document_id: int, *, annotator_id: int | None = None, layer: str = "annotator"
) -> dict[int, tuple[int, str]]:
    """``{span id: (version, created_at)}`` of the spans :func:`list_spans` would return, without reading
    them: a change of any span bumps its version, and a deleted id that SQLite hands out again comes back
    with another ``created_at``, so comparing stamps finds every change."""
    scope = _visible_scope(store, actor, document_id, annotator_id, layer)
    return store.span_stamps(document_id, **scope)


def list_links(store: Store, actor: User, document_id: int, span_ids: set[int]) -> list[Link]:
    """Links of the document whose both ends are among ``span_ids`` and visible to the actor (their own layer
    and gold, or every layer when they may see others'), so a blind annotator cannot map others' links."""
    user, doc = access.require_document(store, actor, document_id)
    links = [k for k in store.list_links(document_id) if k.from_span_id in span_ids and k.to_span_id in span_ids]
    if not access.can_see_others(store, user, doc.project_id):
        # look up only the linked spans, not every span of the document (thousands on a long article)
        ends = {i for k in links for i in (k.from_span_id, k.to_span_id)}
        own = {i for i in ends if (sp := store.get_span(i)).annotator_id == user.id or sp.layer == "gold"}
        links = [k for k in links if k.from_span_id in own and k.to_span_id in own]
    return links


# Suggestion actions (annotator/suggestions.py), each one Ctrl+Z: accepting one or all of a label (the span and link
# events they made are listed in the event), and dismissing one.
SUGGESTION_ACTIONS = {("accept", "suggestion"), ("accept_all", "suggestion"), ("dismiss", "suggestion")}


def undo_last(store: Store, actor: User, document_id: int) -> str | None:
    """Undo this user's last span or link action on the document; returns what was undone, or None.

    Built on the audit log: each undo is itself an event (``undo``) naming the event it reverses, and
    undone events are skipped, so repeated Ctrl+Z walks back through the user's history.
    """
    with store.write():
        user, _doc = access.require_document(store, actor, document_id)
        target = _last_undoable(store, user.id, document_id)
        if target is None:
            return None
        action, entity, eid = target["action"], target["entity"], target["entity_id"]
        if entity == "suggestion":
            return _undo_suggestion_action(store, user, target)
        batch = (target.get("after") or {}).get("origin", {}).get("tag_all") if (action, entity) == ("create", "span") else None
        if batch:  # one Tag all made this span: undo every span it made, in every document
            return _undo_batch(store, user, batch)
        try:
            before, what = _REVERSE[(action, entity)](store, user, target)
        except NotFound:
            # already gone (e.g. a colleague or a later action removed it): mark as undone and move on
            before, what = None, "nothing left to undo for that action"
        store.record_event(user.id, "undo", entity, eid, document_id=document_id, before=before, after={"undid": target["id"]})
    return what


def _last_undoable(store: Store, user_id: int, document_id: int) -> dict | None:
    """The user's latest event on the document that Ctrl+Z can reverse and no ``undo`` has reversed yet."""
    undone: set[int] = set()
    for ev in store.last_user_events(user_id, document_id):
        if ev["action"] == "undo":
            undone.add(ev["after"]["undid"])
            continue
        if ev["id"] not in undone and (ev["action"], ev["entity"]) in UNDOABLE | SUGGESTION_ACTIONS:
            return ev
    return None


# Each reverses one audited action inside the caller's transaction and returns (the undo event's ``before``,
# what was done in words); NotFound when what it would touch is gone.


def _undo_span_creation(store: Store, user: User, target: dict) -> tuple[dict, str]:
    return _remove_created_span(store, user, target["entity_id"])


def _undo_span_deletion(store: Store, _user: User, target: dict) -> tuple[None, str]:
    row = target["before"]["span"]
    store.restore_span(row)
    for k in target["before"]["links"]:
        # a link whose other end is gone since cannot come back; any other failure is a real error
        if store.span_exists(k["from_span_id"]) and store.span_exists(k["to_span_id"]):
            store.insert_link(k["from_span_id"], k["to_span_id"], k["type"], k["annotator_id"], link_id=k["id"])
    return None, f"deleted span «{row['text']}» restored"


def _undo_span_update(store: Store, _user: User, target: dict) -> tuple[dict, str]:
    old = target["before"]
    span = store.get_span(target["entity_id"])
    before = asdict(span)
    store.update_span(
        span.id, span.version, label_id=old["label_id"], attributes=old["attributes"],
        start_offset=old["start_offset"], end_offset=old["end_offset"], text=old["text"],
    )  # fmt: skip
    return before, f"change to «{span.text}» reverted"


def _undo_link_creation(store: Store, _user: User, target: dict) -> tuple[dict, str]:
    before = asdict(store.get_link(target["entity_id"]))
    store.delete_link(target["entity_id"])
    return before, "link removed"


def _undo_link_deletion(store: Store, _user: User, target: dict) -> tuple[None, str]:
    k = target["before"]
    store.insert_link(k["from_span_id"], k["to_span_id"], k["type"], k["annotator_id"], link_id=k["id"])
    return None, "link restored"


_REVERSE = {
    ("create", "span"): _undo_span_creation,
    ("delete", "span"): _undo_span_deletion,
    ("update", "span"): _undo_span_update,
    ("create", "link"): _undo_link_creation,
    ("delete", "link"): _undo_link_deletion,
}
UNDOABLE = frozenset(_REVERSE)


def _remove_created_span(store: Store, user: User, span_id: int) -> tuple[dict, str]:
    """Delete a span the user created (undo of its creation); returns the audit ``before`` and what was done."""
    span = store.get_span(span_id)
    access.require_document(store, user, span.document_id)  # still a member: an undo is a write like any other
    access.require_span_write(store, user, span)
    before = {"span": store.span_row(span_id), "links": [asdict(k) for k in store.links_of_span(span_id)]}
    store.delete_span(span_id)
    return before, f"created {span.label} «{span.text}» removed"


def _undo_batch(store: Store, user: User, batch: str) -> str:
    """Remove every span still standing from one Tag all (inside the caller's transaction); each removal is
    an ``undo`` event in its own document, so Ctrl+Z there walks on past it."""
    removed = 0
    for ev in store.open_batch_events(user.id, batch):
        try:
            before, _ = _remove_created_span(store, user, ev["entity_id"])
            removed += 1
        except NotFound:  # deleted since: nothing to remove, but the creation counts as undone
            before = None
        store.record_event(
            user.id, "undo", "span", ev["entity_id"], document_id=ev["document_id"], before=before, after={"undid": ev["id"]}
        )
    return f"Tag all undone: {removed} span{'' if removed == 1 else 's'} removed"


def undo_tag_all(store: Store, actor: User, batch: str) -> str:
    """Undo one Tag all (``batch`` as returned by :func:`annotator.bulk_tagging.tag_all`) in one transaction."""
    with store.write():
        user = access.current(store, actor)
        return _undo_batch(store, user, batch)


def _undo_suggestion_action(store: Store, user: User, target: dict) -> str:
    """Undo one suggestion action (inside the caller's transaction): a dismissal is forgotten; an accept removes
    the links and spans it made, newest first. Every event it names gets its own ``undo`` event, so the next
    Ctrl+Z walks on past them."""
    after, document_id = target["after"], target["document_id"]
    if target["action"] == "dismiss":
        store.delete_dismissal(document_id, user.id, after["layer"], after["key"])
        what = f"dismissed suggestion {after['key']} back"
    else:
        removed = 0
        for ev in sorted(store.get_events(after.get("events", [])), key=lambda e: -e["id"]):
            before = None
            try:
                if (ev["action"], ev["entity"]) == ("create", "span"):
                    before, _ = _remove_created_span(store, user, ev["entity_id"])
                    removed += 1
                elif (ev["action"], ev["entity"]) == ("create", "link"):
                    before = asdict(store.get_link(ev["entity_id"]))
                    store.delete_link(ev["entity_id"])
            except NotFound:  # removed since (or with its span): nothing left, but it counts as undone
                before = None
            store.record_event(
                user.id, "undo", ev["entity"], ev["entity_id"], document_id=document_id, before=before, after={"undid": ev["id"]}
            )
        what = f"accepted suggestion{'s' if removed != 1 else ''} removed ({removed} span{'' if removed == 1 else 's'})"
    store.record_event(user.id, "undo", "suggestion", None, document_id=document_id, after={"undid": target["id"]})
    return what
