"""Dataclasses the core passes around: rows of the database as plain Python values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

ROLES = ("annotator", "reviewer", "admin")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str = "annotator"
    display_name: str = ""
    active: bool = True
    origin: str = ""  # "" made by an admin or the console; "import:<tool>" made by an import

    @property
    def name(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    description: str = ""
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Label:
    id: int
    project_id: int
    name: str
    kind: str = "span"
    colour: str = "#cccccc"
    hotkey: str = ""
    description: str = ""
    # allowed attributes: {"form": ["direct", "indirect", "partial"]}
    attributes: dict = field(default_factory=dict)
    position: int = 0


@dataclass(frozen=True)
class Document:
    id: int
    project_id: int
    title: str
    text: str
    raw_text: str = ""
    text_sha256: str = ""
    source: str = ""
    metadata: dict = field(default_factory=dict)
    position: int = 0
    created_at: str = ""


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which made building the 5,000
# spans of a long article several times slower; nothing hashes or mutates spans (the dict fields already
# made them unhashable). Slots keep them small.
@dataclass(slots=True)
class Span:
    id: int
    document_id: int
    label_id: int
    label: str
    annotator_id: int
    start_offset: int
    end_offset: int
    text: str
    attributes: dict = field(default_factory=dict)
    layer: str = "annotator"
    origin: dict = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    version: int = 1

    @property
    def start(self) -> int:
        return self.start_offset

    @property
    def end(self) -> int:
        return self.end_offset


@dataclass(frozen=True)
class Link:
    id: int
    from_span_id: int
    to_span_id: int
    type: str
    annotator_id: int
    created_at: str = ""
    version: int = 1


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: str
    user_id: int | None
    action: str
    entity: str
    entity_id: int | None
    document_id: int | None
    before: dict | None
    after: dict | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Review:
    """The current decision on one span or link (``entity`` 'span' | 'link'); ``version`` counts changes."""

    id: int
    entity: str
    entity_id: int
    document_id: int
    reviewer_id: int
    decision: str
    entity_version: int = 1
    created_at: str = ""
    updated_at: str = ""
    version: int = 1


@dataclass(frozen=True)
class Comment:
    """One message in the thread on a span or link."""

    id: int
    entity: str
    entity_id: int
    document_id: int
    author_id: int
    body: str
    created_at: str = ""


# ---- rows of the store's fast paths (cursors over many rows): named, still tuples ----------------------------


class ExportDocument(NamedTuple):
    """A document as exports walk it (:meth:`Store.iter_export_documents`)."""

    id: int
    title: str
    text: str
    text_sha256: str
    source: str
    metadata_json: str
    created_at: str


class ExportSpanRow(NamedTuple):
    """A span as exports read it (:meth:`Store.iter_export_spans`); the link columns join several values with
    U+001F (unit separator)."""

    id: int
    document_id: int
    label: str
    label_kind: str
    annotator: str
    layer: str
    start: int
    end: int
    text: str
    attributes_json: str
    created_at: str
    updated_at: str
    review_status: str | None
    reviewer: str | None
    source_ids: str | None
    source_texts: str | None
    cue_texts: str | None
    cue_ids: str | None
    origin_json: str = "{}"


class ExportLink(NamedTuple):
    """A link as exports read it (:meth:`Store.iter_export_links`)."""

    id: int
    from_span_id: int
    to_span_id: int
    type: str


class AnnotatedLayer(NamedTuple):
    """One annotator's layer that has spans on a document (:meth:`Store.annotated_documents`)."""

    document_id: int
    annotator_id: int
    layer: str
