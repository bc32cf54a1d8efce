"""Imports: the real Label Studio and doccano exports, round trips through Nisba's own exports, encodings,
duplicates, and every bad input of issue 4 (a clear message, nothing written)."""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from annotator.errors import PermissionDenied
from annotator.exporting import export_zip
from annotator.importing import (
    CsvOptions,
    ImportFile,
    ImportRejected,
    commit_import,
    file_from_path,
    import_files,
    preview_import,
)
from annotator.projects import create_project
from annotator.store.backends import COPY_MIN_ROWS
from annotator.text import canonicalize

PEER = Path(__file__).parent / "fixtures" / "peer-exports"


@pytest.fixture
def admin(users):
    return users["admin"]


@pytest.fixture
def project(demo, admin):
    return create_project(demo, admin, "Import test")


def _spans(store, project_id):
    """Every span of the project with its document's text, checked against the slice."""
    out = []
    for doc in store.list_documents(project_id):
        for s in store.list_spans(doc.id):
            assert doc.text[s.start_offset : s.end_offset] == s.text
            out.append((doc, s))
    return out


def _links(store, project_id):
    return [k for doc in store.list_documents(project_id) for k in store.list_links(doc.id)]


def _import(store, admin, project, *names, **kw):
    files = [file_from_path(PEER / n) for n in names]
    return import_files(store, admin, project.id, files, **kw)


def _doc_count(store):
    return store.query("SELECT count(*) AS n FROM documents")[0]["n"]


# ---- the peer exports ------------------------------------------------------------------------------------


def test_labelstudio_json_every_span_relation_and_choice(demo, admin, project):
    preview, result = _import(demo, admin, project, "labelstudio-1.23.json")
    assert not preview.rejected
    spans = _spans(demo, project.id)
    assert len(spans) == 55 and result.spans == 55
    assert len(_links(demo, project.id)) == 22
    assert sum(1 for _d, s in spans if "form" in s.attributes) == 21
    assert len(demo.list_documents(project.id)) == 14
    by_user = Counter(demo.get_user(s.annotator_id).username for _d, s in spans)
    assert by_user == {"labelstudio-user-1": 48, "labelstudio-user-2": 7}
    # the predictions are only ids in this export: said so, not silently lost
    assert any("snapshot" in w.reason for w in preview.warnings)
    # span texts equal the Label Studio value.text after canonicalisation (bidi controls removed)
    raw = json.loads((PEER / "labelstudio-1.23.json").read_text(encoding="utf-8"))
    expected = Counter(
        canonicalize(r["value"]["text"]).text for t in raw for a in t["annotations"] for r in a["result"] if r["type"] == "labels"
    )
    assert Counter(s.text for _d, s in spans) == expected


def test_labelstudio_links_point_content_to_source_and_cue(demo, admin, project):
    _import(demo, admin, project, "labelstudio-1.23.json")
    types = Counter()
    for k in _links(demo, project.id):
        src, dst = demo.get_span(k.from_span_id), demo.get_span(k.to_span_id)
        assert src.label in ("CLAIM", "QUOTE")
        assert dst.label == ("SOURCE" if k.type == "attributed_to" else "CUE")
        types[k.type] += 1
    assert types == {"attributed_to": 20, "cue": 2}


def test_labelstudio_snapshot_brings_predictions(demo, admin, project):
    preview, _ = _import(demo, admin, project, "labelstudio-1.23.snapshot.json")
    spans = _spans(demo, project.id)
    assert len(spans) == 61 and len(_links(demo, project.id)) == 24
    assert sum(1 for _d, s in spans if "form" in s.attributes) == 23
    model = [s for _d, s in spans if s.origin.get("source") == "labelstudio-prediction"]
    assert len(model) == 6 and {s.origin["model_version"] for s in model} == {"attrib-rules-v0.3"}
    users = {demo.get_user(s.annotator_id).username for _d, s in spans}
    # Label Studio names become valid accounts; the name as the file gives it stays as the display name
    assert users == {"annotator1-example.com", "annotator2-example.com", "model-attrib-rules-v0.3"}
    assert demo.user_by_username("annotator1-example.com").display_name == "annotator1@example.com"
    assert preview.summary()["annotators"]["model:attrib-rules-v0.3"] == "model-attrib-rules-v0.3"
    for name in users:
        assert demo.is_member(project.id, demo.user_by_username(name).id)


@pytest.mark.parametrize("name", ["labelstudio-1.23.json_min", "labelstudio-1.23.csv", "labelstudio-1.23.tsv"])
def test_labelstudio_min_and_csv(demo, admin, project, name):
    preview, _ = _import(demo, admin, project, name)
    assert not preview.rejected
    assert len(_spans(demo, project.id)) == 55
    assert len(demo.list_documents(project.id)) == 14
    assert any("drops relations" in w.reason for w in preview.warnings)


