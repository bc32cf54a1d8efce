"""Canonical text, offset units, grapheme/word snapping and tokens, over the tricky cases."""

import re
import unicodedata

import pytest

from annotator.errors import InvalidText
from annotator.text import (
    canonicalize,
    codepoint_to_utf16,
    context,
    snap,
    text_sha256,
    tokenize,
    utf16_to_codepoint,
)


def test_every_tricky_text_canonicalises_to_nfc_without_bidi_controls(tricky):
    for case in tricky.values():
        canon = canonicalize(case["text"])
        assert unicodedata.is_normalized("NFC", canon.text)
        assert not any(
            ch in canon.text for ch in "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff"
        )
        assert canon.sha256 == text_sha256(canon.text)


def test_bidi_controls_are_removed_counted_and_rlo_flagged(tricky):
    canon = canonicalize(tricky["bidi-controls"]["text"])
    assert canon.text == "أعلن الوزير عن خطة ABC جديدة تحذير اليوم."
    meta = canon.metadata()
    assert meta["removed_characters"] == {"U+200F": 1, "U+202A": 1, "U+202C": 2, "U+202E": 1}
    assert meta["removed_count"] == 5
    assert meta["suspicious"] == ["U+202E right-to-left override"]


def test_raw_offsets_map_through_removed_characters(tricky):
    raw = tricky["bidi-controls"]["text"]
    canon = canonicalize(raw)
    start = raw.index("ABC")
    s, e = canon.map_span(start, start + 3)
    assert canon.text[s:e] == "ABC"
    # a span that contained the LRE/PDF controls keeps its visible characters
    s0 = raw.index("خطة")
    e0 = raw.index("جديدة") + len("جديدة")
    s, e = canon.map_span(s0, e0)
    assert canon.text[s:e] == "خطة ABC جديدة"


def test_harakat_tatweel_zwnj_and_zwj_are_kept(tricky):
    for key in ("harakat-tatweel", "zwnj"):
        assert canonicalize(tricky[key]["text"]).text == unicodedata.normalize("NFC", tricky[key]["text"])
    assert canonicalize("a\u200db").text == "a\u200db"


def test_crlf_and_lone_cr_become_lf_and_offsets_follow():
    canon = canonicalize("أ\r\nب\rج")
    assert canon.text == "أ\nب\nج"
    assert canon.map_span(3, 4) == (2, 3)  # ب
    assert canon.text[slice(*canon.map_span(3, 4))] == "ب"


def test_bom_and_zero_width_space_removed():
    canon = canonicalize("\ufeffقال\u200bالوزير")
    assert canon.text == "قالالوزير"
    assert canon.metadata()["removed_count"] == 2


def test_nfc_composes_and_maps_offsets():
    raw = "e\u0301 قال"
    canon = canonicalize(raw)
    assert canon.text == "\u00e9 قال"
    assert canon.text[slice(*canon.map_span(3, 6))] == "قال"


@pytest.mark.parametrize("bad, name", [("قال\x00", "NUL"), ("a\x07b", "U+0007"), ("a\x1bb", "U+001B"), ("x\x7f", "U+007F")])
def test_control_characters_are_rejected_with_a_clear_message(bad, name):
    with pytest.raises(InvalidText, match=re.escape(name)):
        canonicalize(bad)


def test_tab_and_newline_are_allowed():
    assert canonicalize("أ\tب\nج").text == "أ\tب\nج"


def test_utf16_conversion_after_emoji(tricky):
    text = tricky["emoji"]["text"]
    cp = text.index("المغرد")
    u16 = codepoint_to_utf16(text, cp)
    assert u16 == cp + 2  # 👍🏽 is two astral code points, each two UTF-16 units
    assert utf16_to_codepoint(text, u16) == cp
    assert utf16_to_codepoint(text, codepoint_to_utf16(text, len(text))) == len(text)


def test_snap_never_splits_a_letter_from_its_harakat(tricky):
    text = unicodedata.normalize("NFC", tricky["harakat-tatweel"]["text"])
    word = "المُتَحَدِّثُ"
    start = text.index(word)
    # a selection ending between a letter and its damma is widened to include the mark
    s, e = snap(text, start, start + 3, words=False)
    assert text[s:e] == "المُ"
    s, e = snap(text, start + 1, start + 3, words=True)
    assert text[s:e] == word


def test_snap_to_words_trims_spaces_and_keeps_tatweel(tricky):
    text = tricky["harakat-tatweel"]["text"]
    i = text.index("كّـدَ")
    s, e = snap(text, i, i + 2)
    assert text[s:e] == "وأكّـدَ"
    s, e = snap(text, i - 3, i + 10)
    assert not text[s:e].startswith(" ") and not text[s:e].endswith(" ")


def test_tokens_keep_marks_and_split_punctuation(tricky):
    text = tricky["harakat-tatweel"]["text"]
    tokens = [text[s:e] for s, e in tokenize(text)]
    assert tokens == ["وأكّـدَ", "المُتَحَدِّثُ", "أنَّ", "القرارَ", "نهائيٌّ", "."]
    text = tricky["curly-quotes"]["text"]
    tokens = [text[s:e] for s, e in tokenize(text)]
    assert "”" in tokens and "،" in tokens and "سنعلن" in tokens


def test_context_words():
    before, after = context("واحد اثنان ثلاثة أربعة خمسة", 11, 17, words=1)
    assert (before, after) == ("اثنان", "أربعة")


