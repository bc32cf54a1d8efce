"""Search the corpus as Arabic is written: folded words, phrases and parts of words, reported in stored offsets.

The text of every document is folded by :func:`annotator.text.fold` (harakat, tatweel, alef forms, ى/ة) and
indexed with FTS5 (see ``schema.m_search_index``); the index picks the documents that contain every term, the hits
are found again in their folded text and mapped back, so ``text[start:end]`` of every hit is exactly what the
analyst sees highlighted. A search restricted to spans keeps the hits inside them. Who may search what is checked here: an annotator in a blind project searches only their
own spans and gold.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import regex

from annotator import access
from annotator.errors import InvalidLabel, InvalidQuery, PermissionDenied
from annotator.exporting import context_words
from annotator.labels import SOURCE
from annotator.models import User
from annotator.store import Store
from annotator.text import fold, fold_text

DEFAULT_PAGE_SIZE = 50
# each term is one more pass over the matching texts: a pasted paragraph is refused, not scanned 300 times
MAX_TERMS = 20
CONTEXT_WORDS = 6
# What FTS5's unicode61 tokenizer (remove_diacritics 0) keeps inside a token: letters, digits, private use and
# the Latin combining accents; everything else, Arabic marks included, separates tokens. Folding has already
# dropped the Arabic marks, so a hit found with this class is a hit the index found.
_TOKEN_CHARS = r"\p{L}\p{N}\p{Co}\u0300-\u036f"
_TOKEN = regex.compile(f"[{_TOKEN_CHARS}]+")


# Substring mode looks for something written, not only letters: an emoji or a symbol counts.
_SEARCHABLE = regex.compile(r"[^\p{P}\p{Z}\p{M}\s\u0640\u200c\u200d]")
# A part of a word made of these characters lies inside one term of the word index, unchanged: unicode61 keeps
# them in tokens and does not fold them (checked over every code point in tests/test_search.py). Its combining
# accents, and the few letters unicode61 folds further than str.lower() (µ, ſ, ς, ϐ…), are left out: a part
# holding one is searched by reading every text.
_IN_ONE_TERM = regex.compile(
    r"(?V1)[[\p{L}\p{N}\p{Co}]--[\xb5\u017f\u03c2\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5\u19b0-\u19c0\u19c8\u19c9"
    r"\u1cf2\u1cf3\u1e9b\u1fbe]]+"
)
# Shorter parts are inside most documents' words (two letters: 4,941 of 5,000): looking them up would only add to
# reading every text. Likewise more terms than this, or terms in more than this share of the documents (their
# texts read by id cost as much as all of them: 4,171 of 5,000 took 155-183 ms against 115-128 ms).
MIN_PART_IN_TERMS = 3
MAX_TERMS_FOR_PART = 200
MAX_SHARE_FOR_PART = 0.5
# The article after the preposition li- loses its alef: ل + الوزارة is written للوزارة. A part-of-a-word term
# starting with the article also matches that form (the hit starts at the article's lam).
_ARTICLE = "\u0627\u0644"


@dataclass(frozen=True)
class Term:
    """One word, phrase or part of a word to look for: as typed, folded, and ``tokens`` as the word index
    splits it."""

    raw: str
    folded: str
    tokens: tuple[str, ...]

    def variants(self, substring: bool) -> list[str]:
        """The folded forms looked for: the term, and (part of a word) without the article's alef."""
        if substring and self.folded.startswith(_ARTICLE) and len(self.folded) > len(_ARTICLE):
            return [self.folded, self.folded[1:]]
        return [self.folded]


