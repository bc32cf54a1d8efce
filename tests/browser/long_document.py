"""A long synthetic article with thousands of overlapping spans, for browser tests and benchmarks."""

from __future__ import annotations

import random
from pathlib import Path

from annotator.text import Boundaries

ROOT = Path(__file__).resolve().parents[2]


def synthetic_text(n: int = 100_000) -> str:
    """About ``n`` characters of the demo article repeated (paragraphs, Latin names, digits), cut at a word."""
    base = (ROOT / "data/demo/rubio-cable-migration.ar.txt").read_text(encoding="utf-8")
    text = (base + "\n\n") * (n // len(base) + 1)
    return text[: text.rfind(" ", 0, n)]


def synthetic_spans(text: str, n: int = 5_000, seed: int = 2) -> list[tuple[int, int]]:
    """``n`` word-aligned spans, heavily overlapping: short ones nested in claims, claims crossing each other."""
    rng = random.Random(seed)
    words = Boundaries(text).words
    out = []
    for _ in range(n):
        i = rng.randrange(len(words) - 40)
        length = rng.choice([1, 1, 2, 3, 5, 12, 30])
        out.append((words[i][0], words[i + length - 1][1]))
    return out


def add_long_document(store, admin, project_id: int, annotator, *, chars: int = 100_000, spans: int = 5_000) -> int:
    """Add the synthetic document to the project with ``spans`` spans of ``annotator``; returns its id."""
    from annotator.projects import add_document

    doc = add_document(store, admin, project_id, f"synthetic {chars // 1000}k", synthetic_text(chars))
    label_ids = [lab.id for lab in store.list_labels(project_id)]
    with store.write():  # setup only: straight into the table
        for i, (s, e) in enumerate(synthetic_spans(doc.text, spans)):
            store.insert_span(doc.id, label_ids[i % 4], annotator.id, s, e, doc.text[s:e])
    return doc.id
