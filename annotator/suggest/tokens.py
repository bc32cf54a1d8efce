"""Tokens of one text for the rule engine: folded words, punctuation and quotation marks with stored offsets,
sentence ends, and the pairing of quotation marks (« » “ ” " ", reversed, nested, unbalanced)."""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from annotator.text import fold

# A number with its decimal point or clock colon (4.5، 3:58.41، ٣٫٥) is one word, so its '.' or ':' never ends a
# sentence or opens direct speech.
_TOKEN = regex.compile(r"(?P<w>[\p{L}\p{N}]+(?:[.,:٫٬][\p{N}]+)*)|(?P<n>\n)|(?P<p>\S)")
QUOTE_FAMILY = {"«": "guillemet", "»": "guillemet", "“": "curly", "”": "curly", "„": "curly", '"': "straight"}
OPENING = frozenset("«“„")
CLOSING = frozenset("»”")
SENTENCE_END = frozenset(".!?؟…")
CLAUSE_MARKS = frozenset("،,؛;")


@dataclass
class Tokens:
    """Parallel lists, one entry per token: ``kind`` ('w' word, 'p' punctuation, 'q' quotation mark, 'n' line
    break), ``form`` (folded), ``start``/``end`` (stored code points). ``pair[i]`` is the index of the mark that
    closes (or opens) quotation mark ``i``; an unclosed mark pairs with the end of its paragraph (``-1``)."""

    text: str
    kind: list[str]
    form: list[str]
    start: list[int]
    end: list[int]
    pair: dict[int, int]
    unclosed_end: dict[int, int]
    sentence_start: list[int] = field(default_factory=list)  # per token: the index its sentence starts at

    def __len__(self) -> int:
        return len(self.kind)

    def is_sentence_end(self, i: int) -> bool:
        k = self.kind[i]
        return k == "n" or (k == "p" and self.form[i] in SENTENCE_END)

    def is_opener(self, i: int) -> bool:
        return self.kind[i] == "q" and i in self.pair and (self.pair[i] == -1 or self.pair[i] > i)


def tokenize(text: str) -> Tokens:
    """Tokens of ``text`` (see :class:`Tokens`); matching happens on folded forms, offsets are stored ones."""
    folded = fold(text)
    starts = folded.starts
    kind, form, start, end = [], [], [], []
    for m in _TOKEN.finditer(folded.text):
        k = m.lastgroup
        f = m.group()
        if k == "p" and f in QUOTE_FAMILY:
            k = "q"
        kind.append(k[0])
        form.append(f)
        start.append(starts[m.start()])
        end.append(starts[m.end()])
    toks = Tokens(text, kind, form, start, end, {}, {})
    _pair_quotes(toks)
    first = 0
    for i in range(len(kind)):
        toks.sentence_start.append(first)
        if kind[i] == "n" or (kind[i] == "p" and form[i] in SENTENCE_END):
            first = i + 1
    return toks


def _role(toks: Tokens, i: int) -> str:
    """'open' or 'close' from the characters around the mark; the mark's own shape breaks ties."""
    text, s, e = toks.text, toks.start[i], toks.end[i]
    space_before = s == 0 or text[s - 1].isspace()
    space_after = e >= len(text) or text[e].isspace()
    open_ctx = (space_before or text[s - 1] in "([{:«“„—-/") and not space_after
    close_ctx = not space_before and (space_after or not text[e].isalnum())
    if open_ctx and not close_ctx:
        return "open"
    if close_ctx and not open_ctx:
        return "close"
    ch = toks.form[i]
    return "open" if ch in OPENING else "close" if ch in CLOSING else "toggle"


def _pair_quotes(toks: Tokens) -> None:
    """Pair marks of one family with a stack per family; a paragraph break closes whatever is still open."""
    stacks: dict[str, list[int]] = {}

    def flush(end_index: int) -> None:
        for stack in stacks.values():
            for i in stack:
                toks.pair[i] = -1
                toks.unclosed_end[i] = end_index
            stack.clear()

    for i, k in enumerate(toks.kind):
        if k == "n":
            flush(i)
            continue
        if k != "q":
            continue
        stack = stacks.setdefault(QUOTE_FAMILY[toks.form[i]], [])
        role = _role(toks, i)
        if role == "toggle":
            role = "close" if stack else "open"
        if role == "open":
            stack.append(i)
        elif stack:
            j = stack.pop()
            toks.pair[j] = i
            toks.pair[i] = j
    flush(len(toks))


def quote_inside(toks: Tokens, opener: int) -> tuple[int, int, int] | None:
    """``(start, end, last_index)`` of the words inside the quotation opened at token ``opener`` (marks
    excluded; an unclosed quotation runs to its paragraph's end without its final full stop); ``last_index``
    is the closing mark's index, or the last token inside an unclosed one. ``None`` when nothing is inside."""
    close = toks.pair.get(opener)
    if close is None:
        return None
    if close == -1:
        last = toks.unclosed_end[opener] - 1
        while last > opener and toks.kind[last] == "p" and toks.form[last] in SENTENCE_END:
            last -= 1
        if last <= opener:
            return None
        return toks.start[opener + 1], toks.end[last], last
    if close <= opener + 1:
        return None
    return toks.start[opener + 1], toks.end[close - 1], close
