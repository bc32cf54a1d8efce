"""The rule engine, one construction per test, and the invariants every suggestion keeps."""

from __future__ import annotations

import json

import pytest

from annotator.suggest import LexiconError, parse_lexicon, suggest
from annotator.suggest.lexicon import parse_line
from annotator.text import boundaries
from tests.conftest import FIXTURES


def spans(text: str, extra=()) -> dict[str, set[str]]:
    """Suggested span texts by label."""
    out: dict[str, set[str]] = {}
    for s in suggest(text, extra):
        out.setdefault(s.label, set()).add(s.text)
    return out


def links(text: str) -> set[tuple[str, str, str]]:
    """(content text, link type, target text) for every suggested link."""
    sugg = suggest(text)
    by_key = {s.key: s for s in sugg}
    return {(s.text, t, by_key[k].text) for s in sugg for t, k in s.links}


def assert_invariants(text: str) -> None:
    sugg = suggest(text)
    keys = {s.key for s in sugg}
    b = boundaries(text)
    for s in sugg:
        assert text[s.start : s.end] == s.text
        assert s.key == f"{s.label}:{s.start}:{s.end}"
        assert b.snap_grapheme(s.start, s.end) == (s.start, s.end), s
        assert s.text == s.text.strip()
        for _type, target in s.links:
            assert target in keys
    assert sugg == suggest(text)  # deterministic


def test_verb_cue_with_subject_and_claim_after_anna():
    text = "أكد وزير المالية خالد العمري أن الميزانية ستُقر الشهر المقبل. وتعمل الوزارة على خطة جديدة."
    got = spans(text)
    assert got == {"CUE": {"أكد"}, "SOURCE": {"وزير المالية خالد العمري"}, "CLAIM": {"الميزانية ستُقر الشهر المقبل"}}
    assert links(text) == {
        ("الميزانية ستُقر الشهر المقبل", "cue", "أكد"),
        ("الميزانية ستُقر الشهر المقبل", "attributed_to", "وزير المالية خالد العمري"),
    }
    assert_invariants(text)


def test_source_stops_at_comma_occasion_and_governed_preposition():
    text = (
        "وقال مدير الشركة، سامي الحداد، في مؤتمر صحفي إن الأرباح تضاعفت. "
        "وأشار التقرير إلى أن المبيعات تراجعت. وأوضحت الهيئة في بيانها أن القرار نهائي."
    )
    got = spans(text)
    assert got["SOURCE"] == {"مدير الشركة", "التقرير", "الهيئة"}
    assert got["CUE"] == {"وقال", "وأشار", "وأوضحت"}
    assert got["CLAIM"] == {"الأرباح تضاعفت", "المبيعات تراجعت", "القرار نهائي"}


def test_bihasab_and_wifqan_keep_the_clitic_lam_on_the_source():
    text = "ووفقا للبيان، ارتفعت الصادرات بنسبة 3% خلال العام. وبحسب الوزارة، فإن الأسعار ستستقر."
    got = spans(text)
    assert got["CUE"] == {"ووفقا", "وبحسب"}
    assert got["SOURCE"] == {"للبيان", "الوزارة"}
    assert got["CLAIM"] == {"ارتفعت الصادرات بنسبة 3% خلال العام", "الأسعار ستستقر"}
    assert ("الأسعار ستستقر", "attributed_to", "الوزارة") in links(text)


def test_post_posed_wifqa_with_detached_lam_and_not_a_source():
    text = "تراجعت أسعار النفط بنسبة 2% هذا الأسبوع، وفقا لـ Energy Watch. وتسير العملية وفق القانون."
    got = spans(text)
    assert got["CUE"] == {"وفقا"}  # «وفق القانون» attributes nothing
    assert got["SOURCE"] == {"Energy Watch"}
    assert got["CLAIM"] == {"تراجعت أسعار النفط بنسبة 2% هذا الأسبوع"}


