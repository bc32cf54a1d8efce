"""The cue lexicon: a TSV of reporting forms (form, lemma, kind), parsed, checked and expanded with clitics and
regular inflections into folded surface forms the rule engine looks up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

from annotator.errors import NisbaError
from annotator.text import fold

LEXICON_FILE = Path(__file__).with_name("cues.tsv")
KINDS = ("verb", "participle", "passive", "phrase", "prep", "relay", "saying")
# Attached conjunctions: و and ف before any cue (وقال، فقال، ووفقا). ل marks purpose before a present verb (ليؤكد).
CONJUNCTIONS = ("", "و", "ف")
# Regular past-tense endings added to a verb form ending in a consonant: she, they (m.), they two (m./f.).
PAST_ENDINGS = ("ت", "وا", "ا", "تا")
_ARABIC_WORD = regex.compile(r"^[\p{Arabic}\p{M}\u0640]+(?: [\p{Arabic}\p{M}\u0640]+){0,3}$")
_WEAK_FINAL = frozenset("اىيو")


class LexiconError(NisbaError):
    """A lexicon line that cannot be used: names the line number and why."""


@dataclass(frozen=True)
class Cue:
    """One lexicon entry: ``form`` as written, its ``lemma`` and ``kind`` (see ``KINDS``)."""

    form: str
    lemma: str
    kind: str


def parse_line(line: str, number: int) -> Cue | None:
    """One TSV line as a :class:`Cue`, ``None`` for a blank line or a ``#`` comment; a malformed line raises
    :class:`LexiconError` naming ``number``."""
    stripped = line.rstrip("\r\n")
    if not stripped.strip() or stripped.lstrip().startswith("#"):
        return None
    cells = [c.strip() for c in stripped.split("\t")]
    if len(cells) != 3:
        raise LexiconError(f"Lexicon line {number}: expected 3 tab-separated cells (form, lemma, kind), got {len(cells)}.")
    form, lemma, kind = cells
    if kind not in KINDS:
        raise LexiconError(f"Lexicon line {number}: unknown kind {kind!r} (known: {', '.join(KINDS)}).")
    for name, value in (("form", form), ("lemma", lemma)):
        if not _ARABIC_WORD.match(value):
            raise LexiconError(f"Lexicon line {number}: the {name} {value!r} must be one to four Arabic words.")
    if kind in ("phrase", "relay") and " " not in form:
        raise LexiconError(f"Lexicon line {number}: a {kind} has several words (e.g. «جاء في»), got {form!r}.")
    return Cue(form, lemma, kind)


def parse_lexicon(text: str, *, first_line: int = 1) -> list[Cue]:
    """Every entry of a TSV lexicon text; the first malformed line raises :class:`LexiconError`."""
    cues = []
    for offset, line in enumerate(text.splitlines()):
        cue = parse_line(line, first_line + offset)
        if cue is not None:
            cues.append(cue)
    return cues


@lru_cache(maxsize=1)
def default_cues() -> tuple[Cue, ...]:
    """The lexicon shipped in ``cues.tsv``."""
    return tuple(parse_lexicon(LEXICON_FILE.read_text(encoding="utf-8")))


def lexicon_version(cues: tuple[Cue, ...]) -> str:
    """A short hash of the entries: it changes whenever a form is added, so caches keyed on it stay right."""
    blob = "\n".join(f"{c.form}\t{c.lemma}\t{c.kind}" for c in cues)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:10]


def _folded(s: str) -> str:
    return fold(s).text


def surface_forms(cue: Cue) -> set[tuple[str, str]]:
    """Folded forms of one entry as ``(form, clitic)``: regular inflections, then every clitic in front of the
    first word (``clitic`` is the attached letters, "" for none)."""
    words = _folded(cue.form).split(" ")
    head, rest = words[0], words[1:]
    heads = {head}
    # the lemma's own form is the past tense (قال، تابع، توقع): regular endings apply unless it ends weak (نفى، رأى)
    is_past = cue.form == cue.lemma
    if cue.kind == "verb" and is_past and head[-1] not in _WEAK_FINAL:
        heads |= {head + ending for ending in PAST_ENDINGS}
    out = set()
    for h in heads:
        prefixes = list(CONJUNCTIONS)
        if cue.kind == "verb" and not is_past and h[0] in "يت":  # a present tense: ليؤكد
            prefixes += ["ل", "ول"]
        for p in prefixes:
            out.add((" ".join([p + h, *rest]), p))
    return out


@dataclass(frozen=True)
class Lexicon:
    """Folded surface form (words joined by one space) → (the entry it came from, its clitic); ``longest`` is the
    number of words in the longest form."""

    forms: dict[str, tuple[Cue, str]]
    longest: int
    version: str
    heads: frozenset[str] = frozenset()  # first words of the forms with several words


@lru_cache(maxsize=32)
def build_lexicon(cues: tuple[Cue, ...]) -> Lexicon:
    """Expand ``cues`` into a lookup table (cached: the default lexicon is built once per process)."""
    forms: dict[str, tuple[Cue, str]] = {}
    expanded = [(form, clitic, cue) for cue in cues for form, clitic in surface_forms(cue)]
    # a listed form wins over the same letters read as clitic + another form (stable sort keeps file order)
    for form, clitic, cue in sorted(expanded, key=lambda x: len(x[1])):
        forms.setdefault(form, (cue, clitic))
    longest = max((f.count(" ") + 1 for f in forms), default=1)
    heads = frozenset(f.split(" ")[0] for f in forms if " " in f)
    return Lexicon(forms, longest, lexicon_version(cues), heads)
