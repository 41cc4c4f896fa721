"""Words: what one is.

A word is a run of letters and digits of any script together with the Arabic marks
written on them. Python's `\\w` has the letters but not the marks, so a vowelled Arabic
word (مُحَمَّد) would fall apart at every haraka; `WORD` and its variants add them. Latin
combining accents are not word characters: text arrives composed (é, not e + U+0301), and
the one common exception, the dot that Python's lower() leaves after Turkish İ (i +
U+0307), has always split the word in BM25 tokens, so existing indexes depend on it.
"""

from __future__ import annotations

import re
from index.text.scripts import ARABIC_MARKS, char_class

#: Letters and digits (not "_"), then any run of them and Arabic marks, written unrolled
#: (runs of letters are matched at once: BM25 tokenizes every chunk with it).
_WORD = rf"[^\W_]+(?:[{char_class(ARABIC_MARKS)}]+[^\W_]*)*"

#: A word: letters and digits with their marks ("مُحَمَّد", "2023", "Lavrov").
WORD = re.compile(_WORD)
#: A word and the parts hyphenated to it ("al-Assad", "Saint-Pétersbourg"). An apostrophe
#: separates: follow-up rules must see the article of "l'Iran" apart from the name.
HYPHENATED_WORD = re.compile(rf"{_WORD}(?:-{_WORD})*")
#: A name as written: parts joined by hyphens or apostrophes stay one word ("O'Brien",
#: "al-Assad", "Jordan's", whose possessive the caller strips). For grounding, which
#: checks whole names.
NAME_WORD = re.compile(rf"{_WORD}(?:[-'’]{_WORD})*")
