"""Charts of the Sources page: top sources by attributed content, cue verbs by source. Arabic names are drawn
level (never slanted or vertical: Arabic read at an angle or letter by letter is not read)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def top_sources_chart(table: pd.DataFrame, top: int = 15) -> alt.Chart:
    """Horizontal bars: the sources with the most attributed quotes and claims, names level on the y axis."""
    data = table.head(top).melt(id_vars=["source"], value_vars=["quotes", "claims"], var_name="kind", value_name="count")
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "source:N",
                sort=list(table.head(top)["source"]),
                title=None,
                axis=alt.Axis(labelAngle=0, labelLimit=320, labelFontSize=13),
            ),
            x=alt.X("count:Q", title="attributed content", stack="zero", axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color("kind:N", title=None),
            tooltip=["source", "kind", "count"],
        )  # fmt: skip
    )


def cue_heatmap(matrix: pd.DataFrame) -> alt.Chart:
    """Cue verbs (columns) by source (rows), the count in each cell."""
    base = alt.Chart(matrix).encode(
        x=alt.X("cue:N", title="cue", axis=alt.Axis(labelAngle=0, labelLimit=120, labelFontSize=13, orient="top")),
        y=alt.Y("source:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=320, labelFontSize=13)),
    )
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), title="uses"),
                                    tooltip=["source", "cue", "count"])  # fmt: skip
    text = base.mark_text().encode(
        text=alt.Text("count:Q"), color=alt.condition("datum.count > 3", alt.value("white"), alt.value("black"))
    )
    return cells + text
