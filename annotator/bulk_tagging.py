"""Tag all: one label on many search hits in one transaction, previewed first, undone in one step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from annotator import access
from annotator.annotations import add_span, check_offsets
from annotator.errors import InvalidLabel, InvalidSpan
from annotator.models import User
from annotator.search import Hit
from annotator.store import Store


@dataclass
class TagPlan:
    """What Tag all would do: spans to make, hits already tagged so (with the span id), hits refused (why)."""

    label: str
    create: list[Hit] = field(default_factory=list)
    existing: list[tuple[Hit, int]] = field(default_factory=list)
    refused: list[tuple[Hit, str]] = field(default_factory=list)


@dataclass
class TagResult:
    """What Tag all did; ``batch`` names it for :func:`annotator.annotations.undo_tag_all`."""

    batch: str
    span_ids: list[int]
    plan: TagPlan


def preview_tag_all(
    store: Store, actor: User | None, project_id: int, hits: list[Hit], label: str, *, layer: str = "annotator"
) -> TagPlan:
    """How many spans of ``label`` Tag all would make in the actor's ``layer``, which hits are already tagged so,
    and which are refused (a hit that would split a letter from its marks or an emoji from its modifier)."""
    user = access.require_project(store, actor, project_id)
    access.require_layer_write(user, layer)
    lab = next((lab for lab in store.list_labels(project_id) if lab.name == label), None)
    if lab is None:
        raise InvalidLabel(f"This project has no label {label!r}.")
    texts = store.document_titles_and_texts({h.document_id for h in hits}, project_id)
    existing = store.span_places(lab.id, user.id, layer, texts)
    plan = TagPlan(label)
    seen = set()
    for h in hits:
        place = (h.document_id, h.start, h.end)
        if place in seen:
            continue
        seen.add(place)
        if h.document_id not in texts:
            plan.refused.append((h, "the document is not in this project"))
            continue
        try:
            check_offsets(texts[h.document_id][1], h.start, h.end, h.text)
        except InvalidSpan as exc:
            plan.refused.append((h, str(exc)))
            continue
        if place in existing:
            plan.existing.append((h, existing[place]))
        else:
            plan.create.append(h)
    return plan


def tag_all(
    store: Store, actor: User | None, project_id: int, hits: list[Hit], label: str, *, layer: str = "annotator"
) -> TagResult:
    """Make the spans :func:`preview_tag_all` lists under ``create``, all in one transaction (each checked and
    audited by :func:`annotator.annotations.add_span`); their ``origin`` names the batch, so one undo removes
    them all. Hits already tagged and refused hits are left alone."""
    batch = uuid.uuid4().hex
    with store.write():
        plan = preview_tag_all(store, actor, project_id, hits, label, layer=layer)
        origin = {"tag_all": batch}
        ids = [
            add_span(store, actor, h.document_id, label, h.start, h.end, h.text, layer=layer, origin=origin).id
            for h in plan.create
        ]
    return TagResult(batch, ids, plan)
