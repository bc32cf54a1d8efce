"""Review of annotators' layers: aligning their spans, decisions, comments, adoption into gold, progress.

A reviewer compares the annotators' layers of one document (:func:`load_review`), accepts or rejects each
span and link (:func:`decide`, versioned so two reviewers never overwrite each other), discusses them in
short threads (:func:`add_comment`), and builds the gold layer (:func:`adopt_into_gold`,
:func:`adopt_agreed`). Every write is checked in the core and audited in the same transaction.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import pandas as pd

from annotator import access
from annotator.errors import Conflict, InvalidReview, PermissionDenied
from annotator.models import Comment, Document, Label, Link, Review, Span, User
from annotator.store import Store

DECISIONS = ("accepted", "rejected")
ENTITIES = ("span", "link")
REVIEWER_ROLES = ("reviewer", "admin")
MAX_COMMENT = 2000

# Kinds of disagreement, in the order the review table names them.
ONLY_SOME = "only_some"  # a span (or link) that not every annotator made, and nobody made differently
LABEL = "label"  # same text, different label
BOUNDARIES = "boundaries"  # same label, overlapping, different start or end
ATTRIBUTES = "attributes"  # same span, different attributes
LINK_TARGET = "link_target"  # same span (or same content and link type), different link target
ISSUE_NAMES = {
    ONLY_SOME: "made by only some annotators",
    LABEL: "same text, different label",
    BOUNDARIES: "overlapping, different boundaries",
    ATTRIBUTES: "different attributes",
    LINK_TARGET: "different link target",
}

SpanKey = tuple[int, int, str]  # (start, end, label name)
LinkKey = tuple[str, SpanKey, SpanKey]  # (type, from span key, to span key)


def span_key(span: Span) -> SpanKey:
    """What makes two annotators' spans the same: (start, end, label name)."""
    return (span.start_offset, span.end_offset, span.label)


@dataclass(frozen=True)
class AlignedSpan:
    """Spans of several annotators with the same offsets and label, and what is disputed about them.

    ``spans`` maps annotator id → that annotator's span; ``issues`` is empty when every annotator made it
    identically; ``others`` are the competing spans of the annotators who did not make it (the same text
    with another label, or the same label with other boundaries).
    """

    key: SpanKey
    text: str
    spans: dict[int, Span]
    issues: tuple[str, ...] = ()
    others: tuple[Span, ...] = ()

    @property
    def start(self) -> int:
        return self.key[0]

    @property
    def end(self) -> int:
        return self.key[1]

    @property
    def label(self) -> str:
        return self.key[2]

    @property
    def agreed(self) -> bool:
        return not self.issues


@dataclass(frozen=True)
class AlignedLink:
    """Links of several annotators between the same spans (by offsets and label), and what is disputed."""

    key: LinkKey
    links: dict[int, Link]
    issues: tuple[str, ...] = ()

    @property
    def agreed(self) -> bool:
        return not self.issues


