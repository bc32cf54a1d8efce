"""The review screen's sections (pages/review.py lays them out): project progress, the row under review with
its keyboard buttons and comments, the aligned spans, links, status per annotator and the gold layer.

Every section reads a :class:`ReviewContext` and calls the core (annotator.review); a button's outcome is said
at the top of the next run (:func:`reported`), escaped, since messages quote names and span text."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from annotator import review
from annotator.errors import NisbaError
from annotator.models import User
from annotator.store import Store
from annotator.ui.article_component import article_view
from annotator.ui.review_layers import focus_script, layers_html, legend_html, review_table
from annotator.ui.widgets import md_literal

MESSAGE_KEY = "review_message"


def say(kind: str, message: str) -> None:
    """Show ``message`` (plain text) as ``kind`` (success, info, error) at the top of the next run."""
    st.session_state[MESSAGE_KEY] = (kind, message)


def show_message() -> None:
    """Show, once, the message :func:`say` left for this run."""
    if MESSAGE_KEY in st.session_state:
        kind, message = st.session_state.pop(MESSAGE_KEY)
        {"error": st.error, "info": st.info}.get(kind, st.success)(md_literal(message))


def reported(action):
    """A button callback that shows its success message, or the core's refusal, at the top of the next run."""

    def callback(*args) -> None:
        try:
            result = action(*args)  # a message, or (kind, message) when it is not a success
            kind, message = result if isinstance(result, tuple) else ("success", result)
            say(kind, message)
        except NisbaError as exc:
            say("error", str(exc))

    return callback


def progress_section(store: Store, user: User, project_id: int) -> pd.DataFrame:
    """The project's progress in an expander; returns the per-document, per-annotator status table."""
    with st.expander("Project progress", expanded=False):
        progress = review.project_progress(store, user, project_id)
        summary = review.progress_summary(progress)
        cols = st.columns(5)
        for col, name in zip(cols, ("documents", "in_progress", "submitted", "reviewed", "decided"), strict=True):
            col.metric(review.status_label(name), summary[name])
        if not progress.empty:
            statuses = progress.assign(status=progress["status"].map(review.status_label))
            st.dataframe(
                statuses.pivot_table(index="title", columns="annotator", values="status", aggfunc="first").fillna(
                    review.status_label(None)  # a blank cell read as "None"
                ),
                key="review_progress",
            )
    return progress


@dataclass
class ReviewContext:
    """One run of the review screen: who, which document, its review view and the row under review."""

    store: Store
    user: User
    doc_id: int
    view: review.ReviewView
    steps: list[int]  # the rows J and K step through
    current: int

    @property
    def row(self):
        """The row under review, or None when the document has no rows."""
        return self.view.rows[self.current] if self.view.rows else None

    @classmethod
    def load(cls, store: Store, user: User, doc_id: int, only_disagreements: bool) -> ReviewContext:
        """The review of ``doc_id``, starting at its first disagreement when the document changed."""
        view = review.load_review(store, user, doc_id)
        steps = view.disagreements() if only_disagreements else list(range(len(view.rows)))
        if st.session_state.get("review_row_doc") != doc_id:  # another document: start at its first disagreement
            st.session_state["review_row_doc"] = doc_id
            st.session_state["review_row"] = steps[0] if steps else 0
        current = st.session_state.get("review_row", 0)
        current = current if 0 <= current < len(view.rows) else (steps[0] if steps else 0)
        st.session_state["review_row"] = current
        return cls(store, user, doc_id, view, steps, current)

    def move(self, step: int) -> None:
        """Move to the next (``step`` > 0) or previous row among ``steps``; stay at either end."""
        later = [i for i in self.steps if (i > self.current if step > 0 else i < self.current)]
        if later:
            st.session_state["review_row"] = later[0] if step > 0 else later[-1]

    def decide_row(self, decision: str) -> None:
        """Decide every span of the current row (accepted or rejected), say what happened, and move on unless a
        colleague decided first."""
        targets = [("span", s.id, self.view.seen_version("span", s.id)) for s in self.row.spans.values()]
        done, refused = review.decide_many(self.store, self.user, targets, decision)
        say("error" if refused else "success", " ".join(refused) or f"{decision.capitalize()} {done} span(s).")
        if not refused:  # on a conflict, stay: the rerun shows the colleague's decision on this row
            self.move(1)


