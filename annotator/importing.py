"""Imports: files → a preview (documents, spans per label, duplicates, rejected rows) → one transaction.

The steps, each a function you can call without the UI:

1. :func:`read_files` decodes each file (annotator.formats.decoding) and parses it with its reader
   (annotator.formats.readers) into raw records: text, spans in the file's own offsets, relations.
2. :func:`prepare_record` canonicalises the text (annotator.text.canonicalize), works out the offset unit
   (code points; UTF-16 units are converted and reported), maps every span through canonicalisation and checks
   ``text[start:end] == span text``. A record that fails is rejected whole, with its line number.
3. :func:`preview_import` adds what the database already holds: duplicates by ``text_sha256`` (skipped by
   default; their spans join the existing document when that annotator has none there), new users, new labels.
4. :func:`commit_import` writes everything in one ``store.write()`` transaction with bulk inserts, and
   records one ``import`` audit event. By default nothing is written when anything was rejected.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from annotator import access, auth
from annotator.audit_replay import ImportDigests, import_record
from annotator.errors import InvalidText, NisbaError
from annotator.formats.decoding import FIELD_LIMIT, MAX_FILE_BYTES, ImportFile, check_name, check_size, decode, unzip
from annotator.formats.readers import (
    IMPORT_FORMATS,
    CsvOptions,
    read_csv,
    read_jsonl,
    read_labelstudio,
    read_txt,
)
from annotator.formats.records import FileRejected, Problem, RawRecord
from annotator.labels import LINK_TYPES, add_import_labels, validate_label
from annotator.models import User
from annotator.store import Store, now
from annotator.text import (
    CanonicalText,
    canonicalize,
    codepoint_to_utf16,
    is_grapheme_boundary,
    on_grapheme_boundaries,
    text_sha256,
    utf16_to_codepoint,
    word_edges,
)

FORMATS = IMPORT_FORMATS
MAX_JSON_DEPTH = 32
# The tool each reader's files come from: an imported annotator name reuses an account only when an import from
# the same tool created it (see auth.plan_import_accounts).
NOT_READ = dict.fromkeys(
    (".conll", ".conll2003", ".bio", ".iob", ".iob2"),
    "CoNLL/BIO files are not read (they keep tokens, not the article's text and offsets); import doccano JSONL, "
    "Label Studio JSON or CSV instead.",
)
TOOLS = {"jsonl": "doccano", "labelstudio": "labelstudio", "csv": "csv", "txt": "txt"}


class ImportRejected(NisbaError):
    """The import was refused: rows or files were rejected (nothing was written)."""

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message)
        self.problems = problems


# ---- prepared data ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PreparedSpan:
    label: str
    start: int  # canonical code points
    end: int
    text: str
    attributes: dict
    annotator: str
    layer: str
    origin: dict
    key: str | None = None


@dataclass
class PreparedDocument:
    """A document ready to write: canonical text, spans over it, links as pairs of span indexes."""

    file: str
    line: int
    title: str
    text: str
    raw_text: str
    sha256: str
    source: str
    metadata: dict
    spans: list[PreparedSpan] = field(default_factory=list)
    links: list[tuple[int, int, str, str]] = field(default_factory=list)  # from index, to index, type, annotator
    existing_id: int | None = None  # set when the text is already in the project (duplicate)
    duplicate_of: str | None = None  # "project" or "import"
    metadata_json: str = "{}"
    # doccano label tuples, checked, as (label, start, end) of one annotator layer: large imports skip building
    # a PreparedSpan per span; :meth:`materialize` builds them when a document has to be merged.
    compact: list[tuple[str, int, int]] | None = None
    compact_annotator: str = ""
    compact_layer: str = "annotator"

    def materialize(self) -> None:
        """Turn :attr:`compact` into :attr:`spans`."""
        if self.compact is not None:
            t, empty, who, layer = self.text, {}, self.compact_annotator, self.compact_layer
            self.spans = [
                PreparedSpan(lab, a, b, t[a:b], empty, who, layer, empty, None) for lab, a, b in self.compact
            ] + self.spans
            self.compact = None

    def span_labels(self) -> list[str]:
        return [c[0] for c in self.compact] if self.compact is not None else [s.label for s in self.spans]

    def span_annotators(self) -> set[str]:
        if self.compact is not None:
            return {self.compact_annotator} if self.compact else set()
        return {s.annotator for s in self.spans}


@dataclass
class ImportPreview:
    """What an import would do; nothing is written until :func:`commit_import`."""

    project_id: int
    skip_duplicates: bool = True
    files: list[dict] = field(default_factory=list)  # name, format, records
    documents: list[PreparedDocument] = field(default_factory=list)  # new documents
    attach: list[PreparedDocument] = field(default_factory=list)  # spans for documents already in the project
    duplicates: list[Problem] = field(default_factory=list)  # texts already here with nothing new: skipped
    joined: list[Problem] = field(default_factory=list)  # texts already here whose spans were added to them
    repeats: int = 0  # the same text again in these files with no spans (doccano's per-user files list every text)
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    spans_per_label: Counter = field(default_factory=Counter)
    links: int = 0
    accounts: dict[str, auth.AccountMapping] = field(default_factory=dict)  # annotator name in the files -> account
    tools: dict[str, str] = field(default_factory=dict)  # annotator name in the files -> the tool it came from
    new_labels: list[str] = field(default_factory=list)
    new_attribute_values: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # label -> name -> values

    @property
    def span_count(self) -> int:
        return sum(self.spans_per_label.values())

    def summary(self) -> dict:
        """Counts for the page, the command line and the audit event."""
        return {
            "files": [f["name"] for f in self.files],
            "documents": len(self.documents),
            "spans": self.span_count,
            "links": self.links,
            "spans_per_label": dict(sorted(self.spans_per_label.items())),
            "duplicates": len(self.duplicates) + len(self.joined),
            "texts_with_spans_added": len(self.joined),
            "repeated_texts": self.repeats,
            "rejected": len(self.rejected),
            "warnings": len(self.warnings),
            "annotators": {m.source: m.account for m in self.accounts.values()},
            "new_users": sorted(m.account for m in self.accounts.values() if m.new),
            "new_labels": list(self.new_labels),
            "new_attribute_values": self.new_attribute_values,
        }


@dataclass
class ImportResult:
    document_ids: list[int]
    spans: int
    links: int
    summary: dict


# ---- offsets ---------------------------------------------------------------------------------------------------


def _has_astral(text: str) -> bool:
    """Characters outside the BMP, where UTF-16 units and code points part ways (an encode is faster than a scan)."""
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _int(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().lstrip("-").isdigit() and len(v) <= 18:
        return int(v)
    return None


def _utf16(raw: str, off: int) -> int | None:
    """A UTF-16 offset as code points, or None when it points inside a surrogate pair."""
    cp = utf16_to_codepoint(raw, off)
    return cp if codepoint_to_utf16(raw, cp) == off else None


def _as_text(slice_: str, given: str) -> bool:
    # Label Studio writes value.text with each newline as the two characters \ and n.
    return slice_ == given or ("\n" in slice_ and slice_.replace("\n", "\\n") == given)


def _depth(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``value`` nests deeper than ``limit``."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return True
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return False


_SCALARS = (str, int, float, bool)


def _clean_json(value, what: str) -> str:
    """JSON for a metadata/attributes column, refusing deep nesting and lone surrogates."""
    flat = value.__class__ is dict and all(v is None or v.__class__ in _SCALARS for v in value.values())
    if not flat and isinstance(value, dict | list) and value and _depth(value):
        raise ValueError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        dumped = json.dumps(value or {}, ensure_ascii=False, sort_keys=True)
        dumped.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} contains a lone surrogate (like \\ud800)") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} cannot be stored: {exc}") from None
    return dumped


class _Reject(Exception):
    pass


def _resolve_offsets(rec: RawRecord, raw: str, notes: list[str]) -> list[tuple[int, int]]:
    """Raw code-point offsets for each span of ``rec``; converts UTF-16 units when that is what matches."""
    n = len(raw)
    pairs = []
    for k, s in enumerate(rec.spans, start=1):
        a = s.start if s.start.__class__ is int else _int(s.start)
        b = s.end if s.end.__class__ is int else _int(s.end)
        if a is None or b is None:
            raise _Reject(f"span {k}: offsets must be whole numbers, got {_short(s.start)} and {_short(s.end)}")
        pairs.append((a, b))
    astral = bool(rec.spans) and _has_astral(raw)
    unit = rec.offset_unit
    if unit == "utf16" or (unit == "auto" and astral):
        conv: list[tuple[int, int] | None] = []
        for a, b in pairs:
            ca, cb = _utf16(raw, a), _utf16(raw, b)
            conv.append((ca, cb) if ca is not None and cb is not None and 0 <= a and b <= codepoint_to_utf16(raw, n) else None)
    out: list[tuple[int, int]] = []
    converted = 0
    if unit == "auto" and astral and not any(s.text is not None for s in rec.spans):
        # Nothing to compare against: take the unit under which the spans are valid and fall between words.
        def score(cands):
            if any(c is None or not (0 <= c[0] < c[1] <= n) for c in cands):
                return -1
            return sum(word_edges(raw, a, b) for a, b in cands)

        cp_score, u16_score = score(pairs), score(conv)
        use16 = u16_score > cp_score or (u16_score == cp_score and rec.prefer_unit == "utf16")
        if use16 and u16_score >= 0 and conv != pairs:
            notes.append("offsets read as UTF-16 code units (as doccano's editor writes them) and converted to code points")
            return [c for c in conv]  # type: ignore[misc]
        return pairs
    for k, (s, (a, b)) in enumerate(zip(rec.spans, pairs, strict=True), start=1):
        if unit == "utf16":
            if conv[k - 1] is None:
                raise _Reject(f"span {k} ({s.label}) [{a}, {b}) is not a valid UTF-16 range of the text")
            out.append(conv[k - 1])  # type: ignore[arg-type]
            continue
        if s.text is None or unit == "codepoint":
            out.append((a, b))
            continue
        if 0 <= a <= b <= n and _as_text(raw[a:b], s.text):
            out.append((a, b))
        elif unit == "auto" and astral and conv[k - 1] is not None and _as_text(raw[conv[k - 1][0] : conv[k - 1][1]], s.text):
            out.append(conv[k - 1])  # type: ignore[arg-type]
            converted += 1
        else:
            _check_range(k, s.label, a, b, n)
            raise _Reject(
                f"span {k} ({s.label}) [{a}, {b}) is {raw[a:b]!r} in the text, not {s.text!r} (by code points or UTF-16 units)"
            )
    if converted:
        notes.append(f"{converted} span(s) had UTF-16 offsets; converted to code points")
    return out


def _check_range(k: int, label, a: int, b: int, n: int) -> None:
    if a < 0 or b > n:
        raise _Reject(f"span {k} ({label}) [{_short(a)}, {_short(b)}) is out of range (the text has {n} characters)")
    if a > b:
        raise _Reject(f"span {k} ({label}) [{a}, {b}) is reversed: the start comes after the end")
    if a == b:
        raise _Reject(f"span {k} ({label}) [{a}, {b}) is empty")


def checked_record(
    item: RawRecord | Problem, annotator: str | None, source: str, preview: ImportPreview
) -> PreparedDocument | None:
    """One read item through :func:`prepare_record`, for both import paths: a problem of the reader or a refusal
    goes into the preview (a problem without a line is a warning) and gives None; notes become warnings."""
    if isinstance(item, Problem):
        (preview.warnings if item.line is None else preview.rejected).append(item)
        return None
    try:
        doc, notes = prepare_record(item, annotator, source)
    except _Reject as exc:
        preview.rejected.append(Problem(item.file, item.line, str(exc)))
        return None
    preview.warnings += [Problem(item.file, item.line, n) for n in notes]
    return doc


def prepare_record(rec: RawRecord, default_annotator: str | None, source: str) -> tuple[PreparedDocument, list[str]]:
    """Check one raw record and bring it onto canonical text. Returns the document and notes (warnings).

    Raises ``_Reject`` with the reason when the record cannot be imported as a whole.
    """
    notes = list(rec.notes)
    # 1. the text, title and metadata in canonical form
    doc, canon = _prepared_document(rec, source, notes)
    if rec.label_tuples is not None:
        if canon.is_identity and rec.offset_unit != "utf16" and not _has_astral(rec.text):
            # the common large-import case: the text is already canonical and code points equal UTF-16 units
            return _prepare_tuples(rec, doc, notes, default_annotator)
        rec.spans = _tuples_to_spans(rec)
    # 2. each span on the canonical text, checked; 3. relations between them by the file's region keys
    pairs = _resolve_offsets(rec, rec.text, notes)
    index_of_key = _prepared_spans(rec, doc, canon, pairs, default_annotator, notes)
    for link in rec.links:
        who = link.annotator or default_annotator
        src = index_of_key.get((who, link.layer, str(link.from_key)))
        dst = index_of_key.get((who, link.layer, str(link.to_key)))
        if src is None or dst is None:
            notes.append(f"relation {link.from_key} → {link.to_key} refers to a region that is not there; skipped")
            continue
        doc.links.append((src, dst, link.type or "", who))
    return doc, notes


def _prepared_document(rec: RawRecord, source: str, notes: list[str]) -> tuple[PreparedDocument, CanonicalText]:
    """The record's document without spans: canonical text (refused when empty, too long or holding control
    characters), title and metadata; what canonicalisation removed or flagged goes to ``notes``."""
    raw = rec.text
    if not isinstance(raw, str):
        raise _Reject("the text is not a string")
    if len(raw) > FIELD_LIMIT:
        raise _Reject(f"the text is longer than {FIELD_LIMIT // (1024 * 1024)} MB")
    if not raw.strip():
        raise _Reject("the text is empty")
    try:
        canon = canonicalize(raw)
    except InvalidText as exc:
        raise _Reject(str(exc)) from None
    if canon.removed:
        notes.append(f"invisible characters removed: {', '.join(f'{k}×{v}' for k, v in sorted(canon.removed.items()))}")
    if canon.suspicious:
        notes.append(f"flagged: {', '.join(canon.suspicious)}")
    text = canon.text
    if not text.strip():
        raise _Reject("the text is empty once invisible characters (bidi controls, zero-width spaces) are removed")
    try:
        title = canonicalize(str(rec.title or "")).text.strip()[:200] or "untitled"
    except InvalidText as exc:
        raise _Reject(f"the title: {exc}") from None
    metadata = {**rec.metadata, **canon.metadata()}
    try:
        meta_json = _clean_json(metadata, "the metadata")
    except ValueError as exc:
        raise _Reject(str(exc)) from None
    doc = PreparedDocument(
        file=rec.file, line=rec.line, title=title, text=text, raw_text=raw, sha256=text_sha256(text), source=source,
        metadata=metadata, metadata_json=meta_json if metadata else "{}",
    )  # fmt: skip
    return doc, canon


def _prepared_spans(
    rec: RawRecord, doc: PreparedDocument, canon: CanonicalText, pairs: list, default_annotator: str | None, notes: list[str]
) -> dict[tuple, int]:
    """Add each span of ``rec`` (raw offsets ``pairs``) to ``doc`` on canonical offsets: in range, matching its
    stated text, on grapheme boundaries, one copy of repeats. Returns span indexes by (annotator, layer, key)."""
    raw, text, fast = rec.text, doc.text, canon.is_identity
    n = len(raw)
    seen: dict[tuple, int] = {}
    index_of_key: dict[tuple, int] = {}
    checked_users: set[str] = set()
    for k, (s, (a, b)) in enumerate(zip(rec.spans, pairs, strict=True), start=1):
        label = s.label
        if label.__class__ is not str or not label or label != label.strip():
            label = _label_text(k, label)
        if not 0 <= a < b <= n:
            _check_range(k, label, a, b, n)
        cs, ce = (a, b) if fast else canon.map_span(a, b)
        if cs == ce:
            raise _Reject(f"span {k} ({label}) [{a}, {b}) holds only characters that canonical text removes")
        span_text = text[cs:ce]
        if s.text is not None and not fast:
            _check_stated_text(k, label, s.text, span_text, "\n" in raw[a:b])
        if not (is_grapheme_boundary(text, cs) and is_grapheme_boundary(text, ce)):
            raise _Reject(f"span {k} ({label}) [{a}, {b}) splits a letter from its marks")
        who = s.annotator or default_annotator
        if who not in checked_users:
            _check_source_name(who)
            checked_users.add(who)
        attrs = _span_attributes(k, label, s.attributes)
        layer = "gold" if s.layer == "gold" else "annotator"
        ident = (who, layer, label, cs, ce)
        if ident in seen:
            notes.append(f"span {k} repeats span {seen[ident]} ({label} «{span_text}»); kept once")
            index = seen[ident] - 1
        else:
            try:
                origin = s.origin if not s.origin else json.loads(_clean_json(s.origin, f"span {k}'s origin"))
            except ValueError as exc:
                raise _Reject(str(exc)) from None
            doc.spans.append(PreparedSpan(label, cs, ce, span_text, attrs, who, layer, origin, s.key))
            index = len(doc.spans) - 1
            seen[ident] = index + 1
        if s.key is not None:
            index_of_key[(who, layer, str(s.key))] = index
    return index_of_key


def _check_stated_text(k: int, label: str, stated: str, span_text: str, has_newline: bool) -> None:
    """The text a file gives for a span must be what its offsets select once canonical."""
    try:
        expected = canonicalize(stated.replace("\\n", "\n") if has_newline else stated).text
    except InvalidText as exc:
        raise _Reject(f"span {k} ({label}): {exc}") from None
    if span_text != expected:
        raise _Reject(f"span {k} ({label}) is {span_text!r} after canonicalisation, not {expected!r}")


def _span_attributes(k: int, label: str, attributes: dict | None) -> dict[str, str]:
    """A span's attributes as text values; empty ones dropped, lists and objects refused."""
    out = {}
    for name, value in attributes.items() if attributes else ():
        if value in (None, ""):
            continue
        if not isinstance(value, str | int | float | bool):
            raise _Reject(f"span {k} ({label}): attribute {name!r} must be a single value")
        out[str(name)] = str(value)
    return out