@dataclass(frozen=True)
class Query:
    """A parsed query: terms (all must occur), the mode and the folding options."""

    text: str
    terms: tuple[Term, ...]
    substring: bool = False
    ya: bool = True
    ta: bool = True

    def words(self) -> list[tuple[str, ...]] | None:
        """For the word index: each term's folded words (a phrase when several); None in part-of-a-word mode (see
        :meth:`contains`)."""
        return None if self.substring else [t.tokens for t in self.terms]

    def contains(self) -> list[list[str]]:
        """Part-of-a-word mode: for each term, the folded forms one of which a text must contain (instr())."""
        return [t.variants(True) for t in self.terms] if self.substring else []

    def patterns(self, *, ya: bool = True, ta: bool = True) -> list[tuple[regex.Pattern, int]]:
        """(pattern, skip) per form of each term over folded text (with these folding options): a whole-word
        phrase, or the literal part of a word; the hit is the match without its first ``skip`` characters. Each
        is a plain literal the regex engine searches fast (an alternation, or a literal in a group, is scanned
        character by character: 190 ms against 10 ms over 8 million characters)."""
        out = []
        for t in self.terms:
            folded = fold_text(t.raw, ya=ya, ta=ta)
            if self.substring:
                body = folded.strip()
                out.append((regex.compile(regex.escape(body)), 0))
                if len(t.variants(True)) > 1:  # ال… also after a lam that ate the alef: «للوزارة», hit from its 2nd lam
                    out.append((regex.compile(regex.escape("\u0644" + body[1:])), 1))
                continue
            words = _TOKEN.findall(folded)
            body = f"[^{_TOKEN_CHARS}]+".join(map(regex.escape, words))
            out.append((regex.compile(f"(?<![{_TOKEN_CHARS}]){body}(?![{_TOKEN_CHARS}])"), 0))
        return out


def _split_terms(text: str) -> list[str]:
    """Words, and phrases in double quotes (an unclosed quote runs to the end)."""
    out: list[str] = []
    for i, part in enumerate(text.split('"')):
        if i % 2:
            if part.strip():
                out.append(" ".join(part.split()))
        else:
            out += part.split()
    return out


def parse_query(text: str, *, substring: bool = False, ya: bool = True, ta: bool = True) -> Query:
    """Parse what the analyst typed. Raises :class:`InvalidQuery` for an empty query or one with no letter or
    digit (punctuation, harakat or tatweel alone)."""
    terms = []
    for raw in _split_terms(text or ""):
        folded = fold_text(raw)  # the index is folded with ya and ta on; stricter options filter afterwards
        tokens = tuple(_TOKEN.findall(folded))
        if substring and _SEARCHABLE.search(folded):
            terms.append(Term(raw, folded.strip(), tokens))
        elif tokens:  # punctuation alone is nothing the word index holds: dropped from the query
            terms.append(Term(raw, " ".join(tokens), tokens))
    if len(terms) > MAX_TERMS:
        raise InvalidQuery(f"Search for at most {MAX_TERMS} words or phrases at once (this query has {len(terms)}).")
    if not terms:
        if not (text or "").strip():
            raise InvalidQuery("Type a word to search for.")
        raise InvalidQuery(f"«{text.strip()}» has no letters or digits to search for.")  # the page shows it as text
    return Query(text=text, terms=tuple(terms), substring=substring, ya=ya, ta=ta)


@dataclass(frozen=True, slots=True)
class Hit:
    """One place in a document: ``text == document.text[start:end]`` (stored code points)."""

    document_id: int
    title: str
    start: int
    end: int
    text: str
    before: str
    after: str
    span_id: int | None = None

    @property
    def context(self) -> str:
        """The hit with a few words either side, as one line of plain text."""
        return " ".join(p for p in (self.before, self.text, self.after) if p)


