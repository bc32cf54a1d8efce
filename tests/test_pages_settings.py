"""AppTest: the project settings page edits the label scheme through the core."""

import pytest
from app_pages import run_page

from annotator import annotations as A
from annotator.ui.widgets import md_literal


@pytest.fixture
def db_env(app_db):
    return app_db


def _settings(store, username):
    return run_page(store, "settings.py", username)


def test_admin_renames_a_label_and_spans_follow(db_env):
    store = db_env
    users = {u.username: u for u in store.list_users()}
    doc = store.list_documents(store.list_projects()[0].id)[0]
    span = A.add_span(store, users["amal"], doc.id, "CLAIM", 0, 4)
    at = _settings(store, "admin")
    assert not at.exception
    claim = next(lab for lab in store.list_labels(doc.project_id) if lab.name == "CLAIM")
    at.text_input(key=f"settings_label_{claim.id}_name").set_value("ادعاء")
    at.text_input(key=f"settings_label_{claim.id}_hotkey").set_value("x")
    at.button(key=f"FormSubmitter:settings_label_{claim.id}-Save").click().run()
    assert not at.exception and not at.error
    assert [m.value for m in at.success] == [md_literal("Saved label ادعاء.")]  # survives the rerun that redraws the list
    assert store.get_span(span.id).label == "ادعاء"
    assert store.get_label(claim.id).hotkey == "x"


def test_duplicate_hotkey_shows_an_error(db_env):
    store = db_env
    at = _settings(store, "admin")
    claim = next(lab for lab in store.list_labels(1) if lab.name == "CLAIM")
    at.text_input(key=f"settings_label_{claim.id}_hotkey").set_value("q")
    at.button(key=f"FormSubmitter:settings_label_{claim.id}-Save").click().run()
    assert "already used by QUOTE" in at.error[0].value
    assert store.get_label(claim.id).hotkey == "c"


def test_annotator_sees_the_scheme_but_cannot_save(db_env):
    at = _settings(db_env, "amal")
    assert not at.exception
    assert any("Only admins" in i.value for i in at.info)
    assert all(b.disabled for b in at.button if b.label in ("Save", "Add label"))
    assert "Add a label" not in [e.label for e in at.expander]  # a form they cannot use is not offered


def test_blind_annotation_toggle(db_env):
    at = _settings(db_env, "admin")
    at.toggle(key="settings_show_others").set_value(True).run()
    assert db_env.get_project(1).settings["show_others"] is True


def test_admin_creates_a_project_and_pastes_an_article(db_env):
    store = db_env
    at = _settings(store, "admin")
    at.text_input(key="settings_new_project_name").set_value("Gaza coverage")
    at.button(key="FormSubmitter:settings_new_project-Create project (with the default attribution labels)").click().run()
    assert not at.exception and not at.error
    project = store.project_by_name("Gaza coverage")
    assert [lab.name for lab in store.list_labels(project.id)] == ["CLAIM", "QUOTE", "SOURCE", "CUE"]
    assert at.selectbox(key="settings_project").value == project.id
    at.text_input(key="settings_paste_title").set_value("بيان")
    at.text_area(key="settings_paste_text").set_value("قال\u200f المتحدث\r\nإن الوضع هادئ.")
    at.button(key="FormSubmitter:settings_paste-Add article").click().run()
    assert not at.exception and not at.error
    [doc] = store.list_documents(project.id)
    assert (doc.title, doc.text) == ("بيان", "قال المتحدث\nإن الوضع هادئ.")


def test_empty_or_nul_article_is_refused_with_a_message(db_env):
    at = _settings(db_env, "admin")
    at.text_input(key="settings_paste_title").set_value("فارغ")
    at.text_area(key="settings_paste_text").set_value("   ")
    at.button(key="FormSubmitter:settings_paste-Add article").click().run()
    assert "empty" in at.error[0].value
    assert len(db_env.list_documents(1)) == 1


