"""The command line: ``python -m annotator --help``.

Subcommands live with their concern: each module in ``COMMAND_MODULES`` has ``register(subparsers)``
adding its subcommands, each with ``func(args) -> int`` as its handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.models import Project, User
    from annotator.store import Store

COMMAND_MODULES = [
    "annotator.cli",
    "annotator.cli_teams",
    "annotator.cli_transfer",
    "annotator.cli_search",
    "annotator.cli_suggest",
    "annotator.cli_copy",
]


DB_HELP = "SQLite file or postgresql://user:password@host:port/database URL (default: $NISBA_DB or data/nisba.db)"


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """``--db PATH`` (or a ``postgresql://`` URL), defaulting to ``$NISBA_DB`` or data/nisba.db."""
    parser.add_argument("--db", default=None, help=DB_HELP)


def open_store(args):
    """The store named by ``--db`` (migrated). Imported here: the store pulls in sqlite-utils (and through it
    pandas), ~2 s of imports that ``--help`` and argument errors must not pay."""
    from annotator.store import Store, default_db_path

    return Store(args.db or default_db_path())


def add_command(sub, name: str, func, *, db: bool = True, **parser_options) -> argparse.ArgumentParser:
    """The subcommand ``name`` of ``sub`` (an ``add_subparsers`` result), handled by ``func(args) -> int``, with
    ``--db`` first unless ``db`` is False; ``parser_options`` (``help``, ``description``) go to ``add_parser``."""
    parser = sub.add_parser(name, **parser_options)
    if db:
        add_db_argument(parser)
    parser.set_defaults(func=func)
    return parser


def add_project_argument(parser: argparse.ArgumentParser) -> None:
    """``--project NAME``, required: the project a command acts in."""
    parser.add_argument("--project", required=True, help="project name")


def first_admin(store: Store) -> User:
    """The database's first active admin, whom the commands that act in a project (import, export, spans,
    search, suggest train) act as, audited under that user."""
    from annotator.errors import NisbaError

    admin = store.first_active_admin()
    if admin is None:
        raise NisbaError("The database has no active admin; create one first (python -m annotator users add --role admin).")
    return admin


def open_project(args) -> tuple[Store, User, Project]:
    """The store named by ``--db``, its first active admin, and the project named by ``--project`` (NotFound
    when there is none)."""
    from annotator.errors import NotFound

    store = open_store(args)
    admin = first_admin(store)
    project = store.project_by_name(args.project)
    if project is None:
        raise NotFound(f"There is no project named {args.project!r}.")
    return store, admin, project


def visual(text: str) -> str:
    """Shape and reorder Arabic for terminals without bidi support (display only, never stored)."""
    import arabic_reshaper
    from bidi.algorithm import get_display

    return get_display(arabic_reshaper.reshape(text))


def cmd_init(args) -> int:
    """Create or migrate the database, with the demo project when ``--demo`` is given."""
    from annotator.demo import ensure_demo

    store = open_store(args)
    print(f"Database ready: {store.display_name}")
    if args.demo:
        print("Demo project created." if ensure_demo(store) else "Demo project already present.")
    return 0


def cmd_spans(args) -> int:
    """The span export (Export → CSV) of one project or one document on stdout, run as the first active admin."""
    import io

    from annotator.errors import NisbaError
    from annotator.exporting import ExportFilters, export_stream

    store = open_store(args)
    admin = first_admin(store)
    if args.document is not None:
        project_id, filters = store.get_document(args.document).project_id, ExportFilters(document_ids=[args.document])
    else:
        project = store.project_by_name(args.project) if args.project else None
        projects = [project] if project else store.list_projects()
        if len(projects) != 1:
            raise NisbaError(f"Name a project with --project (or a --document); there are {len(projects)}.")
        project_id, filters = projects[0].id, None
    out = io.StringIO() if args.visual else sys.stdout
    export_stream(store, admin, project_id, "csv", out, filters)
    if args.visual:
        sys.stdout.write("".join(visual(line) + "\n" for line in out.getvalue().splitlines()))
    return 0


def register(sub) -> None:
    """The ``init`` and ``spans`` subcommands."""
    p = add_command(sub, "init", cmd_init, help="create or migrate a database (optionally with the demo project)")
    p.add_argument("--demo", action="store_true", help="add the demo project, article and accounts")
    p = add_command(
        sub, "spans", cmd_spans,
        help="print the span export (CSV) on stdout: offsets are code points into the stored text",
        description="Print the span export of Export → CSV (every cell a spreadsheet would run is neutralised). "
        "Runs as the first active admin and is audited as an export.",
    )  # fmt: skip
    p.add_argument("--project", default=None, help="project name (needed when the database has several)")
    p.add_argument("--document", type=int, default=None, help="only this document id")
    p.add_argument("--visual", action="store_true", help="reshape Arabic for terminals without bidi (display only)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every module in COMMAND_MODULES registers its subcommands."""
    parser = argparse.ArgumentParser(prog="python -m annotator", description="Nisba: Arabic attribution annotation.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a NisbaError is one line on stderr and exit status 1, never a traceback."""
    from annotator.errors import NisbaError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NisbaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
