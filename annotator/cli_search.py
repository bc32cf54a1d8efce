"""``python -m annotator search``: the corpus search on the command line, hits as CSV, as the acting admin; and
``search-index rebuild``, which folds every document again and rebuilds the word index."""

from __future__ import annotations

import sys
import time

from annotator.cli import add_command, add_project_argument, open_project, open_store

HEADER = ["document_id", "title", "start_offset", "end_offset", "text", "context"]


def cmd_search(args) -> int:
    """Print every hit of the query in the project as CSV through the app's one CSV writer."""
    # imported here: `python -m annotator --help` must not pay for the search and export modules
    from annotator.exporting import write_csv
    from annotator.search import find_hits

    store, admin, project = open_project(args)
    hits = find_hits(
        store, admin, project.id, " ".join(args.query), substring=args.substring, label=args.label, source=args.source
    )
    write_csv(sys.stdout, HEADER, ([h.document_id, h.title, h.start, h.end, h.text, h.context] for h in hits))
    return 0


def cmd_search_index_rebuild(args) -> int:
    """Fold every document again and rebuild the word index (after an upgrade that changed the folding rules, or
    to repair an index written behind the app's back); derived data only, so nothing is audited."""
    store = open_store(args)
    start = time.perf_counter()
    count = store.rebuild_search_index()
    print(f"Search index rebuilt: {count:,} documents folded in {time.perf_counter() - start:.2f} s.")
    return 0


def register(sub) -> None:
    """The ``search`` and ``search-index rebuild`` subcommands."""
    p = add_command(
        sub, "search", cmd_search,
        help="search a project as Arabic is written (harakat, tatweel, alef forms ignored); hits as CSV",
        description="Print every hit as CSV (document_id,title,start_offset,end_offset,text,context); offsets are "
        "code points into the stored text. Words must all occur; put a phrase in double quotes ('\"قال الوزير\"'). "
        "Runs as the first active admin.",
    )  # fmt: skip
    add_project_argument(p)
    p.add_argument("--label", default=None, help="only inside spans of this label (e.g. QUOTE)")
    p.add_argument("--source", default=None, help="only inside spans attributed to a SOURCE matching this")
    p.add_argument("--substring", action="store_true", help="match parts of words («الوزارة» finds «بالوزارة»)")
    p.add_argument("query", nargs="+", help="words and quoted phrases")
    index = sub.add_parser("search-index", help="the search index (folded texts and word index)")
    index_sub = index.add_subparsers(dest="search_index_command", required=True)
    add_command(
        index_sub, "rebuild", cmd_search_index_rebuild,
        help="fold every document again and rebuild the word index (after a change of the folding rules)",
    )  # fmt: skip
