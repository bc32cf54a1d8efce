"""The rule engine: reporting cues from the lexicon, their sources and contents, and quotations, suggested as
CUE, SOURCE, CLAIM and QUOTE spans with ``attributed_to`` and ``cue`` links. Pure Python, deterministic.

The conventions are those of the dev set (tests/fixtures/attribution-dev.README.md): a CUE keeps its attached
و/ف but not the following أن or governed preposition; a SOURCE stops at the first comma; a CLAIM is the clause
after أن/إن/بأن (أنه/إنه left out as a whole) or the clause a بحسب phrase supports; a QUOTE is the words inside
the marks; direct speech gets a CLAIM and a QUOTE of the same extent.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from annotator.suggest import words as W
from annotator.suggest.lexicon import Cue, Lexicon
from annotator.suggest.tokens import CLAUSE_MARKS, Tokens, quote_inside, tokenize
from annotator.text import boundaries, fold, is_grapheme_boundary

MAX_SOURCE_WORDS = 12  # longest source in the dev set: 8 words (رئيس قسم الأنف والأذن والحنجرة الدكتور جاد معلوف)
MAX_CUE_TO_CONTENT = 30  # tokens between a cue and its أن (a source, a comma-delimited relay, an occasion)
CLAUSE_CUE_REACH = 3  # a comma ends a claim when a cue follows within this many words (، مشيرا إلى …؛ غير أنه حذر)
MAX_CLAIM_TOKENS = 160  # longest claim in the dev and probe sets: 43 tokens; past this, no claim (keeps it linear)
CONTRAST_CUE_REACH = 8  # … after غير أن / بينما / لكن, whose new subject comes first (، غير أن نوابا معارضين رأوا …)


@lru_cache(maxsize=512)
def _folded(word: str) -> str:
    return fold(word).text


@dataclass
class Found:
    """A cue occurrence: tokens ``[i, j)``, its lexicon entry and attached clitic."""

    i: int
    j: int
    cue: Cue
    clitic: str


@dataclass
class Content:
    """What a cue introduces: the keys of its CLAIM/QUOTE suggestions and the tokens the claim covers."""

    keys: list[str]
    first: int
    last: int


@dataclass
class Draft:
    """The suggestions being built: spans by key and the links between them."""

    text: str
    spans: dict[str, tuple[str, int, int, dict]] = field(default_factory=dict)
    links: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, label: str, start: int, end: int, attributes: dict | None = None) -> str | None:
        """Add a span (whitespace trimmed, widened to whole graphemes); returns its key, None if empty."""
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            return None
        if not (is_grapheme_boundary(text, start) and is_grapheme_boundary(text, end)):
            start, end = boundaries(text).snap_grapheme(start, end)  # rare: the full scan of the text, cached
        key = f"{label}:{start}:{end}"
        self.spans.setdefault(key, (label, start, end, attributes or {}))
        return key

    def link(self, content_keys: list[str], link_type: str, target: str | None) -> None:
        if target is None:
            return
        for k in content_keys:
            self.links.add((k, link_type, target))


class RuleEngine:
    """One pass of the rules over one text (build with the text, call :meth:`run`)."""

    def __init__(self, text: str, lexicon: Lexicon):
        self.t: Tokens = tokenize(text)
        self.lex = lexicon
        self.draft = Draft(text)
        self.found = self._find_cues()
        self.cue_at = {f.i: f for f in self.found}
        self.contents: list[tuple[Found, Content]] = []  # in cue order (verb cues are run in reading order)
        self.content_cues: list[int] = []  # the cue index of each entry of ``contents``, for bisect
        self.content_by_last: dict[int, Content] = {}
        # a verb whose clause goes on into «قائلا:» hands its subject to the participle (علق الوزير قائلا: «…»)
        self.inherited: dict[int, tuple[int, int]] = {}

    # ---- cue lookup ---------------------------------------------------------------------------------

    def _find_cues(self) -> list[Found]:
        """Longest lexicon match at each word, skipping words inside quotation marks (quoted speech is the
        speaker's, and a cue there is not the article's attribution)."""
        t, forms, longest = self.t, self.lex.forms, self.lex.longest
        quoted = self._quoted_tokens()
        found, i, n = [], 0, len(t)
        while i < n:
            if t.kind[i] != "w" or i in quoted:
                i += 1
                continue
            hit = None
            for size in range(longest if t.form[i] in self.lex.heads else 1, 0, -1):
                if i + size > n or any(t.kind[k] != "w" for k in range(i, i + size)):
                    continue
                entry = forms.get(" ".join(t.form[i : i + size]))
                if entry:
                    hit = Found(i, i + size, entry[0], entry[1])
                    break
            if hit and i > 0 and t.form[i - 1] in W.NEGATING_NOUNS:  # عدم ذكر اسمه: a noun, not a cue
                hit = None
            if hit:
                found.append(hit)
                i = hit.j
            else:
                i += 1
        return found

    def _quoted_tokens(self) -> set[int]:
        """Indices of tokens inside quotation marks: one sweep over a difference array (a set filled quote by
        quote took 34 s for 10,000 unclosed marks in one paragraph)."""
        t = self.t
        diff = [0] * (len(t) + 1)
        for i, j in t.pair.items():
            if j > i or j == -1:
                diff[i + 1] += 1
                diff[j if j > i else t.unclosed_end[i]] -= 1
        out, depth = set(), 0
        for x in range(len(t)):
            depth += diff[x]
            if depth > 0:
                out.add(x)
        return out

    def _cue_starts_within(self, k: int, reach: int) -> bool:
        t = self.t
        for m in range(k, min(len(t), k + reach)):
            if t.kind[m] != "w":
                return False
            if m in self.cue_at:
                return True
        return False

    # ---- the run --------------------------------------------------------------------------------------

    def run(self) -> Draft:
        """Verb-like cues first (they own their contents), then بحسب phrases and relays, which may join them."""
        for f in self.found:
            if f.cue.kind in ("verb", "phrase", "participle", "passive"):
                self._verb(f)
        for f in self.found:
            if f.cue.kind in ("prep", "relay"):
                self._prep(f)
            elif f.cue.kind == "saying":
                self._saying(f)
        return self.draft

    def _verb(self, f: Found) -> None:
        t, d = self.t, self.draft
        src: tuple[int, int] | None = None
        k = f.j
        also = None
        if f.cue.kind in ("verb", "phrase"):
            governed = W.VERB_PREPOSITIONS.get(_folded(f.cue.lemma), "")
            end = self._source_after(f.j, governed=governed)
            if end > f.j and t.form[f.j] not in W.PRONOUNS:
                src = (f.j, end)
            k = end
            if governed in W.ANN and end < len(t) and t.form[end] == governed:  # نقلت الوكالة عن خفر السواحل أن
                also_end = self._source_after(end + 1)
                if also_end > end + 1:
                    also, k = (end + 1, also_end), also_end
            if end == f.j:
                quoted = self._quoted_source(f.j)
                if quoted:
                    src, k = quoted[0], quoted[1]
        if f.cue.kind == "participle":
            src = self.inherited.get(f.i)
        content = self._content_after(k)
        if content is None:
            content = self._content_before(f)
            if content is None:
                self._hand_on_source(k, src)
                return
        if src is None and f.cue.kind == "verb":
            src = self._source_before(f)
        cue_key = d.add("CUE", t.start[f.i], t.end[f.j - 1])
        d.link(content.keys, "cue", cue_key)
        for s_ in (src, also):
            if s_ is not None:
                d.link(content.keys, "attributed_to", self._add_source(s_))
        self.contents.append((f, content))
        self.content_cues.append(f.i)
        self.content_by_last.setdefault(content.last, content)

    def _hand_on_source(self, k: int, src) -> None:
        """A verb cue with no content of its own whose clause runs, without punctuation, into a participle cue:
        the verb's subject speaks through the participle."""
        t = self.t
        for m in range(k, min(len(t), k + MAX_CUE_TO_CONTENT)):
            if t.kind[m] != "w":
                return
            hit = self.cue_at.get(m)
            if hit is not None:
                if hit.cue.kind == "participle" and src is not None:
                    self.inherited[m] = src
                return

    def _add_source(self, src) -> str | None:
        t = self.t
        if isinstance(src, tuple) and len(src) == 3:  # a quoted name: the words inside the marks
            return self.draft.add("SOURCE", src[1], src[2])
        return self.draft.add("SOURCE", t.start[src[0]], t.end[src[1] - 1])

    # ---- sources --------------------------------------------------------------------------------------

    def _source_after(self, k: int, *, limit: int = MAX_SOURCE_WORDS, governed: str = "") -> int:
        """Index after the source noun phrase starting at token ``k`` (``k`` itself when there is none);
        ``governed`` is the preposition the cue itself governs (علق على), which ends the source."""
        t, n = self.t, len(self.t)
        m = k
        while m < n and m - k < limit:
            kind, form = t.kind[m], t.form[m]
            if kind != "w":
                if kind == "p" and form in "-/&":
                    m += 1
                    continue
                if kind == "q" and self._named_in_marks(m):
                    m = t.pair[m] + 1
                    continue
                if form == "(" and (close := self._short_parenthesis(m)):  # منظمة الأغذية والزراعة (فاو)
                    m = close + 1
                    continue
                break
            if form in W.SOURCE_STOPS or form in W.COMPLEMENTIZERS_WITH_PRONOUN or m in self.cue_at or form == governed:
                break
            nxt = t.form[m + 1] if m + 1 < n and t.kind[m + 1] == "w" else ""
            if form in W.GOVERNED_PREPOSITIONS and (nxt in W.COMPLEMENTIZERS or nxt in W.COMPLEMENTIZERS_WITH_PRONOUN):
                break
            if form in W.ANN and self._saying_within(m + 1):  # نقل التلفزيون | عن الرئيس قوله
                break
            if form in W.OCCASION_PREPOSITIONS and self._occasion_follows(m + 1):
                break
            if (form in W.LADA and self._has_possessive(m + 1)) or self._own_occasion(m):  # لدى وصوله، حديثه
                break
            if form == "ل" or (form.startswith("ل") and self._strip_l(form) in W.AUDIENCE_NOUNS):
                break
            m += 1
        if m - k >= limit:
            return k
        return m

    def _object_after(self, k: int) -> int:
        """Index after the object of بحسب / وفقا لـ: it runs to the comma, the full stop, فإن or a quotation
        mark (a relative clause or a date belongs to it: وفقا لإحصاءات نشرت أمس،)."""
        t, n = self.t, len(self.t)
        m = k
        while m < n and m - k < MAX_SOURCE_WORDS:
            if t.kind[m] != "w":
                if t.kind[m] == "p" and t.form[m] in "-/&":
                    m += 1
                    continue
                break
            if t.form[m] in W.COMPLEMENTIZERS or t.form[m] in W.COMPLEMENTIZERS_WITH_PRONOUN or m in self.cue_at:
                break
            m += 1
        return k if m - k >= MAX_SOURCE_WORDS else m

    @staticmethod
    def _strip_l(form: str) -> str:
        if form.startswith("لل"):
            return "ال" + form[2:]
        return form[1:]

    def _occasion_follows(self, k: int) -> bool:
        """One of the next two words names the occasion or is the speaker's own (في بيان، في أحدث تقاريره)."""
        t = self.t
        for m in (k, k + 1):
            if m < len(t) and t.kind[m] == "w" and (self._is_occasion(t.form[m]) or self._has_possessive(m)):
                return True
        return False

    @staticmethod
    def _is_occasion(form: str) -> bool:
        if not form:
            return False
        bare = form[2:] if form.startswith("ال") else form
        return form in W.OCCASION_NOUNS or bare in W.OCCASION_NOUNS

    def _own_occasion(self, m: int) -> bool:
        """The speaker's own speech named as the verb's object (وتابع الوزير حديثه قائلا): ends the source."""
        if not self._has_possessive(m):
            return False
        form = self.t.form[m]
        for suffix in W.POSSESSIVE_SUFFIXES:
            if form.endswith(suffix) and self._is_occasion(form[: -len(suffix)]):
                return True
        return False

    def _has_possessive(self, m: int) -> bool:
        """The stored word ends in a possessive pronoun (تقريره، مذكرتها): the source's own report or account."""
        t = self.t
        if m >= len(t) or t.kind[m] != "w":
            return False
        word = t.text[t.start[m] : t.end[m]].rstrip("\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652")
        return len(word) > 3 and not word.startswith("ال") and word.endswith(W.POSSESSIVE_SUFFIXES)

    def _short_parenthesis(self, m: int) -> int | None:
        """The index of the «)» closing a parenthesis of one to three words at ``m`` (an acronym or a name
        spelt in Latin), else None."""
        t = self.t
        for x in range(m + 1, min(len(t), m + 5)):
            if t.form[x] == ")":
                return x if x > m + 1 else None
            if t.kind[x] != "w":
                return None
        return None

    def _named_in_marks(self, opener: int) -> bool:
        """A short name in marks after a naming noun (مجلة "لانسيت"، صحيفة «الأيام»): part of a noun phrase."""
        t = self.t
        close = t.pair.get(opener, -1)
        before = t.form[opener - 1] if opener > 0 and t.kind[opener - 1] == "w" else ""
        return t.is_opener(opener) and close != -1 and close - opener <= 5 and before in W.NAMING_NOUNS

    def _quoted_source(self, k: int):
        """A source in marks right after the cue (وأوضحت "نيويورك تايمز" أن): the words inside, when short and
        followed by the complementizer."""
        t = self.t
        if k >= len(t) or not t.is_opener(k):
            return None
        close = t.pair[k]
        if close == -1 or close - k > 5 or close + 1 >= len(t):
            return None
        if t.form[close + 1] not in W.COMPLEMENTIZERS and t.form[close + 1] not in W.COMPLEMENTIZERS_WITH_PRONOUN:
            return None
        return (k, t.start[k + 1], t.end[close - 1]), close + 1

    def _source_before(self, f: Found) -> tuple[int, int] | None:
        """A subject before its cue: أما المدرب فقال، وكان رئيس الوزراء قد ألمح، غير أن الخبراء يرون."""
        t, i = self.t, f.i
        lo = max(0, i - 10)

        def words_only(a: int, b: int) -> bool:
            return a < b and all(t.kind[x] == "w" for x in range(a, b)) and t.form[a] not in W.PRONOUNS

        if i > 0 and t.form[i - 1] in W.QAD:
            for m in range(i - 2, lo - 1, -1):
                if t.kind[m] != "w":
                    break
                if t.form[m] in W.KANA:
                    return (m + 1, i - 1) if words_only(m + 1, i - 1) else None
        for m in range(i - 1, lo - 1, -1):
            if t.kind[m] != "w":
                return None
            form = t.form[m]
            # after غير أن / رغم أن / لكن …, the words up to the cue are its subject (غير أن ممثلي القطاع يعتبرون)
            opener = form in W.SUBJECT_OPENERS or form in W.COMPLEMENTIZERS
            if opener:
                faqad = t.form[i - 1] in W.FAQAD  # أما الوزير فقد أكد
                if form in ("اما", "واما") and f.clitic != "ف" and not faqad:
                    return None
                end = i - 1 if faqad else i
                return (m + 1, end) if words_only(m + 1, end) else None
        return None

    # ---- contents -------------------------------------------------------------------------------------

    def _content_after(self, k: int) -> Content | None:
        """The content a cue introduces from token ``k`` on: after أن/إن, after a colon, or a quotation."""
        t, n = self.t, len(self.t)
        m = k
        while m < n and m - k <= MAX_CUE_TO_CONTENT:
            kind, form = t.kind[m], t.form[m]
            if t.is_sentence_end(m):
                return None
            if kind == "w":
                if form in W.COMPLEMENTIZERS or form in W.COMPLEMENTIZERS_WITH_PRONOUN:
                    return self._claim_from(m + 1)
                hit = self.cue_at.get(m)
                if hit is not None:
                    if hit.cue.kind == "saying":  # نقل … عن الرئيس قوله إن: the content follows
                        m = hit.j
                        continue
                    if hit.cue.kind != "relay":
                        return None
                    m = self._source_after(hit.j)
                    continue
            elif kind == "p" and form == ":":
                j = m + 1
                while j < n and t.kind[j] == "n":  # «وقال:» at a line's end, the quotation on the next line
                    j += 1
                if j < n and t.is_opener(j):
                    return self._direct(j)
                nxt = t.form[m + 1] if m + 1 < n else ""
                if nxt in W.COMPLEMENTIZERS or nxt in W.COMPLEMENTIZERS_WITH_PRONOUN:  # وأضاف: إن …
                    m += 1
                return self._claim_from(m + 1)
            elif kind == "q" and t.is_opener(m):
                if m == k:
                    return self._direct(m)
                close = t.pair[m]
                if close == -1:
                    return None
                m = close
            m += 1
        return None

    def _content_before(self, f: Found) -> Content | None:
        """A post-posed cue: “…”، تقول قائدة الأوركسترا — the quotation before the comma is the content."""
        t, i = self.t, f.i
        if i > 0 and t.form[i - 1] in W.THUS:  # «…»، هكذا قالت …
            i -= 1
        if f.clitic or i < 2 or t.form[i - 1] not in CLAUSE_MARKS or t.kind[i - 2] != "q":
            return None
        opener = t.pair.get(i - 2)
        if opener is None or opener == -1 or opener >= i - 2:
            return None
        return self._direct(opener)

    def _direct(self, opener: int) -> Content | None:
        """Direct speech: a QUOTE and a CLAIM of the same extent, inside the marks."""
        inside = quote_inside(self.t, opener)
        if inside is None:
            return None
        start, end, last = inside
        keys = [self.draft.add("CLAIM", start, end), self.draft.add("QUOTE", start, end, {"form": "direct"})]
        return Content([k for k in keys if k], opener, last)

    def _claim_from(self, s: int, *, stop: int | None = None) -> Content | None:
        """A CLAIM from token ``s`` to the end of its sentence, or to a comma a new cue follows; quotations
        inside it are kept whole and suggested as partial QUOTEs unless they are scare quotes."""
        t = self.t
        n = len(t) if stop is None else stop
        while s < n and t.kind[s] == "p":
            s += 1
        e, last, openers = s, None, []
        while e < n:
            if e - s > MAX_CLAIM_TOKENS:
                return None
            if t.is_sentence_end(e):
                break
            if t.is_opener(e):
                openers.append(e)
                close = t.pair[e]
                if close == -1:
                    close = t.unclosed_end[e] - 1
                    while close > e and t.is_sentence_end(close):
                        close -= 1
                last, e = close, close + 1
                continue
            if t.kind[e] == "p" and t.form[e] in CLAUSE_MARKS and self._new_clause(e + 1):
                break
            last, e = e, e + 1
        while last is not None and last >= s and t.kind[last] == "p" and t.form[last] in CLAUSE_MARKS:
            last -= 1
        if last is None or last < s:
            return None
        keys = [self.draft.add("CLAIM", t.start[s], t.end[last])]
        for o in openers:
            if self._is_speech(o):
                inside = quote_inside(t, o)
                if inside:
                    keys.append(self.draft.add("QUOTE", inside[0], inside[1], {"form": "partial"}))
        return Content([k for k in keys if k], s, last)

    def _new_clause(self, k: int) -> bool:
        """After a comma: a new attribution (، مشيرا …؛ غير أن نوابا رأوا …) or the speaker's next act (، ودعت …)
        ends the claim."""
        t = self.t
        contrast = k < len(t) and (
            t.form[k] in W.SUBJECT_OPENERS or (t.form[k] in W.EXCEPTIVE and k + 1 < len(t) and t.form[k + 1] in W.COMPLEMENTIZERS)
        )
        reach = CONTRAST_CUE_REACH if contrast else CLAUSE_CUE_REACH + 1
        if self._cue_starts_within(k, reach) or self._speaker_goes_on(k):
            return True
        return k < len(t) and t.form[k] in W.SPEAKER_ACTS

    def _speaker_goes_on(self, k: int) -> bool:
        """«، غير أنه استبعد …»، «، لكنها …»: a contrast whose subject is a pronoun goes on about the speaker,
        not inside what they said."""
        t = self.t
        if k >= len(t) or t.kind[k] != "w":
            return False
        if t.form[k] in W.BUT_WITH_PRONOUN:
            return True
        nxt = t.form[k + 1] if k + 1 < len(t) else ""
        return t.form[k] in W.EXCEPTIVE and nxt in W.COMPLEMENTIZERS_WITH_PRONOUN

    def _is_speech(self, opener: int) -> bool:
        """Marks inside a claim hold the speaker's words unless they hold one word or follow a naming noun."""
        t = self.t
        inside = quote_inside(t, opener)
        if inside is None:
            return False
        words = sum(1 for x in range(opener + 1, inside[2]) if t.kind[x] == "w")
        before = t.form[opener - 1] if opener > 0 and t.kind[opener - 1] == "w" else ""
        # an indefinite naming noun (شركة "…"، أزمة "…") names what follows; a definite one is usually the
        # subject of the quoted words (التطبيق "تدرّب …"، الحزب "تُدار …"), except the words for a term
        bare = before[2:] if before.startswith("ال") else before
        naming = before in W.NAMING_NOUNS or (bare != before and bare in W.TERM_NOUNS)
        return words >= 2 and not naming

    def _enclosing(self, i: int) -> Content | None:
        """The content of a verb cue before token ``i`` in the same sentence whose content starts after ``i``
        (a relay or «عن X قوله» sitting between a cue and its أن)."""
        t = self.t
        lo = i - MAX_CUE_TO_CONTENT - MAX_SOURCE_WORDS
        for x in range(bisect_left(self.content_cues, i) - 1, -1, -1):
            g, content = self.contents[x]
            if g.i < lo:
                return None
            if g.i < i < content.first and t.sentence_start[g.i] == t.sentence_start[i]:
                return content
        return None

    def _saying_within(self, k: int, reach: int = 8) -> bool:
        t = self.t
        for m in range(k, min(len(t), k + reach)):
            if t.kind[m] != "w":
                return False
            hit = self.cue_at.get(m)
            if hit is not None:
                return hit.cue.kind == "saying"
        return False

    def _saying(self, f: Found) -> None:
        """«عن الرئيس قوله إن …»: the speaker between عن and قوله is a second source of the verb's content."""
        t, d, i = self.t, self.draft, f.i
        m = i - 1
        while m >= max(0, i - 9) and t.kind[m] == "w" and t.form[m] not in W.ANN:
            m -= 1
        if m < 0 or t.form[m] not in W.ANN or m + 1 >= i:
            return
        content = self._enclosing(i)
        if content is not None:
            d.link(content.keys, "cue", d.add("CUE", t.start[i], t.end[f.j - 1]))
            d.link(content.keys, "attributed_to", d.add("SOURCE", t.start[m + 1], t.end[i - 1]))

    # ---- بحسب, وفقا لـ, نقلا عن ---------------------------------------------------------------------

    def _prep(self, f: Found) -> None:
        t, n, d = self.t, len(self.t), self.draft
        k = f.j
        if k < n and t.form[k] == "ل":  # وفقا لـ Trade Flows: the detached لـ belongs to no span
            k += 1
        if k + 2 < n and t.form[k] in W.MA and t.kind[k + 1] == "w":  # وفق ما أعلنته الوزارة: the source follows the verb
            k += 3 if t.form[k + 2] in W.BIHI else 2
        end = self._object_after(k)
        if end == k:
            return
        head = self._strip_l(t.form[k]) if t.form[k].startswith("ل") else t.form[k]
        if t.form[k] in W.NOT_SOURCES or head in W.NOT_SOURCES:
            return
        content = self._prep_content(f, end)
        if content is None:
            return
        d.link(content.keys, "cue", d.add("CUE", t.start[f.i], t.end[f.j - 1]))
        d.link(content.keys, "attributed_to", d.add("SOURCE", t.start[k], t.end[end - 1]))

    def _prep_content(self, f: Found, end: int) -> Content | None:
        t, n, i = self.t, len(self.t), f.i
        if f.cue.kind == "relay" and (content := self._enclosing(i)) is not None:  # shares the verb's content
            return content
        after = t.form[end] if end < n else ""
        if after in W.COMPLEMENTIZERS or after in W.COMPLEMENTIZERS_WITH_PRONOUN:
            return self._claim_from(end + 1)
        at_start = i == 0 or t.is_sentence_end(i - 1)
        after_comma = i > 0 and t.kind[i - 1] == "p" and t.form[i - 1] in CLAUSE_MARKS
        if after_comma and (end >= n or t.is_sentence_end(end) or after in CLAUSE_MARKS):
            content = self._claim_before(i - 1)
            if content is not None:
                return content
        if (at_start or after_comma or f.clitic) and after in CLAUSE_MARKS:
            return self._claim_after_comma(end + 1)
        return None

    def _claim_before(self, comma: int) -> Content | None:
        """The clause a post-posed بحسب supports: from its sentence's start to the comma (or the claim a verb
        cue already made there)."""
        if (content := self.content_by_last.get(comma - 1)) is not None:
            return content
        s = self.t.sentence_start[comma]
        if comma - s < 3 or comma - s > MAX_CLAIM_TOKENS:
            return None
        return self._claim_from(s, stop=comma)

    def _claim_after_comma(self, k: int) -> Content | None:
        """The clause after «وبحسب الصحيفة،»: skips an apposition (وهي برقية …،) and فإن; when a verb cue
        opens the clause, its content is the one supported."""
        t, n = self.t, len(self.t)
        if k < n and t.form[k] in W.APPOSITION_OPENERS:
            while k < n and not (t.kind[k] == "p" and t.form[k] in CLAUSE_MARKS) and not t.is_sentence_end(k):
                k += 1
            if k >= n or t.is_sentence_end(k):
                return None
            k += 1
        for x in range(bisect_left(self.content_cues, k), len(self.contents)):
            g, content = self.contents[x]
            if g.i > k + 2:
                break
            return content
        if k < n and (
            t.form[k] in W.COMPLEMENTIZERS or t.form[k] in W.COMPLEMENTIZERS_WITH_PRONOUN or t.form[k] in W.FAQAD_PARTICLES
        ):
            k += 1
        return self._claim_from(k)


def run_rules(text: str, lexicon: Lexicon) -> Draft:
    """Suggestions of the rules for ``text`` as a :class:`Draft`."""
    return RuleEngine(text, lexicon).run()
