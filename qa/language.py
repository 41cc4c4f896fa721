"""Which language a question is in, and the few fixed phrases the assistant says in it.

The assistant answers in the language it was asked in, offline, so detection must work
on one short question without a model: the writing system decides first (it is nearly
always decisive), and only Latin and Arabic script, each shared by several languages we
expect, need a closer look at function words and letters. Text that mixes scripts (an
English question about "لافروف") belongs to the script with the most letters.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from index.text.scripts import script_counts
from index.text.words import STOPWORDS, WORD
from qa.parsed_cache import read_parsed

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

#: Languages that are the only ones, among those a news reader asks in, to write their
#: script. Latin and Arabic are shared and looked at closer; "han" and "kana" together are
#: Chinese or Japanese.
_LANGUAGE_OF_SCRIPT: Mapping[str, str] = {
    "greek": "el", "cyrillic": "ru", "armenian": "hy", "hebrew": "he", "devanagari": "hi",
    "bengali": "bn", "gurmukhi": "pa", "gujarati": "gu", "oriya": "or", "tamil": "ta",
    "telugu": "te", "kannada": "kn", "malayalam": "ml", "thai": "th", "georgian": "ka", "ethiopic": "am",
    "hangul": "ko",
}  # fmt: skip

#: Snowball's stemmer of each language that has one, for words in their inflected forms.
SNOWBALL: Mapping[str, str] = {
    "en": "english", "fr": "french", "es": "spanish", "pt": "portuguese", "it": "italian",
    "de": "german", "tr": "turkish", "ru": "russian",
}  # fmt: skip

#: Latin languages in tie-break order: English wins a tie, so signal-free text is English.
_LATIN_LANGUAGES = ("en", "fr", "es", "de", "tr", "it", "pt", "id")

#: Other languages written in Latin script that news readers ask in, for which we have no
#: phrases, function words or dictionary. Our function words and letters alone would name
#: one of ours for them (Vietnamese ì and à as Italian, Polish "o" as Spanish, Swahili
#: "na" as Portuguese) and answer in it; py3langid's model, restricted to both lists,
#: tells them apart, and they are answered with English phrases. (Not Malay: it takes
#: plain Indonesian questions, and its readers read Indonesian phrases.)
_OTHER_LATIN_LANGUAGES = (
    "vi", "pl", "nl", "sw", "cs", "sk", "ro", "hu", "sv", "da", "no", "fi", "hr", "sl", "lt",
    "lv", "et", "tl", "so", "ha", "az", "uz", "sq", "ca", "eu", "gl", "af", "is", "ga", "cy", "mt", "eo", "la",
)  # fmt: skip
#: How sure py3langid must be of a question's language to decide it: short questions in
#: our languages give another language at most about half (Qui est Lavrov ? Latin), once
#: the names are left out (`_without_names`); where it is this sure of one of ours, it is
#: right more often than our function words on the questions of tests/data
#: (docs/benchmarks.md).
_IDENTIFIER_CONFIDENCE = 0.7
#: How likely py3langid must find a language for a Latin-script question to be read as
#: possibly in it (`possible_languages`): a short question often gives its own less than
#: `_IDENTIFIER_CONFIDENCE`, shared with a near one (Dutch and Afrikaans, Danish and
#: Norwegian; docs/benchmarks.md).
_POSSIBLE_LANGUAGE = 0.25
#: A capitalised word after the first: a name, which says nothing of the question's
#: language (Qui est Lech Kaczyński ? is French, not Polish).
_NAME_AFTER_FIRST = re.compile(r"(?<=\W)[^\W\d_][\w'’-]*", re.UNICODE)

#: Letters and marks that only some Latin-script languages use; each occurrence counts
#: like one function word for every language listed.
_LATIN_MARKS: Mapping[str, tuple[str, ...]] = {
    "ß": ("de",), "ä": ("de",), "ö": ("de", "tr"), "ü": ("de", "tr"),
    "ç": ("fr", "pt", "tr"), "ğ": ("tr",), "ı": ("tr",), "ş": ("tr",), "İ": ("tr",),
    "ñ": ("es",), "¿": ("es",), "¡": ("es",), "ã": ("pt",), "õ": ("pt",),
    "œ": ("fr",), "ë": ("fr",), "î": ("fr",), "ï": ("fr",), "û": ("fr",),
    "è": ("fr", "it"), "ù": ("fr", "it"), "ê": ("fr", "pt"), "â": ("fr", "pt"),
    "ô": ("fr", "pt"), "à": ("fr", "it", "pt"), "ò": ("it",), "ì": ("it",),
    "á": ("es", "pt"), "í": ("es", "pt"), "ó": ("es", "pt"), "ú": ("es", "pt"),
}  # fmt: skip

#: Letters that Arabic does not have: Urdu-only ones, and Persian ones Urdu shares.
_URDU_LETTERS = frozenset("ٹڈڑںےۓہ")
_PERSIAN_LETTERS = frozenset("پچژگکی")
#: Arabic spellings that Persian and Urdu write differently (ی for ي, ک for ك) or never.
_ARABIC_LETTERS = frozenset("يكةى")


def _count_words(words: Iterable[str], code: str) -> int:
    return sum(word in STOPWORDS[code] for word in words)


@lru_cache(maxsize=1024)
def _latin_language(text: str) -> str:
    """The language py3langid is sure of (ours or one of `_OTHER_LATIN_LANGUAGES`), else
    function words plus telltale letters; English when nothing speaks for another.
    (Remembered: one question is looked at by several steps.)"""
    language, confidence = _identifier().classify(_without_names(text))
    if confidence >= _IDENTIFIER_CONFIDENCE:
        return language
    words = WORD.findall(text.lower())
    scores = Counter({code: _count_words(words, code) for code in _LATIN_LANGUAGES})
    for char in text:
        scores.update(_LATIN_MARKS.get(char.lower()) or _LATIN_MARKS.get(char, ()))
    return max(_LATIN_LANGUAGES, key=lambda code: scores[code])


@lru_cache(maxsize=1024)
def possible_languages(text: str) -> tuple[str, ...]:
    """The languages `text` may be in: `detect_language`'s, and for Latin script those
    py3langid finds likely (`_POSSIBLE_LANGUAGE`) though it is not sure of any. For
    telling a question's opening word from a name (`index.text.words.is_function_word`)
    in a language we have no words of; not for choosing the answer's language."""
    detected = detect_language(text)
    if detected not in (*_LATIN_LANGUAGES, *_OTHER_LATIN_LANGUAGES):  # decided by its script
        return (detected,)
    ranked = _identifier().rank(_without_names(text))
    return tuple(dict.fromkeys([detected, *(code for code, p in ranked if p >= _POSSIBLE_LANGUAGE)]))


