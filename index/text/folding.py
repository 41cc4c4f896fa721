"""The one letter fold: the canonical spelling every comparison of words uses.

`normalize_for_search` folds the spelling variation that Arabic news and the people who
ask about it produce (diacritics, tatweel, hamza seats, alef forms, alef maqsura, ta
marbuta, Persian letter shapes, Arabic-Indic digits, invisible bidi marks), so that two
strings a reader calls "the same words" compare equal. Search tokens, the benchmark's
gold-text comparison, follow-up and grounding word lists, the page-furniture keys of
index/cleaning.py and the date words of index/dates.py all compare through it, so they
agree on what "the same" means.

`spelling_pattern` is the same fold as a regex, for text that must be searched as
written because its offsets matter (dates.py finds a date's span in the page).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from index.text.scripts import ARABIC_MARKS, char_class

#: Characters deleted outright: every Arabic combining mark (harakat, superscript alef,
#: honorific and Quranic marks), the rest of the Quranic annotation signs (U+06D6-U+06ED,
#: U+08E2), tatweel, and the invisible format characters that copy-paste from web pages
#: and RTL editors leaves inside words (zero-width space/joiners, LRM/RLM/ALM, bidi
#: embeddings and isolates, BOM, soft hyphen, word joiner).
DELETED: tuple[tuple[int, int], ...] = (
    *ARABIC_MARKS, (0x06D6, 0x06ED), (0x08E2, 0x08E2), (0x0640, 0x0640),
    (0x200B, 0x200F), (0x061C, 0x061C), (0xFEFF, 0xFEFF), (0x00AD, 0x00AD), (0x2060, 0x2060),
    (0x202A, 0x202E), (0x2066, 0x2069),
)  # fmt: skip
_DELETED_CHARS = {chr(c) for low, high in DELETED for c in range(low, high + 1)}

#: Letter folds. Alef forms, alef maqsura and ta marbuta are written either way in news
#: and in typed questions. The hamza seats ؤ -> و and ئ -> ي are folded too: the
#: Snowball Arabic stemmer already makes exactly these folds internally (measured:
#: مسؤول -> مسوول, رئيس -> رييس), so search tokens conflate them regardless, and gold-text
#: comparison should agree with search; the words the fold merges are spelling variants
#: (typed without the hamza), almost never distinct words. Bare hamza ء is kept: dropping
#: it would turn ماء (water) into the particle ما.
LETTER_FOLDS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    "ی": "ي", "ک": "ك",  # Persian/Urdu yeh and keheh, common in copied text
}  # fmt: skip
#: Arabic-Indic and Extended Arabic-Indic (Persian, Urdu) digits, 0 to 9 each.
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"
DIGIT_FOLDS = {digit: str(i % 10) for i, digit in enumerate(ARABIC_DIGITS)}

#: Each character the fold changes, and what it becomes ("" when it is deleted).
FOLDS: dict[str, str] = {**dict.fromkeys(_DELETED_CHARS, ""), **LETTER_FOLDS, **DIGIT_FOLDS}
#: Any of them. Few characters of a text change, so substituting the matches beats
#: `str.translate`, which looks every character up (docs/benchmarks.md).
_FOLDED = re.compile("[" + "".join(re.escape(char) for char in FOLDS) + "]")
#: A decimal digit of any script but ASCII (Arabic-Indic, Persian, Devanagari, Bengali, ...).
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def _folded(match: re.Match[str]) -> str:
    return FOLDS[match.group()]


def normalize_for_search(text: str) -> str:
    """The canonical search spelling of `text`; idempotent.

    NFKC first, so presentation forms and ligatures (ﻻ, ﷲ) become plain letters and
    a hamza written as a combining mark is composed onto its seat before the seats are
    folded. NFKC runs again after the deletions, because deleting a tatweel or a mark
    can bring a Latin letter next to a combining accent it now composes with.
    """
    text = _FOLDED.sub(_folded, unicodedata.normalize("NFKC", text).lower())
    return " ".join(unicodedata.normalize("NFKC", text).split())


def folded_words(words: str | Iterable[str]) -> frozenset[str]:
    """A word list written as people spell it (one string, or words), folded for comparison."""
    text = words if isinstance(words, str) else " ".join(words)
    return frozenset(normalize_for_search(text).split())


def to_ascii_digits(text: str) -> str:
    """`text` with the decimal digits of every script (Arabic-Indic, Persian, Devanagari,
    Bengali: ٢٠١٥, ۲۰۱۵, २०१५, ২০১৫) written as ASCII digits, nothing else."""
    return _OTHER_DIGIT.sub(lambda match: str(unicodedata.decimal(match.group())), text)


def _spellings() -> dict[str, str]:
    """Each folded character and every character the fold turns into it (ا: اأإآٱ)."""
    spellings: dict[str, str] = {}
    for raw, folded in {**LETTER_FOLDS, **DIGIT_FOLDS}.items():
        spellings[folded] = spellings.get(folded, folded) + raw
    return spellings


_SPELLINGS = _spellings()
_OPTIONAL_DELETED = f"[{char_class(DELETED)}]*"


def spelling_pattern(text: str) -> str:
    """A regex that matches `text` in every spelling the fold makes equal to it.

    Each letter may be written as any letter that folds to the same one (أ إ آ ٱ for ا,
    ة for ه, ٣ for 3), any character the fold deletes (harakat, tatweel, invisible marks)
    may follow a letter, and words are separated by any run of white space. Compile it
    with re.IGNORECASE: the fold lowers case. Not matched: what only NFKC would fold
    (presentation forms, ligatures). For finding words in text that must keep its
    offsets; to compare two strings, compare their `normalize_for_search`.
    """
    parts = []
    for char in normalize_for_search(text):
        if char == " ":
            parts.append(r"\s+")
            continue
        spellings = _SPELLINGS.get(char, char)
        letter = re.escape(char) if len(spellings) == 1 else f"[{re.escape(spellings)}]"
        parts.append(letter + _OPTIONAL_DELETED)
    return "".join(parts)


#: Arabic writes a foreign hard g as غ or, in Egypt, as ج: بيونغ يانغ and بيونج يانج
#: (Pyongyang), هونغ كونغ and هونج كونج, أوغندا and أوجندا.
_FOREIGN_G = str.maketrans("غج", "جغ")


def other_g_spelling(word: str) -> str:
    """The word with the other letter for a foreign g (غ for ج and ج for غ). Not a fold:
    native words keep their letter (غزة is not جزة); only a name is compared both ways."""
    return word.translate(_FOREIGN_G)