def test_annotator_has_no_project_creation(db_env):
    at = _settings(db_env, "amal")
    assert not any(e.label == "New project" for e in at.expander)


def test_admin_adds_a_cue_form_sees_where_it_fires_and_a_bad_line_is_refused(db_env):
    store = db_env
    users = {u.username: u for u in store.list_users()}
    from annotator.projects import add_document

    add_document(store, users["admin"], 1, "خبر", "وأفصح المدير العام أن الشركة ستندمج قريبا.")
    at = _settings(store, "admin")
    assert any("shipped lexicon serves alone" in i.value for i in at.info)
    at.text_area(key="settings_cues_tsv").set_value("أفصح\tأفصح\tverb\nأدلى أدلى verb")
    at.button(key="FormSubmitter:settings_cues-Add cue forms").click().run()
    assert not at.exception
    assert at.error[0].value == md_literal("Lexicon line 2: expected 3 tab-separated cells (form, lemma, kind), got 1.")
    assert store.list_suggestion_cues(1) == []
    at.text_area(key="settings_cues_tsv").set_value("أفصح\tأفصح\tverb\n")
    at.button(key="FormSubmitter:settings_cues-Add cue forms").click().run()
    assert not at.exception and not at.error
    assert [r["form"] for r in store.list_suggestion_cues(1)] == ["أفصح"]
    hits = next(d.value for d in at.dataframe if "cue" in d.value.columns)
    assert list(hits["cue"]) == ["وأفصح"] and list(hits["document"]) == ["خبر"]
    at.button(key="settings_cue_remove").click().run()
    assert store.list_suggestion_cues(1) == []


def test_annotator_reads_the_cue_forms_but_cannot_add(db_env):
    from annotator import suggestions

    suggestions.add_project_cues(db_env, db_env.user_by_username("admin"), 1, "أفصح\tأفصح\tverb\n")
    at = _settings(db_env, "amal")
    assert not at.exception
    assert [list(d.value["form"]) for d in at.dataframe if "form" in d.value.columns] == [["أفصح"]]
    assert not any(t.key == "settings_cues_tsv" for t in at.text_area)


def test_admin_trains_the_learned_engine_too_little_gold_says_so(db_env):
    from tests.test_suggestion_models import add_gold_documents

    store = db_env
    users = {u.username: u for u in store.list_users()}
    at = _settings(store, "admin")
    at.button(key="settings_model_train").click().run()
    assert not at.exception and "Too little annotated text" in at.warning[0].value
    assert store.latest_suggestion_model(1, "crf") is None
    add_gold_documents(store, users, 1, 9)
    at.button(key="settings_model_train").click().run()
    assert not at.exception and not at.error
    assert store.latest_suggestion_model(1, "crf")["training_documents"] == 8
    cv = next(d.value for d in at.dataframe if "f1" in d.value.columns)
    assert set(cv["label"]) == {"CLAIM", "QUOTE", "SOURCE", "CUE"}
    assert not any(b.key == "settings_model_train" for b in _settings(store, "amal").button)


def test_only_admins_edit_the_guidelines_others_read_them(db_env):
    from annotator.guidelines import get_guidelines

    store = db_env
    project = store.list_projects()[0]
    at = _settings(store, "rana")
    assert not at.exception
    assert not [t for t in at.text_area if t.key.startswith("settings_guidelines")]  # no editor for a reviewer
    shown = [h.proto.body for h in at.get("html") if 'data-nisba="guidelines"' in h.proto.body]
    assert shown and "وفقا للوثيقة" in shown[0]
    at = _settings(store, "admin")
    at.text_area(key=f"settings_guidelines_text_{project.id}").set_value("# CLAIM\nما بعد «أن»")
    at.button(key=f"FormSubmitter:settings_guidelines_{project.id}-Save guidelines").click().run()
    assert not at.exception, at.exception
    assert any("Saved the guidelines" in s.value for s in at.success)
    assert get_guidelines(store, store.user_by_username("admin"), project.id) == "# CLAIM\nما بعد «أن»"
