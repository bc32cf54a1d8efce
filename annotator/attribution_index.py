"""The attribution index: who said what. SOURCE spans grouped by their folded text, variants merged by reviewers,
and per source what is attributed to it (quotes, claims), where, with which cue verbs, and when."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd

from annotator import access
from annotator.errors import NisbaError
from annotator.exporting import csv_lines
from annotator.models import User
from annotator.store import Store
from annotator.text import fold_text

LAYERS = {"all": None, "gold": "gold", "annotator": "annotator"}


class InvalidMerge(NisbaError):
    """A merge or split that cannot be made: unknown variants, fewer than two, a group that is not one."""


def variant_of(text: str) -> str:
    """The folded form that names a source variant: folded, spaces collapsed («وزيـر  الخارجيّة» → «وزير الخارجيه»)."""
    return " ".join(fold_text(text).split())


@dataclass
class SourceEntry:
    """One source (a group of variants) and how much is attributed to it."""

    group: str
    variants: Counter = field(default_factory=Counter)  # variant → SOURCE spans
    texts: Counter = field(default_factory=Counter)  # stored spellings → SOURCE spans, for the name shown
    labels: Counter = field(default_factory=Counter)  # content label → quotes, claims … attributed
    cues: Counter = field(default_factory=Counter)  # folded cue → uses
    documents: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The most frequent spelling as typed in the articles."""
        return self.texts.most_common(1)[0][0]

    @property
    def source_spans(self) -> int:
        return sum(self.variants.values())

    @property
    def attributed(self) -> int:
        return sum(self.labels.values())


@dataclass
class AttributionIndex:
    """The index of a project: ``sources`` by group, the documents' titles and dates, and the scope it was read
    with (for :func:`attributions`)."""

    project_id: int
    sources: dict[str, SourceEntry]
    documents: dict[int, tuple[str, str]]
    layer: str = "all"

    def table(self) -> pd.DataFrame:
        """One row per source, most attributed content first."""
        rows = []
        for e in self.sources.values():
            dates = sorted(self.documents[d][1] for d in e.documents if d in self.documents)
            rows.append({
                "source": e.name, "group": e.group, "variants": len(e.variants), "quotes": e.labels.get("QUOTE", 0),
                "claims": e.labels.get("CLAIM", 0), "attributed": e.attributed, "documents": len(e.documents),
                "cues": "، ".join(f"{c} ({n})" for c, n in e.cues.most_common(5)),
                "first": dates[0] if dates else "", "last": dates[-1] if dates else "",
            })  # fmt: skip
        columns = ["source", "group", "variants", "quotes", "claims", "attributed", "documents", "cues", "first", "last"]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.sort_values(["attributed", "documents", "source"], ascending=[False, False, True], ignore_index=True)

    def cue_matrix(self, top_sources: int = 15, top_cues: int = 10) -> pd.DataFrame:
        """(source, cue, count) for the most attributed sources and the most used cues, for a heat map."""
        ranked = sorted(self.sources.values(), key=lambda e: (-e.attributed, e.group))[:top_sources]
        cues = Counter()
        for e in ranked:
            cues.update(e.cues)
        keep = [c for c, _n in cues.most_common(top_cues)]
        rows = [{"source": e.name, "cue": c, "count": e.cues.get(c, 0)} for e in ranked for c in keep]
        return pd.DataFrame(rows, columns=["source", "cue", "count"])


def _scope(store: Store, actor: User | None, project_id: int, layer: str) -> dict:
    user = access.require_project(store, actor, project_id)
    if layer not in LAYERS:
        raise NisbaError(f"Unknown layer {layer!r} (known: {', '.join(LAYERS)}).")
    visible_to = None if access.can_see_others(store, user, project_id) else user.id
    return {"layer": LAYERS[layer], "visible_to": visible_to}


def attribution_index(store: Store, actor: User | None, project_id: int, *, layer: str = "all") -> AttributionIndex:
    """The index of a project as the actor may read it (a blind annotator: their own spans and gold).
    ``layer``: 'all', 'gold' or 'annotator' (every annotator's layer). Counted by SQLite per stored spelling,
    then spellings folded and gathered into their groups here."""
    summary = store.source_summaries(project_id, **_scope(store, actor, project_id, layer))
    merged = store.source_groups(project_id)
    group_of = {text: merged.get(v, v) for text in summary["spans"] for v in (variant_of(text),)}
    sources: dict[str, SourceEntry] = {}
    for text, (n, docs) in summary["spans"].items():
        entry = sources.setdefault(group_of[text], SourceEntry(group_of[text]))
        entry.variants[variant_of(text)] += n
        entry.texts[text] += n
        entry.documents.update(int(d) for d in str(docs).split(","))
    for text, label, n in summary["labels"]:
        sources[group_of[text]].labels[label] += n
    for text, cue, n in summary["cues"]:
        sources[group_of[text]].cues[variant_of(cue)] += n
    return AttributionIndex(project_id, sources, store.document_titles_and_dates(project_id), layer)