@dataclass
class ReviewView:
    """Everything the review screen shows for one document."""

    document: Document
    annotator_ids: list[int]
    spans: list[Span]
    links: list[Link]
    rows: list[AlignedSpan]
    link_rows: list[AlignedLink]
    gold: list[Span]
    gold_links: list[Link]
    reviews: dict[tuple[str, int], Review] = field(default_factory=dict)
    comments: dict[tuple[str, int], list[Comment]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)

    def decision(self, entity: str, entity_id: int) -> Review | None:
        """The current review decision on a span or link, or None when undecided."""
        return self.reviews.get((entity, entity_id))

    def seen_version(self, entity: str, entity_id: int) -> int:
        """The decision version this view saw (0: undecided), to pass to :func:`decide`."""
        r = self.reviews.get((entity, entity_id))
        return r.version if r else 0

    def gold_keys(self) -> set[SpanKey]:
        """The span keys gold holds (the aligned table marks the rows gold has)."""
        return {span_key(s) for s in self.gold}

    def disagreements(self) -> list[int]:
        """Indexes of the rows with a disagreement, in reading order."""
        return [i for i, r in enumerate(self.rows) if r.issues]

    def span_table(self) -> list[dict]:
        """The aligned table: one row per (offsets, label), a column per annotator (their decision),
        the disagreement and whether gold has it."""
        gold = self.gold_keys()
        out = []
        for row in self.rows:
            item = {"text": row.text, "label": row.label, "start": row.start, "end": row.end}
            for a in self.annotator_ids:
                span = row.spans.get(a)
                if span is None:
                    item[self.names.get(a, str(a))] = ""
                else:
                    r = self.reviews.get(("span", span.id))
                    mark = {"accepted": "✓ accepted", "rejected": "✗ rejected"}.get(r.decision if r else "", "● tagged")
                    if r is not None and r.entity_version != span.version:
                        mark += " (changed since)"  # the annotator edited the span after the decision
                    item[self.names.get(a, str(a))] = mark
            item["disagreement"] = "; ".join(ISSUE_NAMES[i] for i in row.issues)
            item["gold"] = "★" if row.key in gold else ""
            item["comments"] = sum(len(self.comments.get(("span", s.id), [])) for s in row.spans.values())
            out.append(item)
        return out

    def link_table(self) -> list[dict]:
        """One row per aligned link: type, content text, target label and text (two columns: one cell mixing a
        Latin label with Arabic text reads in the wrong order), who made it, decision, disagreement."""
        text = self.document.text
        out = []
        for row in self.link_rows:
            type_, src, dst = row.key
            item = {"type": type_, "content": text[src[0] : src[1]], "target label": dst[2], "target": text[dst[0] : dst[1]]}
            for a in self.annotator_ids:
                link = row.links.get(a)
                r = self.reviews.get(("link", link.id)) if link else None
                item[self.names.get(a, str(a))] = (
                    "" if link is None else {"accepted": "✓", "rejected": "✗"}.get(r.decision if r else "", "●")
                )
            item["disagreement"] = "; ".join(ISSUE_NAMES[i] for i in row.issues)
            out.append(item)
        return out


# ---- aligning layers ----------------------------------------------------------------------------------


def compare_spans(spans: list[Span], links: list[Link], annotator_ids: list[int]) -> list[AlignedSpan]:
    """Line up the annotators' spans of one document and mark each group's disagreements.

    Spans with the same (start, end, label) form one row. A row missing some annotators is a LABEL
    disagreement when one of them tagged the same text with another label, a BOUNDARIES disagreement
    when one of them made an overlapping span with the same label, and ONLY_SOME otherwise. A row with
    several annotators is an ATTRIBUTES disagreement when their attributes differ, and a LINK_TARGET
    disagreement when their outgoing links point at different spans. Rows come in reading order.
    """
    spans = sorted(spans, key=lambda s: (s.start_offset, -s.end_offset, s.id))
    groups: dict[SpanKey, dict[int, Span]] = defaultdict(dict)
    for s in spans:
        groups[span_key(s)].setdefault(s.annotator_id, s)
    near = _NearbySpans(spans)
    targets = _link_targets(spans, links)
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], -k[1], k[2])):
        members = groups[key]
        issues: list[str] = []
        others: list[Span] = []
        missing = {a for a in annotator_ids if a not in members}
        if missing:
            issues, others = near.why_missing(key, missing)
        if len(members) > 1:
            if len({json.dumps(s.attributes, sort_keys=True) for s in members.values()}) > 1:
                issues.append(ATTRIBUTES)
            if len({targets[s.id] for s in members.values()}) > 1:
                issues.append(LINK_TARGET)
        first = next(iter(members.values()))
        rows.append(AlignedSpan(key, first.text, dict(sorted(members.items())), tuple(issues), tuple(others)))
    return rows


