"""German's common nouns, which German capitalises as it does names.

The answer gate asks the cited article for each of a question's names (`qa.grounding`).
German writes every noun with a capital ("Krätze", "Namensliste", "Sportbehörde"), and an
article that says الجرب for Krätze is no evidence against an answer. Determiners and counts
announce some nouns (`qa.grounding._german_nouns`: "der Außenminister", "29 Luftangriffe");
the others ("an Krätze", "für Nierenkranke", "die Münchner Richterin") are told by FreeDict's
German-English dictionary (`dict-freedict-deu-eng`, GPL, which `make install` takes from
the system's package archive, like the dictionaries of `qa.translation`), whose entries say
what a headword is ("Krätze /kɾˈɛtsə/ <fem, n, sg>"). A noun whose every entry English
translates with a capital, as it writes names and nationalities, is a name ("Bayern":
Bavaria, Bavarians; "Araber": Arab; "George": Georgian); one with a common sense is not
(Berg: mountain, though also Mount).

A word it does not list is a noun when it is one with a case ending its entry allows
(Kindern: Kinder, plural; Königreichs: Königreich, neuter) or ends in one after another
word, as German compounds do (Namens|liste, Nieren|kranke). Without the dictionary, only
announced nouns are told, as before it was read. Names that are German nouns too (Herzog,
Fischer) are taken for nouns unless they follow another name or an Arabic name's particle
(`qa.grounding`).
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from index.text.words import is_function_word
from qa.parsed_cache import read_parsed

log = logging.getLogger(__name__)

#: The dictd dictionary (`NAME.index` and `NAME.dict.dz`) in `qa.translation.SEARCH_PATH`.
DICTIONARY = "freedict-deu-eng"
#: An entry's first lines: "Krätze /kɾˈɛtsə/ <fem, n, sg>" (or "die Polizei /.../ <...>"),
#: then its first translation after any marks of domain or region ("[adm.] public
#: authority <n>"). Matched in bytes: only the headwords are worth decoding.
_ENTRY = re.compile(
    rb"^(?:(?:der|die|das) )?(\S+) /[^/\n]*/(?: \([^)\n]*\))? <([^>\n]*)>\n *((?:\[[^\]\n]*\] *)*)(\S)", re.M)
#: Tags of a noun: "fem, n, sg", "masc, fem, n, sg", "n", "pl", "pl, n".
_NOUN_TAGS = re.compile(rb"(?:^|, )(?:n|pl)(?:,|$)")
_PLURAL_TAGS = re.compile(rb"(?:^|, )pl(?:,|$)")
_MASCULINE_OR_NEUTER_TAGS = re.compile(rb"(?:^|, )(?:masc|neut)(?:,|$)")
#: The dative plural's ending, on a plural (Kinder|n, Vorwürfe|n)...
_PLURAL_ENDINGS = ("n",)
#: ... and the genitive singular's, on a masculine or neuter noun (Königreich|s, Name|ns).
_GENITIVE_ENDINGS = ("s", "es", "ns")
#: What joins a compound's first part to the next (Name|ns|liste, Halbjahr|es|gewinn).
_JOINING = ("s", "es", "n", "en", "ns")
#: A compound's last part is a noun of at least this many letters, after at least
#: COMPOUND_HEAD letters of a word that is no function word: shorter parts are found by
#: chance in names ("Th|omas": Omas, grandmothers; "Muh|arrak", "Ein|stein").
COMPOUND_TAIL = 4
COMPOUND_HEAD = 4


@dataclass(frozen=True)
class Nouns:
    """A German dictionary's capitalised nouns of one word, case-folded (a word is looked
    up as the question capitalises it): `common` ones, with the `plurals` and the
    masculine or neuter singulars (`genitive_bases`) among them; `proper` ones, every
    entry of which is a name; and its `other_words` of any kind, which a compound's first
    part may be as well as a common noun (Sport|behörde, Gesamt|bevölkerung)."""

    common: frozenset[str] = frozenset()
    plurals: frozenset[str] = frozenset()
    genitive_bases: frozenset[str] = frozenset()
    proper: frozenset[str] = frozenset()
    other_words: frozenset[str] = frozenset()

    @classmethod
    def read(cls, index_file: Path) -> "Nouns":
        """The nouns of the FreeDict German dictionary whose dictd `.index` file is
        `index_file` (`qa.translation.read_dictd_data`)."""
        from qa.translation import read_dictd_data  # here: translation needs the gate's code, which needs this

        data = read_dictd_data(index_file)
        common: set[bytes] = set()
        plurals: set[bytes] = set()
        genitive_bases: set[bytes] = set()
        named: set[bytes] = set()
        words: set[bytes] = set()
        for match in _ENTRY.finditer(data):
            headword, tags, _marks, first_letter = match.groups()
            words.add(headword)
            if not (_NOUN_TAGS.search(tags) and headword.decode("utf-8")[:1].isupper()):
                continue
            if first_letter.isupper():
                named.add(headword)
                continue
            common.add(headword)
            if _PLURAL_TAGS.search(tags):
                plurals.add(headword)
            elif _MASCULINE_OR_NEUTER_TAGS.search(tags):
                genitive_bases.add(headword)
        return cls(_folded(common), _folded(plurals), _folded(genitive_bases), _folded(named - common),
                   _folded(words - common))

    def is_common(self, word: str) -> bool:
        """Whether a capitalised German word is a common noun: as written, with a case
        ending its entry allows, or by its last part. Not an acronym (RIA, SABIC); a
        hyphenated word is judged whole, as its first part is no word (Jaber-Stadion)."""
        if word.isupper():
            return False
        folded = word.casefold()
        if folded in self.proper:
            return False
        return self._inflected(folded) or any(
            self._inflected(folded[start:]) and self._is_head(folded[:start])
            for start in range(COMPOUND_HEAD, len(folded) - COMPOUND_TAIL + 1))

    def _inflected(self, word: str) -> bool:
        """A common noun as written, or with a case ending its entry allows."""
        return (word in self.common
                or any(word.endswith(e) and word[:-len(e)] in self.plurals for e in _PLURAL_ENDINGS)
                or any(word.endswith(e) and word[:-len(e)] in self.genitive_bases for e in _GENITIVE_ENDINGS))

    def _is_head(self, head: str) -> bool:
        """Whether a compound's first part is a word, as written or less what joins it to
        the next, and no function word."""
        forms = [head, *(head[:-len(e)] for e in _JOINING if head.endswith(e))]
        return not is_function_word(head) and any(
            len(form) >= COMPOUND_HEAD and (form in self.common or form in self.other_words) for form in forms)


def _folded(headwords: set[bytes]) -> frozenset[str]:
    return frozenset(word.decode("utf-8").casefold() for word in headwords)


_read: Nouns | None = None
_READING = threading.Lock()


def german_nouns() -> Nouns:
    """`Nouns.read` of the dictionary installed in `qa.translation.SEARCH_PATH`, read
    once per process however many threads ask at once (seconds of parsing the first time
    on a machine, then read back as parsed, `qa.parsed_cache`; `Assistant.warm_up` loads
    it before the first question). Empty when it is not installed, or cannot be
    read (which the log says, once)."""
    global _read
    with _READING:
        if _read is None:
            _read = _read_installed()
        return _read


def forget_german_nouns() -> None:
    """Read the dictionary again when next asked (for tests that move SEARCH_PATH)."""
    global _read
    with _READING:
        _read = None


def _read_installed() -> Nouns:
    from qa.translation import DictionaryError, dictd_files, installed  # as in `Nouns.read`

    index_file = installed(DICTIONARY)
    if index_file is None:
        return Nouns()
    try:
        return read_parsed("german-nouns", dictd_files(index_file), lambda: Nouns.read(index_file))
    except (DictionaryError, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        log.warning("German nouns are told by determiners only: cannot read %s: %s", index_file, exc)
        return Nouns()
