"""Export (admins): choose a format and filters, build the zip (data + metadata.json), download it."""

import datetime as dt
import io

import streamlit as st

from annotator import exporting
from annotator.errors import NisbaError
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import admin_project_picker, md_literal

FORMAT_NAMES = {
    "csv": "CSV, one row per span (spreadsheets)",
    "triples": "Attribution triples CSV (who said what)",
    "jsonl": "JSONL, doccano's shape (training; re-imports into Nisba)",
    "labelstudio": "Label Studio JSON (+ labelling config)",
    "conll": "CoNLL / BIO, one file per layer",
    "audit": "Audit log, CSV and JSONL with the chain head",
}

store = get_store()
user = current_user(store)
st.title("Export")
project = admin_project_picker(
    store, user, refusal="Only admins export.", empty="There is no project yet.", label="Project", key="export_project"
)
fmt = st.selectbox("Format", exporting.FORMATS, format_func=FORMAT_NAMES.get, key="export_format")
choices = exporting.export_choices(store, user, project.id)
if not choices["documents"]:
    st.info("This project has no documents yet: an export would hold only metadata.json. Import or paste articles first.")

with st.expander("Filters", expanded=False):
    gold = st.checkbox("Gold layer only", key="export_gold")
    annotators = st.multiselect("Annotators", choices["annotators"], key="export_annotators", disabled=gold)
    labels = st.multiselect("Labels", choices["labels"], key="export_labels")
    docs = choices["documents"]
    document_ids = st.multiselect("Documents", list(docs), format_func=lambda i: f"{i} · {docs[i]}", key="export_documents")
    review_status = st.selectbox(
        "Review status", [None, *exporting.REVIEW_STATUSES], format_func=lambda s: s or "any", key="export_review"
    )
    c = st.columns(2)
    since = c[0].date_input("Changed from", value=None, key="export_since")
    until = c[1].date_input("Changed until (inclusive)", value=None, key="export_until")
excel = st.checkbox("For Excel (UTF-8 with BOM)", value=True, key="export_excel")
st.caption(
    "Offsets are Unicode code points into the stored text; text direction right-to-left. CSV cells that start with "
    "= + - @ tab or CR get a leading ' so spreadsheets never run them. Every export includes metadata.json."
)

filters = exporting.ExportFilters(
    document_ids=document_ids or None, annotators=None if gold else annotators or None, gold=gold, labels=labels or None,
    review_status=review_status, date_from=since.isoformat() if since else None,
    date_to=(until + dt.timedelta(days=1)).isoformat() if until else None,
)  # fmt: skip

choice = repr((project.id, fmt, filters, excel))  # what a prepared zip was made from
if st.button("Prepare export", key="export_run", type="primary"):
    bar = st.progress(0.0, text="Writing…")
    buf = io.BytesIO()
    try:
        result = exporting.export_zip(
            store, user, project.id, fmt, buf, filters, excel=excel,
            progress=lambda n: bar.progress(min(1.0, n / max(1, choices["spans"])), text=f"{n} rows…"),
        )  # fmt: skip
    except NisbaError as exc:
        st.error(md_literal(str(exc)))
    else:
        st.session_state["export_result"] = (f"nisba-{fmt}-{project.id}.zip", buf.getvalue(), result.metadata["counts"])
        st.session_state["export_made_for"] = choice
    bar.empty()

if st.session_state.get("export_made_for") != choice:  # another project, format or filter: that zip is not this one
    st.session_state.pop("export_result", None)
if ready := st.session_state.get("export_result"):
    name, data, counts = ready
    st.success("Ready: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    st.download_button("Download " + name, data, file_name=name, mime="application/zip", key="export_download")
