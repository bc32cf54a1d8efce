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

The command line runs both passes at once (:func:`import_jsonl_stream`). The Import page previews first
(:func:`preview_files`: the check pass, then the second pass run dry to count what it would write) and writes
when the admin confirms (:func:`commit_preview`), the spool kept with the preview in between.

Measured with benchmarks/bench_import_memory.py (time against the raw baseline, peak memory).
"""

from __future__ import annotations

import io
import marshal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from annotator import access, auth
from annotator.audit_replay import ImportDigests, import_record
from annotator.formats.decoding import MAX_FILE_BYTES, check_name
from annotator.formats.readers import stream_jsonl
from annotator.formats.records import FileRejected, Problem, RawRecord
from annotator.importing import (
    TOOLS,
    ImportFile,
    ImportPreview,
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
    checked_files,
    checked_record,
    commit_import,
    note_repeat,
    note_unused_mapping,
    preview_import,
    refuse_rejected,
)
from annotator.models import User
from annotator.store import Store, now

BATCH_SPANS = 20_000  # rows held before an insert: ~10 MB of tuples
# SQLite's page cache while a batch goes in: the in-memory import's 128 MiB grows the process with the file;
# 16 MiB keeps a 200,000-span import's indexes warm enough (benchmarks/bench_import_memory.py)
CACHE_MIB = 16
_ROW_LAYER, _ROW_LABEL = itemgetter(1, 3, 4), itemgetter(2)  # a span row's (document, annotator, layer); its label id


Source = tuple[str, Path | BinaryIO]  # a file's name, and its path or an open binary file (an upload)


def can_stream(names: list, fmt: str = "auto", encoding: str | None = None) -> bool:
    """True when every file (paths or names) is JSONL read as UTF-8: what this module reads."""
    return (
        bool(names)
        and fmt in ("auto", "jsonl")
        and encoding is None
        and all(PurePosixPath(str(p)).suffix.lower() == ".jsonl" for p in names)
    )


def _records(sources: list[Source], annotator: str | None, preview: ImportPreview) -> Iterator[tuple[RawRecord | Problem, str]]:
    """(record or problem, the tool) for every line of every file; a file refused whole is a problem too. Each
    file is listed in ``preview`` with its record count."""
    tool = TOOLS["jsonl"]
    for name, source in sources:
        stem = PurePosixPath(name).stem
        file_user = stem if auth.is_username(auth.normalise_username(stem)) else None
        records = 0
        try:
            check_name(name)
            for item in stream_jsonl(source, annotator, file_user, name=name):
                records += isinstance(item, RawRecord)
                yield item, tool
        except FileRejected as exc:
            yield Problem(name, exc.line, exc.reason), tool
        preview.files.append({"name": name, "format": "jsonl", "records": records})


class _Spool:
    """The records the first pass accepted, prepared, for the second pass: in an anonymous temporary file (no name on
    disk, so it goes with the process, kill -9 included), one length-prefixed ``marshal`` blob per record (the
    fastest serialiser of plain values; the file never leaves this process). Memory holds one record at a time."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="nisba-import-", buffering=1 << 20)
        self.count = 0

    def add(self, doc: PreparedDocument) -> None:
        """Keep ``doc`` (its ``file`` and ``line`` say where it came from)."""
        self.count += 1
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


@dataclass
class StreamedPreview(ImportPreview):
    """An :class:`ImportPreview` whose accepted records wait in a spool on disk, not in :attr:`documents`
    (:func:`commit_streamed` writes them): its counts, problems and mapping are those of the in-memory preview."""

    new_documents: int = 0
    spool: _Spool | None = None
    checked_warnings: int = 0  # how many warnings the check pass gave; placing the documents gives the others

    def summary(self) -> dict:
        return {**ImportPreview.summary(self), "documents": self.new_documents}


