"""The label scheme: defaults, validation, edits that keep spans, admin-only changes."""

import pytest

from annotator import annotations as A
from annotator.errors import InvalidLabel, PermissionDenied
from annotator.labels import DEFAULT_SCHEME, delete_label, format_attributes, parse_attributes, save_label


def test_default_scheme_is_parc_style(demo):
    labels = {lab.name: lab for lab in demo.list_labels(demo.list_projects()[0].id)}
    assert set(labels) == {"CLAIM", "QUOTE", "SOURCE", "CUE"}
    assert labels["QUOTE"].attributes == {"form": ["direct", "indirect", "partial"]}
    assert labels["SOURCE"].attributes["type"] == ["person", "organisation", "document", "outlet", "anonymous"]
    assert len({lab.hotkey for lab in labels.values()}) == len(DEFAULT_SCHEME)


def test_renaming_and_recolouring_keeps_existing_spans(demo, users, demo_doc):
    pid = demo_doc.project_id
    span = A.add_span(demo, users["amal"], demo_doc.id, "CLAIM", 0, 4)
    claim = next(lab for lab in demo.list_labels(pid) if lab.name == "CLAIM")
    save_label(demo, users["admin"], pid, {"name": "ادعاء", "kind": "content", "colour": "#112233", "hotkey": "x",
                                           "attributes": {"form": ["direct"]}}, claim.id)  # fmt: skip
    after = demo.get_span(span.id)
    assert (after.label, after.label_id, after.text) == ("ادعاء", claim.id, span.text)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": "QUOTE"}, "already called"),
        ({"hotkey": "q"}, "already used"),
        ({"hotkey": "n"}, "reserved"),
        ({"colour": "red"}, "Colour"),
        ({"name": "has space"}, "Label name"),
        ({"name": "<b>"}, "Label name"),
        ({"kind": "weird"}, "kind"),
    ],
)
def test_bad_label_edits_are_refused(demo, users, change, message):
    pid = demo.list_projects()[0].id
    claim = next(lab for lab in demo.list_labels(pid) if lab.name == "CLAIM")
    data = {"name": "CLAIM", "kind": "content", "colour": "#ffd966", "hotkey": "c", **change}
    with pytest.raises(InvalidLabel, match=message):
        save_label(demo, users["admin"], pid, data, claim.id)


def test_only_admins_edit_the_scheme(demo, users):
    pid = demo.list_projects()[0].id
    for who in ("amal", "rana"):
        with pytest.raises(PermissionDenied):
            save_label(demo, users[who], pid, {"name": "NEW", "kind": "other", "colour": "#000000"})
    assert len(demo.list_labels(pid)) == 4


def test_a_label_in_use_cannot_be_deleted(demo, users, demo_doc):
    pid = demo_doc.project_id
    A.add_span(demo, users["amal"], demo_doc.id, "CUE", 0, 4)
    cue = next(lab for lab in demo.list_labels(pid) if lab.name == "CUE")
    with pytest.raises(PermissionDenied, match="used by 1 spans"):
        delete_label(demo, users["admin"], cue.id)
    new_id = save_label(demo, users["admin"], pid, {"name": "EXTRA", "kind": "other", "colour": "#abcdef"})
    delete_label(demo, users["admin"], new_id)
    assert "EXTRA" not in {lab.name for lab in demo.list_labels(pid)}


def test_attribute_editor_round_trip():
    attrs = {"form": ["direct", "indirect"], "type": ["person"]}
    assert parse_attributes(format_attributes(attrs)) == attrs
    assert parse_attributes("نوع: شخص، مؤسسة") == {"نوع": ["شخص", "مؤسسة"]}
    with pytest.raises(InvalidLabel, match="line 1"):
        parse_attributes("no colon here")
