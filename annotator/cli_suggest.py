"""Command line for suggestions: ``suggest evaluate --gold FILE.jsonl [--engine rules|crf|both] [--csv]``.

Evaluation needs no database: the gold texts are suggested on the fly and nothing is written. Heavy modules are
imported inside the handler so ``python -m annotator --help`` stays quick.
"""

from __future__ import annotations

import sys

ENGINES = ("rules", "crf", "both")


def cmd_suggest_evaluate(args) -> int:
    from annotator.exporting import write_csv
    from annotator.suggest.evaluate import COLUMNS, evaluate_rules, format_table, read_gold

    docs = read_gold(args.gold)
    rows = []
    if args.engine in ("rules", "both"):
        rows += evaluate_rules(docs)
    if args.engine in ("crf", "both"):
        # No learned engine is trained here yet: say so instead of printing figures for something that did not run.
        print("crf: no trained CRF engine is available; its rows are left out (the rules serve alone).", file=sys.stderr)
        if args.engine == "crf":
            return 1
    if args.csv:
        cells = [[r["engine"], r["label"], r["match"], f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}",
                  r["gold"], r["predicted"]] for r in rows]  # fmt: skip
        write_csv(sys.stdout, list(COLUMNS), cells)
    else:
        print(f"{len(docs)} gold paragraph(s) from {args.gold}")
        print(format_table(rows))
    return 0


def register(sub) -> None:
    suggest = sub.add_parser("suggest", help="suggested attributions (rule engine)")
    suggest_sub = suggest.add_subparsers(dest="suggest_command", required=True)
    p = suggest_sub.add_parser(
        "evaluate", help="precision, recall and F1 of the suggestions against a gold JSONL file (writes nothing)"
    )
    p.add_argument("--gold", required=True, help="JSONL: one paragraph a line with text, spans and links")
    p.add_argument("--engine", choices=ENGINES, default="rules", help="which engine to score (default: rules)")
    p.add_argument("--csv", action="store_true", help="rows engine,label,match,precision,recall,f1,gold,predicted")
    p.set_defaults(func=cmd_suggest_evaluate)
