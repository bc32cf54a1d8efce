"""Rows to the core's dataclasses (the same on both backends: TEXT columns hold JSON text and ISO timestamps)."""

from __future__ import annotations

from annotator.models import Document, Label, Link, Span, User
from annotator.store.base import loads

SPAN_SELECT = """
SELECT s.id, s.document_id, s.label_id, l.name AS label, s.annotator_id, s.start_offset, s.end_offset,
       s.text, s.attributes, s.layer, s.origin, s.created_at, s.updated_at, s.version
FROM spans s JOIN labels l ON l.id = s.label_id
"""


def span_from_row(row) -> Span:
    """A row of :data:`SPAN_SELECT` as a :class:`Span`."""
    return Span(
        id=row[0], document_id=row[1], label_id=row[2], label=row[3], annotator_id=row[4],
        start_offset=row[5], end_offset=row[6], text=row[7], attributes=loads(row[8]), layer=row[9],
        origin=loads(row[10]), created_at=row[11], updated_at=row[12], version=row[13],
    )  # fmt: skip


def user_from_row(r: dict) -> User:
    return User(
        id=r["id"], username=r["username"], role=r["role"], display_name=r["display_name"], active=bool(r["active"]),
        origin=r["origin"],
    )  # fmt: skip


def label_from_row(r: dict) -> Label:
    return Label(
        id=r["id"], project_id=r["project_id"], name=r["name"], kind=r["kind"], colour=r["colour"],
        hotkey=r["hotkey"], description=r["description"], attributes=loads(r["attributes"]), position=r["position"],
    )  # fmt: skip


def document_from_row(r: dict) -> Document:
    return Document(
        id=r["id"], project_id=r["project_id"], title=r["title"], text=r["text"], raw_text=r["raw_text"],
        text_sha256=r["text_sha256"], source=r["source"], metadata=loads(r["metadata"]),
        position=r["position"], created_at=r["created_at"],
    )  # fmt: skip


def link_from_row(r: dict) -> Link:
    return Link(
        id=r["id"], from_span_id=r["from_span_id"], to_span_id=r["to_span_id"], type=r["type"],
        annotator_id=r["annotator_id"], created_at=r["created_at"], version=r["version"],
    )  # fmt: skip