def _without_names(text: str) -> str:
    """The text less its capitalised words after the first (`_NAME_AFTER_FIRST`)."""
    return _NAME_AFTER_FIRST.sub(lambda m: "" if m[0][:1].isupper() else m[0], text)


def _identifier() -> "LanguageIdentifier":
    """py3langid's model over our Latin-script languages and the others; loaded once, on
    the first Latin-script question (`qa serve` asks one while warming up)."""
    with _LOADING:
        return _loaded_identifier()


_LOADING = threading.Lock()


@lru_cache(maxsize=1)
def _loaded_identifier() -> "LanguageIdentifier":
    """The model as `_read_identifier` makes it, read back from `qa.parsed_cache` after
    the first time on a machine (its compressed file takes a second to unpack)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return read_parsed("language-identifier", [MODEL_DIR / MODEL_FILE], _read_identifier, libraries=("py3langid",))


def _read_identifier() -> "LanguageIdentifier":
    """py3langid's model, over our Latin-script languages and the others it tells apart."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([*_LATIN_LANGUAGES, *_OTHER_LATIN_LANGUAGES])
    return identifier


def _arabic_script_language(text: str) -> str:
    """Arabic unless Persian or Urdu letters and words outweigh Arabic's own.

    Persian letters alone are not enough: Arabic typed on a Persian keyboard has ی and
    ک too, so they must outweigh Arabic-only letters and Arabic function words. Urdu
    shares the Persian letters, so Urdu against Persian is decided by Urdu-only letters
    and words against Persian-only words.
    """
    words = WORD.findall(text)
    letters = Counter(text)
    arabic = sum(letters[c] for c in _ARABIC_LETTERS) + 2 * _count_words(words, "ar")
    persian_words = 2 * _count_words(words, "fa")
    urdu = sum(letters[c] for c in _URDU_LETTERS) + 2 * _count_words(words, "ur")
    persian_letters = sum(letters[c] for c in _PERSIAN_LETTERS)
    if persian_letters + persian_words + urdu <= arabic:
        return "ar"
    return "ur" if urdu > persian_words else "fa"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language `text` is written in; "en" when there is no signal."""
    scripts = script_counts(text)
    if not scripts:
        return "en"
    cjk = scripts.pop("han", 0) + scripts.get("kana", 0)
    if cjk:  # Japanese mixes kana into Han; Chinese never writes kana
        scripts["ja" if scripts.pop("kana", 0) else "zh"] = cjk
    script = max(scripts, key=lambda name: scripts[name])
    if script == "latin":
        return _latin_language(text)
    if script == "arabic":
        return _arabic_script_language(text)
    return _LANGUAGE_OF_SCRIPT.get(script, script)


@dataclass(frozen=True)
class Phrases:
    """Everything the assistant says in a language that does not come from an article."""

    code: str
    #: English name of the language, for instructions to a language model.
    name: str
    #: Lead line of an answer; `{sources}` is filled with `join_list` of the sources.
    according_to: str
    #: What joins the last two list items; Arabic "و" attaches to the next word.
    list_and: str
    list_sep: str
    abstain: str
    #: Why, when the nearest article lacks some of what was asked: `{found}` and
    #: `{missing}` are `join_list`s of the question's own words.
    found_but_not: str
    not_found: str
    nearest: str
    llm_unavailable: str
    llm_uncited: str
    #: Label for the query that was actually searched after a follow-up was rewritten.
    searched: str


_PHRASES: Mapping[str, Phrases] = {
    p.code: p
    for p in (
        Phrases(
            code="en", name="English",
            according_to="According to {sources}:", list_and=" and ", list_sep=", ",
            abstain="I could not find this in the indexed articles.",
            found_but_not="The nearest article mentions {found}, but not {missing}.",
            not_found="The nearest article does not mention {missing}.",
            nearest="Nearest passages, not an answer",
            llm_unavailable="The language model could not be reached, so the answer "
            "below is extracted from the articles.",
            llm_uncited="The language model's answer cited no source, so the answer "
            "extracted from the articles is shown instead.",
            searched="Searched for",
        ),
        Phrases(
            code="ar", name="Arabic",
            according_to="بحسب {sources}:", list_and=" و", list_sep="، ",
            abstain="لم أجد هذا في المقالات المفهرسة.",
            found_but_not="أقرب مقال يذكر {found}، لكنه لا يذكر {missing}.",
            not_found="أقرب مقال لا يذكر {missing}.",
            nearest="أقرب المقاطع، وليست إجابة",
            llm_unavailable="تعذّر الوصول إلى النموذج اللغوي، لذا فالإجابة أدناه "
            "مستخرجة من المقالات.",
            llm_uncited="لم تستشهد إجابة النموذج اللغوي بأي مصدر، لذا تُعرض بدلاً منها "
            "الإجابة المستخرجة من المقالات.",
            searched="تم البحث عن",
        ),
        Phrases(
            code="fr", name="French",
            according_to="Selon {sources} :", list_and=" et ", list_sep=", ",
            abstain="Je n'ai pas trouvé cette information dans les articles indexés.",
            found_but_not="L'article le plus proche mentionne {found}, mais pas {missing}.",
            not_found="L'article le plus proche ne mentionne pas {missing}.",
            nearest="Passages les plus proches, pas une réponse",
            llm_unavailable="Le modèle de langue n'a pas pu être joint ; la réponse "
            "ci-dessous est donc extraite des articles.",
            llm_uncited="La réponse du modèle de langue ne citait aucune source ; la "
            "réponse extraite des articles est donc affichée à la place.",
            searched="Recherche effectuée",
        ),
        Phrases(
            code="es", name="Spanish",
            according_to="Según {sources}:", list_and=" y ", list_sep=", ",
            abstain="No encontré esto en los artículos indexados.",
            found_but_not="El artículo más cercano menciona {found}, pero no {missing}.",
            not_found="El artículo más cercano no menciona {missing}.",
            nearest="Pasajes más cercanos, no una respuesta",
            llm_unavailable="No se pudo contactar con el modelo de lenguaje, así que la "
            "respuesta siguiente se ha extraído de los artículos.",
            llm_uncited="La respuesta del modelo de lenguaje no citaba ninguna fuente, así "
            "que se muestra en su lugar la respuesta extraída de los artículos.",
            searched="Se buscó",
        ),
        Phrases(
            code="de", name="German",
            according_to="Laut {sources}:", list_and=" und ", list_sep=", ",
            abstain="Dazu habe ich in den indexierten Artikeln nichts gefunden.",
            found_but_not="Der nächstliegende Artikel nennt {found}, aber nicht {missing}.",
            not_found="Der nächstliegende Artikel nennt {missing} nicht.",
            nearest="Ähnlichste Textstellen, keine Antwort",
            llm_unavailable="Das Sprachmodell war nicht erreichbar, daher ist die folgende "
            "Antwort aus den Artikeln entnommen.",
            llm_uncited="Die Antwort des Sprachmodells nannte keine Quelle, daher wird "
            "stattdessen die aus den Artikeln entnommene Antwort angezeigt.",
            searched="Gesucht wurde nach",
        ),
        Phrases(
            code="ru", name="Russian",
            according_to="Согласно {sources}:", list_and=" и ", list_sep=", ",
            abstain="В проиндексированных статьях этого не найдено.",
            found_but_not="В ближайшей статье упоминается {found}, но не {missing}.",
            not_found="В ближайшей статье не упоминается {missing}.",
            nearest="Ближайшие фрагменты, а не ответ",
            llm_unavailable="Не удалось связаться с языковой моделью, поэтому ответ ниже "
            "извлечён из статей.",
            llm_uncited="Ответ языковой модели не ссылался ни на один источник, поэтому "
            "вместо него показан ответ, извлечённый из статей.",
            searched="Поисковый запрос",
        ),
        Phrases(
            code="tr", name="Turkish",
            # "göre" needs a case suffix on the source name; this form needs none.
            according_to="{sources} tarafından bildirildiğine göre:",
            list_and=" ve ", list_sep=", ",
            abstain="Bunu dizine eklenmiş makalelerde bulamadım.",
            found_but_not="En yakın makalede {found} geçiyor, ancak {missing} geçmiyor.",
            not_found="En yakın makalede {missing} geçmiyor.",
            nearest="En yakın pasajlar, bir yanıt değil",
            llm_unavailable="Dil modeline ulaşılamadı, bu nedenle aşağıdaki yanıt "
            "makalelerden çıkarıldı.",
            llm_uncited="Dil modelinin yanıtı hiçbir kaynak göstermedi, bu nedenle onun "
            "yerine makalelerden çıkarılan yanıt gösteriliyor.",
            searched="Aranan",
        ),
        Phrases(
            code="pt", name="Portuguese",
            according_to="Segundo {sources}:", list_and=" e ", list_sep=", ",
            abstain="Não encontrei isto nos artigos indexados.",
            found_but_not="O artigo mais próximo menciona {found}, mas não {missing}.",
            not_found="O artigo mais próximo não menciona {missing}.",
            nearest="Passagens mais próximas, não uma resposta",
            llm_unavailable="Não foi possível contatar o modelo de linguagem, por isso a "
            "resposta abaixo foi extraída dos artigos.",
            llm_uncited="A resposta do modelo de linguagem não citou nenhuma fonte, por isso "
            "é mostrada em seu lugar a resposta extraída dos artigos.",
            searched="Pesquisado",
        ),
        Phrases(
            code="it", name="Italian",
            according_to="Secondo {sources}:", list_and=" e ", list_sep=", ",
            abstain="Non ho trovato questa informazione negli articoli indicizzati.",
            found_but_not="L'articolo più vicino menziona {found}, ma non {missing}.",
            not_found="L'articolo più vicino non menziona {missing}.",
            nearest="Passaggi più vicini, non una risposta",
            llm_unavailable="Non è stato possibile raggiungere il modello linguistico, quindi "
            "la risposta qui sotto è estratta dagli articoli.",
            llm_uncited="La risposta del modello linguistico non citava alcuna fonte, quindi "
            "viene mostrata al suo posto la risposta estratta dagli articoli.",
            searched="Cercato",
        ),
        Phrases(
            code="zh", name="Chinese",
            according_to="据{sources}：", list_and="和", list_sep="、",
            abstain="我在已索引的文章中没有找到这一信息。",
            found_but_not="最接近的文章提到了{found}，但没有提到{missing}。",
            not_found="最接近的文章没有提到{missing}。",
            nearest="最接近的段落，并非答案",
            llm_unavailable="无法连接语言模型，因此下面的答案是从文章中摘录的。",
            llm_uncited="语言模型的答案没有引用任何来源，因此改为显示从文章中摘录的答案。",
            searched="搜索内容",
        ),
        Phrases(
            code="hi", name="Hindi",
            according_to="{sources} के अनुसार:", list_and=" और ", list_sep=", ",
            abstain="मुझे यह जानकारी अनुक्रमित लेखों में नहीं मिली।",
            found_but_not="सबसे नज़दीकी लेख में {found} का उल्लेख है, लेकिन {missing} का नहीं।",
            not_found="सबसे नज़दीकी लेख में {missing} का उल्लेख नहीं है।",
            nearest="सबसे नज़दीकी अंश, उत्तर नहीं",
            llm_unavailable="भाषा मॉडल से संपर्क नहीं हो सका, इसलिए नीचे दिया गया उत्तर "
            "लेखों से निकाला गया है।",
            llm_uncited="भाषा मॉडल के उत्तर में किसी स्रोत का हवाला नहीं था, इसलिए उसकी "
            "जगह लेखों से निकाला गया उत्तर दिखाया जा रहा है।",
            searched="खोजा गया",
        ),
        Phrases(
            code="fa", name="Persian",
            according_to="به گزارش {sources}:", list_and=" و ", list_sep="، ",
            abstain="این مورد را در مقاله‌های نمایه‌شده پیدا نکردم.",
            found_but_not="نزدیک‌ترین مقاله از {found} نام می‌برد، اما نه از {missing}.",
            not_found="نزدیک‌ترین مقاله از {missing} نامی نمی‌برد.",
            nearest="نزدیک‌ترین بخش‌ها، نه یک پاسخ",
            llm_unavailable="دسترسی به مدل زبانی ممکن نشد، بنابراین پاسخ زیر از "
            "مقاله‌ها استخراج شده است.",
            llm_uncited="پاسخ مدل زبانی به هیچ منبعی استناد نکرد، بنابراین به جای آن "
            "پاسخ استخراج‌شده از مقاله‌ها نمایش داده می‌شود.",
            searched="جست‌وجو برای",
        ),
        Phrases(
            code="ur", name="Urdu",
            according_to="{sources} کے مطابق:", list_and=" اور ", list_sep="، ",
            abstain="مجھے یہ بات انڈیکس کیے گئے مضامین میں نہیں ملی۔",
            found_but_not="قریب ترین مضمون میں {found} کا ذکر ہے، لیکن {missing} کا نہیں۔",
            not_found="قریب ترین مضمون میں {missing} کا ذکر نہیں۔",
            nearest="قریب ترین اقتباسات، جواب نہیں",
            llm_unavailable="لسانی ماڈل سے رابطہ نہیں ہو سکا، اس لیے نیچے دیا گیا جواب "
            "مضامین سے اخذ کیا گیا ہے۔",
            llm_uncited="لسانی ماڈل کے جواب میں کسی ماخذ کا حوالہ نہیں تھا، اس لیے اس کی "
            "جگہ مضامین سے اخذ کیا گیا جواب دکھایا جا رہا ہے۔",
            searched="تلاش کی گئی",
        ),
        Phrases(
            code="bn", name="Bengali",
            according_to="{sources} অনুসারে:", list_and=" ও ", list_sep=", ",
            abstain="সূচিভুক্ত নিবন্ধগুলোতে আমি এটি খুঁজে পাইনি।",
            found_but_not="নিকটতম নিবন্ধে {found} আছে, কিন্তু {missing} নেই।",
            not_found="নিকটতম নিবন্ধে {missing} নেই।",
            nearest="নিকটতম অনুচ্ছেদ, উত্তর নয়",
            llm_unavailable="ভাষা মডেলের সঙ্গে যোগাযোগ করা যায়নি, তাই নিচের উত্তরটি "
            "নিবন্ধগুলো থেকে নেওয়া হয়েছে।",
            llm_uncited="ভাষা মডেলের উত্তরে কোনো সূত্রের উল্লেখ ছিল না, তাই তার বদলে "
            "নিবন্ধগুলো থেকে নেওয়া উত্তর দেখানো হচ্ছে।",
            searched="যা খোঁজা হয়েছে",
        ),
    )
}  # fmt: skip


def phrases_for(code: str) -> Phrases:
    """The phrases for a language code ("ar", "AR", "ar-EG"); English if we have none."""
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return _PHRASES.get(primary, _PHRASES["en"])


def join_list(items: Sequence[str], phrases: Phrases) -> str:
    """Items as prose: "a", "a and b", "a, b and c"; in Arabic "أ، ب وج"."""
    if len(items) < 2:
        return "".join(items)
    return phrases.list_sep.join(items[:-1]) + phrases.list_and + items[-1]
