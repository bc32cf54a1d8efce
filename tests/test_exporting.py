"""Exports: CSV (exact columns, formula neutralisation, BOM, Arabic unchanged), triples, JSONL, Label Studio,
CoNLL with warnings, audit with the chain head, metadata sidecar, filters, admin-only and audited."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl
import pandas as pd
import pytest

from annotator import audit
from annotator.annotations import add_link, add_span
from annotator.errors import NisbaError, PermissionDenied
from annotator.exporting import (
    FORMATS,
    ExportFilters,
    bio_tags,
    context_words,
    csv_lines,
    export_file,
    export_to_path,
    export_zip,
    neutralise,
    region_id,
)
from annotator.projects import add_document, add_member, create_project
from annotator.text import context

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _span(store, user, doc, label, needle, **kw):
    start = doc.text.index(needle)
    return add_span(store, user, doc.id, label, start, start + len(needle), needle, **kw)


@pytest.fixture
def annotated(demo, users, tricky):
    """A project with the tricky texts; amal and badr annotate some, with links and attributes; one gold span."""
    admin = users["admin"]
    project = create_project(demo, admin, "Export test")
    for name in ("amal", "badr", "rana"):
        add_member(demo, admin, project.id, users[name].id)
    docs = {}
    for case_id in ("formula-injection", "emoji", "multi-paragraph", "harakat-tatweel", "html-injection"):
        docs[case_id] = add_document(demo, admin, project.id, case_id, tricky[case_id]["text"], metadata={"case": case_id})
    amal, badr = users["amal"], users["badr"]
    d = docs["formula-injection"]
    q = _span(demo, amal, d, "QUOTE", '=HYPERLINK("http://example.invalid","اضغط هنا")', attributes={"form": "direct"})
    s = _span(demo, amal, d, "SOURCE", "الموقع", attributes={"type": "outlet"})
    c = _span(demo, amal, d, "CUE", "قال")
    add_link(demo, amal, q.id, s.id, "attributed_to")
    add_link(demo, amal, q.id, c.id, "cue")
    d = docs["emoji"]
    q2 = _span(demo, amal, d, "QUOTE", "هذا خبر مهم 🇪🇬", attributes={"form": "direct"})
    s2 = _span(demo, amal, d, "SOURCE", "المغرد")
    add_link(demo, amal, q2.id, s2.id, "attributed_to")
    _span(demo, badr, d, "SOURCE", "المغرد")
    d = docs["multi-paragraph"]
    cl = _span(demo, badr, d, "CLAIM", "الخبر صحيح", attributes={"form": "indirect"})
    so = _span(demo, badr, d, "SOURCE", "المصدر")
    add_link(demo, badr, cl.id, so.id, "attributed_to")
    _span(demo, users["rana"], d, "SOURCE", "الوزارة", layer="gold")
    d = docs["harakat-tatweel"]
    _span(demo, amal, d, "CUE", "وأكّـدَ")
    return demo, project, docs


def _zip(store, admin, project, fmt, **kw) -> zipfile.ZipFile:
    buf = io.BytesIO()
    export_zip(store, admin, project.id, fmt, buf, **kw)
    buf.seek(0)
    return zipfile.ZipFile(buf)


def test_csv_columns_and_values(annotated, users):
    store, project, docs = annotated
    zf = _zip(store, users["admin"], project, "csv")
    raw = zf.read("spans.csv").decode("utf-8")
    assert not raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    header = raw.split("\r\n", 1)[0].split(",")
    assert header[:11] == [
        "project", "document_id", "document_title", "text_sha256", "span_id", "label", "start_offset", "end_offset",
        "text", "context_before", "context_after",
    ]  # fmt: skip
    assert header[11:13] == ["form", "type"]
    assert header[-9:] == [
        "source_span_id",
        "source_text",
        "cue_text",
        "annotator",
        "layer",
        "created_at",
        "updated_at",
        "review_status",
        "reviewer",
    ]
    assert len(rows) == 10
    quote = next(r for r in rows if r["label"] == "QUOTE" and r["document_title"] == "formula-injection")
    assert quote["text"] == "'" + '=HYPERLINK("http://example.invalid","اضغط هنا")'
    assert quote["source_text"] == "الموقع"
    assert quote["cue_text"] == "قال"
    assert quote["form"] == "direct"
    assert quote["annotator"] == "amal"
    src = next(r for r in rows if r["label"] == "SOURCE" and r["document_title"] == "formula-injection")
    assert src["type"] == "outlet" and src["form"] == "" and src["source_text"] == ""
    assert quote["source_span_id"] == src["span_id"]
    gold = next(r for r in rows if r["layer"] == "gold")
    assert gold["text"] == "الوزارة" and gold["annotator"] == "rana"
    # the offsets slice the stored text
    for r in rows:
        doc = store.get_document(int(r["document_id"]))
        assert neutralise(doc.text[int(r["start_offset"]) : int(r["end_offset"])]) == r["text"]


def test_csv_read_back_with_pandas_has_arabic_unchanged_and_no_formula(annotated, users, tmp_path):
    store, project, _docs = annotated
    out = tmp_path / "spans.csv"
    export_to_path(store, users["admin"], project.id, "csv", out, excel=True)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for value in df.to_numpy().ravel():
        assert not str(value).startswith(FORMULA), value
    for _, r in df.iterrows():
        span = store.get_span(int(r["span_id"]))
        expected = span.text if not span.text.startswith(FORMULA) else "'" + span.text
        assert r["text"] == expected
    assert "هذا خبر مهم 🇪🇬" in set(df["text"])
    meta = json.loads((tmp_path / "spans.csv.metadata.json").read_text(encoding="utf-8"))
    assert meta["offset_unit"] == "Unicode code points" and meta["text_direction"] == "rtl"
    assert meta["counts"]["spans"] == len(df)
    assert meta["exported_by"] == "admin" and meta["excel_bom"] is True


def test_metadata_sidecar_in_zip(annotated, users):
    store, project, _docs = annotated
    zf = _zip(store, users["admin"], project, "jsonl", filters=ExportFilters(annotators=["amal"]))
    meta = json.loads(zf.read("metadata.json"))
    assert meta["filters"] == {"annotators": ["amal"]}
    assert meta["project"]["name"] == "Export test"
    assert meta["export_schema_version"] == 1 and meta["database_migrations"]
    assert meta["counts"]["spans"] == 6
    assert meta["exported_at"]


def test_filters(annotated, users):
    store, project, docs = annotated
    admin = users["admin"]

    def count(**kw):
        zf = _zip(store, admin, project, "csv", filters=ExportFilters(**kw))
        return len(list(csv.DictReader(io.StringIO(zf.read("spans.csv").decode(), newline=""))))

    assert count() == 10
    assert count(annotators=["badr"]) == 3
    assert count(gold=True) == 1
    assert count(labels=["SOURCE"]) == 5
    assert count(document_ids=[docs["emoji"].id]) == 3
    assert count(date_from="2000-01-01", date_to="2999-01-01") == 10
    assert count(date_to="2000-01-01") == 0
    assert count(review_status="unreviewed") == 10


def test_triples(annotated, users):
    store, project, _docs = annotated
    zf = _zip(store, users["admin"], project, "triples")
    rows = list(csv.DictReader(io.StringIO(zf.read("triples.csv").decode(), newline="")))
    assert len(rows) == 3  # the QUOTE and CLAIM spans of the annotator layers
    t = next(r for r in rows if r["content_label"] == "CLAIM")
    assert (t["content_text"], t["source_text"], t["form"], t["annotator"]) == ("الخبر صحيح", "المصدر", "indirect", "badr")
    q = next(r for r in rows if r["content_text"].startswith("'="))
    assert q["cue_text"] == "قال" and q["cue_span_id"]


def test_jsonl_shape(annotated, users):
    """doccano 1.8's export: one <user>.jsonl per annotator, every example in each, UTF-16 offsets (doccano's
    editor), cue relations drawn CUE → content; the old export wrote one spans.jsonl in code points."""
    store, project, docs = annotated
    zf = _zip(store, users["admin"], project, "jsonl")
    assert sorted(zf.namelist()) == ["_gold.jsonl", "amal.jsonl", "badr.jsonl", "metadata.json", "rana.jsonl"]
    files = {n: [json.loads(x) for x in zf.read(n).decode().splitlines()] for n in zf.namelist() if n != "metadata.json"}
    for name, lines in files.items():
        assert [x["id"] for x in lines] == [d.id for d in docs.values()], name  # every example, in order
    amal = {x["id"]: x for x in files["amal.jsonl"]}
    emoji = amal[docs["emoji"].id]
    # after 🇪🇬 (two characters outside the BMP) doccano's editor counts 2 units each
    text = emoji["text"]
    units = text.encode("utf-16-le", "surrogatepass")
    got = {e["label"]: units[2 * e["start_offset"] : 2 * e["end_offset"]].decode("utf-16-le") for e in emoji["entities"]}
    assert got == {"QUOTE": "هذا خبر مهم 🇪🇬", "SOURCE": "المغرد"}
    source = next(e for e in emoji["entities"] if e["label"] == "SOURCE")
    assert text.index("المغرد") == 7 and (source["start_offset"], source["end_offset"]) == (9, 15)  # after 👍🏽
    assert emoji["meta"]["offset_unit"] == "utf16" and emoji["meta"]["annotator"] == "amal@nisba.invalid"
    assert emoji["Comments"] == [] and "label" not in emoji
    formula = amal[docs["formula-injection"].id]
    label_of = {e["id"]: e["label"] for e in formula["entities"]}
    assert sorted((label_of[r["from_id"]], label_of[r["to_id"]], r["type"]) for r in formula["relations"]) == [
        ("CUE", "QUOTE", "cue"), ("QUOTE", "SOURCE", "attributed_to")
    ]  # fmt: skip
    assert amal[docs["html-injection"].id]["entities"] == []  # examples without spans still travel
    assert [x["meta"]["layer"] for x in files["_gold.jsonl"]] == ["gold"] * 5
    assert sum(len(x["entities"]) for x in files["_gold.jsonl"]) == 1
    meta = json.loads(zf.read("metadata.json"))
    assert (meta["offset_unit"], meta["jsonl_layout"]) == ("UTF-16 code units", "entities")


def test_jsonl_code_points_and_label_layout(annotated, users):
    store, project, docs = annotated
    zf = _zip(store, users["admin"], project, "jsonl", offsets="codepoints", layout="label")
    emoji = next(json.loads(x) for x in zf.read("amal.jsonl").decode().splitlines() if json.loads(x)["id"] == docs["emoji"].id)
    assert sorted(emoji["text"][s:e] for s, e, _label in emoji["label"]) == ["المغرد", "هذا خبر مهم 🇪🇬"]
    assert "entities" not in emoji and emoji["meta"]["offset_unit"] == "codepoint"
    assert json.loads(zf.read("metadata.json"))["offset_unit"] == "Unicode code points"
    with pytest.raises(NisbaError, match="Only the JSONL export"):
        _zip(store, users["admin"], project, "csv", offsets="utf16")


def test_labelstudio_shape(annotated, users):
    store, project, docs = annotated
    zf = _zip(store, users["admin"], project, "labelstudio")
    tasks = json.loads(zf.read("tasks.json"))
    assert len(tasks) == 5
    task = next(t for t in tasks if t["data"]["nisba_document_id"] == docs["formula-injection"].id)
    (ann,) = task["annotations"]
    labels = [r for r in ann["result"] if r["type"] == "labels"]
    choices = [r for r in ann["result"] if r["type"] == "choices"]
    relations = [r for r in ann["result"] if r["type"] == "relation"]
    assert len(labels) == 3 and len(relations) == 2
    ids = {r["id"] for r in labels}
    assert all(len(i) == 10 for i in ids)
    assert {c["id"] for c in choices} <= ids and {c["from_name"] for c in choices} == {"form", "type"}
    for r in labels:
        assert task["data"]["text"][r["value"]["start"] : r["value"]["end"]] == r["value"]["text"]
    assert {(r["from_id"] in ids, r["to_id"] in ids) for r in relations} == {(True, True)}
    # links as Label Studio users draw them: content → SOURCE, but CUE → content
    label_of = {r["id"]: r["value"]["labels"][0] for r in labels}
    drawn = sorted((label_of[r["from_id"]], label_of[r["to_id"]], r["labels"][0]) for r in relations)
    assert drawn == [("CUE", "QUOTE", "cue"), ("QUOTE", "SOURCE", "attributed_to")]
    # the author by e-mail, which Label Studio keeps when a member has it (Nisba accounts have none: derived)
    assert ann["completed_by"] == {"email": "amal@nisba.invalid"} and "nisba_annotator" not in ann
    assert task["predictions"] == []
    config = zf.read("labelstudio-config.xml").decode()
    assert 'perRegion="true"' in config
    assert "  <Style>.nisba-rtl { direction: rtl; text-align: right; white-space: pre-wrap; }</Style>\n" in config
    assert '  <View className="nisba-rtl">\n    <Text name="text" value="$text"/>\n  </View>\n' in config


def test_region_ids_look_like_label_studio():
    ids = {region_id(i) for i in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 10 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


def test_bio_tags_warn_instead_of_widening():
    text = "وقال المصدر إن الخبر صحيح."
    tokens, warnings = bio_tags(
        text, [(0, 4, "CUE", 1), (5, 11, "SOURCE", 2), (6, 11, "X", 3), (15, 20, "CLAIM", 4), (15, 25, "CLAIM", 5)]
    )
    assert [t for t, _ in tokens] == ["وقال", "المصدر", "إن", "الخبر", "صحيح", "."]
    assert [t for _, t in tokens] == ["B-CUE", "B-SOURCE", "O", "B-CLAIM", "O", "O"]
    assert {w[0] for w in warnings} == {3, 5}


def test_conll_files_per_layer(annotated, users):
    store, project, _docs = annotated
    zf = _zip(store, users["admin"], project, "conll")
    names = set(zf.namelist())
    assert {
        "conll/gold.conll",
        "conll/annotator-amal.conll",
        "conll/annotator-badr.conll",
        "conll/warnings.csv",
        "conll/documents.csv",
    } <= names
    amal = zf.read("conll/annotator-amal.conll").decode()
    assert "وأكّـدَ -X- _ B-CUE" in amal
    assert "الموقع -X- _ B-SOURCE" in amal
    # the QUOTE starting with =HYPERLINK("... starts on a punctuation token and ends inside none: tagged
    assert "= -X- _ B-QUOTE" in amal


def test_audit_export_has_chain_head(annotated, users):
    store, project, _docs = annotated
    zf = _zip(store, users["admin"], project, "audit")
    meta = json.loads(zf.read("metadata.json"))
    report = audit.verify_chain(store.iter_events(), store.audit_key())
    # the export's own audit event comes after the export was written
    assert meta["counts"]["chain_ok"] is True
    events = [json.loads(x) for x in zf.read("audit.jsonl").decode().splitlines()]
    assert meta["counts"]["head_hash"] == events[-1]["hash"]
    assert report.count == len(events) + 1
    rows = list(csv.DictReader(io.StringIO(zf.read("audit.csv").decode(), newline="")))
    assert len(rows) == len(events) and rows[0]["hash"] == events[0]["hash"]


def test_export_is_admin_only_and_audited(annotated, users):
    store, project, _docs = annotated
    before = len(list(store.iter_events()))
    with pytest.raises(PermissionDenied):
        export_zip(store, users["amal"], project.id, "csv", io.BytesIO())
    assert len(list(store.iter_events())) == before
    export_zip(store, users["admin"], project.id, "triples", io.BytesIO())
    last = list(store.iter_events())[-1]
    assert (last["action"], last["entity"], last["after"]["format"]) == ("export", "project", "triples")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_metadata(annotated, users, fmt):
    store, project, _docs = annotated
    zf = _zip(store, users["admin"], project, fmt)
    meta = json.loads(zf.read("metadata.json"))
    assert meta["nisba_export"] == fmt and set(meta["files"]) <= set(zf.namelist())


def test_context_words_matches_text_context(tricky):
    text = " ".join(case["text"] for case in tricky.values()) * 3
    for start in range(0, len(text) - 20, 37):
        assert context_words(text, start, start + 9) == context(text, start, start + 9)


def test_csv_lines_match_the_csv_module():
    rows = [
        ["a", 'b "quoted"', "c,d", "line\nbreak", "cr\rhere", "", None, 12, 3.5, "عربي، بفاصلة", " space ", "'=x"],
        ["only"],
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    assert csv_lines(rows) == buf.getvalue()


def test_review_columns_and_filter(annotated, users):
    from annotator import review

    store, project, docs = annotated
    doc = docs["emoji"]
    spans = {s.text: s for s in store.list_spans(doc.id, annotator_ids=[users["amal"].id])}
    review.decide(store, users["rana"], "span", spans["المغرد"].id, "accepted", 0)
    review.decide(store, users["rana"], "span", spans["هذا خبر مهم 🇪🇬"].id, "rejected", 0)
    zf = _zip(store, users["admin"], project, "csv", filters=ExportFilters(review_status="accepted"))
    (row,) = list(csv.DictReader(io.StringIO(zf.read("spans.csv").decode(), newline="")))
    assert (row["text"], row["review_status"], row["reviewer"]) == ("المغرد", "accepted", "rana")
    zf = _zip(store, users["admin"], project, "csv", filters=ExportFilters(review_status="unreviewed"))
    assert len(list(csv.DictReader(io.StringIO(zf.read("spans.csv").decode(), newline="")))) == 8


def test_labelstudio_items_have_the_keys_label_studio_writes(annotated, users):
    """Our result items carry the same keys as Label Studio 1.23's own export (tests/fixtures/peer-exports)."""
    from pathlib import Path

    store, project, _docs = annotated
    peer = json.loads((Path(__file__).parent / "fixtures" / "peer-exports" / "labelstudio-1.23.json").read_text(encoding="utf-8"))
    theirs = {}
    for task in peer:
        for ann in task["annotations"]:
            for r in ann["result"]:
                theirs.setdefault(r["type"], (set(r), set(r.get("value", {}))))
    tasks = json.loads(_zip(store, users["admin"], project, "labelstudio").read("tasks.json"))
    ours = {}
    for task in tasks:
        assert set(task) >= {"id", "data", "annotations", "predictions"} and "text" in task["data"]
        for ann in task["annotations"]:
            for r in ann["result"]:
                ours.setdefault(r["type"], (set(r), set(r.get("value", {}))))
    assert ours == theirs