def test_doccano_utf16_offsets_are_converted(demo, admin, project):
    preview, _ = _import(demo, admin, project, "doccano-1.8.jsonl", annotator="doccano-admin")
    spans = _spans(demo, project.id)
    assert len(spans) == 48 and len(_links(demo, project.id)) == 19
    emoji = next(d for d in demo.list_documents(project.id) if d.metadata.get("doc_id") == "emoji")
    assert {s.text for s in demo.list_spans(emoji.id)} == {"قال", "المغرد", "هذا خبر مهم 🇪🇬"}
    assert any("UTF-16" in w.reason and w.line == 4 for w in preview.warnings)


def test_doccano_and_labelstudio_agree(demo, admin):
    ls = create_project(demo, admin, "ls")
    dc = create_project(demo, admin, "dc")
    _import(demo, admin, ls, "labelstudio-1.23.json")
    _import(demo, admin, dc, "doccano-1.8.export.zip")

    def keyed(pid, names):
        return Counter(
            (d.text_sha256, s.label, s.start_offset, s.end_offset)
            for d, s in _spans(demo, pid)
            if demo.get_user(s.annotator_id).username in names
        )

    assert keyed(ls.id, {"labelstudio-user-1"}) == keyed(dc.id, {"doccano.admin"})
    assert keyed(ls.id, {"labelstudio-user-2"}) == keyed(dc.id, {"annotator2"})


def test_doccano_zip_per_user_files(demo, admin, project):
    preview, _ = _import(demo, admin, project, "doccano-1.8.export.zip")
    spans = _spans(demo, project.id)
    assert len(spans) == 55 and len(_links(demo, project.id)) == 22
    assert len(demo.list_documents(project.id)) == 14
    # doccano's admin.jsonl is doccano's admin, not Nisba's: a prefixed account of its own, never merged
    assert Counter(demo.get_user(s.annotator_id).username for _d, s in spans) == {"doccano.admin": 48, "annotator2": 7}
    assert preview.accounts["admin"].new and "someone else" in preview.accounts["admin"].reason
    assert not demo.query("SELECT 1 FROM spans WHERE annotator_id = ?", [admin.id])
    account = demo.user_by_username("doccano.admin")
    assert (account.role, account.origin, account.display_name) == ("annotator", "import:doccano", "admin")


@pytest.mark.parametrize(
    ("name", "spans"),
    [("doccano-1.8.annotator2.jsonl", 7), ("doccano-1.8.norel.jsonl", 48), ("doccano-1.8.norel.annotator2.jsonl", 7)],
)
def test_other_doccano_files(demo, admin, project, name, spans):
    _import(demo, admin, project, name, annotator="someone")
    assert len(_spans(demo, project.id)) == spans


def test_norel_zip(demo, admin, project):
    _import(demo, admin, project, "doccano-1.8.norel.export.zip")
    assert len(_spans(demo, project.id)) == 55 and not _links(demo, project.id)


def test_bidi_controls_canonicalised_and_flagged(demo, admin, project):
    preview, _ = _import(demo, admin, project, "input.shared.ar.jsonl")
    doc = next(d for d in demo.list_documents(project.id) if d.metadata.get("id") == "bidi-controls")
    assert "\u202e" not in doc.text and "\u202e" in doc.raw_text
    assert doc.metadata["suspicious"] == ["U+202E right-to-left override"]
    assert any("flagged" in w.reason for w in preview.warnings)
    html = next(d for d in demo.list_documents(project.id) if d.metadata.get("id") == "html-injection")
    assert "<script>alert('x')</script>" in html.text  # markup is stored as text


def test_span_before_removed_mark_is_shifted(demo, admin, project):
    raw = "\u200fقال الوزير إن الخطة جاهزة."
    line = {"text": raw, "label": [[5, 11, "SOURCE"]], "meta": {"offset_unit": "codepoint"}}
    _p, _r = import_files(
        demo, admin, project.id, [ImportFile("a.jsonl", (json.dumps(line, ensure_ascii=False) + "\n").encode())], annotator="amal"
    )
    ((doc, span),) = _spans(demo, project.id)
    assert (span.start_offset, span.end_offset, span.text) == (4, 10, "الوزير")


# ---- round trips -------------------------------------------------------------------------------------------


def _snapshot(store, project_id):
    spans = {}
    for d, s in _spans(store, project_id):
        spans[s.id] = (
            d.text_sha256,
            store.get_user(s.annotator_id).username,
            s.layer,
            s.label,
            s.start_offset,
            s.end_offset,
            s.text,
            tuple(sorted(s.attributes.items())),
        )
    links = Counter((spans[k.from_span_id], spans[k.to_span_id], k.type) for k in _links(store, project_id))
    return Counter(spans.values()), links


