"""``python -m annotator suggest evaluate``: the table and the CSV on the dev set, bad gold files, nothing written."""

from __future__ import annotations

import csv
import io
import json

from annotator.cli import main
from annotator.suggest.evaluate import COLUMNS, GoldDoc, score
from tests.conftest import FIXTURES

DEV = FIXTURES / "attribution-dev.ar.jsonl"
# The targets on unseen text; the dev set must reach them at least.
TARGETS = {("QUOTE", "exact"): 0.95, ("CUE", "exact"): 0.95, ("SOURCE", "exact"): 0.85, ("SOURCE", "overlap"): 0.95,
           ("CLAIM", "exact"): 0.75, ("CLAIM", "overlap"): 0.90, ("LINK", "exact"): 0.80}  # fmt: skip


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_csv_rows_on_the_dev_set_are_figures_in_range_and_reach_the_targets(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NISBA_DB", str(tmp_path / "never.db"))
    code, out, _err = run(capsys, "suggest", "evaluate", "--gold", str(DEV), "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0].keys()) == COLUMNS
    gold_counts = {"CLAIM": 68, "QUOTE": 20, "SOURCE": 54, "CUE": 69, "LINK": 160}  # from the dev set's README
    assert {(r["label"], r["match"]) for r in rows} == {(lab, m) for lab in gold_counts for m in ("exact", "overlap")}
    for r in rows:
        p, rec, f = float(r["precision"]), float(r["recall"]), float(r["f1"])
        assert 0 <= p <= 1 and 0 <= rec <= 1 and 0 <= f <= 1
        assert int(r["gold"]) == gold_counts[r["label"]]
        assert int(r["predicted"]) >= 0
        if p + rec:
            assert abs(f - 2 * p * rec / (p + rec)) < 1e-3
        if (r["label"], r["match"]) in TARGETS:
            assert f >= TARGETS[(r["label"], r["match"])], r
    assert list(tmp_path.iterdir()) == []  # no database, no file: evaluation writes nothing


def test_table_names_the_file_and_every_label(capsys):
    code, out, _err = run(capsys, "suggest", "evaluate", "--gold", str(DEV))
    assert code == 0
    assert out.splitlines()[0] == f"32 gold paragraph(s) from {DEV}"
    assert out.splitlines()[1].split() == list(COLUMNS)
    assert {line.split()[1] for line in out.splitlines()[2:]} == {"CLAIM", "QUOTE", "SOURCE", "CUE", "LINK"}


def test_crf_engine_needs_a_database_with_a_model_and_says_so(capsys, tmp_path):
    code, out, err = run(capsys, "suggest", "evaluate", "--gold", str(DEV), "--engine", "crf")
    assert code == 1 and out == "" and "--engine crf needs --db and --project" in err
    missing = tmp_path / "none.db"
    code, out, err = run(
        capsys, "suggest", "evaluate", "--gold", str(DEV), "--engine", "both", "--db", str(missing), "--project", "x"
    )
    assert code == 1 and "no such database" in err and not missing.exists()


def test_a_bad_gold_line_is_named_with_its_number(capsys, tmp_path):
    path = tmp_path / "gold.jsonl"
    good = DEV.read_text(encoding="utf-8").splitlines()[0]
    bad = json.loads(good)
    bad["spans"][0]["end"] = 10_000
    path.write_text(good + "\n\n" + json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "suggest", "evaluate", "--gold", str(path))
    assert code == 1 and out == ""
    assert f"{path}, line 3: span 'T1' has offsets" in err
    path.write_text("{not json\n", encoding="utf-8")
    code, _out, err = run(capsys, "suggest", "evaluate", "--gold", str(path))
    assert code == 1 and "line 1: not JSON" in err


def test_score_counts_exact_overlap_and_links():
    gold = GoldDoc(
        "x", "t" * 50,
        frozenset({("CUE", 0, 4), ("SOURCE", 5, 10), ("CLAIM", 12, 30)}),
        frozenset({(("CLAIM", 12, 30), "cue", ("CUE", 0, 4)), (("CLAIM", 12, 30), "attributed_to", ("SOURCE", 5, 10))}),
    )  # fmt: skip
    pred_spans = frozenset({("CUE", 0, 4), ("SOURCE", 5, 12), ("CLAIM", 12, 30), ("QUOTE", 40, 45)})
    pred_links = frozenset({(("CLAIM", 12, 30), "cue", ("CUE", 0, 4)), (("CLAIM", 12, 30), "attributed_to", ("SOURCE", 5, 12))})
    rows = {(r["label"], r["match"]): r for r in score([(gold, pred_spans, pred_links)], "rules")}
    assert rows[("SOURCE", "exact")]["f1"] == 0 and rows[("SOURCE", "overlap")]["f1"] == 1
    assert rows[("QUOTE", "exact")]["precision"] == 0 and rows[("QUOTE", "exact")]["gold"] == 0
    assert rows[("LINK", "exact")]["f1"] == 0.5 and rows[("LINK", "overlap")]["f1"] == 1


def test_probe_set_reaches_the_targets_and_the_demo_article_is_close(capsys):
    """Paragraphs the rules were not written on at first (see attribution-probe.README.md) reach the targets; on
    the one demo article (10 sources: one miss is 0.947) every figure is at least 0.9."""
    for name, floor in (("attribution-probe.ar.jsonl", TARGETS), ("demo-reference.ar.jsonl", None)):
        code, out, _err = run(capsys, "suggest", "evaluate", "--gold", str(FIXTURES / name), "--csv")
        assert code == 0
        for r in csv.DictReader(io.StringIO(out)):
            if floor is None and int(r["gold"]):
                assert float(r["f1"]) >= 0.9, (name, r)
            elif floor and (r["label"], r["match"]) in floor:
                assert float(r["f1"]) >= floor[(r["label"], r["match"])], (name, r)


def test_a_project_missing_from_a_postgresql_database_is_named_without_the_password(capsys, pg_url, tmp_path, monkeypatch):
    from urllib.parse import urlsplit

    from annotator.store import Store

    monkeypatch.setenv("NISBA_SECRET_FILE", str(tmp_path / "nisba.secret"))
    Store(pg_url).close()
    parts = urlsplit(pg_url)
    url = parts._replace(netloc=f"postgres:s3cret@{parts.hostname}:{parts.port}").geturl()  # trust: any password
    code, out, err = run(capsys, "suggest", "evaluate", "--gold", str(DEV), "--engine", "crf", "--db", url, "--project", "x")
    assert code == 1 and out == ""
    assert (
        err
        == f"error: No project named 'x' in PostgreSQL database '{parts.path[1:]}' on {parts.hostname}:{parts.port} as postgres.\n"
    )
