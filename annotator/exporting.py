"""Exports: spans CSV and Excel workbook, attribution triples, doccano-shaped JSONL, Label Studio JSON, CoNLL/BIO and the audit log.

Every export is a zip (or a file plus a sidecar) holding the data and ``metadata.json``: offset unit, text
direction, schema version, when, by whom, filters and counts. Rows are streamed from the store's cursors
straight into the output, one document at a time, so a large project is never held in memory twice.
Exports are admin actions and are recorded as audit events.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from annotator import access, audit
from annotator.auth import export_email
from annotator.errors import NisbaError
from annotator.formats import EXPORT_FORMATS
from annotator.formats.readers import PREDICTION_SOURCE
from annotator.models import ExportDocument, User
from annotator.store import Store, now
from annotator.text import codepoint_to_utf16, tokenize

FORMATS = EXPORT_FORMATS
OFFSET_UNIT = "Unicode code points"
EXPORT_SCHEMA_VERSION = 1
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_SET = frozenset(FORMULA_STARTS)
CONTEXT_WORDS = 5
REVIEW_STATUSES = ("accepted", "rejected", "unreviewed")

SPAN_COLUMNS = [
    "project", "document_id", "document_title", "text_sha256", "span_id", "label", "start_offset", "end_offset",
    "text", "context_before", "context_after",
]  # fmt: skip
SPAN_TAIL_COLUMNS = [
    "source_span_id", "source_text", "cue_text", "annotator", "layer", "created_at", "updated_at", "review_status", "reviewer",
]  # fmt: skip
TRIPLE_COLUMNS = [
    "project", "document_id", "document_title", "content_span_id", "content_label", "content_text", "form",
    "source_span_id", "source_text", "cue_span_id", "cue_text", "annotator", "layer", "review_status",
]  # fmt: skip
AUDIT_COLUMNS = [
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "entity",
    "entity_id",
    "document_id",
    "before",
    "after",
    "prev_hash",
    "hash",
]

_SEP = "\x1f"  # the store joins several link targets with the unit separator


class ExportError(NisbaError):
    """An export that cannot be made (unknown format, annotator or filter)."""


@dataclass
class ExportFilters:
    """Which spans to export. ``None`` means no restriction; ``gold`` exports the gold layer only."""

    document_ids: list[int] | None = None
    annotators: list[str] | None = None
    gold: bool = False
    labels: list[str] | None = None
    review_status: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def describe(self) -> dict:
        """The filters that are set, for the export's metadata and audit event."""
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}


@dataclass
class ExportResult:
    """What an export wrote: file names inside the zip (or paths) and the metadata."""

    files: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


# ---- cells and text --------------------------------------------------------------------------------------


def neutralise(cell):
    """Prefix a cell that a spreadsheet would run as a formula with ``'`` (OWASP CSV injection advice)."""
    if isinstance(cell, str) and cell and cell[0] in FORMULA_STARTS:
        return "'" + cell
    return cell


def context_words(text: str, start: int, end: int, words: int = CONTEXT_WORDS) -> tuple[str, str]:
    """Up to ``words`` words before and after ``[start, end)``; the same result as
    :func:`annotator.text.context`, but looking only at a window near the span (exports call it per span)."""
    window = 16 * (words + 1)
    lo = max(0, start - window)
    before = text[lo:start].rsplit(None, words)
    if lo > 0 and len(before) <= words:  # the window may have cut a word: look at everything before
        before = text[:start].rsplit(None, words)
    hi = end + window
    after = text[end:hi].split(None, words)
    if hi < len(text) and len(after) <= words:
        after = text[end:].split(None, words)
    return " ".join(before[-words:]), " ".join(after[:words])


def _cell(c) -> str:
    if c.__class__ is str:
        if c[:1] in _FORMULA_SET:  # "" slices to "", which is not in the set
            c = "'" + c
        if '"' in c:
            return '"' + c.replace('"', '""') + '"'
        if "," in c or "\n" in c or "\r" in c:
            return '"' + c + '"'
        return c
    return "" if c is None else str(c)


def csv_lines(rows) -> str:
    """The one CSV writer: every cell through :func:`neutralise`, then RFC 4180 lines (CRLF, minimal quoting), byte
    for byte what ``csv.writer(lineterminator="\r\n")`` writes for the neutralised cells, about twice as fast
    (the span export formats every row of a project). Every CSV Nisba writes goes through here."""
    return "".join([",".join(map(_cell, r)) + "\r\n" for r in rows])


def write_csv(fh: IO[str], header: list[str], rows) -> None:
    """Write ``header`` and ``rows`` to ``fh`` through :func:`csv_lines` (so every cell is neutralised)."""
    fh.write(csv_lines([header]))
    fh.write(csv_lines(rows))


