"""Review screen: every annotator's layer over the article, the aligned table of agreements and
disagreements, accept / reject / comment, adoption into gold, per-annotator status and project progress.

Keys: J next, K previous (disagreement), Y accept, D reject (decline), G adopt into gold (label hotkeys cannot take them)."""

import pandas as pd
import streamlit as st

from annotator import review
from annotator.errors import NisbaError
from annotator.projects import document_overview, list_projects
from annotator.ui.article_component import article_view
from annotator.ui.guidelines import guidelines_button
from annotator.ui.review_layers import focus_script, layers_html, legend_html, review_table
from annotator.ui.session import current_user, get_store
from annotator.ui.widgets import linked_document, md_literal, require_page_role

store = get_store()
user = current_user(store)
st.title("Review")
require_page_role(user, review.REVIEWER_ROLES, "The review screen is for reviewers and admins.", as_error=False)
projects = {p.id: p for p in list_projects(store, user)}
if not projects:
    st.info("You are not a member of any project yet.")
    st.stop()
# ?doc=ID opens that document (and its project) when the session starts; afterwards the URL follows the
# open document, so a reload or a shared link comes back to it.
if "review_doc" not in st.session_state:
    linked_document(store, user, "review_project", "review_doc")
project_id = st.sidebar.selectbox("Project", list(projects), key="review_project", format_func=lambda p: projects[p].name)


def say(kind: str, message: str) -> None:
    st.session_state["review_message"] = (kind, message)


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

docs = {row["id"]: row["title"] for row in document_overview(store, user, project_id)}
if not docs:
    st.info("This project has no documents yet.")
    st.stop()
if st.session_state.get("review_doc") not in docs:
    st.session_state["review_doc"] = next(iter(docs))
doc_col, guide_col = st.columns([6, 1], vertical_alignment="bottom")
doc_id = doc_col.selectbox("Document", list(docs), key="review_doc", format_func=lambda d: docs[d])
with guide_col:
    guidelines_button(store, user, project_id, key="review_guidelines")
st.query_params["doc"] = str(doc_id)
if "review_message" in st.session_state:
    kind, message = st.session_state.pop("review_message")
    {"error": st.error, "info": st.info}.get(kind, st.success)(md_literal(message))  # messages quote names and text
view = review.load_review(store, user, doc_id)
names = view.names
if len(view.annotator_ids) < 2:
    st.caption("Fewer than two annotators have a layer on this document: nothing to compare yet.")

only_disagreements = st.toggle("Step through disagreements only", value=True, key="review_only_disagreements")
steps = view.disagreements() if only_disagreements else list(range(len(view.rows)))
if st.session_state.get("review_row_doc") != doc_id:  # another document: start at its first disagreement
    st.session_state["review_row_doc"] = doc_id
    st.session_state["review_row"] = steps[0] if steps else 0
current = st.session_state.get("review_row", 0)
current = current if 0 <= current < len(view.rows) else (steps[0] if steps else 0)
st.session_state["review_row"] = current
row = view.rows[current] if view.rows else None


def move(step: int) -> None:
    later = [i for i in steps if (i > current if step > 0 else i < current)]
    if later:
        st.session_state["review_row"] = later[0] if step > 0 else later[-1]


def decide_row(decision: str) -> None:
    targets = [("span", s.id, view.seen_version("span", s.id)) for s in row.spans.values()]
    done, refused = review.decide_many(store, user, targets, decision)
    say("error" if refused else "success", " ".join(refused) or f"{decision.capitalize()} {done} span(s).")
    if not refused:  # on a conflict, stay: the rerun shows the colleague's decision on this row
        move(1)


nav = st.columns(6)
nav[0].button("◀ Previous", key="review_prev", on_click=move, args=(-1,), shortcut="K", disabled=row is None)
nav[1].button("Next ▶", key="review_next", on_click=move, args=(1,), shortcut="J", disabled=row is None)
nav[2].button(
    "Accept", key="review_accept", on_click=decide_row, args=("accepted",), shortcut="Y", type="primary", disabled=row is None
)
nav[3].button("Reject", key="review_reject", on_click=decide_row, args=("rejected",), shortcut="D", disabled=row is None)


@reported
def adopt_row() -> str:
    gold = review.adopt_into_gold(store, user, next(iter(row.spans.values())).id)
    return f"In gold: {gold.label} «{gold.text}»"


@reported
def adopt_agreed() -> str | tuple[str, str]:
    adopted = review.adopt_agreed(store, user, doc_id)
    if not adopted:  # not a success: say why, so the button does not seem broken
        return "info", review.NOTHING_AGREED.format(n=len(view.annotator_ids))
    return f"Adopted {len(adopted)} agreed span(s) into gold."