@pytest.mark.parametrize(("fmt", "member"), [("labelstudio", "tasks.json")])
def test_round_trip(demo, admin, project, fmt, member):
    _import(demo, admin, project, "labelstudio-1.23.snapshot.json")
    buf = io.BytesIO()
    export_zip(demo, admin, project.id, fmt, buf)
    data = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read(member)
    again = create_project(demo, admin, f"again {fmt}")
    # the same people: the admin maps each exported name back onto its account
    names = {demo.get_user(s.annotator_id).username for _d, s in _spans(demo, project.id)}
    preview, _ = import_files(demo, admin, again.id, [ImportFile(member, data)], map_annotators={n: n for n in names})
    assert not preview.rejected
    assert _snapshot(demo, again.id) == _snapshot(demo, project.id)
    assert len(demo.list_documents(again.id)) == 14
    titles = sorted(d.title for d in demo.list_documents(again.id))
    assert titles == sorted(d.title for d in demo.list_documents(project.id))


# ---- formats ----------------------------------------------------------------------------------------------


def test_txt_files_titled_by_name(demo, admin, project):
    files = [
        ImportFile("خبر أول.txt", "قال الوزير إن الخطة جاهزة.".encode()),
        ImportFile("second.txt", b"Plain text\r\nwith CRLF"),
    ]
    _p, result = import_files(demo, admin, project.id, files)
    docs = demo.list_documents(project.id)
    assert [d.title for d in docs] == ["خبر أول", "second"]
    assert docs[1].text == "Plain text\nwith CRLF"
    assert len(result.document_ids) == 2


def test_csv_columns(demo, admin, project):
    data = "headline,body,ref,section\nعنوان,نص المقال الأول.,a1,سياسة\nآخر,نص المقال الثاني.,a2,\n".encode()
    _p, _r = import_files(
        demo, admin, project.id, [ImportFile("a.csv", data)],
        csv_options=CsvOptions(text_column="body", title_column="headline", id_column="ref"),
    )  # fmt: skip
    docs = demo.list_documents(project.id)
    assert [(d.title, d.text) for d in docs] == [("عنوان", "نص المقال الأول."), ("آخر", "نص المقال الثاني.")]
    assert docs[0].metadata == {"ref": "a1", "section": "سياسة"}


def test_csv_without_text_column_asks_for_it(demo, admin, project):
    preview = preview_import(demo, admin, project.id, [ImportFile("a.csv", b"a,b\n1,2\n")])
    assert "choose the text column" in preview.rejected[0].reason


def test_encodings(demo, admin, project):
    text = "قال الوزير إن الخطة جاهزة."
    files = [
        ImportFile("bom8.txt", codecs.BOM_UTF8 + text.encode()),
        ImportFile("bom16.txt", text.encode("utf-16")),
        ImportFile("bom16be.txt", codecs.BOM_UTF16_BE + (text + " ب").encode("utf-16-be")),
    ]
    preview, _ = import_files(demo, admin, project.id, files)
    assert not preview.rejected
    assert {d.text for d in demo.list_documents(project.id)} == {text, text + " ب"}


def test_cp1256_refused_then_accepted_with_encoding(demo, admin, project):
    data = "قال الوزير إن الخطة جاهزة.".encode("cp1256")
    preview = preview_import(demo, admin, project.id, [ImportFile("win.txt", data)])
    (problem,) = preview.rejected
    assert "not UTF-8" in problem.reason and "Windows-1256" in problem.reason and "encoding" in problem.reason
    with pytest.raises(ImportRejected):
        commit_import(demo, admin, preview)
    assert not demo.list_documents(project.id)
    import_files(demo, admin, project.id, [ImportFile("win.txt", data)], encoding="cp1256")
    assert demo.list_documents(project.id)[0].text == "قال الوزير إن الخطة جاهزة."


def test_duplicates_skipped_by_default(demo, admin, project):
    f = ImportFile("a.txt", "نص واحد.".encode())
    import_files(demo, admin, project.id, [f])
    preview, result = import_files(demo, admin, project.id, [f])
    assert len(preview.duplicates) == 1 and result.document_ids == []
    import_files(demo, admin, project.id, [f], skip_duplicates=False)
    assert len(demo.list_documents(project.id)) == 2


def test_reimport_does_not_double_spans(demo, admin, project):
    _import(demo, admin, project, "labelstudio-1.23.json")
    preview, result = _import(demo, admin, project, "labelstudio-1.23.json")
    assert result.spans == 0 and len(_spans(demo, project.id)) == 55


def test_spans_join_existing_document(demo, admin, project):
    _import(demo, admin, project, "input.shared.ar.jsonl")
    preview, result = _import(demo, admin, project, "doccano-1.8.jsonl", annotator="amal")
    assert result.document_ids == [] and result.spans == 48
    assert len(demo.list_documents(project.id)) == 14


def test_admin_only_and_audited(demo, users, project):
    f = ImportFile("a.txt", "نص.".encode())
    with pytest.raises(PermissionDenied):
        preview_import(demo, users["amal"], project.id, [f])
    preview = preview_import(demo, users["admin"], project.id, [f])
    with pytest.raises(PermissionDenied):
        commit_import(demo, users["rana"], preview)
    assert not demo.list_documents(project.id)
    commit_import(demo, users["admin"], preview)
    ev = list(demo.iter_events())[-1]
    assert (ev["action"], ev["entity"], ev["entity_id"], ev["after"]["documents"]) == ("import", "project", project.id, 1)