def region_id(span_id: int) -> str:
    """A Label Studio style region id (10 characters of ``[A-Za-z0-9_-]``), stable for a span id."""
    digest = hashlib.sha256(f"nisba-span:{span_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:10]


# ---- filters and spans -------------------------------------------------------------------------------


def _store_filters(store: Store, project_id: int, filters: ExportFilters) -> dict:
    out: dict = {}
    if filters.document_ids is not None:
        out["document_ids"] = [int(i) for i in filters.document_ids]
    if filters.gold:
        out["layer"] = "gold"
    if filters.annotators:
        ids = []
        for name in filters.annotators:
            user = store.user_by_username(name)
            if user is None:
                raise ExportError(f"There is no user {name!r}.")
            ids.append(user.id)
        out["annotator_ids"] = ids
        if not filters.gold:
            out["layer"] = "annotator"
    if filters.labels:
        out["labels"] = list(filters.labels)
    if filters.review_status:
        if filters.review_status not in REVIEW_STATUSES:
            raise ExportError(f"Review status must be one of {', '.join(REVIEW_STATUSES)}.")
        out["review_status"] = filters.review_status
    if filters.date_from:
        out["date_from"] = filters.date_from
    if filters.date_to:
        out["date_to"] = filters.date_to
    return out


@dataclass(slots=True)
class _Span:
    id: int
    document_id: int
    label: str
    kind: str
    annotator: str
    layer: str
    start: int
    end: int
    text: str
    attributes: dict
    created_at: str
    updated_at: str
    review_status: str
    reviewer: str
    source_ids: list[str]
    source_texts: list[str]
    cue_texts: list[str]
    cue_ids: list[str] = field(default_factory=list)
    origin: dict = field(default_factory=dict)


def _split(value) -> list[str]:
    return str(value).split(_SEP) if value is not None else []


def _spans_by_document(store: Store, project_id: int, sfilters: dict) -> Iterator[tuple[ExportDocument, list[_Span]]]:
    """(document row, its matching spans) in document order; documents without matching spans included."""
    docs = store.iter_export_documents(project_id, sfilters.get("document_ids"))
    spans = store.iter_export_spans(project_id, **sfilters)
    pending = next(spans, None)
    for doc in docs:
        group: list[_Span] = []
        while pending is not None and pending.document_id == doc.id:
            r = pending
            group.append(
                _Span(
                    r.id, r.document_id, r.label, r.label_kind, r.annotator, r.layer, r.start, r.end, r.text,
                    json.loads(r.attributes_json) if r.attributes_json and r.attributes_json != "{}" else {},
                    r.created_at, r.updated_at, r.review_status or "", r.reviewer or "", _split(r.source_ids),
                    _split(r.source_texts), _split(r.cue_texts), _split(r.cue_ids),
                    json.loads(r.origin_json) if r.origin_json and r.origin_json != "{}" else {},
                )
            )  # fmt: skip
            pending = next(spans, None)
        yield doc, group


def attribute_names(store: Store, project_id: int) -> list[str]:
    """Attribute names of the project: those the labels define, in label order, then any others in use."""
    names: list[str] = []
    for lab in store.list_labels(project_id):
        for name in lab.attributes:
            if name not in names:
                names.append(name)
    for name in store.span_attribute_names(project_id):
        if name not in names:
            names.append(name)
    return names


# ---- output sinks --------------------------------------------------------------------------------------


class _ZipSink:
    """Files written one after another into a zip, each streamed through the compressor."""

    def __init__(self, fileobj):
        # compresslevel 1: exports are mostly Arabic text, which level 1 already halves; higher levels cost time.
        self.zip = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.names: list[str] = []

    @contextmanager
    def text(self, name: str, *, bom: bool = False) -> Iterator[IO[str]]:
        with self.binary(name) as raw:
            wrapper = io.TextIOWrapper(raw, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=False)
            try:
                yield wrapper
            finally:
                wrapper.flush()
                wrapper.detach()

    @contextmanager
    def binary(self, name: str) -> Iterator[IO[bytes]]:
        with self.zip.open(name, "w", force_zip64=True) as raw:
            yield raw
        self.names.append(name)

    def close(self) -> None:
        self.zip.close()


class _DirSink:
    """Files written into a directory (or, for one data file, to a path plus a sidecar)."""

    def __init__(self, directory: Path | None = None, single: Path | None = None):
        self.directory = directory
        self.single = single
        self.names: list[str] = []

    @contextmanager
    def text(self, name: str, *, bom: bool = False) -> Iterator[IO[str]]:
        path = self._path(name)
        with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            yield fh
        self.names.append(str(path))

    @contextmanager
    def binary(self, name: str) -> Iterator[IO[bytes]]:
        path = self._path(name)
        with open(path, "wb") as fh:
            yield fh
        self.names.append(str(path))

    def _path(self, name: str) -> Path:
        if self.single is not None:
            # the first data file takes the path; the sidecar and any extra file sit next to it
            if name == "metadata.json":
                path = self.single.with_name(self.single.name + ".metadata.json")
            elif not self.names:
                path = self.single
            else:
                path = self.single.with_name(f"{self.single.stem}.{name}")
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:
        pass


class _MemorySink:
    """Files kept in memory by name: a one-file download without a zip (see :func:`export_file`)."""

    def __init__(self):
        self.names: list[str] = []
        self.files: dict[str, bytes] = {}

    @contextmanager
    def text(self, name: str, *, bom: bool = False) -> Iterator[IO[str]]:
        buf = io.StringIO(newline="")
        yield buf
        self.files[name] = buf.getvalue().encode("utf-8-sig" if bom else "utf-8")
        self.names.append(name)

    @contextmanager
    def binary(self, name: str) -> Iterator[IO[bytes]]:
        buf = io.BytesIO()
        yield buf
        self.files[name] = buf.getvalue()
        self.names.append(name)

    def close(self) -> None:
        pass


class _StreamSink:
    """The data file of a one-file format written to an open text stream (the ``spans`` command's stdout);
    ``metadata.json`` is left out (the stream is for reading, the export event records the rest)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.names: list[str] = []

    @contextmanager
    def text(self, name: str, *, bom: bool = False) -> Iterator[IO[str]]:
        yield io.StringIO() if name == "metadata.json" else self.stream
        self.names.append(name)

    def close(self) -> None:
        self.stream.flush()


# ---- the formats ---------------------------------------------------------------------------------------


def _span_columns(store: Store, project_id: int) -> tuple[list[str], list[str]]:
    """The project's attribute names and the spans table's header."""
    attrs = attribute_names(store, project_id)
    taken = set(SPAN_COLUMNS) | set(SPAN_TAIL_COLUMNS)
    attr_cols = [f"attribute_{a}" if a in taken else a for a in attrs]
    return attrs, SPAN_COLUMNS + attr_cols + SPAN_TAIL_COLUMNS


def _span_rows(store, project, sfilters, attrs: list[str]) -> Iterator[list[list]]:
    """The spans table, one list of rows per document, cells as stored: the CSV and the workbook write these
    same rows, each through the one formula rule (:func:`csv_lines`, :func:`neutralise`)."""
    pname = project.name
    blank_attrs = [""] * len(attrs)
    for doc, spans in _spans_by_document(store, project.id, sfilters):
        if not spans:
            continue
        doc_id, title, text, sha = doc.id, doc.title, doc.text, doc.text_sha256
        rows = []
        for s in spans:
            before, after = context_words(text, s.start, s.end)
            a = s.attributes
            rows.append(
                [
                    pname, doc_id, title, sha, s.id, s.label, s.start, s.end, s.text, before, after,
                    *([str(a[k]) if k in a else "" for k in attrs] if a else blank_attrs),
                    ";".join(s.source_ids), " | ".join(s.source_texts) if s.source_texts else "",
                    " | ".join(s.cue_texts) if s.cue_texts else "",
                    s.annotator, s.layer, s.created_at, s.updated_at, s.review_status, s.reviewer or "",
                ]
            )  # fmt: skip
        yield rows


def _write_span_csv(store, project, sfilters, sink, excel, progress, counts) -> None:
    attrs, header = _span_columns(store, project.id)
    with sink.text("spans.csv", bom=excel) as fh:
        fh.write(csv_lines([header]))
        n = 0
        for rows in _span_rows(store, project, sfilters, attrs):
            fh.write(csv_lines(rows))
            n += len(rows)
            progress(n)
    counts["spans"] = n


def _write_span_xlsx(store, project, sfilters, sink, excel, progress, counts) -> None:
    """The spans table as an Excel workbook: the same rows as spans.csv (so the same formula rule), sheet set
    right to left, header frozen and bold, Arabic text columns wide. A workbook has no encoding question:
    LibreOffice's default CSV import ignores the BOM and shows the Arabic as mojibake."""
    from annotator.workbook import spans_workbook  # openpyxl takes ~0.5 s to import: only when a workbook is made

    attrs, header = _span_columns(store, project.id)
    counter = {"n": 0}

    def rows() -> Iterator[list]:
        for batch in _span_rows(store, project, sfilters, attrs):
            yield from ([neutralise(c) for c in row] for row in batch)  # the CSV writer's rule, cell by cell
            counter["n"] += len(batch)
            progress(counter["n"])

    with sink.binary("spans.xlsx") as fh:
        spans_workbook([neutralise(c) for c in header], rows(), fh)
    counts["spans"] = counter["n"]


def _write_triples(store, project, sfilters, sink, excel, progress, counts) -> None:
    with sink.text("triples.csv", bom=excel) as fh:
        fh.write(csv_lines([TRIPLE_COLUMNS]))
        n = 0
        for doc, spans in _spans_by_document(store, project.id, sfilters):
            rows = [
                [
                    project.name, doc.id, doc.title, s.id, s.label, s.text, str(s.attributes.get("form", "")),
                    ";".join(s.source_ids), " | ".join(s.source_texts), ";".join(s.cue_ids), " | ".join(s.cue_texts),
                    s.annotator, s.layer, s.review_status,
                ]
                for s in spans
                if s.kind == "content"
            ]  # fmt: skip
            fh.write(csv_lines(rows))
            n += len(rows)
            progress(n)
    counts["triples"] = n


def _links_by_from(store, project_id, sfilters) -> dict[int, list[tuple[int, int, str]]]:
    out: dict[int, list[tuple[int, int, str]]] = {}
    for link_id, frm, to, type_ in store.iter_export_links(project_id, **sfilters):
        out.setdefault(frm, []).append((link_id, to, type_))
    return out


def _layers(spans: list[_Span]) -> list[tuple[tuple[str, str], list[_Span]]]:
    """Spans grouped by (layer, annotator), predictions apart from the same account's own spans."""
    return _layers_by(spans, lambda s: (s.layer, s.annotator) + (("prediction",) if _is_prediction(s) else ()))


def _layers_by(spans: list[_Span], key) -> list[tuple]:
    groups: dict = {}
    for s in spans:
        groups.setdefault(key(s), []).append(s)
    return [(k[:2] if isinstance(k, tuple) else k, g) for k, g in groups.items()]


JSONL_OFFSETS = {"utf16": "UTF-16 code units", "codepoints": OFFSET_UNIT}
JSONL_LAYOUTS = ("entities", "label")


def _offsets16(text: str):
    """Code-point offsets into ``text`` → UTF-16 code units (doccano's editor counts those): the identity for
    text without characters outside the BMP, else annotator.text's converter."""
    if len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return lambda off: off
    return lambda off: codepoint_to_utf16(text, off)


def _doccano_line(doc, group: list[_Span], links: dict, annotator: str, layer: str, offsets: str, layout: str) -> dict:
    """One example as doccano 1.8 writes it (``id``, ``text``, ``entities``/``relations`` or ``label``,
    ``Comments``), Nisba's own fields in ``meta``."""
    doc_id, title, text, sha, source, meta_json, _created = doc
    conv = _offsets16(text) if offsets == "utf16" else (lambda off: off)
    line: dict = {"id": doc_id, "text": text}
    if layout == "label":
        line["label"] = [[conv(s.start), conv(s.end), s.label] for s in group]
    else:
        line["entities"] = [
            {"id": s.id, "label": s.label, "start_offset": conv(s.start), "end_offset": conv(s.end)}
            | ({"attributes": s.attributes} if s.attributes else {})
            for s in group
        ]
        ids = {s.id for s in group}
        line["relations"] = [
            dict(zip(("id", "from_id", "to_id"), (lid, *_link_ends(s.id, to, t)), strict=True)) | {"type": t}
            for s in group
            for lid, to, t in links.get(s.id, [])
            if to in ids
        ]
    line["Comments"] = []
    line["meta"] = {
        "nisba_document_id": doc_id, "title": title, "text_sha256": sha, "source": source,
        "offset_unit": "utf16" if offsets == "utf16" else "codepoint",
        "metadata": json.loads(meta_json) if meta_json else {}, "annotator": annotator, "layer": layer,
    }  # fmt: skip
    return line


def _write_jsonl(store, project, sfilters, sink, excel, progress, counts, *, offsets="utf16", layout="entities") -> None:
    """doccano 1.8's export: one ``<user>.jsonl`` per annotator (``_gold.jsonl`` for the gold layer: no user name
    starts with ``_``, so it never takes an annotator's file), each holding
    every example, offsets in UTF-16 code units (what doccano's editor writes and reads; ``offsets="codepoints"``
    for Python's), ``cue`` relations drawn CUE → content. Annotators are named by :func:`export_email` in
    ``meta.annotator``, so a re-import into Nisba finds the same accounts."""
    if offsets not in JSONL_OFFSETS:
        raise ExportError(f"Offsets must be one of {', '.join(JSONL_OFFSETS)}.")
    if layout not in JSONL_LAYOUTS:
        raise ExportError(f"The JSONL layout must be one of {', '.join(JSONL_LAYOUTS)}.")
    links = _links_by_from(store, project.id, sfilters) if layout == "entities" else {}
    n_lines = n_spans = n_links = 0
    for name, uid, f in _layer_filters(store, project, sfilters):
        if uid is None and next(store.iter_export_spans(project.id, **f), None) is None:
            continue  # no gold layer: no _gold.jsonl (doccano writes a file per member, and gold is nobody)
        with sink.text("_gold.jsonl" if uid is None else f"{name}.jsonl") as fh:
            for doc, spans in _spans_by_document(store, project.id, f):
                groups = _layers_by(spans, lambda s: s.annotator) or [(name, [])]
                for annotator, group in groups:
                    line = _doccano_line(
                        doc, group, links, export_email(annotator), "gold" if uid is None else "annotator", offsets, layout
                    )
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                    n_lines += 1
                    n_spans += len(group)
                    n_links += len(line.get("relations", ()))
                progress(n_spans)
    counts.update(lines=n_lines, spans=n_spans, links=n_links)


# Label Studio's <Text> tag has no direction parameter (https://labelstud.io/tags/text lists name, value,
# valueType, saveTextResult, encoding, selectionEnabled, highlightColor, showLabels, granularity); its <Style>
# tag styles a <View className=…> (https://labelstud.io/tags/style), so the text sits in a right-to-left View.
# pre-wrap keeps the article's spaces and newlines as they are counted in the offsets (the Text tag's page).
LS_RTL_STYLE = "  <Style>.nisba-rtl { direction: rtl; text-align: right; white-space: pre-wrap; }</Style>"


def labelstudio_config(store: Store, project_id: int) -> str:
    """A Label Studio labelling config for the project's labels, link types and attributes (per-region choices),
    the text shown right to left."""
    from xml.sax.saxutils import quoteattr

    from annotator.labels import LINK_TYPES

    labels = store.list_labels(project_id)
    parts = ["<View>", LS_RTL_STYLE, '  <Labels name="label" toName="text">']
    parts += [f"    <Label value={quoteattr(lab.name)} background={quoteattr(lab.colour)}/>" for lab in labels]
    parts += ["  </Labels>", '  <View className="nisba-rtl">', '    <Text name="text" value="$text"/>', "  </View>"]
    parts.append("  <Relations>")
    parts += [f"    <Relation value={quoteattr(t)}/>" for t in LINK_TYPES]
    parts.append("  </Relations>")
    attrs: dict[str, list[str]] = {}
    for lab in labels:
        for name, values in lab.attributes.items():
            attrs.setdefault(name, [])
            attrs[name] += [v for v in values if v not in attrs[name]]
    for name, values in attrs.items():
        parts.append(f'  <Choices name={quoteattr(name)} toName="text" perRegion="true">')
        parts += [f"    <Choice value={quoteattr(v)}/>" for v in values]
        parts.append("  </Choices>")
    parts.append("</View>")
    return "\n".join(parts) + "\n"


def _link_ends(frm: int, to: int, type_: str) -> tuple[int, int]:
    """A link's (from, to) as Label Studio and doccano users draw it. Nisba stores ``cue`` as content → CUE
    (annotator.labels.LINK_TYPES); the peer tools draw it CUE → CLAIM/QUOTE (the shared LS and doccano fixtures),
    and the importer turns that around again (importing._normalise_link), so the round trip is the identity."""
    return (to, frm) if type_ == "cue" else (frm, to)


def _ls_result(group: list[_Span], links: dict, origin: str = "manual") -> list[dict]:
    result: list[dict] = []
    ids = {s.id: region_id(s.id) for s in group}
    for s in group:
        value = {"start": s.start, "end": s.end, "text": s.text}
        region = {"value": {**value, "labels": [s.label]}, "id": ids[s.id], "from_name": "label", "to_name": "text",
                  "type": "labels", "origin": origin}  # fmt: skip
        if "score" in s.origin:
            region["score"] = s.origin["score"]
        result.append(region)
        for name, choice in s.attributes.items():
            result.append(
                {"value": {**value, "choices": [str(choice)]}, "id": ids[s.id], "from_name": name, "to_name": "text",
                 "type": "choices", "origin": origin}
            )  # fmt: skip
    for s in group:
        for _lid, to, type_ in links.get(s.id, []):
            if to in ids:
                a, b = _link_ends(s.id, to, type_)
                result.append({"from_id": ids[a], "to_id": ids[b], "type": "relation", "direction": "right", "labels": [type_]})
    return result


def _is_prediction(span: _Span) -> bool:
    return span.origin.get("source") == PREDICTION_SOURCE


def _ls_prediction(group: list[_Span], links: dict) -> dict:
    """A Label Studio prediction for the spans one model suggested (read back from LS ``predictions``)."""
    first = group[0].origin
    out = {"model_version": str(first.get("model_version") or group[0].annotator)}
    if isinstance(first.get("prediction_score"), int | float):  # a prediction without a score has none to give
        out["score"] = first["prediction_score"]
    out["result"] = _ls_result(group, links, origin="prediction")
    return out


def _ls_annotation(layer: str, annotator: str, group: list[_Span], links: dict) -> dict:
    """One annotator's (or gold) layer as a Label Studio annotation. ``completed_by`` is ``{"email": …}`` with
    :func:`annotator.auth.export_email`: Label Studio 1.23 keeps that author when a member of the organisation has
    the address (``tasks/serializers.py``, ``_insert_valid_completed_by``), and Nisba maps it back on import."""
    return {
        "result": _ls_result(group, links), "ground_truth": layer == "gold", "was_cancelled": False,
        "completed_by": {"email": export_email(annotator)},
        "created_at": min(s.created_at for s in group), "updated_at": max(s.updated_at for s in group),
        "lead_time": 0, "nisba_layer": layer,
    }  # fmt: skip


def _write_labelstudio(store, project, sfilters, sink, excel, progress, counts) -> None:
    """Tasks with ``data.text``, ``annotations[].result`` (labels, per-region choices, relations) and
    ``predictions`` (spans imported from another tool's predictions, with ``model_version`` and ``score``),
    the shape Label Studio's JSON export has and its importer takes; annotators by e-mail address."""
    links = _links_by_from(store, project.id, sfilters)
    n_tasks = n_spans = n_links = n_predictions = 0
    with sink.text("tasks.json") as fh:
        fh.write("[")
        first = True
        for doc, spans in _spans_by_document(store, project.id, sfilters):
            doc_id, title, text, sha, source, meta_json, created = doc
            meta = json.loads(meta_json) if meta_json else {}
            data = {"text": text, "title": title, "nisba_document_id": doc_id, "text_sha256": sha}
            data.update({k: v for k, v in meta.items() if k not in data and isinstance(v, str | int | float | bool)})
            annotations, predictions = [], []
            for (layer, annotator), group in _layers(spans):
                if _is_prediction(group[0]):
                    for _model, part in _layers_by(group, lambda s: s.origin.get("model_version")):
                        predictions.append(_ls_prediction(part, links))
                        n_links += sum(1 for r in predictions[-1]["result"] if r["type"] == "relation")
                    n_predictions += len(group)
                else:
                    annotations.append(_ls_annotation(layer, annotator, group, links))
                    n_links += sum(1 for r in annotations[-1]["result"] if r["type"] == "relation")
                n_spans += len(group)
            task = {"id": doc_id, "data": data, "annotations": annotations, "predictions": predictions}
            fh.write(("\n" if first else ",\n") + json.dumps(task, ensure_ascii=False))
            first = False
            n_tasks += 1
            progress(n_spans)
        fh.write("\n]\n")
    with sink.text("labelstudio-config.xml") as fh:
        fh.write(labelstudio_config(store, project.id))
    counts.update(tasks=n_tasks, spans=n_spans, links=n_links, prediction_spans=n_predictions)


def bio_tags(text: str, spans: list[tuple[int, int, str, int]]) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """Tokens of ``text`` with BIO tags for ``spans`` (start, end, label, id) of one layer.

    Returns ``(tokens, warnings)``: a span whose ends fall inside a token, or that overlaps an earlier span
    (nested spans cannot share one BIO sequence), is not tagged and is listed in the warnings instead.
    """
    toks = tokenize(text)
    starts = {s: i for i, (s, _e) in enumerate(toks)}
    ends = {e: i for i, (_s, e) in enumerate(toks)}
    tags = ["O"] * len(toks)
    warnings: list[tuple[int, str]] = []
    for start, end, label, span_id in sorted(spans):
        i, j = starts.get(start), ends.get(end)
        if i is None or j is None:
            where = "start" if i is None else "end"
            warnings.append((span_id, f"the span's {where} is inside a token; not widened, left untagged"))
            continue
        if any(t != "O" for t in tags[i : j + 1]):
            warnings.append((span_id, "overlaps another span of this layer; BIO cannot hold nested spans"))
            continue
        tags[i] = f"B-{label}"
        for k in range(i + 1, j + 1):
            tags[k] = f"I-{label}"
    return [(text[s:e], t) for (s, e), t in zip(toks, tags, strict=True)], warnings


def _layer_filters(store, project, sfilters) -> list[tuple[str, int | None, dict]]:
    """(name, annotator id or None for gold, store filters) of each layer a per-layer export writes: gold, then
    each annotator with spans. A layer's file has to be written in one go inside a zip, so such exports make
    one pass per layer over the documents, which keeps memory at one document."""
    layers: list[tuple[str, int | None, dict]] = []
    if sfilters.get("layer") != "annotator":
        layers.append(("gold", None, {**sfilters, "layer": "gold"}))
    if sfilters.get("layer") != "gold":
        wanted = sfilters.get("annotator_ids")
        for uid, username in store.project_annotators(project.id):
            if wanted is None or uid in wanted:
                layers.append((username, uid, {**sfilters, "layer": "annotator", "annotator_ids": [uid]}))
    return layers


def _write_conll(store, project, sfilters, sink, excel, progress, counts) -> None:
    """One BIO file per layer (each annotator, and gold) in CoNLL-2003 layout (``token -X- _ TAG``, a
    ``-DOCSTART-`` block per document), ``documents.csv`` naming each block's document, and ``warnings.csv``
    for spans whose ends are not on token boundaries (never silently widened)."""
    layers = _layer_filters(store, project, sfilters)
    warn_rows: list[list] = []
    doc_order: list[list] = []
    n_tokens = n_spans = 0
    files = 0
    for name, uid, f in layers:
        wrote_any = False
        block = 0
        with sink.text(f"conll/{'gold' if uid is None else 'annotator-' + name}.conll") as fh:
            for doc, spans in _spans_by_document(store, project.id, f):
                if not spans:
                    continue
                wrote_any = True
                tokens, warnings = bio_tags(doc.text, [(s.start, s.end, s.label, s.id) for s in spans])
                by_id = {s.id: s for s in spans}
                for span_id, reason in warnings:
                    s = by_id[span_id]
                    warn_rows.append([name, doc.id, span_id, s.label, s.start, s.end, s.text, reason])
                # CoNLL-2003 layout, as Label Studio writes it; documents.csv gives the document of each block
                fh.write("-DOCSTART- -X- O\n\n")
                fh.write("".join(f"{tok} -X- _ {tag}\n" for tok, tag in tokens))
                fh.write("\n")
                block += 1
                doc_order.append([name, block, doc.id, doc.title])
                n_tokens += len(tokens)
                n_spans += len(spans)
                progress(n_spans)
        files += wrote_any
    with sink.text("conll/documents.csv") as fh:
        write_csv(fh, ["layer", "block", "document_id", "document_title"], doc_order)
    with sink.text("conll/warnings.csv") as fh:
        write_csv(fh, ["layer", "document_id", "span_id", "label", "start_offset", "end_offset", "text", "reason"], warn_rows)
    counts.update(layers=len(layers), tokens=n_tokens, spans=n_spans, warnings=len(warn_rows))


def _write_audit(store, project, sfilters, sink, excel, progress, counts) -> None:
    """Every audit event, as CSV and JSONL, and the chain's verification with its head hash."""
    users = {u.id: u.username for u in store.list_users()}
    n = 0
    with sink.text("audit.jsonl") as fh:
        for ev in store.iter_events():
            fh.write(json.dumps({**ev, "username": users.get(ev["user_id"], "")}, ensure_ascii=False) + "\n")
            n += 1
            if n % 1000 == 0:
                progress(n)
    with sink.text("audit.csv", bom=excel) as fh:
        fh.write(csv_lines([AUDIT_COLUMNS]))
        for ev in store.iter_events():
            row = {**ev, "username": users.get(ev["user_id"], "")}
            for key in ("before", "after"):
                row[key] = "" if row[key] is None else audit.canonical_json(row[key])
            fh.write(csv_lines([[row[c] for c in AUDIT_COLUMNS]]))
    report = audit.verify_chain(store.iter_events(), store.audit_key())
    counts.update(events=n, chain_ok=report.ok, head_hash=report.head, broken_event_id=report.broken_event_id)


_WRITERS: dict[str, Callable] = {
    "csv": _write_span_csv,
    "xlsx": _write_span_xlsx,
    "triples": _write_triples,
    "jsonl": _write_jsonl,
    "labelstudio": _write_labelstudio,
    "conll": _write_conll,
    "audit": _write_audit,
}
BINARY_FORMATS = {"xlsx"}  # written through a sink's binary(), not text()
SINGLE_FILE_FORMATS = {"csv": ".csv", "xlsx": ".xlsx", "triples": ".csv", "labelstudio": ".json"}


def _schema_version(store: Store) -> list[str]:
    return store.schema_steps()


def _run(store, actor, project_id, fmt, sink, filters, excel, progress, offsets=None, layout=None) -> ExportResult:
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r} (known: {', '.join(FORMATS)}).")
    if fmt != "jsonl" and (offsets not in (None, "codepoints") or layout is not None):
        raise ExportError("Only the JSONL export takes an offset unit or a layout; the others count code points.")
    user = access.require_admin(store, actor)
    project = store.get_project(project_id)
    filters = filters or ExportFilters()
    sfilters = _store_filters(store, project_id, filters)
    started = now()
    counts: dict = {}
    writer = _WRITERS[fmt]
    unit = OFFSET_UNIT
    if fmt == "jsonl":
        offsets, layout = offsets or "utf16", layout or "entities"
        writer = functools.partial(_write_jsonl, offsets=offsets, layout=layout)
        unit = JSONL_OFFSETS.get(offsets, OFFSET_UNIT)
    writer(store, project, sfilters, sink, excel, progress or (lambda n: None), counts)
    metadata = {
        "nisba_export": fmt,
        "offset_unit": unit,
        "text_direction": "rtl",
        "export_schema_version": EXPORT_SCHEMA_VERSION,
        "database_migrations": _schema_version(store),
        "exported_at": started,
        "exported_by": user.username,
        "project": {"id": project.id, "name": project.name},
        "filters": filters.describe(),
        "excel_bom": bool(excel),
        "counts": counts,
        "files": list(sink.names),
        "notes": (
            "Offsets count Unicode code points into the stored (canonical) text: text[start:end] == span text. "
            "CSV cells starting with = + - @ tab or CR are prefixed with ' so spreadsheets do not run them."
            if unit == OFFSET_UNIT
            else "Offsets count UTF-16 code units into the stored (canonical) text, as doccano's editor does; "
            "Python slices need them converted (a character outside the BMP, e.g. an emoji, counts 2)."
        ),
    }
    if fmt == "jsonl":
        metadata["jsonl_layout"] = layout
    with sink.text("metadata.json") as fh:
        json.dump(metadata, fh, ensure_ascii=False, indent=2)
    sink.close()
    with store.write():
        store.record_event(
            user.id, "export", "project", project.id, after={"format": fmt, "filters": filters.describe(), "counts": counts}
        )
    return ExportResult(files=list(sink.names), metadata=metadata)


