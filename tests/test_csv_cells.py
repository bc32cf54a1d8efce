"""Every CSV Nisba writes goes through one writer (annotator.exporting.csv_lines) that neutralises every cell a
spreadsheet would run as a formula: each export's CSV files, CoNLL's documents.csv and warnings.csv, the audit CSV,
the agreement downloads and the ``spans`` command, read back here with no cell starting with = + - @ tab or CR."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest

from annotator import agreement
from annotator.annotations import add_span
from annotator.cli import main
from annotator.exporting import FORMATS, csv_lines, export_zip
from annotator.labels import save_label
from annotator.projects import add_document, add_member, create_project
from annotator.store import Store

FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def formulas(demo, users):
    """A project whose label, title, span texts and attribute values all start like formulas; one span ends
    inside a token, so CoNLL's warnings.csv gets a row."""
    admin = users["admin"]
    project = create_project(demo, admin, "+cmd")
    add_member(demo, admin, project.id, users["amal"].id)
    save_label(demo, admin, project.id, {"name": "=1+1", "kind": "content", "colour": "#123456"})
    text = "-2 قال @المصدر إن =SUM(1) كبير"
    doc = add_document(demo, admin, project.id, "=HYPERLINK(1)", text)
    amal = users["amal"]
    add_span(demo, amal, doc.id, "=1+1", 0, 2)  # "-2"
    add_span(demo, amal, doc.id, "SOURCE", text.index("@"), text.index("@") + 7)
    add_span(demo, amal, doc.id, "=1+1", text.index("=S") + 1, text.index("=S") + 3)  # "SU": ends inside a token
    return demo, project, doc


def _formula_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row if cell.startswith(FORMULA)]


@pytest.mark.parametrize("fmt", [f for f in FORMATS])
def test_every_export_csv_has_no_formula_cell(formulas, users, fmt):
    store, project, _doc = formulas
    buf = io.BytesIO()
    export_zip(store, users["admin"], project.id, fmt, buf)
    zf = zipfile.ZipFile(buf)
    csvs = [n for n in zf.namelist() if n.endswith(".csv")]
    if fmt in ("csv", "triples", "conll", "audit"):
        assert csvs
    for name in csvs:
        text = zf.read(name).decode("utf-8-sig")
        assert _formula_cells(text) == [], name
    if fmt == "conll":
        docs = list(csv.DictReader(io.StringIO(zf.read("conll/documents.csv").decode(), newline="")))
        assert [d["document_title"] for d in docs] == ["'=HYPERLINK(1)"]
        warnings = list(csv.DictReader(io.StringIO(zf.read("conll/warnings.csv").decode(), newline="")))
        assert [w["label"] for w in warnings] == ["'=1+1"]


def test_the_spans_command_goes_through_the_export_writer(formulas, users, capsys):
    store, _project, doc = formulas
    assert main(["spans", "--db", store.path, "--document", str(doc.id)]) == 0
    out = capsys.readouterr().out
    assert _formula_cells(out) == []
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(r["label"], r["text"]) for r in rows] == [("'=1+1", "'-2"), ("SOURCE", "'@المصدر"), ("'=1+1", "SU")]
    assert store.query("SELECT action FROM audit_events ORDER BY id DESC LIMIT 1")[0]["action"] == "export"


def test_the_spans_command_needs_an_admin(tmp_path, capsys):
    store = Store(tmp_path / "no-admin.db")
    store.close()
    assert main(["spans", "--db", str(tmp_path / "no-admin.db")]) == 1
    assert "no active admin" in capsys.readouterr().err


def test_agreement_download_neutralises_headers_and_cells():
    frame = pd.DataFrame({"=label": ["-1+1", "ok"], "value": [0.5, None]})
    text = agreement.to_csv(frame)
    assert _formula_cells(text) == []
    assert text == csv_lines([["'=label", "value"], ["'-1+1", "0.5"], ["ok", ""]])