def _link_targets(spans: list[Span], links: list[Link]) -> dict[int, frozenset]:
    """Each span's outgoing links as a set of (type, target's span key), so two annotators' links compare by
    content, not by id; empty for a span without links."""
    keys = {s.id: span_key(s) for s in spans}
    outgoing: dict[int, set] = defaultdict(set)
    for k in links:
        if k.from_span_id in keys and k.to_span_id in keys:
            outgoing[k.from_span_id].add((k.type, keys[k.to_span_id]))
    targets: dict[int, frozenset] = defaultdict(frozenset)
    targets.update({sid: frozenset(v) for sid, v in outgoing.items()})
    return targets


class _NearbySpans:
    """The spans of a document indexed by offsets and by label (each label's in start order), to find what the
    annotators missing from a row made instead."""

    def __init__(self, spans: list[Span]):
        """``spans`` in reading order (start, then longest first)."""
        self.by_offsets: dict[tuple[int, int], list[Span]] = defaultdict(list)
        self.by_label: dict[str, list[Span]] = defaultdict(list)
        for s in spans:
            self.by_offsets[(s.start_offset, s.end_offset)].append(s)
            self.by_label[s.label].append(s)
        self.starts = {lab: [s.start_offset for s in group] for lab, group in self.by_label.items()}
        self.longest = {lab: max(s.end_offset - s.start_offset for s in group) for lab, group in self.by_label.items()}

    def why_missing(self, key: SpanKey, missing: set[int]) -> tuple[list[str], list[Span]]:
        """The issues of a row the ``missing`` annotators lack (LABEL, BOUNDARIES or ONLY_SOME), and their spans
        that explain it (same text with another label, then overlapping ones with the same label)."""
        start, end, label = key
        relabelled = [s for s in self.by_offsets[(start, end)] if s.annotator_id in missing and s.label != label]
        # candidates for other boundaries: same label, starting before this span ends and not so early
        # that they could not reach it (bounded by the label's longest span)
        lo = bisect.bisect_left(self.starts[label], start - self.longest[label])
        hi = bisect.bisect_left(self.starts[label], end)
        moved = [
            s
            for s in self.by_label[label][lo:hi]
            if s.annotator_id in missing and s.end_offset > start and (s.start_offset, s.end_offset) != (start, end)
        ]
        issues = []
        if relabelled:
            issues.append(LABEL)
        if moved:
            issues.append(BOUNDARIES)
        if not relabelled and not moved:
            issues.append(ONLY_SOME)
        return issues, relabelled + moved


def compare_links(spans: list[Span], links: list[Link], annotator_ids: list[int]) -> list[AlignedLink]:
    """Line up the annotators' links by (type, from span key, to span key).

    A link not every annotator made is LINK_TARGET when a missing annotator links the same content with
    the same type to another span, ONLY_SOME otherwise.
    """
    keys = {s.id: span_key(s) for s in spans}
    groups: dict[LinkKey, dict[int, Link]] = defaultdict(dict)
    for k in links:
        if k.from_span_id in keys and k.to_span_id in keys:
            groups[(k.type, keys[k.from_span_id], keys[k.to_span_id])].setdefault(k.annotator_id, k)
    from_type: dict[tuple[str, SpanKey], set[int]] = defaultdict(set)
    for (type_, src, _dst), members in groups.items():
        from_type[(type_, src)].update(members)
    rows = []
    for key in sorted(groups, key=lambda k: (k[1][0], -k[1][1], k[0], k[2])):
        members = groups[key]
        missing = {a for a in annotator_ids if a not in members}
        issues: tuple[str, ...] = ()
        if missing:
            issues = (LINK_TARGET,) if missing & from_type[(key[0], key[1])] else (ONLY_SOME,)
        rows.append(AlignedLink(key, dict(sorted(members.items())), issues))
    return rows


