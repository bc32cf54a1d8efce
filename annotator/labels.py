"""The label scheme: the default attribution labels (PARC-style source, cue, content), link rules, edits."""

from __future__ import annotations

import re

from annotator.errors import InvalidLabel, PermissionDenied
from annotator.models import Label, User
from annotator.store import Store

# Label kinds carry the link rules, so renaming a label in the settings keeps its links valid.
CONTENT, SOURCE, CUE = "content", "source", "cue"
KINDS = (CONTENT, SOURCE, CUE, "other")

DEFAULT_SCHEME: list[dict] = [
    {
        "name": "CLAIM", "kind": CONTENT, "colour": "#ffd966", "hotkey": "c",
        "description": "Attributed content: a statement presented as fact or reported.",
        "attributes": {"form": ["direct", "indirect", "partial"]},
    },
    {
        "name": "QUOTE", "kind": CONTENT, "colour": "#b6e3a8", "hotkey": "q",
        "description": "Quoted speech.",
        "attributes": {"form": ["direct", "indirect", "partial"]},
    },
    {
        "name": "SOURCE", "kind": SOURCE, "colour": "#9fc5f8", "hotkey": "s",
        "description": "Who or what the content is attributed to.",
        "attributes": {"type": ["person", "organisation", "document", "outlet", "anonymous"]},
    },
    {
        "name": "CUE", "kind": CUE, "colour": "#f4b6c2", "hotkey": "u",
        "description": "The attributing words: قال، أكد، بحسب، وفقا لـ، جاء في …",
        "attributes": {},
    },
]  # fmt: skip

# link type -> (kinds allowed at the "from" end, kinds allowed at the "to" end)
LINK_TYPES: dict[str, tuple[set[str], set[str]]] = {
    "attributed_to": ({CONTENT}, {SOURCE}),
    "cue": ({CONTENT}, {CUE}),
}

_NAME = re.compile(r"^[^\s,;\"'<>&]{1,40}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# j k y d g: the review screen's keys (next, previous, accept = yes, reject = decline, adopt into gold),
# which the gold editor on that screen must let through; r is Streamlit's own (rerun).
RESERVED_KEYS = {"n", "p", "z", "escape", "delete", "backspace", "w", "l", "a", "j", "k", "y", "d", "g", "r"}


def install_default_scheme(store: Store, project_id: int) -> list[int]:
    """Insert the default labels into a project (inside the caller's transaction)."""
    return [store.insert_label(project_id, {**lab, "position": i}) for i, lab in enumerate(DEFAULT_SCHEME)]


def validate_label(label: dict, others: list[Label], label_id: int | None = None) -> dict:
    """Check a label definition (name, kind, colour, hotkey, attributes); return it cleaned."""
    name = str(label.get("name", "")).strip()
    if not _NAME.match(name):
        raise InvalidLabel(f"Label name {name!r} must be 1-40 characters without spaces, quotes or markup.")
    kind = label.get("kind", "other")
    if kind not in KINDS:
        raise InvalidLabel(f"Label kind must be one of {', '.join(KINDS)}.")
    colour = str(label.get("colour", "#cccccc"))
    if not _COLOUR.match(colour):
        raise InvalidLabel(f"Colour {colour!r} must look like #a1b2c3.")
    hotkey = str(label.get("hotkey", "")).strip().lower()
    if len(hotkey) > 1:
        raise InvalidLabel("A hotkey is one character.")
    if hotkey and hotkey in RESERVED_KEYS:
        raise InvalidLabel(f"The key {hotkey!r} is reserved for navigation or editing.")
    for other in others:
        if other.id == label_id:
            continue
        if other.name == name:
            raise InvalidLabel(f"Another label is already called {name!r}.")
        if hotkey and other.hotkey == hotkey:
            raise InvalidLabel(f"The hotkey {hotkey!r} is already used by {other.name}.")
    attributes = label.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in attributes.items()
    ):
        raise InvalidLabel('Attributes must map a name to a list of allowed values, e.g. {"form": ["direct"]}.')
    return {
        "name": name, "kind": kind, "colour": colour.lower(), "hotkey": hotkey,
        "description": str(label.get("description", "")), "attributes": attributes,
    }  # fmt: skip


