"""Agreement screen: how far the annotators agree, per project, document and label, with the tables to download."""

import altair as alt
import streamlit as st

from annotator import agreement
from annotator.errors import NisbaError
from annotator.projects import document_overview, list_projects
from annotator.ui.session import current_user, get_store
from annotator.ui.suggestion_outcomes import outcomes_section
from annotator.ui.widgets import md_literal, mixed_script_columns, require_page_role

store = get_store()
user = current_user(store)
st.title("Agreement")
require_page_role(
    user, ("reviewer", "admin"), "Agreement figures are for reviewers and admins (annotation is blind).", as_error=False
)
projects = {p.id: p for p in list_projects(store, user)}
if not projects:
    st.info("You are not a member of any project yet.")
    st.stop()
project_id = st.sidebar.selectbox("Project", list(projects), key="agreement_project", format_func=lambda p: projects[p].name)


@st.cache_data(max_entries=16, show_spinner="Computing agreement…")
def cached_report(db_path: str, project_id: int, version: int, _user) -> agreement.AgreementReport:
    """The report, recomputed only when the data changed (``version``); access is checked before the cache."""
    return agreement.agreement_report(store, _user, project_id)


try:
    report = cached_report(store.path, project_id, agreement.data_version(store, user, project_id), user)
except NisbaError as exc:
    st.error(md_literal(str(exc)))
    st.stop()
if report.span_f1.empty:
    st.info("No document has two annotators' layers yet: nothing to compare.")
    st.stop()

project_f1 = report.span_f1[(report.span_f1["level"] == "project") & (report.span_f1["label"] == agreement.ALL)]
project_alpha = report.alpha[(report.alpha["level"] == "project") & (report.alpha["label"] == agreement.ALL)]
c1, c2, c3 = st.columns(3)
c1.metric("Span F1, exact (mean over pairs)", f"{project_f1['exact_f1'].mean():.3f}")
c2.metric("Span F1, overlap (mean over pairs)", f"{project_f1['overlap_f1'].mean():.3f}")
c3.metric("Token alpha (all labels)", f"{project_alpha['alpha'].iloc[0]:.3f}" if not project_alpha.empty else "n/a")
st.caption(
    "Alpha: Krippendorff's alpha, nominal, over tokens; overall, each token's tag is the label of the innermost "
    "span over it (or none); per label it is binary (inside a span of that label or not), as PolNeAR reports "
    "token-wise alpha for source, cue and content. F1 counts an exact match when start, end and label are equal."
)

left, right = st.columns(2)
measure = left.radio(
    "Heatmap measure",
    ["exact_f1", "overlap_f1"],
    key="agreement_measure",
    horizontal=True,
    format_func=agreement.MEASURE_NAMES.get,
)
heat = agreement.pair_matrix(report.span_f1, measure)
names = sorted(set(heat["annotator_a_name"]) | set(heat["annotator_b_name"]))
CELL = 84  # px per annotator: the chart grows with the team instead of stretching two cells across the page
x = alt.X("annotator_a_name:N", title=None, sort=names[:-1], scale=alt.Scale(domain=names[:-1]),
          axis=alt.Axis(labelAngle=0, labelLimit=CELL - 6, orient="top"))  # level: Arabic names stay words  # fmt: skip
y = alt.Y("annotator_b_name:N", title=None, sort=names[1:], scale=alt.Scale(domain=names[1:]), axis=alt.Axis(labelLimit=160))
left.altair_chart(
    (
        alt.Chart(heat)
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color("value:Q", scale=alt.Scale(domain=[0, 1], scheme="viridis"), title=agreement.MEASURE_NAMES[measure]),
            tooltip=["annotator_a_name", "annotator_b_name", alt.Tooltip("value:Q", format=".3f")],
        )
        + alt.Chart(heat)
        .mark_text()
        .encode(
            x=x,
            y=y,
            text=alt.Text("value:Q", format=".2f"),
            color=alt.condition("datum.value > 0.6", alt.value("black"), alt.value("white")),  # readable on viridis
        )
    ).properties(
        width=alt.Step(CELL),
        height=alt.Step(CELL // 2),
        # the chart's own size, not the column's: "fit" on a banded axis made Vega log "Dropping fit-y"
        autosize=alt.AutoSizeParams(type="pad"),
    ),
    width="content",
    key="agreement_heatmap",
)
left.caption("Each pair of annotators once. A blank cell: those two annotators have no document in common.")
bars = agreement.label_summary(report)
bars["measure"] = bars["measure"].map(agreement.MEASURE_NAMES)
right.altair_chart(
    alt.Chart(bars)
    .mark_bar()
    .encode(
        x=alt.X("label:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=90)),  # label names may be Arabic
        xOffset="measure:N",
        y=alt.Y("value:Q", title="agreement"),
        color=alt.Color("measure:N", title=None),
        tooltip=["label", "measure", alt.Tooltip("value:Q", format=".3f")],
    ),
    key="agreement_bars",
)

level = st.radio("Rows", ["project", "document"], key="agreement_level", horizontal=True)
tables = {
    "Span F1": ("span_f1", report.span_f1),
    "Token alpha": ("alpha", report.alpha),
    "Attribute kappa": ("kappa", report.kappa),
    "Links": ("links", report.links),
}
titles = {row["id"]: row["title"] for row in document_overview(store, user, project_id)}
for tab, (name, frame) in zip(st.tabs(list(tables)), tables.values(), strict=True):
    shown = frame[frame["level"] == level] if "level" in frame else frame
    tab.dataframe(
        agreement.display_table(shown, titles),
        key=f"agreement_{name}",
        hide_index=True,
        column_config=mixed_script_columns("annotator A", "annotator B", "document"),
    )
    tab.download_button(
        f"Download {name}.csv (all rows)",
        agreement.to_csv(frame),
        file_name=f"agreement-{name}.csv",
        mime="text/csv",
        key=f"agreement_download_{name}",
    )

outcomes_section(store, user, project_id)