def load_review(store: Store, actor: User, document_id: int) -> ReviewView:
    """The review screen's data for one document: every annotator's layer, the aligned rows, decisions,
    comments and the gold layer. Reviewers and admins only."""
    user = access.require_role(store, actor, *REVIEWER_ROLES)
    _user, doc = access.require_document(store, user, document_id)
    annotator_ids = store.document_annotator_ids(document_id)
    spans = store.list_spans(document_id, layer="annotator")
    gold = store.list_spans(document_id, layer="gold")
    gold_ids = {s.id for s in gold}
    all_links = store.list_links(document_id)
    links = [k for k in all_links if k.from_span_id not in gold_ids]
    gold_links = [k for k in all_links if k.from_span_id in gold_ids]
    comments: dict[tuple[str, int], list[Comment]] = defaultdict(list)
    for c in store.list_comments(document_id):
        comments[(c.entity, c.entity_id)].append(c)
    return ReviewView(
        document=doc,
        annotator_ids=annotator_ids,
        spans=spans,
        links=links,
        rows=compare_spans(spans, links, annotator_ids),
        link_rows=compare_links(spans, links, annotator_ids),
        gold=gold,
        gold_links=gold_links,
        reviews={(r.entity, r.entity_id): r for r in store.list_reviews(document_id)},
        comments=dict(comments),
        names={u.id: u.name for u in store.list_users()},
        labels=store.list_labels(doc.project_id),
    )


# ---- decisions and comments ---------------------------------------------------------------------------


def _target(store: Store, entity: str, entity_id: int) -> tuple[int, int, int, str]:
    """(document id, owner id, current version, layer) of a span or link."""
    if entity == "span":
        span = store.get_span(entity_id)
        return span.document_id, span.annotator_id, span.version, span.layer
    if entity == "link":
        link = store.get_link(entity_id)
        src = store.get_span(link.from_span_id)
        return src.document_id, link.annotator_id, link.version, src.layer
    raise InvalidReview(f"Only spans and links are reviewed, not {entity!r}.")


def decide_many(store: Store, actor: User, targets: list[tuple[str, int, int]], decision: str) -> tuple[int, list[str]]:
    """Decide several spans or links, each ``(entity, id, seen version)``, each in its own transaction so
    one colleague's earlier decision does not undo the others; returns (how many were decided, the
    messages of those refused)."""
    done, refused = 0, []
    for entity, entity_id, seen in targets:
        try:
            decide(store, actor, entity, entity_id, decision, seen)
            done += 1
        except (Conflict, InvalidReview) as exc:
            refused.append(str(exc))
    return done, refused


def decide(store: Store, actor: User, entity: str, entity_id: int, decision: str, expected_version: int) -> Review:
    """Accept or reject a span or link (reviewers and admins).

    ``expected_version`` is the version of the decision the reviewer saw: 0 when there was none yet. If a
    colleague decided in the meantime, :class:`Conflict` names their decision and nothing is written, so
    two reviewers deciding the same span at once end with exactly one decision.
    """
    if decision not in DECISIONS:
        raise InvalidReview(f"A decision is {' or '.join(DECISIONS)}, not {decision!r}.")
    with store.write():
        user = access.require_role(store, actor, *REVIEWER_ROLES)
        document_id, _owner, entity_version, layer = _target(store, entity, entity_id)
        access.require_document(store, user, document_id)
        if layer == "gold":
            raise InvalidReview("Gold spans are edited directly, not accepted or rejected.")
        current = store.get_review(entity, entity_id)
        seen = current.version if current else 0
        if expected_version != seen:
            if current is None:
                raise Conflict(f"The decision on this {entity} was withdrawn; reload to see it.")
            who = store.get_user(current.reviewer_id).name
            raise Conflict(
                f"{who} already {current.decision} this {entity} first (decision version {current.version}); nothing was changed."
            )
        if current is None:
            store.insert_review(entity, entity_id, document_id, user.id, decision, entity_version)
        elif not store.update_review(current.id, seen, user.id, decision, entity_version):
            raise Conflict(f"A colleague decided this {entity} first; reload to see their decision.")
        review = store.get_review(entity, entity_id)
        store.record_event(
            user.id, "review", entity, entity_id, document_id=document_id,
            before=asdict(current) if current else None, after=asdict(review),
        )  # fmt: skip
    return review