def save_label(store: Store, actor: User, project_id: int, label: dict, label_id: int | None = None) -> int:
    """Create (``label_id`` None) or update a label of the project. Admins only. Existing spans keep their
    label id, so renaming or recolouring never loses them."""
    from annotator.access import require_admin

    with store.write():
        actor = require_admin(store, actor)
        store.get_project(project_id)  # NotFound rather than a foreign-key error
        others = store.list_labels(project_id)
        if label_id is not None and label_id not in {lab.id for lab in others}:
            raise InvalidLabel(f"Label {label_id} does not belong to this project.")
        clean = validate_label(label, others, label_id)
        if label_id is None:
            label_id = _insert(store, actor.id, project_id, clean, others)
        else:
            before = next(lab for lab in others if lab.id == label_id)
            store.update_label(label_id, **clean)
            store.record_event(actor.id, "update", "label", label_id, before=before.__dict__, after=clean)
    return label_id


def _insert(store: Store, actor_id: int, project_id: int, clean: dict, others: list[Label], via: str = "") -> int:
    """Insert a checked label after ``others`` and audit it (inside the caller's transaction)."""
    clean = {**clean, "position": len(others)}
    label_id = store.insert_label(project_id, clean)
    store.record_event(actor_id, "create", "label", label_id, after={**clean, **({"via": via} if via else {})})
    return label_id


def add_import_labels(
    store: Store, actor_id: int, project_id: int, names: list[str], values: dict[str, dict[str, list[str]]]
) -> dict[str, int]:
    """For an import, inside its transaction (the caller checked the admin): create the labels ``names`` the
    project lacks (kind other, the settings page's checks through :func:`validate_label`) and add attribute
    ``values`` (label -> attribute -> values) the scheme lacks. Returns every label's id by name."""
    others = store.list_labels(project_id)
    for name in names:
        if name not in {lab.name for lab in others}:
            _insert(store, actor_id, project_id, validate_label({"name": name, "kind": "other"}, others), others, "import")
            others = store.list_labels(project_id)
    by_name = {lab.name: lab for lab in others}
    for label_name, attrs in values.items():
        lab = by_name[label_name]
        merged = {k: list(v) for k, v in lab.attributes.items()}
        for name, vals in attrs.items():
            merged.setdefault(name, [])
            merged[name] += [v for v in vals if v not in merged[name]]
        if merged != lab.attributes:
            store.update_label(lab.id, attributes=merged)
            store.record_event(
                actor_id, "update", "label", lab.id,
                before={"attributes": lab.attributes}, after={"attributes": merged, "via": "import"},
            )  # fmt: skip
    return {name: lab.id for name, lab in by_name.items()}


def delete_label(store: Store, actor: User, label_id: int) -> None:
    """Delete a label that no span uses (admins only); a label in use is refused, so no span is lost."""
    from annotator.access import require_admin

    with store.write():
        actor = require_admin(store, actor)
        label = store.get_label(label_id)
        n = store.count_label_spans(label_id)
        if n:
            raise PermissionDenied(f"{label.name} is used by {n} spans; rename it instead of deleting it.")
        store.delete_label(label_id)
        store.record_event(actor.id, "delete", "label", label_id, before=label.__dict__)


def parse_attributes(text: str) -> dict[str, list[str]]:
    """Parse the settings page's attribute editor: one ``name: value, value`` per line."""
    out: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if ":" not in line:
            raise InvalidLabel(f"Attribute line {n} needs the form 'name: value, value'.")
        name, values = line.split(":", 1)
        name = name.strip()
        vals = [v.strip() for v in values.replace("،", ",").split(",") if v.strip()]
        if not name or not vals:
            raise InvalidLabel(f"Attribute line {n} needs a name and at least one value.")
        out[name] = vals
    return out


def format_attributes(attributes: dict[str, list[str]]) -> str:
    """The inverse of :func:`parse_attributes`."""
    return "\n".join(f"{k}: {', '.join(v)}" for k, v in attributes.items())


def list_labels(store: Store, actor: User, project_id: int) -> list[Label]:
    """The project's labels in display order, for a user who may open the project."""
    from annotator.access import require_project

    require_project(store, actor, project_id)
    return store.list_labels(project_id)
