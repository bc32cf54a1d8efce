"""Inter-annotator agreement: pairwise span F1, token-level Krippendorff's alpha, Cohen's kappa on
attributes, and link agreement, per project, per document and per label, as pandas DataFrames.

Only the annotator layers count (never gold), and a pair of annotators is compared on a document only
when both have a layer there (see :meth:`Store.document_annotator_ids`): an annotator who never opened a
document does not lower anybody's figures.

Measures, so the numbers are comparable with published ones:

- **Span F1, exact**: two spans match when start, end and label are equal; F1 = 2·matches / (|A| + |B|)
  (symmetric, so "precision" and "recall" are just A against B and B against A).
- **Span F1, overlap**: a span of A counts as found when B has a span of the same label sharing at least
  one character; P = found(A) / |A|, R = found(B) / |B|, F1 their harmonic mean.
- **Krippendorff's alpha** (the ``krippendorff`` package, nominal): units are the tokens of
  :func:`annotator.text.tokenize`; each annotator gives each token the set of labels of the spans that
  overlap it ("O" when none), so nested spans (a SOURCE inside a CLAIM) give the tag "CLAIM+SOURCE".
  Per label, the value is binary (inside a span of that label or not), as in PolNeAR's token-wise alpha
  for source, cue and content. Tokens of documents an annotator has no layer on are missing values.
- **Cohen's kappa** on each attribute of exactly matched spans, an unset attribute being its own value.
- **Links**: a link is (type, content span, target span) by offsets and label; exact F1 as for spans, and
  overlap F1 where both ends only need to overlap a span of the same label.

F1 is NaN when neither annotator made anything; alpha and kappa are NaN when undefined (one value only).
"""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple

import krippendorff
import numpy as np
import pandas as pd

from annotator import access
from annotator.exporting import csv_lines
from annotator.models import User
from annotator.store import Store
from annotator.text import tokenize

ALL = "(all)"
UNSET = "∅"


class SpanRow(NamedTuple):
    """One annotator-layer span (a tuple: tens of thousands are built per report)."""

    document_id: int
    span_id: int
    annotator_id: int
    label: str
    start: int
    end: int
    attributes: dict = {}  # shared default, never mutated


class LinkRow(NamedTuple):
    document_id: int
    annotator_id: int
    type: str
    from_span_id: int
    to_span_id: int


