"""The attribution index: sources, what is attributed to them, merged variants."""

from __future__ import annotations

from collections.abc import Iterable

from annotator.store.base import StoreBase, now


class Sources(StoreBase):
    @staticmethod
    def _source_filter(project_id: int, layer: str | None, visible_to: int | None) -> tuple[str, list]:
        """WHERE over SOURCE-kind spans ``s`` of a project: ``layer`` keeps one layer; ``visible_to`` (a blind
        annotator's id) keeps their own spans and gold. Labels belong to one project, so starting from the
        project's SOURCE labels reads only the source spans (idx_spans_label), not every span of every document."""
        where = ["s.label_id IN (SELECT id FROM labels WHERE project_id = ? AND kind = 'source')"]
        params: list = [project_id]
        if layer is not None:
            where.append("s.layer = ?")
            params.append(layer)
        if visible_to is not None:
            where.append("(s.annotator_id = ? OR s.layer = 'gold')")
            params.append(visible_to)
        return " AND ".join(where), params

    def source_summaries(self, project_id: int, *, layer: str | None = None, visible_to: int | None = None) -> dict:
        """The attribution index counted by the database, per stored source text (a few hundred rows for 100,000 spans,
        where one row per source span and attribution took 1 s to read and walk):
        ``spans``: text → (SOURCE spans, comma-separated document ids); ``labels``: (text, content label, distinct
        contents); ``cues``: (text, cue text, uses). Filters as :meth:`_source_filter`."""
        where, params = self._source_filter(project_id, layer, visible_to)
        documents = self.dialect.group_concat("s.document_id", distinct=True)
        spans = {
            r[0]: (r[1], r[2])
            for r in self._x(
                f"SELECT s.text, count(*), {documents} FROM spans s WHERE {where} GROUP BY s.text",
                params,
            )
        }
        attributed = (
            "FROM spans s JOIN links a ON a.to_span_id = s.id AND a.type = 'attributed_to' JOIN spans c ON c.id = a.from_span_id"
        )
        labels = self._x(
            f"SELECT s.text, l.name, count(DISTINCT c.id) {attributed} JOIN labels l ON l.id = c.label_id"
            f" WHERE {where} GROUP BY s.text, l.name",
            params,
        ).fetchall()
        cues = self._x(
            f"SELECT s.text, q.text, count(*) {attributed} JOIN links k ON k.from_span_id = c.id AND k.type = 'cue'"
            f" JOIN spans q ON q.id = k.to_span_id WHERE {where} GROUP BY s.text, q.text",
            params,
        ).fetchall()
        return {"spans": spans, "labels": labels, "cues": cues}

    def source_attributions(
        self, project_id: int, texts: Iterable[str] | None = None, *, layer: str | None = None, visible_to: int | None = None
    ) -> list[tuple]:
        """What is attributed to sources written as ``texts`` (all when None): (source text, content id, content
        label, content text, document id, start, end, cue texts joined by U+001F), in document order."""
        where, params = self._source_filter(project_id, layer, visible_to)
        if texts is not None:
            clause, param = self.in_list("s.text", texts)
            where += f" AND {clause}"
            params.append(param)
        sql = f"""
            SELECT s.text, c.id, l.name, c.text, c.document_id, c.start_offset, c.end_offset,
                   (SELECT {self.dialect.group_concat("q.text", self.dialect.unit_separator)} FROM links k JOIN spans q ON q.id = k.to_span_id
                     WHERE k.from_span_id = c.id AND k.type = 'cue')
            FROM spans s JOIN links a ON a.to_span_id = s.id AND a.type = 'attributed_to'
            JOIN spans c ON c.id = a.from_span_id JOIN labels l ON l.id = c.label_id
            WHERE {where} ORDER BY c.document_id, c.start_offset, c.id"""
        return self._x(sql, params).fetchall()

    def source_groups(self, project_id: int) -> dict[str, str]:
        """Folded source variant → the group it was merged into."""
        rows = self._x("SELECT variant, group_name FROM source_groups WHERE project_id = ?", (project_id,))
        return dict(rows.fetchall())

    def set_source_groups(self, project_id: int, mapping: dict[str, str], user_id: int) -> None:
        """Put each variant into its group (call inside :meth:`write`)."""
        t = now()
        self._many(
            "INSERT INTO source_groups (project_id, variant, group_name, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (project_id, variant) DO UPDATE SET group_name = excluded.group_name,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            [(project_id, v, g, user_id, t) for v, g in mapping.items()],
        )

    def clear_source_groups(self, project_id: int, variants: Iterable[str]) -> None:
        """Make each variant a group of its own again (call inside :meth:`write`)."""
        self._many("DELETE FROM source_groups WHERE project_id = ? AND variant = ?", [(project_id, v) for v in variants])
