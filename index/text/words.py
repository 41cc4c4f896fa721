"""Words: what one is, and the word lists the modules share.

A word is a run of letters and digits of any script together with the Arabic and
Devanagari marks written on them. Python's `\\w` has the letters but not the marks, so a
vowelled Arabic word (مُحَمَّد) would fall apart at every haraka, and a Hindi one (पुतिन)
at every vowel sign; `WORD` and its variants add them. Latin
combining accents are not word characters: text arrives composed (é, not e + U+0301), and
the one common exception, the dot that Python's lower() leaves after Turkish İ (i +
U+0307), has always split the word in BM25 tokens, so existing indexes depend on it.

The lists are written as people type them. Modules that compare words in folded form
(BM25, follow-up rules) fold them with `index.text.folding.folded_words`; language
detection reads them as typed, because folding would erase exactly the Persian letters
(ی ک) that tell Persian from Arabic.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.metadata import distribution
from pathlib import Path
from types import MappingProxyType

from index.text.folding import folded_words
from index.text.scripts import MARKS, char_class

#: Letters and digits (not "_"), then any run of them and combining marks (`MARKS`),
#: written unrolled (runs of letters are matched at once: BM25 tokenizes every chunk with it).
_WORD = rf"[^\W_]+(?:[{char_class(MARKS)}]+[^\W_]*)*"

#: A word: letters and digits with their marks ("مُحَمَّد", "2023", "Lavrov").
WORD = re.compile(_WORD)
#: A word and the parts hyphenated to it ("al-Assad", "Saint-Pétersbourg"). An apostrophe
#: separates: follow-up rules must see the article of "l'Iran" apart from the name.
HYPHENATED_WORD = re.compile(rf"{_WORD}(?:-{_WORD})*")
#: A name as written: parts joined by hyphens or apostrophes stay one word ("O'Brien",
#: "al-Assad", "Jordan's", whose possessive the caller strips). For grounding, which
#: checks whole names.
NAME_WORD = re.compile(rf"{_WORD}(?:[-'’]{_WORD})*")

#: Words that open a question, by language, as typed.
QUESTION_WORDS: Mapping[str, frozenset[str]] = {
    code: frozenset(unicodedata.normalize("NFC", words).split())
    for code, words in {
        "en": "what who whom whose which when where why how",
        "fr": "que quoi qui quel quelle quels quelles lequel laquelle lesquels lesquelles quand où "
        "comment pourquoi combien",
        "es": "qué quién quiénes cuál cuáles cuándo dónde adónde cómo cuánto cuánta cuántos cuántas",
        "de": "was wer wen wem wessen welche welcher welches welchen welchem wann wo warum wieso "
        "weshalb weswegen wie wieviel worüber worauf woran womit wofür wozu wohin woher wovon "
        "wodurch worin woraus worum wogegen",
        "ru": "что кто когда где куда откуда почему зачем отчего как какой какая какое какие "
        "какую каким каких какого каком какому каков какова каково каковы чей чья чьё чьи "
        "который которая которое которые которого которой котором сколько насколько чего "
        "чему чем чём кого кому кем ли",
        "tr": "ne neden niçin niye nasıl kim kime kimi kimin kimden nerede nereye nereden neresi "
        "hangi hangisi kaç kaçta kaçıncı",
        "it": "cosa che chi quando dove perché come quale quali quanto quanta quanti quante",
        "pt": "que quem qual quais quando onde como porque porquê quanto quanta quantos quantas",
        "id": "apa apakah siapa siapakah kapan mengapa kenapa bagaimana berapa mana dimana",
        # and as informal Arabic writes ما هو, بـ ماذا, ... as one word (ماهي is Mahé to the
        # lexicon too); not لأي, which with a conjunction is فلاي (flydubai's فلاي دبي)
        "ar": "ما ماذا من متى أين كيف لماذا هل كم أي لمن "
        "ماهو ماهي ماهى ماهم بماذا عماذا ممن عمن بمن بأي مالذي ماالذي",
        "fa": "چه چرا کجا چگونه آیا کدام کی",
        "ur": "کیا کون کب کہاں کیوں",
        "hi": "क्या कौन कौनसा कौनसी कौनसे किस किसने किसे किसको किसका किसकी किसके कब कहाँ कहां "
        "किधर क्यों कैसे कैसा कैसी कितना कितनी कितने",
        # not কাদের ("whose"): also the name Quader
        "bn": "কী কি কে কারা কাকে কার কোন কোনটি কোনগুলো কোনো কোথায় কোথা কখন কবে কেন কীভাবে "
        "কিভাবে কিসে কিসের কীসের কেমন কত কততম কতটি কতজন কতবার কতক্ষণ কতদিন কতগুলো কয়টি কয়জন",
        "el": "τι ποιος ποια ποιο ποιοι ποιες ποιον ποιας ποιου ποιων ποιους ποιανού ποιανής ποιανών "
        "ποιανούς πότε πού πώς γιατί πόσος πόση πόσο πόσου πόσης πόσοι πόσες πόσα πόσων πόσους",
        "hy": "ինչ ինչը ինչի ով ովքեր ում երբ որտեղ ինչպես ինչու քանի որ որը որոնք որի",
        "ka": "რა რამ რომელი რომელმა რომელიც როდის სად ვინ ვის როგორ რატომ რამდენი რაზე "
        "რისთვის რის",
        "am": "ምን ምንድን ምንድነው ማን ማንን መቼ የት እንዴት ለምን ስንት የትኛው የትኛውን የትኛዋ",
    }.items()
}

#: Short, frequent function words of each language, its question words included. They
#: are signals for language detection and, for other modules, words that are never the
#: topic of a question. As typed (see the module docstring).
STOPWORDS: Mapping[str, frozenset[str]] = {
    code: frozenset(unicodedata.normalize("NFC", words).split()) | QUESTION_WORDS.get(code, frozenset())
    for code, words in {
        "en": "the a an of to in on at by for from with about and or but did does do is are "
        "was were be been has have had this that these those it its he she they their his her "
        "said say says between according besides after before during since until while if "
        "as over under against among through despite can could will would shall should may "
        "might must",
        "fr": "le la les l un une des du de d qu et ou est sont été a ont avec pour dans sur par "
        "au aux ce cette ces il elle ils elles leur son sa ses entre contre vers chez selon à "
        "après avant pendant depuis malgré outre est-ce",
        "es": "el la los las un una unos unas de del y o es son fue era ha han que por para con "
        "en sobre al su sus se lo entre contra hacia desde según además después antes durante "
        "tras",
        "de": "der die das den dem des ein eine einer einen und oder ist sind war waren hat "
        "haben wurde mit von vom zu zum zur im in auf über für bei nach nicht auch sich "
        "zwischen gegen laut gemäß bis seit vor während außer trotz",
        "ru": "и или но не в во на о об обо по до с со к ко из за от для при у про между "
        "против после согласно через перед без над под около среди кроме вокруг это этот "
        "эта эти был была были было его её их он она они",
        "tr": "ve veya bir bu şu ile için mi mı mu mü da de ki hakkında arasında olan olarak "
        "gibi daha çok ya peki",
        "it": "il lo la i gli le un una uno di del della dello dei degli delle e ed è sono era "
        "con per tra fra su sul sulla nel nella al alla dal dalla non anche secondo dopo "
        "prima durante",
        "pt": "o a os as um uma de do da dos das e é são foi era por para com em no na nos nas "
        "ao aos sobre entre não também segundo conforme após antes durante",
        "id": "yang dan di ke dari dengan untuk tentang adalah ini itu dalam pada tidak akan "
        "oleh sudah atau juga",
        "ar": "في من على إلى الى عن مع الذي التي هذا هذه ذلك كان كانت قد لم لن أن إن بين حول",
        "fa": "است را از با این آن که در برای می شد شده بود یک درباره های",
        "ur": "کے کی کا ہے ہیں میں نے سے اور یہ وہ",
        "hi": "का की के को में से ने पर और या है हैं था थी थे हो होता होती होते होने होना गया गई "
        "गए गयी किया कर करने करते करता करती एक यह वह ये वे इस उस इन उन तक लिए भी नहीं जो जब "
        "तो साथ बाद पहले द्वारा अपने अपनी अपना रहा रही रहे सकता सकती सकते बारे दौरान बीच "
        "अनुसार किसी कोई कुछ सबसे बहुत",
        "bn": "এর এবং ও বা থেকে সঙ্গে সাথে জন্য মধ্যে সম্পর্কে পর পরে আগে করে করেন করেছিলেন "
        "করেছেন করেছিল করা করার করতে হয় হয়েছিল হয়েছে হয়েছিলেন ছিল ছিলেন একটি এক এই ওই সেই "
        "সে তার তাঁর তাঁকে তাকে তিনি তারা যে যা না নয় নি দিয়ে দ্বারা উপর নিয়ে বলে বলেন "
        "বলেছেন অনুযায়ী কাছে প্রতি হলে হলো দিকে আছে যান বলা মারা হওয়ার গিয়েছিলেন সবচেয়ে বেশি "
        "অন্য সাল সালে সালের",
        "el": "ο η το οι τα του της των τον την και ή με σε από για στο στη στην στον στα "
        "στους στις που να θα είναι ήταν μετά πριν κατά μεταξύ σύμφωνα όταν ενώ αφού προς χωρίς "
        "μέχρι έως αντί παρά",
        "hy": "և կամ է էր են էին այս այդ այն իր նրա նրանց հետ համար մասին մեջ վրա",
        "ka": "და ან თუ რომ არის იყო ეს ის მისი მათ მიერ შემდეგ წინ დროს შესახებ ერთად "
        "უნდა",
        "am": "እና ወይም ነው ናቸው ነበር ነበሩ ይህ ያ ይህን ውስጥ ላይ ጋር",
    }.items()
}

#: German words that announce a noun, as typed (articles, possessives, demonstratives,
#: the interrogative welch-, and prepositions fused with an article): German capitalises
#: every noun, so a capitalised word after one of them ("der saudische Außenminister",
#: "beim Treffen") is a noun, not a name.
GERMAN_DETERMINERS = frozenset(
    "der die das den dem des ein eine einer einen einem eines kein keine keinen keinem keiner "
    "sein seine seinem seinen seiner seines ihr ihre ihrem ihren ihrer ihres unser unsere "
    "dieser diese diesem diesen dieses jener jene welche welcher welchen welchem welches "
    "beim im am zum zur vom ins".split()
)
#: German words that count what follows, a noun ("wie viele Tonnen", "zwei Fußballfans").
GERMAN_COUNTS = frozenset(
    "viel viele vielen wenige wenigen mehrere mehreren beide beiden sämtliche "
    "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig hundert tausend".split()
)
#: The particles Korean writes onto a noun, a name too (바레인은, "Bahrain" + topic): 은/는
#: topic, 이/가 subject, 을/를 object, 의 of, 에/에서/에게 at, to, 와/과 and, 로/으로 by,
#: 도 also, 만 only, ...; longest first.
KOREAN_PARTICLES = (
    "에서는", "에게서", "로부터", "으로는", "에서", "에게", "께서", "으로", "부터", "까지", "처럼", "보다",
    "와의", "과의", "에는", "은", "는", "이", "가", "을", "를", "의", "에", "와", "과", "로", "도", "만",
)
#: The case endings and postpositions Georgian and Armenian write onto a name (ლავროვმა,
#: Lavrov + ergative; ქუვეითთან, at Kuwait; Լավրովը, Lavrov + article; Քուվեյթի, of
#: Kuwait); longest first. Georgian's -ს and -ი are case endings on every name; Armenian's
#: endings of one letter are not cut: a name may end in one (Սուդան, Sudan, is not a
#: Սուդա + ն, and سوداء, black, is no Sudan), and a vowel left on costs a reading little.
NAME_ENDINGS: Mapping[str, tuple[str, ...]] = {
    "ka": ("ისთვის", "თვის", "იდან", "დან", "თან", "ით", "ის", "ში", "ზე", "მა", "ად", "ს", "ი"),
    "hy": ("ներից", "ներին", "ները", "ում", "ից", "ով", "ին"),
}
#: Every language's function and question words, case-folded: never a name.
_FUNCTION_WORDS = frozenset(word.casefold() for words in STOPWORDS.values() for word in words)
#: Function words of the languages STOPWORDS lacks: stopwords-iso (MIT; PyPI
#: `stopwordsiso`), 58 languages, read from the package's data file (importing the
#: package needs setuptools' pkg_resources, which a plain install lacks)...
ISO_STOPWORDS = ("stopwordsiso", "stopwordsiso/stopwords-iso.json")
#: ...and the question words its lists lack, which open most questions.
OTHER_QUESTION_WORDS: Mapping[str, str] = {
    "nl": "hoeveel waarover waarmee", "da": "hvilket hvilke", "no": "hvilket",
    "pl": "jaka czym kogo komu czego", "cs": "jaký jaká jaké čem koho komu čeho", "sk": "kedy koľko",
    "hr": "tko gdje zašto koliko čemu kome", "sl": "kateri katera katero koliko", "ro": "câți",
    "fi": "montako", "uk": "хто чому яка яке які скільки", "bg": "коя кое кои",
    "sw": "nani wapi lini vipi ngapi gani", "tl": "kailan", "lt": "kodėl",
    "lv": "kas kur kad kāpēc kurš kura cik", "et": "kes kus millal kuidas miks milline",
    "ca": "quantes quants",
}  # fmt: skip
#: What `qa.language.detect_language` reports for several languages that it tells apart
#: by script only (Cyrillic is "ru"), with those of them whose words STOPWORDS lacks.
_REPORTED_AS = {"ru": ("uk", "bg")}
#: stopwords-iso writes Romanian's ș and ț with the cedilla (ş, ţ) that older keyboards
#: typed; both are read as the comma below.
_COMMA_BELOW = str.maketrans("şţŞŢ", "șțȘȚ")
#: A French or Italian elided word glued to the next: l'Iran, d'Égypte, qu'a, dell'Arabia
#: (not O'Brien).
_ELISION = re.compile(
    r"^(?:l|d|j|m|n|s|t|c|qu|lorsqu|puisqu|jusqu|un|dell|all|dall|nell|sull|quell)['’](?=[^\W\d_])",
    re.IGNORECASE,
)


def without_elision(word: str) -> str:
    """The word without a glued elided article ("l'Iran" -> "Iran", "Qu'a" -> "a")."""
    return _ELISION.sub("", word)


def is_function_word(word: str, languages: Sequence[str] = ()) -> bool:
    """A function or question word of some listed language ("What", "Selon", "Qu'a", "В"),
    or of one of `languages` that STOPWORDS does not list ("Waar", "Gdzie", "Що"), by
    stopwords-iso and `OTHER_QUESTION_WORDS`.

    Such a word opening a question is capitalised only because it opens it; any other
    capitalised first word is taken for a name ("Erdoğan, Putin ile ne görüştü?").
    stopwords-iso's long lists are read for the languages a text may be in
    (`qa.language.possible_languages`), never all at once: across its 58 they hold names
    (Fas, Morocco in Turkish, is a Catalan word; Amerika is in Malay's list).
    """
    folded = unicodedata.normalize("NFC", word).casefold()
    if folded in _FUNCTION_WORDS or without_elision(folded) in _FUNCTION_WORDS:
        return True
    others = [code for language in languages
              for code in _REPORTED_AS.get(language, () if language in STOPWORDS else (language,))]
    folded = folded.translate(_COMMA_BELOW)
    return any(folded in other_function_words().get(code, ()) for code in others)


@cache
def other_function_words() -> Mapping[str, frozenset[str]]:
    """stopwords-iso's words and `OTHER_QUESTION_WORDS` by language, NFC and case-folded."""
    package, data = ISO_STOPWORDS
    lists = json.loads(Path(str(distribution(package).locate_file(data))).read_text(encoding="utf-8"))
    for code, words in OTHER_QUESTION_WORDS.items():
        lists[code] = [*lists.get(code, ()), *words.split()]
    return MappingProxyType({
        code: frozenset(unicodedata.normalize("NFC", w).casefold().translate(_COMMA_BELOW) for w in words)
        for code, words in lists.items()
    })


#: Arabic writes a pronoun onto the preposition before it (عليها "on it", منهم "of them",
#: لديه "he has"): a function word whatever the pronoun. Snowball leaves most of them
#: whole (منها) or stems them to a stopword (عليها -> علي), which no text's tokens then
#: hold. A letter met twice is written once (منا, عنا). Not ي, "me": لي and بي are
#: also names' syllables (لي كه تشيانغ, بي بي سي).
ARABIC_PREPOSITIONS_WITH_PRONOUNS = frozenset(
    preposition + pronoun[preposition[-1] == pronoun[0]:]
    for preposition in ("في", "من", "عن", "مع", "عند", "علي", "إلي", "لدي", "ل", "ب")
    for pronoun in ("ه", "ها", "هما", "هم", "هن", "ك", "كم", "نا")
)

#: BM25 stopwords, folded: function and question words match nearly every chunk, so they
#: only add noise (questions are full of them: "ماذا ناقش لافروف مع الكويت؟"). Kept short
#: on purpose: anything with content (بعد, قبل, بين, not) stays searchable. Note على
#: folds to علي, the name Ali; both are swamped by the preposition anyway.
SEARCH_STOPWORDS: Mapping[str, frozenset[str]] = {
    "ar": folded_words(QUESTION_WORDS["ar"]) | folded_words(
        "في من على إلى عن مع أن إن أو ثم التي الذي الذين ما لا لم لن هذا هذه ذلك تلك "
        "هو هي كان كانت قد و"
    ) | folded_words(" ".join(ARABIC_PREPOSITIONS_WITH_PRONOUNS)),
    "en": folded_words(QUESTION_WORDS["en"]) | folded_words(
        "the a an of to in on with did does do is are was were be been and or for by at from "
        "as it its this that these those has have had about into"
    ),
}