@pytest.mark.parametrize(
    "open_, close",
    [("«", "»"), ("“", "”"), ('"', '"'), ("”", "“")],
    ids=["guillemets", "curly", "straight", "curly-reversed"],
)
def test_direct_speech_in_each_kind_of_quotation_mark(open_, close):
    text = f"وقال المتحدث باسم الوزارة: {open_}لن نتراجع عن القرار{close}. وانتهى الاجتماع."
    got = spans(text)
    assert got["QUOTE"] == {"لن نتراجع عن القرار"} and got["CLAIM"] == {"لن نتراجع عن القرار"}
    assert got["SOURCE"] == {"المتحدث باسم الوزارة"}
    assert ("لن نتراجع عن القرار", "cue", "وقال") in links(text)
    assert_invariants(text)


def test_partial_quote_inside_a_claim_keeps_its_marks_in_the_claim():
    text = 'ورأى الناقد سمير الحلو أن الفيلم "يعيد الاعتبار للسينما المستقلة" بعد سنوات.'
    got = spans(text)
    assert got["CLAIM"] == {'الفيلم "يعيد الاعتبار للسينما المستقلة" بعد سنوات'}
    assert got["QUOTE"] == {"يعيد الاعتبار للسينما المستقلة"}


def test_scare_quotes_and_titles_are_not_quotes():
    text = (
        'تتواصل أزمة "البيت الداخلي" في الحزب. ووقعت الكاتبة روايتها «بيت على حافة الملح» في المعرض. '
        'وقال المحلل إن الحكومة تستخدم مصطلح "السيادة" كثيرا.'
    )
    got = spans(text)
    assert "QUOTE" not in got
    assert got["CLAIM"] == {'الحكومة تستخدم مصطلح "السيادة" كثيرا'}


def test_passive_and_pronoun_only_cues_get_no_source():
    text = "ونُقل عنه أن الاجتماع أُلغي. وأُفيد بأن الطريق مغلق. وأضافت أنها ستعود غدا."
    got = spans(text)
    assert "SOURCE" not in got
    assert got["CUE"] == {"ونُقل عنه", "وأُفيد", "وأضافت"}
    assert got["CLAIM"] == {"الاجتماع أُلغي", "الطريق مغلق", "ستعود غدا"}


def test_two_speakers_in_one_paragraph_each_get_their_own_claim():
    text = (
        "قال رئيس النقابة كمال داود إن الإضراب سيستمر، مشيرا إلى أن المفاوضات متوقفة. "
        "في المقابل، رأى وزير العمل سليم حداد أن المطالب غير واقعية."
    )
    got = spans(text)
    assert got["CLAIM"] == {"الإضراب سيستمر", "المفاوضات متوقفة", "المطالب غير واقعية"}
    found = links(text)
    assert ("الإضراب سيستمر", "attributed_to", "رئيس النقابة كمال داود") in found
    assert ("المطالب غير واقعية", "attributed_to", "وزير العمل سليم حداد") in found
    assert ("المفاوضات متوقفة", "cue", "مشيرا") in found
    assert not any(t == "attributed_to" and c == "المفاوضات متوقفة" for c, t, _ in found)


def test_source_before_its_cue():
    text = "أما المدرب فقال إن الفريق جاهز. وكان رئيس الوزراء قد ألمح إلى أن التعديل قريب."
    found = links(text)
    assert ("الفريق جاهز", "attributed_to", "المدرب") in found
    assert ("التعديل قريب", "attributed_to", "رئيس الوزراء") in found


def test_harakat_and_tatweel_inside_a_cue_offsets_stay_on_the_stored_text():
    text = "وقـــالَ المُتَحَدِّثُ إنّ القرارَ نهائيٌّ."
    got = spans(text)
    assert got["CUE"] == {"وقـــالَ"}
    assert got["SOURCE"] == {"المُتَحَدِّثُ"}
    assert got["CLAIM"] == {"القرارَ نهائيٌّ"}
    assert_invariants(text)