def _check_pass(store: Store, preview: StreamedPreview, sources: list[Source], annotator: str | None) -> None:
    """The first pass: every record checked; problems, names and new labels noted in ``preview``, and every
    accepted record (prepared) added to its spool."""
    labels = {lab.name: lab for lab in store.list_labels(preview.project_id)}
    for item, tool in _records(sources, annotator, preview):
        doc = checked_record(item, annotator, f"import:jsonl:{item.file}", preview)
        if doc is None:
            continue
        bad = _note_new_labels(doc, labels, preview)
        if bad:
            preview.rejected.append(Problem(item.file, item.line, bad))
            continue
        for who in doc.span_annotators():
            preview.tools.setdefault(who, tool)
        preview.spool.add(doc)


@_cycle_gc_paused
def check_stream(
    store: Store,
    actor: User | None,
    project_id: int,
    sources: list[Source],
    *,
    annotator: str | None = None,
    map_annotators: dict[str, str] | None = None,
    skip_duplicates: bool = True,
) -> StreamedPreview:
    """Read and check JSONL files line by line (admins only; nothing written): problems, the annotator mapping and
    new labels, as :func:`annotator.importing.preview_import` finds them, with the accepted records spooled.
    Where each text would go (new, or joining a document already here) is :func:`preview_stream`'s part."""
    _empty, annotator, chosen = begin_preview(store, actor, project_id, annotator, map_annotators, skip_duplicates)
    preview = StreamedPreview(project_id=project_id, skip_duplicates=skip_duplicates, spool=_Spool())
    _check_pass(store, preview, sources, annotator)
    preview.accounts = auth.plan_import_accounts(store, preview.tools, chosen)
    note_unused_mapping(preview, chosen, annotator)
    preview.checked_warnings = len(preview.warnings)
    return preview


def preview_stream(store: Store, actor: User | None, project_id: int, sources: list[Source], **options) -> StreamedPreview:
    """:func:`check_stream`, then the write pass run dry (nothing written): new documents, texts already here,
    spans per label and links, as the import would write them now. ``options`` go to :func:`check_stream`."""
    preview = check_stream(store, actor, project_id, sources, **options)
    _write_pass(store, None, preview, dry=True)
    return preview


