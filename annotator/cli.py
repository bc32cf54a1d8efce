"""The command line: ``python -m annotator --help``.

Subcommands live with their concern: each module in ``COMMAND_MODULES`` has ``register(subparsers)``
adding its subcommands, each with ``func(args) -> int`` as its handler.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import sys

from annotator.store import Store, default_db_path

COMMAND_MODULES = ["annotator.cli", "annotator.cli_teams", "annotator.cli_transfer"]


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``, defaulting to ``$NISBA_DB`` or data/nisba.db."""
    parser.add_argument("--db", default=None, help="SQLite file (default: $NISBA_DB or data/nisba.db)")


def open_store(args) -> Store:
    """The store named by ``--db`` (migrated)."""
    return Store(args.db or default_db_path())


def visual(text: str) -> str:
    """Shape and reorder Arabic for terminals without bidi support (display only, never stored)."""
    import arabic_reshaper
    from bidi.algorithm import get_display

    return get_display(arabic_reshaper.reshape(text))


def cmd_init(args) -> int:
    from annotator.demo import ensure_demo

    store = open_store(args)
    print(f"Database ready: {store.path}")
    if args.demo:
        print("Demo project created." if ensure_demo(store) else "Demo project already present.")
    return 0


def cmd_spans(args) -> int:
    store = open_store(args)
    if args.document is not None:
        docs = [store.get_document(args.document)]
    else:
        docs = [d for p in store.list_projects() for d in store.list_documents(p.id)]
    users = {u.id: u.username for u in store.list_users()}
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["document_id", "span_id", "label", "start_offset", "end_offset", "text", "annotator", "layer"])
    for doc in docs:
        for s in store.list_spans(doc.id):
            text = visual(s.text) if args.visual else s.text
            out.writerow(
                [doc.id, s.id, s.label, s.start_offset, s.end_offset, text, users.get(s.annotator_id, s.annotator_id), s.layer]
            )
    return 0


def register(sub) -> None:
    p = sub.add_parser("init", help="create or migrate a database (optionally with the demo project)")
    add_db_argument(p)
    p.add_argument("--demo", action="store_true", help="add the demo project, article and accounts")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("spans", help="print spans as CSV (offsets are code points into the stored text)")
    add_db_argument(p)
    p.add_argument("--document", type=int, default=None, help="only this document id")
    p.add_argument("--visual", action="store_true", help="reshape Arabic for terminals without bidi (display only)")
    p.set_defaults(func=cmd_spans)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m annotator", description="Nisba: Arabic attribution annotation.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from annotator.errors import NisbaError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NisbaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
