"""The search index: folded text of documents, and the queries the Search page and Tag all run over it."""

from __future__ import annotations

from collections.abc import Iterable

from annotator.store.base import StoreBase
from annotator.text import fold_text

FOLD_BATCH = 200


class SearchIndex(StoreBase):
    # (search_words_version, the word index's terms and their documents, rows) as last read: see word_index_terms
    _word_terms: tuple[int, list[tuple[str, int]], int] | None = None

    def _search_queued(self) -> bool:
        if self._has_search_index is None:
            self._has_search_index = self.has_table("search_pending")
        if not self._has_search_index:
            return False
        return self._x("SELECT 1 FROM search_pending LIMIT 1").fetchone() is not None

    def _flush_search_queue(self) -> int:
        """Fold what the triggers queued into ``search_folded`` and add the new rows to SQLite's word index; returns
        how many rows were folded. Runs inside the write transaction, just before it commits."""
        if not self._search_queued():
            return 0
        self._x(
            "DELETE FROM search_folded WHERE id IN (SELECT f.id FROM search_pending p JOIN search_folded f"
            " ON f.kind = p.kind AND f.ref_id = p.ref_id)"
        )
        index = self.dialect.index_new_folded
        if index:  # new rows get ids above the largest one now
            last = self._x("SELECT coalesce(max(id), 0) FROM search_folded").fetchone()[0]
        count = 0
        # folded a batch of documents at a time: an import of 10,000 documents held all their texts at once here
        # (~40 MB of Python strings for a 42 MB file; issue 7 wants an import's memory flat). Ids first, then texts
        # by batch: PostgreSQL cannot read a cursor while the same connection writes.
        pending = [r[0] for r in self._x("SELECT ref_id FROM search_pending WHERE kind = 'doc' ORDER BY ref_id")]
        for i in range(0, len(pending), FOLD_BATCH):
            clause, ids = self.in_list("id", pending[i : i + FOLD_BATCH])
            texts = self._x(f"SELECT id, text FROM documents WHERE {clause}", [ids]).fetchall()
            self._many(
                "INSERT INTO search_folded (kind, ref_id, document_id, folded) VALUES ('doc', ?, ?, ?)",
                [(doc, doc, fold_text(text)) for doc, text in texts],
            )
            count += len(texts)
        if index:
            self._x(index, (last,))
            self._x(self.dialect.word_index_added)
        self._x("DELETE FROM search_pending")
        return count

    def rebuild_search_index(self) -> int:
        """Fold every document again (after a change of the folding rules, or to repair the index) and rebuild
        SQLite's word index from the folded rows; returns how many documents were folded.

        Folded rows are rewritten in place (only where the folding changed) and the word index rebuilt in one
        statement: deleting them first made FTS5 remove every document's terms one by one (a rebuild of 5,000
        documents took 3 to 6 s against about 1 s now)."""
        with self.write():
            # rows of documents that are gone go (by trigger, their terms too); documents without a row are queued
            self._x("DELETE FROM search_folded WHERE kind <> 'doc' OR ref_id NOT IN (SELECT id FROM documents)")
            kept = [r[0] for r in self._x("SELECT ref_id FROM search_folded ORDER BY ref_id")]
            self._x(
                "INSERT INTO search_pending (kind, ref_id) SELECT 'doc', d.id FROM documents d WHERE NOT EXISTS"
                " (SELECT 1 FROM search_folded f WHERE f.kind = 'doc' AND f.ref_id = d.id) ON CONFLICT DO NOTHING"
            )
            count = self._flush_search_queue()
            for i in range(0, len(kept), FOLD_BATCH):
                clause, ids = self.in_list("id", kept[i : i + FOLD_BATCH])
                texts = self._x(f"SELECT id, text FROM documents WHERE {clause}", [ids]).fetchall()
                self._many(
                    "UPDATE search_folded SET folded = ? WHERE kind = 'doc' AND ref_id = ? AND folded <> ?",
                    [(folded, doc, folded) for doc, folded in ((doc, fold_text(text)) for doc, text in texts)],
                )
            if self.dialect.rebuild_word_index:
                self._x(self.dialect.rebuild_word_index)
                self._x(self.dialect.word_index_added)
            return count + len(kept)

    def search_documents(
        self, project_id: int, words: list[tuple[str, ...]] | None, *, document_ids=None
    ) -> list[tuple[int, str]]:
        """(document id, folded text) of the project's documents (or of ``document_ids``), in document order: those
        holding every term of ``words`` (each term a tuple of folded words, a phrase when several), or all when
        None. On PostgreSQL, which has no word index here, a document holding each word somewhere is a candidate;
        the caller finds the hits in the folded text either way."""
        order = self.project_document_order(project_id, document_ids)
        source, where, params = self.dialect.word_search(words or [])
        clause, ids = self.in_list("f.ref_id", order)  # a document's row has ref_id = document_id: see folded_documents
        sql = f"SELECT f.document_id, f.folded FROM {source} WHERE f.kind = 'doc' AND {where} AND {clause}"
        rows = self._x(sql, [*params, ids]).fetchall()
        return sorted(rows, key=lambda r: order[r[0]])

    def word_index_terms(self) -> tuple[list[tuple[str, int]], int] | None:
        """The word index's distinct terms with how many documents hold each (all projects together), and how many
        documents it holds; None when there is no word index. Read from fts5vocab 'row' (60 ms for 5,000 documents:
        it walks the whole index) and kept until the store adds to the index (``search_words_version``); terms of
        deleted rows may stay meanwhile, which finds no document."""
        if self.dialect.word_index_terms is None:
            return None
        version = self._x(self.dialect.word_index_version).fetchone()[0]
        kept = self._word_terms
        if kept is None or kept[0] != version:  # read after the version: a write in between only reads them again
            terms = [(term, docs) for term, docs in self._x(self.dialect.word_index_terms)]
            kept = self._word_terms = (version, terms, self._x("SELECT count(*) FROM search_folded").fetchone()[0])
        return kept[1], kept[2]

    def documents_holding_any(self, terms: list[str]) -> set[int]:
        """Ids of the documents (all projects) whose word index holds one of ``terms`` (as :meth:`word_index_terms`
        gives them)."""
        if not terms:
            return set()
        source, where, params = self.dialect.any_word_search(terms)
        return {r[0] for r in self._x(f"SELECT f.document_id FROM {source} WHERE {where} AND f.kind = 'doc'", params)}

    @property
    def has_word_index(self) -> bool:
        """Whether :meth:`word_counts` can count a word's hits from the index (SQLite's FTS5 positions)."""
        return self.dialect.has_word_index

    def folded_documents(self, document_ids: Iterable[int]) -> dict[int, str]:
        """Document id → folded text, from the search index."""
        # by (kind, ref_id), the unique index: with document_id the planner walked every 'doc' row of the kind index
        # (13 ms for the 40 documents of a page, and as long for none; 0.5 ms now)
        clause, ids = self.in_list("ref_id", document_ids)
        rows = self._x(f"SELECT document_id, folded FROM search_folded WHERE kind = 'doc' AND {clause}", [ids])
        return dict(rows.fetchall())

    def word_counts(self, token: str) -> dict[int, int]:
        """Document id → how often one folded word occurs (documents only), read from the word index itself
        (fts5vocab): counting a frequent word's hits reads no text (4 ms for 4,500 hits, against 85 ms
        reading the 3,000 texts that hold them)."""
        rows = self._x(
            "SELECT f.document_id, count(*) FROM search_words_instance v JOIN search_folded f ON f.id = v.doc"
            " WHERE v.term = ? AND f.kind = 'doc' GROUP BY v.doc",
            (token,),
        )
        return dict(rows.fetchall())

    def restriction_spans(
        self, project_id: int, *, document_ids=None, labels=None, label_kinds=None, annotator_id: int | None = None,
        visible_to: int | None = None, attributed_to=None,
    ) -> list[tuple[int, int, int, int]]:  # fmt: skip
        """(span id, document id, start, end) of the project's spans a search is restricted to, in document and
        reading order. Filters: ``document_ids``, ``labels`` (names), ``label_kinds``, ``annotator_id`` (that
        annotator's layer), ``visible_to`` (a blind annotator's id: their own spans and gold only),
        ``attributed_to`` (ids of SOURCE spans the span must be linked to). Labels belong to one project, so the
        project is found through them, without reading the documents."""
        sql = (
            "SELECT s.id, s.document_id, s.start_offset, s.end_offset FROM spans s JOIN labels l ON l.id = s.label_id"
            " WHERE l.project_id = ?"
        )
        params: list = [project_id]
        for column, values in (("s.document_id", document_ids), ("l.name", labels), ("l.kind", label_kinds)):
            if values is not None:
                clause, param = self.in_list(column, values)
                sql += f" AND {clause}"
                params.append(param)
        if annotator_id is not None:
            sql += " AND s.annotator_id = ? AND s.layer = 'annotator'"
            params.append(annotator_id)
        if visible_to is not None:
            sql += " AND (s.annotator_id = ? OR s.layer = 'gold')"
            params.append(visible_to)
        if attributed_to is not None:
            clause, param = self.in_list("k.to_span_id", attributed_to)
            sql += f" AND s.id IN (SELECT k.from_span_id FROM links k WHERE k.type = 'attributed_to' AND {clause})"
            params.append(param)
        return self._x(sql + " ORDER BY s.document_id, s.start_offset, s.end_offset DESC, s.id", params).fetchall()
