"""Import (admins): upload files, see what would come in (documents, spans, duplicates, rejected rows), confirm."""

import pandas as pd
import streamlit as st

from annotator import import_stream, importing
from annotator.errors import NisbaError
from annotator.ui.import_accounts import account_mapping_editor
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import admin_project_picker, md_literal

store = get_store()
user = current_user(store)
st.title("Import")
project = admin_project_picker(
    store, user, refusal="Only admins import documents and annotations.", empty="Create a project first (Project settings).",
    label="Into project", key="import_project",
)  # fmt: skip
limit_mb = importing.MAX_FILE_BYTES // (1024 * 1024)
st.caption(
    f"Plain text (one document per file, titled by the file name), CSV, doccano JSONL or zip, Label Studio JSON. "
    f"Limit: {limit_mb} MB per import and 10 MB per text. UTF-8 and UTF-16 with a byte-order mark are detected; "
    "for anything else (e.g. Windows-1256) name the encoding below."
)
uploads = st.file_uploader(
    "Files", type=["txt", "csv", "tsv", "jsonl", "json", "json_min", "zip"], accept_multiple_files=True, key="import_files"
)
cols = st.columns(4)
fmt = cols[0].selectbox("Format", importing.FORMATS, key="import_format")
annotator = cols[1].text_input("Annotator (for files that do not name one)", key="import_annotator").strip() or None
encoding = cols[2].text_input("Encoding (blank: detect)", key="import_encoding").strip() or None
skip_duplicates = cols[3].checkbox("Skip texts already in the project", value=True, key="import_skip_duplicates")

files = [importing.ImportFile(u.name, u.getvalue()) for u in uploads or []]
csv_options = None
csv_files = [f for f in files if f.name.lower().endswith((".csv", ".tsv"))]
if csv_files:
    try:
        header = importing.csv_header(csv_files[0], encoding)
    except NisbaError as exc:
        st.error(md_literal(str(exc)))
        header = []
    if header and "annotation_id" not in header:
        st.subheader("CSV columns")
        c = st.columns(3)
        pick = [None, *header]
        guess = next((h for h in header if h.lower() in ("text", "body", "content", "article")), header[0])
        text_col = c[0].selectbox("Text", header, index=header.index(guess), key="import_csv_text")
        title_col = c[1].selectbox("Title", pick, format_func=lambda h: h or "(none)", key="import_csv_title")
        id_col = c[2].selectbox("Id", pick, format_func=lambda h: h or "(none)", key="import_csv_id")
        meta_cols = st.multiselect(
            "Metadata columns", [h for h in header if h not in (text_col, title_col)], key="import_csv_meta",
            default=[h for h in header if h not in (text_col, title_col)],
        )  # fmt: skip
        csv_options = importing.CsvOptions(
            text_column=text_col, title_column=title_col, id_column=id_col, metadata_columns=meta_cols
        )


def run_preview(mapping: dict[str, str]) -> bool:
    """Preview the uploads with the admin's annotator mapping; the core checks and maps, nothing is written."""
    bar = st.progress(0.0, text="Reading files…")
    try:
        # JSONL uploads are streamed: their records wait on disk until Import, not in this session's memory
        st.session_state["import_preview"] = import_stream.preview_files(
            store, user, project.id, files, fmt=fmt, annotator=annotator, encoding=encoding, csv_options=csv_options,
            skip_duplicates=skip_duplicates, map_annotators=mapping,
            progress=lambda f: bar.progress(min(1.0, f), text="Checking…"),
        )  # fmt: skip
    except NisbaError as exc:
        st.error(md_literal(str(exc)))
        return False
    finally:
        bar.empty()
    st.session_state["import_mapping"] = mapping
    return True


if st.button("Preview", key="import_preview_button", disabled=not files, type="primary"):
    run_preview({})

preview = st.session_state.get("import_preview")
if preview is not None and preview.project_id == project.id:
    summary = preview.summary()
    m = st.columns(5)
    m[0].metric("New documents", summary["documents"])
    m[1].metric("Spans", summary["spans"])
    m[2].metric("Links", summary["links"])
    m[3].metric("Texts already here", summary["duplicates"], help="Not added again; their spans and links join them")
    m[4].metric("Rejected", summary["rejected"])
    if preview.spans_per_label:
        st.dataframe(
            pd.DataFrame(sorted(preview.spans_per_label.items()), columns=["label", "spans"]),
            hide_index=True,
            key="import_labels",
        )
    if (mapping := account_mapping_editor(preview, st.session_state.get("import_mapping", {}))) is not None:
        if run_preview(mapping):
            st.session_state.pop("import_accounts", None)  # the table is redrawn from the new mapping
            st.rerun()
    if summary["new_users"] or summary["new_labels"]:
        st.info(md_literal(
            f"New annotator accounts: {', '.join(summary['new_users']) or 'none'}. New labels: {', '.join(summary['new_labels']) or 'none'}."
        ))  # fmt: skip
    if preview.rejected:
        st.error(f"{len(preview.rejected)} row(s) or file(s) rejected:")
        rows = [{"file": p.file, "line": p.line, "reason": p.reason} for p in preview.rejected]
        st.dataframe(pd.DataFrame(rows, columns=["file", "line", "reason"]), hide_index=True, key="import_rejected")
    for title, problems, key in (
        ("Warnings", preview.warnings, "import_warnings"),
        ("Texts already here: their spans were added", preview.joined, "import_joined"),
        ("Duplicates with nothing new (not added again)", preview.duplicates, "import_dupes"),
    ):
        if problems:
            with st.expander(f"{title} ({len(problems)})"):
                rows = [{"file": p.file, "line": p.line, "note": p.reason} for p in problems]
                st.dataframe(pd.DataFrame(rows, columns=["file", "line", "note"]), hide_index=True, key=key)
    skip_rejected = False
    if preview.rejected:
        skip_rejected = st.checkbox("Import the accepted rows anyway (leave the rejected ones out)", key="import_skip_rejected")
    nothing_new = not (summary["documents"] or summary["spans"] or summary["links"])
    if nothing_new:
        st.info("Nothing new to import: these texts and their annotations are already in the project.")
    if st.button("Import", key="import_confirm", disabled=nothing_new or (bool(preview.rejected) and not skip_rejected)):
        bar = st.progress(0.0, text="Writing…")
        try:
            result = import_stream.commit_preview(
                store, user, preview, skip_rejected=skip_rejected, progress=lambda f: bar.progress(min(1.0, f))
            )
        except NisbaError as exc:
            st.error(md_literal(str(exc)))
        else:
            del st.session_state["import_preview"]
            st.success(f"Imported {len(result.document_ids)} document(s), {result.spans} span(s) and {result.links} link(s).")
        bar.empty()
