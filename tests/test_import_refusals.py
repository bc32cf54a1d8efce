"""Imports that cannot be read say why (file, line, problem) instead of crashing, and write nothing: labels that
are lists or objects, damaged, encrypted or oddly compressed zips, a 5,000-digit offset, a text that is empty once
invisible characters go, CoNLL files; the command line leaves no new project behind when it refuses."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from raw_db import dump as raw_dump

from annotator.cli import main
from annotator.importing import ImportFile, ImportRejected, commit_import, preview_import
from annotator.projects import create_project
from annotator.store import Store

TEXT = "قال الوزير إن الاتفاق قريب."


def _line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _patched_zip(flag: int = 0, method: int | None = None, corrupt: bool = False) -> bytes:
    """A one-member zip with the encryption flag set, another compression method named, or its data damaged."""
    data = bytearray(_zip("amal.jsonl", _line({"text": TEXT, "label": [[0, 3, "CUE"]]}) * 20))
    central = data.index(b"PK\x01\x02")
    data[6] |= flag
    data[central + 8] |= flag
    if method is not None:
        data[8] = data[central + 10] = method
    if corrupt:
        for k in range(40, 50):
            data[k] ^= 0xFF
    return bytes(data)


CASES = {
    "label-list": (ImportFile("a.jsonl", _line({"text": TEXT, "label": [[0, 3, ["CLAIM"]]]})), "a.jsonl", 1,
                   "the label must be text, not a list"),
    "label-object": (ImportFile("a.jsonl", _line({"text": TEXT, "label": [[0, 3, {"name": "CLAIM"}]]})), "a.jsonl", 1,
                     "the label must be text, not an object"),
    "entity-label-list": (
        ImportFile("a.jsonl", _line({"text": TEXT, "entities": [{"id": 1, "label": ["CUE"], "start_offset": 0, "end_offset": 3}]})),
        "a.jsonl", 1, "the label must be text, not a list",
    ),
    "5000-digit-offset": (ImportFile("a.jsonl", ('{"text": "x y", "label": [[0, ' + "9" * 5000 + ', "CUE"]]}\n').encode()),
                          "a.jsonl", 1, "more than 4,300 digits"),
    "5000-digit-offset-string": (ImportFile("a.jsonl", ('{"text": "x y", "label": [[0, "' + "9" * 5000 + '", "CUE"]]}\n').encode()),
                                 "a.jsonl", 1, "offsets must be whole numbers"),
    "5000-digit-labelstudio": (ImportFile("t.json", ('[{"data": {"text": "x"}, "id": ' + "9" * 5000 + "}]").encode()),
                               "t.json", None, "more than 4,300 digits"),
    "zip-bad-crc": (ImportFile("d.zip", _patched_zip(corrupt=True)), "d.zip", None, "amal.jsonl is damaged"),
    "zip-encrypted": (ImportFile("d.zip", _patched_zip(flag=1)), "d.zip", None, "amal.jsonl is encrypted"),
    "zip-unknown-method": (ImportFile("d.zip", _patched_zip(method=99)), "d.zip", None, "compression method 99"),
    "only-bidi-controls": (ImportFile("a.txt", "\u200f\u200e\u202e\u200b".encode()), "a.txt", 1, "the text is empty once"),
    "only-bidi-controls-jsonl": (ImportFile("a.jsonl", _line({"text": "\u200f \u2066"})), "a.jsonl", 1, "the text is empty once"),
    "conll": (ImportFile("a.conll", "-DOCSTART- -X- O\n\nقال -X- _ B-CUE\n".encode()), "a.conll", None, "CoNLL/BIO files are not read"),
    "conll2003": (ImportFile("a.conll2003", "قال B-CUE\n".encode()), "a.conll2003", None, "CoNLL/BIO files are not read"),
}  # fmt: skip


def _dump(store: Store) -> str:
    return raw_dump(store)


@pytest.mark.parametrize("case", list(CASES))
def test_each_unreadable_import_is_refused_with_file_line_and_reason(demo, users, case):
    file, name, line, reason = CASES[case]
    project = create_project(demo, users["admin"], "Refusals")
    before = _dump(demo)
    preview = preview_import(demo, users["admin"], project.id, [file], annotator="amal")
    assert len(preview.rejected) == 1 and not preview.documents
    problem = preview.rejected[0]
    assert (problem.file, problem.line) == (name, line) and reason in problem.reason, problem
    assert len(str(problem)) < 300  # a 5,000-digit number is not quoted back
    with pytest.raises(ImportRejected):
        commit_import(demo, users["admin"], preview)
    assert _dump(demo) == before


@pytest.mark.parametrize("case", ["label-list", "zip-encrypted", "5000-digit-offset", "conll"])
def test_the_command_line_refuses_without_a_traceback_and_creates_no_project(demo, tmp_path, capsys, case):
    file, _name, _line_no, reason = CASES[case]
    path = tmp_path / file.name
    path.write_bytes(file.data)
    before = _dump(demo)
    assert main(["import", "--db", demo.path, "--project", "Brand new", "--annotator", "amal", str(path)]) == 1
    err = capsys.readouterr().err
    assert reason in err and "Traceback" not in err and "was not created" in err
    assert _dump(demo) == before  # no project, no labels, no audit event
    assert Store(demo.path).project_by_name("Brand new") is None


def test_a_good_import_into_a_new_project_creates_it(demo, tmp_path, capsys):
    path = tmp_path / "a.jsonl"
    path.write_bytes(_line({"text": TEXT, "label": [[0, 3, "CUE"]]}))
    assert main(["import", "--db", demo.path, "--project", "Brand new", "--annotator", "amal", str(path)]) == 0
    assert "Created project 'Brand new'." in capsys.readouterr().out
    project = Store(demo.path).project_by_name("Brand new")
    assert project is not None and len(Store(demo.path).list_documents(project.id)) == 1
