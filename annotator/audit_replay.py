"""Replaying the audit log: spans, links, review decisions and gold rebuilt from the events and compared with
the tables, naming every row changed outside the app (issue 9). ``audit verify`` proves the log was not edited;
this proves the data still is what the log says.

Events carry each span and link as written (create, update, delete, adopt into gold, undo), each review decision,
and for an import (one event for thousands of rows) the id ranges it wrote with a digest of its rows per
document (:func:`import_digests`). An imported row that a later event changed is known from that event's
``before``; one no event touched is what the table holds; the import's digests must match either way, so an
imported row changed outside the app is named by its document and the import's id range.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from annotator import access
from annotator.audit import canonical_attributes, canonical_json
from annotator.models import User
from annotator.store import Store

IMPORTED = object()  # a row an import wrote, whose content only the import's digest tells
_SPAN_KEYS = ("document_id", "label_id", "annotator_id", "layer", "start_offset", "end_offset", "text")


@dataclass
class ReplayReport:
    """What the replay rebuilt and every difference from the tables (``ok`` when there is none)."""

    events: int = 0
    spans: int = 0
    links: int = 0
    reviews: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def span_content(row: dict) -> tuple:
    """A span (an event's dict or a row) as the tuple the replay compares: ids, layer, offsets, text, attributes."""
    return (*(row.get(k, "annotator" if k == "layer" else None) for k in _SPAN_KEYS), canonical_json(row.get("attributes") or {}))


def link_content(row: dict) -> tuple:
    """What a link holds, comparable between an audit event's row and the links table: ends, type, annotator."""
    return (row["from_span_id"], row["to_span_id"], row["type"], row["annotator_id"])


def _digest(rows: list[tuple]) -> str:
    # repr of tuples of ints and strings is exact and stable, and ~10x cheaper than JSON per row (100,000 rows)
    return hashlib.sha256("\n".join(map(repr, rows)).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def import_digests(spans: dict[int, tuple], links: dict[int, tuple]) -> dict[str, str]:
    """Per document, a digest of the span and link rows an import wrote (``spans``/``links`` by id, as
    :meth:`Store.replay_rows` gives them); keys are document ids as text (JSON keys)."""
    by_doc: dict[int, list] = defaultdict(list)
    for sid, row in sorted(spans.items()):
        by_doc[row[0]].append(("span", sid, *row))
    doc_of = {sid: row[0] for sid, row in spans.items()}
    for lid, row in sorted(links.items()):
        by_doc[doc_of.get(row[0], -1)].append(("link", lid, *row))
    return {str(doc): _digest(rows) for doc, rows in sorted(by_doc.items())}


class ImportDigests:
    """:func:`import_digests` of an import's rows, computed as the import builds them rather than read back from the
    tables afterwards (reading back 200,000 span rows and hashing them one by one was ~1.5 s of such an import).
    A new document's span rows, when they are all the import writes for it, are digested at once; a document that
    gets links, or spans at two points of the import (a text already in the project, or repeated in the files),
    is read back from the tables by :func:`import_record`, as every document was before."""

    def __init__(self) -> None:
        self.digests: dict[int, str] = {}
        self.read_back: set[int] = set()

    def add(self, document_id: int, span_rows: list[tuple], whole: bool) -> None:
        """The span rows the import inserts for one document, as :meth:`Store.bulk_insert_spans` takes them;
        ``whole``: the document is new and gets no links, so these are all of its rows (unless it comes again)."""
        if not whole or document_id in self.digests or document_id in self.read_back:
            self.digests.pop(document_id, None)
            self.read_back.add(document_id)
        elif span_rows:
            self.digests[document_id] = _digest([("span", *r[:8], canonical_attributes(r[8])) for r in span_rows])


def import_record(store: Store, first_span: int, first_link: int, known: ImportDigests | None = None) -> dict:
    """For the import event, inside the import's transaction after its rows are written: the id ranges it wrote
    and :func:`import_digests` of them. Documents ``known`` has digested are taken from it; the others (all when
    ``known`` is None) are computed row by row from the tables (a streamed import holds no more than one)."""
    last_span, last_link = store.next_ids("spans") - 1, store.next_ids("links") - 1
    digests: dict[int, str] = dict(known.digests) if known is not None else {}
    only = sorted(known.read_back) if known is not None else None
    doc, h = None, None
    if only is None or only:
        for row in store.iter_import_rows(first_span, last_span, first_link, last_link, document_ids=only):
            if row[0] != doc:
                if h is not None:
                    digests[doc] = h.hexdigest()[:32]
                doc, h, sep = row[0], hashlib.sha256(), b""
            h.update(sep + repr(row[1:]).encode("utf-8", "surrogatepass"))
            sep = b"\n"
    if h is not None:
        digests[doc] = h.hexdigest()[:32]
    return {
        "span_ids": [first_span, last_span] if last_span >= first_span else None,
        "link_ids": [first_link, last_link] if last_link >= first_link else None,
        "digests": {str(d): digests[d] for d in sorted(digests)},
    }


class _State:
    """The rows as the events build them, and the differences met on the way."""

    def __init__(self) -> None:
        self.spans: dict[int, object] = {}
        self.links: dict[int, object] = {}
        self.reviews: dict[tuple, tuple] = {}
        self.at_import: dict[int, tuple] = {}  # imported span id -> its row at import time (from a later before)
        self.link_at_import: dict[int, tuple] = {}
        self.imports: list[tuple[int, dict]] = []  # (event id, its rows record)
        self.seen: dict[int, dict] = {}  # span and link events by id, for undo
        self.differences: list[str] = []
        self.count = 0

    def before(self, kind: str, rid: int, content: tuple, ev: dict) -> None:
        """An event's ``before`` must be the row as the events left it; an imported row learns its content."""
        rows, first = (self.spans, self.at_import) if kind == "span" else (self.links, self.link_at_import)
        have = rows.get(rid)
        if have is IMPORTED:
            first.setdefault(rid, content)
        elif have is not None and have != content:
            self.differences.append(f"{kind} {rid} was changed outside the app before event {ev['id']} ({ev['action']})")

    def drop_span(self, sid: int, removed: dict, ev: dict) -> None:
        """A span removed by event ``ev`` whose ``before`` is ``removed`` (the row and its links, which the
        foreign key removes with it)."""
        self.before("span", sid, span_content(removed["span"]), ev)
        self.spans.pop(sid, None)
        for k in removed.get("links", []):
            self.before("link", k["id"], link_content(k), ev)
            self.links.pop(k["id"], None)


def _span_event(st: _State, ev: dict) -> None:
    action, sid, before, after = ev["action"], ev["entity_id"], ev["before"], ev["after"]
    if action in ("create", "adopt"):
        st.spans[sid] = span_content(after)
    elif action == "update":
        st.before("span", sid, span_content(before), ev)
        st.spans[sid] = span_content(after)
    elif action == "delete":
        st.drop_span(sid, before, ev)
    elif action == "undo":
        target = st.seen.get((after or {}).get("undid"))
        if target is None:
            return
        if target["action"] in ("create", "adopt"):
            if before:
                st.drop_span(sid, before, ev)
        elif target["action"] == "delete":
            row = target["before"]["span"]
            st.spans[sid] = span_content(row)
            for k in target["before"]["links"]:
                if k["from_span_id"] in st.spans and k["to_span_id"] in st.spans:
                    st.links[k["id"]] = link_content(k)
        elif target["action"] == "update":
            if before:
                st.before("span", sid, span_content(before), ev)
            old = target["before"]
            current = st.spans.get(sid)
            if isinstance(current, tuple):
                st.spans[sid] = span_content({**dict(zip(_SPAN_KEYS, current, strict=False)), **old})


def _link_event(st: _State, ev: dict) -> None:
    action, lid, before, after = ev["action"], ev["entity_id"], ev["before"], ev["after"]
    if action in ("create", "adopt"):
        st.links[lid] = link_content(after)
    elif action == "delete":
        st.before("link", lid, link_content(before), ev)
        st.links.pop(lid, None)
    elif action == "undo":
        target = st.seen.get((after or {}).get("undid"))
        if target is None:
            return
        if target["action"] in ("create", "adopt") and before:
            st.before("link", lid, link_content(before), ev)
            st.links.pop(lid, None)
        elif target["action"] == "delete":
            st.links[lid] = link_content(target["before"])


def replay_events(events) -> _State:
    """The rows the events describe, in id order."""
    st = _State()
    for ev in events:
        st.count += 1
        entity, action = ev["entity"], ev["action"]
        if action == "review" and entity in ("span", "link"):
            a = ev["after"]
            st.reviews[(entity, ev["entity_id"])] = (a["reviewer_id"], a["decision"], a["version"])
        elif entity == "span":
            _span_event(st, ev)
            st.seen[ev["id"]] = ev
        elif entity == "link":
            _link_event(st, ev)
            st.seen[ev["id"]] = ev
        elif action == "import" and isinstance(ev["after"], dict) and "rows" in ev["after"]:
            rows = ev["after"]["rows"]
            st.imports.append((ev["id"], rows))
            if rows.get("span_ids"):
                a, b = rows["span_ids"]
                st.spans.update(dict.fromkeys(range(a, b + 1), IMPORTED))
            if rows.get("link_ids"):
                a, b = rows["link_ids"]
                st.links.update(dict.fromkeys(range(a, b + 1), IMPORTED))
    return st


def _compare(kind: str, built: dict, table: dict, out: list[str]) -> None:
    for rid in sorted(set(built) | set(table)):
        want, have = built.get(rid), table.get(rid)
        if want is IMPORTED:
            continue  # settled by the import's digest
        if want is None:
            out.append(f"{kind} {rid} is in the table but no event made it")
        elif have is None:
            out.append(f"{kind} {rid} is missing from the table (no event removed it)")
        elif want != have:
            out.append(f"{kind} {rid} differs from its last event: table {have!r}, events {want!r}")


def _check_imports(st: _State, spans: dict, links: dict, out: list[str]) -> None:
    """Each import's rows, as they were when it wrote them, against its digests."""
    for event_id, rows in st.imports:
        s_ids = range(rows["span_ids"][0], rows["span_ids"][1] + 1) if rows.get("span_ids") else range(0)
        l_ids = range(rows["link_ids"][0], rows["link_ids"][1] + 1) if rows.get("link_ids") else range(0)
        at_import_s = {}
        for sid in s_ids:
            row = st.at_import.get(sid, spans.get(sid) if st.spans.get(sid) is IMPORTED else None)
            if row is None:
                out.append(f"span {sid} (written by import event {event_id}) is missing from the table (no event removed it)")
                continue
            at_import_s[sid] = row
        at_import_l = {}
        for lid in l_ids:
            row = st.link_at_import.get(lid, links.get(lid) if st.links.get(lid) is IMPORTED else None)
            if row is None:
                out.append(f"link {lid} (written by import event {event_id}) is missing from the table (no event removed it)")
            else:
                at_import_l[lid] = row
        got = import_digests(at_import_s, at_import_l)
        for doc in sorted(set(got) | set(rows["digests"]), key=int):
            if got.get(doc) != rows["digests"].get(doc):
                out.append(
                    f"document {doc}: the rows import event {event_id} wrote (spans {rows.get('span_ids')}, links "
                    f"{rows.get('link_ids')}) were changed outside the app"
                )


def replay_database(store: Store) -> ReplayReport:
    """Rebuild spans, links, review decisions and gold from the audit events and compare them with the tables
    (the command line's ``audit replay``); every difference names the row and what changed."""
    st = replay_events(store.iter_events())
    spans, links, reviews = store.replay_rows()
    out = list(st.differences)
    _compare("span", st.spans, spans, out)
    _compare("link", st.links, links, out)
    _compare(
        "review of", {f"{e} {i}": v for (e, i), v in st.reviews.items()}, {f"{e} {i}": v for (e, i), v in reviews.items()}, out
    )
    _check_imports(st, spans, links, out)
    return ReplayReport(events=st.count, spans=len(spans), links=len(links), reviews=len(reviews), differences=out)


def replay(store: Store, actor: User) -> ReplayReport:
    """:func:`replay_database` for an admin."""
    access.require_admin(store, actor)
    return replay_database(store)