@dataclass
class SearchResult:
    """A page of hits and how many there are in all (``total`` hits in ``documents`` documents)."""

    query: Query
    total: int
    documents: int
    page: int
    page_size: int
    hits: list[Hit] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages of ``page_size`` hits there are (at least one, so an empty result has a page to show)."""
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1


@dataclass(frozen=True)
class _Unit:
    """A document the index matched, with its folded text; ``span_id`` names the span a restricted search found
    the hit in."""

    document_id: int
    span_id: int | None
    folded: str


def _find(folded: str, patterns: list[tuple[regex.Pattern, int]]) -> list[tuple[int, int]]:
    """Hits of any pattern in folded text, in order; a hit inside or across an earlier one is dropped."""
    if len(patterns) == 1 and not patterns[0][1]:  # one pattern: finditer's matches never overlap
        return [m.span() for m in patterns[0][0].finditer(folded)]
    found = sorted({(m.start() + k, -m.end()) for p, k in patterns for m in p.finditer(folded)})  # longest first
    out: list[tuple[int, int]] = []
    for start, neg_end in found:
        if not out or start >= out[-1][1]:
            out.append((start, -neg_end))
    return out


def _find_in_documents(units: list[_Unit], patterns: list[tuple[regex.Pattern, int]]) -> list[tuple[_Unit, int, int]]:
    """:func:`_find` over many documents at once: their folded texts joined by newlines (no term holds one, and
    a word ends there), each pattern run once over the whole, hits placed back by bisection. One regex call per
    pattern instead of one per document: 25 ms against 80 ms for 4,000 documents."""
    starts, pos = [], 0
    for u in units:
        starts.append(pos)
        pos += len(u.folded) + 1
    found = _find("\n".join(u.folded for u in units), patterns)
    out = []
    for fs, fe in found:
        i = bisect_right(starts, fs) - 1
        out.append((units[i], fs - starts[i], fe - starts[i]))
    return out


def _check_scope(store: Store, user: User, project_id: int, label: str | None, annotator_id: int | None) -> bool:
    """Refuse another annotator's layer in a blind project and labels of other projects; returns whether the
    user sees every layer."""
    sees_all = access.can_see_others(store, user, project_id)
    if annotator_id is not None and annotator_id != user.id and not sees_all:
        raise PermissionDenied("Annotation is blind in this project: you can search only your own spans.")
    if label is not None and label not in {lab.name for lab in store.list_labels(project_id)}:
        raise InvalidLabel(f"This project has no label {label!r}.")
    return sees_all


def _documents(store: Store, project_id: int, q: Query, document_ids) -> list[_Unit]:
    """The project's documents (or some of them) that contain every term, in reading order."""
    contains = q.contains()
    if contains:  # parts of words: the folded texts read once and searched by Python's str.find, which
        # runs several times faster than SQLite's instr() (20 ms against 110 ms over 10 million characters)
        candidates = _documents_with_parts(store, contains)
        if candidates is not None:
            document_ids = [d for d in (candidates if document_ids is None else document_ids) if d in candidates]
            if not document_ids:
                return []
        rows = [
            (doc, folded)
            for doc, folded in store.search_documents(project_id, None, document_ids=document_ids)
            if all(any(form in folded for form in forms) for forms in contains)
        ]
    else:
        rows = store.search_documents(project_id, q.words(), document_ids=document_ids)
        if not store.has_word_index:  # candidates hold each word somewhere, maybe inside another: keep whole words
            patterns = [pattern for pattern, _skip in q.patterns()]
            rows = [(doc, folded) for doc, folded in rows if all(p.search(folded) for p in patterns)]
    return [_Unit(doc, None, folded) for doc, folded in rows]


def _documents_with_parts(store: Store, contains: list[list[str]]) -> set[int] | None:
    """The documents that may hold every term of a part-of-a-word query, found through the word index's
    vocabulary: a part inside one word occurs only in documents whose index holds a term containing it. Only
    their texts are then read (reading every text was ~100 ms of a 140 ms search over 5,000 documents). None
    when no term of the query can be looked up so (a space or a mark in it, too short, in too many terms or
    documents): then every text is read. The caller checks each candidate's text as before, so the hits are the same."""
    usable = [forms for forms in contains if all(len(f) >= MIN_PART_IN_TERMS and _IN_ONE_TERM.fullmatch(f) for f in forms)]
    if not usable:
        return None
    index = store.word_index_terms()
    if index is None:
        return None
    terms, rows = index
    out: set[int] | None = None
    for forms in usable:  # a document must hold every term of the query: one of its forms each
        found = [(t, n) for t, n in terms if any(f in t for f in forms)]
        if len(found) > MAX_TERMS_FOR_PART or sum(n for _t, n in found) > MAX_SHARE_FOR_PART * rows:
            continue  # this term narrows too little: the others may still
        docs = store.documents_holding_any([t for t, _n in found])
        out = docs if out is None else out & docs
    return out


def _located(units: list[_Unit], q: Query) -> list[tuple[_Unit, int, int]]:
    """Every hit in the documents as (unit, folded start, folded end), in reading order."""
    return _find_in_documents(units, q.patterns()) if units else []


def _within(store: Store, project_id: int, q: Query, spans: list[tuple[int, int, int, int]]) -> list[tuple[_Unit, int, int]]:
    """The hits of ``q`` that lie inside one of ``spans`` ((span id, document id, start, end)), each once, with the
    first span holding it: found in the documents, placed in stored offsets, kept when inside."""
    by_doc: dict[int, list[tuple[int, int, int]]] = {}
    for sid, doc, start, end in spans:
        by_doc.setdefault(doc, []).append((start, end, sid))
    if not by_doc:
        return []
    located = _located(_documents(store, project_id, q, list(by_doc)), q)
    texts = store.document_titles_and_texts({u.document_id for u, _, _ in located})
    folds: dict[int, object] = {}
    out = []
    for u, fs, fe in located:
        if u.document_id not in folds:
            folds[u.document_id] = fold(texts[u.document_id][1])
        s, e = folds[u.document_id].to_stored(fs, fe)
        sid = next((i for a, b, i in by_doc[u.document_id] if a <= s and e <= b), None)
        if sid is not None:
            out.append((_Unit(u.document_id, sid, u.folded), fs, fe))
    return out


