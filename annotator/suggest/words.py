"""Closed word classes the rule engine reasons with, written plainly and folded once (annotator.text.fold), so
the rules compare folded token forms."""

from __future__ import annotations

from annotator.text import fold


def _folded(words: str) -> frozenset[str]:
    return frozenset(fold(w).text for w in words.split())


# The particle that opens reported content; the claim starts after it.
COMPLEMENTIZERS = _folded("أن إن بأن فإن")
# The particle with a pronoun attached: left out of the claim as a whole (أنه، إنها، بأنهم …).
COMPLEMENTIZERS_WITH_PRONOUN = _folded(
    "أنه أنها أنهم أنهما أنهن أنني أننا إنه إنها إنهم إنهما إنهن إنني إننا بأنه بأنها بأنهم بأنهما فإنه فإنها فإنهم"
)
# A preposition a cue governs before its content (أشار إلى أن، حذر من أن، شدد على أن): neither CUE nor SOURCE.
GOVERNED_PREPOSITIONS = _folded("من إلى على عن ب في")
# Words that end a source noun phrase wherever they come: time, circumstance and topic (قال الوزير خلال …).
SOURCE_STOPS = _folded(
    "خلال عقب أمام أثناء بعد قبل إثر وسط مع بشأن حول تعليقا ردا حيث عندما يوم أمس اليوم غدا مساء صباح "
    "ليلة الليلة الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة السبت أيضا كذلك مجددا لاحقا اليوم "
    "إن أن بأن فإن قد"
)
# Prepositions that end the source when the next word names the occasion (في تقريره، في بيان، على حسابه).
OCCASION_PREPOSITIONS = _folded("في على عبر ضمن من")
OCCASION_NOUNS = _folded(
    "تقرير تقريره تقريرها بيان بيانه بيانها مؤتمر مقابلة تصريح تصريحات مذكرة ندوة حساب صفحة رسالة كلمة حديث "
    "لقاء جلسة خطاب تغريدة تدوينة منشور اجتماع زيارة مداخلة إفادة شهادة موقع وقت ختام افتتاح اتصال رد سياق "
    "معرض حوار برنامج فيديو مقطع شريط بث إطلالة مناسبة تعليق منتدى قمة محاضرة نشرة تقارير منصة هامش"
)
# Addressees after a clitic ل (قال للصحفيين، صرح لوكالة …): not part of the source.
AUDIENCE_NOUNS = _folded(
    "الصحفيين صحفيين الصحافة الصحفي صحفي وكالة قناة التلفزيون تلفزيون الإذاعة إذاعة صحيفة جريدة موقع مراسل "
    "مراسلي وسائل الحضور الحاضرين المراسلين المشاركين النواب مجلة رويترز الأناضول سبوتنيك الجزيرة العربية "
    "فرانس أسوشيتد بي سي"
)
PRONOUNS = _folded("هو هي هم هما هن نحن أنا أنت أنتم")
# Before a cue, these open the noun phrase that is its subject (أما المدرب فقال، غير أن الخبراء يرون، لكن …).
SUBJECT_OPENERS = _folded("أما وأما لكن ولكن بينما فيما")
EXCEPTIVE = _folded("غير إلا")
KANA = _folded("كان وكان كانت وكانت")
QAD = _folded("قد")
# An apposition after a comma (وهي برقية …، وهو …): skipped between a بحسب phrase and its content.
APPOSITION_OPENERS = _folded("وهي وهو وهم وهما أي")
# Objects of بحسب / وفق that are not sources (وفق القانون، حسب الحاجة).
NOT_SOURCES = _folded(
    "القانون قانون الدستور دستور الاتفاق اتفاق الاتفاقية اتفاقية الخطة خطة الجدول جدول المعايير معايير الشروط "
    "شروط الأنظمة أنظمة القواعد قواعد اللوائح لوائح الإجراءات إجراءات الحاجة الظروف الأصول التعليمات تعليمات "
    "المرسوم القرار قرار المادة مادة البند الترتيب الأولوية الطلب السن الفئة النوع العمر الحالة الحالات "
    "المنطقة الموسم الخطط الأسعار ما لما الأحوال الاقتضاء المعمول النظام نظام مقتضيات"
)
# Nouns that name what follows in marks: a title, term or name, not someone's words (مصطلح "السيادة").
NAMING_NOUNS = _folded(
    "مصطلح كلمة عبارة وصف اسم شعار لقب رواية روايتها روايته كتاب كتابه فيلم شركة مصفاة حزب صحيفة مجلة عملية "
    "مبادرة مشروع أزمة برنامج مسلسل أغنية قصيدة مجموعة تنظيم حركة مؤسسة جمعية فندق مطعم مصنع منصة تطبيق "
    "مهرجان معرض ديوان مسرحية ألبوم حملة خطة قناة وكالة جريدة موقع باسم تسمية عنوان بعنوان"
)
# The words for a term, which name what follows in marks even with the article (المصطلح "…").
TERM_NOUNS = _folded("مصطلح كلمة عبارة شعار اسم لقب وصف عنوان تسمية")
# The preposition a verb cue governs before its topic (علق الوزير على القرار قائلا): it ends the source. By lemma.
VERB_PREPOSITIONS = {fold(lemma).text: fold(prep).text for lemma, prep in [("علق", "على"), ("تحدث", "عن"), ("نقل", "عن")]}
# Before a cue, «فقد» is the ف of «أما … ف» with قد (أما الوزير فقد أكد).
FAQAD = _folded("فقد")
# «لكن» with a pronoun attached: the speaker goes on (…، لكنه حذر …), the claim has ended.
BUT_WITH_PRONOUN = _folded("لكنه لكنها لكنهم لكنهما ولكنه ولكنها ولكنهم")
# A cue word right after these is a noun, not a reporting verb (مصدر طلب عدم ذكر اسمه).
NEGATING_NOUNS = _folded("عدم دون")
# Between a quotation, its comma and a post-posed cue: «…»، هكذا قالت …
THUS = _folded("هكذا")
ANN = _folded("عن")
# The speaker's next act after a comma ends the claim (أعلنت الهيئة أن …، ودعت المواطنين إلى …).
SPEAKER_ACTS = _folded(
    "ودعا ودعت ودعوا وطالب وطالبت وطالبوا وناشد وناشدت وحث وحثت وأعرب وأعربت وأعلن وأعلنت وقرر وقررت ودعتا وتعهد وتعهدت "
    "داعيا داعية مطالبا مطالبة محملا محملة مناشدا مناشدة متعهدا متعهدة مهددا مهددة ملوحا "
    "وتطالب ويطالب ويطالبون وتدعو ويدعو ويدعون وتناشد ويناشد"
)
# «وفق ما أعلنته الوزارة»، «بحسب ما أفادت به»: the source is the subject of the verb after ما.
MA = _folded("ما لما")
BIHI = _folded("به بها")
# The possessive pronouns a noun ends in (تقريره، مذكرتها، بيانهم، حديثهما), longest first. Not folded: they are
# matched on the stored word as well as on its folded form (folding leaves them as they are).
POSSESSIVE_SUFFIXES = ("هما", "هم", "ها", "ه")
# «لدى» ends a source before a masdar of the speaker (قال الوزير لدى وصوله), not in a title (السفير لدى الأمم المتحدة).
LADA = _folded("لدى")
# After «وفقا لمصادر …،» the particle «فقد» is left out like «فإن».
FAQAD_PARTICLES = _folded("فقد وقد")
