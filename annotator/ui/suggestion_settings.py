"""The settings page's suggestion sections: a project's own cue forms for the rules (admins add and remove them
and see where one fires; members read the list), and the learned engine (its status; admins train it)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotator import suggestion_models, suggestions
from annotator.errors import NisbaError
from annotator.models import Project, User
from annotator.store import Store
from annotator.suggest.lexicon import KINDS
from annotator.ui.widgets import md_literal, mixed_script_columns


def cue_section(store: Store, user: User, project: Project) -> None:
    """Draw the section for ``project``; every change goes through annotator.suggestions (which checks roles)."""
    st.subheader("Suggestion cues")
    st.caption(
        "Reporting words the suggestion rules look for in this project, besides the shipped lexicon. One per line: "
        f"form, lemma and kind separated by tabs (kinds: {', '.join(KINDS)}). Harakat and hamza forms need not be typed."
    )
    rows = suggestions.list_project_cues(store, user, project.id)
    if rows:
        table = pd.DataFrame([{k: r[k] for k in ("form", "lemma", "kind")} for r in rows])
        st.dataframe(table, hide_index=True, column_config=mixed_script_columns("form", "lemma"), key="settings_cues_table")
    else:
        st.info("No cue forms added: the shipped lexicon serves alone.")
    if user.role != "admin":
        return
    with st.form("settings_cues", clear_on_submit=True):
        tsv = st.text_area("Cue forms (form⇥lemma⇥kind)", key="settings_cues_tsv", height=90)
        if st.form_submit_button("Add cue forms"):
            try:
                added = suggestions.add_project_cues(store, user, project.id, tsv)
                st.session_state["settings_notice"] = f"Added {len(added)} cue form(s): {'، '.join(c.form for c in added)}."
                st.rerun()
            except NisbaError as exc:
                st.error(md_literal(str(exc)))
    if rows:
        _firing_and_removal(store, user, project, rows)


def _firing_and_removal(store: Store, user: User, project: Project, rows: list[dict]) -> None:
    by_id = {r["id"]: r for r in rows}
    chosen = st.selectbox("Cue form", list(by_id), format_func=lambda i: by_id[i]["form"], key="settings_cue_chosen")
    try:
        hits = suggestions.cue_firings(store, user, project.id, by_id[chosen]["form"])
    except suggestions.SuggestionEngineError as exc:
        st.error(md_literal(str(exc)))
        hits = []
    if hits:
        st.caption(f"Where it fires: {len(hits)} place(s) in this project's documents.")
        table = pd.DataFrame(
            [{"document": h["title"], "before": h["before"], "cue": h["text"], "after": h["after"]} for h in hits]
        )
        config = mixed_script_columns("document", "before", "cue", "after")
        st.dataframe(table, hide_index=True, column_config=config, key="settings_cue_hits")
    else:
        st.caption("It fires nowhere in this project's documents yet.")
    if st.button("Remove this cue form", key="settings_cue_remove"):
        try:
            suggestions.delete_project_cue(store, user, project.id, chosen)
            st.session_state["settings_notice"] = f"Removed the cue form {by_id[chosen]['form']}."
            st.rerun()
        except NisbaError as exc:
            st.error(md_literal(str(exc)))


def model_section(store: Store, user: User, project: Project) -> None:
    """The learned engine's status (version, training size and time, cross-validated figures) and, for admins,
    the button that trains it."""
    st.subheader("Learned suggestions")
    status = suggestion_models.model_status(store, user, project.id)
    if status is None:
        st.caption("No learned model yet: the rules serve alone. Training needs gold spans on at least "
                   f"{suggestion_models.MIN_TRAINING_DOCUMENTS} documents.")  # fmt: skip
    else:
        st.caption(
            f"Model {status['version']}, trained {status['trained_at'][:16].replace('T', ' ')} UTC on "
            f"{status['training_documents']} document(s) and {status['training_spans']} span(s) in {status['seconds']} s. "
            "Cross-validated F1 below."
        )
        if not status["usable"]:
            st.warning(md_literal(status["reason"]))
        cv = pd.DataFrame(status["cross_validation"])[["label", "match", "precision", "recall", "f1", "gold", "predicted"]]
        st.dataframe(cv, hide_index=True, key="settings_model_cv")
    if user.role == "admin" and st.button("Train the learned engine", key="settings_model_train"):
        try:
            with st.spinner("Training…"):
                trained = suggestion_models.train_project_model(store, user, project.id)
            st.session_state["settings_notice"] = f"Trained {trained['version']}."
            st.rerun()
        except suggestion_models.NotEnoughGold as exc:
            st.warning(md_literal(str(exc)))
        except NisbaError as exc:
            st.error(md_literal(str(exc)))
