"""Agreement measures on small hand-computed cases (exact numbers), and the report from a real database."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from annotator import agreement
from annotator.agreement import ALL, LinkRow, ProjectData, SpanRow
from annotator.annotations import add_link, add_span
from annotator.errors import PermissionDenied

# tokens: a@0 b@2 c@4 d@6 e@8 f@10 g@12 h@14
TEXT = "a b c d e f g h"


def case() -> ProjectData:
    """Annotator 1: CLAIM «a b», CLAIM «c d», SOURCE «e»; annotator 2: CLAIM «a b», CLAIM «c», SOURCE «f».
    Document 2 has only annotator 1's layer (it must not count in any pair)."""
    spans = [
        SpanRow(1, 1, 1, "CLAIM", 0, 3),
        SpanRow(1, 2, 1, "CLAIM", 4, 7),
        SpanRow(1, 3, 1, "SOURCE", 8, 9),
        SpanRow(1, 4, 2, "CLAIM", 0, 3),
        SpanRow(1, 5, 2, "CLAIM", 4, 5),
        SpanRow(1, 6, 2, "SOURCE", 10, 11),
        SpanRow(2, 7, 1, "CLAIM", 0, 1),
    ]
    return ProjectData(texts={1: TEXT, 2: TEXT}, spans=spans, names={1: "amal", 2: "badr"})


def value(frame, **where):
    rows = frame
    for k, v in where.items():
        rows = rows[rows[k].isna()] if v is None else rows[rows[k] == v]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_span_f1_exact_and_overlap():
    f1 = agreement.span_f1(case())
    whole = value(f1, level="project", label=ALL)
    assert (whole.n_a, whole.n_b, whole.exact_matches) == (3, 3, 1)
    assert whole.exact_f1 == pytest.approx(1 / 3)
    assert whole.overlap_f1 == pytest.approx(2 / 3)  # 2 of 3 found each way
    claim = value(f1, level="project", label="CLAIM")
    assert (claim.exact_f1, claim.overlap_f1) == (0.5, 1.0)
    source = value(f1, level="project", label="SOURCE")
    assert (source.exact_f1, source.overlap_f1) == (0.0, 0.0)
    doc = value(f1, level="document", document_id=1, label="CLAIM")
    assert (doc.annotator_a_name, doc.annotator_b_name, doc.exact_f1) == ("amal", "badr", 0.5)
    # document 2 has one layer: no pair, no row
    assert not (f1["document_id"] == 2).any()


def test_token_alpha_matches_the_hand_computation():
    alpha = agreement.token_alpha(case())
    # label-set tags per token: amal C C C C S O O O, badr C C C O O S O O -> alpha = 1 - (6/16)/(154/240) = 32/77
    assert value(alpha, level="project", label=ALL).alpha == pytest.approx(float(Fraction(32, 77)))
    assert value(alpha, level="document", document_id=1, label=ALL).alpha == pytest.approx(32 / 77)
    # binary CLAIM: 1 - (2/16)/(126/240) = 16/21; binary SOURCE: 1 - (4/16)/(56/240) = -1/14
    assert value(alpha, level="project", label="CLAIM").alpha == pytest.approx(16 / 21)
    assert value(alpha, level="project", label="SOURCE").alpha == pytest.approx(-1 / 14)
    # document 2 has a single layer: its tokens are not pairable values and are left out
    assert value(alpha, level="project", label=ALL).tokens == 8
    assert not (alpha["document_id"] == 2).any()


def test_token_tags_handle_nesting_and_partial_tokens():
    # «وبحسب الصحيفة»: a CUE (label 0) over part of the first token still tags it; a CLAIM (label 1) over
    # both nests the CUE: the innermost label is the token's tag, the mask keeps both
    text = "وبحسب الصحيفة قال"
    inner, masks = agreement.token_tags(text, [(0, 13, 1), (1, 5, 0)])
    assert inner.tolist() == [1, 2, 0]
    assert masks.tolist() == [0b11, 0b10, 0]


def test_nested_spans_count_once_per_token_in_the_overall_alpha():
    # both annotators: a CLAIM over everything with a SOURCE inside; they differ only on the SOURCE's end
    spans = [
        SpanRow(1, 1, 1, "CLAIM", 0, 15), SpanRow(1, 2, 1, "SOURCE", 0, 3),
        SpanRow(1, 3, 2, "CLAIM", 0, 15), SpanRow(1, 4, 2, "SOURCE", 0, 5),
    ]  # fmt: skip
    alpha = agreement.token_alpha(ProjectData(texts={1: TEXT}, spans=spans))
    # tags: amal S S C C C C C C, badr S S S C C C C C -> o_SS=4, o_CC=10, o_SC=o_CS=1; n_S=5, n_C=11
    # alpha = 1 - (n-1) * 2 / (2 * n_S * n_C) = 1 - 15 * 2 / 110 = 8/11
    assert value(alpha, level="project", label=ALL).alpha == pytest.approx(8 / 11)
    # CLAIM covers every token for both: a single value, undefined
    assert math.isnan(value(alpha, level="project", label="CLAIM").alpha)


def test_alpha_is_nan_when_undefined():
    data = ProjectData(texts={1: TEXT}, spans=[SpanRow(1, 1, 1, "CLAIM", 0, 15), SpanRow(1, 2, 2, "CLAIM", 0, 15)])
    alpha = agreement.token_alpha(data)
    # every token is CLAIM for both: a single value, alpha is undefined (not 1)
    assert math.isnan(value(alpha, level="project", label=ALL).alpha)


