"""The project's annotation guidelines on screen: a button that opens them (annotation and review pages) and the
escaped HTML they are shown as.

Guidelines are plain text that admins type. They are shown as text: every character goes through
:func:`html.escape`, nothing is read as Markdown or HTML. Two light conventions give them shape: a line starting
with ``# `` is a heading and one starting with ``- `` a list item. Each line takes its direction from its first
letter (``dir="auto"``), so an Arabic line reads right to left, and every run of Arabic inside a Latin line is
isolated (``<bdi dir="rtl">``) so an example like «أشار إلى» keeps its words in order.
"""

from __future__ import annotations

import html
import re

import streamlit as st

from annotator.errors import NisbaError
from annotator.guidelines import get_guidelines
from annotator.models import User
from annotator.store import Store
from annotator.ui.widgets import md_literal

_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
# Arabic words, with the spaces, digits and Arabic punctuation between them (so «بنسبة 5%» stays one run).
_ARABIC_RUN = re.compile(f"[{_ARABIC}]+(?:[\\s0-9%٠-٩.]*[{_ARABIC}]+)*")
NO_GUIDELINES = "No guidelines have been written for this project yet. Admins write them on the Project settings page."


def _line(text: str) -> str:
    escaped = html.escape(text, quote=True)  # entities are ASCII: the Arabic runs are untouched by escaping
    return _ARABIC_RUN.sub(lambda m: f'<bdi dir="rtl" lang="ar">{m.group(0)}</bdi>', escaped)


def guidelines_html(text: str) -> str:
    """``text`` as escaped HTML: ``# `` headings, ``- `` list items, other lines paragraphs, each in its own direction."""
    out, items = [], []

    def close_list() -> None:
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("- "):
            items.append(f'<li dir="auto">{_line(line[2:])}</li>')
            continue
        close_list()
        if line.startswith("# "):
            out.append(f'<h4 dir="auto" style="margin:.8rem 0 .3rem">{_line(line[2:])}</h4>')
        elif line:
            out.append(f'<p dir="auto" style="margin:.3rem 0">{_line(line)}</p>')
    close_list()
    return f'<div data-nisba="guidelines" style="font-size:1rem;line-height:1.7">{"".join(out)}</div>'


@st.dialog("Annotation guidelines", width="large")
def _guidelines_dialog(text: str) -> None:
    st.html(guidelines_html(text or NO_GUIDELINES))


def guidelines_button(store: Store, user: User, project_id: int, key: str, *, shortcut: str | None = None) -> None:
    """A "Guidelines" button that opens the project's guidelines in a dialog (read through the core, so only
    members and admins see them). ``key`` must be unique on the page; ``shortcut`` optionally adds a key."""
    if st.button("📖 Guidelines", key=key, help="What counts as a CLAIM, where a SOURCE stops: this project's conventions",
                 shortcut=shortcut):  # fmt: skip
        try:
            text = get_guidelines(store, user, project_id)
        except NisbaError as exc:
            st.error(md_literal(str(exc)))
            return
        _guidelines_dialog(text)
