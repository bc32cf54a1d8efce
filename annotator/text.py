"""Arabic text: the canonical form stored in the database, offset units, grapheme and word boundaries."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, starmap

import regex

from annotator.errors import InvalidText

# Invisible characters removed on the way in. They change how text is *displayed*, never what it says,
# and keeping them would make offsets depend on marks the analyst cannot see or select.
BIDI_CONTROLS = frozenset(
    "\u200e\u200f\u061c"  # LRM, RLM, ALM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
REMOVED = BIDI_CONTROLS | {"\u200b", "\ufeff"}  # zero-width space, BOM / ZWNBSP
# U+202E (right-to-left override) is the classic "Trojan source" trick: flag documents that had it.
SUSPICIOUS = frozenset("\u202e")
# C0 controls other than tab and newline (CR is handled first: CRLF and lone CR become LF).
_FORBIDDEN_C0 = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A)} | {"\x7f"}

_GRAPHEME = regex.compile(r"\X")
# A word: letters with their combining marks, tatweel, ZWNJ/ZWJ and digits, kept as one run.
_WORD_CHARS = r"\p{L}\p{M}\p{N}\u0640\u200c\u200d"
_WORD = regex.compile(f"[{_WORD_CHARS}]+")
_WORD_CHAR = regex.compile(f"[{_WORD_CHARS}]")
# Tokens for BIO export: words as above, or any single other non-space character (punctuation).
# A number with decimal or thousands separators (12.5, 4,200, ٣٫٥, ١٬٢٠٠), a time (3:58.41) or a percentage (12.5%,
# 40%) is one token, as common tokenizers keep it; a separator needs a digit on both sides, so "2024." still ends
# with a full stop. Then words, then each other character.
_NUMBER = r"\p{N}+(?:[.,:\u066b\u066c]\p{N}+)+%?(?![\p{L}\p{M}])|\p{N}+%"
_TOKEN = regex.compile(_NUMBER + r"|[\p{L}\p{M}\p{N}\u0640\u200c\u200d]+|[^\s\p{L}\p{M}\p{N}]")


@dataclass
class CanonicalText:
    """Text in canonical form plus what was changed to get there.

    ``to_canonical[i]`` is the canonical offset of raw code point ``i`` (length ``len(raw) + 1``),
    so offsets counted in the raw text can be mapped through canonicalisation.
    """

    text: str
    raw: str
    removed: dict[str, int] = field(default_factory=dict)
    suspicious: list[str] = field(default_factory=list)
    to_canonical: list[int] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    def metadata(self) -> dict:
        """What canonicalisation did, for the document's metadata JSON."""
        meta: dict = {}
        if self.removed:
            meta["removed_characters"] = dict(self.removed)
            meta["removed_count"] = sum(self.removed.values())
        if self.suspicious:
            meta["suspicious"] = list(self.suspicious)
        return meta

    @property
    def is_identity(self) -> bool:
        """True when canonicalisation changed nothing (offsets into ``raw`` are offsets into ``text``)."""
        return isinstance(self.to_canonical, _Identity)

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a raw ``[start, end)`` to canonical offsets (removed characters drop out of the span)."""
        return self.to_canonical[start], self.to_canonical[end]


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Identity:
    """``to_canonical`` of a text canonicalisation leaves unchanged: every offset maps to itself."""

    def __getitem__(self, i: int) -> int:
        return i


# Characters canonicalize() changes or refuses. Text without them (and already NFC) is its own canonical form.
_NEEDS_WORK = regex.compile("[\x00-\x08\x0b-\x1f\x7f\r\u200b\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def canonicalize(raw: str) -> CanonicalText:
    """Return the canonical form of ``raw``: NFC, LF newlines, bidi controls/ZWSP/BOM removed.

    Raises :class:`InvalidText` for NUL and other C0 control characters (tab and newline are fine).
    Harakat, tatweel, ZWNJ and ZWJ are kept. Offsets everywhere in Nisba are Python code points
    into the returned ``text``. Text already canonical (the common case) is returned with an identity
    offset map (``is_identity``) without the character-by-character walk.
    """
    if not isinstance(raw, str):
        raise InvalidText("text must be a string")
    # Every character the walk changes or refuses is unprintable (controls, format characters such as the bidi
    # marks, surrogates), so printable text (newlines aside) needs no regex scan: ~5x cheaper on large imports.
    probe = raw.replace("\n", " ") if "\n" in raw else raw
    if (probe.isprintable() or not _NEEDS_WORK.search(raw)) and unicodedata.is_normalized("NFC", raw):
        return CanonicalText(text=raw, raw=raw, to_canonical=_Identity())  # type: ignore[arg-type]
    return _canonical_walk(raw)


def _canonical_walk(raw: str) -> CanonicalText:
    """:func:`canonicalize` character by character, recording where every raw code point lands."""
    for i, ch in enumerate(raw):
        if ch in _FORBIDDEN_C0 and ch != "\r":
            name = "NUL" if ch == "\x00" else f"U+{ord(ch):04X}"
            raise InvalidText(f"text contains the control character {name} at position {i}")
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise InvalidText(f"text contains a lone surrogate U+{ord(ch):04X} at position {i}")
    # Walk the raw text once, recording where every raw code point lands. NFC is applied per
    # run of kept characters afterwards, so the mapping is built on the pre-NFC text and then
    # adjusted only when NFC changes length (rare for Arabic; exact for composed Latin too).
    kept: list[str] = []
    pre_map: list[int] = []
    removed: dict[str, int] = {}
    suspicious: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        pre_map.append(len(kept))
        if ch == "\r":
            kept.append("\n")
            if i + 1 < n and raw[i + 1] == "\n":
                i += 1
                pre_map.append(len(kept))  # the LF of CRLF maps past the single LF
                removed["CR"] = removed.get("CR", 0) + 1
            i += 1
            continue
        if ch in REMOVED:
            key = f"U+{ord(ch):04X}"
            removed[key] = removed.get(key, 0) + 1
            if ch in SUSPICIOUS and "U+202E right-to-left override" not in suspicious:
                suspicious.append("U+202E right-to-left override")
        else:
            kept.append(ch)
        i += 1
    pre_map.append(len(kept))
    pre = "".join(kept)
    text = unicodedata.normalize("NFC", pre)
    if text == pre:
        to_canonical = pre_map
    else:
        to_canonical = _compose_maps(pre_map, _nfc_map(pre))
    return CanonicalText(text=text, raw=raw, removed=removed, suspicious=suspicious, to_canonical=to_canonical)


def _nfc_map(pre: str) -> list[int]:
    """Offset map from ``pre`` to ``NFC(pre)``, normalising grapheme by grapheme."""
    out: list[int] = []
    pos = 0
    for m in _GRAPHEME.finditer(pre):
        g = m.group()
        ng = unicodedata.normalize("NFC", g)
        for k in range(len(g)):
            # characters inside a composed cluster map to its start, except the first
            out.append(pos if k == 0 else pos + min(k, len(ng)))
        pos += len(ng)
    out.append(pos)
    return out


def _compose_maps(first: list[int], second: list[int]) -> list[int]:
    return [second[i] for i in first]


def utf16_to_codepoint(text: str, offset16: int) -> int:
    """Convert a UTF-16 code-unit offset into ``text`` to a code-point offset."""
    units = 0
    for i, ch in enumerate(text):
        if units >= offset16:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def codepoint_to_utf16(text: str, offset: int) -> int:
    """Convert a code-point offset into ``text`` to a UTF-16 code-unit offset."""
    return offset + sum(1 for ch in text[:offset] if ord(ch) > 0xFFFF)


# ---- grapheme and word boundaries: the one implementation (snapping, span checks, imports, suggestions) --------
# The rule is the ``regex`` module's \X (extended grapheme clusters). The fast path answers from a per-character
# table: a character that joins the one before it (GB9, GB9a) makes the offset before it no boundary (unless a
# newline or tab precedes it), and between two plain characters every offset is one. Offsets next to the rarer
# rules' characters (prepend, regional-indicator pairs, Hangul jamo, emoji ZWJ sequences, Indic conjuncts,
# CR LF) are asked of \X over a 64-character window. Measured: an import checks two offsets per span, and the
# table answers ~98% of them in two dictionary lookups.
_JOINS = regex.compile(r"[\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}]")
_RARE = regex.compile(
    r"[\p{GCB=Prepend}\p{GCB=Regional_Indicator}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}"
    r"\p{Extended_Pictographic}\p{ccc=9}\r\u0900-\u0dff\u1000-\u109f\u1780-\u17ff\u1a20-\u1aaf\U00011000-\U00011fff]"
)
_PLAIN, _JOINING, _RARE_KIND = 0, 1, 2
_KIND: dict[str, int] = {}  # per character, filled as characters are met
_PLAIN_CHARS: set[str] = set()  # characters met so far whose kind is _PLAIN


def _kind(c: str) -> int:
    k = _KIND.get(c)
    if k is None:
        k = _KIND[c] = _JOINING if _JOINS.match(c) else _RARE_KIND if _RARE.match(c) else _PLAIN
        if k == _PLAIN:
            _PLAIN_CHARS.add(c)
    return k


def is_grapheme_boundary(text: str, i: int) -> bool:
    """True when offset ``i`` does not split a grapheme cluster (a letter from its harakat, an emoji sequence):
    the answer of ``regex``'s ``\\X``, mostly without running it. Offsets outside the text count as boundaries."""
    if i <= 0 or i >= len(text):
        return True
    kc = _kind(text[i])
    if kc == _JOINING:
        return text[i - 1] in "\n\t"
    if kc == _PLAIN and _kind(text[i - 1]) != _RARE_KIND:
        return True
    lo = max(0, i - 32)
    return any(m.start() == i for m in _GRAPHEME.finditer(text, lo, min(len(text), i + 32)))


