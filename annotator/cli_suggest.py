"""Command line for suggestions: ``suggest evaluate --gold FILE.jsonl [--engine rules|crf|both] [--csv]`` and
``suggest train --db FILE --project NAME``.

Evaluation of the rules needs no database: the gold texts are suggested on the fly and nothing is written; the
CRF's model is read from ``--db`` without migrating it. Heavy modules are imported inside the handlers so
``python -m annotator --help`` stays quick.
"""

from __future__ import annotations

import sys

from annotator.cli import add_command, add_project_argument, open_project

ENGINES = ("rules", "crf", "both")


def _crf_model(args):
    """The project's latest CRF model, read from an existing database without migrating it (nothing is written)."""
    import os

    from annotator.errors import NisbaError
    from annotator.store import Store, is_postgres_url

    if not args.db or not args.project:
        raise NisbaError("--engine crf needs --db and --project: the learned model lives in the project's database.")
    if not is_postgres_url(args.db) and not os.path.exists(args.db):
        raise NisbaError(f"{args.db}: no such database.")
    store = Store(args.db, migrate_schema=False)
    project = store.project_by_name(args.project)
    if project is None:
        raise NisbaError(f"No project named {args.project!r} in {store.display_name}.")
    if not store.has_table("suggestion_models"):
        raise NisbaError(f"{store.display_name} predates learned suggestions: no model (open it with the app once to migrate).")
    row = store.latest_suggestion_model(project.id, "crf")
    if row is None:
        raise NisbaError(f"No learned model has been trained in {args.project!r}: the rules serve alone.")
    from annotator.suggest.lexicon import build_lexicon, default_cues
    from annotator.suggestions import project_cues

    return row, build_lexicon(default_cues() + project_cues(store, project.id))


def cmd_suggest_evaluate(args) -> int:
    """Score the chosen engine(s) against the gold file: a table, or CSV with ``--csv``. Writes nothing."""
    from annotator.exporting import write_csv
    from annotator.suggest.evaluate import COLUMNS, evaluate_crf, evaluate_rules, format_table, read_gold

    docs = read_gold(args.gold)
    rows = []
    if args.engine in ("rules", "both"):
        rows += evaluate_rules(docs)
    if args.engine in ("crf", "both"):
        row, lexicon = _crf_model(args)
        print(
            f"crf: model {row['version']}, trained {row['trained_at']} on {row['training_documents']} document(s)",
            file=sys.stderr,
        )
        rows += evaluate_crf(docs, row["model"], lexicon)
    if args.csv:
        cells = [[r["engine"], r["label"], r["match"], f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}",
                  r["gold"], r["predicted"]] for r in rows]  # fmt: skip
        write_csv(sys.stdout, list(COLUMNS), cells)
    else:
        print(f"{len(docs)} gold paragraph(s) from {args.gold}")
        print(format_table(rows))
    return 0


def cmd_suggest_train(args) -> int:
    """Train the project's CRF on its gold layer as the first active admin, and print its cross-validated F1."""
    from annotator.suggestion_models import train_project_model

    store, admin, project = open_project(args)
    status = train_project_model(store, admin, project.id)
    print(
        f"Trained {status['version']} on {status['training_documents']} document(s), {status['training_spans']} span(s), in {status['seconds']} s."
    )
    for r in status["cross_validation"]:
        print(f"  {r['label']:<8} {r['match']:<8} F1 {r['f1']:.3f} (cross-validated, {r['gold']} gold)")
    return 0


def register(sub) -> None:
    """The ``suggest evaluate`` and ``suggest train`` subcommands."""
    suggest = sub.add_parser("suggest", help="suggested attributions (rule engine)")
    suggest_sub = suggest.add_subparsers(dest="suggest_command", required=True)
    p = add_command(
        suggest_sub, "evaluate", cmd_suggest_evaluate, db=False,
        help="precision, recall and F1 of the suggestions against a gold JSONL file (writes nothing)",
    )  # fmt: skip
    p.add_argument("--gold", required=True, help="JSONL: one paragraph a line with text, spans and links")
    p.add_argument("--engine", choices=ENGINES, default="rules", help="which engine to score (default: rules)")
    p.add_argument("--csv", action="store_true", help="rows engine,label,match,precision,recall,f1,gold,predicted")
    p.add_argument("--db", default=None, help="for --engine crf/both: the database holding the project's model (read only)")
    p.add_argument("--project", default=None, help="for --engine crf/both: the project whose model to score")
    p = add_command(
        suggest_sub, "train", cmd_suggest_train,
        help="train the project's learned engine (CRF) on its gold layer, as the first active admin",
    )  # fmt: skip
    add_project_argument(p)