def attributions(store: Store, actor: User | None, index: AttributionIndex, group: str | None = None) -> list[dict]:
    """What is attributed to one source (every source when ``group`` is None), in document order, with the
    offsets to open each span; read with the index's scope, access checked again."""
    scope = _scope(store, actor, index.project_id, index.layer)
    entries = list(index.sources.values()) if group is None else [index.sources[group]]
    by_text = {text: e for e in entries for text in e.texts}
    rows = store.source_attributions(index.project_id, None if group is None else list(by_text), **scope)
    out = []
    for text, _cid, label, content, doc, start, end, cues in rows:
        e = by_text.get(text)
        if e is not None:
            out.append({
                "group": e.group, "source": e.name, "label": label, "text": content,
                "cues": "، ".join(cues.split("\x1f")) if cues else "", "document": index.documents.get(doc, ("", ""))[0],
                "document_id": doc, "start": start, "end": end,
            })  # fmt: skip
    return out


def merge_sources(store: Store, actor: User | None, project_id: int, groups: list[str], into: str) -> None:
    """Merge the source ``groups`` (with every variant already in them) into the group ``into`` (reviewers and
    admins; audited). Kept by text: spans tagged later with any of these variants join the merged source."""
    with store.write():
        user = access.require_role(store, actor, "reviewer", "admin")
        access.require_project(store, user, project_id)
        if into not in groups or len(set(groups)) < 2:
            raise InvalidMerge("Choose at least two sources, and the one to merge them into among them.")
        current = store.source_groups(project_id)
        members = defaultdict(set)
        for variant, group in current.items():
            members[group].add(variant)
        moved = {v: into for g in groups for v in ({g} | members.get(g, set())) if v != into}
        before = {v: current.get(v, v) for v in moved}
        store.clear_source_groups(project_id, [into])  # the target names its own group
        store.set_source_groups(project_id, moved, user.id)
        store.record_event(user.id, "merge", "source_group", project_id, before=before, after=moved)


def split_source(store: Store, actor: User | None, project_id: int, group: str) -> list[str]:
    """Split a merged source: every variant becomes a source of its own again (reviewers and admins; audited).
    Returns the variants set apart."""
    with store.write():
        user = access.require_role(store, actor, "reviewer", "admin")
        access.require_project(store, user, project_id)
        variants = [v for v, g in store.source_groups(project_id).items() if g == group]
        if not variants:
            raise InvalidMerge(f"«{group}» is not a merged source.")
        store.clear_source_groups(project_id, variants)
        store.record_event(user.id, "split", "source_group", project_id, before={v: group for v in variants}, after={})
    return variants


def index_csv(store: Store, actor: User | None, index: AttributionIndex) -> dict[str, str]:
    """Two CSV files through the one CSV writer: ``sources.csv`` (one row per variant with its group) and
    ``attributions.csv`` (one row per attribution: source, cue, content, document, offsets)."""
    variants = [["group", "source", "variant", "source_spans", "attributed", "documents"]]
    for e in sorted(index.sources.values(), key=lambda e: (-e.attributed, e.group)):
        for v, n in e.variants.most_common():
            variants.append([e.group, e.name, v, n, e.attributed, len(e.documents)])
    attributed = [["group", "source", "label", "content", "cues", "document_id", "title", "start_offset", "end_offset"]]
    for r in attributions(store, actor, index):
        attributed.append([r[k] for k in ("group", "source", "label", "text", "cues", "document_id", "document", "start", "end")])
    return {"sources.csv": csv_lines(variants), "attributions.csv": csv_lines(attributed)}


def data_version(store: Store, actor: User | None, project_id: int) -> int:
    """A key that changes whenever spans, links or merges change (the latest audit event), after checking that the
    actor may read the project: pages cache the index under it."""
    access.require_project(store, actor, project_id)
    return store.head_event_id()
