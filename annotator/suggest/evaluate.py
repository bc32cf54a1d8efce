"""Scoring suggestions against a gold JSONL file (the format of tests/fixtures/attribution-dev.ar.jsonl):
precision, recall and F1 per label, exact and overlap, and for links. Reads only; writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from annotator.errors import NisbaError

LABELS = ("CLAIM", "QUOTE", "SOURCE", "CUE")
COLUMNS = ("engine", "label", "match", "precision", "recall", "f1", "gold", "predicted")

SpanT = tuple[str, int, int]  # (label, start, end)
LinkT = tuple[SpanT, str, SpanT]  # (from span, type, to span)


class GoldFileError(NisbaError):
    """A gold file that cannot be scored against: names the file, the line and why."""


@dataclass(frozen=True)
class GoldDoc:
    """One gold paragraph: its text, spans and links as plain tuples."""

    id: str
    text: str
    spans: frozenset[SpanT]
    links: frozenset[LinkT]


def read_gold(path: str | Path) -> list[GoldDoc]:
    """Gold paragraphs of a JSONL file; a malformed line raises :class:`GoldFileError` with its number."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFileError(f"{path}: cannot be read ({exc}).") from None
    docs = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            docs.append(_gold_line(path, number, line))
    if not docs:
        raise GoldFileError(f"{path}: no gold paragraphs.")
    return docs


def _gold_line(path: Path, number: int, line: str) -> GoldDoc:
    where = f"{path}, line {number}"
    try:
        rec = json.loads(line)
        text = rec["text"]
        spans_by_id: dict[str, SpanT] = {}
        for s in rec.get("spans", []):
            start, end, label = s["start"], s["end"], s["label"]
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
                raise GoldFileError(f"{where}: span {s.get('id')!r} has offsets [{start}, {end}) outside the text.")
            if "text" in s and text[start:end] != s["text"]:
                raise GoldFileError(f"{where}: span {s.get('id')!r} text does not equal text[{start}:{end}].")
            spans_by_id[s["id"]] = (label, start, end)
        links = set()
        for k in rec.get("links", []):
            if k["from"] not in spans_by_id or k["to"] not in spans_by_id:
                raise GoldFileError(f"{where}: link {k['from']!r} → {k['to']!r} names a span that is not in the line.")
            links.add((spans_by_id[k["from"]], k["type"], spans_by_id[k["to"]]))
    except GoldFileError:
        raise
    except json.JSONDecodeError as exc:
        raise GoldFileError(f"{where}: not JSON ({exc.msg}).") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise GoldFileError(f"{where}: missing or malformed field ({exc}).") from None
    return GoldDoc(str(rec.get("id", number)), text, frozenset(spans_by_id.values()), frozenset(links))


def _overlaps(a: SpanT, b: SpanT) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _prf(tp_p: int, tp_r: int, gold: int, predicted: int) -> tuple[float, float, float]:
    p = tp_p / predicted if predicted else 0.0
    r = tp_r / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


@dataclass
class Tally:
    """Counts for one (label, match) row, summed over documents."""

    tp_predicted: int = 0  # predictions counted as right
    tp_gold: int = 0  # gold items counted as found
    gold: int = 0
    predicted: int = 0

    def add(self, gold: Iterable, predicted: Iterable, same: Callable) -> None:
        gold, predicted = list(gold), list(predicted)
        self.gold += len(gold)
        self.predicted += len(predicted)
        self.tp_predicted += sum(1 for p in predicted if any(same(p, g) for g in gold))
        self.tp_gold += sum(1 for g in gold if any(same(p, g) for p in predicted))


def _link_overlap(a: LinkT, b: LinkT) -> bool:
    return a[1] == b[1] and _overlaps(a[0], b[0]) and _overlaps(a[2], b[2])


def score(pairs: Iterable[tuple[GoldDoc, frozenset[SpanT], frozenset[LinkT]]], engine: str) -> list[dict]:
    """Rows (dicts with ``COLUMNS``) for each label and LINK, exact and overlap, over (gold, predicted spans,
    predicted links) triples. Exact: same label, start and end (links: both ends exact, same type). Overlap: same
    label and overlapping offsets (links: both ends overlap)."""
    tallies: dict[tuple[str, str], Tally] = {}
    labels = list(LABELS)
    for gold, spans, links in pairs:
        for label in {s[0] for s in gold.spans | spans}:
            if label not in labels:
                labels.append(label)
        for label in labels:
            g = [s for s in gold.spans if s[0] == label]
            p = [s for s in spans if s[0] == label]
            tallies.setdefault((label, "exact"), Tally()).add(g, p, lambda a, b: a == b)
            tallies.setdefault((label, "overlap"), Tally()).add(g, p, _overlaps)
        tallies.setdefault(("LINK", "exact"), Tally()).add(gold.links, links, lambda a, b: a == b)
        tallies.setdefault(("LINK", "overlap"), Tally()).add(gold.links, links, _link_overlap)
    rows = []
    for label in [*labels, "LINK"]:
        for match in ("exact", "overlap"):
            t = tallies.get((label, match), Tally())
            p, r, f = _prf(t.tp_predicted, t.tp_gold, t.gold, t.predicted)
            rows.append(
                dict(engine=engine, label=label, match=match, precision=p, recall=r, f1=f, gold=t.gold, predicted=t.predicted)
            )
    return rows


def evaluate_rules(docs: list[GoldDoc]) -> list[dict]:
    """Score the rule engine on ``docs``: each text is suggested on the fly."""
    from annotator.suggest import ENGINE, suggest

    def triples():
        for doc in docs:
            sugg = suggest(doc.text)
            by_key = {s.key: (s.label, s.start, s.end) for s in sugg}
            spans = frozenset(by_key.values())
            links = frozenset((by_key[s.key], t, by_key[k]) for s in sugg for t, k in s.links)
            yield doc, spans, links

    return score(triples(), ENGINE)


def evaluate_crf(docs: list[GoldDoc], model: dict, lexicon) -> list[dict]:
    """Score a trained CRF model (see annotator.suggest.crf) on ``docs``."""
    from annotator.suggest import crf

    def key_tuple(key: str) -> SpanT:
        label, start, end = key.rsplit(":", 2)
        return (label, int(start), int(end))

    def triples():
        for doc in docs:
            spans, links = crf.predict(doc.text, model, lexicon)
            yield doc, frozenset(spans), frozenset((key_tuple(a), t, key_tuple(b)) for a, t, b in links)

    return score(triples(), crf.ENGINE)


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned plain-text table (figures with three decimals)."""
    cells = [list(COLUMNS)] + [
        [
            r["engine"],
            r["label"],
            r["match"],
            f"{r['precision']:.3f}",
            f"{r['recall']:.3f}",
            f"{r['f1']:.3f}",
            str(r["gold"]),
            str(r["predicted"]),
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))) for row in cells
    )
