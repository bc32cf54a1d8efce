"""Geometry and selection helpers for browser tests of the article component (code-point offsets)."""

from __future__ import annotations

import regex

# Finds the text node and UTF-16 offset of a code point, inside the component's shadow root.
_POS_JS = """
function nisbaPos(box, cp) {
  const pieces = [...box.querySelectorAll('[data-start]')].filter((p) => !p.querySelector('[data-start]'));
  for (const p of pieces) {
    const a = Number(p.dataset.start), b = Number(p.dataset.end);
    if (cp >= a && cp < b) return [p.firstChild, Array.from(p.firstChild.data).slice(0, cp - a).join('').length];
    if (cp === b && p === pieces[pieces.length - 1]) return [p.firstChild, p.firstChild.data.length];
  }
  throw new Error('no piece holds ' + cp);
}
"""

_RECT_JS = (
    "(box, [a, b]) => {"
    + _POS_JS
    + """
  const [n1, u1] = nisbaPos(box, a); const [n2, u2] = nisbaPos(box, b);
  const r = document.createRange(); r.setStart(n1, u1); r.setEnd(n2, u2);
  const rs = [...r.getClientRects()].filter((x) => x.width > 0);
  const x = rs[0];
  return {left: x.left, right: x.right, top: x.top, bottom: x.bottom};
}"""
)

_SELECT_JS = (
    "(box, [a, b]) => {"
    + _POS_JS
    + """
  const [n1, u1] = nisbaPos(box, a); const [n2, u2] = nisbaPos(box, b);
  document.getSelection().setBaseAndExtent(n1, u1, n2, u2);
  box.onmouseup();
}"""
)

_SCROLL_JS = (
    "(box, cp) => {"
    + _POS_JS
    + """
  const [node] = nisbaPos(box, cp);
  const r = node.parentElement.getBoundingClientRect(), rb = box.getBoundingClientRect();
  if (r.top >= rb.top + 20 && r.bottom <= rb.bottom - 20) return false;
  const top = box.scrollTop;
  node.parentElement.scrollIntoView({ block: 'center' });
  return box.scrollTop !== top;
}"""
)


def graphemes(text: str) -> list[int]:
    """Grapheme-cluster starts and the end, found independently of annotator.text (regex ``\\X``)."""
    return [m.start() for m in regex.finditer(r"\X", text)] + [len(text)]


def article(page):
    """The article container (Playwright CSS locators pierce the open shadow root)."""
    return page.locator('[data-nisba="article"]')


def cluster_rect(page, text: str, offset: int) -> dict:
    """Viewport rectangle of the grapheme cluster starting at code point ``offset`` (letter + its marks)."""
    g = graphemes(text)
    return article(page).evaluate(_RECT_JS, [offset, g[g.index(offset) + 1]])


def fonts_settled(page) -> None:
    """Wait until the bundled Arabic face is loaded: glyphs move when it swaps in (font-display: swap)."""
    page.evaluate("""async () => { await document.fonts.load('1em "Noto Naskh Arabic"'); await document.fonts.ready; }""")


def scroll_to_offset(page, offset: int) -> bool:
    """Scroll the article's own box so code point ``offset`` is in the middle of it, when it is not already well
    inside the visible part (as a reader scrolls before a drag); returns whether the box moved."""
    return article(page).evaluate(_SCROLL_JS, offset)


def drag_rtl(page, text: str, start: int, end: int) -> None:
    """Drag with the real mouse over ``text[start:end]`` of right-to-left text (one line, or the next lines when
    both ends are in view): from the right edge of the first cluster (the logical start in RTL) to the left edge
    of the last one; returns when the component has read the selection."""
    fonts_settled(page)
    article(page).scroll_into_view_if_needed()
    scroll_to_offset(page, start)
    g = graphemes(text)
    last = g[g.index(end) - 1]
    first_rect = cluster_rect(page, text, start)
    last_rect = cluster_rect(page, text, last)
    y = (first_rect["top"] + first_rect["bottom"]) / 2
    page.mouse.move(first_rect["right"] - 1, y)
    page.mouse.down()
    page.mouse.move(last_rect["left"] + 1, (last_rect["top"] + last_rect["bottom"]) / 2, steps=12)
    page.mouse.up()
    page.wait_for_selector(f'[data-nisba="status"]:has-text("{start}–{end}")')


def select_offsets(page, start: int, end: int) -> None:
    """Set the DOM selection programmatically to code points ``[start, end)`` (as a script would)."""
    article(page).evaluate(_SELECT_JS, [start, end])


def highlight(page, span_id: int):
    """The marks of one span in the article."""
    return page.locator(f'[data-nisba="article"] mark[data-span-id="{span_id}"]')
