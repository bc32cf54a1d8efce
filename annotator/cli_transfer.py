"""The ``import`` and ``export`` subcommands (issue 4). Both act as the database's first active admin."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from annotator.cli import add_command, add_project_argument, first_admin, open_project, open_store
from annotator.errors import NisbaError
from annotator.formats import EXPORT_FORMATS, IMPORT_FORMATS, MAX_FILE_BYTES

if TYPE_CHECKING:
    from annotator.importing import ImportFile
    from annotator.models import User
    from annotator.store import Store
# importing, exporting and projects are imported inside the handlers: --help stays quick

ACTS_AS = "Runs as the first active admin of the database (imports and exports are admin actions, audited under that user)."


def cmd_import(args) -> int:
    """Import files into the project named by ``--project`` (created if missing), streamed when they are JSONL
    files on disk; exit status 1 when anything was rejected."""
    from pathlib import Path

    from annotator.import_stream import can_stream
    from annotator.importing import ImportRejected, commit_import

    store = open_store(args)
    admin = first_admin(store)
    paths = [Path(p) for p in args.files]
    if can_stream(paths, args.format, args.encoding) and all(p.is_file() for p in paths):

        def stream(project):
            return _stream(store, admin, project.id, paths, args)

        return _import_into_project(store, admin, args, stream, " (streamed)")
    files, unreadable = _read_paths(args.files)

    def preview_and_commit(project):
        preview, rejected = _preview(store, admin, project.id, files, unreadable, args)
        if unreadable and not args.skip_rejected:
            raise ImportRejected(f"{len(unreadable)} file(s) could not be read; nothing was imported.", [])
        return preview, commit_import(store, admin, preview, skip_rejected=args.skip_rejected), rejected

    return _import_into_project(store, admin, args, preview_and_commit)


def _import_into_project(store: Store, admin: User, args, run, how: str = "") -> int:
    """``run(project) -> (preview, result, rejected count)`` into the project named by ``--project``, created if
    missing, then the summary; exit status 1 when anything was rejected or the import refused."""
    from annotator.importing import ImportRejected
    from annotator.projects import create_project

    created = False
    try:
        # one transaction around the project and the import: a refused import into a new project name leaves
        # no project, labels or audit event behind (the preview holds the write lock meanwhile; this is the CLI)
        with store.write():
            project = store.project_by_name(args.project)
            if project is None:
                project, created = create_project(store, admin, args.project), True
            preview, result, rejected = run(project)
    except ImportRejected as exc:
        new = f" and project {args.project!r} was not created" if created else ""
        print(f"error: {exc.args[0].split(';')[0]}{new}", file=sys.stderr)
        return 1
    if created:
        print(f"Created project {project.name!r}.")
    labels = ", ".join(f"{k} {v}" for k, v in sorted(preview.spans_per_label.items())) or "none"
    print(
        f"Imported into {project.name!r}{how}: {len(result.document_ids)} document(s), {result.spans} span(s) ({labels}), "
        f"{result.links} link(s); {_already_here(preview)}, {rejected} rejected."
    )
    return 1 if rejected else 0


def _stream(store: Store, admin: User, project_id: int, paths, args):
    """JSONL files, read line by line (annotator.import_stream): memory stays flat however large they are.
    Returns the preview, the result and how many rows were rejected, having printed what it found."""
    from annotator.import_stream import import_jsonl_stream
    from annotator.importing import ImportRejected

    try:
        preview, result = import_jsonl_stream(
            store, admin, project_id, paths, annotator=args.annotator, map_annotators=_mapping(args.map_annotator),
            skip_duplicates=not args.keep_duplicates, skip_rejected=args.skip_rejected,
        )  # fmt: skip
    except ImportRejected as exc:
        # nothing was printed yet: the refusal's rows are the only word of what was wrong
        for p in exc.problems:
            print(f"rejected: {p}", file=sys.stderr)
        raise
    return preview, result, _report(preview)


def _report(preview, unreadable: Sequence[str] = ()) -> int:
    """Print what an import found: files, the annotator mapping, warnings, repeated texts and (on stderr) every
    file that could not be read and every rejected row. Returns how many were rejected."""
    for f in preview.files:
        print(f"{f['name']}: {f['format']}, {f['records']} record(s)")
    for m in preview.accounts.values():
        print(f"annotator {m.source!r} -> account {m.account!r} ({m.reason})")
    for w in preview.warnings:
        print(f"warning: {w}")
    _print_repeats(preview)
    rejected = [*unreadable, *(f"{p}" for p in preview.rejected)]
    for line in rejected:
        print(f"rejected: {line}", file=sys.stderr)
    return len(rejected)


def _already_here(preview) -> str:
    """The summary's words for texts that were already in the project or earlier in the import."""
    parts = []
    if getattr(preview, "joined", None):
        parts.append(f"{len(preview.joined)} text(s) already here: their spans were added")
    parts.append(f"{len(preview.duplicates)} duplicate(s) skipped")
    return ", ".join(parts)


