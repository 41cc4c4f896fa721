"""Search normalisation for Arabic-first text: one canonical spelling, then search tokens.

`normalize_for_search` folds the spelling variation that Arabic news and the people who
ask about it produce (diacritics, tatweel, hamza seats, alef forms, alef maqsura, ta
marbuta, Persian letter shapes, Arabic-Indic digits, invisible bidi marks), so that two
strings a reader calls "the same words" compare equal. Lexical search and the benchmark's
gold-text comparison both use it, so they agree on what "the same" means.

`tokenize_for_search` turns text into the tokens the BM25 index sees: normalised words
minus stopwords and one-letter tokens, stemmed with Snowball (Arabic or English by
script). It is a pure function of its input, so documents and questions meet only when
their words do.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer

#: Characters deleted outright: harakat and other Arabic combining marks (U+064B-U+065F),
#: superscript alef, Quranic annotation marks, tatweel, and the invisible format
#: characters that copy-paste from web pages and RTL editors leaves inside words
#: (zero-width space/joiners, LRM/RLM/ALM, bidi embeddings and isolates, BOM, soft hyphen).
_DELETED = (
    [*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640]
    + [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0xFEFF, 0x00AD, 0x2060]
    + [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)

#: Letter folds. Alef forms, alef maqsura and ta marbuta are written either way in news
#: and in typed questions. The hamza seats ؤ -> و and ئ -> ي are folded too: the
#: Snowball Arabic stemmer already makes exactly these folds internally (measured:
#: مسؤول -> مسوول, رئيس -> رييس), so search tokens conflate them regardless, and gold-text
#: comparison should agree with search; the words the fold merges are spelling variants
#: (typed without the hamza), almost never distinct words. Bare hamza ء is kept: dropping
#: it would turn ماء (water) into the particle ما.
_LETTERS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    "ی": "ي", "ک": "ك",  # Persian/Urdu yeh and keheh, common in copied text
}  # fmt: skip
_DIGITS = {chr(base + i): str(i) for base in (0x0660, 0x06F0) for i in range(10)}

_TABLE = str.maketrans({**dict.fromkeys(_DELETED), **_LETTERS, **_DIGITS})


def normalize_for_search(text: str) -> str:
    """The canonical search spelling of `text`; idempotent.

    NFKC first, so presentation forms and ligatures (ﻻ, ﷲ) become plain letters and
    a hamza written as a combining mark is composed onto its seat before the seats are
    folded. NFKC runs again after the deletions, because deleting a tatweel or a mark
    can bring a Latin letter next to a combining accent it now composes with.
    """
    text = unicodedata.normalize("NFKC", text).lower().translate(_TABLE)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _normalized(words: str) -> frozenset[str]:
    """Stopwords are written as people spell them and compared in normalised form."""
    return frozenset(normalize_for_search(words).split())


#: Function words and question words: they match nearly every chunk, so they only
#: add noise to BM25 (questions are full of them: "ماذا ناقش لافروف مع الكويت؟").
#: Kept short on purpose: anything with content (بعد, قبل, بين, not) stays searchable.
#: Note على folds to علي, the name Ali; both are swamped by the preposition anyway.
ARABIC_STOPWORDS = _normalized(
    "في من على إلى عن مع أن إن أو ثم التي الذي الذين ما لا لم لن هذا هذه ذلك تلك "
    "هو هي كان كانت قد هل ماذا متى أين كيف لماذا كم أي و"
)
ENGLISH_STOPWORDS = _normalized(
    "the a an of to in on with what did does do is are was were be been who whom when "
    "where which how why and or for by at from as it its this that these those has have "
    "had about into"
)
_STOPWORDS = ARABIC_STOPWORDS | ENGLISH_STOPWORDS

_LETTERS_OR_DIGITS = re.compile(r"[^\W_]+")  # runs of Unicode letters and digits
#: A letter of the Arabic script (Arabic, Supplement and Extended-A blocks).
ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN = re.compile("[a-z\u00e0-\u024f]")
#: A conjunction in front of an article cluster (وال, فال, وبال, وكال, ولل, ...).
#: Snowball strips ال, بال, كال, لل itself but not after و/ف: والكويت -> والكوي.
_CONJUNCTION_BEFORE_ARTICLE = re.compile("^[وف](?=ال|بال|كال|لل)")

_ARABIC_STEMMER = Stemmer.Stemmer("arabic")
_ENGLISH_STEMMER = Stemmer.Stemmer("english")
_STEMMER_LOCK = threading.Lock()  # PyStemmer objects must not be called concurrently


def _is_stopword(token: str) -> bool:
    """A stopword, also with the conjunction و/ف glued on (وفي, وقد, فهل)."""
    if token in _STOPWORDS:
        return True
    return token[0] in "وف" and token[1:] in ARABIC_STOPWORDS


@lru_cache(maxsize=1 << 18)
def _stem(token: str) -> str:
    """The stem of one normalised token; cached because news vocabulary is Zipfian.

    Arabic order, chosen by measurement (XQuAD-ar paragraphs + seed articles, 10.5k
    distinct words): normalise first, then stem. Normalising first makes every
    spelling variant (ة/ه, ى/ي, أ/ا, ...) meet by construction. But Snowball strips
    the feminine ending only when spelled ة, and after normalisation it is spelled ه
    (المدينه stays مدينه while مدينة -> مدين), so a word-final ه is handed to the stemmer
    as ة and the stem is normalised back. A pronoun suffix ه loses nothing: Snowball
    strips ة and the pronoun ه alike (كتابه, كتابة -> كتاب). A conjunction before an
    article cluster is dropped first, because Snowball does not strip وال (والكويت
    would stem to والكوي, not كويت).

    Measured against stemming first and normalising the stem: spelling-variant pairs
    (ة/ه, ى/ي, أ/إ/آ/ا) meet 100% of the time instead of 64%; of corpus-attested
    article-cluster forms (ال-, وال-, بال-, لل-, ...) 85% meet the ال form (plain
    normalise-then-stem: 54%); XQuAD-ar question -> paragraph BM25 recall@1 is 0.879
    (plain normalise-then-stem 0.871, no stemming 0.829). Snowball's own limits
    remain: a bare word and its ال form meet 80% of the time (وزير -> زير, since a
    leading و is taken for a conjunction, but الوزير -> وزير; bare ات plurals).
    """
    if ARABIC_SCRIPT.search(token):
        if token.endswith("ه"):
            token = token[:-1] + "ة"
        token = _CONJUNCTION_BEFORE_ARTICLE.sub("", token)
        with _STEMMER_LOCK:
            stem = _ARABIC_STEMMER.stemWord(token)
        return normalize_for_search(stem)
    if _LATIN.search(token):
        with _STEMMER_LOCK:
            return _ENGLISH_STEMMER.stemWord(token)
    return token  # numbers and other scripts are matched as written


def tokenize_for_search(text: str) -> list[str]:
    """BM25 tokens of `text`: normalised words, no stopwords or 1-letter words, stemmed."""
    tokens = []
    for word in _LETTERS_OR_DIGITS.findall(normalize_for_search(text)):
        if len(word) < 2 or _is_stopword(word):
            continue
        stem = _stem(word)
        if stem:
            tokens.append(stem)
    return tokens
