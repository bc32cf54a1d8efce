"""The annotation screen's pure data: segments (the review layers), reading order, the document list."""

from __future__ import annotations

import pytest

from annotator.models import Label, Span
from annotator.render import (
    document_choice,
    document_rows,
    neighbour,
    reading_order,
    segments,
)
from annotator.text import snap


def span(id_, start, end, label="CLAIM", label_id=1, text="", version=1, attributes=None):
    return Span(
        id=id_, document_id=1, label_id=label_id, label=label, annotator_id=1, start_offset=start, end_offset=end,
        text=text, attributes=attributes or {}, version=version,
    )  # fmt: skip


LABELS = [
    Label(id=1, project_id=1, name="CLAIM", kind="content", colour="#ffd966", hotkey="c", attributes={"form": ["direct"]}),
    Label(id=2, project_id=1, name="QUOTE", kind="content", colour="#b6e3a8", hotkey="q"),
    Label(id=3, project_id=1, name="SOURCE", kind="source", colour="#9fc5f8", hotkey="s"),
]


def covering_brute_force(length, spans):
    """The slow definition: for every code point, the spans covering it (reading order)."""
    return [[s.id for s in reading_order(spans) if s.start_offset <= i < s.end_offset] for i in range(length)]


def test_segments_tile_the_text_without_spans():
    assert segments(10, []) == [{"start": 0, "end": 10, "ids": []}]
    assert segments(0, []) == []


def test_nested_quote_inside_claim_lists_outer_first():
    claim, quote = span(1, 2, 20), span(2, 5, 9, "QUOTE", 2)
    segs = segments(25, [quote, claim])
    assert [(s["start"], s["end"], s["ids"]) for s in segs] == [
        (0, 2, []), (2, 5, [1]), (5, 9, [1, 2]), (9, 20, [1]), (20, 25, []),
    ]  # fmt: skip


def test_crossing_spans_and_shared_boundaries():
    a, b, c = span(1, 0, 10), span(2, 5, 15), span(3, 10, 12)
    segs = segments(15, [a, b, c])
    assert [(s["start"], s["end"], s["ids"]) for s in segs] == [(0, 5, [1]), (5, 10, [1, 2]), (10, 12, [2, 3]), (12, 15, [2])]


def test_same_start_puts_the_longer_span_outside():
    segs = segments(10, [span(1, 0, 3), span(2, 0, 8)])
    assert segs[0]["ids"] == [2, 1]


@pytest.mark.parametrize("seed", range(5))
def test_segments_agree_with_brute_force(seed):
    import random

    rng = random.Random(seed)
    length = 200
    spans = []
    for i in range(60):
        s = rng.randrange(0, length - 1)
        spans.append(span(i + 1, s, rng.randrange(s + 1, min(length, s + 50) + 1)))
    segs = segments(length, spans)
    assert segs[0]["start"] == 0 and segs[-1]["end"] == length
    assert all(x["end"] == y["start"] for x, y in zip(segs, segs[1:], strict=False))
    expected = covering_brute_force(length, spans)
    for seg in segs:
        for i in range(seg["start"], seg["end"]):
            assert seg["ids"] == expected[i]


def test_segments_slice_the_tricky_texts_exactly(tricky):
    """Pieces are code-point slices: joined, they give the text back (emoji, harakat, ZWNJ, newlines)."""
    for case in tricky.values():
        text = case["text"]
        s1 = snap(text, 1, max(2, len(text) // 2))
        s2 = snap(text, len(text) // 3, len(text) - 1)
        spans = [span(1, *s1), span(2, *s2)] if s1[0] < s1[1] and s2[0] < s2[1] else []
        segs = segments(len(text), spans)
        assert "".join(text[s["start"] : s["end"]] for s in segs) == text


def test_emoji_offsets_are_code_points(tricky):
    text = tricky["emoji"]["text"]
    start = text.index("قال")
    segs = segments(len(text), [span(1, start, start + 3)])
    assert text[segs[1]["start"] : segs[1]["end"]] == "قال"
    assert segs[1]["start"] == 3  # 👍🏽 and a space: 3 code points, 4 UTF-16 units before it


def test_document_choice_and_neighbour():
    row = {"id": 1, "title": "روبيو", "counts": {"CLAIM": 2, "CUE": 1}, "status": "submitted"}
    assert document_choice(row, ["CLAIM", "QUOTE", "CUE"]) == "✓ روبيو  ·  CLAIM 2 · CUE 1"
    assert document_choice({"title": "x", "counts": {}, "status": ""}, ["CLAIM"]) == "x"
    assert neighbour([4, 5, 9], 5, 1) == 9
    assert neighbour([4, 5, 9], 9, 1) == 9
    assert neighbour([4, 5, 9], 4, -1) == 4
    assert neighbour([4, 5, 9], 77, 1) == 4
    assert neighbour([], 1, 1) is None


def test_document_rows_count_every_label():
    overview = [
        {"id": 1, "title": "أ", "counts": {"CLAIM": 2}, "status": "in_progress"},
        {"id": 2, "title": "ب", "counts": {}, "status": "submitted"},
    ]
    assert document_rows(overview, ["CLAIM", "CUE"]) == [
        {"title": "أ", "CLAIM": 2, "CUE": 0, "done": False},
        {"title": "ب", "CLAIM": 0, "CUE": 0, "done": True},
    ]