def test_spans_workbook_reads_back_right_to_left_with_no_formula(annotated, users, tmp_path):
    store, project, _docs = annotated
    out = tmp_path / "spans.xlsx"
    export_to_path(store, users["admin"], project.id, "xlsx", out)
    wb = openpyxl.load_workbook(out)
    (ws,) = wb.worksheets
    assert ws.sheet_view.rightToLeft is True
    assert ws.freeze_panes == "A2"
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no cell stored as a formula
    grid = [[c.value for c in row] for row in ws.iter_rows()]
    header, rows = grid[0], grid[1:]
    # the same table as the CSV, cell for cell (numbers as numbers, empty cells empty)
    _name, data = export_file(store, users["admin"], project.id, "csv")
    csv_rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert header == csv_rows[0]
    assert [["" if v is None else str(v) for v in r] for r in rows] == csv_rows[1:]
    by_name = [dict(zip(header, r, strict=True)) for r in rows]
    quote = next(r for r in by_name if r["label"] == "QUOTE" and r["document_title"] == "formula-injection")
    assert quote["text"] == "'" + '=HYPERLINK("http://example.invalid","اضغط هنا")' and quote["form"] == "direct"
    for r in by_name:  # offsets are numbers and slice the stored text
        assert neutralise(store.get_document(r["document_id"]).text[r["start_offset"] : r["end_offset"]]) == r["text"]
    letter = openpyxl.utils.get_column_letter
    assert ws.column_dimensions[letter(header.index("text") + 1)].width >= 60
    assert ws.column_dimensions[letter(header.index("span_id") + 1)].width < 20


