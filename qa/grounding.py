"""Is the question's subject actually in the evidence? The signal behind abstention.

Embedding similarity alone cannot tell "What did Lavrov discuss with Brazil?" from the
Kuwait question: both land on the same Lavrov passages with nearly the same cosine. What
differs is that "Brazil" is nowhere in them. So we check the question's salient terms
against the words of the retrieved passages, across scripts:

- names in a cased script (Latin, Cyrillic, Greek): capitalised words (the first one
  unless it is a function or question word: "Erdoğan, Putin ile ne görüştü?" but not
  "What did ..."; for the answer gate, in German, not a noun that a determiner
  announces, "der Außenminister", or that the German dictionary lists, `qa.nouns`),
  without an elided article (l'Iran) or a suffix after an apostrophe (Jordan's,
  Malezya'da), and numbers; matched against Arabic words by
  their consonant skeleton (Lavrov ~ لافروف, Kuwaiti ~ الكويتي, Al-Shabab ~ الشباب), or
  by exact spelling when the scripts agree;
- a word of an Arabic question: any content word, matched by its normalized, stemmed
  form. Persian and Urdu share the script, not the words (their کرد, "did", is Arabic's
  Kurds): their terms are their names (from the lexicon) and numbers, as Chinese ones are;
- names that are translated rather than transliterated (Jordan ~ الأردن, 新加坡 ~
  سنغافورة) by their names in other languages (`qa.lexicon`: countries, languages,
  cities, months), which also supplies the names of questions in scripts without
  capitals (Chinese, Hindi);
- what none of these catches is matched by word-level similarity of the second
  embedding model, when there is one.

`coverage` is the share of salient terms found; the answerer abstains below a threshold
calibrated on answerable and unanswerable questions (docs/abstention.md).
"""

from __future__ import annotations

import itertools
import re
import string
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import jaconv
import numpy as np
from anyascii import anyascii

from index.text.folding import normalize_for_search, to_ascii_digits
from index.text.scripts import (
    ARABIC_SCRIPT, HANGUL_SCRIPT, INDIC_BLOCK_SIZE, INDIC_RANGE, INDIC_SCRIPT, KATAKANA_WORD, LATIN_SCRIPT,
    ROMANISED_SCRIPT, UNCASED_ROMANISED_SCRIPT, is_unspaced,
)
from index.text.search import STRIPPED_LETTERS, search_readings, tokenize_for_search, without_conjunction
from index.text.words import (
    GERMAN_COUNTS, GERMAN_DETERMINERS, NAME_ENDINGS, NAME_WORD, is_function_word, without_elision,
)
from qa.language import detect_language, possible_languages
from qa.lexicon import (
    NAME_SUFFIX, Found, date_words, fold, fold_text, found_as, key_tokens, lexicon, names_in,
    other_names, written_whole,
)
from qa.nouns import Nouns, german_nouns
from qa.ordinals import numbers_in, ordinals_in

#: Word-level cosine (second model) above which a term counts as present in translation.
#: USE puts a name and its Arabic form at 0.72-0.91 and unrelated names at 0.45-0.69.
WORD_SIMILARITY = 0.75
#: How closely an Arabic spelling must resemble a name to stand for it (`resemblance`):
#: the BM25 spelling of a name in another script, and a name of a short skeleton found.
MIN_RESEMBLANCE = 0.8
#: A name whose skeleton has at most this many consonants is found in an Arabic word of
#: that skeleton only if the word also resembles it as written (`_spelled_by`).
SHORT_SKELETON = 2
#: Word vectors remembered between answers (512 float32 each: 2 KB a word).
WORD_MEMORY = 50_000

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
))
#: Devanagari as Latin letters that `_letters` reads: consonants without their inherent
#: vowel (Arabic does not write it either: पुतिन, putin ~ بوتين), vowels and vowel signs as
#: the vowels they are, व as w (a v or a w: the readings try both), and a letter with a
#: nukta as the sound it borrows (ज़: z, ख़: kh).
_DEVANAGARI = {
    **dict(zip("कखगघङचछजझञटठडढणतथदधनपफबभमयरलळवशषसह",
               ["k", "kh", "g", "gh", "n", "ch", "chh", "j", "jh", "n", "t", "th", "d", "dh", "n", "t", "th",
                "d", "dh", "n", "p", "f", "b", "bh", "m", "y", "r", "l", "l", "w", "sh", "sh", "s", "h"])),
    **dict(zip("अआइईउऊऋएऐओऔऑऍऎऒ", ["a", "a", "i", "i", "u", "u", "ri", "e", "ai", "o", "au", "o", "e", "e", "o"])),
    **dict(zip("ािीुूृेैोौॉॅॆॊंः", ["a", "i", "i", "u", "u", "ri", "e", "ai", "o", "au", "o", "e", "e", "o", "n",
                                    "h"])),
    # the Dravidian letters Devanagari has for Tamil and Malayalam (ன, ற, ழ)
    **dict(zip("ऩऱऴ", ["n", "r", "l"])),
}
_NUKTA = {"क": "q", "ख": "kh", "ग": "gh", "ज": "z", "ड": "r", "ढ": "rh", "फ": "f", "य": "y", "स": "sh"}
_WITH_NUKTA = re.compile("([कखगजडढफयस])\u093c")
#: An anusvara before p, b or m is an m (ट्रंप, Trump ~ ترامب), as ン is in Japanese.
_ANUSVARA_BEFORE_LABIAL = re.compile("\u0902(?=[पफबभम])")
#: The other Indic scripts letter for letter as Devanagari (`INDIC_RANGE`), but where a
#: letter sounds otherwise or has no twin there: Bengali য is j (যুক্তরাষ্ট্র), but য়
#: (য and a nukta) and য after a virama (ল্যাভরভ, Lavrov) are y; ৎ is t; Gurmukhi's tippi
#: is an anusvara and its addak (a doubled consonant) nothing; Oriya ୱ is w; Malayalam's
#: chillus are their consonants and ൗ is au. Other letters without a twin land on
#: Devanagari letters that `_DEVANAGARI` does not read, and are not read.
_AS_DEVANAGARI: dict[int, int | str | None] = {
    **{code: code - (code - INDIC_RANGE[0]) // INDIC_BLOCK_SIZE * INDIC_BLOCK_SIZE
       for code in range(INDIC_RANGE[0] + INDIC_BLOCK_SIZE, INDIC_RANGE[1] + 1)},
    ord("য"): "ज", ord("ৎ"): "त", ord("ੰ"): "ं", ord("ੱ"): None, ord("ୱ"): "व", ord("ൗ"): "ौ",
    # Malayalam's chillus, a consonant without its vowel in one letter (പുടിൻ, Putin)
    **dict(zip(map(ord, "ൺൻർൽൾൿ"), "णनरलळक")),
}
_BENGALI_Y = re.compile("য\u09bc|\u09cdয")
#: Sound classes shared by Latin transliterations and Arabic letters; vowels, glides,
#: h-sounds, hamza and ʿayn carry no class because transliterations disagree on them.
#: Longest first: Russian, German and French write ج as дж (dzh), dsch and dj, and ش
#: as ш (sh) and sch; each is one sound.
_LATIN_DIGRAPHS = (("shch", "X"), ("dsch", "J"), ("tsch", "X"), ("dzh", "J"), ("sch", "X"), ("dj", "J"),
                   ("sh", "X"), ("ch", "X"), ("kh", "K"), ("gh", "K"), ("th", "T"), ("dh", "D"),
                   ("zh", "J"), ("ts", "S"), ("ph", "F"))