def _per_file(problems, what: str) -> list[str]:
    """One line per file for repeated texts (a doccano zip lists every text in every user's file): how many,
    and on which lines."""
    lines: dict[str, list] = {}
    for p in problems:
        lines.setdefault(p.file, []).append(p.line)
    out = []
    for file, numbers in lines.items():
        shown = ", ".join(str(n) for n in numbers[:20]) + (", …" if len(numbers) > 20 else "")
        out.append(f"{file}: {len(numbers)} {what} (line {shown})")
    return out


def _print_repeats(preview) -> None:
    """Texts already here, one line per file: those whose spans were added, then those with nothing new."""
    for line in _per_file(getattr(preview, "joined", []), "text(s) already here: their spans were added"):
        print(f"joined: {line}")
    for line in _per_file(preview.duplicates, "text(s) already here with nothing new: not added again"):
        print(f"duplicate: {line}")


def _read_paths(paths: list[str]) -> tuple[list[ImportFile], list[str]]:
    """The files named on the command line, and a line per file that could not be read."""
    from annotator.formats.records import FileRejected
    from annotator.importing import file_from_path

    files: list[ImportFile] = []
    unreadable: list[str] = []
    for path in paths:
        try:
            files.append(file_from_path(path))
        except FileRejected as exc:
            unreadable.append(f"{path}: {exc.reason}")
        except OSError as exc:
            unreadable.append(f"{path}: {exc.strerror or exc}")
    return files, unreadable


def _preview(store: Store, admin: User, project_id: int, files, unreadable: list[str], args):
    """Preview the import and print what it found (:func:`_report`). Returns the preview and how many files and
    rows were rejected."""
    from annotator.importing import preview_import

    preview = preview_import(
        store, admin, project_id, files, fmt=args.format, annotator=args.annotator, encoding=args.encoding,
        skip_duplicates=not args.keep_duplicates, map_annotators=_mapping(args.map_annotator),
    )  # fmt: skip
    return preview, _report(preview, unreadable)


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    """``--map-annotator SOURCE=ACCOUNT`` options as a dict (the last ``=`` splits: names may hold one)."""
    out = {}
    for pair in pairs or []:
        source, sep, account = pair.rpartition("=")
        if not sep or not source or not account:
            raise NisbaError(f"--map-annotator takes SOURCE=ACCOUNT, not {pair!r}.")
        out[source] = account
    return out


def cmd_export(args) -> int:
    """Export the project named by ``--project`` in ``--format`` to ``--out``, with the filters given."""
    from annotator.exporting import ExportFilters, export_to_path

    store, admin, project = open_project(args)
    filters = ExportFilters(
        annotators=args.annotator or None, gold=args.gold, labels=args.label or None, document_ids=args.document or None,
        review_status=args.review_status, date_from=args.date_from, date_to=args.date_to,
    )  # fmt: skip
    result = export_to_path(
        store, admin, project.id, args.format, args.out, filters, excel=args.excel, offsets=args.offsets, layout=args.layout
    )
    counts = ", ".join(f"{k} {v}" for k, v in result.metadata["counts"].items())
    print(f"Exported {args.format} of {project.name!r} to {args.out}: {counts}")
    for name in result.files:
        print(f"  {name}")
    return 0