def on_grapheme_boundaries(text: str, offsets: list[int]) -> bool:
    """True when every offset is a grapheme boundary (:func:`is_grapheme_boundary`), asking it only where the
    characters either side are not both known plain ones (then the answer is always yes): imports check every
    span end of a file at once."""
    n, plain = len(text), _PLAIN_CHARS
    return all(is_grapheme_boundary(text, i) for i in offsets if 0 < i < n and (text[i] not in plain or text[i - 1] not in plain))


def is_word_char(c: str) -> bool:
    """True for a character that belongs to a word: letters, combining marks, digits, tatweel, ZWNJ/ZWJ."""
    return _WORD_CHAR.match(c) is not None


def word_edges(text: str, start: int, end: int) -> int:
    """How many of ``[start, end)``'s two ends fall between words (0, 1 or 2)."""
    return sum(1 for p in (start, end) if p <= 0 or p >= len(text) or not (is_word_char(text[p - 1]) and is_word_char(text[p])))


class Boundaries:
    """Word boundaries of one text, and snapping selections to graphemes and words."""

    def __init__(self, text: str):
        self.text = text
        self.words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        self.word_starts = [w[0] for w in self.words]

    def snap_grapheme(self, start: int, end: int) -> tuple[int, int]:
        """Widen ``[start, end)`` so neither end splits a grapheme cluster (letter + harakat)."""
        text = self.text
        s = max(0, start)
        while s > 0 and not is_grapheme_boundary(text, s):
            s -= 1
        e = min(len(text), end)
        while e < len(text) and not is_grapheme_boundary(text, e):
            e += 1
        return s, e

    def snap_words(self, start: int, end: int) -> tuple[int, int]:
        """Widen ``[start, end)`` to whole words, then trim surrounding spaces."""
        s, e = self.snap_grapheme(start, end)
        # the word starting last at or before s, and the one starting last before e (bisect: a long article
        # has 15,000 words, and a linear walk cost 7 ms per save)
        i = bisect_right(self.word_starts, s) - 1
        if i >= 0 and self.words[i][0] < s < self.words[i][1]:
            s = self.words[i][0]
        j = bisect_left(self.word_starts, e) - 1
        if j >= 0 and self.words[j][0] < e < self.words[j][1]:
            e = self.words[j][1]
        while s < e and self.text[s].isspace():
            s += 1
        while e > s and self.text[e - 1].isspace():
            e -= 1
        return s, e