_LATIN_CLASS = {
    "b": "B", "p": "B", "f": "F", "v": "F", "t": "T", "d": "D", "k": "K", "q": "K",
    "g": "K", "c": "K", "j": "J", "s": "S", "z": "Z", "x": "KS", "l": "L", "m": "M",
    "n": "N", "r": "R",
}
_ARABIC_CLASS = {
    "ب": "B", "پ": "B", "ف": "F", "ڤ": "F", "ت": "T", "ط": "T", "ث": "T", "د": "D",
    "ض": "D", "ذ": "D", "ك": "K", "ق": "K", "غ": "K", "خ": "K", "گ": "K", "ج": "J",
    "س": "S", "ص": "S", "ز": "Z", "ظ": "Z", "ش": "X", "چ": "X", "ل": "L", "م": "M",
    "ن": "N", "ر": "R",
}
#: Most v/w letters of one word tried both ways (2**3 skeletons at most).
_MAX_GLIDES = 3
#: Letters that Arabic glues onto the next word: ب, ل, ك (in, to, as), و, ف (and).
_PROCLITICS = frozenset("بلكوف")
#: How Arabic writes the ch of "church" (تشرشل, Churchill), read as the ش of sh and ch.
_ARABIC_CH = "تش"
_ARABIC_PREFIX = re.compile(r"^(?:[وفبلك]?ال|لل|[وف]?[بل]ال)")
#: The Arabic article as transliterations write it (al-Shabab, el-Sisi, ash-Sharq; in
#: Cyrillic аль-Джубейр, ас-Сиси): dropped like ال, which the Arabic skeleton drops.
_TRANSLITERATED_ARTICLE = re.compile(
    r"^(?:al|el|ad|an|ar|as|ash|at|az|аль|эль|ад|ан|ар|ас|аш|ат|аз)[-‐](?=[^\W\d])", re.IGNORECASE)
#: ... and as a word of its own before a name (El Kef, Al Nassr).
_LATIN_ARTICLE_WORDS = frozenset({"al", "el"})
#: What joins the parts of an Arabic name, written as a word of its own (bin Laden).
_NAME_PARTICLES = frozenset({"bin", "ibn", "bint", "ben"})
_NUMBER = re.compile(r"\d+")
_NUMBER_OR_KATAKANA = re.compile(f"{_NUMBER.pattern}|{KATAKANA_WORD.pattern}")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
#: Where a question's second sentence begins.
_SENTENCE_BREAK = re.compile(r"[.!?;؟。！？]\s*")
#: A German adjective, lower case and inflected (saudischen, medizinischer, wichtige,
#: internationalen): a stem of three letters or more (not zwischen) and its suffix. A verb
#: can end so too (bestätigen, vereinbaren): `_german_nouns` reads none after the question
#: word, where the verb stands.
_GERMAN_ADJECTIVE = re.compile(r"[a-zäöüß]{3,}(?:isch|ig|lich|bar|sam|haft|los|iv|ell|al)(?:e|en|er|es|em)$")
#: How far from a month's name (characters, either side) a number dates it (`_dated`).
_DATE_REACH = 12
#: Words that Arabic compound names begin or end with, folded (`_joined_skeletons`):
#: عبد الله, أبو ظبي; نصر الله, صلاح الدين, عبد الرحمن, داود أوغلو.
_COMPOUND_HEADS = frozenset(map(fold, ("عبد", "أبو")))
_COMPOUND_TAILS = frozenset(map(fold, ("الله", "الدين", "الرحمن", "أوغلو")))
_HANGUL_ENDING = re.compile(f"{HANGUL_SCRIPT.pattern}+$")


@dataclass(frozen=True)
class Grounding:
    """Which salient terms of a question the evidence contains, and how much each matters."""

    terms: tuple[str, ...]
    missing: tuple[str, ...]
    weights: tuple[float, ...] = ()  # one per term; empty means all equal
    #: Places and months of the question that the evidence lacks while it names another
    #: of their kind (`_replaced`): the same people in another country or another month;
    #: and ordinals so replaced, as numbers (`_other_ordinal`: the sixth plane, not the seventh).
    replaced: tuple[str, ...] = ()

    @property
    def found(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if t not in self.missing)

    @property
    def coverage(self) -> float:
        """Weighted share of salient terms found; 1.0 when nothing is checkable, 0.0 when
        the evidence replaces a place, month or ordinal asked about: the names it does
        hold are then about another story, however many they are."""
        if self.replaced:
            return 0.0
        if not self.terms:
            return 1.0
        weights = dict(zip(self.terms, self.weights or (1.0,) * len(self.terms)))
        total = sum(weights.values())
        return 1 - sum(weights[t] for t in self.missing) / total if total else 1.0


def as_written(question: str, terms: Sequence[str]) -> list[str]:
    """Salient terms as the question wrote them: an Arabic term is a search token (folded,
    stemmed), shown as the question's word it came from."""
    words = NAME_WORD.findall(question)
    shown = [
        next((w for w in words if term in tokenize_for_search(w)), term) if ARABIC_SCRIPT.search(term) else term
        for term in terms
    ]
    return list(dict.fromkeys(shown))


def salient_terms(question: str, nouns: bool = True) -> list[str]:
    """The words a passage must contain for it to be about what was asked.

    `nouns=False` leaves out the German nouns that a determiner, a count or an adjective
    announces (`_german_nouns`): the answer gate must not refuse because Arabic translates
    "der Außenminister", while ranking keeps them (it drops what the index cannot spell,
    and German writes names with articles too: der Nil, das Parlament ~ البرلمان). A
    script without capitals (Hindi, Bengali, Tamil, ...) cannot tell a name from a noun
    at all: for ranking, each of its words of three letters or more that is not a
    function word stands for a name (पुतिन ~ بوتين; the index's spellings decide), as
    does each word of a Japanese question in katakana, the script of foreign names; for
    the gate none does (their names come from the lexicon, as Chinese ones do). Persian
    and Urdu are the same case in Arabic script: ranking reads their words as the
    index's tokens, as an Arabic question's; the gate takes their names and numbers only, as another
    language's (`asked_in_arabic`).
    """
    words = NAME_WORD.findall(question)
    if not words:
        return []
    if _mostly_arabic_script(words) and (nouns or asked_in_arabic(question)):
        return list(dict.fromkeys(tokenize_for_search(question)))
    found = names_in(question)
    # a month the lexicon finds (10月, 10월에) is that month, not a number to find as written
    months = [to_ascii_digits(f.surface) for f in found if _NUMBER.search(f.surface)]
    words = [_without_hangul_ending(_without(months, to_ascii_digits(word))) for word in words]
    # Chinese and Japanese put no spaces between words: such a run is a clause, of which
    # only the numbers can be checked as written (its names come from the lexicon), and,
    # for ranking, the words in katakana stand for names (ドーハ ~ الدوحة).
    words = [part for word in words if word
             for part in (_unspaced_words(word, nouns) if is_unspaced(word) else [word])]
    # The Arabic article written as a word of its own (El Kef, Al Hilal) is no name either.
    words = [word for word, after in zip(words, [*words[1:], ""])
             if not (word.casefold() in _LATIN_ARTICLE_WORDS and after[:1].isupper())]
    left_out = _german_nouns(words) if not nouns and detect_language(question) == "de" else set()
    # A later sentence's first word is capitalised as the question's is ("Belgium has two
    # languages. Which ...?"): a function word there is no name either.
    openers = {opening[0] for part in _SENTENCE_BREAK.split(question)[1:] if (opening := NAME_WORD.findall(part))}
    # A name is capitalised after its Arabic article, which English writes in lower case
    # (al-Jubeir, el-Sisi) and which no spelling of the name needs.
    names = [
        NAME_SUFFIX.sub("", name)
        for position, name in enumerate(_TRANSLITERATED_ARTICLE.sub("", without_elision(word)) for word in words)
        if (name[:1].isupper() and ((position > 0 and name not in openers) or not _opens(name, question))
            and position not in left_out)
        or any(ch.isdigit() for ch in name)
        or (nouns and _uncased_name(name))
    ]
    uncased = [f.surface for f in found if not any(_is_word_of(n, f) for n in names)]
    return list(dict.fromkeys(name for name in [*names, *uncased] if len(name) > 1))