def register(sub) -> None:
    """The ``import`` and ``export`` subcommands."""
    p = add_command(
        sub, "import", cmd_import,
        help="import documents and annotations (txt, csv, jsonl, Label Studio JSON)",
        description=f"Import files into a project (created if missing). {ACTS_AS} Everything lands in one transaction; "
        f"when any row or file is rejected nothing is written (unless --skip-rejected) and the exit status is 1. "
        f"Limit: {MAX_FILE_BYTES // (1024 * 1024)} MB per import, 10 MB per text.",
    )  # fmt: skip
    add_project_argument(p)
    p.add_argument("--annotator", default=None, help="username the spans belong to, for files that do not say")
    p.add_argument(
        "--map-annotator", action="append", default=None, metavar="SOURCE=ACCOUNT",
        help="put the spans of annotator SOURCE (as the files name them: a doccano file name, completed_by, "
        "meta.annotator) on account ACCOUNT, existing or new (repeatable). Unmapped names get a new account, "
        "prefixed with the tool (doccano.admin) when the name is someone else's account; the import prints the mapping",
    )  # fmt: skip
    p.add_argument("--format", default="auto", choices=IMPORT_FORMATS, help="file format (default: from the file name)")
    p.add_argument(
        "--encoding", default=None, help="the files' encoding when not UTF-8 (e.g. cp1256); UTF-8/16 with BOM are detected"
    )
    p.add_argument("--skip-rejected", action="store_true", help="import the accepted rows even when others are rejected")
    p.add_argument("--keep-duplicates", action="store_true", help="add texts already in the project again")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to import (.txt, .csv, .tsv, .jsonl, .json, .zip)")

    p = add_command(
        sub, "export", cmd_export,
        help="export spans (csv, xlsx, triples, jsonl, labelstudio, conll) or the audit log",
        description=f"Export a project. {ACTS_AS} --out ending in .zip writes a zip with metadata.json; otherwise one-file "
        "formats write the file plus <out>.metadata.json and jsonl/conll/audit write a directory. Offsets are Unicode "
        "code points, except jsonl's (UTF-16 units by default, as doccano counts them).",
    )  # fmt: skip
    add_project_argument(p)
    p.add_argument(
        "--format", required=True, choices=EXPORT_FORMATS, help="xlsx: the spans as an Excel workbook (sheet right to left)"
    )
    p.add_argument("--excel", action="store_true", help="write CSV with a UTF-8 BOM so Excel shows the Arabic")
    p.add_argument(
        "--offsets", default=None, choices=["utf16", "codepoints"],
        help="jsonl only: offset unit (default utf16, what doccano's editor counts; metadata.json says which)",
    )  # fmt: skip
    p.add_argument(
        "--layout", default=None, choices=["entities", "label"],
        help="jsonl only: doccano's entities + relations (default) or label tuples [[start, end, LABEL]]",
    )  # fmt: skip
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--annotator", action="append", default=None, metavar="USER", help="only this annotator's spans (repeatable)"
    )
    who.add_argument("--gold", action="store_true", help="only the gold layer")
    p.add_argument("--label", action="append", default=None, help="only this label (repeatable)")
    p.add_argument("--document", action="append", type=int, default=None, help="only this document id (repeatable)")
    p.add_argument("--review-status", default=None, choices=["accepted", "rejected", "unreviewed"])
    p.add_argument("--from", dest="date_from", default=None, help="spans updated at or after this ISO date")
    p.add_argument("--to", dest="date_to", default=None, help="spans updated before this ISO date")
    p.add_argument("--out", required=True, help="output path (.zip for a zip)")
