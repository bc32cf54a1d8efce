"""Projects: create one, paste an article into it, edit its label scheme (names, colours, hotkeys, attributes),
blind annotation, and suggestions (the project's own cue forms, the learned engine)."""

import streamlit as st

from annotator.errors import NisbaError
from annotator.guidelines import MAX_GUIDELINES, get_guidelines, guidelines_version, save_guidelines
from annotator.labels import KINDS, delete_label, format_attributes, list_labels, parse_attributes, save_label
from annotator.projects import add_document, create_project, list_projects, update_settings
from annotator.ui.guidelines import NO_GUIDELINES, guidelines_html
from annotator.ui.session import current_project_id, current_user, get_store
from annotator.ui.suggestion_settings import cue_section, model_section
from annotator.ui.widgets import md_literal

store = get_store()
user = current_user(store)
st.title("Project settings")
if notice := st.session_state.pop("settings_notice", None):  # set before a rerun, which would wipe st.success
    st.success(md_literal(notice))

if user.role == "admin":
    with st.expander("New project"):
        with st.form("settings_new_project", clear_on_submit=True):
            new_name = st.text_input("Name", key="settings_new_project_name")
            new_description = st.text_input("Description", key="settings_new_project_description")
            if st.form_submit_button("Create project (with the default attribution labels)"):
                try:
                    created = create_project(store, user, new_name, new_description)
                    st.session_state["nisba_project_id"] = created.id
                    st.session_state.pop("settings_project", None)
                    st.success(f"Created {md_literal(created.name)}.")
                except NisbaError as exc:
                    st.error(md_literal(str(exc)))

project_id = current_project_id(store, user)
if project_id is None:
    st.info("You are not a member of any project yet.")
    st.stop()
projects = {p.id: p for p in list_projects(store, user)}
project_id = st.selectbox("Project", list(projects), format_func=lambda i: projects[i].name, key="settings_project",
                          index=list(projects).index(project_id))  # fmt: skip
project = projects[project_id]
if user.role != "admin":
    st.info("Only admins change the label scheme. You can see it below.")


def label_form(label=None):
    """One form per label; an empty one adds a label. The core validates and checks the role."""
    key = f"settings_label_{label.id if label else 'new'}"
    with st.form(key):
        cols = st.columns([2, 2, 1, 1])
        name = cols[0].text_input("Name", value=label.name if label else "", key=f"{key}_name")
        kind = cols[1].selectbox("Kind", KINDS, index=KINDS.index(label.kind) if label else 3, key=f"{key}_kind",
                                 help="content (CLAIM, QUOTE) links to a source and a cue")  # fmt: skip
        colour = cols[2].color_picker("Colour", value=label.colour if label else "#dddddd", key=f"{key}_colour")
        hotkey = cols[3].text_input("Hotkey", value=label.hotkey if label else "", max_chars=1, key=f"{key}_hotkey")
        description = st.text_input("Description", value=label.description if label else "", key=f"{key}_desc")
        attrs = st.text_area("Attributes (one per line: name: value, value)", key=f"{key}_attrs",
                             value=format_attributes(label.attributes) if label else "", height=80)  # fmt: skip
        if st.form_submit_button("Save" if label else "Add label", disabled=user.role != "admin"):
            try:
                data = {"name": name, "kind": kind, "colour": colour, "hotkey": hotkey, "description": description,
                        "attributes": parse_attributes(attrs)}  # fmt: skip
                save_label(store, user, project.id, data, label.id if label else None)
                st.session_state["settings_notice"] = f"Saved label {name.strip()}."
                st.rerun()
            except NisbaError as exc:
                st.error(md_literal(str(exc)))
    if label is not None and user.role == "admin":
        if st.button(f"Delete {md_literal(label.name)}", key=f"{key}_delete"):
            try:
                delete_label(store, user, label.id)
                st.session_state["settings_notice"] = f"Deleted label {label.name}."
                st.rerun()
            except NisbaError as exc:
                st.error(md_literal(str(exc)))


if user.role == "admin":
    with st.expander("Add an article by pasting its text"):
        with st.form("settings_paste", clear_on_submit=True):
            title = st.text_input("Title", key="settings_paste_title")
            body = st.text_area("Text (stored canonical: NFC, LF, bidi controls removed)", height=200, key="settings_paste_text")
            source = st.text_input("Source (URL or outlet, optional)", key="settings_paste_source")
            if st.form_submit_button("Add article"):
                try:
                    doc = add_document(store, user, project.id, title, body, source=source)
                    st.success(f"Added «{md_literal(doc.title)}» ({len(doc.text):,} characters). Open it on the Annotate page.")
                except NisbaError as exc:
                    st.error(md_literal(str(exc)))

st.subheader("Guidelines")
guidelines_text = get_guidelines(store, user, project.id)
if user.role == "admin":
    with st.form(f"settings_guidelines_{project.id}"):
        seen = guidelines_version(store, user, project.id)
        edited = st.text_area(
            "What annotators read under 📖 Guidelines on the annotation and review pages (plain text; a line starting "
            "with '# ' is a heading, '- ' a list item)", value=guidelines_text, height=320,
            key=f"settings_guidelines_text_{project.id}", max_chars=MAX_GUIDELINES,
        )  # fmt: skip
        if st.form_submit_button("Save guidelines"):
            try:
                save_guidelines(store, user, project.id, edited, seen_version=seen)
                st.session_state["settings_notice"] = "Saved the guidelines."
                st.rerun()
            except NisbaError as exc:
                st.error(md_literal(str(exc)))
    with st.expander("How annotators see them"):
        st.html(guidelines_html(guidelines_text or NO_GUIDELINES))
else:
    st.html(guidelines_html(guidelines_text or NO_GUIDELINES))

st.subheader("Labels")
for lab in list_labels(store, user, project.id):
    with st.expander(f"{md_literal(lab.name)} — {lab.kind} — key {md_literal(lab.hotkey) or '–'}"):
        label_form(lab)
if user.role == "admin":  # others only read the scheme
    with st.expander("Add a label"):
        label_form()

st.subheader("Annotation")
show = st.toggle("Annotators see each other's spans (off = blind annotation, for honest agreement figures)",
                 value=bool(project.settings.get("show_others")), key="settings_show_others",
                 disabled=user.role != "admin")  # fmt: skip
if user.role == "admin" and show != bool(project.settings.get("show_others")):
    try:
        update_settings(store, user, project.id, show_others=show)
        st.toast("Saved.")
    except NisbaError as exc:
        st.error(md_literal(str(exc)))

cue_section(store, user, project)
model_section(store, user, project)