def test_cohen_kappa_on_attributes_of_matched_spans():
    forms = [("direct", "direct"), ("direct", "indirect"), ("indirect", "indirect"), (None, None)]
    spans = []
    for i, (fa, fb) in enumerate(forms):
        spans.append(SpanRow(1, 10 + i, 1, "QUOTE", 2 * i, 2 * i + 1, {"form": fa} if fa else {}))
        spans.append(SpanRow(1, 20 + i, 2, "QUOTE", 2 * i, 2 * i + 1, {"form": fb} if fb else {}))
    spans.append(SpanRow(1, 30, 1, "QUOTE", 12, 13, {"form": "partial"}))  # unmatched: not counted
    kappa = agreement.attribute_kappa(ProjectData(texts={1: TEXT}, spans=spans))
    row = value(kappa, label="QUOTE", attribute="form")
    # po = 3/4; pe = (2·1 + 1·2 + 1·1) / 16 = 5/16; kappa = (12/16 - 5/16) / (11/16) = 7/11
    assert (row.matched_spans, row.observed_agreement) == (4, 0.75)
    assert row.kappa == pytest.approx(7 / 11)
    assert agreement.cohen_kappa([("a", "b"), ("b", "a")]) == -1.0
    assert math.isnan(agreement.cohen_kappa([("a", "a"), ("a", "a")]))
    assert math.isnan(agreement.cohen_kappa([]))


def test_link_agreement_exact_and_overlap():
    spans = [
        SpanRow(1, 1, 1, "QUOTE", 0, 3), SpanRow(1, 2, 1, "SOURCE", 4, 7), SpanRow(1, 3, 1, "QUOTE", 8, 9), SpanRow(1, 4, 1, "SOURCE", 10, 11),
        SpanRow(1, 5, 2, "QUOTE", 0, 3), SpanRow(1, 6, 2, "SOURCE", 4, 5), SpanRow(1, 7, 2, "QUOTE", 8, 9), SpanRow(1, 8, 2, "SOURCE", 10, 11),
    ]  # fmt: skip
    links = [
        LinkRow(1, 1, "attributed_to", 1, 2), LinkRow(1, 1, "attributed_to", 3, 4),
        LinkRow(1, 2, "attributed_to", 5, 6), LinkRow(1, 2, "attributed_to", 7, 8),
    ]  # fmt: skip
    frame = agreement.link_agreement(ProjectData(texts={1: TEXT}, spans=spans, links=links))
    row = value(frame, level="project", type="attributed_to")
    # the second quote points at the same source; the first at a source with other boundaries
    assert (row.exact_matches, row.exact_f1, row.overlap_f1) == (1, 0.5, 1.0)
    assert value(frame, level="document", document_id=1, type=ALL).exact_f1 == 0.5


def test_report_from_the_database_and_permissions(demo, users, demo_doc):
    amal, badr, rana = users["amal"], users["badr"], users["rana"]
    t = demo_doc.text
    phrase = "ماركو روبيو"
    start = t.index(phrase)
    q = t.index("بالضغط على حكوماتهم المضيفة")
    qa = add_span(demo, amal, demo_doc.id, "QUOTE", q, q + 27, attributes={"form": "direct"})
    qb = add_span(demo, badr, demo_doc.id, "QUOTE", q, q + 27, attributes={"form": "indirect"})
    sa = add_span(demo, amal, demo_doc.id, "SOURCE", start, start + len(phrase))
    sb = add_span(demo, badr, demo_doc.id, "SOURCE", start, start + len(phrase))
    add_link(demo, amal, qa.id, sa.id)
    add_link(demo, badr, qb.id, sb.id)
    add_span(demo, amal, demo_doc.id, "CUE", 0, 4)
    report = agreement.agreement_report(demo, rana, demo_doc.project_id)
    whole = value(report.span_f1, level="project", label=ALL)
    assert (whole.annotator_a, whole.annotator_b, whole.exact_f1) == (amal.id, badr.id, 2 * 2 / 5)
    assert value(report.links, level="project", type=ALL).exact_f1 == 1.0
    assert value(report.kappa, label="QUOTE", attribute="form").observed_agreement == 0.0
    assert -1 <= value(report.alpha, level="project", label=ALL).alpha <= 1
    with pytest.raises(PermissionDenied):
        agreement.agreement_report(demo, amal, demo_doc.project_id)


def test_charts_and_download():
    report = agreement.compute(case())
    matrix = agreement.pair_matrix(report.span_f1)
    assert matrix.values.tolist() == [["amal", "badr", 1 / 3]]  # each pair once, no annotator with themself
    bars = agreement.label_summary(report)
    assert value(bars, label="CLAIM", measure="token_alpha").value == pytest.approx(16 / 21)
    frame = report.span_f1.head(1).assign(annotator_a_name="=HYPERLINK(1)", annotator_b_name="أمل")
    csv = agreement.to_csv(frame)
    assert "'=HYPERLINK(1)" in csv and ",أمل," in csv


def test_data_version_moves_with_every_write_and_checks_access(demo, users, demo_doc):
    rana = users["rana"]
    before = agreement.data_version(demo, rana, demo_doc.project_id)
    add_span(demo, users["amal"], demo_doc.id, "CUE", 0, 4)
    assert agreement.data_version(demo, rana, demo_doc.project_id) > before
    with pytest.raises(PermissionDenied):
        agreement.data_version(demo, users["amal"], demo_doc.project_id)