def add_comment(store: Store, actor: User, entity: str, entity_id: int, body: str) -> Comment:
    """Add a message to the thread on a span or link: reviewers and admins on anything, an annotator on
    their own spans and links (to answer the reviewer)."""
    body = (body or "").strip()
    if not body:
        raise InvalidReview("A comment cannot be empty.")
    if len(body) > MAX_COMMENT:
        raise InvalidReview(f"A comment is at most {MAX_COMMENT} characters (this one has {len(body)}).")
    with store.write():
        user = access.current(store, actor)
        document_id, owner, _version, _layer = _target(store, entity, entity_id)
        access.require_document(store, user, document_id)
        if user.role not in REVIEWER_ROLES and owner != user.id:
            raise PermissionDenied("You can comment only on your own spans and links.")
        comment_id = store.insert_comment(entity, entity_id, document_id, user.id, body)
        store.record_event(
            user.id, "comment", entity, entity_id, document_id=document_id, after={"comment_id": comment_id, "body": body}
        )
    return next(c for c in store.list_comments(document_id, entity, entity_id) if c.id == comment_id)


def list_comments(
    store: Store, actor: User, document_id: int, entity: str | None = None, entity_id: int | None = None
) -> list[Comment]:
    """Comment threads of a document, oldest first: all of them for reviewers and admins, those on their
    own spans and links for an annotator (what the annotation screen shows them)."""
    user, _doc = access.require_document(store, actor, document_id)
    comments = store.list_comments(document_id, entity, entity_id)
    if user.role in REVIEWER_ROLES or not comments:  # no comments: skip reading every span of the document
        return comments
    own_spans = {s.id for s in store.list_spans(document_id, annotator_ids=[user.id])}
    own_links = {k.id for k in store.list_links(document_id) if k.annotator_id == user.id}
    return [
        c
        for c in comments
        if (c.entity == "span" and c.entity_id in own_spans) or (c.entity == "link" and c.entity_id in own_links)
    ]


def _about(entity: str, entity_id: int, spans: dict[int, Span], links: dict[int, Link]) -> str:
    """A span or link in words: ``CLAIM «…»`` or ``attributed_to: «…» → «…»``."""
    if entity == "span" and entity_id in spans:
        return f"{spans[entity_id].label} «{spans[entity_id].text}»"
    link = links.get(entity_id) if entity == "link" else None
    if link and link.from_span_id in spans and link.to_span_id in spans:
        return f"{link.type}: «{spans[link.from_span_id].text}» → «{spans[link.to_span_id].text}»"
    return f"deleted {entity}"


def comment_threads(store: Store, actor: User, document_id: int) -> list[dict]:
    """The comment threads the actor may see on a document (see :func:`list_comments`), one row per
    comment with what it is about: ``entity``, ``entity_id``, ``about`` (label and text of the span or
    link), ``author``, ``body``, ``at``."""
    comments = list_comments(store, actor, document_id)
    if not comments:
        return []
    names = {u.id: u.name for u in store.list_users()}
    spans = {s.id: s for s in store.list_spans(document_id)}
    links = {k.id: k for k in store.list_links(document_id)}
    return [
        {"entity": c.entity, "entity_id": c.entity_id, "about": _about(c.entity, c.entity_id, spans, links),
         "author": names.get(c.author_id, str(c.author_id)), "body": c.body, "at": c.created_at}
        for c in comments
    ]  # fmt: skip


def feedback(store: Store, actor: User, document_id: int) -> list[dict]:
    """What reviewers said about the actor's own spans and links on a document, for the annotation screen:
    the comment threads the actor may see and the decisions on their own work, oldest first, as rows
    ``{kind: "comment" | "decision", about, who, text, at}``."""
    user, _doc = access.require_document(store, actor, document_id)
    rows = [
        {"kind": "comment", "about": c["about"], "who": c["author"], "text": c["body"], "at": c["at"]}
        for c in comment_threads(store, user, document_id)
    ]
    reviews = store.list_reviews(document_id)
    if reviews:
        names = {u.id: u.name for u in store.list_users()}
        spans = {s.id: s for s in store.list_spans(document_id)}
        links = {k.id: k for k in store.list_links(document_id)}
        for r in reviews:
            owner = spans[r.entity_id].annotator_id if r.entity == "span" and r.entity_id in spans else None
            if r.entity == "link" and r.entity_id in links:
                owner = links[r.entity_id].annotator_id
            if owner == user.id:
                about = _about(r.entity, r.entity_id, spans, links)
                rows.append(
                    {
                        "kind": "decision",
                        "about": about,
                        "who": names.get(r.reviewer_id, ""),
                        "text": r.decision,
                        "at": r.updated_at,
                    }
                )
    return sorted(rows, key=lambda row: row["at"])


