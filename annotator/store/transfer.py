"""Imports and exports: bulk writes with ids assigned up front, streamed reads for exports and digests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from annotator import audit
from annotator.models import AnnotatedLayer, ExportDocument, ExportLink, ExportSpanRow
from annotator.store.base import StoreBase

DOCUMENT_COLUMNS = (
    "id",
    "project_id",
    "title",
    "text",
    "raw_text",
    "text_sha256",
    "source",
    "metadata",
    "position",
    "created_at",
)
SPAN_COLUMNS = (
    "id", "document_id", "label_id", "annotator_id", "layer", "start_offset", "end_offset", "text", "attributes", "origin",
    "created_at", "updated_at",
)  # fmt: skip
LINK_COLUMNS = ("from_span_id", "to_span_id", "type", "annotator_id", "created_at")  # version: its default, 1
STATUS_COLUMNS = ("document_id", "user_id", "status", "updated_at")


class Transfer(StoreBase):
    def next_ids(self, table: str) -> int:
        """The next free id of ``documents``, ``spans`` or ``links`` (call inside :meth:`write`: every write
        transaction holds the write lock, so no other writer takes these ids before the import inserts them)."""
        if table not in ("documents", "spans", "links"):
            raise ValueError(f"no id allocation for {table!r}")
        return self._x(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    def iter_import_rows(
        self, first_span: int, last_span: int, first_link: int, last_link: int, document_ids: list[int] | None = None
    ) -> Iterator[tuple]:
        """An import's own rows for its digests, one at a time, ordered by document, spans before links, by id:
        (document_id, "span", id, *span content) or (document_id, "link", id, *link content), the content as
        :meth:`replay_rows` gives it. ``document_ids``: only the rows of those documents."""
        only, params = "", []
        if document_ids is not None:
            clause, param = self.in_list("s.document_id", document_ids)
            only, params = f" AND {clause}", [param]
        # the links first, as a list (PostgreSQL cannot read two streams of one connection at once); spans streamed
        links = iter(
            self._x(
                "SELECT s.document_id, k.id, k.from_span_id, k.to_span_id, k.type, k.annotator_id FROM links k"
                f" JOIN spans s ON s.id = k.from_span_id WHERE k.id BETWEEN ? AND ?{only} ORDER BY s.document_id, k.id",
                (first_link, last_link, *params),
            ).fetchall()
        )
        spans = self._stream(
            "SELECT document_id, id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes"
            f" FROM spans s WHERE id BETWEEN ? AND ?{only} ORDER BY document_id, id",
            (first_span, last_span, *params),
        )
        pending = next(links, None)
        for r in spans:
            while pending is not None and pending[0] < r[0]:
                yield (pending[0], "link", *pending[1:])
                pending = next(links, None)
            yield (r[0], "span", r[1], *r[2:9], audit.canonical_attributes(r[9]))
        while pending is not None:
            yield (pending[0], "link", *pending[1:])
            pending = next(links, None)

    def replay_rows(self, first_span: int = 1, first_link: int = 1, last_span: int | None = None,
                    last_link: int | None = None) -> tuple[dict[int, tuple], dict[int, tuple], dict[tuple, tuple]]:  # fmt: skip
        """Content rows for :mod:`annotator.audit_replay`: spans by id as (document_id, label_id, annotator_id, layer,
        start_offset, end_offset, text, attributes JSON), links by id as (from_span_id, to_span_id, type,
        annotator_id), review decisions by (entity, entity_id) as (reviewer_id, decision, version). Ids limited to
        ``[first, last]`` when given (an import's own rows); reviews only for the full read."""
        hi_s, hi_l = last_span if last_span is not None else 1 << 62, last_link if last_link is not None else 1 << 62
        spans = {
            r[0]: (r[1], r[2], r[3], r[4], r[5], r[6], r[7], audit.canonical_attributes(r[8]))
            for r in self._stream(
                "SELECT id, document_id, label_id, annotator_id, layer, start_offset, end_offset, text, attributes FROM spans"
                " WHERE id BETWEEN ? AND ? ORDER BY id", (first_span, hi_s),
            )
        }  # fmt: skip
        links = {
            r[0]: tuple(r[1:])
            for r in self._stream(
                "SELECT id, from_span_id, to_span_id, type, annotator_id FROM links WHERE id BETWEEN ? AND ? ORDER BY id",
                (first_link, hi_l),
            )
        }
        reviews = {}
        if last_span is None:
            reviews = {
                (r[0], r[1]): tuple(r[2:])
                for r in self._stream("SELECT entity, entity_id, reviewer_id, decision, version FROM reviews")
            }
        return spans, links, reviews

    @contextmanager
    def bulk_cache(self, mebibytes: int = 128) -> Iterator[None]:
        """A larger page cache on this connection while a bulk import inserts (the index pages of a 100,000-span
        insert otherwise leave and re-enter the default 2 MB cache); the old size comes back afterwards."""
        with self._backend.bulk_cache(mebibytes):
            yield

    def bulk_insert_documents(self, rows: Iterable[tuple]) -> None:
        """Rows of (id, project_id, title, text, raw_text, text_sha256, source, metadata_json, position, created_at)."""
        self._backend.load("documents", DOCUMENT_COLUMNS, rows)
        self._backend.sync_ids("documents")

    def bulk_insert_spans(self, rows: Iterable[tuple]) -> None:
        """Rows of (id, document_id, label_id, annotator_id, layer, start, end, text, attributes_json, origin_json,
        created_at, updated_at)."""
        self._backend.load("spans", SPAN_COLUMNS, rows)
        self._backend.sync_ids("spans")

    def bulk_insert_links(self, rows: Iterable[tuple]) -> None:
        """Rows of (from_span_id, to_span_id, type, annotator_id, created_at); repeats are ignored."""
        self._backend.load("links", LINK_COLUMNS, rows, skip_existing=True)

    def count_links_from(self, first_id: int) -> int:
        """How many links have an id of ``first_id`` or more: what an import that started its links there stored
        (a repeated relation it skipped is not there to count)."""
        return self._x("SELECT count(*) FROM links WHERE id >= ?", (first_id,)).fetchone()[0]

    def bulk_set_status(self, rows: Iterable[tuple]) -> None:
        """Rows of (document_id, user_id, status, updated_at); an existing status is kept."""
        self._backend.load("document_status", STATUS_COLUMNS, rows, skip_existing=True)

    def annotated_documents(self, project_id: int) -> set[AnnotatedLayer]:
        """Every (document, annotator, layer) that already has spans in the project."""
        rows = self._x(
            "SELECT DISTINCT s.document_id, s.annotator_id, s.layer FROM spans s JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ?",
            (project_id,),
        )
        return set(map(AnnotatedLayer._make, rows))

    def _has_reviews(self) -> bool:
        # The reviews table comes with issue 3; exports fill review columns only when it exists.
        if not self.has_table("reviews"):
            return False
        return {"entity", "entity_id", "decision", "reviewer_id"} <= self.columns("reviews")

    def _span_filter_sql(
        self, project_id: int, document_ids=None, annotator_ids=None, layer=None, labels=None,
        date_from=None, date_to=None, review_status=None, has_reviews=False,
    ) -> tuple[str, list]:  # fmt: skip
        where = ["d.project_id = ?"]
        params: list = [project_id]
        for column, values in (("s.document_id", document_ids), ("s.annotator_id", annotator_ids), ("l.name", labels)):
            if values is not None:
                clause, param = self.in_list(column, values)
                where.append(clause)
                params.append(param)
        if layer is not None:
            where.append("s.layer = ?")
            params.append(layer)
        if date_from:
            where.append("s.updated_at >= ?")
            params.append(date_from)
        if date_to:
            where.append("s.updated_at < ?")
            params.append(date_to)
        if review_status:
            if not has_reviews:
                where.append("FALSE" if review_status != "unreviewed" else "TRUE")
            elif review_status == "unreviewed":
                where.append("r.decision IS NULL")
            else:
                where.append("r.decision = ?")
                params.append(review_status)
        return " AND ".join(where), params

    def iter_export_spans(self, project_id: int, **filters) -> Iterator[ExportSpanRow]:
        """Spans of the project matching the filters, in document order, as :class:`ExportSpanRow`.

        ``filters``: document_ids, annotator_ids, layer, labels, date_from, date_to (on updated_at),
        review_status ('accepted' | 'rejected' | 'unreviewed'). Source and cue come from the span's
        ``attributed_to`` and ``cue`` links, several joined with '\\x1f'.
        """
        has_reviews = self._has_reviews()
        where, params = self._span_filter_sql(project_id, has_reviews=has_reviews, **filters)
        review_cols = "r.decision, ru.username" if has_reviews else "NULL, NULL"
        review_join = (
            " LEFT JOIN reviews r ON r.entity = 'span' AND r.entity_id = s.id LEFT JOIN users ru ON ru.id = r.reviewer_id"
            if has_reviews
            else ""
        )
        joined = self.dialect.group_concat
        sep = self.dialect.unit_separator
        sql = f"""
            SELECT s.id, s.document_id, l.name, l.kind, u.username, s.layer, s.start_offset, s.end_offset, s.text,
                   s.attributes, s.created_at, s.updated_at, {review_cols},
                   (SELECT {joined("k.to_span_id", sep)} FROM links k
                     WHERE k.from_span_id = s.id AND k.type = 'attributed_to'),
                   (SELECT {joined("t.text", sep)} FROM links k JOIN spans t ON t.id = k.to_span_id
                     WHERE k.from_span_id = s.id AND k.type = 'attributed_to'),
                   (SELECT {joined("t.text", sep)} FROM links k JOIN spans t ON t.id = k.to_span_id
                     WHERE k.from_span_id = s.id AND k.type = 'cue'),
                   (SELECT {joined("k.to_span_id", sep)} FROM links k
                     WHERE k.from_span_id = s.id AND k.type = 'cue'),
                   s.origin
            FROM spans s JOIN documents d ON d.id = s.document_id JOIN labels l ON l.id = s.label_id
            JOIN users u ON u.id = s.annotator_id{review_join}
            WHERE {where}
            ORDER BY d.position, d.id, s.layer, s.annotator_id, s.start_offset, s.end_offset DESC, s.id"""
        yield from map(ExportSpanRow._make, self._stream(sql, params))

    def iter_export_links(self, project_id: int, **filters) -> Iterator[ExportLink]:
        """Links whose ``from`` span matches the filters, by id."""
        has_reviews = self._has_reviews()
        where, params = self._span_filter_sql(project_id, has_reviews=has_reviews, **filters)
        review_join = " LEFT JOIN reviews r ON r.entity = 'span' AND r.entity_id = s.id" if has_reviews else ""
        sql = (
            "SELECT k.id, k.from_span_id, k.to_span_id, k.type FROM links k JOIN spans s ON s.id = k.from_span_id"
            f" JOIN documents d ON d.id = s.document_id JOIN labels l ON l.id = s.label_id{review_join}"
            f" WHERE {where} ORDER BY k.id"
        )
        yield from map(ExportLink._make, self._stream(sql, params))

    def iter_export_documents(self, project_id: int, document_ids=None) -> Iterator[ExportDocument]:
        """The project's documents (or those of ``document_ids``) in document order."""
        sql = "SELECT id, title, text, text_sha256, source, metadata, created_at FROM documents WHERE project_id = ?"
        params: list = [project_id]
        if document_ids is not None:
            clause, param = self.in_list("id", document_ids)
            sql += f" AND {clause}"
            params.append(param)
        yield from map(ExportDocument._make, self._stream(sql + " ORDER BY position, id", params))

    def span_attribute_names(self, project_id: int) -> list[str]:
        """Attribute names used on spans of the project (beyond the label definitions), sorted."""
        keys = self.dialect.json_keys("s.attributes", "j")
        rows = self._x(
            f"SELECT DISTINCT j.key FROM spans s JOIN documents d ON d.id = s.document_id, {keys}"
            " WHERE d.project_id = ? ORDER BY j.key",
            (project_id,),
        )
        return [r[0] for r in rows]

    def project_annotators(self, project_id: int) -> list[tuple[int, str]]:
        """(user id, username) of everyone with spans in the project."""
        rows = self._x(
            "SELECT DISTINCT u.id, u.username FROM spans s JOIN documents d ON d.id = s.document_id"
            " JOIN users u ON u.id = s.annotator_id WHERE d.project_id = ? ORDER BY u.id",
            (project_id,),
        )
        return [tuple(r) for r in rows]

    def project_span_count(self, project_id: int) -> int:
        """How many spans the project holds (for export progress bars)."""
        return self._x(
            "SELECT count(*) FROM spans s JOIN documents d ON d.id = s.document_id WHERE d.project_id = ?", (project_id,)
        ).fetchone()[0]