def test_workbook_refuses_a_cell_excel_would_cut(annotated, users):
    store, project, docs = annotated
    long_text = "قال " + "كلمة " * 7000
    doc = add_document(store, users["admin"], project.id, "long", long_text)
    add_span(store, users["amal"], doc.id, "CLAIM", 4, len(long_text.rstrip()))
    with pytest.raises(NisbaError, match="longer than Excel's 32,767"):
        export_file(store, users["admin"], project.id, "xlsx")


def test_one_file_download_is_the_spans_csv_and_is_audited(annotated, users):
    store, project, _docs = annotated
    name, data = export_file(store, users["admin"], project.id, "csv", excel=True)
    assert name == "spans.csv" and data.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(df) == 10 and "هذا خبر مهم 🇪🇬" in set(df["text"])
    last = list(store.iter_events())[-1]
    assert (last["action"], last["after"]["format"]) == ("export", "csv")
    with pytest.raises(PermissionDenied):
        export_file(store, users["amal"], project.id, "csv")
    with pytest.raises(NisbaError, match="several files"):
        export_file(store, users["admin"], project.id, "conll")


def test_jsonl_user_called_gold_keeps_its_own_file(annotated, users):
    """A user may be called ``gold``: the gold layer's file is ``_gold.jsonl`` (no user name starts with ``_``),
    so the zip never holds two files of one name and both layers come back."""
    from annotator.auth import create_user
    from annotator.importing import ImportFile, import_files

    store, project, docs = annotated
    admin = users["admin"]
    gold_user = create_user(store, admin, "gold")
    add_member(store, admin, project.id, gold_user.id)
    _span(store, gold_user, docs["emoji"], "SOURCE", "المغرد")
    buf = io.BytesIO()
    export_zip(store, admin, project.id, "jsonl", buf)
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert len(names) == len(set(names)) and {"gold.jsonl", "_gold.jsonl"} <= set(names)
    again = create_project(store, admin, "again")
    preview, _ = import_files(store, admin, again.id, [ImportFile("export.zip", buf.getvalue())])
    assert not preview.rejected
    layers = {
        (store.get_user(s.annotator_id).username, s.layer) for d in store.list_documents(again.id) for s in store.list_spans(d.id)
    }
    assert {("gold", "annotator"), ("rana", "gold")} <= layers