def _opens(word: str, question: str) -> bool:
    """Whether a question's (or one of its sentences') capitalised first word is a
    function word, in the languages the question may be in: asked first of the listed
    words alone, which answer for most questions without the language identifier."""
    return is_function_word(word) or is_function_word(word, possible_languages(question))


def _unspaced_words(clause: str, katakana: bool) -> list[str]:
    """What `salient_terms` takes from a clause without spaces, in its order: its numbers,
    and its runs of katakana if `katakana`."""
    return (_NUMBER_OR_KATAKANA if katakana else _NUMBER).findall(clause)


def _uncased_name(word: str) -> bool:
    """Whether a word of a script without capitals stands for a name in ranking: an Indic,
    Georgian or Ethiopic word of three characters or more (letters and signs) that is not
    a function word, or katakana of two."""
    if INDIC_SCRIPT.match(word) or UNCASED_ROMANISED_SCRIPT.match(word):
        return len(word) >= 3 and not is_function_word(word) and not any(ch.isnumeric() for ch in word)
    return len(word) >= 2 and bool(KATAKANA_WORD.fullmatch(word))


def _without(surfaces: Sequence[str], word: str) -> str:
    """The word less each of `surfaces` it holds ("2015年10月10日" less 10月: 2015年10日)."""
    for surface in surfaces:
        word = word.replace(surface, " ")
    return word.strip()


def _without_hangul_ending(word: str) -> str:
    """Korean writes its particles and counters onto a name or number of another script
    (CNN에서, 2015년): the name or number without them. A Korean word is left whole."""
    head = _HANGUL_ENDING.sub("", word)
    return head if head and not HANGUL_SCRIPT.search(head) else word


@lru_cache(maxsize=256)
def asked_in_arabic(question: str) -> bool:
    """Whether a question is in Arabic, the articles' language: mostly words in Arabic
    script, and not Persian or Urdu (`detect_language`). The answer gate's terms are then
    search tokens, found in a text's own tokens. Remembered: the gate asks it of the same
    question for every evidence sentence."""
    return _mostly_arabic_script(NAME_WORD.findall(question)) and detect_language(question) == "ar"


def _mostly_arabic_script(words: Sequence[str]) -> bool:
    return sum(bool(ARABIC_SCRIPT.search(w)) for w in words) * 2 >= len(words) > 0


def _german_nouns(words: Sequence[str]) -> set[int]:
    """Positions of the capitalised words that a German determiner announces, with only
    lower-case words between, or a count or an adjective, with only adjectives between:
    nouns, where German capitals say nothing of names ("der saudische Außenminister",
    "29 Luftangriffe", "wie viele Tonnen medizinischer Ausrüstung"). A name so announced
    (die Türkei) comes back through the lexicon. A year is no count ("2015 Kerry"), nor is
    a preposition an announcer, nor the verb after the question word, however it ends:
    names follow them ("mit Kerry", "Was vereinbaren Kerry und Lawrow?"). Those are
    nouns too that the German dictionary lists as common ones, announced or not ("an
    Krätze", "für Nierenkranke": `qa.nouns`), unless they are part of a name
    (`_in_names`: Isaac Herzog, bin Laden)."""
    dictionary = german_nouns()
    nouns = {position for position, word in enumerate(words) if word[:1].isupper() and dictionary.is_common(word)}
    announcer = ""  # "determiner", "count" (adjectives too), or none
    for position, word in enumerate(words):
        folded = word.casefold()
        adjective = position > 1 and bool(_GERMAN_ADJECTIVE.match(word))
        if folded in GERMAN_DETERMINERS:
            announcer = "determiner"
        elif folded in GERMAN_COUNTS or adjective:
            announcer = announcer or "count"
        elif word[:1].isupper():
            if announcer:
                nouns.add(position)
            announcer = ""
        elif word[:1].islower():
            announcer = announcer if announcer == "determiner" else ""
        else:  # a number: a count announces, a year ends the phrase
            announcer = "count" if word.isdigit() and not _YEAR.fullmatch(word) else ""
    return nouns - _in_names(words, nouns, dictionary)


def _in_names(words: Sequence[str], nouns: set[int], dictionary: Nouns) -> set[int]:
    """Positions of the `nouns` that are part of a name of several words: after an Arabic
    name's particle (bin Laden, Ben Ali), or a singular noun as written after a name the
    dictionary does not know (Isaac Herzog, Antony Blinken). Not after a place it knows
    ("schickte Katar Hilfsgüter"), a genitive ("Putins Besuch") or the question's first
    word, and not a plural or an inflected noun, which after a name is its object ("Was hat
    Lawrow Journalisten gesagt?")."""
    def unknown_name_at(position: int) -> bool:
        word = words[position]
        return (position > 0 and word[:1].isupper() and position not in nouns and not is_function_word(word)
                and not word.endswith("s") and word.casefold() not in dictionary.proper)

    def singular(word: str) -> bool:
        return word.casefold() in dictionary.common and word.casefold() not in dictionary.plurals

    return {
        position for position in nouns if position > 0
        and (words[position - 1].casefold() in _NAME_PARTICLES
             or (unknown_name_at(position - 1) and singular(words[position])))
    }


def _is_word_of(term: str, found: Found) -> bool:
    return bool(other_names(term, [found]))


def skeleton(word: str) -> str:
    """Consonant classes of a word in Latin, Cyrillic or Arabic script ("Lavrov" -> "LFRF")."""
    return skeletons(word)[0]


@lru_cache(maxsize=1 << 16)
def skeletons(word: str, language: str = "") -> tuple[str, ...]:
    """Every skeleton the word may have, the usual one first; `language` is the one it is
    written in, if known (`_ways`). Remembered: the answer gate reads every word of its
    passages so, and the same passages come back from question to question.

    Arabic writes a v sound as ف (Lavrov, لافروف) but a w as the glide و (Kuwait,
    الكويت), while Russian and German write either sound as в or w (Кувейт, Lawrow): so
    each v, w or в of a word in another script is tried both as F and as a glide.
    """
    if ARABIC_SCRIPT.search(word):
        return (_collapse("".join(_ARABIC_CLASS.get(ch, "") for ch in _letters(word)[1])),)
    return tuple(dict.fromkeys(key for way in _ways(word, language) for key in _latin_skeletons(way)))


def _latin_skeletons(word: str) -> list[str]:
    """`skeletons` of one way of reading a word in a script other than Arabic."""
    _, word = _letters(word)
    usual = "".join(ch if ch.isupper() else _LATIN_CLASS.get(ch, "") for ch in word)  # v: F, w: glide
    marked = "".join(ch if ch.isupper() else "V" if ch in "vw" else _LATIN_CLASS.get(ch, "") for ch in word)
    variants = [usual]
    for choice in itertools.product(("F", ""), repeat=min(marked.count("V"), _MAX_GLIDES)):
        variant = marked
        for sound in choice:
            variant = variant.replace("V", sound, 1)
        variants.append(variant.replace("V", ""))
    return [_collapse(v) for v in variants]