@lru_cache(maxsize=4)
def boundaries(text: str) -> Boundaries:
    """The :class:`Boundaries` of ``text``, cached for the last few texts: scanning a 100,000-character
    document costs tens of ms, and the annotation screen snaps and checks every save on the same text."""
    return Boundaries(text)


def snap(text: str, start: int, end: int, *, words: bool = True) -> tuple[int, int]:
    """Snap a selection to grapheme clusters, and to whole words when ``words`` is true."""
    b = boundaries(text)
    return b.snap_words(start, end) if words else b.snap_grapheme(start, end)


def tokenize(text: str) -> list[tuple[int, int]]:
    """Tokens as ``(start, end)`` code-point offsets: words keep their marks, tatweel and attached
    clitics; numbers keep their separators and percent sign; each other punctuation character is its own token."""
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


def context(text: str, start: int, end: int, words: int = 5) -> tuple[str, str]:
    """Up to ``words`` words before and after ``[start, end)``, for exports and review."""
    before = text[:start].split()
    after = text[end:].split()
    return " ".join(before[-words:]), " ".join(after[:words])


# ---- folding: one normalisation for search, suggestions and any comparison that ignores spelling variants
# Harakat (U+064B-U+065F), superscript alef (U+0670), Quranic marks (U+06D6-U+06ED), tatweel and ZWNJ/ZWJ are
# dropped; hamza-carrying alefs and alef wasla become bare alef. ى→ي and ة→ه are options (writers and keyboards
# vary; on by default). Latin letters are lower-cased.
_FOLD_DROP = frozenset(
    [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640", "\u200c", "\u200d"] + [chr(c) for c in range(0x06D6, 0x06EE)]
)
_FOLD_ALEF = {"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627"}
# stdlib re, not regex: a plain character class is searched several times faster (0.11 s against 0.49 s per
# 2 million characters with harakat)
_FOLD_DROP_RE = re.compile("[" + "".join(sorted(_FOLD_DROP)) + "]")
_FOLD_KEEP_RE = re.compile("[^" + "".join(sorted(_FOLD_DROP)) + "]+")


@dataclass
class Folded:
    """Folded text and the way back: ``starts[i]`` is the stored offset of folded character ``i``;
    ``starts[len(text)]`` is the stored text's length. Build with :func:`fold`."""

    text: str
    starts: list[int]

    def to_stored(self, start: int, end: int) -> tuple[int, int]:
        """Map folded ``[start, end)`` to stored code points. The end runs up to the next kept character, so
        harakat after the last letter stay with it (a letter never loses its marks)."""
        if end <= start:
            raise ValueError("empty range")
        return self.starts[start], self.starts[end]


@lru_cache(maxsize=16)
def _fold_table(ya: bool, ta: bool) -> dict[int, str]:
    table = {ord(k): v for k, v in _FOLD_ALEF.items()}
    if ya:
        table[ord("\u0649")] = "\u064a"
    if ta:
        table[ord("\u0629")] = "\u0647"
    return table


def fold_char(ch: str, *, ya: bool = True, ta: bool = True) -> str:
    """One stored character folded: ``""`` when folding drops it, else one character."""
    if ch in _FOLD_DROP:
        return ""
    out = ch.translate(_fold_table(ya, ta))
    low = out.lower()
    return low if len(low) == 1 else out


def _fold_kept(text: str, ya: bool, ta: bool) -> str:
    """Dropped characters removed, letters unified, lower-cased: one ``str.replace`` per letter form, which
    runs several times faster than ``str.translate`` on Arabic (0.13 s against 0.33 s for 2 million
    characters here)."""
    kept = _FOLD_DROP_RE.sub("", text)
    for old, new in _fold_table(ya, ta).items():
        kept = kept.replace(chr(old), new)
    return kept


def fold(text: str, *, ya: bool = True, ta: bool = True) -> Folded:
    """Fold ``text`` for matching: harakat, tatweel, ZWNJ/ZWJ removed, أ إ آ ٱ → ا, optionally ى → ي and
    ة → ه, Latin lower-cased; with the offset map back to ``text`` (see :class:`Folded`).

    Every folded character comes from exactly one stored character, so a match in the folded text maps back
    to a stored range whose slice is what the analyst sees."""
    kept = _fold_kept(text, ya, ta)
    low = kept.lower()
    if len(low) == len(kept):  # lower() lengthened nothing (it can: İ → i̇), so whole-text folding is exact
        if len(kept) == len(text):  # nothing dropped: offsets are the identity
            return Folded(low, list(range(len(text) + 1)))
        starts = list(chain.from_iterable(starmap(range, (m.span() for m in _FOLD_KEEP_RE.finditer(text)))))
        starts.append(len(text))
        return Folded(low, starts)
    chars: list[str] = []
    starts = []
    for i, ch in enumerate(text):
        f = fold_char(ch, ya=ya, ta=ta)
        if f:
            chars.append(f)
            starts.append(i)
    starts.append(len(text))
    return Folded("".join(chars), starts)


def fold_text(text: str, *, ya: bool = True, ta: bool = True) -> str:
    """``fold(text).text`` without the offset map (the search index folds every document and span)."""
    kept = _fold_kept(text, ya, ta)
    low = kept.lower()
    return low if len(low) == len(kept) else fold(text, ya=ya, ta=ta).text
