"""Streaming imports of JSONL files (issue 7): memory stays flat as the file grows, with the same checks, the
same annotator mapping and the same one transaction as :mod:`annotator.importing`.

Two passes, each holding one record at a time. The first reads the files line by line and checks every record
(:func:`annotator.importing.prepare_record`, the labels' rules), collecting what the import needs to know
(problems, annotator names, new labels) and setting each accepted record down, prepared, in a spool file
(:class:`_Spool`). Nothing is written when a record is rejected (unless told to skip them). The second pass,
inside one ``store.write()`` transaction, reads the spool back (not the files: parsing and checking them again
was a third of the import's time) and writes it in batches of rows; texts already in the project, or earlier in
the file, get the spans of layers they do not have yet, as the in-memory import does. A process killed half-way
leaves nothing: SQLite rolls the transaction back, and the spool has no name on disk.

Measured with benchmarks/bench_import_memory.py: see the commit that added this module.
"""

from __future__ import annotations

import marshal
import tempfile
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path, PurePosixPath

from annotator import access, auth
from annotator.audit_replay import ImportDigests, import_record
from annotator.formats.decoding import check_name
from annotator.formats.readers import stream_jsonl
from annotator.formats.records import FileRejected, Problem, RawRecord
from annotator.importing import (
    TOOLS,
    ImportPreview,
    ImportRejected,
    ImportResult,
    PreparedDocument,
    PreparedSpan,
    _cycle_gc_paused,
    _fit_links,
    _insert,
    _labels_and_accounts,
    _note_new_labels,
    _Rows,
    _span_and_link_rows,
    begin_preview,
    checked_record,
    note_repeat,
)
from annotator.models import User
from annotator.store import Store, now

BATCH_SPANS = 20_000  # rows held before an insert: ~10 MB of tuples
# SQLite's page cache while a batch goes in: the in-memory import's 128 MiB grows the process with the file;
# 16 MiB keeps a 200,000-span import's indexes warm enough (benchmarks/bench_import_memory.py)
CACHE_MIB = 16
_ROW_LAYER, _ROW_LABEL = itemgetter(1, 3, 4), itemgetter(2)  # a span row's (document, annotator, layer); its label id


def can_stream(paths: list[Path], fmt: str = "auto", encoding: str | None = None) -> bool:
    """True when every file is JSONL read as UTF-8 (what :func:`import_jsonl_stream` reads)."""
    return bool(paths) and fmt in ("auto", "jsonl") and encoding is None and all(p.suffix.lower() == ".jsonl" for p in paths)


def _records(
    paths: list[Path], annotator: str | None, preview: ImportPreview | None
) -> Iterator[tuple[RawRecord | Problem, str]]:
    """(record or problem, the tool) for every line of every file; a file refused whole is a problem too.
    With ``preview``, each file is listed in it with its record count."""
    tool = TOOLS["jsonl"]
    for path in paths:
        name = path.name
        stem = PurePosixPath(name).stem
        file_user = stem if auth.is_username(auth.normalise_username(stem)) else None
        records = 0
        try:
            check_name(name)
            for item in stream_jsonl(path, annotator, file_user):
                records += isinstance(item, RawRecord)
                yield item, tool
        except FileRejected as exc:
            yield Problem(name, exc.line, exc.reason), tool
        if preview is not None:
            preview.files.append({"name": name, "format": "jsonl", "records": records})