def export_zip(
    store: Store,
    actor: User | None,
    project_id: int,
    fmt: str,
    out: IO[bytes] | str | Path,
    filters: ExportFilters | None = None,
    *,
    excel: bool = False,
    progress: Callable[[int], None] | None = None,
    offsets: str | None = None,
    layout: str | None = None,
) -> ExportResult:
    """Write an export of ``fmt`` as a zip (data files + ``metadata.json``) to ``out`` (a path or binary file).

    ``excel`` writes CSV files with a UTF-8 BOM so Excel reads the Arabic. ``progress`` is called with the
    number of rows written so far. JSONL only: ``offsets`` "utf16" (default, doccano's editor) or "codepoints",
    ``layout`` "entities" (default, with relations) or "label" (doccano's tuples). Admins only; recorded as an
    ``export`` audit event.
    """
    access.require_admin(store, actor)
    if isinstance(out, str | Path):
        with open(out, "wb") as fh:
            return _run(store, actor, project_id, fmt, _ZipSink(fh), filters, excel, progress, offsets, layout)
    return _run(store, actor, project_id, fmt, _ZipSink(out), filters, excel, progress, offsets, layout)


def export_to_path(
    store: Store,
    actor: User | None,
    project_id: int,
    fmt: str,
    out: str | Path,
    filters: ExportFilters | None = None,
    *,
    excel: bool = False,
    progress: Callable[[int], None] | None = None,
    offsets: str | None = None,
    layout: str | None = None,
) -> ExportResult:
    """Export to ``out``: a zip when it ends in ``.zip``; for one-file formats the file itself plus
    ``<out>.metadata.json``; for JSONL (a file per annotator), CoNLL and audit (several files) a directory."""
    out = Path(out)
    if out.suffix.lower() == ".zip":
        return export_zip(
            store, actor, project_id, fmt, out, filters, excel=excel, progress=progress, offsets=offsets, layout=layout
        )
    access.require_admin(store, actor)
    if fmt in SINGLE_FILE_FORMATS:
        out.parent.mkdir(parents=True, exist_ok=True)
        sink = _DirSink(single=out)
    else:
        sink = _DirSink(directory=out)
    return _run(store, actor, project_id, fmt, sink, filters, excel, progress, offsets, layout)