# ---- the gold layer -----------------------------------------------------------------------------------


def _adopt_span(store: Store, user: User, span: Span, extra: dict | None = None) -> tuple[Span, bool]:
    """Copy one span into gold unless gold already has the same offsets and label; (gold span, created)."""
    existing = store.find_gold_span(span.document_id, span.label_id, span.start_offset, span.end_offset)
    if existing is not None:
        return existing, False
    origin = {"adopted_from": span.id, "annotator_id": span.annotator_id, **(extra or {})}
    gold_id = store.insert_span(
        span.document_id, span.label_id, user.id, span.start_offset, span.end_offset, span.text, span.attributes, "gold", origin
    )
    gold = store.get_span(gold_id)
    store.record_event(
        user.id, "adopt", "span", gold_id, document_id=span.document_id, before={"span_id": span.id}, after=asdict(gold)
    )
    return gold, True


def _adopt_link(store: Store, user: User, link: Link, gold_from: Span, gold_to: Span) -> Link | None:
    if store.find_link(gold_from.id, gold_to.id, link.type):
        return None
    link_id = store.insert_link(gold_from.id, gold_to.id, link.type, user.id)
    gold_link = store.get_link(link_id)
    store.record_event(
        user.id, "adopt", "link", link_id, document_id=gold_from.document_id, before={"link_id": link.id}, after=asdict(gold_link)
    )
    return gold_link


def _gold_twin(store: Store, span: Span) -> Span | None:
    return store.find_gold_span(span.document_id, span.label_id, span.start_offset, span.end_offset)


def adopt_into_gold(store: Store, actor: User, span_id: int) -> Span:
    """Copy an annotator's span into the gold layer with provenance ``{"adopted_from", "annotator_id"}``
    (reviewers and admins). Its links come along when the span at their other end is in gold too.
    Adopting a span whose twin (same offsets and label) is already gold returns that gold span."""
    with store.write():
        user = access.require_role(store, actor, *REVIEWER_ROLES)
        span = store.get_span(span_id)
        access.require_document(store, user, span.document_id)
        if span.layer == "gold":
            raise InvalidReview("This span is already in the gold layer.")
        gold, _created = _adopt_span(store, user, span)
        for link in store.links_of_span(span.id):
            other = store.get_span(link.to_span_id if link.from_span_id == span.id else link.from_span_id)
            twin = _gold_twin(store, other)
            if twin is not None:
                src, dst = (gold, twin) if link.from_span_id == span.id else (twin, gold)
                _adopt_link(store, user, link, src, dst)
    return gold


