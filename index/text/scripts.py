"""Writing systems: which script a character is written in, and the Arabic marks.

One table of Unicode ranges answers every script question: `script_of` for a character,
`dominant_script` for a text, and the `ARABIC_SCRIPT` and `LATIN_SCRIPT` regexes, which
are built from the same table, so "is this Arabic?" has one answer everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

Ranges = tuple[tuple[int, int], ...]

#: Letters of the Latin script: Basic Latin, Latin-1 (ª µ º and the accented letters, not
#: × ÷), Latin Extended-A/B and Latin Extended Additional (Vietnamese).
LATIN: Ranges = (
    (0x0041, 0x005A), (0x0061, 0x007A), (0x00AA, 0x00AA), (0x00B5, 0x00B5), (0x00BA, 0x00BA),
    (0x00C0, 0x00D6), (0x00D8, 0x00F6), (0x00F8, 0x024F), (0x1E00, 0x1EFF),
)  # fmt: skip
#: The Arabic script's blocks: Arabic, Supplement, Extended-B, Extended-A, Presentation
#: Forms-A and -B (text copied from PDFs is often in presentation forms). U+FEFF, the
#: byte order mark at the end of Presentation Forms-B, is not Arabic.
ARABIC: Ranges = (
    (0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x089F), (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF), (0xFE70, 0xFEFC),
)  # fmt: skip

#: (first, last, script) for the writing systems a news reader is expected to ask in.
SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    *((low, high, "latin") for low, high in LATIN),
    (0x0370, 0x03FF, "greek"), (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    *((low, high, "arabic") for low, high in ARABIC),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"), (0x0B00, 0x0B7F, "oriya"), (0x0B80, 0x0BFF, "tamil"),
    (0x0C00, 0x0C7F, "telugu"), (0x0C80, 0x0CFF, "kannada"), (0x0D00, 0x0D7F, "malayalam"),
    (0x0E00, 0x0E7F, "thai"),
    (0x10A0, 0x10FF, "georgian"), (0x1C90, 0x1CBF, "georgian"),
    (0x1200, 0x139F, "ethiopic"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"),
)  # fmt: skip

#: Combining marks written on Arabic letters (every nonspacing mark of the Arabic
#: blocks): harakat and tanween, shadda, sukun, superscript alef, maddah and hamza
#: above/below, honorific signs (U+0610-U+061A), Quranic annotation marks. Python's `\w`
#: does not match them, so a regex that means "a word" must add them (`index.text.words`).
ARABIC_MARKS: Ranges = (
    (0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06DC), (0x06DF, 0x06E4),
    (0x06E7, 0x06E8), (0x06EA, 0x06ED), (0x0898, 0x089F), (0x08CA, 0x08E1), (0x08E3, 0x08FF),
)  # fmt: skip


#: The scripts of India from Devanagari (Hindi) to Malayalam: nine blocks of
#: `INDIC_BLOCK_SIZE` code points that share one layout (ISCII's), letter for letter
#: where their languages share a sound (क, ক, ਕ, ક, କ, க, క, ಕ, ക are all ka), and none
#: with capitals.
INDIC_RANGE = (0x0900, 0x0D7F)
INDIC_BLOCK_SIZE = 0x80


def _marks(low: int, high: int) -> Ranges:
    """The combining marks (Unicode category M) between two code points, as ranges."""
    ranges: list[tuple[int, int]] = []
    for code in range(low, high + 1):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return tuple(ranges)


#: Every combining mark of the Basic Multilingual Plane: vowel signs and viramas of the
#: Indic scripts (पुतिन: प, the sign ु, त, the sign ि, न; সৌদি), Arabic harakat, Hebrew
#: points, Thai and Sinhala vowels, accents of decomposed Latin and Greek (e + U+0301).
#: A word is letters and these, and Python's `\w` has only the letters.
MARKS: Ranges = _marks(0, 0xFFFF)


def char_class(ranges: Iterable[tuple[int, int]]) -> str:
    """The inside of a regex character class for `ranges` ("\\u0600-\\u06ff...")."""
    return "".join(f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges)


def _script_class(name: str) -> str:
    return char_class((low, high) for low, high, script in SCRIPT_RANGES if script == name)


#: A character of the Arabic script (letter, mark, digit or punctuation of its blocks).
ARABIC_SCRIPT = re.compile(f"[{_script_class('arabic')}]")
#: A letter of the Latin script, either case.
LATIN_SCRIPT = re.compile(f"[{_script_class('latin')}]")
#: A letter or mark of an Indic script (`INDIC_RANGE`: Hindi, Bengali, Tamil, ...).
INDIC_SCRIPT = re.compile(f"[{char_class([INDIC_RANGE])}]")
#: A run of katakana, in which Japanese writes foreign names (ジョン・ケリー, ドーハ) and
#: loanwords: the long-vowel mark ー is part of a word, the dot ・ between a name's words not.
KATAKANA_WORD = re.compile("[\u30a1-\u30fa\u30fc\u31f0-\u31ff]+")
#: A letter of an alphabet whose names `anyascii` reads as their press writes them in
#: Latin letters (Λαβρόφ lavrof, Լավրով lavrov, ლავროვი lavrovi, ላቭሮቭ lavrov).
ROMANISED_SCRIPT = re.compile(f"[{''.join(map(_script_class, ('greek', 'armenian', 'georgian', 'ethiopic')))}]")
#: A letter of those of them without capitals, whose names cannot be told from other words.
UNCASED_ROMANISED_SCRIPT = re.compile(f"[{_script_class('georgian')}{_script_class('ethiopic')}]")
#: A Hangul letter or syllable: a syllable is a consonant, a vowel and maybe another, so
#: a Korean name is as short in characters as a Chinese one (이란, Iran; 미국, America).
HANGUL_SCRIPT = re.compile(f"[{_script_class('hangul')}]")
#: A letter of a script written without spaces between words (Chinese, Japanese): what
#: stands between spaces there is a clause, not a word.
UNSPACED_SCRIPT = re.compile(f"[{_script_class('han')}{_script_class('kana')}]")


def is_unspaced(text: str) -> bool:
    """Whether `text` holds letters of a script written without spaces ("2015年沙特...")."""
    return bool(UNSPACED_SCRIPT.search(text))


@lru_cache(maxsize=1 << 12)
def script_of(char: str) -> str | None:
    """The script of one character ("latin", "arabic", "cyrillic", ...), None if other.
    Remembered: a question's letters are counted several times on its way (its language,
    whether BM25 searches it as written), each a walk through the ranges."""
    code = ord(char)
    for low, high, script in SCRIPT_RANGES:
        if low <= code <= high:
            return script
    return None


def script_counts(text: str) -> Counter[str]:
    """How many letters of `text` each script has (letters of other scripts not counted)."""
    return Counter(script for char in text if char.isalpha() and (script := script_of(char)))


def dominant_script(text: str) -> str | None:
    """The writing system with the most letters in `text` ("latin", "arabic", ...)."""
    scripts = script_counts(text)
    return max(scripts, key=lambda name: scripts[name]) if scripts else None