def export_stream(
    store: Store, actor: User | None, project_id: int, fmt: str, stream: IO[str], filters: ExportFilters | None = None
) -> ExportResult:
    """Write a one-file export (csv, triples, jsonl, labelstudio) to a text stream, without ``metadata.json``.
    The same writers, checks and audit event as :func:`export_zip` (admins only)."""
    access.require_admin(store, actor)
    if fmt not in SINGLE_FILE_FORMATS or fmt in BINARY_FORMATS:
        raise ExportError(f"{fmt} is not a one-file text format; export it to a file, a directory or a zip.")
    return _run(store, actor, project_id, fmt, _StreamSink(stream), filters, False, None)


def export_file(
    store: Store, actor: User | None, project_id: int, fmt: str, filters: ExportFilters | None = None, *, excel: bool = False
) -> tuple[str, bytes]:
    """One-file formats (spans CSV or workbook, triples, JSONL, Label Studio JSON) as ``(file name, bytes)``,
    for a download without a zip (the page's one-click spans CSV). The metadata is not in the download but in
    the ``export`` audit event, as for every export. Admins only."""
    if fmt not in SINGLE_FILE_FORMATS:
        raise ExportError(f"{fmt!r} writes several files: export it as a zip.")
    sink = _MemorySink()
    result = _run(store, actor, project_id, fmt, sink, filters, excel, None)
    name = result.files[0]
    return name, sink.files[name]


def export_choices(store: Store, actor: User | None, project_id: int) -> dict:
    """What the export screen's filters offer: annotators with spans, labels, documents (admins only)."""
    access.require_admin(store, actor)
    return {
        "annotators": [name for _uid, name in store.project_annotators(project_id)],
        "labels": [lab.name for lab in store.list_labels(project_id)],
        "documents": {doc.id: doc.title for doc in store.iter_export_documents(project_id)},
        "spans": store.project_span_count(project_id),
    }
