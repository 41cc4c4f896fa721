"""Does a passage name what the question names? The coverage signal of ranking.

A small multilingual embedding model matches the most salient name of a question and
drops the rest: asked what Lavrov discussed with Kuwait, it ranks passages about Lavrov
and Syria next to the one about Lavrov and Kuwait, and in an archive with hundreds of
Lavrov articles the right one sinks. Coverage counts, for each candidate passage, how
much of what the question names it contains, across scripts:

- the salient terms of the question (`qa.grounding.salient_terms`: the search tokens of
  an Arabic question; the capitalised words and numbers of one in another script);
- each spelled in the index by the search tokens that are the word itself, or, for a
  word in another script, whose consonant skeleton matches (Lavrov ~ لافروف, Kuwait ~
  كويت, `qa.grounding.skeleton`), or that spell its name in another language (Jordan ~
  الأردن, `qa.lexicon`; a name of several words by its rarest word);
- each weighing the idf of its rarest spelling, so a missing rare name costs more than a
  missing common word. A term the index cannot spell at all tells passages nothing apart
  and is left out.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index.text.scripts import ARABIC_SCRIPT
from index.text.search import STRIPPED_LETTERS, tokenize_for_search
from index.store.base import LexicalStore, Vocabulary
from qa.grounding import MIN_RESEMBLANCE, salient_terms, skeleton, skeletons, stem_resemblances
from qa.language import detect_language
from qa.lexicon import key_tokens, names_in, other_names


@dataclass(frozen=True)
class Named:
    """Something the question names, and how the index spells it."""

    term: str
    tokens: tuple[str, ...]
    weight: float
    #: Of `tokens`, those that spell the name's translations (`qa.lexicon`: Jordan ~
    #: الأردن), which the loose consonant matches (Kuwait ~ وقت, time) are not; in the
    #: lexicon's order of locales, Arabic first.
    translated: tuple[str, ...] = ()
    #: The language of the question, which says how to read the name's letters
    #: (`qa.grounding.skeletons`: Turkish Cengiz ~ جنكيز).
    language: str = ""


#: The skeletons' classes of the letters the stemmer cuts off the front of words.
_STRIPPED_CLASSES = frozenset(skeleton(letter) for letter in STRIPPED_LETTERS)


class Spellings:
    """The Arabic-script search tokens of one BM25 index, by consonant skeleton."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._by_skeleton: dict[str, list[str]] = {}
        for token in tokens:
            if ARABIC_SCRIPT.search(token):
                key = skeleton(token)
                if len(key) >= 2:
                    self._by_skeleton.setdefault(key, []).append(token)
        self._keys = sorted(self._by_skeleton)

    def of(self, word: str, language: str = "") -> set[str]:
        """Tokens whose skeleton matches one of the word's, written in `language`
        (`qa.grounding.names_match`); and of those that match it but for a first letter
        the stemmer cut off (Putin ~ وتين, the stem of بوتين), the one that resembles it
        most with that letter put back (`qa.grounding.stem_resemblances`), if it resembles
        it enough: Arabic leaves short vowels unwritten, so a cut common word can resemble
        the name nearly as well (Putin ~ بوطن, "in a homeland")."""
        keys = skeletons(word, language)
        found = set().union(*(self._of_skeleton(key) for key in keys))
        cut = [t for key in keys if key[:1] in _STRIPPED_CLASSES and len(key) >= 3 for t in self._of_skeleton(key[1:])]
        cut = [t for t in dict.fromkeys(cut) if t not in found]
        if cut:
            scores = stem_resemblances(word, cut, language)
            best = max(scores)
            if best >= MIN_RESEMBLANCE:
                found.update(t for t, score in zip(cut, scores) if score == best)
        return found

    def _of_skeleton(self, key: str) -> set[str]:
        if len(key) < 2:
            return set()
        found = set(self._by_skeleton.get(key, ()))
        if len(key) >= 3:  # one skeleton a prefix of the other, the shorter of 3 or more
            start = bisect.bisect_left(self._keys, key)
            for longer in self._keys[start:]:
                if not longer.startswith(key):
                    break
                found.update(self._by_skeleton[longer])
            for length in range(3, len(key)):
                found.update(self._by_skeleton.get(key[:length], ()))
        return found


#: One `Spellings` per segment's BM25 index, made on first use and kept as long as the
#: segment is open (segments outlive generations, so an upload rebuilds only its own).
_SPELLINGS: "weakref.WeakKeyDictionary[Vocabulary, Spellings]" = weakref.WeakKeyDictionary()
#: Held while one is made: a question that arrives while `qa serve` warms up waits for the
#: table rather than making it a second time.
_MAKING = threading.Lock()


def _spellings(lexical: Vocabulary) -> Spellings:
    spellings = _SPELLINGS.get(lexical)
    if spellings is None:
        with _MAKING:
            if lexical not in _SPELLINGS:
                _SPELLINGS[lexical] = Spellings(lexical.terms())
            spellings = _SPELLINGS[lexical]
    return spellings


def named_in(question: str, lexical: LexicalStore) -> list[Named]:
    """What the question names, each with its spellings in the index and its weight."""
    named = []
    # an organisation or a region (`Found.whole`) is for the answer gate only: news names
    # them everywhere, so holding one sets no article apart, and its Arabic names' rarest
    # words are common ones (docs/benchmarks.md measures it in ranking)
    found = tuple(f for f in names_in(question) if not f.whole)
    language = detect_language(question)
    for term in salient_terms(question):
        tokens = {term} if ARABIC_SCRIPT.search(term) else set(tokenize_for_search(term))
        translated: list[str] = []
        if not ARABIC_SCRIPT.search(term):
            for part in lexical.parts:
                tokens |= _spellings(part).of(term, language)
            translated = list(dict.fromkeys(
                t for name in other_names(term, found) for t in key_tokens(name, lexical.idf)))
            tokens |= set(translated)
        weights = {t: lexical.idf(t) for t in tokens if lexical.df(t)}
        if weights:
            named.append(Named(term, tuple(sorted(weights)), max(weights.values()),
                               tuple(t for t in translated if t in weights), language))
    return named


def coverage(named: Sequence[Named], chunk_ids: Sequence[int], lexical: LexicalStore) -> dict[int, float]:
    """Each chunk's weighted share of the named terms it contains (0 to 1)."""
    total = sum(n.weight for n in named)
    if not total or not len(chunk_ids):
        return {}
    ids = np.asarray(list(chunk_ids), dtype=np.int64)
    score = np.zeros(len(ids))
    for n in named:
        score += n.weight * lexical.contains(n.tokens, ids)
    return dict(zip(ids.tolist(), (score / total).tolist()))