def _units(store: Store, user: User, project_id: int, q: Query, *, document_ids, label, source, annotator_id) -> list:
    """Every hit as (unit, folded start, folded end): in the documents, or inside the spans a label, a source
    or an annotator's layer restricts the search to."""
    sees_all = _check_scope(store, user, project_id, label, annotator_id)
    if label is None and source is None and annotator_id is None:
        return _located(_documents(store, project_id, q, document_ids), q)
    visible_to = None if sees_all else user.id
    attributed_to = None
    if source is not None:  # SOURCE spans holding a hit of the name, as the user may see them
        sources = store.restriction_spans(project_id, label_kinds=[SOURCE], visible_to=visible_to)
        attributed_to = sorted({u.span_id for u, _, _ in _within(store, project_id, parse_query(source), sources)})
    spans = store.restriction_spans(
        project_id, document_ids=document_ids, labels=None if label is None else [label], annotator_id=annotator_id,
        visible_to=visible_to, attributed_to=attributed_to,
    )  # fmt: skip
    return _within(store, project_id, q, spans)


def _hits(store: Store, located: list[tuple[_Unit, int, int]]) -> list[Hit]:
    """Map folded hits to stored offsets, with title and context."""
    docs = store.document_titles_and_texts({u.document_id for u, _, _ in located})
    folds: dict[int, object] = {}
    out = []
    for u, fs, fe in located:
        title, text = docs[u.document_id]
        if u.document_id not in folds:
            folds[u.document_id] = fold(text)
        s, e = folds[u.document_id].to_stored(fs, fe)
        before, after = context_words(text, s, e, CONTEXT_WORDS)
        out.append(Hit(u.document_id, title, s, e, text[s:e], before, after, u.span_id))
    return out


def _strict(hits: list[Hit], q: Query) -> list[Hit]:
    """With ى/ي or ة/ه told apart, keep the hits whose stored text still matches a term."""
    patterns = q.patterns(ya=q.ya, ta=q.ta)
    return [h for h in hits if any(_whole(p, g, fold_text(h.text, ya=q.ya, ta=q.ta)) for p, g in patterns)]


def _whole(pattern: regex.Pattern, skip: int, text: str) -> bool:
    """Whether ``text`` is, all of it, what ``pattern`` would highlight (after skipping ``skip`` characters)."""
    return pattern.fullmatch("\u0644" * skip + text) is not None  # only the lam before «لوزارة» is ever skipped


def find_hits(
    store: Store, actor: User | None, project_id: int, query: str, *, substring: bool = False, document_ids=None,
    label: str | None = None, source: str | None = None, annotator_id: int | None = None, ya: bool = True, ta: bool = True,
) -> list[Hit]:  # fmt: skip
    """Every hit of ``query`` in the project, in reading order (see :func:`search` for the parameters)."""
    user = access.require_project(store, actor, project_id)
    q = parse_query(query, substring=substring, ya=ya, ta=ta)
    located = _units(store, user, project_id, q, document_ids=document_ids, label=label, source=source, annotator_id=annotator_id)
    hits = _hits(store, located)
    return hits if (ya and ta) else _strict(hits, q)