def _label_text(k: int, label) -> str:
    """Span ``k``'s label stripped, or the reason it cannot be one (missing, blank, a list or an object)."""
    if label is None or (isinstance(label, str) and not label.strip()):
        raise _Reject(f"span {k} has no label")
    if not isinstance(label, str):
        kind = "a list" if isinstance(label, list) else "an object" if isinstance(label, dict) else type(label).__name__
        raise _Reject(f"span {k}: the label must be text, not {kind} ({_short(label)})")
    return label.strip()


def _short(value, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages quoting what a file holds."""
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 128 else f"a {len(str(value))}-digit number"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_source_name(who) -> None:
    """An annotator name as a file gives it: any text up to auth.MAX_SOURCE_NAME characters. It becomes an
    account through auth.plan_import_accounts (the preview shows which), never as it stands."""
    if not who:
        raise _Reject("the file does not say who annotated it; name the annotator")
    if not isinstance(who, str):
        raise _Reject(f"the annotator {who!r} is not a name (text)")
    if len(who) > auth.MAX_SOURCE_NAME:
        raise _Reject(f"the annotator name is longer than {auth.MAX_SOURCE_NAME} characters")


def _tuple_item(k: int, item) -> tuple[int, int, str]:
    if not isinstance(item, list | tuple) or len(item) != 3:
        raise _Reject(f'label {k} is not [start, end, "LABEL"]')
    a, b, label = item
    a2 = a if a.__class__ is int else _int(a)
    b2 = b if b.__class__ is int else _int(b)
    if a2 is None or b2 is None:
        raise _Reject(f"span {k}: offsets must be whole numbers, got {_short(a)} and {_short(b)}")
    return a2, b2, label


def _tuples_to_spans(rec: RawRecord) -> list:
    from annotator.formats.records import RawSpan

    out = []
    for k, item in enumerate(rec.label_tuples, start=1):
        a, b, label = _tuple_item(k, item)
        out.append(RawSpan(label=label, start=a, end=b, key=str(k - 1), annotator=rec.tuple_annotator, layer=rec.tuple_layer))
    return out


def _clean_tuples(tuples: list, text: str) -> list[tuple[str, int, int]] | None:
    """(label, start, end) for doccano label tuples that pass every check of :func:`_prepare_tuples` as they are:
    [int, int, str] lists in range, labels without spaces around them, no repeats, both ends on grapheme
    boundaries. None when any does not (the caller then goes span by span). Checks the whole list at once."""
    n = len(text)
    spans = [
        (lab, a, b)
        for t in tuples
        if t.__class__ is list and len(t) == 3
        for a, b, lab in (t,)
        if a.__class__ is int and b.__class__ is int and 0 <= a < b <= n
    ]
    if len(spans) != len(tuples):
        return None
    try:
        labels = {s[0] for s in spans}
        if len(set(spans)) != len(spans):
            return None
    except TypeError:  # an unhashable label
        return None
    if not all(lab.__class__ is str and lab and lab == lab.strip() for lab in labels):
        return None
    if not on_grapheme_boundaries(text, [s[1] for s in spans] + [s[2] for s in spans]):
        return None
    return spans


def _prepare_tuples(rec: RawRecord, doc: PreparedDocument, notes: list[str], default_annotator: str | None):
    """:func:`prepare_record` for doccano's ``label`` tuples over text that canonicalisation leaves unchanged:
    the same checks, without building an object per raw span."""
    text = doc.text
    n = len(text)
    who = rec.tuple_annotator or default_annotator
    if rec.label_tuples:
        _check_source_name(who)
    layer = "gold" if rec.tuple_layer == "gold" else "annotator"
    fast = _clean_tuples(rec.label_tuples, text)
    if fast is not None:
        if fast:
            doc.compact, doc.compact_annotator, doc.compact_layer = fast, who, layer
        return doc, notes
    # something to reject, strip, drop or look at closely: span by span, with the exact messages
    spans: list[tuple[str, int, int]] = []
    seen: set = set()
    good: set = set()
    for k, item in enumerate(rec.label_tuples, start=1):
        if item.__class__ is list and len(item) == 3 and item[0].__class__ is int and item[1].__class__ is int:
            a, b, label = item
        else:
            a, b, label = _tuple_item(k, item)
        if label.__class__ is not str or label not in good:
            label = _label_text(k, label)
            good.add(label)
        if not 0 <= a < b <= n:
            _check_range(k, label, a, b, n)
        if not (is_grapheme_boundary(text, a) and is_grapheme_boundary(text, b)):
            raise _Reject(f"span {k} ({label}) [{a}, {b}) splits a letter from its marks")
        ident = (label, a, b)
        if ident in seen:
            notes.append(f"span {k} repeats an earlier {label} span «{text[a:b]}»; kept once")
            continue
        seen.add(ident)
        spans.append(ident)
    if spans:
        doc.compact, doc.compact_annotator, doc.compact_layer = spans, who, layer
    return doc, notes


# ---- reading files --------------------------------------------------------------------------------------------


def detect_format(file: ImportFile, text: str) -> str:
    """The reader for a file, from its name and a look at its start."""
    suffix = PurePosixPath(file.name).suffix.lower()
    if suffix in NOT_READ:
        # read as plain text it would become one document of tab-separated tags
        raise FileRejected(NOT_READ[suffix])
    if suffix == ".txt":
        return "txt"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".jsonl":
        return "jsonl"
    if suffix in (".json", ".json_min"):
        return "labelstudio"
    head = text.lstrip()[:1]
    if head == "[":
        return "labelstudio"
    if head == "{":
        first = text.lstrip().split("\n", 1)[0]
        try:
            json.loads(first)
            return "jsonl"
        except (json.JSONDecodeError, RecursionError):
            return "labelstudio"
    return "txt"


def _export_metadata(member: ImportFile) -> bool:
    """True for the ``metadata.json`` of a Nisba export zip: it describes the data files, it holds no tasks."""
    if PurePosixPath(member.name).name != "metadata.json" or len(member.data) > 1_000_000:
        return False
    try:
        return "nisba_export" in json.loads(member.data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, TypeError):
        return False


def checked_files(files: Iterable[ImportFile], size_limit: int = MAX_FILE_BYTES) -> Iterator[tuple[ImportFile, Problem | None]]:
    """Each uploaded file with the reason it is refused whole (a name that is no plain file name, larger than
    ``size_limit``, or taking the import past it), or None."""
    total = 0
    for f in files:
        try:
            check_name(f.name)
            total += len(f.data)
            check_size(f.name, len(f.data), size_limit)
            check_size("The import", total, size_limit)
        except FileRejected as exc:
            yield f, Problem(f.name, exc.line, exc.reason)
            continue
        yield f, None


def refuse_rejected(preview: ImportPreview, skip_rejected: bool) -> None:
    """Refuse an import (ImportRejected, nothing written) whose preview rejected rows or files, unless told to
    leave them out."""
    if preview.rejected and not skip_rejected:
        raise ImportRejected(
            f"{len(preview.rejected)} row(s) or file(s) were rejected; nothing was imported. "
            + "; ".join(str(p) for p in preview.rejected[:5]),
            preview.rejected,
        )


def note_unused_mapping(preview: ImportPreview, chosen: dict[str, str], annotator: str | None) -> None:
    """A warning for each annotator name the admin mapped that no file has (the default annotator aside)."""
    for name in sorted(set(chosen) - set(preview.tools) - {annotator}):
        preview.warnings.append(Problem("", None, f"no annotator is called {name!r} in these files; mapping not used"))


@dataclass
class _FileRecords:
    name: str
    format: str
    items: list


def read_files(
    files: Iterable[ImportFile],
    *,
    fmt: str = "auto",
    encoding: str | None = None,
    csv_options: CsvOptions | None = None,
    annotator: str | None = None,
    include_predictions: bool = True,
    size_limit: int = MAX_FILE_BYTES,
) -> tuple[list[_FileRecords], list[Problem]]:
    """Decode and parse every file. Returns the records per file, and the files rejected whole."""
    if fmt not in FORMATS:
        raise NisbaError(f"Unknown import format {fmt!r} (known: {', '.join(FORMATS)}).")
    out: list[_FileRecords] = []
    rejected: list[Problem] = []
    expanded: list[tuple[ImportFile, str | None]] = []
    for f, refused in checked_files(files, size_limit):
        if refused is not None:
            rejected.append(refused)
            continue
        try:
            if f.name.lower().endswith(".zip"):
                # doccano's export: one <username>.jsonl per annotator
                expanded += [(m, PurePosixPath(m.name).stem) for m in unzip(f, size_limit) if not _export_metadata(m)]
            else:
                expanded.append((f, None))
        except FileRejected as exc:
            rejected.append(Problem(f.name, exc.line, exc.reason))
    for f, member_user in expanded:
        try:
            text = decode(f.name, f.data, encoding)
            kind = detect_format(f, text) if fmt == "auto" else fmt
            # doccano exports one <username>.jsonl per annotator: the file name names them, unless told otherwise
            stem = PurePosixPath(f.name).stem
            file_user = member_user or (stem if auth.is_username(auth.normalise_username(stem)) else None)
            if kind == "txt":
                items = list(read_txt(f.name, text))
            elif kind == "csv":
                items = list(read_csv(f.name, text, csv_options))
            elif kind == "jsonl":
                items = list(read_jsonl(f.name, text, annotator, file_user))
            else:
                items = list(read_labelstudio(f.name, text, include_predictions))
            out.append(_FileRecords(f.name, kind, items))
        except FileRejected as exc:
            rejected.append(Problem(f.name, exc.line, exc.reason))
    return out, rejected


# ---- preview and commit ---------------------------------------------------------------------------------------


def _cycle_gc_paused(fn):
    """Run ``fn`` with Python's cycle collector paused. A large import builds hundreds of thousands of small
    objects (parsed JSON, rows), which sets the collector off hundreds of times to walk them all (about 15% of
    the import) although they hold no reference cycles; they are still freed by reference counting."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():  # paused already (another import running in this process): leave it to that one
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


def _normalise_link(kinds: dict[str, str], src: PreparedSpan, dst: PreparedSpan, type_: str) -> tuple[bool, str] | None:
    """(swap, type) for a relation that fits Nisba's link rules, or None. Label Studio and doccano users often
    draw ``cue`` from the CUE to the content; Nisba stores content → cue."""
    ks, kd = kinds.get(src.label, "other"), kinds.get(dst.label, "other")
    types = [type_] if type_ in LINK_TYPES else list(LINK_TYPES) if not type_ else []
    for t in types:
        frm, to = LINK_TYPES[t]
        if ks in frm and kd in to:
            return False, t
        if kd in frm and ks in to:
            return True, t
    return None


@_cycle_gc_paused
def begin_preview(
    store: Store,
    actor: User | None,
    project_id: int,
    annotator: str | None,
    map_annotators: dict[str, str] | None,
    skip_duplicates: bool,
) -> tuple[ImportPreview, str | None, dict[str, str]]:
    """The start every import shares (read whole or streamed): admins only, into an existing project. Returns an
    empty preview, ``annotator`` as a checked user name, and the admin's mapping of annotator names to accounts,
    where ``annotator`` maps to its own account unless the admin mapped it elsewhere."""
    access.require_admin(store, actor)
    store.get_project(project_id)
    chosen = dict(map_annotators or {})
    if annotator is not None:
        annotator = auth.check_username(annotator)
        chosen.setdefault(annotator, annotator)
    return ImportPreview(project_id=project_id, skip_duplicates=skip_duplicates), annotator, chosen


def preview_import(
    store: Store,
    actor: User | None,
    project_id: int,
    files: Iterable[ImportFile],
    *,
    fmt: str = "auto",
    annotator: str | None = None,
    map_annotators: dict[str, str] | None = None,
    encoding: str | None = None,
    csv_options: CsvOptions | None = None,
    skip_duplicates: bool = True,
    include_predictions: bool = True,
    size_limit: int = MAX_FILE_BYTES,
    progress: Callable[[float], None] | None = None,
) -> ImportPreview:
    """Read, check and summarise an import without writing anything (admins only).

    ``annotator`` is the account that made the spans in files that do not say (doccano per-user files take
    their file name inside a zip). ``map_annotators`` maps annotator names in the files to accounts; names it
    leaves out get :func:`annotator.auth.plan_import_accounts`'s default (a new account, or a prefixed one when
    the name is someone else's), shown in ``preview.accounts``. ``skip_duplicates``: texts already in the
    project (same ``text_sha256``) are not added again; their spans join the existing document when that
    annotator has none there yet.
    """
    preview, annotator, chosen = begin_preview(store, actor, project_id, annotator, map_annotators, skip_duplicates)
    parsed, preview.rejected = read_files(
        files, fmt=fmt, encoding=encoding, csv_options=csv_options, annotator=annotator,
        include_predictions=include_predictions, size_limit=size_limit,
    )  # fmt: skip
    # 1. every record checked and brought onto canonical text; the annotator names and their tools noted
    prepared = _prepare_all(parsed, annotator, preview, progress)
    # 2. each annotator name mapped to an account (the admin's choices first)
    preview.accounts = auth.plan_import_accounts(store, preview.tools, chosen)
    note_unused_mapping(preview, chosen, annotator)
    # 3. labels, links and duplicates against what the project holds
    _place_all(store, preview, prepared)
    for d in preview.documents + preview.attach:
        preview.spans_per_label.update(d.span_labels())
        preview.links += len(d.links)
    if progress:
        progress(1.0)
    return preview


def _prepare_all(parsed: list[_FileRecords], annotator: str | None, preview: ImportPreview, progress) -> list:
    """(record, prepared document) for every record that passes :func:`prepare_record`; the others and the
    readers' problems go to ``preview.rejected`` / ``preview.warnings``; ``preview.tools`` gets each name."""
    out = []
    total = sum(len(f.items) for f in parsed) or 1
    done = 0
    for f in parsed:
        preview.files.append({"name": f.name, "format": f.format, "records": sum(isinstance(i, RawRecord) for i in f.items)})
        tool = TOOLS.get(f.format, "import")
        for item in f.items:
            done += 1
            if progress and done % 500 == 0:
                progress(0.8 * done / total)
            doc = checked_record(item, annotator, f"import:{f.format}:{f.name}", preview)
            if doc is None:
                continue
            for who in doc.span_annotators():
                preview.tools.setdefault(who, tool)
            out.append((item, doc))
    return out


def _place_all(store: Store, preview: ImportPreview, prepared: list) -> None:
    """Check each prepared document's labels and links against the project, and set it down as a new document
    or, for a text already there (or earlier in this import), as spans joining that document."""
    project_id = preview.project_id
    labels = {lab.name: lab for lab in store.list_labels(project_id)}
    kinds = {name: lab.kind for name, lab in labels.items()}
    existing_sha = store.document_ids_by_sha(project_id) if preview.skip_duplicates else {}
    layers_on = _existing_layers(store, preview)
    by_sha: dict[str, PreparedDocument] = {}
    for item, doc in prepared:
        bad = _note_new_labels(doc, labels, preview)
        if bad:
            preview.rejected.append(Problem(item.file, item.line, bad))
            continue
        doc.links = _fit_links(doc, {**kinds, **dict.fromkeys(preview.new_labels, "other")}, preview, item)
        existing = existing_sha.get(doc.sha256)
        earlier = by_sha.get(doc.sha256) if preview.skip_duplicates else None
        if existing is None and earlier is None:
            by_sha[doc.sha256] = doc
            preview.documents.append(doc)
            continue
        where = "earlier in this import" if earlier is not None and earlier.existing_id is None else "already in the project"
        doc.materialize()
        target = earlier
        if target is None:
            target = PreparedDocument(**{**doc.__dict__, "spans": [], "links": [], "compact": None})
            target.existing_id = existing
            target.duplicate_of = "project"
            by_sha[doc.sha256] = target
            preview.attach.append(target)
        added = _merge(target, doc, layers_on.get(target.existing_id, set()), preview, item)
        note_repeat(preview, item, doc, where, added)


def note_repeat(
    preview: ImportPreview, item: RawRecord | PreparedDocument, doc: PreparedDocument, where: str, added: int
) -> None:
    """Say what became of a text that is already in the project or ``"earlier in this import"``: its ``added``
    spans joined that document, or (no spans at all, a doccano per-user file listing every text) it is just
    counted, or it was a duplicate with nothing new. The in-memory and the streamed import both call this."""
    if added:
        note = f"same text as a document {where} ({doc.title!r}); its {added} span(s) were added to it"
        preview.joined.append(Problem(item.file, item.line, note))
    elif not doc.spans and where == "earlier in this import":
        preview.repeats += 1
    else:
        preview.duplicates.append(
            Problem(item.file, item.line, f"same text as a document {where} ({doc.title!r}); not added again")
        )


def _existing_layers(store: Store, preview: ImportPreview) -> dict[int, set[tuple[str, str]]]:
    """Per existing document, the (annotator name in the files, layer) pairs whose mapped account already has
    spans there: an import adds no second copy of those layers."""
    account_of = {m.source: m.account for m in preview.accounts.values() if not m.new}
    ids = {u.username: u.id for u in store.list_users()}
    sources_of: dict[int, list[str]] = {}
    for source, account in account_of.items():
        if account in ids:
            sources_of.setdefault(ids[account], []).append(source)
    out: dict[int, set[tuple[str, str]]] = {}
    for doc_id, user_id, layer in store.annotated_documents(preview.project_id):
        for source in sources_of.get(user_id, ()):
            out.setdefault(doc_id, set()).add((source, layer))
    return out


def _note_new_labels(doc: PreparedDocument, labels: dict, preview: ImportPreview) -> str | None:
    """Add the labels and attribute values the project lacks to the preview; the reason when a new label's
    name fails :func:`annotator.labels.validate_label` (the settings page's checks)."""
    for label in dict.fromkeys(doc.span_labels()):
        if label not in labels and label not in preview.new_labels:
            try:
                validate_label({"name": label}, [])
            except NisbaError as exc:
                return f"label {label!r}: {exc}"
            preview.new_labels.append(label)
    for s in doc.spans:
        allowed = labels[s.label].attributes if s.label in labels else {}
        for name, value in s.attributes.items():
            if value not in allowed.get(name, []):
                values = preview.new_attribute_values.setdefault(s.label, {}).setdefault(name, [])
                if value not in values:
                    values.append(value)
    return None


def _fit_links(doc: PreparedDocument, kinds: dict[str, str], preview: ImportPreview, item: RawRecord | PreparedDocument) -> list:
    """The document's links fitted to Nisba's rules (content → source, content → cue); the others are
    skipped with a warning."""
    fitted = []
    for a, b, t, who in doc.links:
        src, dst = doc.spans[a], doc.spans[b]
        if src.layer != dst.layer or src.annotator != dst.annotator:
            preview.warnings.append(
                Problem(item.file, item.line, f"relation {src.text!r} → {dst.text!r} crosses annotators; skipped")
            )
            continue
        fit = _normalise_link(kinds, src, dst, t)
        if fit is None:
            reason = f"relation {t or '(no type)'} {src.label} → {dst.label} does not fit Nisba's link types; skipped"
            preview.warnings.append(Problem(item.file, item.line, reason))
            continue
        swap, t2 = fit
        fitted.append((b, a, t2, who) if swap else (a, b, t2, who))
    return fitted


def _merge(target: PreparedDocument, doc: PreparedDocument, already: set, preview: ImportPreview, item: RawRecord) -> int:
    """Add ``doc``'s spans to ``target`` for each annotator layer that has none there yet (``already`` holds the
    (username, layer) pairs with spans on the existing document); the others are skipped, not doubled.
    Returns how many spans were added."""
    target.materialize()
    have = {(s.annotator, s.layer) for s in target.spans} | already
    keep: dict[int, int] = {}
    skipped = set()
    for i, s in enumerate(doc.spans):
        if (s.annotator, s.layer) in have:
            skipped.add((s.annotator, s.layer))
            continue
        keep[i] = len(target.spans)
        target.spans.append(s)
    for a, b, t, who in doc.links:
        if a in keep and b in keep:
            target.links.append((keep[a], keep[b], t, who))
    for who, layer in sorted(skipped):
        preview.warnings.append(Problem(item.file, item.line, f"{who}'s {layer} spans for this text are already there; skipped"))
    return len(keep)


@dataclass
class _Rows:
    """What an import writes, built before the bulk inserts: rows per table, and the ids handed out."""

    next_doc: int
    next_span: int
    time: str
    documents: list[tuple] = field(default_factory=list)
    spans: list[tuple] = field(default_factory=list)
    links: list[tuple] = field(default_factory=list)
    status: set[tuple[int, int]] = field(default_factory=set)  # (document id, annotator id) now in progress
    new_doc_ids: list[int] = field(default_factory=list)


@_cycle_gc_paused
def commit_import(
    store: Store,
    actor: User | None,
    preview: ImportPreview,
    *,
    skip_rejected: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportResult:
    """Write a previewed import in one transaction: all of it lands or none.

    Refuses (``ImportRejected``, nothing written) when rows or files were rejected, unless ``skip_rejected``.
    Missing annotators are created (role annotator, no password) and made project members; missing labels
    and attribute values are added to the project's scheme. Records one ``import`` audit event.
    """
    refuse_rejected(preview, skip_rejected)
    pid = preview.project_id
    with store.write():
        user = access.require_admin(store, actor)
        # 1. labels and accounts through their owners: the settings page's label checks, auth's account rules
        label_ids, user_ids = _labels_and_accounts(store, user, preview)
        # 2. rows: new documents (the project may have changed since the preview: texts added meanwhile are
        #    duplicates now), then every document's spans and links
        rows = _Rows(store.next_ids("documents"), store.next_ids("spans"), now())
        first_span, first_link = rows.next_span, store.next_ids("links")
        targets = _document_rows(store, preview, rows)
        annotated = store.annotated_documents(pid)
        digests = ImportDigests()
        for k, (did, existed, d) in enumerate(targets):
            before, links_before = len(rows.spans), len(rows.links)
            _span_and_link_rows(rows, did, existed, d, label_ids, user_ids, annotated)
            digests.add(did, rows.spans[before:], whole=not existed and len(rows.links) == links_before)
            if progress and k % 500 == 0:
                progress(0.5 * k / max(1, len(targets)))
        # 3. the bulk inserts, and one audit event with the id ranges written and a digest of their rows per
        #    document (`audit replay` checks them later)
        _insert(store, rows, progress)
        links = store.count_links_from(first_link)  # stored, not sent: a repeated relation is skipped
        summary = {**preview.summary(), "documents": len(rows.new_doc_ids), "spans": len(rows.spans), "links": links}
        if rows.new_doc_ids:
            summary["document_ids"] = [rows.new_doc_ids[0], rows.new_doc_ids[-1]]
        after = {**summary, "rows": import_record(store, first_span, first_link, digests)}
        store.record_event(user.id, "import", "project", pid, after=after)
    if progress:
        progress(1.0)
    return ImportResult(document_ids=rows.new_doc_ids, spans=len(rows.spans), links=links, summary=summary)


def _labels_and_accounts(
    store: Store, user: User, preview: ImportPreview, used: set[str] | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Inside the import's transaction: the label ids by name (missing labels and values added) and the account
    ids by annotator name in the files (new accounts created; ``used``: the names with spans, by default those
    of the preview's documents), every account made a project member."""
    label_ids = add_import_labels(store, user.id, preview.project_id, preview.new_labels, preview.new_attribute_values)
    if used is None:
        used = {who for d in preview.documents + preview.attach for who in d.span_annotators()}
    mappings = [m for m in preview.accounts.values() if m.source in used]
    user_ids = auth.create_import_accounts(store, user.id, mappings, preview.tools)
    for uid in set(user_ids.values()):
        store.add_member(preview.project_id, uid)
    return label_ids, user_ids


def _document_rows(store: Store, preview: ImportPreview, rows: _Rows) -> list[tuple[int, bool, PreparedDocument]]:
    """Rows for the new documents; returns every target as (document id, existed already, prepared document)."""
    pid = preview.project_id
    existing_sha = store.document_ids_by_sha(pid)
    position = store.next_document_position(pid)
    targets: list[tuple[int, bool, PreparedDocument]] = []
    for d in preview.documents:
        if d.sha256 in existing_sha and preview.skip_duplicates:
            targets.append((existing_sha[d.sha256], True, d))
            continue
        did = rows.next_doc
        rows.documents.append((did, pid, d.title, d.text, d.raw_text, d.sha256, d.source, d.metadata_json, position, rows.time))
        rows.new_doc_ids.append(did)
        targets.append((did, False, d))
        rows.next_doc += 1
        position += 1
    return targets + [(d.existing_id, True, d) for d in preview.attach]


def _span_and_link_rows(
    rows: _Rows, did: int, existed: bool, d: PreparedDocument, label_ids: dict, user_ids: dict, annotated: set
) -> None:
    """One document's span and link rows; on a document that existed, a layer that has spans there is skipped."""
    t = rows.time
    if d.compact is not None and not existed:
        # a new document with one layer of checked label tuples: rows straight from the tuples
        uid, layer, text, first = user_ids[d.compact_annotator], d.compact_layer, d.text, rows.next_span
        rows.spans += [
            (first + i, did, label_ids[lab], uid, layer, a, b, text[a:b], "{}", "{}", t, t)
            for i, (lab, a, b) in enumerate(d.compact)
        ]
        rows.next_span += len(d.compact)
        rows.status.add((did, uid))
        return
    d.materialize()
    ids: list[int | None] = []
    for s in d.spans:
        uid = user_ids[s.annotator]
        if existed and (did, uid, s.layer) in annotated:
            ids.append(None)  # this annotator's layer already has spans on the existing document
            continue
        rows.spans.append(
            (rows.next_span, did, label_ids[s.label], uid, s.layer, s.start, s.end, s.text,
             _dump(s.attributes) if s.attributes else "{}", _dump(s.origin) if s.origin else "{}", t, t)
        )  # fmt: skip
        ids.append(rows.next_span)
        rows.status.add((did, uid))
        rows.next_span += 1
    for a, b, type_, who in d.links:
        if ids[a] is not None and ids[b] is not None:
            rows.links.append((ids[a], ids[b], type_, user_ids[who], t))


def _insert(store: Store, rows: _Rows, progress: Callable[[float], None] | None, cache_mib: int | None = 128) -> None:
    """The rows' bulk inserts, with a page cache of ``cache_mib`` (None: the caller set it)."""
    with store.bulk_cache(cache_mib) if cache_mib else contextlib.nullcontext():
        store.bulk_insert_documents(rows.documents)
        if progress:
            progress(0.6)
        store.bulk_insert_spans(rows.spans)
        if progress:
            progress(0.9)
        store.bulk_insert_links(rows.links)
        # in key order: the status table's primary key index takes them as appends
        store.bulk_set_status([(d, u, "in_progress", rows.time) for d, u in sorted(rows.status)])


def _dump(value) -> str:
    if not value:
        return "{}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def import_files(
    store: Store, actor: User | None, project_id: int, files: Iterable[ImportFile], *, skip_rejected: bool = False, **options
) -> tuple[ImportPreview, ImportResult]:
    """Preview and commit in one call (the command line and tests). ``options`` go to :func:`preview_import`."""
    preview = preview_import(store, actor, project_id, files, **options)
    return preview, commit_import(store, actor, preview, skip_rejected=skip_rejected)


def file_from_path(path) -> ImportFile:
    """An :class:`ImportFile` for a path on disk (its plain name; the size is checked before reading)."""
    from pathlib import Path

    p = Path(path)
    check_size(p.name, p.stat().st_size)
    return ImportFile(p.name, p.read_bytes())


def csv_header(file: ImportFile, encoding: str | None = None) -> list[str]:
    """The columns of an uploaded CSV file, for choosing the text, title and id columns."""
    from annotator.formats.readers import csv_columns

    check_name(file.name)
    return csv_columns(file.name, decode(file.name, file.data, encoding))
