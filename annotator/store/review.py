"""Review decisions, comments, gold adoption, and the progress and agreement data of a project."""

from __future__ import annotations

from annotator.models import Comment, Review, Span
from annotator.store.base import StoreBase, now
from annotator.store.rows import SPAN_SELECT, span_from_row


class Reviews(StoreBase):
    def get_review(self, entity: str, entity_id: int) -> Review | None:
        """The current decision on a span or link, or None when nobody decided yet."""
        rows = self.query("SELECT * FROM reviews WHERE entity = ? AND entity_id = ?", [entity, entity_id])
        return Review(**rows[0]) if rows else None

    def list_reviews(self, document_id: int) -> list[Review]:
        return [Review(**r) for r in self.query("SELECT * FROM reviews WHERE document_id = ? ORDER BY id", [document_id])]

    def insert_review(
        self, entity: str, entity_id: int, document_id: int, reviewer_id: int, decision: str, entity_version: int
    ) -> int:
        t = now()
        return self._insert(
            "INSERT INTO reviews (entity, entity_id, document_id, reviewer_id, decision, entity_version, created_at, updated_at, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (entity, entity_id, document_id, reviewer_id, decision, entity_version, t, t),
        )

    def update_review(self, review_id: int, expected_version: int, reviewer_id: int, decision: str, entity_version: int) -> bool:
        """Change a decision if its version still matches; False (nothing changed) when a colleague was first."""
        cur = self._x(
            "UPDATE reviews SET reviewer_id = ?, decision = ?, entity_version = ?, updated_at = ?, version = version + 1"
            " WHERE id = ? AND version = ?",
            (reviewer_id, decision, entity_version, now(), review_id, expected_version),
        )
        return cur.rowcount == 1

    def insert_comment(self, entity: str, entity_id: int, document_id: int, author_id: int, body: str) -> int:
        return self._insert(
            "INSERT INTO comments (entity, entity_id, document_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (entity, entity_id, document_id, author_id, body, now()),
        )

    def list_comments(self, document_id: int, entity: str | None = None, entity_id: int | None = None) -> list[Comment]:
        """Comments of a document (optionally on one span or link), oldest first."""
        sql, params = "SELECT * FROM comments WHERE document_id = ?", [document_id]
        if entity is not None:
            sql += " AND entity = ? AND entity_id = ?"
            params += [entity, entity_id]
        return [Comment(**r) for r in self.query(sql + " ORDER BY id", params)]

    def find_gold_span(self, document_id: int, label_id: int, start: int, end: int) -> Span | None:
        """The gold span with exactly these offsets and label, if any."""
        row = self._x(
            SPAN_SELECT
            + " WHERE s.document_id = ? AND s.layer = 'gold' AND s.label_id = ? AND s.start_offset = ? AND s.end_offset = ?"
            " ORDER BY s.id LIMIT 1",
            (document_id, label_id, start, end),
        ).fetchone()
        return span_from_row(row) if row else None

    def document_annotator_ids(self, document_id: int) -> list[int]:
        """Whose layers a document has: authors of annotator-layer spans, and annotators with a status row
        (someone who submitted an empty layer still counts: they found nothing to tag)."""
        rows = self.query(
            "SELECT annotator_id AS uid FROM spans WHERE document_id = ? AND layer = 'annotator'"
            " UNION SELECT ds.user_id FROM document_status ds JOIN users u ON u.id = ds.user_id"
            " WHERE ds.document_id = ? AND u.role = 'annotator' ORDER BY uid",
            [document_id, document_id],
        )
        return [r["uid"] for r in rows]

    def project_status_rows(self, project_id: int) -> list[dict]:
        """Per document and annotator: status and counts of spans, decided spans and rejected spans."""
        return self.query(
            """
            WITH layer AS (
                SELECT s.document_id, s.annotator_id AS user_id, count(*) AS spans,
                       count(r.id) AS decided, sum(CASE WHEN r.decision = 'rejected' THEN 1 ELSE 0 END) AS rejected
                FROM spans s JOIN documents d ON d.id = s.document_id
                LEFT JOIN reviews r ON r.entity = 'span' AND r.entity_id = s.id
                WHERE d.project_id = ? AND s.layer = 'annotator'
                GROUP BY s.document_id, s.annotator_id
            ), who AS (
                SELECT document_id, user_id FROM layer
                UNION SELECT ds.document_id, ds.user_id FROM document_status ds
                JOIN documents d ON d.id = ds.document_id JOIN users u ON u.id = ds.user_id
                WHERE d.project_id = ? AND u.role = 'annotator'
            )
            SELECT w.document_id, d.title, d.position, w.user_id, coalesce(ds.status, 'in_progress') AS status,
                   coalesce(l.spans, 0) AS spans, coalesce(l.decided, 0) AS decided, coalesce(l.rejected, 0) AS rejected
            FROM who w JOIN documents d ON d.id = w.document_id
            LEFT JOIN layer l ON l.document_id = w.document_id AND l.user_id = w.user_id
            LEFT JOIN document_status ds ON ds.document_id = w.document_id AND ds.user_id = w.user_id
            ORDER BY d.position, d.id, w.user_id
            """,
            [project_id, project_id],
        )

    def project_annotator_spans(self, project_id: int) -> list[tuple]:
        """All annotator-layer spans of a project as plain tuples, for agreement figures:
        (document_id, span_id, annotator_id, label, start, end, attributes JSON)."""
        return self._x(
            "SELECT s.document_id, s.id, s.annotator_id, l.name, s.start_offset, s.end_offset, s.attributes"
            " FROM spans s JOIN labels l ON l.id = s.label_id JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND s.layer = 'annotator' ORDER BY s.document_id, s.start_offset, s.id",
            (project_id,),
        ).fetchall()

    def project_annotator_links(self, project_id: int) -> list[tuple]:
        """All links between annotator-layer spans of a project: (document_id, link_id, annotator_id, type,
        from_span_id, to_span_id)."""
        return self._x(
            "SELECT s.document_id, k.id, k.annotator_id, k.type, k.from_span_id, k.to_span_id"
            " FROM links k JOIN spans s ON s.id = k.from_span_id JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND s.layer = 'annotator' ORDER BY k.id",
            (project_id,),
        ).fetchall()

    def project_document_annotators(self, project_id: int) -> list[tuple]:
        """(document_id, annotator_id) pairs: whose layers each document of the project has (see
        :meth:`document_annotator_ids`)."""
        return self._x(
            "SELECT s.document_id, s.annotator_id FROM spans s JOIN documents d ON d.id = s.document_id"
            " WHERE d.project_id = ? AND s.layer = 'annotator'"
            " UNION SELECT ds.document_id, ds.user_id FROM document_status ds JOIN documents d ON d.id = ds.document_id"
            " JOIN users u ON u.id = ds.user_id WHERE d.project_id = ? AND u.role = 'annotator'",
            (project_id, project_id),
        ).fetchall()