@_cycle_gc_paused
def commit_streamed(
    store: Store,
    actor: User | None,
    preview: StreamedPreview,
    *,
    skip_rejected: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportResult:
    """Write a streamed preview's records in one transaction (admins only), placed against the project as it is
    now; refused like :func:`annotator.importing.commit_import` when rows or files were rejected."""
    refuse_rejected(preview, skip_rejected)
    del preview.warnings[preview.checked_warnings :]  # the placement's own, from a dry run: it runs again
    preview.joined.clear()
    preview.duplicates.clear()
    preview.spans_per_label.clear()
    preview.repeats = 0
    with store.write(), store.bulk_cache(CACHE_MIB):  # one cache size for every batch: a batch reuses the last one's pages
        result = _write_pass(store, access.require_admin(store, actor), preview, progress=progress)
    if progress:
        progress(1.0)
    return result


def import_jsonl_stream(
    store: Store,
    actor: User | None,
    project_id: int,
    paths: list[Path],
    *,
    skip_rejected: bool = False,
    **options,
) -> tuple[StreamedPreview, ImportResult]:
    """Import JSONL files streamed from disk (admins only): the checks, mapping and transaction of
    :func:`annotator.importing.import_files`, with memory that does not grow with the files. The preview it
    returns holds the problems, the mapping and the counts, but no documents. ``options`` go to
    :func:`check_stream`."""
    preview = check_stream(store, actor, project_id, [(p.name, p) for p in paths], **options)
    try:
        return preview, commit_streamed(store, actor, preview, skip_rejected=skip_rejected)
    finally:
        preview.spool.close()


def preview_files(store: Store, actor: User | None, project_id: int, files: list[ImportFile], **options) -> ImportPreview:
    """The Import page's preview: JSONL uploads read as UTF-8 are streamed (:func:`preview_stream`: the records wait
    on disk, so the preview does not hold every document), other files go through
    :func:`annotator.importing.preview_import`. ``options`` as that function takes them."""
    if not can_stream([f.name for f in files], options.get("fmt", "auto"), options.get("encoding")):
        return preview_import(store, actor, project_id, files, **options)
    sources, refused = [], []
    for f, problem in checked_files(files, options.get("size_limit", MAX_FILE_BYTES)):
        if problem is None:
            sources.append((f.name, io.BytesIO(f.data)))
        else:
            refused.append(problem)
    keep = ("annotator", "map_annotators", "skip_duplicates")
    preview = preview_stream(store, actor, project_id, sources, **{k: v for k, v in options.items() if k in keep})
    preview.rejected[:0] = refused  # files refused whole first, as the in-memory preview lists them
    return preview


def commit_preview(store: Store, actor: User | None, preview: ImportPreview, **options) -> ImportResult:
    """Write what :func:`preview_files` previewed, by the path it was previewed on; ``options``: skip_rejected,
    progress."""
    if isinstance(preview, StreamedPreview):
        return commit_streamed(store, actor, preview, **options)
    return commit_import(store, actor, preview, **options)


def _write_pass(
    store: Store, user: User | None, preview: StreamedPreview, *, dry: bool = False, progress=None
) -> ImportResult | None:
    """The second pass: the spooled documents placed and written in batches, inside the caller's transaction; or,
    ``dry``, only placed and counted (labels and accounts the import would create get stand-in ids)."""
    pid = preview.project_id
    if dry:
        label_ids, user_ids = _planned_ids(store, preview)
    else:
        label_ids, user_ids = _labels_and_accounts(store, user, preview, used=set(preview.tools))
    kinds = {lab.name: lab.kind for lab in store.list_labels(pid)}
    label_names = {i: name for name, i in label_ids.items()}
    rows = _Rows(store.next_ids("documents"), store.next_ids("spans"), now())
    first_span, first_link = rows.next_span, store.next_ids("links")
    place = _Placement(store, preview, rows)
    totals = {"spans": 0, "links": 0}
    digests = ImportDigests()
    for k, doc in enumerate(preview.spool, start=1):
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
            _flush(store, rows, totals, dry)
            if progress:
                progress(0.95 * k / preview.spool.count)
    _flush(store, rows, totals, dry)
    preview.new_documents, preview.links = len(rows.new_doc_ids), totals["links"]
    if dry:
        return None
    preview.links = totals["links"] = store.count_links_from(first_link)  # stored: a repeated relation is skipped
    summary = {**preview.summary(), "spans": totals["spans"]}
    if rows.new_doc_ids:
        summary["document_ids"] = [rows.new_doc_ids[0], rows.new_doc_ids[-1]]
    store.record_event(
        user.id, "import", "project", pid, after={**summary, "rows": import_record(store, first_span, first_link, digests)}
    )
    return ImportResult(document_ids=rows.new_doc_ids, spans=totals["spans"], links=totals["links"], summary=summary)


def _planned_ids(store: Store, preview: ImportPreview) -> tuple[dict[str, int], dict[str, int]]:
    """For a dry run: label ids by name and account ids by annotator name in the files, as they are; labels and
    accounts the import would create get stand-ins (negative, one per name)."""
    label_ids = {lab.name: lab.id for lab in store.list_labels(preview.project_id)}
    for k, name in enumerate(preview.new_labels, start=1):
        label_ids.setdefault(name, -k)
    ids = {u.username: u.id for u in store.list_users()}
    new = {m.account: -k for k, m in enumerate(preview.accounts.values(), start=1) if m.account not in ids}
    return label_ids, {m.source: ids.get(m.account, new.get(m.account)) for m in preview.accounts.values()}


def _flush(store: Store, rows: _Rows, totals: dict, dry: bool = False) -> None:
    """Insert the rows held so far (unless ``dry``) and let them go (the transaction stays open)."""
    totals["spans"] += len(rows.spans)
    totals["links"] += len(rows.links)
    if not dry:
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