def row_buttons(ctx: ReviewContext) -> None:
    """Previous, Next, Accept, Reject, Adopt into gold (K J Y D G) and Adopt all agreed."""
    row, view = ctx.row, ctx.view

    @reported
    def adopt_row() -> str:
        gold = review.adopt_into_gold(ctx.store, ctx.user, next(iter(row.spans.values())).id)
        return f"In gold: {gold.label} «{gold.text}»"

    @reported
    def adopt_agreed() -> str | tuple[str, str]:
        adopted = review.adopt_agreed(ctx.store, ctx.user, ctx.doc_id)
        if not adopted:  # not a success: say why, so the button does not seem broken
            return "info", review.NOTHING_AGREED.format(n=len(view.annotator_ids))
        return f"Adopted {len(adopted)} agreed span(s) into gold."

    nav = st.columns(6)
    none = row is None
    nav[0].button("◀ Previous", key="review_prev", on_click=ctx.move, args=(-1,), shortcut="K", disabled=none)
    nav[1].button("Next ▶", key="review_next", on_click=ctx.move, args=(1,), shortcut="J", disabled=none)
    nav[2].button("Accept", key="review_accept", on_click=ctx.decide_row, args=("accepted",), shortcut="Y", type="primary",
                  disabled=none)  # fmt: skip
    nav[3].button("Reject", key="review_reject", on_click=ctx.decide_row, args=("rejected",), shortcut="D", disabled=none)
    nav[4].button("Adopt into gold", key="review_adopt", on_click=adopt_row, shortcut="G", disabled=none)
    nav[5].button("Adopt all agreed", key="review_adopt_agreed", on_click=adopt_agreed,
                  help="Copy into gold every span that all annotators of this document made identically")  # fmt: skip


def row_and_layers(ctx: ReviewContext) -> None:
    """The row under review right under the buttons, then the layers scrolled to it: J/K, what they moved to
    and where it is in the text stay within one screen."""
    row, view, names = ctx.row, ctx.view, ctx.view.names
    if row is not None:
        issues = "; ".join(review.ISSUE_NAMES[i] for i in row.issues) or "all annotators agree"
        st.markdown(
            f"**Row {ctx.current + 1} of {len(view.rows)}** · {md_literal(row.label)} · «{md_literal(row.text)}» · {issues}"
        )
        for other in row.others:
            st.caption(
                f"{md_literal(names.get(other.annotator_id))} tagged «{md_literal(other.text)}» as {md_literal(other.label)} instead"
            )
        decided = [(md_literal(names.get(a)), view.decision("span", s.id)) for a, s in row.spans.items()]
        st.caption(" · ".join(f"{who}: {r.decision if r else 'undecided'}" for who, r in decided))
    st.html(legend_html(view.annotator_ids, names, view.labels, view.spans))
    st.html(layers_html(view.document.text, view.spans, view.annotator_ids, view.labels, gold=view.gold, names=names,
                        focus=(row.start, row.end) if row else None))  # fmt: skip
    if row is not None:
        st.html(focus_script((row.start, row.end)), unsafe_allow_javascript=True)


def comment_box(ctx: ReviewContext) -> None:
    """The row's comment threads and a field to add one to an annotator's span."""
    row, names, current = ctx.row, ctx.view.names, ctx.current
    if row is None:
        return
    with st.container(border=True):
        for span in row.spans.values():
            for c in ctx.view.comments.get(("span", span.id), []):
                who, whose = md_literal(names.get(c.author_id)), md_literal(names.get(span.annotator_id))
                st.markdown(f"**{who}** on {whose}'s span: {md_literal(c.body)}")
        st.selectbox("Comment on the span of", list(row.spans), key="review_comment_owner", format_func=names.get)
        st.text_input("Comment", key=f"review_comment_{current}", max_chars=review.MAX_COMMENT)

        @reported
        def comment() -> str:
            # read the widgets now: the callback runs before the script, with this run's closure
            owner = st.session_state["review_comment_owner"]
            review.add_comment(ctx.store, ctx.user, "span", row.spans[owner].id, st.session_state[f"review_comment_{current}"])
            st.session_state[f"review_comment_{current}"] = ""
            return "Comment added."

        st.button("Add comment", key="review_comment_add", on_click=comment)