def test_fold_maps_hits_back_to_stored_text_with_harakat(tricky):
    from annotator.text import fold

    text = "قَالَ الوزيـــر إنّ «أمريكا» ستعيد ى ة 😀 ABC"
    f = fold(text)
    assert f.text == "قال الوزير ان «امريكا» ستعيد ي ه 😀 abc"
    for word, stored in [("قال", "قَالَ"), ("الوزير", "الوزيـــر"), ("ان", "إنّ"), ("abc", "ABC"), ("😀", "😀")]:
        i = f.text.index(word)
        s, e = f.to_stored(i, i + len(word))
        assert text[s:e] == stored
    assert fold(text, ya=False, ta=False).text.endswith("ستعيد ى ة 😀 abc")
    for case in tricky.values():  # every folded character maps to a stored one, in order, and ends are in range
        f = fold(case["text"])
        assert len(f.starts) == len(f.text) + 1 and f.starts[-1] == len(case["text"])
        assert all(a < b for a, b in zip(f.starts, f.starts[1:], strict=False))


def test_fold_paths_agree_with_the_per_character_fold(tricky):
    from annotator.text import fold, fold_char, fold_text

    texts = [case["text"] for case in tricky.values()] + ["İstanbul قَالَ", "", "ـــ", "ABC أإآٱىة"]
    for text in texts:
        for ya, ta in ((True, True), (False, False), (True, False)):
            chars = [(i, fold_char(ch, ya=ya, ta=ta)) for i, ch in enumerate(text)]
            kept = [(i, c) for i, c in chars if c]
            f = fold(text, ya=ya, ta=ta)
            assert f.text == "".join(c for _i, c in kept) == fold_text(text, ya=ya, ta=ta)
            assert f.starts == [i for i, _c in kept] + [len(text)]


# ---- the fast paths against the rule they stand for --------------------------------------------------------

_BOUNDARY_TEXTS = ["ق\n\u064eا", "\u064eقَ", "\u0600١٢ نص", "🇪🇬🇪🇬 x", "한국어 ok", "👨\u200d👩\u200d👧 ok", "a\u0301b\tc\u0301", "नमस्ते",
                   "قال\u200dها", "a\r\nb"]  # fmt: skip
_BOUNDARY_POOL = list("قال ًٌّـ\u200c\u200d\n\t.،aé\u0301") + [
    "👍",
    "🏽",
    "🇪",
    "🇬",
    "한",
    "ᄀ",
    "ᅡ",
    "क",
    "्",
    "ष",
    "\u0600",
    "١",
    "👨",
    "\ufe0f",
]


def test_grapheme_boundaries_are_what_regex_x_says(tricky):
    """The one grapheme rule (text.is_grapheme_boundary, its batch form and the snapping built on it) gives the
    ``regex`` module's \\X answer at every offset: the tricky texts, rare scripts and random mixtures."""
    import random

    import regex

    from annotator.text import Boundaries, is_grapheme_boundary, on_grapheme_boundaries

    rng = random.Random(4)
    texts = [canonicalize(c["text"]).text for c in tricky.values()] + _BOUNDARY_TEXTS
    texts += ["".join(rng.choice(_BOUNDARY_POOL) for _ in range(rng.randint(1, 25))) for _ in range(300)]
    for _ in range(2):  # the second pass with the per-character table filled
        for text in texts:
            bounds = {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}
            offsets = range(len(text) + 1)
            assert [is_grapheme_boundary(text, i) for i in offsets] == [i in bounds for i in offsets], ascii(text)
            assert [on_grapheme_boundaries(text, [i]) for i in offsets] == [i in bounds for i in offsets], ascii(text)
            assert on_grapheme_boundaries(text, list(offsets)) == (len(bounds) == len(text) + 1)
            b = Boundaries(text)
            for i in offsets:
                s, e = b.snap_grapheme(i, i)
                assert s in bounds and e in bounds and s <= i <= e and not any(s < k < i or i < k < e for k in bounds)


@pytest.mark.parametrize("ch", ["\r", "\x00", "\x07", "\x7f", "\u200b", "\u200e", "\u200f", "\u061c", "\u202a", "\u202e",
                                "\u2066", "\u2069", "\ufeff", "\u0301", ""])  # fmt: skip
def test_canonicalize_shortcut_is_the_walk(tricky, ch):
    """Text canonicalisation leaves as it is takes a shortcut (identity offsets); it gives what the walk gives,
    and refuses what the walk refuses."""
    from annotator.text import _canonical_walk

    for raw in [f"قال\n{ch}الوزير", *(c["text"] for c in tricky.values())]:
        try:
            full = _canonical_walk(raw)
        except InvalidText:
            with pytest.raises(InvalidText):
                canonicalize(raw)
            continue
        fast = canonicalize(raw)
        assert fast.text == full.text and fast.metadata() == full.metadata()
        assert [fast.to_canonical[i] for i in range(len(raw) + 1)] == list(full.to_canonical)


def test_numbers_times_and_percentages_are_one_token():
    from annotator.text import tokenize

    text = "ارتفع بنسبة 12.5% إلى 4,200 و ٣٫٥ و ١٬٢٠٠ في 3:58.41 عام 2024. ثم 40%، و21نوفمبر"
    tokens = [text[s:e] for s, e in tokenize(text)]
    for whole in ("12.5%", "4,200", "٣٫٥", "١٬٢٠٠", "3:58.41", "40%"):
        assert whole in tokens
    assert tokens[tokens.index("2024") + 1] == "."  # a full stop after a year stays a full stop
    assert "و21نوفمبر" in tokens and "،" in tokens  # a word with digits stays one word