def test_emoji_before_a_quote_keeps_code_point_offsets():
    text = "🏆👍🏽 وكتب قائد الفريق: “هذا اللقب لكم جميعا” 🇪🇬."
    sugg = suggest(text)
    quote = next(s for s in sugg if s.label == "QUOTE")
    assert quote.text == "هذا اللقب لكم جميعا"
    assert quote.start == text.index("هذا")
    assert_invariants(text)


def test_quote_over_two_sentences_nested_and_unbalanced_marks():
    text = 'وأضاف: «خسرنا المحصول. ولن نتحمل موسما آخر». وقال الوزير: «قرأت عبارة "لا تراجع" في التقرير». وتابع: «المفاوضات لم تنته بعد'
    got = spans(text)
    assert "خسرنا المحصول. ولن نتحمل موسما آخر" in got["QUOTE"]
    assert 'قرأت عبارة "لا تراجع" في التقرير' in got["QUOTE"]
    assert "المفاوضات لم تنته بعد" in got["QUOTE"]  # no closing mark: runs to the paragraph's end
    assert_invariants(text)


def test_quote_before_a_post_posed_cue():
    text = "“الموسيقيون الشباب يعزفون بمستوى المحترفين”، تقول قائدة الأوركسترا كلارا فايس."
    found = links(text)
    assert ("الموسيقيون الشباب يعزفون بمستوى المحترفين", "attributed_to", "قائدة الأوركسترا كلارا فايس") in found


def test_look_alike_words_without_content_are_not_cues():
    text = "كشفت بعثة أثرية عن مقبرة قديمة. وقال أحد الزوار. وتابع الجمهور المباراة."
    assert suggest(text) == []


