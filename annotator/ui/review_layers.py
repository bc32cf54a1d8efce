"""Read-only view of several annotators' layers over one right-to-left article, as escaped HTML.

Each annotator gets underline bands of their own (annotator 1's nearest the text, then annotator 2's, …) in the
colour of the label they gave those characters, so a reviewer sees at a glance who tagged what and where labels
or boundaries differ. An annotator whose spans nest or overlap gets one band per depth (:func:`tracks`:
a CLAIM around a QUOTE is a band of its own above the QUOTE's, along the CLAIM's whole length), so every span of
every layer is visible. Gold spans are shaded behind the text. The article text only ever enters the HTML
through :func:`html.escape`, so markup in an article is shown as text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from annotator.models import Label, Span
from annotator.render import reading_order, segments, tracks

BAND_PX = 4
# A second cue besides the band's position: each annotator's band has its own edge mark in the legend and
# tooltip, and these symbols also name them in the review table.
ANNOTATOR_MARKS = ("①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧")
FOCUS_TINT = "#d32f2f40"


def annotator_mark(index: int) -> str:
    """The mark of the ``index``-th annotator (①, ②, …; (9) and on past the eighth)."""
    return ANNOTATOR_MARKS[index] if index < len(ANNOTATOR_MARKS) else f"({index + 1})"


def _bands(colours: list[str | None]) -> str:
    """Stacked ``box-shadow`` bands: band i is BAND_PX - 1 pixels at depth i in ``colours[i]``, with a one-pixel
    white gap below each band; a band without a span there is white, so the deeper bands never show through at
    the wrong depth (earlier shadows paint on top)."""
    last = max(i for i, c in enumerate(colours) if c is not None)
    out = []
    for i, c in enumerate(colours[: last + 1]):
        out.append(f"0 {BAND_PX * i + BAND_PX - 1}px 0 0 {c or '#fff'}")
        out.append(f"0 {BAND_PX * (i + 1)}px 0 0 #fff")
    return ",".join(out[:-1])


def band_layout(spans: Sequence[Span], annotator_ids: Sequence[int]) -> tuple[list[tuple[int, int]], dict[int, int]]:
    """The bands, nearest the text first, as ``(annotator id, depth)``: each annotator as many as their deepest
    nesting needs (at least one); and each annotator span's band index."""
    bands: list[tuple[int, int]] = []
    band_of: dict[int, int] = {}
    for a in annotator_ids:
        mine = reading_order([s for s in spans if s.annotator_id == a])
        depth = tracks(mine, ordered=True)
        first = len(bands)
        bands += [(a, d) for d in range(max(depth.values(), default=0) + 1)]
        band_of.update({sid: first + d for sid, d in depth.items()})
    return bands, band_of


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

    ``focus`` (start, end) tints the characters of the row under review and marks them ``data-focus`` (the page
    scrolls the article to the first of them).
    """
    mark = {a: annotator_mark(i) for i, a in enumerate(annotator_ids)}
    shown = [s for s in spans if s.annotator_id in mark]
    bands, band_of = band_layout(shown, annotator_ids)
    paint = _Paint({lab.name: lab.colour for lab in labels}, mark, names or {}, band_of, len(bands))
    order = reading_order([*shown, *gold])
    by_id = {s.id: s for s in order}
    gold_ids = {s.id for s in gold}
    out = []
    for piece in segments(len(text), order, ordered=True):
        start, end, ids = piece["start"], piece["end"], piece["ids"]
        chunk = html.escape(text[start:end])
        focused = focus is not None and start < focus[1] and focus[0] < end
        if not ids and not focused:
            out.append(chunk)
            continue
        here = [by_id[sid] for sid in ids if sid not in gold_ids]  # outermost first
        gold_here = next((by_id[sid] for sid in reversed(ids) if sid in gold_ids), None)
        out.append(paint.segment(chunk, start, here, gold_here, focused))
    return _review_frame("".join(out), len(bands), focus)


@dataclass(frozen=True)
class _Paint:
    """How :func:`layers_html` draws one stretch of text: label colours, annotator marks and names, band indexes."""

    colour: dict[str, str]
    mark: dict[int, str]
    names: dict[int, str]
    band_of: dict[int, int]
    band_count: int

    def segment(self, chunk: str, start: int, here: list[Span], gold_here: Span | None, focused: bool) -> str:
        """``chunk`` (escaped) in a span whose bands, shading, tint and tooltip show who tagged it how."""
        colours: list[str | None] = [None] * self.band_count
        for s in here:
            colours[self.band_of[s.id]] = self.colour.get(s.label, "#999")
        style = []
        if here:
            style.append("box-shadow:" + _bands(colours))
        if gold_here is not None:
            style.append(f"background-color:{self.colour.get(gold_here.label, '#ccc')}66")
        if focused:
            # a tint, not an outline, so the bands under the focused row stay visible
            style.append(f"background-image:linear-gradient({FOCUS_TINT},{FOCUS_TINT});border-radius:.15rem")
        here = sorted(here, key=lambda s: self.band_of[s.id])  # in band order: whose, then outer to inner
        tip = " · ".join(f"{self.mark[s.annotator_id]} {self.names.get(s.annotator_id, s.annotator_id)}: {s.label}" for s in here)
        if gold_here is not None:
            tip = (tip + " · " if tip else "") + f"gold: {gold_here.label}"
        attrs = f'data-start="{start}" data-bands="{len(here)}"' + (' data-focus="1"' if focused else "")
        return f'<span {attrs} title="{html.escape(tip, quote=True)}" style="{";".join(style)}">{chunk}</span>'


def _review_frame(body: str, band_count: int, focus: tuple[int, int] | None) -> str:
    """The right-to-left, scrolling box around the article, its lines spaced for ``band_count`` bands."""
    lines = BAND_PX * (band_count + 1)
    focus_at = f"{focus[0]}-{focus[1]}" if focus else ""
    return (
        f'<div dir="rtl" lang="ar" data-nisba="review-article" data-focus-at="{focus_at}" style="direction:rtl;unicode-bidi:isolate;text-align:right;'
        "white-space:pre-wrap;font-family:'Noto Naskh Arabic','Amiri',serif;font-size:1.25rem;"
        f"line-height:calc(2.2em + {lines}px);padding:.6rem 1rem;border:1px solid #ddd;border-radius:.5rem;"
        f'max-height:45vh;overflow-y:auto">{body}</div>'
    )


def legend_html(annotator_ids: Sequence[int], names: dict[int, str], labels: Sequence[Label], spans: Sequence[Span] = ()) -> str:
    """Which bands are whose (an annotator whose spans nest has a band per depth), and the label colours."""
    bands, _ = band_layout([s for s in spans if s.annotator_id in set(annotator_ids)], annotator_ids)
    parts = []
    for i, a in enumerate(annotator_ids):
        mine = [n + 1 for n, (who, _d) in enumerate(bands) if who == a]
        where = f"band {mine[0]}" if len(mine) == 1 else f"bands {mine[0]}–{mine[-1]} (outer span nearer the text)"
        parts.append(
            f'<span style="margin-inline-end:1rem">{annotator_mark(i)} {where}: <b>{html.escape(str(names.get(a, a)))}</b></span>'
        )
    parts += [
        f'<span style="margin-inline-end:.6rem;border-bottom:{BAND_PX}px solid {lab.colour}">{html.escape(lab.name)}</span>'
        for lab in labels
    ]
    parts.append('<span style="background:#cccccc66;padding:0 .3rem">gold</span>')
    return f'<div dir="ltr" style="font-size:.85rem">{"".join(parts)}</div>'


def focus_script(focus: tuple[int, int]) -> str:
    """A script for ``st.html(..., unsafe_allow_javascript=True)`` (it holds no user data, only two offsets) that
    scrolls the review article to its ``data-focus`` mark, centred in the article's own scroll area, and the
    page to the article when it is off screen. It waits for the article of this focus to be drawn (the script and
    the article arrive in the same rerun, in either order); ``focus`` in the body makes every J/K a new script."""
    start, end = int(focus[0]), int(focus[1])
    return f"""<script>