#: Letters that some languages write for a sound `_letters` reads the English way,
#: respelled first: Turkish c is the j of "John" and ç the ch of "church" (Cengiz ~
#: جنكيز, Recep ~ رجب); ş and ș are sh and ı is i in every language that writes them
#: (Şafii ~ الشافعي), as are the Slavic and Baltic š and ś, and č and ć ch (Ušakov ~
#: أوشاكوف, Čurkin ~ تشوركين).
_ANY_LANGUAGE_LETTERS = {"ş": "sh", "ș": "sh", "ı": "i", "š": "sh", "ś": "sh", "č": "ch", "ć": "ch"}
_LANGUAGE_LETTERS: dict[str, dict[str, str]] = {"tr": {"c": "j", "ç": "ch"}}
#: How else to read some letters, all of a word's at once; the likest reading counts. A
#: w is a glide in English (Kuwait ~ كويت) but a v in German and Polish (Lawrow ~
#: لافروف); Russian writes the glide as в (Кувейт ~ كويت), and both خ and ح as х (Хамас
#: ~ حماس); Turkish writes both as h (Halid ~ خالد, Hasan ~ حسن), and ç for ج as well as
#: for the ch of "church" (Belçika ~ بلجيكا); Spanish writes خ as j (Jaldún ~ خلدون) and
#: often ج as y (Yeda ~ جدة). Greek, Armenian and Georgian write the glide as v too
#: (Κουβέιτ ~ كويت), and Greek's χ is خ as well as ح (Χαλίντ ~ خالد). Gulf names write
#: ظ as dh (Abu Dhabi ~ أبو ظبي, Dhahran ~ الظهران), as ذ is written too.
#: (`_latin_skeletons` reads v, w and в both ways, one by one; reading a Latin v as a
#: glide too cost English questions' BM25 0.01 MRR@10 on ARCD.) Scripts that write one
#: letter for two sounds are read by `_EITHER_WAY` instead.
_OTHER_READINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "": (("w", "v"), ("в", "w"), ("х", "h"), ("dh", "z")),
    "tr": (("h", "kh"), ("ç", "j")),
    "es": (("j", "kh"), ("y", "j")),
    "el": (("v", "w"), ("h", "kh")),
    "hy": (("v", "w"),),
    "ka": (("v", "w"),),
}
#: Letters a script writes for more than one sound, each tried either way where it
#: stands (a name may have both: クアラルンプール, Kuala Lumpur, needs its first r read
#: as l and its last kept): Japanese has one consonant for r and l, writes ti as chi
#: and v as b (プーチン ~ بوتين, ラブロフ ~ لافروف; its shi and ji for si, di and zi,
#: read either way too, found more wrong words than right ones in our questions);
#: Tamil has one letter each for k/g, ch/s, t/d and p/b (சவுதி ~ السعودية, தோஹா ~
#: الدوحة); Bengali and other Indic scripts write z as j (গাজা, Gaza), Gujarati as jh,
#: and Bengali v as bh (ল্যাভরভ ~ لافروف).
_EITHER_WAY: dict[str, tuple[tuple[str, str], ...]] = {
    "ja": (("r", "l"), ("ch", "t"), ("b", "v")),
    "ta": (("k", "g"), ("ch", "s"), ("t", "d"), ("p", "b")),
    "bn": (("j", "z"), ("bh", "v")),
    **{code: (("j", "z"),) for code in ("te", "kn", "or", "ml")},
    "gu": (("jh", "z"),),
}
#: Most letters of a word tried either way (2 ** 4 readings at most; a name has one to three).
_MAX_EITHER_WAY = 4


def _in_latin(name: str) -> str:
    """A name in Latin letters, lower-cased, which the readings then read: an Indic word
    through Devanagari (`_from_indic`), katakana as Hepburn writes it (`_from_katakana`),
    Greek (its digraphs first, `_GREEK_DIGRAPH`), Armenian, Georgian and Ethiopic as
    `anyascii` romanises them, less the apostrophes it writes for ejectives and aspirates
    (პუტინი p'ut'ini)."""
    if INDIC_SCRIPT.search(name):
        return _from_indic(name)
    if KATAKANA_WORD.search(name):
        return _from_katakana(name)
    if ROMANISED_SCRIPT.search(name):
        return anyascii(_GREEK_DIGRAPHS.sub(lambda m: _GREEK_DIGRAPH[m[0]], _unmarked(name.lower()))).replace("'", "")
    return name.lower()


