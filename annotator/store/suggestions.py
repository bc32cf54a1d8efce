"""Suggestions: a project's cue forms, each user's dismissals, trained models."""

from __future__ import annotations

import json

from annotator.errors import NotFound
from annotator.store.base import StoreBase, now


class Suggestions(StoreBase):
    def list_suggestion_cues(self, project_id: int) -> list[dict]:
        """The project's own cue forms (id, form, lemma, kind, created_by, created_at), oldest first."""
        return self.query("SELECT * FROM suggestion_cues WHERE project_id = ? ORDER BY id", [project_id])

    def insert_suggestion_cue(self, project_id: int, form: str, lemma: str, kind: str, created_by: int) -> int | None:
        """Add a cue form to the project; None when the same form and kind is already there (nothing written)."""
        return self._insert(
            "INSERT INTO suggestion_cues (project_id, form, lemma, kind, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [project_id, form, lemma, kind, created_by, now()],
        )

    def delete_suggestion_cue(self, project_id: int, cue_id: int) -> dict:
        """Remove one of the project's cue forms and return its row; NotFound when it is not the project's."""
        rows = self.query("SELECT * FROM suggestion_cues WHERE id = ? AND project_id = ?", [cue_id, project_id])
        if not rows:
            raise NotFound(f"No cue form {cue_id} in this project.")
        self._x("DELETE FROM suggestion_cues WHERE id = ?", [cue_id])
        return rows[0]

    def dismissed_keys(self, document_id: int, user_id: int, layer: str) -> set[str]:
        """Keys of the suggestions this user dismissed on the document's layer."""
        sql = "SELECT key FROM suggestion_dismissals WHERE document_id = ? AND user_id = ? AND layer = ?"
        return {r[0] for r in self._x(sql, [document_id, user_id, layer])}

    def insert_dismissal(self, document_id: int, user_id: int, layer: str, key: str, engine: str, engine_version: str) -> bool:
        """Remember a dismissed suggestion; False when it was already dismissed."""
        cur = self._x(
            "INSERT INTO suggestion_dismissals (document_id, user_id, layer, key, engine, engine_version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [document_id, user_id, layer, key, engine, engine_version, now()],
        )
        return cur.rowcount == 1

    def delete_dismissal(self, document_id: int, user_id: int, layer: str, key: str) -> bool:
        """Forget a dismissal (undo); False when there was none."""
        cur = self._x(
            "DELETE FROM suggestion_dismissals WHERE document_id = ? AND user_id = ? AND layer = ? AND key = ?",
            [document_id, user_id, layer, key],
        )
        return cur.rowcount == 1

    def suggestion_counts(self, project_id: int) -> list[tuple[str, str, str, int]]:
        """(engine, label, outcome, count) over the project: spans whose origin names an engine, still standing,
        ``accepted`` as suggested or ``changed`` since (label, offsets or attributes edited: version > 1), and
        ``dismissed`` suggestions (label from the key)."""
        engine = self.dialect.json_text("s.origin", "engine")
        accepted = self._x(
            f"SELECT {engine}, l.name, CASE WHEN s.version > 1 THEN 'changed' ELSE 'accepted' END,"
            " count(*) FROM spans s JOIN labels l ON l.id = s.label_id JOIN documents d ON d.id = s.document_id"
            f" WHERE d.project_id = ? AND {engine} IS NOT NULL GROUP BY 1, 2, 3",
            [project_id],
        ).fetchall()
        colon = self.dialect.position("':'", "x.key")
        dismissed = self._x(
            f"SELECT x.engine, substr(x.key, 1, {colon} - 1), 'dismissed', count(*) FROM suggestion_dismissals x"
            " JOIN documents d ON d.id = x.document_id WHERE d.project_id = ? GROUP BY 1, 2",
            [project_id],
        ).fetchall()
        return [tuple(r) for r in accepted + dismissed]

    def insert_suggestion_model(self, project_id: int, row: dict, created_by: int) -> int:
        """Store a trained model (``row``: engine, version, labels, training_documents, training_spans, seconds,
        cross_validation, model); returns its id."""
        return self._insert(
            "INSERT INTO suggestion_models (project_id, engine, version, labels, trained_at, training_documents,"
            " training_spans, seconds, cross_validation, model, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                project_id, row["engine"], row["version"], json.dumps(row["labels"], ensure_ascii=False), now(),
                row["training_documents"], row["training_spans"], row["seconds"], json.dumps(row["cross_validation"]),
                json.dumps(row["model"]), created_by,
            ],
        )  # fmt: skip

    def latest_suggestion_model(self, project_id: int, engine: str, *, with_model: bool = True) -> dict | None:
        """The project's latest model of ``engine`` as a dict (JSON fields decoded), or None."""
        cols = (
            "*"
            if with_model
            else "id, project_id, engine, version, labels, trained_at, training_documents, training_spans, seconds, cross_validation, created_by"
        )
        rows = self.query(
            f"SELECT {cols} FROM suggestion_models WHERE project_id = ? AND engine = ? ORDER BY id DESC LIMIT 1",
            [project_id, engine],
        )
        if not rows:
            return None
        row = rows[0]
        for key in ("labels", "cross_validation", "model"):
            if key in row:
                row[key] = json.loads(row[key])
        return row
