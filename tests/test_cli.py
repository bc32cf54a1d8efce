"""The command line: help, init (with and without the demo), spans as CSV."""

import csv
import io
import subprocess
import sys

import pytest

from annotator import annotations as A
from annotator.cli import main, visual
from annotator.store import Store


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "annotator", *args], capture_output=True, text=True, env=env)


def test_help_lists_subcommands():
    out = run("--help")
    assert out.returncode == 0
    assert "init" in out.stdout and "spans" in out.stdout


def test_init_creates_and_is_idempotent(tmp_path):
    db = tmp_path / "x.db"
    assert main(["init", "--db", str(db), "--demo"]) == 0
    assert main(["init", "--db", str(db), "--demo"]) == 0
    s = Store(db)
    assert len(s.list_projects()) == 1 and len(s.list_documents(1)) == 1


def test_init_reads_nisba_db(tmp_path):
    import os

    env = {**os.environ, "NISBA_DB": str(tmp_path / "env.db")}
    out = run("init", env=env)
    assert out.returncode == 0 and (tmp_path / "env.db").exists()


def test_spans_prints_the_span_export_with_exact_arabic(demo, users, demo_doc, capsys):
    i = demo_doc.text.index("وبحسب الصحيفة")
    A.add_span(demo, users["amal"], demo_doc.id, "CUE", i, i + 5)
    assert main(["spans", "--db", demo.path, "--document", str(demo_doc.id)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert [{k: r[k] for k in ("document_id", "span_id", "label", "start_offset", "end_offset", "text", "annotator", "layer")}
            for r in rows] == [{"document_id": str(demo_doc.id), "span_id": "1", "label": "CUE", "start_offset": str(i),
                                "end_offset": str(i + 5), "text": "وبحسب", "annotator": "amal", "layer": "annotator"}]  # fmt: skip


def test_unknown_document_is_a_clear_error(demo, capsys):
    assert main(["spans", "--db", demo.path, "--document", "999"]) == 1
    assert "no document 999" in capsys.readouterr().err


def test_visual_is_display_only():
    shaped = visual("قال")
    assert shaped != "قال" and len(shaped) == 3  # presentation forms, reversed for the terminal


def test_help_imports_nothing_heavy():
    """``--help`` builds every subcommand's parser without the store, sqlite-utils, pandas, regex or argon2 (their
    imports took ~3 s of a 3.4 s ``--help``; benchmarks/bench_cli_startup.py prints the times)."""
    code = (
        "import sys; from annotator.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('pandas', 'sqlite_utils', 'regex', 'argon2', 'annotator.store', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda tmp: tmp / "file.txt" / "x.db", "Cannot use"),
        (lambda tmp: tmp, "Cannot open the database"),
        (lambda tmp: tmp / "notes.db", "as a Nisba database: file is not a database"),
        (lambda tmp: tmp / "newer.db", "has a newer schema than this Nisba (step m_from_the_future"),
    ],
    ids=["a file where a folder should be", "a folder", "not a database", "a newer schema"],
)
def test_a_database_that_cannot_be_used_is_one_line(tmp_path, capsys, make, expected):
    import sqlite3

    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "notes.db").write_text("not a database at all, just some notes to myself\n" * 20)
    Store(tmp_path / "newer.db").close()
    with sqlite3.connect(tmp_path / "newer.db") as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('nisba', 'm_from_the_future', 'x')"
        )
    before = (tmp_path / "newer.db").read_bytes()
    assert main(["init", "--db", str(make(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert (tmp_path / "newer.db").read_bytes() == before