class _Spool:
    """The records the first pass accepted, prepared, for the second pass: in an anonymous temporary file (no name on
    disk, so it goes with the process, kill -9 included), one length-prefixed ``marshal`` blob per record (the
    fastest serialiser of plain values; the file never leaves this process). Memory holds one record at a time."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="nisba-import-", buffering=1 << 20)

    def add(self, doc: PreparedDocument) -> None:
        """Keep ``doc`` (its ``file`` and ``line`` say where it came from)."""
        spans = [(s.label, s.start, s.end, s.text, s.attributes, s.annotator, s.layer, s.origin, s.key) for s in doc.spans]
        data = marshal.dumps(
            (doc.file, doc.line, doc.title, doc.text, None if doc.raw_text is doc.text else doc.raw_text, doc.sha256,
             doc.source, doc.metadata_json, doc.compact, doc.compact_annotator, doc.compact_layer, spans, doc.links)
        )  # fmt: skip
        self._file.write(len(data).to_bytes(4, "little"))
        self._file.write(data)

    def __iter__(self) -> Iterator[PreparedDocument]:
        """The kept documents, in the order they were added (without their metadata dict: the JSON is kept)."""
        f = self._file
        f.seek(0)
        while head := f.read(4):
            (file, line, title, text, raw, sha, source, meta_json, compact, who, layer, spans, links) = marshal.loads(
                f.read(int.from_bytes(head, "little"))
            )
            yield PreparedDocument(
                file=file, line=line, title=title, text=text, raw_text=text if raw is None else raw, sha256=sha,
                source=source, metadata={}, spans=[PreparedSpan(*s) for s in spans], links=links,
                metadata_json=meta_json, compact=compact, compact_annotator=who, compact_layer=layer,
            )  # fmt: skip

    def close(self) -> None:
        self._file.close()


def _check_pass(store: Store, preview: ImportPreview, paths: list[Path], annotator: str | None, spool: _Spool) -> None:
    """The first pass: every record checked; problems, names and new labels noted in ``preview``, and every
    accepted record (prepared) added to ``spool``."""
    labels = {lab.name: lab for lab in store.list_labels(preview.project_id)}
    for item, tool in _records(paths, annotator, preview):
        doc = checked_record(item, annotator, f"import:jsonl:{item.file}", preview)
        if doc is None:
            continue
        bad = _note_new_labels(doc, labels, preview)
        if bad:
            preview.rejected.append(Problem(item.file, item.line, bad))
            continue
        for who in doc.span_annotators():
            preview.tools.setdefault(who, tool)
        spool.add(doc)


@_cycle_gc_paused
def import_jsonl_stream(
    store: Store,
    actor: User | None,
    project_id: int,
    paths: list[Path],
    *,
    annotator: str | None = None,
    map_annotators: dict[str, str] | None = None,
    skip_duplicates: bool = True,
    skip_rejected: bool = False,
) -> tuple[ImportPreview, ImportResult]:
    """Import JSONL files streamed from disk (admins only): the checks, mapping and transaction of
    :func:`annotator.importing.import_files`, with memory that does not grow with the files. The preview it
    returns holds the problems, the mapping and the counts, but no documents."""
    preview, annotator, chosen = begin_preview(store, actor, project_id, annotator, map_annotators, skip_duplicates)
    spool = _Spool()
    try:
        _check_pass(store, preview, paths, annotator, spool)
        preview.accounts = auth.plan_import_accounts(store, preview.tools, chosen)
        if preview.rejected and not skip_rejected:
            raise ImportRejected(
                f"{len(preview.rejected)} row(s) or file(s) were rejected; nothing was imported. "
                + "; ".join(str(p) for p in preview.rejected[:5]),
                preview.rejected,
            )
        with store.write(), store.bulk_cache(CACHE_MIB):  # one cache size for every batch: a batch reuses the last one's pages
            result = _write_pass(store, access.require_admin(store, actor), preview, spool)
    finally:
        spool.close()
    return preview, result


def _write_pass(store: Store, user: User, preview: ImportPreview, spool: _Spool) -> ImportResult:
    """The second pass, inside the caller's transaction: the spooled documents written in batches."""
    pid = preview.project_id
    label_ids, user_ids = _labels_and_accounts(store, user, preview, used=set(preview.tools))
    kinds = {lab.name: lab.kind for lab in store.list_labels(pid)}
    label_names = {i: name for name, i in label_ids.items()}
    rows = _Rows(store.next_ids("documents"), store.next_ids("spans"), now())
    first_span, first_link = rows.next_span, store.next_ids("links")
    place = _Placement(store, preview, rows)
    totals = {"spans": 0, "links": 0}
    digests = ImportDigests()
    for doc in spool:
        doc.links = _fit_links(doc, kinds, preview, doc)
        did, existed = place.document(doc, user_ids)
        before, links_before = len(rows.spans), len(rows.links)
        _span_and_link_rows(rows, did, existed, doc, label_ids, user_ids, place.annotated)
        new = rows.spans[before:]
        digests.add(did, new, whole=not existed and len(rows.links) == links_before)
        if existed:
            note_repeat(preview, doc, doc, place.where, len(new))
        # per row, but in C (map, itemgetter, Counter.update): a loop in Python here was 0.3 s at 200,000 spans
        place.annotated.update(map(_ROW_LAYER, new))
        preview.spans_per_label.update(map(label_names.__getitem__, map(_ROW_LABEL, new)))
        if len(rows.spans) >= BATCH_SPANS:
            _flush(store, rows, totals)
    _flush(store, rows, totals)
    totals["links"] = store.count_links_from(first_link)  # stored, not sent: a repeated relation is skipped
    summary = {**preview.summary(), "documents": len(rows.new_doc_ids), "spans": totals["spans"], "links": totals["links"]}
    if rows.new_doc_ids:
        summary["document_ids"] = [rows.new_doc_ids[0], rows.new_doc_ids[-1]]
    store.record_event(
        user.id, "import", "project", pid, after={**summary, "rows": import_record(store, first_span, first_link, digests)}
    )
    preview.links = totals["links"]
    return ImportResult(document_ids=rows.new_doc_ids, spans=totals["spans"], links=totals["links"], summary=summary)


