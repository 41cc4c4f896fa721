"""Ordinal numbers as a question and an article write them: the seventh plane, الطائرة
السابعة, le septième avion, 第七架, the 7th.

Hard negatives are made of swaps (qa/grounding.py `_replaced`): the archive reports a
series up to its sixth relief flight, the question asks what the seventh carried, and
every name of the question is in the article about the sixth. The words come from
num2words's ordinals in each language it writes them for, matched by the language's
stem (septième, septièmes; седьмой, седьмая; السابع, السابعة); a stem that is also a
cardinal's (German acht, eight and eighth) is left out. Only THIRD to TENTH count:
"first" and "second" are also an adverb and a unit of time, and the ordinals past ten
are two words in Arabic. An Arabic ordinal counts only with the article (الطائرة السابعة,
للمرة الرابعة): without it the word is a name (رابعة, Rabaa) or no item of a series (طرف
ثالث, a third party; ثالث أكبر, the third largest).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import Stemmer
from num2words import num2words

from index.text.search import tokenize_for_search
from index.text.words import WORD
from qa.language import SNOWBALL

#: The ordinals compared.
COUNTED = range(3, 11)
#: Shorter stems are words of their own (Italian nono, ninth, stems to non, "not").
MIN_STEM = 4
#: "7th", "7e", "7èmes", "7º", "7.ª": a number written as an ordinal (lower case: "4E" is
#: a code, not the fourth).
_WRITTEN = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|(?:e|ème|eme|er)s?|\.?[ºª])(?!\w)")
#: Chinese and Japanese: 第七, 第7 (not 第100's first digits).
_CJK = re.compile(r"第([一二三四五六七八九十]+|\d{1,2})(?!\d)")
_CJK_DIGITS = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)}
#: An Arabic word with the article, after a conjunction or preposition or not (السابعة,
#: والسابعة, بالسابعة, للسابعة).
_DEFINITE = re.compile("^[وف]?(?:[بكل]?ال|لل)")
#: A number of its own: not a date's or a decimal's part (2015-07-06, 1.5, 10:30).
_NUMBER = re.compile(r"(?<![\d.,:/-])\d{1,2}(?![\d]|[.,:/-]\d)")


@lru_cache(maxsize=None)
def _stems(language: str) -> dict[str, int]:
    """Stem -> number of `language`'s ordinal words (COUNTED), none that a cardinal shares
    and none shorter than MIN_STEM; empty for a language num2words or Snowball does not
    serve. Arabic's are num2words's masculine words with and without the article and the
    feminine ending (ثامن, الثامنة), whose search tokens differ."""
    stem = _stemmer(language)
    if stem is None:
        return {}
    try:
        written = {n: num2words(n, lang=language, to="ordinal") for n in COUNTED}
        cardinals = {stem(num2words(n, lang=language)) for n in range(0, 101)}
    except NotImplementedError:
        return {}
    forms = {n: [w, "ال" + w, w + "ة", "ال" + w + "ة"] if language == "ar" else [w] for n, w in written.items()}
    return {key: n for n, words in forms.items() for key in map(stem, words)
            if len(key) >= MIN_STEM and key not in cardinals}


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Callable[[str], str] | None:
    """How `language`'s words are stemmed: Arabic by its search tokens, else by Snowball."""
    if language == "ar":
        return lambda word: " ".join(tokenize_for_search(word))
    if language in SNOWBALL:
        snowball = Stemmer.Stemmer(SNOWBALL[language])
        return lambda word: snowball.stemWord(word.casefold())
    return None


def ordinals_in(text: str, languages: Iterable[str]) -> set[int]:
    """The COUNTED ordinals `text` writes, as words of `languages` or as numbers."""
    found = {int(n) for n in _WRITTEN.findall(text)}
    found |= {int(n) if n.isdigit() else _CJK_DIGITS.get(n, 0) for n in _CJK.findall(text)}  # 第十一: 0
    for language in languages:
        table, stem = _stems(language), _stemmer(language)
        if not table or stem is None:
            continue
        if language == "ar":
            keys = [key for word in WORD.findall(text) if _DEFINITE.match(word) for key in tokenize_for_search(word)]
        else:
            keys = [stem(word) for word in WORD.findall(text)]
        found |= {table[key] for key in keys if key in table}
    return {n for n in found if n in COUNTED}


def numbers_in(text: str) -> set[int]:
    """The one- and two-digit numbers written on their own: an article may number a series
    so (رقم 7). Any such number spares the asked ordinal, however it is used: the check
    errs towards answering."""
    return {int(n) for n in _NUMBER.findall(text)}
