"""The tokens the BM25 index sees: folded words minus stopwords, stemmed.

`tokenize_for_search` turns text into BM25 tokens: the words (`index.text.words.WORD`) of
its folded spelling (`index.text.folding.normalize_for_search`) minus stopwords and
one-letter tokens, stemmed with Snowball (Arabic or English by script). It is a pure
function of its input, so documents and questions meet only when their words do.
`written_words` gives the same words unstemmed, for the stricter word-for-word match of
ranking's proximity signal (qa/proximity.py).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import Stemmer

from index.text.folding import normalize_for_search
from index.text.scripts import ARABIC_SCRIPT, LATIN_SCRIPT
from index.text.words import SEARCH_STOPWORDS, WORD

#: Every stopword, the Arabic ones also with the conjunction و/ف glued on (وفي, وقد, فهل).
_STOPWORDS = frozenset().union(
    *SEARCH_STOPWORDS.values(), (conjunction + word for word in SEARCH_STOPWORDS["ar"] for conjunction in "وف"),
)
#: A conjunction in front of an article cluster (وال, فال, وبال, وكال, ولل, ...).
#: Snowball strips ال, بال, كال, لل itself but not after و/ف: والكويت -> والكوي.
_ARTICLES = "ال|بال|كال|لل"
_CONJUNCTION_BEFORE_ARTICLE = re.compile(f"^[وف](?={_ARTICLES})")

#: An article cluster opening a word, a conjunction before it or not: no pronoun follows a
#: word that has the article, so its final ته is a feminine ending (الثابتة).
_ARTICLE_CLUSTER = re.compile(f"^[وف]?(?:{_ARTICLES})")

#: A conjunction before alif, which Snowball keeps, unable to tell وأمير ("and the emir")
#: from واشنطن: `without_conjunction` drops it to compare tokens, not to index them.
_CONJUNCTION_BEFORE_ALIF = re.compile("^[وف](?=ا..)")

#: A written word keeps a leading ال if it is this short (الله, الان: the letters are the word's own).
ARTICLE_MIN_CHARS = 4

#: Letters Snowball's Arabic stemmer strips from the front of many words, names among them,
#: taking them for a preposition or a conjunction (بوتين -> وتين, فيصل -> يصل, بشار -> شار):
#: a name in another script is compared with such a stem with the letter put back
#: (`qa.grounding.stem_resemblances`).
STRIPPED_LETTERS = ("ب", "ف")

#: A bare ات plural (صادرات, علاقاتها) whose stem is this long or shorter keeps Snowball's
#: stem: what is left would be two letters, and such words are verbs (بدأت, قرأت, folded
#: to بدات, قرات), not plurals.
_SHORTEST_PLURAL_STEM = 3
#: What follows the plural's ا in the word: its ت, and a pronoun or none (Snowball keeps
#: the ات before ي, "my": علاقاتي).
_PLURAL_T = re.compile("ت(?:ه|ها|هم|هما|هن|ك|كم|كما|كن|نا)?")

_ARABIC_STEMMER = Stemmer.Stemmer("arabic")
_ENGLISH_STEMMER = Stemmer.Stemmer("english")
_STEMMER_LOCK = threading.Lock()  # PyStemmer objects must not be called concurrently


@lru_cache(maxsize=1 << 18)
def _stem(token: str) -> str:
    """The stem of one folded token; cached because news vocabulary is Zipfian.

    Arabic order, chosen by measurement (XQuAD-ar paragraphs + seed articles, 10.5k
    distinct words): fold first, then stem. Folding first makes every spelling variant
    (ة/ه, ى/ي, أ/ا, ...) meet by construction. But Snowball strips the feminine ending
    only when spelled ة, and after folding it is spelled ه (المدينه stays مدينه while
    مدينة -> مدين), so a word-final ه is handed to the stemmer as ة and the stem is
    folded back. A pronoun suffix ه loses nothing: Snowball strips ة and the pronoun ه
    alike (كتابه, كتابة -> كتاب). But ته is most often the feminine ending before the
    pronoun (زيارته "his visit", حكومته, حياته) or a verb's ت before it (أصدرته): handed
    over as ة, Snowball strips only that and leaves the ت (زيارت, never زيار, the stem of
    زيارة and زيارتها), so such a word is handed over as written, and Snowball strips ته
    as it strips تها; not after an article, which no pronoun follows (الثابتة). A
    conjunction before an article cluster is dropped first, because Snowball does not
    strip وال (والكويت would stem to والكوي, not كويت).

    Measured against stemming first and folding the stem: spelling-variant pairs (ة/ه,
    ى/ي, أ/إ/آ/ا) meet 100% of the time instead of 64%; of corpus-attested article-cluster
    forms (ال-, وال-, بال-, لل-, ...) 85% meet the ال form (plain fold-then-stem: 54%);
    XQuAD-ar question -> paragraph BM25 recall@1 is 0.879 (plain fold-then-stem 0.871, no
    stemming 0.829). Snowball's own limits remain: a bare word and its ال form meet 80% of
    the time (وزير -> زير, since a leading و is taken for a conjunction, but الوزير ->
    وزير). A bare ات plural lost only its ت, before a pronoun or not (صادرات -> صادرا,
    علاقاتها -> علاقا, while الصادرات -> صادر and العلاقات -> علاق): the ا left over is
    dropped too, so the plural meets its ال form and most often its singular (not one in
    أة: منشآت -> منش, منشأة -> منشا). Not where Snowball also took a first letter
    (بيانات -> يانا, وخدمات -> خدما): that may be the word's own, and the rest would meet
    other words (بلديات -> لدي, "I have"; وزارات -> زار, "visited"), so such a plural no
    longer meets its bare form (وخدمات, خدمات -> خدم). A word that is no plural may end
    so too: مصراتة (Misrata) -> مصر, أنشأت ("founded") -> انش.
    """
    if ARABIC_SCRIPT.search(token):
        if token.endswith("ه") and not (token.endswith("ته") and not _ARTICLE_CLUSTER.match(token)):
            token = token[:-1] + "ة"
        token = _CONJUNCTION_BEFORE_ARTICLE.sub("", token)
        with _STEMMER_LOCK:
            stem = _ARABIC_STEMMER.stemWord(token)
        if (len(stem) > _SHORTEST_PLURAL_STEM and stem.endswith("ا") and token.startswith(stem)
                and _PLURAL_T.fullmatch(token, len(stem))):
            stem = stem[:-1]  # a bare ات plural, of which Snowball strips only the ت
        return normalize_for_search(stem)
    if LATIN_SCRIPT.search(token):
        with _STEMMER_LOCK:
            return _ENGLISH_STEMMER.stemWord(token)
    return token  # numbers and other scripts are matched as written


def without_conjunction(token: str) -> str:
    """A search token less a leading و/ف before alif (وامير -> امير, فاكد -> اكد), if a
    word of three letters or more is left: one of the two spellings is the word asked."""
    return _CONJUNCTION_BEFORE_ALIF.sub("", token)


def _content_words(text: str) -> list[str]:
    """The folded words of `text` that can be searched: no stopwords, no 1-letter words."""
    return [word for word in WORD.findall(normalize_for_search(text)) if len(word) >= 2 and word not in _STOPWORDS]


def tokenize_for_search(text: str) -> list[str]:
    """BM25 tokens of `text`: folded words, no stopwords or 1-letter words, stemmed."""
    return [stem for _, stem in _stemmed_words(text)]


def search_readings(text: str) -> list[tuple[str, ...]]:
    """Per search token of `text` (`tokenize_for_search`, same order), the tokens its word
    may stand for: its own, and where Snowball took a bare Arabic word's first letter for
    a conjunction or a preposition and kept it after the article (وزير -> زير but الوزير
    -> وزير; فيصل -> يصل, فريق -> ريق), the ال form's stem, so that the two forms of one
    word meet. Only that letter put back: the article also makes Snowball cut endings
    (السلمان -> سلم), which would meet other words (سلمية). Only the answer gate reads
    them; BM25 indexes one token a word."""
    return [_word_readings(word, stem) for word, stem in _stemmed_words(text)]


def _stemmed_words(text: str) -> list[tuple[str, str]]:
    return [(word, stem) for word in _content_words(text) if (stem := _stem(word))]


def _word_readings(word: str, stem: str) -> tuple[str, ...]:
    if not ARABIC_SCRIPT.match(word) or _ARTICLE_CLUSTER.match(word):
        return (stem,)
    defined = _stem("ال" + word)
    return (stem, defined) if defined == word[0] + stem else (stem,)


def written_words(text: str) -> list[str]:
    """The words of `text` as written, to match word for word: the folded words BM25 tokens
    are made of, not stemmed, the article ال dropped from a word longer than
    ARTICLE_MIN_CHARS (الكويت and كويت are one word). Snowball's stems merge words a
    reader tells apart (رئيسي, "main" or the name Raisi, and رئيس, "president") and part
    words it should not (وزير but الوزير -> وزير), so written words are the stricter match."""
    return [word[2:] if word.startswith("ال") and len(word) > ARTICLE_MIN_CHARS else word
            for word in _content_words(text)]
