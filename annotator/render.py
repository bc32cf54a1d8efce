"""What the annotation screen shows, as plain data: the component payload, the span table, the document list.

Pure Python (no Streamlit, no SQL): pages and the component build their views from these functions, and the
unit tests check them directly. Offsets are Python code points into the canonical text, as everywhere.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from annotator.models import Label, Span


def segments(length: int, spans: Iterable[Span], *, ordered: bool = False) -> list[dict]:
    """Cut ``[0, length)`` into non-overlapping pieces at every span boundary.

    Each piece is ``{"start", "end", "ids"}`` where ``ids`` lists the spans covering the whole piece, outermost
    first (earlier start, then longer, then lower id) so the last id is the innermost span. Pieces without
    spans are included, so the pieces together are the whole text. A single sweep over the sorted
    boundaries: O(n log n + output), not a filter of every span per boundary. Pass ``ordered=True`` when
    ``spans`` are already in :func:`reading_order`.
    """
    order = list(spans) if ordered else reading_order(spans)
    order = [s for s in order if s.end_offset > s.start_offset]  # the core never stores empty spans
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for s in order:
        starts.setdefault(s.start_offset, []).append(s.id)
        ends.setdefault(s.end_offset, []).append(s.id)
    cuts = sorted({0, length, *starts, *ends})
    out: list[dict] = []
    # Covering spans, outermost first. Spans open in reading order, so a span that opens now comes after
    # every span still open: appending keeps the list sorted without sorting.
    active: list[int] = []
    ids: list[int] = []
    for i in range(len(cuts) - 1):
        a = cuts[i]
        closing = ends.get(a)
        opening = starts.get(a)
        if closing:
            for sid in closing:
                active.remove(sid)
        if opening:
            active.extend(opening)
        if closing or opening:
            ids = active.copy()
        b = cuts[i + 1]
        if b > a:
            out.append({"start": a, "end": b, "ids": ids})
    return out


def tracks(spans: Iterable[Span], *, ordered: bool = False) -> dict[int, int]:
    """Give each span an underline track so that overlapping spans never share one (interval colouring).

    Greedy by start offset with a heap of free tracks: the outer span of a nest gets the lower track, and a
    span keeps its track along its whole length, so its underline is one continuous line.
    """
    order = list(spans) if ordered else reading_order(spans)
    busy: list[tuple[int, int]] = []  # (end offset, track) of spans still open
    free: list[int] = []
    next_track = 0
    out: dict[int, int] = {}
    for s in order:
        while busy and busy[0][0] <= s.start_offset:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            t = heapq.heappop(free)
        else:
            t = next_track
            next_track += 1
        out[s.id] = t
        heapq.heappush(busy, (s.end_offset, t))
    return out


def label_payload(labels: Sequence[Label]) -> list[dict]:
    """Labels as the component needs them: name, colour, hotkey, kind (link rules) and allowed attributes."""
    return [
        {
            "id": lab.id, "name": lab.name, "colour": lab.colour, "hotkey": lab.hotkey, "kind": lab.kind,
            "description": lab.description, "attributes": lab.attributes,
        }
        for lab in labels
    ]  # fmt: skip


def reading_order(spans: Iterable[Span]) -> list[Span]:
    """Spans by start, the longer (outer) one first when two start together."""
    return sorted(spans, key=lambda s: (s.start_offset, -s.end_offset, s.id))


def format_attributes(attributes: dict) -> str:
    """``{"form": "direct"}`` as ``form: direct`` for tables."""
    if not attributes:  # most spans: skip the sort and join (5,000 rows on a long article)
        return ""
    return ", ".join(f"{k}: {v}" for k, v in sorted(attributes.items()))


def document_choice(row: dict, label_names: Sequence[str]) -> str:
    """One line of the document list: title, this user's spans per label, and ✓ when marked done."""
    counts = row.get("counts", {})
    parts = [f"{name} {counts[name]}" for name in label_names if counts.get(name)]
    done = "✓ " if row.get("status") in ("submitted", "reviewed") else ""
    return f"{done}{row['title']}" + (f"  ·  {' · '.join(parts)}" if parts else "")


def document_rows(overview: Sequence[dict], label_names: Sequence[str]) -> list[dict]:
    """The document list as table rows: title, this user's spans per label, and whether it is marked done."""
    return [
        {"title": row["title"], **{name: row.get("counts", {}).get(name, 0) for name in label_names},
         "done": row.get("status") in ("submitted", "reviewed")}
        for row in overview
    ]  # fmt: skip


def neighbour(ids: Sequence[int], current: int | None, step: int) -> int | None:
    """The document ``step`` places after ``current`` in ``ids`` (clamped to the list), or None if empty."""
    if not ids:
        return None
    if current not in ids:
        return ids[0]
    i = ids.index(current) + step
    return ids[max(0, min(len(ids) - 1, i))]


def feedback_line(note: dict) -> str:
    """One line of "review of your work" (from :func:`annotator.review.feedback`), starting with Latin words so
    the line reads left to right like the rest of the page: ``✓ accepted CUE «…» — reviewer`` or
    ``Comment on CUE «…» by reviewer: text``. Plain text: the page escapes it for Markdown."""
    if note["kind"] == "decision":
        verb = {"accepted": "✓ accepted", "rejected": "✗ rejected"}.get(note["text"], note["text"])
        return f"{verb} {note['about']} — {note['who']}"
    return f"Comment on {note['about']} by {note['who']}: {note['text']}"
