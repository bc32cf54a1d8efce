"""The learned engine on a real SQLite file: too little gold, training with cross-validation, suggestions of
engine crf, a model trained on another label scheme is not used, admins only, and the train/evaluate commands."""

from __future__ import annotations

import csv
import io
import json

import pytest

from annotator import annotations as A
from annotator import labels, projects
from annotator import suggestion_models as M
from annotator import suggestions as S
from annotator.cli import main
from annotator.errors import PermissionDenied
from tests.conftest import FIXTURES
from tests.test_access_matrix import snapshot

DEV = FIXTURES / "attribution-dev.ar.jsonl"


def add_gold_documents(store, users, project_id: int, count: int) -> None:
    """``count`` dev-set paragraphs as documents with their spans in the gold layer (made by the reviewer); d07,
    among the first eleven, has no attribution, so its empty gold layer cannot be told from an unannotated one."""
    lines = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()][:count]
    for rec in lines:
        doc = projects.add_document(store, users["admin"], project_id, rec["id"], rec["text"])
        for s in rec["spans"]:
            A.add_span(store, users["rana"], doc.id, s["label"], s["start"], s["end"], layer="gold")


def test_too_little_gold_says_so_and_writes_nothing(demo, users, demo_doc):
    add_gold_documents(demo, users, demo_doc.project_id, 3)
    before = snapshot(demo)
    with pytest.raises(M.NotEnoughGold, match="3 document layer"):
        M.train_project_model(demo, users["admin"], demo_doc.project_id)
    assert snapshot(demo) == before
    assert M.model_status(demo, users["amal"], demo_doc.project_id) is None
    with pytest.raises(S.SuggestionEngineError, match="No learned model"):
        S.list_suggestions(demo, users["amal"], demo_doc.id, engine="crf")


def test_train_store_suggest_and_accept_with_the_crf(demo, users, demo_doc):
    pid = demo_doc.project_id
    add_gold_documents(demo, users, pid, 11)
    before = snapshot(demo)
    with pytest.raises(PermissionDenied):
        M.train_project_model(demo, users["rana"], pid)
    assert snapshot(demo) == before
    status = M.train_project_model(demo, users["admin"], pid)
    assert status["usable"] and status["version"].startswith("crf-")
    assert status["training_documents"] == 10 and status["training_spans"] > 50 and status["seconds"] >= 0
    assert {(r["label"], r["match"]) for r in status["cross_validation"]} >= {("CUE", "exact"), ("CLAIM", "overlap")}
    assert all(0 <= r["f1"] <= 1 for r in status["cross_validation"])
    sugg = S.list_suggestions(demo, users["amal"], demo_doc.id, engine="crf")
    assert sugg and {s.engine for s in sugg} == {"crf"} and {s.engine_version for s in sugg} == {status["version"]}
    for s in sugg:
        assert demo_doc.text[s.start : s.end] == s.text
    cue = next(s for s in sugg if s.label == "CUE")
    span = S.accept_suggestion(demo, users["amal"], demo_doc.id, cue.key, engine="crf")
    assert span.origin["engine"] == "crf" and span.origin["engine_version"] == status["version"]


def test_a_model_trained_on_another_label_scheme_is_not_used(demo, users, demo_doc):
    pid = demo_doc.project_id
    add_gold_documents(demo, users, pid, 9)
    M.train_project_model(demo, users["admin"], pid)
    claim = next(lab for lab in demo.list_labels(pid) if lab.name == "CLAIM")
    data = {"name": "ادعاء", "kind": claim.kind, "colour": claim.colour, "hotkey": claim.hotkey,
            "description": claim.description, "attributes": claim.attributes}  # fmt: skip
    labels.save_label(demo, users["admin"], pid, data, claim.id)
    status = M.model_status(demo, users["amal"], pid)
    assert not status["usable"] and "no longer has (CLAIM)" in status["reason"]
    with pytest.raises(S.SuggestionEngineError, match="no longer has"):
        S.list_suggestions(demo, users["amal"], demo_doc.id, engine="crf")
    assert S.list_suggestions(demo, users["amal"], demo_doc.id)  # the rules serve alone


def test_train_and_evaluate_commands(demo, users, demo_doc, capsys):
    add_gold_documents(demo, users, demo_doc.project_id, 9)
    project = demo.get_project(demo_doc.project_id).name
    assert main(["suggest", "train", "--db", demo.path, "--project", project]) == 0
    out = capsys.readouterr().out
    assert "on 8 document(s)" in out and "cross-validated" in out
    before = snapshot(demo)
    code = main(["suggest", "evaluate", "--gold", str(DEV), "--engine", "both", "--csv", "--db", demo.path, "--project", project])
    assert code == 0 and snapshot(demo) == before
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["engine"] for r in rows} == {"rules", "crf"}
    assert all(0 <= float(r["f1"]) <= 1 for r in rows)