def _unmarked(word: str) -> str:
    """The word less its combining marks (Greek accents: ού is ου)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))


#: Greek letter pairs for one sound in foreign names, before `anyascii` reads the rest:
#: ου u, μπ b, ντ d, γκ g, τζ j (Ντουμπάι ~ دبي, Τζον ~ جون), and χ h, for ح and
#: ه as often as خ (Χαμάς ~ حماس; the readings try kh too, `_OTHER_READINGS`).
_GREEK_DIGRAPH = {"ου": "u", "μπ": "b", "ντ": "d", "γκ": "g", "τζ": "j", "χ": "h"}
_GREEK_DIGRAPHS = re.compile("|".join(_GREEK_DIGRAPH))


def _from_indic(word: str) -> str:
    """An Indic word in Latin letters: as Devanagari (`_AS_DEVANAGARI`), then `_DEVANAGARI`.
    NFC keeps a vowel sign whole (Bengali ো) and splits a letter with a nukta (क़, ড়, and
    य़ made of Oriya ୟ)."""
    word = _BENGALI_Y.sub("य", unicodedata.normalize("NFC", word)).translate(_AS_DEVANAGARI)
    word = _ANUSVARA_BEFORE_LABIAL.sub("म", unicodedata.normalize("NFC", word))
    word = _WITH_NUKTA.sub(lambda m: _NUKTA[m[1]], word)
    return "".join(_DEVANAGARI.get(ch, ch) for ch in word if not unicodedata.combining(ch))


def _from_katakana(word: str) -> str:
    """A katakana word in Latin letters (jaconv's Hepburn: ジュベイル jubeiru), long vowels
    unmarked (ドーハ doha), as Arabic leaves them unmarked in foreign names; a doubled
    consonant (ッ) once, and ン before p, b or m as m (トランプ, torampu)."""
    latin = jaconv.kana2alphabet(jaconv.kata2hira(word)).replace("-", "")
    return _KATAKANA_RESPELLED.sub(lambda m: _KATAKANA_RESPELLING[m[0]], latin)


_KATAKANA_RESPELLING = {"ssh": "sh", "cch": "ch", "tch": "ch", "nb": "mb", "np": "mp", "nm": "mm"}
_KATAKANA_RESPELLED = re.compile("|".join(_KATAKANA_RESPELLING))


@lru_cache(maxsize=1 << 16)
def _ways(name: str, language: str = "") -> tuple[str, ...]:
    """The ways to read a name in a script other than Arabic, lower-cased: as written and
    as each of `_OTHER_READINGS` reads it, each then respelled as its language writes
    (`_LANGUAGE_LETTERS`; after the readings, so that Turkish ş, respelled sh, keeps its h);
    a name in katakana or an Indic script, in every way `_EITHER_WAY` reads its letters;
    a Georgian or Armenian name also less the ending its language writes onto it
    (`NAME_ENDINGS`)."""
    letters = {**_ANY_LANGUAGE_LETTERS, **_LANGUAGE_LETTERS.get(language, {})}
    lowered = _in_latin(name)
    if language in _EITHER_WAY and (INDIC_SCRIPT.search(name) or KATAKANA_WORD.search(name)):
        return _either_way(lowered, _EITHER_WAY[language])
    folded = name.lower()  # Georgian's capitals (Mtavruli) as its letters
    ending = next((e for e in NAME_ENDINGS.get(language, ()) if folded.endswith(e) and len(name) - len(e) >= 3), "")
    stems = [lowered, _in_latin(folded[: -len(ending)])] if ending else [lowered]
    others = (*_OTHER_READINGS[""], *_OTHER_READINGS.get(language, ()))
    readings = [reading for stem in stems for reading in (stem, *(stem.replace(old, new) for old, new in others))]
    return tuple(dict.fromkeys("".join(letters.get(ch, ch) for ch in reading) for reading in readings))


def _either_way(word: str, pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The word with each of its first `_MAX_EITHER_WAY` letters that `pairs` name read as
    written or as any other sound they give it, every combination, as written first."""
    keys = sorted({old for old, _ in pairs}, key=len, reverse=True)
    pieces: list[list[str]] = []
    position = tried = 0
    while position < len(word):
        key = next((k for k in keys if word.startswith(k, position)), None)
        if key is None or tried == _MAX_EITHER_WAY:
            pieces.append([word[position]])
            position += 1
        else:
            pieces.append([key, *(new for old, new in pairs if old == key)])
            position += len(key)
            tried += 1
    return tuple(dict.fromkeys("".join(choice) for choice in itertools.product(*pieces)))


#: Vowels as a Latin transliteration writes them and as Arabic writes long ones (بوتين,
#: كيري, أوباما), and the letters Latin writes as h or not at all (ح, ع, ه), for
#: `resemblance`.
_LATIN_VOWEL = {"a": "a", "e": "i", "i": "i", "y": "i", "o": "u", "u": "u", "w": "u"}
_ARABIC_VOWEL = {"ا": "a", "ى": "a", "ي": "i", "و": "u"}
_GUTTURAL = "h"
_LATIN_GUTTURAL = "h'ʿ"
_ARABIC_GUTTURAL = "حعهة"
#: What `resemblance` charges for each difference (a weighted edit distance, consonant
#: classes costing 1). Arabic leaves short vowels unwritten (Badr ~ بدر), so a Latin
#: vowel it lacks is cheap; a long vowel or a ح/ع/ه the Latin lacks costs more, a Latin h
#: Arabic lacks more still (Hassan ~ حسن, not اسان).
_LATIN_VOWEL_UNWRITTEN = 0.25
_ARABIC_VOWEL_UNSHOWN = 0.5
_ARABIC_GUTTURAL_UNSHOWN = 0.5
_LATIN_GUTTURAL_UNWRITTEN = 0.75
_OTHER_VOWEL = 0.25  # a for ا, i for و; or a vowel for ع (Omar ~ عمر)


def resemblance(name: str, token: str, language: str = "") -> float:
    """How alike a name in another script (read in Latin letters, `_in_latin`) and an Arabic search token are
    written: 1 less a weighted edit distance over consonant classes, vowels and ح/ع/ه,
    relative to their length (0 to 1; 0 when either has nothing to compare). Consonant
    skeletons alone cannot tell the name from common words (Kuwait ~ وقت, time; Kerry ~
    غير, other); their vowels and h-sounds often can (Kuwait ~ كويت, Badr ~ بدر rather
    than باذرع). The token is a stem: a name the stemmer cut short resembles its spelling
    less (Netanyahu ~ نتنياه)."""
    return resemblances(name, [token], language)[0]


def resemblances(name: str, tokens: Sequence[str], language: str = "") -> list[float]:
    """`resemblance` of the name (written in `language`, if known) to each token, the name
    read in each of its `_ways`, the likest counting."""
    sounds = _padded([_sounds(token) for token in tokens])
    return np.max([_likenesses(_padded([written]), sounds) for written in _readings(name, language)], axis=0).tolist()


def stem_resemblances(name: str, tokens: Sequence[str], language: str = "") -> list[float]:
    """`resemblances` of the name to BM25 tokens, which are stems: each also with a letter
    the stemmer may have cut off its front put back (`STRIPPED_LETTERS`: Putin ~ وتين, the
    stem of بوتين), the likest counting, for a reading of the name whose first consonant is
    that letter's sound (a vowel before it is cheap to leave out). Trying the letter for
    every reading tripled the work of a name's spellings.

    Both callers keep only tokens that resemble the name by `MIN_RESEMBLANCE` or more, so
    a token is compared sound by sound only where its consonants alone do not keep it
    under (`_likeness_at_most`); below that, 0 stands for its score."""
    return all_stem_resemblances([(name, tokens, language)])[0]


def all_stem_resemblances(asked: Sequence[tuple[str, Sequence[str], str]]) -> list[list[float]]:
    """`stem_resemblances` of several names (name, tokens, language), every pair of a
    reading and a token that its consonants do not rule out compared in one dynamic
    programme: a question's names are compared with hundreds of index spellings, and a
    programme per name and reading cost more in numpy's calls than in its arithmetic."""
    mine: list[np.ndarray] = []  # the padded readings of the pairs compared, a block per name and letter
    theirs: list[np.ndarray] = []  # the padded sounds of the pairs' tokens, likewise
    owners: list[tuple[int, np.ndarray]] = []  # which name, and which of its tokens, per block
    for which, (name, tokens, language) in enumerate(asked):
        readings = _readings(name, language)
        by_letter = {"": readings, **{letter: [written for written in readings
                                               if _first_consonant(written) == _sounds(letter)]
                                      for letter in sorted(STRIPPED_LETTERS)}}
        for letter, written_readings in by_letter.items():
            if not written_readings or not tokens:
                continue
            spelled, written = _padded([_sounds(letter + token) for token in tokens]), _padded(written_readings)
            reading, token = np.nonzero(_likeness_at_most(_consonant_profiles(written), _consonant_profiles(spelled))
                                        >= MIN_RESEMBLANCE)
            mine.append(written[reading])
            theirs.append(spelled[token])
            owners.append((which, token))
    scores = [np.zeros(len(tokens)) for _, tokens, _ in asked]
    if any(map(len, theirs)):
        likeness = _likenesses(_stacked(mine), _stacked(theirs))
        for (which, token), part in zip(owners, np.split(likeness, np.cumsum([len(t) for _, t in owners])[:-1])):
            np.maximum.at(scores[which], token, part)
    return [score.tolist() for score in scores]


#: Every consonant class `_sounds` writes (`_LATIN_CLASS`, `_ARABIC_CLASS`, the digraphs),
#: as ASCII codes.
_CONSONANT_CLASSES = np.array([ord(c) for c in sorted({*"".join(_LATIN_CLASS.values()), *_ARABIC_CLASS.values(),
                                                        *(c for _, c in _LATIN_DIGRAPHS)})], dtype=np.uint8)


def _consonant_profiles(sounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many of each consonant class each of several `_sounds` has (`_padded`), and
    its weight (`_WEIGHT`): a matrix of counts, a vector of weights."""
    counts = (sounds[:, :, None] == _CONSONANT_CLASSES).sum(axis=1, dtype=np.float64)
    return counts, _WEIGHT[sounds].sum(axis=1)


def _likeness_at_most(latin: tuple[np.ndarray, np.ndarray], arabic: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """An upper bound of `_likenesses` of each of several Latin sounds (a row) to each
    Arabic one (a column), from their `_consonant_profiles`, cheap to compute: a consonant
    class one side has more of than the other can only be left out or added (cost 1
    each), whatever else the cheapest edit does."""
    (mine, my_weights), (theirs, their_weights) = latin, arabic
    unmatched = np.abs(theirs[None, :, :] - mine[:, None, :]).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(0.0, 1 - unmatched / ((my_weights[:, None] + their_weights[None, :]) / 2))


def _first_consonant(sounds: str) -> str:
    """The first consonant class of `_sounds` (vowels and h-sounds are lower case)."""
    return next((symbol for symbol in sounds if symbol.isupper()), "")


@lru_cache(maxsize=1 << 16)
def _readings(name: str, language: str = "") -> tuple[str, ...]:
    """The name's `_sounds`, read in each of its `_ways`."""
    if ARABIC_SCRIPT.search(name):
        return (_sounds(name),)
    return tuple(dict.fromkeys(_sounds(way) for way in _ways(name, language)))


#: Sounds remembered: a name in another script is compared with every
#: index token of its skeleton, and names and tokens recur from question to question.
@lru_cache(maxsize=1 << 16)
def _sounds(word: str) -> str:
    """The word as consonant classes (upper case), vowels (a, i, u) and h-sounds (h),
    one symbol per run."""
    arabic, letters = _letters(word)
    if arabic:
        return _collapse("".join(_ARABIC_CLASS.get(ch) or _ARABIC_VOWEL.get(ch)
                                 or (_GUTTURAL if ch in _ARABIC_GUTTURAL else "") for ch in letters))
    return _collapse("".join(ch if ch in string.ascii_uppercase else _LATIN_CLASS.get(ch) or _LATIN_VOWEL.get(ch)
                             or (_GUTTURAL if ch in _LATIN_GUTTURAL else "") for ch in letters))


def _codes(sounds: str) -> np.ndarray:
    """`_sounds` as ASCII codes, for the tables of `_likenesses`."""
    return np.frombuffer(sounds.encode("ascii"), np.uint8)


def _stacked(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """`_padded` matrices of several widths, one under the other, padded to the widest."""
    stacked = np.zeros((sum(len(block) for block in blocks), max(block.shape[1] for block in blocks)), np.uint8)
    row = 0
    for block in blocks:
        stacked[row:row + len(block), :block.shape[1]] = block
        row += len(block)
    return stacked


def _padded(sounds: Sequence[str]) -> np.ndarray:
    """Several `_sounds` as a matrix of ASCII codes, a row each, padded to one width with
    0, a code that costs and weighs nothing (`_by_symbol`)."""
    width = max(map(len, sounds), default=0)
    return _codes("".join(s.ljust(width, "\0") for s in sounds)).reshape(len(sounds), width)


def _by_symbol(consonant: float, vowel: float, guttural: float) -> np.ndarray:
    """A value for each symbol of `_sounds` (consonant classes, vowels, h), by ASCII code;
    0 for any other code (the padding of `_likenesses`)."""
    table = np.zeros(128)
    table[[ord(c) for c in string.ascii_uppercase]] = consonant
    table[[ord(c) for c in _VOWELS]] = vowel
    table[ord(_GUTTURAL)] = guttural
    return table


_VOWELS = "aiu"
_UNWRITTEN = _by_symbol(1.0, _LATIN_VOWEL_UNWRITTEN, _LATIN_GUTTURAL_UNWRITTEN)
_UNSHOWN = _by_symbol(1.0, _ARABIC_VOWEL_UNSHOWN, _ARABIC_GUTTURAL_UNSHOWN)
_WEIGHT = _by_symbol(1.0, 0.5, 0.5)
#: The cost of a Latin sound (row) written as an Arabic one (column): nothing for the same
#: sound, `_OTHER_VOWEL` for a vowel written as another vowel or as h, else no such step.
_WRITTEN_AS = np.full((128, 128), np.inf)
for _latin in _VOWELS:
    for _arabic in _VOWELS + _GUTTURAL:
        _WRITTEN_AS[ord(_latin), ord(_arabic)] = _OTHER_VOWEL
for _symbol in string.ascii_uppercase + _VOWELS + _GUTTURAL:
    _WRITTEN_AS[ord(_symbol), ord(_symbol)] = 0.0


def _likenesses(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """For each row, 1 less the cheapest edit of the Latin sounds of `mine` into the
    Arabic ones of `theirs` (both `_padded`; one row of `mine` stands for all) over their
    mean weight; 0 where either has no sounds. One dynamic programme for all of them, a
    step per Latin sound (a padding one changes nothing), each step's chain of added
    sounds a running minimum (`np.minimum.accumulate`) rather than a loop over columns."""
    scores = np.zeros(len(theirs))
    if not mine.shape[1] or not theirs.shape[1]:
        return scores
    added = np.zeros((len(theirs), theirs.shape[1] + 1))
    np.cumsum(_UNSHOWN[theirs], axis=1, out=added[:, 1:])
    previous = added
    for sound in mine.T[:, :, None]:  # this step's Latin sound of each row, as a column
        step = np.empty_like(previous)
        step[:, :1] = previous[:, :1] + _UNWRITTEN[sound]
        np.minimum(previous[:, 1:] + _UNWRITTEN[sound], previous[:, :-1] + _WRITTEN_AS[sound, theirs], out=step[:, 1:])
        previous = added + np.minimum.accumulate(step - added, axis=1)
    length = (_WEIGHT[mine].sum(axis=1) + _WEIGHT[theirs].sum(axis=1)) / 2
    spelled = (mine[:, 0] != 0) & (theirs[:, 0] != 0)
    scores[spelled] = np.maximum(0.0, 1 - previous[spelled, -1] / length[spelled])
    return scores


def _letters(word: str) -> tuple[bool, str]:
    """Whether the word is Arabic, and its letters as skeletons read them: an Arabic one
    folded, its article dropped; any other lower-cased, Cyrillic transliterated, the
    article al- dropped, each digraph one upper-case class (sh: X)."""
    word = unicodedata.normalize("NFKD", word.lower())
    if ARABIC_SCRIPT.search(word):
        return True, _ARABIC_PREFIX.sub("", normalize_for_search(word))
    word = "".join(_CYRILLIC.get(ch, ch) for ch in word if not unicodedata.combining(ch))
    word = _TRANSLITERATED_ARTICLE.sub("", word)
    for digraph, sound in _LATIN_DIGRAPHS:
        word = word.replace(digraph, sound)
    return False, word


def _collapse(classes: str) -> str:
    """One class per run: Arabic writes a doubled consonant once (Gazze ~ غزة)."""
    return re.sub(r"(.)\1+", r"\1", classes)


def names_match(a: str, b: str) -> bool:
    """Two words are the same name in two scripts (some skeletons of theirs match)."""
    return any(skeletons_match(x, y) for x in skeletons(a) for y in skeletons(b))


def skeletons_match(a: str, b: str) -> bool:
    """Same name in two scripts: equal skeletons, or one a prefix of the other (Putin ~ Putinism).

    Short skeletons must be equal, or "KT" (Kuwait) would match "KTR" (اقتراح, proposal).
    """
    if len(a) < 2 or len(b) < 2:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 3 and longer.startswith(shorter)


class WordVectors:
    """The second model's word vectors, remembered (least recently used go first).

    An answer compares the question's missing terms with every word of its passages;
    the words of news passages recur from question to question, and embedding each again
    cost most of an answer's time. Safe to share between threads.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], capacity: int = WORD_MEMORY) -> None:
        self._embed = embed
        self._capacity = capacity
        self._known: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, words: list[str]) -> np.ndarray:
        distinct = list(dict.fromkeys(words))
        with self._lock:
            found = {w: self._known[w] for w in distinct if w in self._known}
        new = [w for w in distinct if w not in found]
        if new:
            found.update(zip(new, self._embed(new)))
        with self._lock:
            for word in distinct:
                self._known[word] = found[word]
                self._known.move_to_end(word)
            while len(self._known) > self._capacity:
                self._known.popitem(last=False)
        return np.stack([found[w] for w in words])


class GroundingChecker:
    """Checks salient question terms against the words of the evidence passages.

    `embed_words` (optional) embeds words with a multilingual model whose vectors are
    normalized; it catches names that are translated rather than transliterated.
    `term_weight` (optional) weighs a search token, e.g. by its IDF in the index, so a
    missing rare name counts more than a missing common verb (Arabic-script questions,
    whose terms are the index's own tokens).
    """

    def __init__(
        self,
        embed_words: Callable[[list[str]], np.ndarray] | None = None,
        term_weight: Callable[[str], float] | None = None,
    ) -> None:
        self._embed_words = WordVectors(embed_words) if embed_words else None
        self._term_weight = term_weight

    def check(self, question: str, texts: Sequence[str], words: bool = True, date: str | None = None,
              replacements: bool = True) -> Grounding:
        """Salient terms of the question missing from all of `texts`.

        `words=False` skips the word-embedding fallback: cheap enough per sentence.
        `date` (ISO) is when the texts were published: a term the texts lack that names
        that date as written ("in August 2015" of an article of 2015-08-06) is left out,
        neither found nor missing. An article rarely writes its own date, so it would
        count as missing; yet a whole archive may share the year, so it is no evidence.
        `replacements=False` does not look for a place, month or ordinal put in place of one
        asked (`_replaced`, `_other_ordinal`): what an article says as a whole, not each of
        its sentences.
        """
        terms = salient_terms(question, nouns=False)
        other_ordinal = _other_ordinal(question, texts) if replacements else ()
        if not terms:
            return Grounding((), (), (), other_ordinal)
        evidence = [_evidence(text) for text in texts]
        vocabulary = list(dict.fromkeys(w for e in evidence for w in e.words))
        weights: tuple[float, ...] = ()
        arabic = asked_in_arabic(question)  # terms are search tokens
        # the texts' search tokens, each with its readings where an Arabic question asks
        readings = [forms for e in evidence for forms in e.readings] if arabic else []
        present = {forms[0] for forms in readings} if arabic else set().union(*(e.tokens for e in evidence))
        if arabic:
            bare = {without_conjunction(token) for token in present}
            read = {form for forms in readings for form in forms}
            asked: dict[str, set[str]] = {}  # a term -> the readings of every word it stems
            for forms in search_readings(question):
                asked.setdefault(forms[0], set()).update(forms)
            missing = [t for t in terms if t not in present and without_conjunction(t) not in bare
                       and read.isdisjoint(asked.get(t, ()))]
            if self._term_weight:
                weights = tuple(self._term_weight(t) for t in terms)
        else:
            language = detect_language(question)
            found = names_in(question)
            spelling = _Spelling(evidence)
            # A name of the lexicon is there in any of its names: by the key token of one
            # (الأردن), or a place by its Latin name (Kuala Lumpur ~ كوالالمبور, where
            # CLDR's Arabic is كوالا لامبور): how a Japanese or Korean name is read.
            def held(term: str) -> bool:
                if whole := [f for f in found_as(term, found) if f.whole]:  # an organisation, a region
                    return spelling.written_whole(whole)
                return (spelling.spells(term, language, found)
                        or not present.isdisjoint(token for name in other_names(term, found)
                                                  for token in key_tokens(name, self._term_weight or len))
                        or spelling.spells_in_latin(term, found)
                        or spelling.spells_joined(term, language))

            missing = [t for t in terms if not held(t)]
        if missing and date:
            dated = _date_terms(date)
            kept = [i for i, t in enumerate(terms) if t not in missing or t.casefold() not in dated]
            terms, weights = [terms[i] for i in kept], tuple(weights[i] for i in kept) if weights else ()
            missing = [t for t in missing if t in terms]
        named: list[Found] = []
        if missing:
            named = [found for text in texts for found in names_in(text)]
            missing = _not_named(question, terms, missing, named)
        if missing and words and self._embed_words and vocabulary:
            missing = _not_similar(self._embed_words, missing, vocabulary)
        replaced = _replaced(question, terms, missing, named, arabic) if missing and replacements else ()
        return Grounding(tuple(terms), tuple(missing), weights, replaced + other_ordinal)

    def another_month(self, question: str, sentence: str) -> bool:
        """Whether the sentence speaks of another month than the one asked about: it
        dates something by a month the question does not name and lacks the question's.
        An article may name the month asked anywhere ("the next ranking comes out in
        September") while the sentence that answers best gives August's figure: the
        article-wide check (`check`'s `replaced`) cannot see it. A month counts on
        either side only beside a number (`_dated`: "in September 2015", "3 سبتمبر"):
        month names are also names and words (Theresa May; مارس, "he exercised").
        The article's own month is asked of the sentence too: a report of August may
        give July's figures."""
        asked = [f for f in names_in(question) if "month" in f.kinds and _dated(question, f.surface)]
        if not asked or not any(_dated(sentence, f.surface) for f in names_in(sentence) if "month" in f.kinds):
            return False
        grounding = self.check(question, [sentence], words=False)
        months = {form for found in asked for form in _terms_of(found, grounding.terms)}
        return not months.isdisjoint(grounding.replaced)


def _date_terms(date: str) -> set[str]:
    """The terms that name an ISO date, as `salient_terms` gives them: words (case-folded)
    of a cased script and search tokens of Arabic script (`date_words`)."""
    stated = date_words(date)
    return {word.casefold() for word in stated.split()} | set(tokenize_for_search(stated))


def _terms_of(found: Found, terms: Sequence[str]) -> list[str]:
    """The salient terms that a name found in the question gave: the name or its words
    (cased scripts), its search tokens (Arabic script)."""
    forms = (found.surface, *found.bare_words, *tokenize_for_search(found.surface))
    return list(dict.fromkeys(form for form in forms if form in terms))


def _not_named(question: str, terms: Sequence[str], missing: list[str], named: Sequence[Found]) -> list[str]:
    """`missing` less the terms of the question's lexicon names that the texts name in
    any form the lexicon knows (Jordan ~ الأردني, whose search token is not الأردن's)."""
    held = {concept for found in named for concept in found.concepts}
    there = {form for found in names_in(question) if found.concepts & held for form in _terms_of(found, terms)}
    return [term for term in missing if term not in there]


def _replaced(
    question: str, terms: Sequence[str], missing: Sequence[str], named: Sequence[Found], arabic: bool,
) -> tuple[str, ...]:
    """The terms of the question's places and months (`qa.lexicon`) that the texts, whose
    lexicon names are `named`, lack entirely while naming another place or month that the
    question does not: Kuwait's minister asked about, Jordan's found; June's exports
    asked, May's found. Hard negatives are made of such swaps, and a share of terms found
    cannot see them (four of five names held).

    A place is not replaced where the texts name its country or a city of it (Iran's
    president asked, Tehran found): a city stands for its government ("How did Cairo
    respond?"), a capital for its country. Except a city whose country the question
    names beside it: then the city itself is asked (Oman's minister in Muscat).

    An Arabic word that is a city's name is as often a word (مسقط رأس, "birthplace";
    العيون, "the eyes"): from an `arabic` question (its terms are search tokens) only
    countries and months are lost.
    """
    absent = set(missing)
    asked = names_in(question)
    lost = [(found, forms) for found in asked
            if found.kinds and not (arabic and (_city_only(found) or _undated_month(question, found)))
            and lexicon().is_name(found)
            for forms in [_terms_of(found, terms)] if forms and absent.issuperset(forms)]
    if not lost:
        return ()
    asked_names = {name for found in asked for name in found.names}
    others = [found for found in named if asked_names.isdisjoint(found.names)]
    countries_named = {code for found in named for code in found.countries}
    countries_asked = {code for found in asked if all(found is not f for f, _ in lost) for code in found.countries}
    return tuple(dict.fromkeys(
        form for found, forms in lost
        if any(_instead(found, other) for other in others)
        and not (found.countries & countries_named and not (_city_only(found) and found.countries & countries_asked))
        for form in forms
    ))


def _other_ordinal(question: str, texts: Sequence[str]) -> tuple[str, ...]:
    """The ordinals the question asks about (qa/ordinals.py: the seventh plane) that the
    texts write neither as a word nor as a number, while writing another (the sixth):
    the same series, another of its items."""
    language = detect_language(question)
    asked = ordinals_in(question, [language])
    if not asked:
        return ()
    text = "\n".join(texts)
    stated = ordinals_in(text, dict.fromkeys(["ar", language]))
    lost = asked - stated - numbers_in(text)
    return tuple(str(n) for n in sorted(lost)) if lost and stated - asked else ()


def _instead(asked: Found, other: Found) -> bool:
    """Whether `other` can stand where `asked` was: a month for a month, a place for a
    place in another country (Amman is no other place than Jordan)."""
    kinds = asked.kinds & other.kinds
    return "month" in kinds or ("place" in kinds and asked.countries.isdisjoint(other.countries))


def _undated_month(question: str, found: Found) -> bool:
    """A month's name with no number beside it (`_dated`), in an Arabic question, where
    month names are common words too (مارس, "he exercised"; آب, "father")."""
    return "month" in found.kinds and not _dated(question, found.surface)


def _city_only(found: Found) -> bool:
    """Whether a name is a city's and no country's: a month is neither."""
    places = [kind for kind, _ in found.concepts if kind in ("city", "territory")]
    return bool(places) and all(kind == "city" for kind in places)


class _Evidence:
    """One evidence text as the gate reads it, each reading made on first use and kept
    with the text (`_evidence`): answers to different questions cite the same passages,
    and every sentence that may be quoted is read again for each question about it."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def words(self) -> tuple[str, ...]:
        """Its distinct words, digits as ASCII."""
        return tuple(dict.fromkeys(NAME_WORD.findall(to_ascii_digits(self.text))))

    @cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset(tokenize_for_search(self.text))

    @cached_property
    def readings(self) -> tuple[tuple[str, ...], ...]:
        return tuple(search_readings(self.text))

    @cached_property
    def lowered(self) -> frozenset[str]:
        return frozenset(word.casefold() for word in self.words)

    @cached_property
    def spellings(self) -> dict[str, list[str]]:
        """Skeleton -> the words that have it, as `_foreign_readings` reads them."""
        known: dict[str, list[str]] = {}
        for word in self.words:
            for form in _foreign_readings(word):
                for key in skeletons(form):
                    known.setdefault(key, []).append(form)
        return known

    @cached_property
    def joined(self) -> frozenset[str]:
        return frozenset(_joined_skeletons([self.text]))

    @cached_property
    def folded(self) -> str:
        return fold_text(self.text)


@lru_cache(maxsize=1024)
def _evidence(text: str) -> _Evidence:
    return _Evidence(text)


class _Spelling:
    """The words of the evidence, as a name in another script is looked for among them:
    as written (case-folded), by skeleton (`_spelled_by`), and two in a row as one
    (`_joined_skeletons`, read only for a name not found otherwise)."""

    def __init__(self, evidence: Sequence[_Evidence]) -> None:
        self._evidence = evidence

    def spells(self, name: str, language: str, found: tuple[Found, ...]) -> bool:
        """Whether a word of the evidence is the name as written or by skeleton; a place
        of a short skeleton only as written (`_short_place`)."""
        lowered = name.casefold()
        return any(lowered in e.lowered for e in self._evidence) or (not _short_place(name, found) and any(
            _spelled_by(name, mine, key, words, language)
            for mine in skeletons(name, language) for e in self._evidence for key, words in e.spellings.items()))

    def spells_in_latin(self, term: str, found: tuple[Found, ...]) -> bool:
        """A place of the lexicon found by one of its Latin names as a Latin name is, by
        skeleton, its words apart or as one, if the name has more than SHORT_SKELETON
        consonants (Oman's MN is common Arabic words' too)."""
        names = {n for f in found_as(term, found) if "place" in f.kinds for n in f.names}
        for words in (NAME_WORD.findall(n) for n in names if LATIN_SCRIPT.search(n)):
            joined = "".join(words)
            if len(skeleton(joined)) > SHORT_SKELETON and (
                    all(self.spells(w, "", found) for w in words)
                    or (len(words) > 1 and self.spells(joined, "", found))):
                return True
        return False

    def written_whole(self, found: Sequence[Found]) -> bool:
        """Whether the evidence writes one of the Arabic names of an organisation or a
        region (`Found.whole`) whole, its words in a row: never by its words' spellings,
        which are common words (مجلس, "council"; الأمن, "security")."""
        folded = "\n".join(e.folded for e in self._evidence)
        return written_whole(tuple(name for f in found for name in f.arabic_names), folded)

    def spells_joined(self, name: str, language: str) -> bool:
        """Whether two words of the evidence in a row spell the name as one."""
        keys = skeletons(name, language)
        return any(not e.joined.isdisjoint(keys) for e in self._evidence)


def _foreign_readings(word: str) -> tuple[str, ...]:
    """The ways a word of the evidence may write a name asked about in another script:
    as it is; an Arabic one also without a one-letter preposition or conjunction glued
    on (بجدة "in Jeddah", لكيري "to Kerry"), if three letters or more are left (ال and
    what precedes it the skeleton drops itself); and with تش read as ش, since Arabic
    writes the ch of Chile, Churchill and Çavuşoğlu so (تشيلي, تشرشل, تشاووش). Only the
    answer gate reads them: in ranking, a name such as Chelsea would lift every article
    that names it above the one with the other names asked (measured: docs/benchmarks.md)."""
    if not ARABIC_SCRIPT.match(word):
        return (word,)
    forms = [word, word[1:]] if len(word) > 3 and word[0] in _PROCLITICS else [word]
    return tuple(dict.fromkeys([*forms, *(form.replace(_ARABIC_CH, "ش") for form in forms)]))


def _dated(text: str, surface: str) -> bool:
    """Whether `surface` (a month's name) stands beside a number in the text, within a
    word or two ("September 2015", "3 سبتمبر", "لشهر أغسطس عام 2015", "2015年9月")."""
    return any(_NUMBER.search(text[max(0, m.start() - _DATE_REACH):m.end() + _DATE_REACH])
               for m in re.finditer(re.escape(surface), text))


def _joined_skeletons(texts: Sequence[str]) -> set[str]:
    """The skeletons of two Arabic words in a row read as one, where one of them is a word
    that compound names are made with (`_COMPOUND_HEADS`, `_COMPOUND_TAILS`) and they have
    more than SHORT_SKELETON consonants: Arabic writes apart what a Latin name joins
    (Abdullah ~ عبد الله, Abdulaziz ~ عبد العزيز, Saladin ~ صلاح الدين, Çavuşoğlu ~
    جاويش أوغلو). Any two words would do it for common phrases (Biden ~ بعد أن, "after";
    Mourinho ~ مع إيران); a name matches one only when equal."""
    joined = set()
    for text in texts:
        words = NAME_WORD.findall(text)
        for first, second in zip(words, words[1:]):
            if fold(first) in _COMPOUND_HEADS or fold(second) in _COMPOUND_TAILS:
                for form in _foreign_readings(first + second):
                    key = skeleton(form)
                    if len(key) > SHORT_SKELETON:
                        joined.add(key)
    return joined


@lru_cache(maxsize=1 << 12)
def _short_place(term: str, found: tuple[Found, ...]) -> bool:
    """Whether a term names a place the lexicon knows whose whole name has at most
    SHORT_SKELETON consonants (Oman, Iraq, Kuwait; not the Sri of Sri Lanka). Arabic
    words that look like such a name abound (Oman ~ الأمن, "security", vowels and all),
    while the lexicon knows how Arabic writes the place (عمان, العماني): it is found by
    those names only."""
    return any("place" in f.kinds and all(len(key) <= SHORT_SKELETON for key in skeletons(" ".join(f.bare_words)))
               for f in found_as(term, found))


def _spelled_by(name: str, mine: str, skeleton: str, words: Sequence[str], language: str = "") -> bool:
    """Whether some of `words`, which share `skeleton`, spell the name read as `mine`.

    A skeleton of one or two consonants is shared by too many Arabic words (Doha, D:
    الدوحة but also هدى; Kuwait, KT: الكويت but also قطاع, "sector", and وقت, "time"), so
    there an Arabic word must have that very skeleton and also resemble the name as
    written, whole or as its search stem (Kuwait ~ الكويتي by كويت). A word in another
    script (an English article's) is taken on two consonants, never on one.
    """
    if len(mine) > SHORT_SKELETON:
        return skeletons_match(mine, skeleton)
    if mine != skeleton:
        return False
    return any(
        max(resemblances(name, [word, *tokenize_for_search(word)], language)) >= MIN_RESEMBLANCE
        if ARABIC_SCRIPT.search(word) else len(mine) > 1
        for word in words
    )


def _not_similar(embed_words: WordVectors, terms: list[str], words: list[str]) -> list[str]:
    """The terms no word comes close to in the second model's word vectors."""
    vectors = embed_words(terms + words)
    best = (vectors[: len(terms)] @ vectors[len(terms):].T).max(axis=1)
    return [t for t, score in zip(terms, best) if score < WORD_SIMILARITY]