def adopt_agreed(store: Store, actor: User, document_id: int) -> list[Span]:
    """Copy every span that all annotators made identically (same offsets, label and attributes) into
    gold, and the links all of them made between such spans, in one transaction. Returns the gold spans
    created (those already in gold are left as they are). Needs at least two annotators' layers."""
    with store.write():
        user = access.require_role(store, actor, *REVIEWER_ROLES)
        access.require_document(store, user, document_id)
        annotator_ids = store.document_annotator_ids(document_id)
        if len(annotator_ids) < 2:
            raise InvalidReview("Agreement needs at least two annotators' layers on this document.")
        spans = store.list_spans(document_id, layer="annotator")
        span_ids = {s.id for s in spans}
        links = [k for k in store.list_links(document_id) if k.from_span_id in span_ids]
        everyone = set(annotator_ids)
        created: list[Span] = []
        gold_by_key: dict[SpanKey, Span] = {}
        for row in compare_spans(spans, links, annotator_ids):
            if set(row.spans) != everyone or set(row.issues) - {LINK_TARGET}:
                continue
            first = row.spans[annotator_ids[0]]
            extra = {"agreed_by": sorted(row.spans), "agreed_spans": sorted(s.id for s in row.spans.values())}
            gold, new = _adopt_span(store, user, first, extra)
            gold_by_key[row.key] = gold
            if new:
                created.append(gold)
        for row in compare_links(spans, links, annotator_ids):
            _type, src, dst = row.key
            if row.agreed and set(row.links) == everyone and src in gold_by_key and dst in gold_by_key:
                _adopt_link(store, user, row.links[annotator_ids[0]], gold_by_key[src], gold_by_key[dst])
    return created


# ---- status and progress ------------------------------------------------------------------------------


def mark_reviewed(store: Store, actor: User, document_id: int, annotator_id: int) -> None:
    """Mark one annotator's layer of a document as reviewed (reviewers and admins)."""
    with store.write():
        user = access.require_role(store, actor, *REVIEWER_ROLES)
        access.require_document(store, user, document_id)
        if annotator_id not in store.document_annotator_ids(document_id):
            raise InvalidReview("This annotator has no layer on this document.")
        before = store.get_status(document_id, annotator_id) or None
        store.set_status(document_id, annotator_id, "reviewed")
        store.record_event(
            user.id, "status", "document", document_id, document_id=document_id,
            before={"annotator_id": annotator_id, "status": before}, after={"annotator_id": annotator_id, "status": "reviewed"},
        )  # fmt: skip


def project_progress(store: Store, actor: User, project_id: int) -> pd.DataFrame:
    """One row per document and annotator: status (in_progress / submitted / reviewed), spans, how many of
    them a reviewer decided and rejected. Reviewers and admins of the project."""
    user = access.require_role(store, actor, *REVIEWER_ROLES)
    access.require_project(store, user, project_id)
    names = {u.id: u.name for u in store.list_users()}
    rows = store.project_status_rows(project_id)
    columns = ["document_id", "title", "annotator_id", "annotator", "status", "spans", "decided", "rejected"]
    frame = pd.DataFrame(
        [{**r, "annotator_id": r["user_id"], "annotator": names.get(r["user_id"], str(r["user_id"]))} for r in rows]
    )
    if frame.empty:
        return pd.DataFrame(columns=columns)
    return frame[columns].reset_index(drop=True)


def progress_summary(progress: pd.DataFrame) -> dict[str, int]:
    """Counts of annotator layers per status, plus documents with any layer and span decisions made."""
    counts = progress["status"].value_counts().to_dict() if not progress.empty else {}
    return {
        "documents": int(progress["document_id"].nunique()) if not progress.empty else 0,
        "in_progress": int(counts.get("in_progress", 0)),
        "submitted": int(counts.get("submitted", 0)),
        "reviewed": int(counts.get("reviewed", 0)),
        "spans": int(progress["spans"].sum()) if not progress.empty else 0,
        "decided": int(progress["decided"].sum()) if not progress.empty else 0,
    }


# ---- wording for the screens ------------------------------------------------------------------------

# Work statuses as stored (annotator.projects.set_status) -> as a reviewer reads them on screen.
STATUS_LABELS = {"in_progress": "in progress", "submitted": "submitted", "reviewed": "reviewed"}


def status_label(status: str | None) -> str:
    """A work status as shown to people: ``in_progress`` reads "in progress"; no status yet is "not started"."""
    if not status:
        return "not started"
    return STATUS_LABELS.get(status, status.replace("_", " "))


# What "Adopt all agreed" says when it found nothing: the rule is strict (every annotator, identical span).
NOTHING_AGREED = (
    "Nothing adopted: no span is marked identically (same offsets, label and attributes) by all {n} annotators "
    "of this document, or those spans are in gold already. Adopt spans one at a time with G."
)
