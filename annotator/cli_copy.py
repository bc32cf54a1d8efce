"""The ``copy`` subcommand (issue 13): move a team's database between SQLite and PostgreSQL, either way."""

from __future__ import annotations

LOCATIONS = "a SQLite file (path or sqlite:///path) or a postgresql://user:password@host:port/database URL"


def cmd_copy(args) -> int:
    from annotator.database_copy import copy_database

    report = copy_database(args.source, args.target, force=args.force, target_secret=args.target_secret)
    print(f"Copied {report.source} → {report.target} in {report.seconds:.2f} s")
    if report.emptied:
        print(f"  (--force: emptied the target's {', '.join(report.emptied)} first)")
    width = max(len(t) for t in report.counts)
    for table, rows in report.counts.items():
        print(f"  {table:<{width}}  {rows:>10,}")
    print(f"  {'total':<{width}}  {sum(report.counts.values()):>10,} rows, the same on both sides")
    if report.head:
        print(f"Audit chain: {report.events:,} events, head {report.head} on both sides, verified on the target.")
    else:
        print("Audit chain: empty on both sides.")
    print(f"Audit key: {report.key.describe()}.")
    print("Search index rebuilt on the target.")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "copy",
        help="copy a whole database into another (SQLite ↔ PostgreSQL), ids kept, counts and audit chain checked",
        description="Copy every table of one Nisba database into another in one transaction, keeping ids. Row counts "
        "and the audit chain's head hash are compared on both sides and the target's chain verified before the copy "
        "commits; the source's audit key is copied to where the target looks for it. The source's writers wait "
        "during the copy. Locations: " + LOCATIONS + ".",
    )
    p.add_argument("--from", dest="source", required=True, metavar="SRC", help="the database to copy")
    p.add_argument("--to", dest="target", required=True, metavar="DST", help="the database to fill (created if a new file)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a non-empty target's rows (in the same transaction), setting a different audit key of it aside",
    )
    p.add_argument(
        "--target-secret",
        default=None,
        metavar="FILE",
        help="the NISBA_SECRET_FILE the target's app servers will use: the audit key goes beside it (FILE.audit)",
    )
    p.set_defaults(func=cmd_copy)
