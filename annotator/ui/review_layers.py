"""Read-only view of several annotators' layers over one right-to-left article, as escaped HTML.

Each annotator gets an underline band of their own (band 1 nearest the text, then 2, 3, …) in the colour of
the label they gave those characters, so a reviewer sees at a glance who tagged what and where labels or
boundaries differ. Gold spans are shaded behind the text. The article text only ever enters the HTML through
:func:`html.escape`, so markup in an article is shown as text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from annotator.models import Label, Span
from annotator.render import reading_order, segments

BAND_PX = 4
# A second cue besides the band's position: each annotator's band has its own edge mark in the legend and
# tooltip, and these symbols also name them in the review table.
ANNOTATOR_MARKS = ("①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧")


def annotator_mark(index: int) -> str:
    return ANNOTATOR_MARKS[index] if index < len(ANNOTATOR_MARKS) else f"({index + 1})"


def _bands(spans: list[Span | None], colour: dict[str, str]) -> str:
    """Stacked ``box-shadow`` bands: annotator i's band is BAND_PX - 1 pixels at depth i, in the colour of
    their label there, with a one-pixel white gap below each band; an annotator without a span there gets a
    white band, so the deeper bands never show through at the wrong depth (earlier shadows paint on top)."""
    last = max(i for i, s in enumerate(spans) if s is not None)
    out = []
    for i, s in enumerate(spans[: last + 1]):
        out.append(f"0 {BAND_PX * i + BAND_PX - 1}px 0 0 {colour.get(s.label, '#999') if s else '#fff'}")
        out.append(f"0 {BAND_PX * (i + 1)}px 0 0 #fff")
    return ",".join(out[:-1])


def layers_html(
    text: str,
    spans: Sequence[Span],
    annotator_ids: Sequence[int],
    labels: Sequence[Label],
    *,
    gold: Sequence[Span] = (),
    names: dict[int, str] | None = None,
    focus: tuple[int, int] | None = None,
) -> str:
    """The article with every annotator's layer as stacked underline bands and gold as shading.

    ``focus`` (start, end) outlines the characters of the row under review.
    """
    names = names or {}
    colour = {lab.name: lab.colour for lab in labels}
    band = {a: i for i, a in enumerate(annotator_ids)}
    order = reading_order([*spans, *gold])
    by_id = {s.id: s for s in order}
    gold_ids = {s.id for s in gold}
    out = []
    for piece in segments(len(text), order, ordered=True):
        start, end, ids = piece["start"], piece["end"], piece["ids"]
        chunk = html.escape(text[start:end])
        if not ids and not (focus and start < focus[1] and focus[0] < end):
            out.append(chunk)
            continue
        # the innermost span of each annotator decides the band's colour (ids are outermost first)
        inner: dict[int, Span] = {}
        gold_here: Span | None = None
        for sid in ids:
            s = by_id[sid]
            if sid in gold_ids:
                gold_here = s
            elif s.annotator_id in band:
                inner[s.annotator_id] = s
        style = []
        if inner:
            style.append("box-shadow:" + _bands([inner.get(a) for a in annotator_ids], colour))
        if gold_here is not None:
            style.append(f"background-color:{colour.get(gold_here.label, '#ccc')}66")
        if focus and start < focus[1] and focus[0] < end:
            # a tint, not an outline, so the bands under the focused row stay visible
            style.append("background-image:linear-gradient(#d32f2f2e,#d32f2f2e);border-radius:.15rem")
        tip = " · ".join(
            f"{annotator_mark(band[a])} {names.get(a, a)}: {s.label}"
            for a, s in sorted(inner.items(), key=lambda kv: band[kv[0]])
        )
        if gold_here is not None:
            tip = (tip + " · " if tip else "") + f"gold: {gold_here.label}"
        out.append(f'<span data-start="{start}" title="{html.escape(tip, quote=True)}" style="{";".join(style)}">{chunk}</span>')
    lines = BAND_PX * (len(annotator_ids) + 1)
    return (
        '<div dir="rtl" lang="ar" data-nisba="review-article" style="direction:rtl;unicode-bidi:isolate;text-align:right;'
        "white-space:pre-wrap;font-family:'Noto Naskh Arabic','Amiri',serif;font-size:1.25rem;"
        f"line-height:calc(2.2em + {lines}px);padding:.6rem 1rem;border:1px solid #ddd;border-radius:.5rem;"
        f'max-height:60vh;overflow-y:auto">{"".join(out)}</div>'
    )


def legend_html(annotator_ids: Sequence[int], names: dict[int, str], labels: Sequence[Label]) -> str:
    """Which band is whose, and the label colours."""
    parts = [
        f'<span style="margin-inline-end:1rem">{annotator_mark(i)} band {i + 1}: <b>{html.escape(str(names.get(a, a)))}</b></span>'
        for i, a in enumerate(annotator_ids)
    ]
    parts += [
        f'<span style="margin-inline-end:.6rem;border-bottom:{BAND_PX}px solid {lab.colour}">{html.escape(lab.name)}</span>'
        for lab in labels
    ]
    parts.append('<span style="background:#cccccc66;padding:0 .3rem">gold</span>')
    return f'<div dir="ltr" style="font-size:.85rem">{"".join(parts)}</div>'