def test_new_labels_and_attribute_values_join_the_scheme(demo, admin, project):
    line = {
        "text": "قال الوزير.",
        "entities": [{"id": 1, "label": "SPEAKER", "start_offset": 4, "end_offset": 10, "attributes": {"rank": "high"}}],
    }
    preview, _ = import_files(
        demo, admin, project.id, [ImportFile("a.jsonl", json.dumps(line).encode() + b"\n")], annotator="amal"
    )
    assert preview.new_labels == ["SPEAKER"]
    lab = next(lab for lab in demo.list_labels(project.id) if lab.name == "SPEAKER")
    assert lab.kind == "other" and lab.attributes == {"rank": ["high"]}
    events = [(e["action"], e["entity"], e["entity_id"]) for e in demo.iter_events()][-4:]
    assert ("create", "label", lab.id) in events and ("update", "label", lab.id) in events
    assert events[-1][:2] == ("import", "project")


# ---- bad input ---------------------------------------------------------------------------------------------


def _jsonl(*objs, end="\n") -> bytes:
    return ("\n".join(json.dumps(o, ensure_ascii=False) for o in objs) + end).encode()


GOOD = {"text": "قال الوزير إن الخطة جاهزة.", "label": [[4, 10, "SOURCE"]]}
BAD_INPUTS = {
    "invalid utf-8": (ImportFile("a.txt", b"\xd9\x82\xff\xfe"), "not UTF-8"),
    "nul bytes": (ImportFile("a.txt", "قال\x00".encode()), "NUL"),
    "empty file": (ImportFile("a.txt", b""), "empty"),
    "blank file": (ImportFile("a.jsonl", b"\n\n  \n"), "empty"),
    "header-only csv": (ImportFile("a.csv", b"title,text\n"), "header but no rows"),
    "ragged rows": (ImportFile("a.csv", "title,text\nا,نص\nب,نص,زائد\n".encode()), "ragged"),
    "bad quoting": (ImportFile("a.csv", 'title,text\n"ا"x,نص\n'.encode()), "bad CSV on line 2"),
    "unterminated quote": (ImportFile("a.csv", 'title,text\nا,"نص\n'.encode()), "bad CSV"),
    "cut-off last line": (ImportFile("a.jsonl", _jsonl(GOOD) + b'{"text": "\xd9\x82\xd8\xa7'), "cut off"),
    "deep nesting": (ImportFile("a.json", b"[" * 100_000 + b"]" * 100_000), "nested too deeply"),
    "deep metadata": (ImportFile("a.jsonl", _jsonl({"text": "نص", "x": json.loads("[" * 40 + "]" * 40)})), "nested deeper"),
    "lone surrogate in text": (ImportFile("a.jsonl", b'{"text": "\\ud800 \xd9\x82"}\n'), "lone surrogate"),
    "lone surrogate in metadata": (ImportFile("a.jsonl", b'{"text": "\xd9\x82", "why": "\\udc00"}\n'), "lone surrogate"),
    "field over 10 MB (csv)": (ImportFile("a.csv", b"text\n" + b"a" * (10 * 1024 * 1024 + 10) + b"\n"), "larger than 10 MB"),
    "field over 10 MB (jsonl)": (ImportFile("a.jsonl", _jsonl({"text": "a" * (10 * 1024 * 1024 + 10)})), "longer than 10 MB"),
    "offsets out of range": (ImportFile("a.jsonl", _jsonl({"text": "قال", "label": [[0, 9, "CUE"]]})), "out of range"),
    "offsets reversed": (ImportFile("a.jsonl", _jsonl({"text": "قال الوزير", "label": [[6, 2, "CUE"]]})), "reversed"),
    "offsets not numbers": (ImportFile("a.jsonl", _jsonl({"text": "قال", "label": [["0", "x", "CUE"]]})), "whole numbers"),
    "span text mismatch": (
        ImportFile(
            "a.json",
            json.dumps(
                [
                    {
                        "data": {"text": "قال الوزير"},
                        "annotations": [
                            {
                                "result": [
                                    {
                                        "id": "r1",
                                        "type": "labels",
                                        "value": {"start": 0, "end": 3, "text": "وزير", "labels": ["CUE"]},
                                    }
                                ]
                            }
                        ],
                    }
                ]
            ).encode(),
        ),
        "not 'وزير'",
    ),  # fmt: skip
    "splits a letter from its marks": (
        ImportFile("a.jsonl", _jsonl({"text": "أكّد الوزير", "label": [[0, 2, "CUE"]]})),
        "splits a letter",
    ),
    "duplicate ids": (
        ImportFile("a.jsonl", _jsonl({"id": 1, "text": "نص أول"}, {"id": 1, "text": "نص ثان"})),
        "duplicate id '1'",
    ),
    "path in file name": (ImportFile("../etc/passwd.txt", "نص".encode()), "contains a path"),
    "windows path in file name": (ImportFile("..\\a.txt", "نص".encode()), "contains a path"),
    "control character": (ImportFile("a.jsonl", _jsonl({"text": "نص\u0007"})), "control character"),
    "not a json object": (ImportFile("a.jsonl", b'["text"]\n'), "not a JSON object"),
    "bad json line": (ImportFile("a.jsonl", b'{"text": 1,}\n' + _jsonl(GOOD)), "not valid JSON"),
    "bad label name": (ImportFile("a.jsonl", _jsonl({"text": "قال الوزير", "label": [[0, 3, "<b>"]]})), "label '<b>'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_whole(demo, admin, project, case):
    file, needle = BAD_INPUTS[case]
    before = demo.query(
        "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM spans) + (SELECT count(*) FROM users) AS n"
    )
    good = ImportFile("good.jsonl", _jsonl(GOOD))
    preview = preview_import(demo, admin, project.id, [good, file], annotator="amal")
    assert preview.rejected, case
    assert any(needle in p.reason for p in preview.rejected), [str(p) for p in preview.rejected]
    with pytest.raises(ImportRejected) as exc:
        commit_import(demo, admin, preview)
    assert exc.value.problems == preview.rejected
    after = demo.query(
        "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM spans) + (SELECT count(*) FROM users) AS n"
    )
    assert before == after  # no partial import


def test_rows_rejected_carry_line_numbers(demo, admin, project):
    data = _jsonl(GOOD, {"text": "قال", "label": [[0, 9, "CUE"]]}, {"text": "نص آخر."})
    preview = preview_import(demo, admin, project.id, [ImportFile("a.jsonl", data)], annotator="amal")
    (problem,) = preview.rejected
    assert (problem.file, problem.line) == ("a.jsonl", 2)
    result = commit_import(demo, admin, preview, skip_rejected=True)
    assert len(result.document_ids) == 2


def test_file_over_size_limit(demo, admin, project):
    preview = preview_import(demo, admin, project.id, [ImportFile("big.txt", "نص ".encode() * 1000)], size_limit=1000)
    assert "over the import limit" in preview.rejected[0].reason


def test_utf16_offsets_with_span_text_are_converted(demo, admin, project):
    text = "👍🏽 قال المغرد: هذا خبر."
    task = {"data": {"text": text}, "annotations": [{"completed_by": 3, "result": [
        {"id": "a", "type": "labels", "value": {"start": 9, "end": 15, "text": "المغرد", "labels": ["SOURCE"]}}]}]}  # fmt: skip
    preview, _ = import_files(demo, admin, project.id, [ImportFile("t.json", json.dumps([task]).encode())])
    ((_doc, span),) = _spans(demo, project.id)
    assert (span.start_offset, span.end_offset) == (7, 13)
    assert any("UTF-16" in w.reason for w in preview.warnings)


def test_doccano_tuples_fast_path_same_as_span_by_span(tricky):
    """Label tuples checked as a whole list give the same spans, notes and refusals as the span-by-span loop."""
    from annotator.formats.records import RawRecord
    from annotator.importing import _clean_tuples, _Reject, prepare_record

    text = canonicalize(tricky["harakat-tatweel"]["text"]).text
    n = len(text)
    w1, w2 = text.index(" "), text.index(" ", text.index(" ") + 1)  # two whole words, marks included
    cases = [
        [[0, w1, "CLAIM"], [w1 + 1, w2, "SOURCE"]],
        [[0, 3, "CLAIM"], [0, 3, "CLAIM"]],  # a repeat: kept once, with a note
        [[0, 3, " CLAIM "]],  # stripped
        [["0", "3", "CLAIM"]],  # numbers as strings
        [[0, n + 1, "CLAIM"]],
        [[3, 3, "CLAIM"]],
        [[0, 3, ""]],
        [[True, 3, "CLAIM"]],
        [[0, 3]],
        [],
    ]
    cases += [[[a, b, "CUE"]] for a in range(0, n, 3) for b in range(a + 1, min(n, a + 8) + 1)]
    for tuples in cases:
        rec = RawRecord(file="f.jsonl", line=1, text=text, title="t", label_tuples=tuples, tuple_annotator="amal")
        try:
            doc, notes = prepare_record(rec, None, "test")
            got = (doc.compact, notes)
        except _Reject as exc:
            got = str(exc)
        # the reference: the same record through the general per-span path
        rec2 = RawRecord(file="f.jsonl", line=1, text=text, title="t", label_tuples=tuples, tuple_annotator="amal",
                         offset_unit="utf16")  # fmt: skip
        try:
            doc2, _ = prepare_record(rec2, None, "test")
            want = [(s.label, s.start, s.end) for s in doc2.spans] or None
        except _Reject:
            want = "rejected"
        if isinstance(got, str):
            assert want == "rejected", (tuples, got)
        else:
            assert got[0] == want, tuples
        fast = _clean_tuples(tuples, text)
        assert fast is None or (fast or None) == want, tuples
    assert _clean_tuples(cases[0], text) == [("CLAIM", 0, w1), ("SOURCE", w1 + 1, w2)]
    assert _clean_tuples(cases[1], text) is None and _clean_tuples(cases[2], text) is None


def test_loose_doccano_user_file_named_after_its_user(demo, admin, project):
    data = (PEER / "doccano-1.8.annotator2.jsonl").read_bytes()
    preview, _ = import_files(demo, admin, project.id, [ImportFile("annotator2.jsonl", data)])
    assert preview.summary()["new_users"] == ["annotator2"]
    assert {demo.get_user(s.annotator_id).username for _d, s in _spans(demo, project.id)} == {"annotator2"}


def test_blank_files_and_blank_lines():
    from annotator.formats.decoding import decode
    from annotator.formats.readers import read_jsonl
    from annotator.formats.records import FileRejected, RawRecord

    for data in (b"", b" \n\t\r\n\x0b\x0c", "\u3000\n\u2003".encode()):
        with pytest.raises(FileRejected, match="is empty"):
            decode("a.jsonl", data)
    items = list(read_jsonl("a.jsonl", '\n \u3000\n{"text": "x"}\n\t\n', annotator="amal"))
    assert [(type(i), i.line) for i in items] == [(RawRecord, 3)]
    with pytest.raises(FileRejected, match="cut off"):  # the last non-blank line, before trailing blanks
        list(read_jsonl("a.jsonl", '{"text": "x"}\n{"text": "y\n  ', annotator="amal"))


def test_imports_leave_the_cycle_collector_as_they_found_it(demo, admin, project):
    import gc

    good = ImportFile("good.jsonl", _jsonl(GOOD))
    bad = ImportFile("bad.jsonl", b'{"text": "x", "label": [[0, 9, "CLAIM"]]}\n')
    assert gc.isenabled()
    preview = preview_import(demo, admin, project.id, [good, bad], annotator="amal")
    assert gc.isenabled() and preview.rejected
    with pytest.raises(ImportRejected):
        commit_import(demo, admin, preview)
    assert gc.isenabled()  # back on after a refusal too
    gc.disable()
    try:
        _, result = import_files(demo, admin, project.id, [good], annotator="amal")
        assert result.spans > 0 and not gc.isenabled()  # paused by someone else: left paused
    finally:
        gc.enable()


# ---- Label Studio round trips: direction, authors, predictions (issue 11) -----------------------------------


def _ls_export(store, admin, project_id) -> list[dict]:
    buf = io.BytesIO()
    export_zip(store, admin, project_id, "labelstudio", buf)
    return json.loads(zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("tasks.json"))


def _drawn(tasks, key) -> Counter:
    """Every relation of the tasks as drawn: (document, from label and text, to label and text, type)."""
    out = Counter()
    for t in tasks:
        for a in t[key]:
            if not isinstance(a, dict):
                continue
            regions = {r["id"]: r["value"] for r in a["result"] if r["type"] == "labels"}
            for r in a["result"]:
                if r["type"] == "relation":
                    f, to = regions[r["from_id"]], regions[r["to_id"]]
                    doc = t["data"].get("doc_id")
                    out[
                        (
                            doc,
                            f["labels"][0],
                            canonicalize(f["text"]).text,
                            to["labels"][0],
                            canonicalize(to["text"]).text,
                            r["labels"][0],
                        )
                    ] += 1
    return out


def test_labelstudio_export_draws_links_as_the_fixture_does(demo, admin, project):
    """LS → Nisba → LS: every relation comes out in the direction it was drawn (CUE → CLAIM/QUOTE), the
    predictions' relations too; the old export turned the cue relations around (CLAIM → CUE)."""
    _import(demo, admin, project, "labelstudio-1.23.snapshot.json")
    fixture = json.loads((PEER / "labelstudio-1.23.snapshot.json").read_text(encoding="utf-8"))
    out = _ls_export(demo, admin, project.id)
    assert _drawn(out, "annotations") == _drawn(fixture, "annotations")
    assert _drawn(out, "predictions") == _drawn(fixture, "predictions")
    cue = [k for k in _drawn(out, "annotations") if k[5] == "cue"]
    assert len(cue) == 2 and {(k[1], k[3]) for k in cue} == {("CUE", "CLAIM"), ("CUE", "QUOTE")}


def test_labelstudio_predictions_leave_as_predictions(demo, admin, project):
    _import(demo, admin, project, "labelstudio-1.23.snapshot.json")
    out = {t["data"]["doc_id"]: t for t in _ls_export(demo, admin, project.id)}
    fixture = {t["data"]["doc_id"]: t for t in json.loads((PEER / "labelstudio-1.23.snapshot.json").read_text(encoding="utf-8"))}
    for doc_id, task in fixture.items():
        got = out[doc_id]
        assert len(got["annotations"]) == len(task["annotations"])
        assert [(p["model_version"], p["score"]) for p in got["predictions"]] == [
            (p["model_version"], p["score"]) for p in task["predictions"]
        ]
        for mine, theirs in zip(got["predictions"], task["predictions"], strict=True):

            def regions(p):
                return sorted(
                    (r["type"], r["value"]["start"], r["value"]["end"], str(r["value"].get("labels") or r["value"].get("choices")), r.get("score"))
                    for r in p["result"] if r["type"] != "relation"
                )  # fmt: skip

            assert regions(mine) == regions(theirs)
    # no annotation is the model's
    assert all("attrib-rules" not in a["completed_by"]["email"] for t in out.values() for a in t["annotations"])
    assert sum(len(t["predictions"]) for t in out.values()) == 2


def test_labelstudio_round_trip_keeps_accounts_and_direction(annotated_project, admin):
    """Nisba → LS file → Nisba maps each annotator back onto the same account by the exported address (the old
    export's ``nisba_annotator`` came back as new prefixed accounts ``labelstudio.amal``), links unchanged."""
    store, project = annotated_project
    tasks = _ls_export(store, admin, project.id)
    again = create_project(store, admin, "again")
    data = json.dumps(tasks, ensure_ascii=False).encode()
    preview, _ = import_files(store, admin, again.id, [ImportFile("tasks.json", data)])
    assert not preview.rejected
    assert {m.source: (m.account, m.new) for m in preview.accounts.values()} == {
        "amal@nisba.invalid": ("amal", False),
        "badr@nisba.invalid": ("badr", False),
    }
    assert preview.accounts["amal@nisba.invalid"].reason == "the Nisba account exported as amal@nisba.invalid"
    assert _snapshot(store, again.id)[0] == _snapshot(store, project.id)[0]
    assert _snapshot(store, again.id)[1] == _snapshot(store, project.id)[1]
    assert not store.query("SELECT 1 FROM users WHERE username LIKE 'labelstudio%'")


@pytest.fixture
def annotated_project(demo, users):
    """amal and badr annotate two texts, with attributed_to and cue links drawn content → CUE in Nisba."""
    from annotator.annotations import add_link, add_span
    from annotator.projects import add_document, add_member

    admin = users["admin"]
    project = create_project(demo, admin, "Round trip")
    for name in ("amal", "badr"):
        add_member(demo, admin, project.id, users[name].id)
    text = "وقال المصدر إن الخبر صحيح 🇪🇬 وأكّـدَ الوزير أن الخطة جاهزة."

    def span(user, doc, label, needle, **kw):
        start = doc.text.index(needle)
        return add_span(demo, user, doc.id, label, start, start + len(needle), needle, **kw)

    doc = demo.get_document(add_document(demo, admin, project.id, "one", text).id)
    for who in ("amal", "badr"):
        u = users[who]
        cl = span(u, doc, "CLAIM", "الخبر صحيح", attributes={"form": "indirect"})
        add_link(demo, u, cl.id, span(u, doc, "SOURCE", "المصدر").id, "attributed_to")
        add_link(demo, u, cl.id, span(u, doc, "CUE", "وقال").id, "cue")
    u = users["amal"]
    cl = span(u, doc, "CLAIM", "الخطة جاهزة")
    add_link(demo, u, cl.id, span(u, doc, "CUE", "وأكّـدَ").id, "cue")
    add_link(demo, u, cl.id, span(u, doc, "SOURCE", "الوزير").id, "attributed_to")
    return demo, project


@pytest.mark.parametrize("name", ["labelstudio-1.23.json_min", "labelstudio-1.23.csv"])
def test_labelstudio_min_choices_kept_per_annotator(demo, admin, project, name):
    """JSON_MIN / CSV: each annotator's task-level ``form`` stays with that annotator's spans; the document's
    metadata holds the task data only (the old import put the first row's ``form`` there for everyone)."""
    _import(demo, admin, project, name)
    docs = {d.metadata["doc_id"]: d for d in demo.list_documents(project.id)}
    assert all("form" not in d.metadata for d in docs.values())
    assert docs["curly-quotes"].metadata["why"]

    def forms(doc_id):
        out = {}
        for s in demo.list_spans(docs[doc_id].id):
            out.setdefault(demo.get_user(s.annotator_id).username, set()).add(json.dumps(s.origin["task_choices"]["form"]))
        return out

    assert forms("curly-quotes") == {
        "labelstudio-user-1": {'["direct", "partial"]'}, "labelstudio-user-2": {'["direct", "indirect"]'}
    }  # fmt: skip
    assert forms("emoji") == {"labelstudio-user-1": {'"direct"'}, "labelstudio-user-2": {'"direct"'}}
    assert forms("guillemets") == {"labelstudio-user-1": {'"partial"'}}


def test_doccano_zip_round_trip(demo, admin, project):
    """Nisba → doccano-shaped zip (a file per user, UTF-16 offsets, metadata.json) → Nisba: the same spans on
    the same accounts, every link in its direction, one import with no per-example duplicate lines."""
    _import(demo, admin, project, "labelstudio-1.23.snapshot.json")
    buf = io.BytesIO()
    export_zip(demo, admin, project.id, "jsonl", buf)
    again = create_project(demo, admin, "again")
    preview, _ = import_files(demo, admin, again.id, [ImportFile("export.zip", buf.getvalue())])
    assert not preview.rejected and not preview.duplicates
    assert {m.account for m in preview.accounts.values()} == {
        "annotator1-example.com", "annotator2-example.com", "model-attrib-rules-v0.3"
    }  # fmt: skip
    assert not any(m.new for m in preview.accounts.values())
    assert _snapshot(demo, again.id) == _snapshot(demo, project.id)
    emoji = next(d for d in demo.list_documents(again.id) if d.metadata.get("doc_id") == "emoji")
    assert {s.text for s in demo.list_spans(emoji.id)} >= {"قال", "المغرد", "هذا خبر مهم 🇪🇬"}


def test_doccano_export_matches_doccanos_own_file(demo, admin, project):
    """doccano's zip → Nisba → Nisba's doccano export: each user's file has doccano's keys and, for every text
    Nisba stores unchanged, the very entity offsets doccano wrote (UTF-16 units, the emoji text included)."""
    _import(demo, admin, project, "doccano-1.8.export.zip")
    buf = io.BytesIO()
    export_zip(demo, admin, project.id, "jsonl", buf)
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert sorted(zf.namelist()) == ["annotator2.jsonl", "doccano.admin.jsonl", "metadata.json"]
    theirs = zipfile.ZipFile(PEER / "doccano-1.8.export.zip")
    compared = 0
    for mine_name, their_name in (("doccano.admin.jsonl", "admin.jsonl"), ("annotator2.jsonl", "annotator2.jsonl")):
        mine = [json.loads(x) for x in zf.read(mine_name).decode().splitlines()]
        them = {x["text"]: x for x in map(json.loads, theirs.read(their_name).decode().splitlines())}
        assert len(mine) == len(them) == 14
        for line in mine:
            assert set(line) == {"id", "text", "entities", "relations", "Comments", "meta"}
            if line["text"] not in them:
                continue  # canonicalised (bidi controls): the offsets moved with the text
            expected = them[line["text"]]
            assert sorted((e["label"], e["start_offset"], e["end_offset"]) for e in line["entities"]) == sorted(
                (e["label"], e["start_offset"], e["end_offset"]) for e in expected["entities"]
            )

            def drawn(x):
                label = {e["id"]: (e["label"], e["start_offset"]) for e in x["entities"]}
                return sorted((label[r["from_id"]], label[r["to_id"]], r["type"]) for r in x["relations"])

            assert drawn(line) == drawn(expected)  # cue drawn CUE → content, as in doccano's file
            compared += 1
    assert compared >= 26


def _linked_line(i: int, repeat: bool) -> dict:
    """A doccano line: a CLAIM attributed to a SOURCE with a CUE, the attribution given twice when ``repeat``."""
    text = f"قال المتحدث {i} إن الخطة جاهزة."
    n = len(str(i))
    entities = [
        {"id": 1, "label": "CLAIM", "start_offset": 16 + n, "end_offset": len(text) - 1},
        {"id": 2, "label": "SOURCE", "start_offset": 4, "end_offset": 12 + n},
        {"id": 3, "label": "CUE", "start_offset": 0, "end_offset": 3},
    ]
    relations = [{"from_id": 1, "to_id": 2, "type": "attributed_to"}, {"from_id": 1, "to_id": 3, "type": "cue"}]
    return {"text": text, "entities": entities, "relations": relations + relations[:1] * repeat}


def test_bulk_links_and_statuses_skip_what_exists(demo, admin, users, project):
    """Enough links and statuses for the bulk path that skips existing keys (COPY through a temporary table on
    PostgreSQL): a relation given twice makes one link, links keep the rows' order, an existing status is kept."""
    n = COPY_MIN_ROWS + 20
    lines = [_linked_line(i, repeat=i % 2 == 0) for i in range(n)]
    import_files(demo, admin, project.id, [ImportFile(f"{i}.txt", line["text"].encode()) for i, line in enumerate(lines)])
    docs = demo.list_documents(project.id)
    amal = users["amal"].id
    with demo.write():
        for doc in docs[:10]:
            demo.set_status(doc.id, amal, "submitted")
    payload = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    _preview, result = import_files(demo, admin, project.id, [ImportFile("linked.jsonl", payload)], annotator="amal")
    assert result.document_ids == [] and result.spans == 3 * n
    assert result.links == 2 * n == result.summary["links"]  # what was stored: the repeated relations not counted

    link_ids = []
    for doc in docs:
        labels = {s.id: (s.label, s.text) for s in demo.list_spans(doc.id)}
        links = demo.list_links(doc.id)
        number = doc.text.split()[2]
        assert [(labels[k.from_span_id], labels[k.to_span_id], k.type) for k in links] == [
            (("CLAIM", "الخطة جاهزة"), ("SOURCE", f"المتحدث {number}"), "attributed_to"),
            (("CLAIM", "الخطة جاهزة"), ("CUE", "قال"), "cue"),
        ]
        link_ids += [k.id for k in links]
    assert link_ids == sorted(link_ids)  # in the order of the rows: document by document
    assert [demo.get_status(doc.id, amal) for doc in docs] == ["submitted"] * 10 + ["in_progress"] * (n - 10)