def _flush(store: Store, rows: _Rows, totals: dict) -> None:
    """Insert the rows held so far and let them go (the transaction stays open)."""
    totals["spans"] += len(rows.spans)
    _insert(store, rows, None, cache_mib=None)
    rows.documents.clear()
    rows.spans.clear()
    rows.links.clear()
    rows.status.clear()


class _Placement:
    """Where each text goes: a new document, or one already in the project or earlier in the import (its spans
    then join it for the layers it has none of yet). ``annotated`` holds every (document, account, layer) with
    spans, growing as the import writes."""

    def __init__(self, store: Store, preview: ImportPreview, rows: _Rows):
        self.preview, self.rows = preview, rows
        self.existing = store.document_ids_by_sha(preview.project_id) if preview.skip_duplicates else {}
        self.position = store.next_document_position(preview.project_id)
        self.annotated: set[tuple] = set(store.annotated_documents(preview.project_id))
        self.earlier: dict[str, int] = {}  # text_sha256 -> document id written by this import

    def document(self, doc: PreparedDocument, user_ids: dict[str, int]) -> tuple[int, bool]:
        """(document id, whether it existed) for ``doc``; a new one gets its row."""
        sha = doc.sha256
        target = self.existing.get(sha)
        where = "already in the project"
        if target is None and self.preview.skip_duplicates and sha in self.earlier:
            target, where = self.earlier[sha], "earlier in this import"
        if target is None:
            rows = self.rows
            did = rows.next_doc
            rows.documents.append(
                (did, self.preview.project_id, doc.title, doc.text, doc.raw_text, sha, doc.source, doc.metadata_json,
                 self.position, rows.time)
            )  # fmt: skip
            rows.new_doc_ids.append(did)
            rows.next_doc += 1
            self.position += 1
            self.earlier[sha] = did
            return did, False
        self.where = where  # the caller says what became of it once its spans are written (note_repeat)
        doc.materialize()
        skipped = sorted(
            {(s.annotator, s.layer) for s in doc.spans if (target, user_ids[s.annotator], s.layer) in self.annotated}
        )
        for who, layer in skipped:
            self.preview.warnings.append(
                Problem(doc.file, doc.line, f"{who}'s {layer} spans for this text are already there; skipped")
            )
        return target, True
