"""Actions to reach the reference annotation of the demo article in real headless Chromium, with suggestions on.

Run: ``.venv/bin/python benchmarks/bench_suggest_actions_browser.py [--show]``. Prints; asserts nothing (but says
whether the end state equals the reference, with the differences). ``--show`` prints every action as it is sent.

The same strategy as benchmarks/bench_suggest_actions.py, carried out with real input events on the real app
(``streamlit run serve.py`` on a fresh demo database, amal logged in, no span of hers yet). Every key press, every
click and every mouse drag the script sends counts 1; logging in and scrolling the article's box to bring a span
into view do not (scrolls are printed apart). What the script decides from is what the page shows (the
component's own state: open suggestions, spans, links); the database is read only at the end, to check.
- per label, the cheaper of "Accept all LABEL" (focus one of its outlines with a click, then the button: 2; 1 when
  the focus is on that label already, as Accept all moves it on to the next suggestion like Enter does) and
  then each wrong one deleted (click + Delete), or each right one accepted alone (click its outline + Enter; no
  click when Enter has already moved the focus onto it);
- each reference span still missing: a drag and a hotkey (2);
- each reference link still missing: click the span, a or l, click the target (3); each wrong link removed:
  click the span, click its × in the panel (2).
Without suggestions: 2 actions per span and 3 per link (the trial's figure). Target (issue 8): under 1 action per
correct span.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from annotator.demo import ensure_demo  # noqa: E402
from annotator.store import Store  # noqa: E402
from annotator.suggest.evaluate import read_gold  # noqa: E402

REFERENCE = ROOT / "tests/fixtures/demo-reference.ar.jsonl"
USER = "amal"
BOX = '[data-nisba="article"]'

# What the page shows: the component's own model (see annotator/ui/article/article.js)
_STATE_JS = """(box) => { const S = box.getRootNode().__nisba;
  return { spans: [...S.spans.values()].filter((x) => !x.pending).map((x) => [x.id, x.l, x.s, x.e]),
           links: [...S.links.values()].map((k) => [k.id, k.from, k.type, k.to]),
           suggs: [...S.suggs.values()].filter((g) => !S.hidden.has(g.key)).map((g) => [g.key, g.l, g.s, g.e]),
           focus: S.focus, selected: S.selected }; }"""

# The innermost piece of one span or suggestion (so a click lands on it, not on what it encloses), scrolled to the
# middle of the article's box; returns the centre of its widest line box and whether the box had to scroll.
_TARGET_JS = """([box, sel]) => {
  const pieces = [...box.querySelectorAll(sel)];
  if (!pieces.length) return null;
  const p = pieces.reduce((a, b) => (b.textContent.trim().length > a.textContent.trim().length ? b : a));
  const top = box.scrollTop;
  const r0 = p.getBoundingClientRect(), rb = box.getBoundingClientRect();
  if (r0.top < rb.top + 20 || r0.bottom > rb.bottom - 20) p.scrollIntoView({ block: 'center' });
  const r = [...p.getClientRects()].filter((x) => x.width > 0).reduce((a, b) => (b.width > a.width ? b : a));
  return { x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2, scrolled: box.scrollTop !== top };
}"""


class Screen:
    """The annotation screen and a counter of the input events sent to it."""

    def __init__(self, page, text: str, show: bool):
        self.page, self.text, self.show = page, text, show
        self.actions: Counter = Counter()  # kind of action -> input events
        self.scrolls = 0

    def box(self):
        return self.page.locator(BOX).element_handle()

    def state(self) -> dict:
        return self.page.evaluate(_STATE_JS, self.box())

    def settle(self) -> None:
        """Wait until every action sent has been answered by the server (the component's test hook)."""
        self.page.wait_for_function("(box) => (box.dataset.pending || '0') === '0'", arg=self.box(), timeout=30_000)

    def count(self, kind: str, what: str) -> None:
        self.actions[kind] += 1
        if self.show:
            print(f"  {sum(self.actions.values()):3d} {kind:<10} {what}", flush=True)

    def key(self, key: str, kind: str, what: str = "") -> None:
        self.page.keyboard.press(key)
        self.count(kind, f"{key} {what}")
        self.settle()

    def click_piece(self, selector: str, kind: str, what: str) -> bool:
        """Click the innermost piece matching ``selector`` inside the article; False when none is drawn."""
        at = self.page.evaluate(_TARGET_JS, [self.box(), selector])
        if at is None:
            return False
        self.scrolls += at["scrolled"]
        self.page.mouse.click(at["x"], at["y"])
        self.count(kind, what)
        self.settle()
        return True

    def drag(self, start: int, end: int, kind: str) -> None:
        from browser.article_dom import drag_rtl, scroll_to_offset

        self.scrolls += scroll_to_offset(self.page, start)
        drag_rtl(self.page, self.text, start, end)  # one drag; waits until the component shows [start, end)
        self.count(kind, f"drag {start}–{end}")


def spot(item) -> tuple[str, int, int]:
    """(label, start, end) of a span or suggestion row from :data:`_STATE_JS`."""
    return (item[1], item[2], item[3])


def focus_suggestion(screen: Screen, key: str, kind: str) -> None:
    """Put the focus on suggestion ``key``: nothing if it is there, else a click on its outline (Tab as a fallback)."""
    if screen.state()["focus"] == key:
        return
    if not screen.click_piece(f'mark.piece.sugg[data-sugg-key="{key}"]', kind, f"focus {key}"):
        for _ in range(len(screen.state()["suggs"]) + 1):
            screen.key("Tab", kind, f"to {key}")
            if screen.state()["focus"] == key:
                return
    if screen.state()["focus"] != key:
        raise RuntimeError(f"could not focus suggestion {key}")


def select_span(screen: Screen, span_id: int, kind: str) -> None:
    """Select a saved span: a click where it is the innermost highlight (clicks again cycle outward)."""
    for _ in range(6):
        if screen.state()["selected"] == span_id:
            return
        if not screen.click_piece(f'mark.piece[data-span-id="{span_id}"]', kind, f"select span {span_id}"):
            screen.click_piece(f'mark[data-span-id="{span_id}"] mark.piece', kind, f"select span {span_id} (cycle)")
    raise RuntimeError(f"could not select span {span_id}")


def accept_suggestions(screen: Screen, wanted: frozenset) -> None:
    """Per label, accept all and delete the wrong ones, or accept the right ones one by one, whichever is cheaper."""
    suggs = screen.state()["suggs"]
    labels = sorted({g[1] for g in suggs})
    while labels:
        # the label the focus is on already (Enter, x and Accept all move it on) comes first: no click to reach it
        now = screen.state()
        focused = next((g for g in now["suggs"] if g[0] == now["focus"]), None)
        label = focused[1] if focused and focused[1] in labels else labels[0]
        labels.remove(label)
        mine = sorted((g for g in suggs if g[1] == label), key=lambda g: (g[2], -g[3]))
        right = [g for g in mine if spot(g) in wanted]
        wrong = len(mine) - len(right)
        if 1 + 2 * wrong <= 2 * len(right):
            if not (focused and focused[1] == label):
                focus_suggestion(screen, right[0][0] if right else mine[0][0], "accept")
            screen.page.locator('[data-nisba="panel"] [data-nisba="accept-all"]').click()
            screen.count("accept", f"Accept all {label} ({len(mine)})")
            screen.settle()
            for span in screen.state()["spans"]:
                if span[1] == label and spot(span) not in wanted:
                    select_span(screen, span[0], "delete")
                    screen.key("Delete", "delete", f"span {span[0]}")
        else:
            for g in right:
                focus_suggestion(screen, g[0], "accept")
                screen.key("Enter", "accept", g[0])


def add_missing_spans(screen: Screen, wanted: frozenset) -> None:
    """Each reference span the page does not show: drag over it, press its label's hotkey."""
    hotkeys = {
        lab["name"]: lab["hotkey"] for lab in screen.page.evaluate("(box) => box.getRootNode().__nisba.labelList", screen.box())
    }
    have = {spot(s) for s in screen.state()["spans"]}
    for label, start, end in sorted(wanted - have, key=lambda s: s[1]):
        screen.drag(start, end, "span")
        screen.key(hotkeys[label], "span", label)


def fix_links(screen: Screen, gold_links: frozenset) -> None:
    """Remove the links the reference has not, add those it has (click the span, a or l, click the other end)."""
    st = screen.state()
    by_spot = {spot(s): s[0] for s in st["spans"]}
    by_id = {v: k for k, v in by_spot.items()}
    shown = {(by_id[f], t, by_id[to]): lid for lid, f, t, to in st["links"] if f in by_id and to in by_id}
    for extra in sorted(shown.keys() - gold_links):
        select_span(screen, by_spot[extra[0]], "unlink")
        screen.page.locator(f'[data-nisba="panel"] [data-nisba="unlink"][data-link-id="{shown[extra]}"]').click()
        screen.count("unlink", f"× link {shown[extra]}")
        screen.settle()
    for src, kind, dst in sorted(gold_links - shown.keys()):
        select_span(screen, by_spot[src], "link")
        screen.page.keyboard.press("a" if kind == "attributed_to" else "l")  # no round trip: the mode is local
        screen.count("link", f"{'a' if kind == 'attributed_to' else 'l'} ({kind})")
        if not screen.click_piece(f'mark.piece[data-span-id="{by_spot[dst]}"]', "link", f"target {dst}"):
            screen.click_piece(f'mark[data-span-id="{by_spot[dst]}"] mark.piece', "link", f"target {dst}")


def database_state(db_path: Path, doc_id: int) -> tuple[set, set]:
    """amal's spans and links in the database, as (label, start, end) and (from spot, type, to spot)."""
    store = Store(db_path, migrate_schema=False)
    try:
        user = store.user_by_username(USER)
        spans = store.list_spans(doc_id, annotator_ids=[user.id])
        ids = {s.id: (s.label, s.start_offset, s.end_offset) for s in spans}
        links = {(ids[k.from_span_id], k.type, ids[k.to_span_id]) for k in store.list_links(doc_id) if k.from_span_id in ids}
        return set(ids.values()), links
    finally:
        store.close()


def prepare(db_path: Path, gold) -> int | None:
    """A fresh demo database; the demo article's id, or None when its text is not the reference's."""
    store = Store(db_path)
    try:
        ensure_demo(store)
        doc = store.list_documents(store.project_by_name("Demo: attribution in Arabic news").id)[0]
        mine = store.list_spans(doc.id, annotator_ids=[store.user_by_username(USER).id])
        if doc.text != gold.text or mine:
            return None
        return doc.id
    finally:
        store.close()


def run(show: bool) -> None:
    from browser.conftest import launch_chromium, open_app, running_app
    from playwright.sync_api import sync_playwright

    [gold] = read_gold(REFERENCE)
    with tempfile.TemporaryDirectory() as d:
        db_path = Path(d) / "nisba.db"
        doc_id = prepare(db_path, gold)
        if doc_id is None:
            print("the demo article differs from the reference's text (or amal has spans); nothing measured")
            return
        with running_app(db_path, Path(d) / "streamlit.log") as base_url, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ar").new_page()
            page.set_default_timeout(30_000)
            open_app(page, base_url, USER, doc=doc_id)
            page.locator(f"{BOX} mark.sugg").first.wait_for()
            screen = Screen(page, gold.text, show)
            offered = len(screen.state()["suggs"])
            accept_suggestions(screen, frozenset(gold.spans))
            add_missing_spans(screen, frozenset(gold.spans))
            fix_links(screen, frozenset(gold.links))
            screen.settle()
            browser.close()
        spans, links = database_state(db_path, doc_id)
    report(gold, offered, screen, spans, links)


def report(gold, offered: int, screen: Screen, spans: set, links: set) -> None:
    n, m = len(gold.spans), len(gold.links)
    total = sum(screen.actions.values())
    right_spans, right_links = len(spans & set(gold.spans)), len(links & set(gold.links))
    print(f"demo article reference: {n} spans, {m} links; {offered} suggestions offered in Chromium (user {USER})")
    print("  actions by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(screen.actions.items())) +
          f"; article scrolled {screen.scrolls} times to bring a span into view (not counted)")  # fmt: skip
    print(f"  with suggestions, in Chromium: {total} actions (keys, clicks, drags); correct spans reached {right_spans}/{n}, "
          f"{total / max(1, right_spans):.2f} actions per correct span (target < 1); links reached {right_links}/{m}")  # fmt: skip
    print(f"  without suggestions (2 per span + 3 per link, the trial's figure): {2 * n + 3 * m} actions "
          f"({(2 * n + 3 * m) / n:.2f} per span)")  # fmt: skip
    same = spans == set(gold.spans) and links == set(gold.links)
    print(f"  database (amal's spans and links) equals the reference exactly: {same}")
    for name, got, want in (("span", spans, set(gold.spans)), ("link", links, set(gold.links))):
        for item in sorted(want - got, key=str):
            print(f"    missing {name}: {item}")
        for item in sorted(got - want, key=str):
            print(f"    extra {name}: {item}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each action as it is sent")
    run(parser.parse_args().show)
