"""Per-project annotation guidelines: admins write them (versioned, audited), members read them, the demo ships
the default scheme's conventions, and the screen shows them as text in each line's own direction."""

from __future__ import annotations

import pytest

from annotator.demo import DEMO_PROJECT, ensure_demo
from annotator.errors import NisbaError, PermissionDenied
from annotator.guidelines import MAX_GUIDELINES, get_guidelines, guidelines_version, save_guidelines
from annotator.ui.guidelines import guidelines_html


def test_the_demo_project_ships_the_default_schemes_conventions(demo, users):
    project = demo.project_by_name(DEMO_PROJECT)
    text = get_guidelines(demo, users["amal"], project.id)
    for convention in ("# CUE", "# SOURCE", "# QUOTE", "# CLAIM", "# Links", "وفقا للوثيقة", "first comma", "أنه / إنه"):
        assert convention in text


def test_admins_write_members_read_and_every_save_is_audited(demo, users):
    project = demo.project_by_name(DEMO_PROJECT)
    admin, rana = users["admin"], users["rana"]
    first = guidelines_version(demo, admin, project.id)
    assert first == 1  # the demo's own text
    version = save_guidelines(demo, admin, project.id, "# CLAIM\r\nما بعد «أن» دون الأداة\r\n")
    assert version == 2
    assert get_guidelines(demo, rana, project.id) == "# CLAIM\nما بعد «أن» دون الأداة"  # line ends made LF
    event = list(demo.iter_events())[-1]
    assert (event["action"], event["entity_id"], event["user_id"]) == ("update_guidelines", project.id, admin.id)
    assert event["after"]["guidelines"].startswith("# CLAIM") and "# CUE" in event["before"]["guidelines"]
    assert save_guidelines(demo, admin, project.id, "# CLAIM\nما بعد «أن» دون الأداة") == 2  # unchanged: no event
    assert list(demo.iter_events())[-1]["id"] == event["id"]
    with pytest.raises(PermissionDenied):
        save_guidelines(demo, rana, project.id, "")


def test_a_stale_form_and_a_huge_text_are_refused(demo, users):
    project = demo.project_by_name(DEMO_PROJECT)
    admin = users["admin"]
    seen = guidelines_version(demo, admin, project.id)
    save_guidelines(demo, admin, project.id, "another admin's text")
    with pytest.raises(NisbaError, match="Another admin changed"):
        save_guidelines(demo, admin, project.id, "mine", seen_version=seen)
    with pytest.raises(NisbaError, match="limited to 100,000"):
        save_guidelines(demo, admin, project.id, "x" * (MAX_GUIDELINES + 1))
    assert get_guidelines(demo, admin, project.id) == "another admin's text"


def test_restarting_never_overwrites_an_admins_guidelines(demo, users):
    project = demo.project_by_name(DEMO_PROJECT)
    save_guidelines(demo, users["admin"], project.id, "")
    ensure_demo(demo)
    assert get_guidelines(demo, users["admin"], project.id) == ""


def test_guidelines_are_shown_as_text_each_line_in_its_direction():
    text = "# SOURCE\n- It stops at the first comma: «وزير الخارجية ماركو روبيو، الذي»\nقال <b>المتحدث</b> **إن** ![x](http://x/y.png)"
    html = guidelines_html(text)
    assert '<h4 dir="auto"' in html and '<li dir="auto">' in html
    assert "<b>" not in html and "&lt;b&gt;" in html  # markup stays text
    assert "**" in html and "![x](http://x/y.png)" in html  # and Markdown is not read either
    # the Arabic example in a Latin line is isolated right to left, the comma and the words in one run
    assert '<bdi dir="rtl" lang="ar">وزير الخارجية ماركو روبيو، الذي</bdi>' in html