def aligned_spans(ctx: ReviewContext) -> None:
    """The table of aligned spans; picking a row makes it the row under review."""

    def pick_row() -> None:
        rows = st.session_state["review_table"].selection.rows
        if rows:
            st.session_state["review_row"] = rows[0]

    st.subheader("Aligned spans")
    st.caption("Select a row to bring it up above, where Accept, Reject and Adopt act on it.")
    aligned = pd.DataFrame(ctx.view.span_table())
    st.dataframe(**review_table(aligned), key="review_table", on_select=pick_row, selection_mode="single-row", hide_index=True)


def links_section(ctx: ReviewContext) -> None:
    """The document's links, ticked to accept or reject together."""
    st.subheader("Links")
    links = ctx.view.link_table()
    if not links:
        st.caption("No links on this document.")
        return
    picked = st.dataframe(
        **review_table(pd.DataFrame(links)), key="review_links", on_select="rerun", selection_mode="multi-row", hide_index=True
    )
    chosen = [ctx.view.link_rows[i] for i in picked.selection.rows]
    targets = [("link", k.id, ctx.view.seen_version("link", k.id)) for lr in chosen for k in lr.links.values()]

    def decide_links(decision: str) -> None:
        done, refused = review.decide_many(ctx.store, ctx.user, targets, decision)
        say("error" if refused else "success", " ".join(refused) or f"{decision.capitalize()} {done} link(s).")

    if not targets:  # the buttons below stay grey until then
        st.caption("Tick links in the table to accept or reject them together.")
    for col, decision in zip(st.columns(2), review.DECISIONS, strict=True):
        col.button(f"{decision[:-2].capitalize()} selected links", key=f"review_links_{decision}", disabled=not targets,
                   on_click=decide_links, args=(decision,))  # fmt: skip


def status_section(ctx: ReviewContext, progress: pd.DataFrame) -> None:
    """Each annotator's status on the document, with Mark reviewed."""
    st.subheader("Status per annotator")
    names = ctx.view.names
    for a in ctx.view.annotator_ids:
        status = progress[(progress["document_id"] == ctx.doc_id) & (progress["annotator_id"] == a)]["status"]
        c1, c2 = st.columns([3, 1])
        current_status = status.iloc[0] if len(status) else "in_progress"
        c1.write(f"{md_literal(names.get(a))}: **{review.status_label(current_status)}**")
        mark = reported(
            lambda a=a: review.mark_reviewed(ctx.store, ctx.user, ctx.doc_id, a) or f"{names.get(a)}'s layer marked reviewed."
        )
        c2.button("Mark reviewed", key=f"review_mark_{a}", disabled=current_status == "reviewed", on_click=mark)


def gold_section(ctx: ReviewContext) -> None:
    """The gold layer: edited directly in the article, listed below it."""
    st.subheader("Gold layer")
    st.caption("Edit gold directly: select text and press a label key, click a highlight to relabel, link or delete it.")
    article_view(ctx.store, ctx.user, ctx.view.document, key="review_gold_article", layer="gold")
    names = ctx.view.names
    gold_rows = [
        {
            "label": g.label,
            "text": g.text,
            "start": g.start,
            "end": g.end,
            "adopted from": names.get(g.origin.get("annotator_id"), ""),
        }
        for g in ctx.view.gold
    ]
    if gold_rows:
        gold_frame = pd.DataFrame(gold_rows, columns=["label", "text", "start", "end", "adopted from"])
        st.dataframe(**review_table(gold_frame), key="review_gold", hide_index=True)
    else:
        st.caption(
            "No gold spans yet: adopt an annotator's span (G, or Adopt all agreed), or mark text in the gold article above."
        )