nav[4].button("Adopt into gold", key="review_adopt", on_click=adopt_row, shortcut="G", disabled=row is None)
nav[5].button("Adopt all agreed", key="review_adopt_agreed", on_click=adopt_agreed,
              help="Copy into gold every span that all annotators of this document made identically")  # fmt: skip
# The row under review right under the buttons, then the article scrolled to it: J/K, what they moved to and
# where it is in the text stay within one screen.
if row is not None:
    st.markdown(f"**Row {current + 1} of {len(view.rows)}** · {md_literal(row.label)} · «{md_literal(row.text)}» · "
                + ("; ".join(review.ISSUE_NAMES[i] for i in row.issues) or "all annotators agree"))  # fmt: skip
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

if row is not None:
    with st.container(border=True):
        for span in row.spans.values():
            for c in view.comments.get(("span", span.id), []):
                who, whose = md_literal(names.get(c.author_id)), md_literal(names.get(span.annotator_id))
                st.markdown(f"**{who}** on {whose}'s span: {md_literal(c.body)}")
        st.selectbox("Comment on the span of", list(row.spans), key="review_comment_owner", format_func=names.get)
        st.text_input("Comment", key=f"review_comment_{current}", max_chars=review.MAX_COMMENT)

        @reported
        def comment() -> str:
            # read the widgets now: the callback runs before the script, with this run's closure
            owner = st.session_state["review_comment_owner"]
            review.add_comment(store, user, "span", row.spans[owner].id, st.session_state[f"review_comment_{current}"])
            st.session_state[f"review_comment_{current}"] = ""
            return "Comment added."

        st.button("Add comment", key="review_comment_add", on_click=comment)


def pick_row() -> None:
    rows = st.session_state["review_table"].selection.rows
    if rows:
        st.session_state["review_row"] = rows[0]


st.subheader("Aligned spans")
st.caption("Select a row to bring it up above, where Accept, Reject and Adopt act on it.")
aligned = pd.DataFrame(view.span_table())
st.dataframe(**review_table(aligned), key="review_table", on_select=pick_row, selection_mode="single-row", hide_index=True)

st.subheader("Links")
links = view.link_table()
if links:
    link_frame = pd.DataFrame(links)
    picked = st.dataframe(
        **review_table(link_frame), key="review_links", on_select="rerun", selection_mode="multi-row", hide_index=True
    )
    chosen = [view.link_rows[i] for i in picked.selection.rows]
    targets = [("link", k.id, view.seen_version("link", k.id)) for lr in chosen for k in lr.links.values()]

    def decide_links(decision: str) -> None:
        done, refused = review.decide_many(store, user, targets, decision)
        say("error" if refused else "success", " ".join(refused) or f"{decision.capitalize()} {done} link(s).")

    if not targets:  # the buttons below stay grey until then
        st.caption("Tick links in the table to accept or reject them together.")
    for col, decision in zip(st.columns(2), review.DECISIONS, strict=True):
        col.button(f"{decision[:-2].capitalize()} selected links", key=f"review_links_{decision}", disabled=not targets,
                   on_click=decide_links, args=(decision,))  # fmt: skip
else:
    st.caption("No links on this document.")

st.subheader("Status per annotator")
for a in view.annotator_ids:
    status = progress[(progress["document_id"] == doc_id) & (progress["annotator_id"] == a)]["status"]
    c1, c2 = st.columns([3, 1])
    current_status = status.iloc[0] if len(status) else "in_progress"
    c1.write(f"{md_literal(names.get(a))}: **{review.status_label(current_status)}**")
    c2.button("Mark reviewed", key=f"review_mark_{a}", disabled=current_status == "reviewed", on_click=reported(
        lambda a=a: review.mark_reviewed(store, user, doc_id, a) or f"{names.get(a)}'s layer marked reviewed."))  # fmt: skip

st.subheader("Gold layer")
st.caption("Edit gold directly: select text and press a label key, click a highlight to relabel, link or delete it.")
article_view(store, user, view.document, key="review_gold_article", layer="gold")
gold_rows = [
    {
        "label": g.label,
        "text": g.text,
        "start": g.start,
        "end": g.end,
        "adopted from": names.get(g.origin.get("annotator_id"), ""),
    }
    for g in view.gold
]
if gold_rows:
    gold_frame = pd.DataFrame(gold_rows, columns=["label", "text", "start", "end", "adopted from"])
    st.dataframe(**review_table(gold_frame), key="review_gold", hide_index=True)
else:
    st.caption("No gold spans yet: adopt an annotator's span (G, or Adopt all agreed), or mark text in the gold article above.")
