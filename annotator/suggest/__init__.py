"""Suggested attributions: a rule engine over a cue lexicon proposes CUE, SOURCE, CLAIM and QUOTE spans with
their links, for the annotator to accept or dismiss. Pure Python, deterministic, no network.

``suggest(text)`` returns :class:`Suggestion` objects; every one obeys ``text[start:end] == suggestion.text``
and never splits a letter from its harakat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from annotator.suggest.lexicon import Cue, LexiconError, build_lexicon, default_cues, parse_lexicon

ENGINE = "rules"
RULES_VERSION = "1"

__all__ = ["ENGINE", "Cue", "LexiconError", "Suggestion", "engine_version", "parse_lexicon", "suggest"]


@dataclass(frozen=True)
class Suggestion:
    """One suggested span. ``key`` ("LABEL:start:end") is stable for the same text and lexicon; ``links`` are
    ``(link_type, target_key)`` pairs from this span (a CLAIM or QUOTE) to a SOURCE (``attributed_to``) or a
    CUE (``cue``) of the same suggestion list."""

    key: str
    label: str
    start: int
    end: int
    text: str
    engine: str
    engine_version: str
    links: tuple[tuple[str, str], ...] = ()
    attributes: dict = field(default_factory=dict)


def _cues(extra: Iterable[Cue] = ()) -> tuple[Cue, ...]:
    return default_cues() + tuple(extra)


def engine_version(extra_cues: Iterable[Cue] = ()) -> str:
    """The rules' version and the lexicon's hash, e.g. ``"1+3fa9c2d01e"``: it changes with a project's added cues."""
    return f"{RULES_VERSION}+{build_lexicon(_cues(extra_cues)).version}"


def suggest(text: str, extra_cues: Iterable[Cue] = ()) -> list[Suggestion]:
    """Rule suggestions for ``text`` (stored, canonical text), in reading order (start, end, label).

    ``extra_cues`` are a project's additions to the shipped lexicon (see :func:`parse_lexicon`).
    """
    from annotator.suggest.rules import run_rules

    cues = _cues(extra_cues)
    lexicon = build_lexicon(cues)
    version = f"{RULES_VERSION}+{lexicon.version}"
    draft = run_rules(text, lexicon)
    links: dict[str, list[tuple[str, str]]] = {}
    for src, link_type, dst in sorted(draft.links):
        if dst in draft.spans:
            links.setdefault(src, []).append((link_type, dst))
    out = [
        Suggestion(key, label, s, e, text[s:e], ENGINE, version, tuple(links.get(key, ())), dict(attrs))
        for key, (label, s, e, attrs) in draft.spans.items()
    ]
    out.sort(key=lambda x: (x.start, x.end, x.label))
    return out
