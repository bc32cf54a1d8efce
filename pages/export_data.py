"""Export (admins): the spans table in one click (CSV for Excel, or an .xlsx workbook), or any format as a zip
(data + metadata.json) built on request; the same filters apply to both."""

import io

import streamlit as st

from annotator import exporting
from annotator.errors import NisbaError
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import admin_project_picker, iso_day_range, md_literal

FORMAT_NAMES = {
    "csv": "CSV, one row per span (spreadsheets)",
    "xlsx": "Excel workbook, one row per span (sheet right to left)",
    "triples": "Attribution triples CSV (who said what)",
    "jsonl": "JSONL as doccano 1.8 exports it: a file per annotator (re-imports into Nisba)",
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
date_from, date_to = iso_day_range(since, until)
filters = exporting.ExportFilters(
    document_ids=document_ids or None, annotators=None if gold else annotators or None, gold=gold, labels=labels or None,
    review_status=review_status, date_from=date_from, date_to=date_to,
)  # fmt: skip


st.subheader("Spans table")
quick = st.columns([1, 1, 2])
# Made when clicked (a deferred download), so drawing the page exports nothing and records no audit event.
quick[0].download_button(
    "Download spans CSV (Excel-ready)", lambda: exporting.export_file(store, user, project.id, "csv", filters, excel=True)[1],
    file_name=f"nisba-spans-{project.id}.csv", mime="text/csv", key="export_quick_csv", type="primary",
)  # fmt: skip
quick[1].download_button(
    "Download spans workbook (.xlsx)", lambda: exporting.export_file(store, user, project.id, "xlsx", filters)[1],
    file_name=f"nisba-spans-{project.id}.xlsx", key="export_quick_xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)  # fmt: skip
quick[2].caption(
    "One row per span, one column per attribute. The CSV is UTF-8 with a BOM (Excel shows the Arabic; in LibreOffice "
    "choose UTF-8); the workbook has no encoding question and reads right to left. Cells that start with "
    "= + - @ tab or CR get a leading ' so spreadsheets never run them."
)

st.subheader("Full export (zip)")
fmt = st.selectbox("Format", exporting.FORMATS, format_func=FORMAT_NAMES.get, key="export_format")
excel = st.checkbox("For Excel (UTF-8 with BOM)", value=True, key="export_excel")
offsets = layout = None
if fmt == "jsonl":
    c = st.columns(2)
    offsets = c[0].radio(
        "Offsets", ["utf16", "codepoints"], key="export_offsets", horizontal=True,
        format_func={"utf16": "UTF-16 units (doccano's editor)", "codepoints": "Code points (Python)"}.get,
    )  # fmt: skip
    layout = c[1].radio(
        "Layout", ["entities", "label"], key="export_layout", horizontal=True,
        format_func={"entities": "entities + relations", "label": "label tuples (no relations)"}.get,
    )  # fmt: skip
st.caption(
    "Offsets are Unicode code points into the stored text (JSONL: the unit chosen above); text direction "
    "right-to-left. Every zip includes metadata.json, which names the offset unit."
)

choice = repr((project.id, fmt, filters, excel, offsets, layout))  # what a prepared zip was made from
if st.button("Prepare export", key="export_run", type="primary"):
    bar = st.progress(0.0, text="Writing…")
    buf = io.BytesIO()
    try:
        result = exporting.export_zip(
            store, user, project.id, fmt, buf, filters, excel=excel, offsets=offsets, layout=layout,
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
