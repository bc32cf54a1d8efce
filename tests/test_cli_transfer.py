"""``python -m annotator import`` and ``export``: exit codes, what they print, NISBA_DB, acting as the admin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

from annotator.cli import main
from annotator.store import Store

PEER = Path(__file__).parent / "fixtures" / "peer-exports"
ROOT = Path(__file__).parent.parent


def in_project(demo, command: str, project: str, *args) -> int:
    """``python -m annotator COMMAND --db <the demo database> --project PROJECT ARGS…`` in this process; the exit
    status."""
    return main([command, "--db", demo.path, "--project", project, *(str(a) for a in args)])


def test_import_then_export_csv(demo, tmp_path, capsys):
    code = in_project(demo, "import", "Peers", str(PEER / "labelstudio-1.23.json"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Created project 'Peers'" in out and "14 document(s), 55 span(s)" in out and "22 link(s)" in out
    project = demo.project_by_name("Peers")
    event = list(demo.iter_events())[-1]
    assert event["action"] == "import" and demo.get_user(event["user_id"]).username == "admin"

    out_csv = tmp_path / "spans.csv"
    code = in_project(demo, "export", "Peers", "--format", "csv", "--excel", "--out", str(out_csv))
    assert code == 0
    df = pd.read_csv(out_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(df) == 55 and set(df["project"]) == {"Peers"}
    assert json.loads(Path(str(out_csv) + ".metadata.json").read_text(encoding="utf-8"))["project"]["id"] == project.id


def test_import_exits_non_zero_when_rejected_and_writes_nothing(demo, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "قال", "label": [[0, 9, "CUE"]]}\n{"text": "نص سليم."}\n', encoding="utf-8")
    code = in_project(demo, "import", "P", "--annotator", "amal", str(bad))
    captured = capsys.readouterr()
    assert code == 1
    assert "bad.jsonl, line 1" in captured.err and "out of range" in captured.err
    assert demo.project_by_name("P") is None  # nothing: not even the new project
    code = in_project(demo, "import", "P", "--annotator", "amal", "--skip-rejected", str(bad))
    assert code == 1  # still reports the rejection
    assert len(demo.list_documents(demo.project_by_name("P").id)) == 1


def test_import_missing_file_and_cp1256(demo, tmp_path, capsys):
    win = tmp_path / "win.txt"
    win.write_bytes("قال الوزير".encode("cp1256"))
    assert in_project(demo, "import", "P", str(win), str(tmp_path / "missing.txt")) == 1
    err = capsys.readouterr().err
    assert "--encoding cp1256" in err and "missing.txt" in err
    assert in_project(demo, "import", "P", "--encoding", "cp1256", str(win)) == 0
    assert demo.list_documents(demo.project_by_name("P").id)[0].text == "قال الوزير"


def test_export_formats_and_filters(demo, tmp_path, capsys):
    in_project(demo, "import", "Peers", str(PEER / "doccano-1.8.export.zip"))
    out = tmp_path / "a2.zip"
    assert in_project(demo, "export", "Peers", "--format", "jsonl", "--annotator", "annotator2", "--out", out) == 0
    zf = zipfile.ZipFile(out)
    assert json.loads(zf.read("metadata.json"))["counts"]["spans"] == 7
    assert in_project(demo, "export", "Peers", "--format", "conll", "--out", str(tmp_path / "conll")) == 0
    assert (tmp_path / "conll" / "conll" / "annotator-doccano.admin.conll").exists()
    assert in_project(demo, "export", "Peers", "--format", "audit", "--out", str(tmp_path / "audit.zip")) == 0
    assert "head_hash" in capsys.readouterr().out
    assert in_project(demo, "export", "Nope", "--format", "csv", "--out", str(tmp_path / "x.csv")) == 1


def test_no_admin_is_an_error(tmp_path, capsys):
    db = Store(tmp_path / "empty.db")
    db.close()
    f = tmp_path / "a.txt"
    f.write_text("نص", encoding="utf-8")
    assert main(["import", "--db", str(tmp_path / "empty.db"), "--project", "P", str(f)]) == 1
    assert "no active admin" in capsys.readouterr().err


def test_real_process_uses_nisba_db(demo, tmp_path):
    env = {**os.environ, "NISBA_DB": demo.path, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "annotator", "import", "--project", "Env", str(PEER / "input.shared.ar.jsonl")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert len(demo.list_documents(demo.project_by_name("Env").id)) == 14
    help_text = subprocess.run(
        [sys.executable, "-m", "annotator", "export", "--help"], capture_output=True, text=True, env=env, timeout=120
    ).stdout
    assert "first active admin" in help_text


def test_export_xlsx_from_the_command_line(demo, tmp_path, capsys):
    assert in_project(demo, "import", "Peers", str(PEER / "labelstudio-1.23.json")) == 0
    out = tmp_path / "spans.xlsx"
    assert in_project(demo, "export", "Peers", "--format", "xlsx", "--out", str(out)) == 0
    ws = openpyxl.load_workbook(out).active
    assert ws.sheet_view.rightToLeft is True
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 + 55 and rows[0][:2] == ("project", "document_id")
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_help_does_not_import_openpyxl():
    """openpyxl costs ~0.5 s to import: --help and every other command stay fast without it."""
    probe = "import sys; from annotator.cli import build_parser; build_parser(); print('openpyxl' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.stdout.strip() == "False", run.stderr


def test_doccano_zip_messages_say_spans_were_added(demo, capsys):
    """A doccano zip lists every text in each user's file: the second copy of a text is no 'duplicate' when its
    spans were added (before: 14 'duplicate … not added again' lines and '14 duplicate(s) skipped')."""
    assert in_project(demo, "import", "Peers", str(PEER / "doccano-1.8.export.zip")) == 0
    out = capsys.readouterr().out
    assert "duplicate" not in out.replace("0 duplicate(s) skipped", "")
    assert (
        "joined: admin.jsonl: 14 text(s) already here: their spans were added (line 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)\n"
        in out
    )
    assert out.endswith(
        "Imported into 'Peers': 14 document(s), 55 span(s) (CLAIM 11, CUE 16, QUOTE 10, SOURCE 18), 22 link(s); "
        "14 text(s) already here: their spans were added, 0 duplicate(s) skipped, 0 rejected.\n"
    )
    # the same zip again: nothing new, one line per file
    assert in_project(demo, "import", "Peers", str(PEER / "doccano-1.8.export.zip")) == 0
    out = capsys.readouterr().out
    assert out.count("duplicate: ") == 2 and "0 link(s); 28 duplicate(s) skipped, 0 rejected.\n" in out


def test_export_jsonl_offsets_and_layout_options(demo, tmp_path):
    in_project(demo, "import", "Peers", str(PEER / "doccano-1.8.export.zip"))
    out = tmp_path / "cp.zip"
    argv = ["--format", "jsonl", "--offsets", "codepoints"]
    assert in_project(demo, "export", "Peers", *argv, "--layout", "label", "--out", out) == 0
    zf = zipfile.ZipFile(out)
    meta = json.loads(zf.read("metadata.json"))
    assert (meta["offset_unit"], meta["jsonl_layout"]) == ("Unicode code points", "label")
    emoji = next(x for x in map(json.loads, zf.read("annotator2.jsonl").decode().splitlines()) if x["text"].startswith("👍🏽"))
    assert {emoji["text"][s:e] for s, e, _label in emoji["label"]} == {"المغرد", "حذف", '"هذا خبر مهم 🇪🇬"'}
    assert in_project(demo, "export", "Peers", "--format", "csv", "--offsets", "utf16", "--out", tmp_path / "x.csv") == 1