(() => {{
  const want = "{start}-{end}";
  let tries = 0;
  const go = () => {{
    const box = document.querySelector('[data-nisba="review-article"][data-focus-at="' + want + '"]');
    const mark = box && box.querySelector('[data-focus="1"]');
    if (!mark) {{ if (tries++ < 60) setTimeout(go, 50); return; }}
    const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
    box.scrollTop += (m.top - b.top) - (box.clientHeight - m.height) / 2;
    const top = box.getBoundingClientRect();
    if (top.top < 0 || top.bottom > window.innerHeight) box.scrollIntoView({{block: "nearest"}});
  }};
  go();
}})();
</script>"""


# Table columns that hold Arabic text, and how wide they are drawn (px): wide enough for a clause, wrapping onto
# a second line (ROW_HEIGHT) instead of showing a middle fragment.
TEXT_COLUMNS = {"text": 280, "content": 240, "target": 150}
# Shown first, in this order, when present: what the row is and how annotators differ, before who did what.
LEADING_COLUMNS = ("text", "type", "content", "target label", "target", "label", "disagreement")
ROW_HEIGHT = 72  # px: Streamlit's grid wraps text only in rows taller than 4rem (64 px); 72 holds two lines
RLI, PDI = "\u2067", "\u2069"


def isolate_rtl(frame, columns=TEXT_COLUMNS):
    """A copy of ``frame`` for display with each Arabic text cell wrapped in RLI … PDI, so the grid lays out a
    cell that starts or ends with Latin letters, digits or punctuation right to left as a whole (a cell like
    ``CUE: كشفت`` read "CUE :كشفت" with the colon detached). Display only: the stored text never has them."""
    shown = frame.copy()
    for c in columns:
        if c in shown:
            shown[c] = [RLI + v + PDI if isinstance(v, str) and v else v for v in shown[c]]
    return shown


def review_table(frame) -> dict:
    """Keyword arguments for ``st.dataframe`` showing a review table: the data with Arabic cells isolated, the
    column sizes of :func:`review_table_config`, the text and the disagreement first, rows two lines high."""
    lead = [c for c in LEADING_COLUMNS if c in frame.columns]
    return {
        "data": isolate_rtl(frame),
        "column_config": review_table_config(frame),
        "column_order": lead + [c for c in frame.columns if c not in lead],
        "row_height": ROW_HEIGHT,
    }


def review_table_config(frame, *, wide: dict[str, int] | None = None) -> dict:
    """``column_config`` for the review tables: Arabic text columns wide and right-aligned, the disagreement
    column wide enough for its longest name on two lines, numbers narrow."""
    config = {}
    for c in frame.columns:
        if c in TEXT_COLUMNS:
            config[c] = st.column_config.TextColumn(width=TEXT_COLUMNS[c], alignment="right")
        elif c in (wide or {}):
            config[c] = st.column_config.TextColumn(width=wide[c])
        elif c in ("start", "end", "comments", "gold"):
            config[c] = st.column_config.Column(width="small")
        elif c not in ("disagreement", "label", "type", "target label"):  # an annotator's column: "✓ accepted"
            config[c] = st.column_config.TextColumn(width=110)
    config.setdefault("disagreement", st.column_config.TextColumn(width=230))
    return config