def search(
    store: Store, actor: User | None, project_id: int, query: str, *, substring: bool = False, document_ids=None,
    label: str | None = None, source: str | None = None, annotator_id: int | None = None, ya: bool = True, ta: bool = True,
    page: int = 0, page_size: int = DEFAULT_PAGE_SIZE,
) -> SearchResult:  # fmt: skip
    """One page of the hits of ``query`` in a project the actor may read, and how many there are.

    ``query``: words (all must occur) and "phrases in double quotes"; ``substring``: terms may be parts of words
    («الوزارة» finds «بالوزارة»). Restrictions: ``document_ids``; ``label`` (hits inside spans of that label);
    ``source`` (inside spans attributed to a SOURCE span matching it); ``annotator_id`` (inside that annotator's
    layer; refused for another annotator in a blind project). A blind annotator's span searches see only their
    own spans and gold. ``ya``/``ta`` false tell ى from ي and ة from ه. ``page`` counts from 0.
    Raises InvalidQuery, InvalidLabel, PermissionDenied, NotFound.
    """
    user = access.require_project(store, actor, project_id)
    q = parse_query(query, substring=substring, ya=ya, ta=ta)
    page_size = max(1, int(page_size))
    single_words = all(len(t.tokens) == 1 for t in q.terms)  # phrases: the index finds their few documents faster
    plain = label is None and source is None and annotator_id is None
    if store.has_word_index and not substring and single_words and ya and ta and plain:
        return _word_page(store, q, project_id, document_ids, page, page_size)
    located = _units(store, user, project_id, q, document_ids=document_ids, label=label, source=source, annotator_id=annotator_id)
    if not (ya and ta):  # telling letters apart needs the stored text of every candidate: map them all
        hits = _strict(_hits(store, located), q)
        total, docs = len(hits), len({h.document_id for h in hits})
        page = _clamp(page, total, page_size)
        return SearchResult(q, total, docs, page, page_size, hits[page * page_size : (page + 1) * page_size])
    total = len(located)
    page = _clamp(page, total, page_size)
    shown = _hits(store, located[page * page_size : (page + 1) * page_size])
    return SearchResult(q, total, len({u.document_id for u, _, _ in located}), page, page_size, shown)


def _clamp(page: int, total: int, page_size: int) -> int:
    return min(max(0, page), max(0, math.ceil(total / page_size) - 1))


def _word_counts(store: Store, q: Query, order: dict[int, int]) -> list[tuple[int, int]]:
    """(document id, hits) of a query of single words in reading order, counted by the word index: a document
    counts when every word is in it."""
    per_term = [{d: n for d, n in store.word_counts(t.tokens[0]).items() if d in order} for t in q.terms]
    docs = set(per_term[0]).intersection(*per_term[1:])
    return sorted(((d, sum(c[d] for c in per_term)) for d in docs), key=lambda dn: order[dn[0]])


def _word_page(store: Store, q: Query, project_id: int, document_ids, page: int, page_size: int) -> SearchResult:
    """A page of a plain word search: counted from the index's positions, and only the documents of the page
    read and matched (a frequent word: 4,500 hits in 3,000 documents counted without reading them)."""
    counts = _word_counts(store, q, store.project_document_order(project_id, document_ids))
    total = sum(n for _d, n in counts)
    page = _clamp(page, total, page_size)
    first, last = page * page_size, (page + 1) * page_size
    wanted, seen, skip = [], 0, 0
    for doc, n in counts:
        if seen + n > first and seen < last:
            if not wanted:
                skip = first - seen
            wanted.append(doc)
        seen += n
    folded = store.folded_documents(wanted)
    units = [_Unit(doc, None, folded[doc]) for doc in wanted if doc in folded]
    located = _located(units, q)[skip : skip + page_size]
    return SearchResult(q, total, len(counts), page, page_size, _hits(store, located))


@dataclass(frozen=True)
class SearchScope:
    """What the actor may restrict a search to in a project: label names, layers (annotator id → name; only
    their own in a blind project) and documents (id → title)."""

    labels: list[str]
    annotators: dict[int, str]
    documents: dict[int, str]


def search_scope(store: Store, actor: User | None, project_id: int) -> SearchScope:
    """The restrictions offered on the Search page, as the core allows them to this actor."""
    user = access.require_project(store, actor, project_id)
    if access.can_see_others(store, user, project_id):
        annotators = {uid: name for uid, name in store.project_annotators(project_id)}
    else:
        annotators = {user.id: user.username}
    documents = {row["id"]: row["title"] for row in store.document_overview(project_id, None)}
    return SearchScope([lab.name for lab in store.list_labels(project_id)], annotators, documents)


def kwic_rows(hits: list[Hit]) -> list[dict]:
    """Keyword-in-context rows for a right-to-left table: what follows the hit, the hit, what precedes it
    (so, read from the right, the sentence runs on), then the title; with the offsets to open it."""
    return [
        {"after": h.after, "hit": h.text, "before": h.before, "title": h.title, "document_id": h.document_id,
         "start": h.start, "end": h.end}
        for h in hits
    ]  # fmt: skip