def test_invariants_over_the_dev_set_and_the_tricky_texts(tricky):
    lines = (FIXTURES / "attribution-dev.ar.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        assert_invariants(json.loads(line)["text"])
    for case in tricky.values():
        assert_invariants(case["text"])


def test_a_malformed_lexicon_line_is_refused_with_its_number():
    good = "# comment\nصرّح\tصرح\tverb\n\nنقلا عن\tنقل\trelay\n"
    assert [c.form for c in parse_lexicon(good)] == ["صرّح", "نقلا عن"]
    with pytest.raises(LexiconError, match="line 3: expected 3 tab-separated"):
        parse_lexicon("قال\tقال\tverb\nأكد\tأكد\tverb\nأعلن أعلن verb\n")
    with pytest.raises(LexiconError, match="line 7: unknown kind 'noun'"):
        parse_line("قال\tقال\tnoun", 7)
    with pytest.raises(LexiconError, match="line 2: the form '=cmd' must be"):
        parse_line("=cmd\tقال\tverb", 2)


def test_a_project_cue_extends_the_lexicon_and_changes_the_version():
    from annotator.suggest import engine_version

    text = "وأفصح المدير العام أن الشركة ستندمج."
    assert "CUE" not in spans(text)
    extra = parse_lexicon("أفصح\tأفصح\tverb\n")
    assert spans(text, extra)["CUE"] == {"وأفصح"}
    assert engine_version(extra) != engine_version()


def test_nuqila_an_speaker_qawlahu_gives_two_sources_and_two_cues():
    text = "ونقل التلفزيون الرسمي عن الرئيس قوله إن البلاد تجاوزت الأزمة."
    found = links(text)
    claim = "البلاد تجاوزت الأزمة"
    assert {(t, target) for c, t, target in found if c == claim} == {
        ("cue", "ونقل"),
        ("cue", "قوله"),
        ("attributed_to", "التلفزيون الرسمي"),
        ("attributed_to", "الرئيس"),
    }


def test_post_posed_cue_after_hakadha_colon_before_inna_and_outlet_after_source():
    text = (
        "«سنواصل الإضراب»، هكذا قالت رئيسة النقابة. وأضاف: إن بلاده مستعدة للحوار. وقال شهود عيان لرويترز إن الانفجار وقع فجرا."
    )
    found = links(text)
    assert ("سنواصل الإضراب", "attributed_to", "رئيسة النقابة") in found
    assert ("بلاده مستعدة للحوار", "cue", "وأضاف") in found
    assert ("الانفجار وقع فجرا", "attributed_to", "شهود عيان") in found


def test_a_cue_word_after_adam_is_a_noun_and_plural_participles_are_cues():
    text = "قال مصدر أمني طلب عدم ذكر اسمه إن المهاجمين فروا، مشيرين إلى أن الطريق مغلق."
    got = spans(text)
    assert got["CUE"] == {"قال", "مشيرين"}
    assert got["SOURCE"] == {"مصدر أمني طلب عدم ذكر اسمه"}
    assert got["CLAIM"] == {"المهاجمين فروا", "الطريق مغلق"}


def test_claim_ends_at_a_contrast_with_a_new_speaker_or_the_speakers_next_act():
    text = (
        'اعتبر رئيس البرلمان أن الموازنة "واقعية"، غير أن نوابا معارضين رأوا أنها تثقل الفقراء. '
        "أعلنت الهيئة أن الأمطار ستستمر، ودعت المواطنين إلى الحذر."
    )
    got = spans(text)
    assert got["CLAIM"] == {'الموازنة "واقعية"', "تثقل الفقراء", "الأمطار ستستمر"}
    assert ("تثقل الفقراء", "attributed_to", "نوابا معارضين") in links(text)


def test_wafq_ma_the_source_follows_the_verb_and_a_named_journal_stays_in_the_source():
    text = (
        "ووفق ما أعلنته وزارة المالية، بلغ العجز 4% من الناتج. "
        'كشفت دراسة نشرتها مجلة "لانسيت" الطبية أن التلوث يقتل الملايين. '
        "وتوقع الصندوق في أحدث تقاريره أن ينمو الاقتصاد."
    )
    got = spans(text)
    assert got["SOURCE"] == {"وزارة المالية", 'دراسة نشرتها مجلة "لانسيت" الطبية', "الصندوق"}
    assert "QUOTE" not in got


def test_amma_faqad_naqalat_an_and_a_speakers_participle_act():
    text = (
        "أما وزير النقل فقد أكد أن الخط سيفتتح قريبا. ونقلت الوكالة عن خفر السواحل أن البحث مستمر. "
        "وأعلنت النقابة أن الإضراب سيستمر، محملة الحكومة المسؤولية."
    )
    found = links(text)
    assert ("الخط سيفتتح قريبا", "attributed_to", "وزير النقل") in found
    assert {target for c, t, target in found if c == "البحث مستمر" and t == "attributed_to"} == {"الوكالة", "خفر السواحل"}
    assert "الإضراب سيستمر" in spans(text)["CLAIM"]


def test_own_speech_lada_in_a_title_radda_and_faqad_after_wifqan():
    text = (
        'وتابع الوزير حديثه قائلا إن "المرحلة صعبة جدا". صرّح السفير الأمريكي لدى الأمم المتحدة بأن الفيتو وارد. '
        "وقال الوزير لدى وصوله إن الزيارة مهمة. وردّ نظيره الروسي بأن الموقف مرفوض. "
        "ووفقا لمصادر في الشرطة، فقد أوقف ثلاثة مشتبه بهم."
    )
    got = spans(text)
    assert {"الوزير", "السفير الأمريكي لدى الأمم المتحدة", "نظيره الروسي", "لمصادر في الشرطة"} <= got["SOURCE"]
    assert "أوقف ثلاثة مشتبه بهم" in got["CLAIM"] and "وردّ" in got["CUE"]


def test_direct_speech_on_the_line_after_the_colon():
    text = "وقال رئيس البعثة:\n«سنواصل العمل حتى نهاية الموسم»."
    got = spans(text)
    assert got["QUOTE"] == {"سنواصل العمل حتى نهاية الموسم"} and got["SOURCE"] == {"رئيس البعثة"}
    assert_invariants(text)


def test_an_acronym_in_parentheses_stays_in_the_source():
    text = "حذّرت منظمة الأغذية والزراعة (فاو) من أن الجفاف يهدد المحاصيل."
    assert spans(text)["SOURCE"] == {"منظمة الأغذية والزراعة (فاو)"}