@dataclass
class ProjectData:
    """What the measures need, independent of the database (tests and benchmarks build it directly)."""

    texts: dict[int, str]
    spans: list[SpanRow]
    links: list[LinkRow] = field(default_factory=list)
    # document id -> annotator ids with a layer there; defaults to the authors of spans
    annotators: dict[int, list[int]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not self.annotators:
            found: dict[int, set[int]] = defaultdict(set)
            for s in self.spans:
                found[s.document_id].add(s.annotator_id)
            self.annotators = {d: sorted(a) for d, a in found.items()}
        if not self.labels:
            self.labels = sorted({s.label for s in self.spans})


@dataclass
class AgreementReport:
    """The four tables; see the module docstring for how each number is computed."""

    span_f1: pd.DataFrame
    alpha: pd.DataFrame
    kappa: pd.DataFrame
    links: pd.DataFrame


def load_project(store: Store, actor: User, project_id: int) -> ProjectData:
    """Read a project's annotator layers (reviewers and admins of the project only)."""
    user = access.require_role(store, actor, "reviewer", "admin")
    access.require_project(store, user, project_id)
    spans = [
        SpanRow(d, i, a, lab, s, e, json.loads(attrs) if attrs and attrs != "{}" else {})
        for d, i, a, lab, s, e, attrs in store.project_annotator_spans(project_id)
    ]
    links = [LinkRow(d, a, t, f, to) for d, _i, a, t, f, to in store.project_annotator_links(project_id)]
    annotators: dict[int, set[int]] = defaultdict(set)
    for d, a in store.project_document_annotators(project_id):
        annotators[d].add(a)
    return ProjectData(
        texts=store.project_texts(project_id),
        spans=spans,
        links=links,
        annotators={d: sorted(a) for d, a in annotators.items()},
        names={u.id: u.name for u in store.list_users()},
        labels=[lab.name for lab in store.list_labels(project_id)],
    )


def data_version(store: Store, actor: User, project_id: int) -> int:
    """A number that changes whenever the database changes (the latest audit event id), after checking that
    the actor may see the project's agreement figures: pages cache :func:`compute` on it."""
    user = access.require_role(store, actor, "reviewer", "admin")
    access.require_project(store, user, project_id)
    return store.head_event_id()


def agreement_report(store: Store, actor: User, project_id: int) -> AgreementReport:
    """All agreement tables for a project (reviewers and admins)."""
    return compute(load_project(store, actor, project_id))


def compute(data: ProjectData) -> AgreementReport:
    """Every agreement table of ``data`` (no database, no access check: :func:`agreement_report` does those)."""
    return AgreementReport(
        span_f1=span_f1(data), alpha=token_alpha(data), kappa=attribute_kappa(data), links=link_agreement(data)
    )


# ---- helpers ------------------------------------------------------------------------------------------


def _pairs(data: ProjectData) -> dict[int, list[tuple[int, int]]]:
    return {d: list(combinations(sorted(a), 2)) for d, a in data.annotators.items()}


def _f1(matches: float, n_a: int, n_b: int) -> float:
    return 2 * matches / (n_a + n_b) if n_a + n_b else float("nan")


def _overlap_f1(found_a: int, found_b: int, n_a: int, n_b: int) -> float:
    if n_a + n_b == 0:
        return float("nan")
    if n_a == 0 or n_b == 0:
        return 0.0
    p, r = found_a / n_a, found_b / n_b
    return 2 * p * r / (p + r) if p + r else 0.0


def _matches(a: list, b: list) -> int:
    """Items of ``a`` and ``b`` that pair up exactly (a multiset intersection; sets when nothing repeats)."""
    if not a or not b:
        return 0
    sa, sb = set(a), set(b)
    if len(sa) == len(a) and len(sb) == len(b):
        return len(sa & sb)
    return sum((Counter(a) & Counter(b)).values())


def _found(mine: list[tuple[int, int]], theirs: list[tuple[int, int]]) -> int:
    """How many of ``mine`` share at least one character with one of ``theirs`` (both sorted by start)."""
    if not mine or not theirs:
        return 0
    starts = [s for s, _ in theirs]
    longest = max(e - s for s, e in theirs)
    exact = set(theirs)
    n = 0
    for s, e in mine:
        if (s, e) in exact:  # the common case, without a search
            n += 1
            continue
        lo = bisect.bisect_left(starts, s - longest)
        hi = bisect.bisect_left(starts, e)
        if any(te > s for _ts, te in theirs[lo:hi]):
            n += 1
    return n


def _named(frame: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    if not frame.empty:
        frame.insert(
            frame.columns.get_loc("annotator_b") + 1, "annotator_a_name", frame["annotator_a"].map(lambda i: names.get(i, str(i)))
        )
        frame.insert(
            frame.columns.get_loc("annotator_a_name") + 1,
            "annotator_b_name",
            frame["annotator_b"].map(lambda i: names.get(i, str(i))),
        )
    return frame


# ---- span F1 ------------------------------------------------------------------------------------------

_F1_COLUMNS = [
    "level",
    "document_id",
    "label",
    "annotator_a",
    "annotator_b",
    "n_a",
    "n_b",
    "exact_matches",
    "exact_f1",
    "overlap_f1",
]


def span_f1(data: ProjectData) -> pd.DataFrame:
    """Pairwise span F1 (exact and overlap) per document × label, per document, per label and for the
    project; ``label`` is ``(all)`` and ``document_id`` is missing in the aggregated rows (micro-averaged:
    counts are summed before dividing)."""
    by: dict[tuple[int, int, str], list[tuple[int, int]]] = defaultdict(list)
    for s in data.spans:
        by[(s.document_id, s.annotator_id, s.label)].append((s.start, s.end))
    for v in by.values():
        v.sort()
    # counts[(document_id or None, label)][(a, b)] = [n_a, n_b, exact, found_a, found_b]
    counts: dict[tuple, dict[tuple[int, int], list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    for doc, pairs in _pairs(data).items():
        for a, b in pairs:
            for label in data.labels:
                sa, sb = by.get((doc, a, label), []), by.get((doc, b, label), [])
                exact = _matches(sa, sb)
                _accumulate(counts, doc, label, (a, b), (len(sa), len(sb), exact, _found(sa, sb), _found(sb, sa)))
    return _named(_f1_frame(counts), data.names)


def _accumulate(counts: dict, doc: int, label: str, pair: tuple[int, int], values: tuple) -> None:
    """Add one document × label × pair's counts to its four scopes: the document and label, the document
    (all labels), the label (whole project) and the whole project."""
    for scope in ((doc, label), (doc, ALL), (None, label), (None, ALL)):
        acc = counts[scope][pair]
        for i, v in enumerate(values):
            acc[i] += v


def _f1_frame(counts: dict) -> pd.DataFrame:
    """The F1 table from accumulated ``[n_a, n_b, exact, found_a, found_b]`` counts, sorted (see _sorted)."""
    rows = [
        {
            "level": "project" if doc is None else "document", "document_id": doc, "label": label,
            "annotator_a": a, "annotator_b": b, "n_a": n_a, "n_b": n_b, "exact_matches": exact,
            "exact_f1": _f1(exact, n_a, n_b), "overlap_f1": _overlap_f1(fa, fb, n_a, n_b),
        }
        for (doc, label), per_pair in counts.items()
        for (a, b), (n_a, n_b, exact, fa, fb) in per_pair.items()
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=_F1_COLUMNS)
    frame["document_id"] = frame["document_id"].astype("Int64")
    return _sorted(frame)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Project rows first, then documents in id order; ``(all)`` before the labels."""
    key = frame.assign(_p=frame["level"] != "project", _d=frame["document_id"].fillna(-1), _l=frame["label"] != ALL)
    cols = ["_p", "_d", "_l", "label"] + [c for c in ("annotator_a", "annotator_b", "type", "attribute") if c in frame]
    return key.sort_values(cols, kind="stable").drop(columns=["_p", "_d", "_l"]).reset_index(drop=True)


# ---- Krippendorff's alpha over tokens -----------------------------------------------------------------


def token_bounds(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the tokens of ``text`` (:func:`annotator.text.tokenize`) as arrays."""
    tokens = np.array(tokenize(text), dtype=np.int64).reshape(-1, 2)
    return tokens[:, 0], tokens[:, 1]


def token_tags(
    text: str, spans: list[tuple[int, int, int]], bounds: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One annotator's tags for the tokens of ``text``: (the label of the innermost span overlapping each
    token, as label index + 1 with 0 for none; the bit mask of every label overlapping it).

    ``spans`` holds (start, end, label index); ``bounds`` is ``token_bounds(text)`` when already known.
    """
    starts, ends = token_bounds(text) if bounds is None else bounds
    inner = np.zeros(len(starts), dtype=np.int64)
    masks = np.zeros(len(starts), dtype=np.int64)
    if not spans:
        return inner, masks
    # longest first, so a nested (shorter) span overwrites its container: the innermost label wins
    order = sorted(spans, key=lambda s: (s[0] - s[1], s[2]))
    span_starts = np.array([s for s, _e, _i in order])
    span_ends = np.array([e for _s, e, _i in order])
    first = np.searchsorted(ends, span_starts, side="right").tolist()  # first token ending after the start
    stop = np.searchsorted(starts, span_ends, side="left").tolist()  # first token starting at or after the end
    for lo, hi, (_s, _e, index) in zip(first, stop, order, strict=True):
        inner[lo:hi] = index + 1
        masks[lo:hi] |= 1 << index
    return inner, masks


def _alpha(matrix: np.ndarray) -> float:
    """Nominal alpha (the ``krippendorff`` package) of a coders × units matrix of small non-negative
    integers with NaN for missing; NaN when undefined (fewer than two values or coders)."""
    present = ~np.isnan(matrix)
    values = matrix[present].astype(np.int64)
    if matrix.shape[0] < 2 or values.size == 0:
        return float("nan")
    domain = np.unique(values)
    if len(domain) < 2:
        return float("nan")
    # value counts (units × values) built directly: the package's own conversion compares every cell
    # with every value, which dominates on 100,000 tokens
    codes = np.searchsorted(domain, matrix[present].astype(np.int64))
    units = np.nonzero(present)[1]
    counts = np.zeros((matrix.shape[1], len(domain)), dtype=np.int64)
    np.add.at(counts, (units, codes), 1)
    try:
        return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):
        return float("nan")


_ALPHA_COLUMNS = ["level", "document_id", "label", "alpha", "tokens", "annotators"]


def token_alpha(data: ProjectData, *, per_document_labels: bool = False) -> pd.DataFrame:
    """Krippendorff's alpha (nominal) over tokens. ``label`` = ``(all)``: each token's tag is the label of
    the innermost span over it, or none (one tag per token, as in BIO or PolNeAR's token-wise alpha), for
    the project and per document. Per label: binary (inside a span of that label or not, whatever else
    covers the token), for the project, and per document with ``per_document_labels`` (a few hundred
    tokens each, so wide confidence intervals)."""
    coders = sorted({a for ids in data.annotators.values() for a in ids})
    row_of = {a: i for i, a in enumerate(coders)}
    bits = {label: i for i, label in enumerate(data.labels)}
    blocks = _token_blocks(data, row_of, bits)
    rows = []
    if blocks:
        whole_masks = np.concatenate([m for _d, _i, m in blocks], axis=1)
        rows.append(_alpha_row("project", None, ALL, _project_inner(data, blocks, row_of, whole_masks.shape)))
        rows += [_alpha_row("project", None, label, _label_bit(whole_masks, bit)) for label, bit in bits.items()]
        for doc, inner, masks in blocks:
            rows.append(_alpha_row("document", doc, ALL, inner))
            if per_document_labels:
                masks = masks[~np.isnan(masks).all(axis=1)]  # only the document's own annotators
                rows += [_alpha_row("document", doc, label, _label_bit(masks, bit)) for label, bit in bits.items()]
    frame = pd.DataFrame(rows, columns=_ALPHA_COLUMNS)
    frame["document_id"] = frame["document_id"].astype("Int64")
    return frame


def _token_blocks(data: ProjectData, row_of: dict[int, int], bits: dict[str, int]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per document with two or more annotators: (document id, innermost-label matrix with a row per annotator
    of that document in ``data.annotators`` order, label bit-mask matrix with a row per project coder and NaN
    for the coders who did not annotate it)."""
    by_doc: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for s in data.spans:
        if s.label in bits:
            by_doc[(s.document_id, s.annotator_id)].append((s.start, s.end, bits[s.label]))
    blocks: list[tuple[int, np.ndarray, np.ndarray]] = []
    for doc in sorted(data.annotators):
        ids = data.annotators[doc]
        if len(ids) < 2 or doc not in data.texts:
            continue
        bounds = token_bounds(data.texts[doc])
        n_tokens = len(bounds[0])
        inner = np.full((len(ids), n_tokens), np.nan)
        masks = np.full((len(row_of), n_tokens), np.nan)
        for i, a in enumerate(ids):
            inner[i], masks[row_of[a]] = token_tags(data.texts[doc], by_doc.get((doc, a), []), bounds)
        blocks.append((doc, inner, masks))
    return blocks


def _project_inner(
    data: ProjectData, blocks: list[tuple[int, np.ndarray, np.ndarray]], row_of: dict[int, int], shape: tuple[int, int]
) -> np.ndarray:
    """The documents' innermost-label matrices side by side, a row per project coder (NaN where one did not code)."""
    whole = np.full(shape, np.nan)
    col = 0
    for doc, inner, _m in blocks:
        for i, a in enumerate(data.annotators[doc]):
            whole[row_of[a], col : col + inner.shape[1]] = inner[i]
        col += inner.shape[1]
    return whole


def _label_bit(matrix: np.ndarray, bit: int) -> np.ndarray:
    """A label's binary tags (1 inside a span of it, else 0; NaN kept) from a bit-mask matrix."""
    out = np.full(matrix.shape, np.nan)
    present = ~np.isnan(matrix)
    out[present] = (matrix[present].astype(np.int64) >> bit) & 1
    return out


def _alpha_row(level: str, doc: int | None, label: str, matrix: np.ndarray) -> dict:
    """One row of the alpha table: the alpha of ``matrix``, its tokens, and how many annotators coded any."""
    present = ~np.isnan(matrix)
    return {
        "level": level, "document_id": doc, "label": label, "alpha": _alpha(matrix),
        "tokens": int(matrix.shape[1]), "annotators": int(present.any(axis=1).sum()),
    }  # fmt: skip


# ---- Cohen's kappa on attributes ----------------------------------------------------------------------


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two annotators' values on the same items; NaN when undefined (no items, or both
    used a single, identical value throughout)."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected == 1:
        return float("nan")
    return (observed - expected) / (1 - expected)


def attribute_kappa(data: ProjectData) -> pd.DataFrame:
    """Cohen's kappa per annotator pair, label and attribute over exactly matched spans (project level)."""
    by: dict[tuple[int, int, str], dict[tuple[int, int], list[dict]]] = defaultdict(lambda: defaultdict(list))
    keys_of_label: dict[str, set[str]] = defaultdict(set)
    for s in data.spans:
        by[(s.document_id, s.annotator_id, s.label)][(s.start, s.end)].append(s.attributes)
        keys_of_label[s.label].update(s.attributes)
    values: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    for doc, pairs in _pairs(data).items():
        for a, b in pairs:
            for label in data.labels:
                sa, sb = by.get((doc, a, label), {}), by.get((doc, b, label), {})
                for key in sa.keys() & sb.keys():
                    for attrs_a, attrs_b in zip(sa[key], sb[key], strict=False):
                        for attr in sorted(keys_of_label[label]):
                            values[(label, attr, a, b)].append((attrs_a.get(attr, UNSET), attrs_b.get(attr, UNSET)))
    rows = [
        {
            "level": "project", "label": label, "attribute": attr, "annotator_a": a, "annotator_b": b,
            "matched_spans": len(v), "observed_agreement": sum(x == y for x, y in v) / len(v), "kappa": cohen_kappa(v),
        }
        for (label, attr, a, b), v in sorted(values.items())
    ]  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=["level", "label", "attribute", "annotator_a", "annotator_b", "matched_spans", "observed_agreement", "kappa"],
    )
    return _named(frame, data.names)


# ---- links --------------------------------------------------------------------------------------------


def link_agreement(data: ProjectData) -> pd.DataFrame:
    """Pairwise link F1 per document and link type, per document, per type and for the project: exact
    (same type, same content span, same target span by offsets and label) and overlap (both ends only
    overlap a span of the same label)."""
    spans = {s.span_id: s for s in data.spans}
    by: dict[tuple[int, int, str], list[tuple]] = defaultdict(list)
    types = sorted({k.type for k in data.links})
    for k in data.links:
        src, dst = spans.get(k.from_span_id), spans.get(k.to_span_id)
        if src is None or dst is None:
            continue
        by[(k.document_id, k.annotator_id, k.type)].append((src.label, src.start, src.end, dst.label, dst.start, dst.end))

    def overlaps(x: tuple, y: tuple) -> bool:
        return x[0] == y[0] and x[3] == y[3] and x[1] < y[2] and y[1] < x[2] and x[4] < y[5] and y[4] < x[5]

    counts: dict[tuple, dict[tuple[int, int], list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    for doc, pairs in _pairs(data).items():
        for a, b in pairs:
            for type_ in types:
                la, lb = by.get((doc, a, type_), []), by.get((doc, b, type_), [])
                exact = sum((Counter(la) & Counter(lb)).values())
                fa = sum(any(overlaps(x, y) for y in lb) for x in la)
                fb = sum(any(overlaps(y, x) for x in la) for y in lb)
                _accumulate(counts, doc, type_, (a, b), (len(la), len(lb), exact, fa, fb))
    # the link type plays the label's part in the shared table, and keeps its own name
    return _named(_f1_frame(counts).rename(columns={"label": "type"}), data.names)


# ---- summaries for the charts and the download --------------------------------------------------------


def pair_matrix(span_f1_frame: pd.DataFrame, measure: str = "exact_f1", label: str = ALL) -> pd.DataFrame:
    """Project-level pairwise agreement on one F1 measure, each pair of annotators once (no self-pairs: an
    annotator's 1.00 with themself says nothing), in long form (``annotator_a_name``, ``annotator_b_name``,
    ``value``) with the names of each pair in sorted order, so the cells form the lower triangle of a heatmap
    whose columns are every name but the last and whose rows are every name but the first."""
    rows = span_f1_frame[(span_f1_frame["level"] == "project") & (span_f1_frame["label"] == label)]
    out = []
    for _, r in rows.iterrows():
        a, b = sorted((r["annotator_a_name"], r["annotator_b_name"]))
        out.append({"annotator_a_name": a, "annotator_b_name": b, "value": r[measure]})
    return pd.DataFrame(out, columns=["annotator_a_name", "annotator_b_name", "value"])


def label_summary(report: AgreementReport) -> pd.DataFrame:
    """Per label, project level: mean exact and overlap F1 over annotator pairs and token alpha (long form
    for bar charts: ``label``, ``measure``, ``value``)."""
    f1 = report.span_f1[(report.span_f1["level"] == "project") & (report.span_f1["label"] != ALL)]
    means = (
        f1.groupby("label")[["exact_f1", "overlap_f1"]].mean()
        if not f1.empty
        else pd.DataFrame(columns=["exact_f1", "overlap_f1"])
    )
    alpha = report.alpha[(report.alpha["level"] == "project") & (report.alpha["label"] != ALL)].set_index("label")["alpha"]
    wide = means.join(alpha.rename("token_alpha"), how="outer")
    wide.index.name = "label"
    return wide.reset_index().melt(id_vars="label", var_name="measure", value_name="value")


def to_csv(frame: pd.DataFrame) -> str:
    """CSV of a table for download, through the exports' one CSV writer (:func:`annotator.exporting.csv_lines`):
    headers and cells a spreadsheet would run as a formula get a leading '; empty cells stay empty."""
    cells = frame.astype(object).where(frame.notna(), None)
    return csv_lines([[str(c) for c in frame.columns], *cells.itertuples(index=False, name=None)])


# ---- wording for the screens ------------------------------------------------------------------------

# Measure column names -> how the charts' legends and the heatmap switch name them.
MEASURE_NAMES = {"exact_f1": "exact F1", "overlap_f1": "overlap F1", "token_alpha": "token alpha"}


def display_table(frame: pd.DataFrame, titles: dict[int, str] | None = None) -> pd.DataFrame:
    """An agreement table as shown on screen: annotator names instead of their ids, document titles (from
    ``titles``, id -> title) instead of document ids, no empty id columns, and column names in words
    (``exact_f1`` -> "exact f1"). The downloads keep the full table."""
    shown = frame.copy()
    if titles and "document_id" in shown.columns:
        shown["document_id"] = [titles.get(d, str(d)) if pd.notna(d) else None for d in shown["document_id"]]
    if {"annotator_a_name", "annotator_a"} <= set(shown.columns):
        shown = shown.drop(columns=["annotator_a", "annotator_b"], errors="ignore")
    if "document_id" in shown.columns and shown["document_id"].isna().all():
        shown = shown.drop(columns=["document_id"])
    renames = {"annotator_a_name": "annotator A", "annotator_b_name": "annotator B", "document_id": "document", "n_a": "spans A",
               "n_b": "spans B"}  # fmt: skip
    return shown.rename(columns=lambda c: renames.get(c, c.replace("_", " ")))
