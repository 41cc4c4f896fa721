"""Names that languages translate rather than transliterate, in many languages at once.

A consonant skeleton links Lavrov to لافروف and Kuwait to الكويت (`qa.grounding`), but
nothing in the letters links Jordan to الأردن, Germany to ألمانيا, China to الصين, 新加坡
to سنغافورة, June to يونيو or تموز, or German to الألمانية. The Unicode CLDR, which ships
with Babel, names every country and region, language, time-zone city and month in every
locale; `Lexicon` indexes those names in `LOCALES` so that a question's name can be
looked up in any of them and answered with all the others. Ranking uses the other names
to find the question's names in the index (`qa.coverage`); the answerer uses them to
check that the evidence holds them (`qa.grounding`). Questions in scripts without
capitals (Chinese, Hindi) have no capitalised words to take as names; the names the
lexicon finds in them are their salient terms. International organisations and regions,
which CLDR does not name, and their acronyms come from `qa.news_names`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import Stemmer

from index.text.folding import normalize_for_search, other_g_spelling, to_ascii_digits
from index.text.scripts import ARABIC_SCRIPT, HANGUL_SCRIPT, is_unspaced, script_of
from index.text.search import tokenize_for_search
from index.text.words import KOREAN_PARTICLES, NAME_WORD, is_function_word, without_elision
from qa.news_names import ACRONYMS, ORGANISATIONS, REGIONS
from qa.parsed_cache import read_parsed

#: The locales whose names are looked up and returned: the languages readers ask in
#: most, Levantine and Maghrebi Arabic, whose month names differ (تموز, يوليوز), and the
#: languages whose names ranking reads in Latin letters (Greek, Armenian, Georgian,
#: Amharic) or that write Arabic names alike (Hebrew). Not Thai: it puts no spaces
#: between words, and its names would have to be cut out of clauses.
LOCALES = (
    "ar", "ar_SY", "ar_MA", "en", "fr", "de", "es", "it", "pt", "nl", "sv", "pl", "ru", "uk",
    "tr", "fa", "ur", "hi", "bn", "id", "ms", "zh", "zh_Hant", "ja", "ko", "el", "hy", "ka", "am", "he",
)  # fmt: skip
#: The locales an article in Arabic script writes its names in. Names of the other
#: locales that are Arabic words (Urdu جون, "June", is John in Arabic) are not looked up
#: in such text.
ARABIC_LOCALES = ("ar", "ar_SY", "ar_MA")
#: Words whose lookup form (`fold`), and folded words whose concepts, are remembered.
FOLD_MEMORY = 50_000
LOOKUP_MEMORY = 50_000
#: Shortest name looked up: shorter ones (the Yi and Ga languages) collide with words.
MIN_NAME_CHARS = 3
#: Shortest name in an unspaced script (中国, 日本).
MIN_UNSPACED_CHARS = 2
#: Most words of a name looked up (Saint Vincent and the Grenadines is not asked about).
MAX_NAME_WORDS = 4
#: Letters an inflected word may add to a name (России ~ Россия, Kuwaiti ~ Kuwait,
#: Deutschlands ~ Deutschland): the ending is cut and the rest looked up again.
MAX_ENDING = 2
#: Shortest stem an ending may be cut from (Oman + i, not Iran -> Ira).
MIN_STEM_CHARS = 4
#: A Russian name declines in every word (Саудовская Аравия: Саудовскую Аравию, Саудовской
#: Аравией), not only in the last, whose ending MAX_ENDING cuts: a name of several words is
#: known by its words' Snowball stems too (саудовск арав), each of MIN_STEM_CHARS letters or
#: more. Not a name of one word: its stem is a surname's or an adjective's as often
#: (Иорданов, Германов; Турецкая), and its cut ending finds it declined (Иордании).
RUSSIAN_STEMMER = "russian"
#: Shortest name in Hangul syllables, each worth two or three letters (이란, Iran; 미국).
MIN_HANGUL_CHARS = 2
#: CLDR entries that are not names of anything in particular, and in some languages are
#: common words (Hindi विश्व, "world"): the world, unknown region, unknown language, ...
NOT_NAMES = frozenset({("territory", "001"), ("territory", "ZZ"), ("language", "und"), ("language", "zxx"),
                       ("language", "mul"), ("language", "mis")})

#: Territory codes of CLDR that are no country (the UN, the EU, the eurozone, outlying
#: Oceania); numeric ones are regions of countries (019, the Americas).
NOT_COUNTRIES = frozenset({"UN", "EU", "EZ", "QO"})
#: The names Arabic news gives the countries it names most, where CLDR has only the
#: official one (الولايات المتحدة, المملكة المتحدة) or another (هنغاريا): known when Arabic
#: text is read.
ARABIC_SHORT_NAMES = {
    "US": ("أمريكا", "أميركا"), "GB": ("بريطانيا",), "AE": ("الإمارات",), "PS": ("فلسطين",), "HU": ("المجر",),
}
#: ("territory", "JO"), ("language", "de"), ("city", tz id), ("month", "6"), ("organisation", "GCC"),
#: ("region", "GULF")
Concept = tuple[str, str]
#: The kinds of concept one story may name instead of another, by what they are.
KIND_OF = {"territory": "place", "city": "place", "month": "month"}
#: The kinds of `qa.news_names`, whose Arabic names are common words put together, and the
#: CLDR territories that are organisations (الأمم المتحدة: متحدة is the United States' word too).
NEWS_KINDS = frozenset({"organisation", "region"})
ORGANISATION_TERRITORIES = frozenset({("territory", "UN"), ("territory", "EU")})
#: What Arabic glues before a name written whole: and, so (و, ف), then with, as, for (ب, ك,
#: ل); before a name with the article, for (ل) takes its alif (للأمم المتحدة).
_GLUED = "(?:[وف]?[بكل]?)"
#: What may follow it: nothing, or a relative ending (الخليج: الخليجي, الخليجية, الخليجيين).
_RELATIVE = "(?:ي|يه|يين|يون)?"
_DASHES = re.compile(r"[-‐‑‒–—_\s]+")
#: What an apostrophe glues to a name: the English possessive ("Jordan's") and the
#: Turkish case and derivational suffixes, which Turkish writes after an apostrophe on
#: names ("Malezya'da", "Esad'ın", "2015'te", "BAE'li"). Only those: an apostrophe inside
#: a transliterated Arabic name marks a letter (Ba'ath, Qur'an) and stays.
NAME_SUFFIX = re.compile(
    r"[’'](?:s|[dt][ae](?:n|ki)?|n?[ıiuü]n(?:ki)?|[yn]?[ıiuüae]|[yn]?l[ae]|l[ıiuü]|l[ae]r|[cç][ae]|s[ıiuü]|n[dt][ae]n?)$",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"[’'].*$")  # what follows an apostrophe: Kuwait's, Kuveyt'e
#: An Arabic relative adjective, folded: an optional article (after و, ف, ب or ل) and a
#: stem of three letters or more, then ي, يه (ية), يون or يين.
_NISBA = re.compile(r"^(?:[وف]?[بل]?ال|لل)?(?P<stem>\w{3,}?)(?:يه|يون|يين|ي)$")
#: Letters of Persian and Urdu that Arabic does not write.
_PERSIAN_OR_URDU = re.compile("[پچژگکیےۀہ]")
#: What Arabic writes before a name: and, so (و, ف), then with, for (ب, ل).
_ARABIC_PREFIX = re.compile(r"^(?:[وف][بل]?|[بل])(?=..)")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})\b")  # an ISO date's year and month
#: A word for the lexicon: anything between spaces and punctuation. (`NAME_WORD` would cut
#: Devanagari words at their vowel signs, which are marks, not letters.)
_WORD = re.compile(r"[^\s\-‐‑‒–—_.,;:!?()\[\]{}\"«»“”„،؛؟。，、？！：；（）+]+")  # OPEC+ is OPEC


@dataclass(frozen=True)
class Found:
    """A name found in a question: its words as written there, what it is called in
    every locale of the lexicon (itself included), and what it names."""

    words: tuple[str, ...]
    names: tuple[str, ...]
    concepts: frozenset[Concept] = frozenset()

    @property
    def surface(self) -> str:
        joiner = "" if is_unspaced(self.words[0]) else " "
        return joiner.join(self.words)

    @property
    def bare_words(self) -> tuple[str, ...]:
        """The words without a suffix glued on by an apostrophe (Oman's: Oman), as
        salient terms are written."""
        return tuple(NAME_SUFFIX.sub("", word) for word in self.words)

    @property
    def kinds(self) -> frozenset[str]:
        """"place" (a country, a city of one) and/or "month": the kinds of name a news
        story puts one of in place of another (Kuwait's minister or Jordan's, June's
        exports or May's). Languages are left out ("German" also says who spoke), and so
        are regions of countries (Europe) and time-zone names of no country (Truk, ترك,
        also "he left")."""
        return frozenset(KIND_OF[kind] for kind, key in self.concepts
                         if kind == "month" or (kind in KIND_OF and _country_of((kind, key))))

    @property
    def whole(self) -> bool:
        """Whether this is an organisation or a region (`qa.news_names`, the UN, the EU),
        which Arabic text holds only by one of its Arabic names written whole
        (`written_whole`)."""
        return bool(self.concepts) and all(kind in NEWS_KINDS or (kind, key) in ORGANISATION_TERRITORIES
                                           for kind, key in self.concepts)

    @property
    def arabic_names(self) -> tuple[str, ...]:
        """The names Arabic text writes it by: no Persian or Urdu one (اتحادیه عرب, whose
        stem is Arabic اتحاد, "union", as in a football club's name)."""
        return tuple(filter(_arabic_name, self.names))

    @property
    def countries(self) -> frozenset[str]:
        """The territory codes this name is, or whose city it is (Cairo: EG)."""
        return frozenset(filter(None, (_country_of(concept) for concept in self.concepts)))


class Lexicon:
    """Names by key (folded name -> concepts) and by concept (-> every name): CLDR's and
    `qa.news_names`', and acronyms matched as written."""

    def __init__(self, entries: list[tuple[Concept, str]], acronyms: Mapping[str, Concept] | None = None) -> None:
        """`entries` are (concept, name); `acronyms`, matched only as written, stand for
        concepts that `entries` name."""
        self._acronyms = {acronym: {concept} for acronym, concept in (acronyms or {}).items()}
        self._concepts: dict[str, set[Concept]] = {}
        self._stems: dict[str, set[Concept]] = {}  # a long name less its last letter
        self._russian_stems: dict[str, set[Concept]] = {}  # a Cyrillic name by its words' stems
        names: dict[Concept, dict[str, None]] = {}
        for concept, name in entries:
            key = fold(name)
            if len(key) < _shortest_name(key):
                continue
            names.setdefault(concept, {})[name] = None
            self._concepts.setdefault(key, set()).add(concept)
            if not is_unspaced(key) and len(key) > MIN_STEM_CHARS:
                self._stems.setdefault(key[:-1], set()).add(concept)
            if stems := _russian_stems(key):
                self._russian_stems.setdefault(stems, set()).add(concept)
        self._names = {concept: tuple(found) for concept, found in names.items()}
        if unnamed := {c for concepts in self._acronyms.values() for c in concepts} - self._names.keys():
            raise ValueError(f"acronyms of concepts the lexicon does not name: {sorted(unnamed)}")
        # first words of names: a word that is none of them (nor a name itself, by its
        # stem) starts no name, which settles most words of a text at one lookup
        self._first_words = {key.split(" ", 1)[0] for key in self._concepts}
        self._first_stems = {stems.split(" ", 1)[0] for stems in self._russian_stems}
        self._unspaced_keys = sorted((k for k in self._concepts if is_unspaced(k)), key=len, reverse=True)
        # a text's words recur, and most are looked up to learn that they start no name
        self._lookup = lru_cache(maxsize=LOOKUP_MEMORY)(self._lookup_anew)

    def __getstate__(self) -> dict[str, object]:
        """The tables, for `qa.parsed_cache`; not the memory of lookups."""
        return {name: value for name, value in self.__dict__.items() if name != "_lookup"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lookup = lru_cache(maxsize=LOOKUP_MEMORY)(self._lookup_anew)

    def find(self, text: str) -> list[Found]:
        """The names in `text`, longest first where they overlap, in reading order.

        In a cased script a name starts with a capital (so "may" is not May), and a first
        word is no name when it is a function word (nor is "May I ..."), as
        `qa.grounding.salient_terms` takes names, also without a glued elided article
        (l'Égypte, dell'Italia); an inflected or possessive last word is found by its stem.
        """
        found: list[Found] = []
        words = [without_elision(word) for word in _WORD.findall(to_ascii_digits(text))]  # １０月: 10月
        cased = [word for word in words if word.lower() != word.upper()]
        shouted = len(cased) > 1 and all(word.isupper() for word in cased)
        acronyms = {} if shouted else self._acronyms  # WHO IS THE MINISTER? asks no WHO
        position = 0
        while position < len(words):
            match = self._match(words, position, acronyms)
            if match:
                length, concepts = match
                found.append(Found(tuple(words[position:position + length]), self._all_names(concepts),
                                   frozenset(concepts)))
                position += length
            else:
                position += 1
        for run in (w for w in words if is_unspaced(w)):
            found += self._find_unspaced(run)
        return found

    def _match(self, words: list[str], position: int,
               acronyms: Mapping[str, set[Concept]]) -> tuple[int, set[Concept]] | None:
        first = words[position]
        acronym = acronyms.get(_SUFFIX.sub("", first))  # GCC, BM'nin; WHO first, never "Who"
        cased = first[:1].lower() != first[:1].upper()
        if is_unspaced(first) or (cased and (not first[:1].isupper() or (position == 0 and is_function_word(first)))):
            return (1, acronym) if acronym else None
        if not cased and is_function_word(first):  # an uncased script's function word is one anywhere
            return None
        if (fold(first) not in self._first_words and not self._lookup(fold(_SUFFIX.sub("", first)))
                and _russian_stem(fold(first)) not in self._first_stems):
            return (1, acronym) if acronym else None
        for length in range(min(MAX_NAME_WORDS, len(words) - position), 0, -1):
            *head, last = words[position:position + length]
            if concepts := self._lookup(fold(" ".join([*head, _SUFFIX.sub("", last)]))):
                return length, concepts
        return (1, acronym) if acronym else None

    def _lookup_anew(self, key: str) -> set[Concept]:
        if key in self._concepts:
            return self._concepts[key]
        if ARABIC_SCRIPT.search(key):
            return self._arabic_lookup(key)
        if HANGUL_SCRIPT.search(key):
            return self._korean_lookup(key)
        for cut in range(1, MAX_ENDING + 1):
            stem = key[:-cut]
            if len(stem) < MIN_STEM_CHARS or " " in key[-cut:]:
                break  # too short, or the "ending" is a word of its own ("Kuwait a")
            if concepts := self._concepts.get(stem, set()) | self._stems.get(stem, set()):
                return concepts
        return self._russian_stems.get(_russian_stems(key), set())

    def _korean_lookup(self, key: str) -> set[Concept]:
        """A Korean word is a name less a particle (바레인은, 오만에서), never less any
        other syllable: 인도적 ("humanitarian") is no India, 오만한 ("arrogant") no Oman."""
        particle = next((p for p in KOREAN_PARTICLES if key.endswith(p)), "")
        stem = key[: len(key) - len(particle)]
        if particle and len(stem) >= MIN_HANGUL_CHARS:
            return self._concepts.get(stem, set())
        return set()

    def _arabic_lookup(self, key: str) -> set[Concept]:
        """An Arabic word inflects at both ends, so no letter is cut from its end (القدم,
        "football", is no القدس): the word less a leading conjunction or preposition
        (واليمن, بالكويت), or the country its relative adjective is made from
        (`_nisba_names`)."""
        bare = _ARABIC_PREFIX.sub("", key)
        if is_function_word(bare):  # وماهي is no more Mahé than ماهي
            return set()
        if bare in self._concepts:
            return self._concepts[bare]
        for name in _nisba_names(key):  # of a country: الرياضي is "sporting" far more than Riyadh's
            if countries := {c for c in self._concepts.get(name, ()) if c[0] == "territory"}:
                return countries
        return set()

    def _find_unspaced(self, run: str) -> list[Found]:
        found, taken = [], [False] * len(run)
        for key in self._unspaced_keys:
            start = run.find(key)
            while start >= 0:
                if not any(taken[start:start + len(key)]):
                    taken[start:start + len(key)] = [True] * len(key)
                    concepts = self._concepts[key]
                    found.append((start, Found((key,), self._all_names(concepts), frozenset(concepts))))
                start = run.find(key, start + 1)
        return [f for _, f in sorted(found, key=lambda pair: pair[0])]

    def is_name(self, found: Found) -> bool:
        """Whether `found` is a name as written or by one letter of inflection (Kuwaits,
        России, Китае), not only by the looser stem of two (Palace ~ Palau)."""
        key = fold(" ".join([*found.words[:-1], _SUFFIX.sub("", found.words[-1])]))
        return (ARABIC_SCRIPT.search(key) is not None or is_unspaced(key)
                or key in self._concepts or key[:-1] in self._concepts or key[:-1] in self._stems)

    def names_of(self, concept: Concept) -> tuple[str, ...]:
        """Every name of one concept in the lexicon's locales; () for an unknown one."""
        return self._names.get(concept, ())

    def _all_names(self, concepts: set[Concept]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for concept in sorted(concepts) for name in self._names[concept]))


@lru_cache(maxsize=FOLD_MEMORY)
def fold(name: str) -> str:
    """The lookup form of a name, remembered (a text's words recur): the search fold
    (index.text.folding: CLDR writes عُمان and إيران, questions عمان and ايران),
    case-folded, dashes and underscores as spaces, and Russian ё as е, which CLDR and
    most Russian text write for it (Соединённые Штаты ~ Соединенные Штаты)."""
    return fold_text(name)


def written_whole(names: tuple[str, ...], folded: str) -> bool:
    """Whether one of `names` (Arabic) is written in `folded` (a text as `fold_text`
    writes it) as whole words, with what Arabic glues to it (`_GLUED`, `_RELATIVE`):
    الناتو in وللناتو, not ناتو in السيناتور; مجلس الأمن, not مجلس الأمناء."""
    return bool(names) and _whole_names(names).search(folded) is not None


@lru_cache(maxsize=256)
def _whole_names(names: tuple[str, ...]) -> re.Pattern[str]:
    """The pattern `written_whole` looks for, made once per organisation asked about: the
    answer step asks it of every article it weighs."""
    forms = []
    for name in map(fold_text, names):
        forms += [re.escape(name)] + ([re.escape("لل" + name[2:])] if name.startswith("ال") else [])
    return re.compile(rf"(?<!\w){_GLUED}(?:{'|'.join(forms)}){_RELATIVE}(?!\w)")


def _arabic_name(name: str) -> bool:
    """Whether Arabic text writes `name`: Arabic script, no letter of Persian or Urdu only."""
    return ARABIC_SCRIPT.search(name) is not None and not _PERSIAN_OR_URDU.search(name)


def fold_text(text: str) -> str:
    """`fold` of a text of any length, not remembered: a name is looked for in it as
    written (`Found.whole`)."""
    return _DASHES.sub(" ", normalize_for_search(text).casefold()).strip().replace("ё", "е")


def _russian_stems(key: str) -> str:
    """A folded Cyrillic name of several words as its words' Russian stems ("саудовск
    арав"), or "" when it is one word or a word has no `_russian_stem`."""
    stems = [_russian_stem(word) for word in key.split(" ")]
    return " ".join(stems) if len(stems) > 1 and all(stems) else ""


@lru_cache(maxsize=FOLD_MEMORY)
def _russian_stem(word: str) -> str:
    """A folded Cyrillic word's Russian stem; "" in another script or for a stem shorter
    than MIN_STEM_CHARS. Remembered: asked of every capitalised word a text holds."""
    if not word or script_of(word[0]) != "cyrillic":
        return ""
    stem = Stemmer.Stemmer(RUSSIAN_STEMMER).stemWord(word)
    return stem if len(stem) >= MIN_STEM_CHARS else ""


def _nisba_names(key: str) -> list[str]:
    """The names an Arabic relative adjective may be made from, as `fold` writes them:
    Arabic names a country's people and officials by its nisba (وزير الخارجية المصري,
    the Egyptian foreign minister), the name less its article and its final alef or يا,
    plus ي (مصر, روسيا, فرنسا, الجزائر: المصري, الروسي, الفرنسي, الجزائري)."""
    match = _NISBA.match(key)  # called for Arabic keys only (`Lexicon._arabic_lookup`)
    if not match:
        return []
    stem = match["stem"]
    return [stem + "يا", stem + "ا", "ال" + stem, stem]  # longest first: تركيا, not ترك


def cldr_entries(locales: tuple[str, ...] = LOCALES) -> list[tuple[Concept, str]]:
    """(concept, name) for every territory, language, time-zone city and month name of
    the locales. A city's English name is its time-zone id's (Asia/Kuwait: Kuwait), where
    the id is a region and a city (not America/North_Dakota/Center)."""
    from babel import Locale  # CLDR data: read when a lexicon is built (`lexicon`)

    entries: list[tuple[Concept, str]] = []
    for code in locales:
        locale = Locale.parse(code)
        entries += [(("territory", key), name) for key, name in locale.territories.items()]
        # two-letter codes: the major languages; the others' names collide with words
        # (Hindi हवाई, "air", is also Hawaiian)
        entries += [(("language", key), name) for key, name in locale.languages.items() if len(key) == 2]
        entries += [(("city", zone), data["city"]) for zone, data in locale.time_zones.items()
                    if "city" in data and not zone.startswith("Etc/")]
        for context in ("format", "stand-alone"):
            entries += [(("month", str(n)), name) for n, name in locale.months[context]["wide"].items()]
    zones = {concept[1] for concept, _ in entries if concept[0] == "city"}
    entries += [(("city", zone), zone.split("/")[1].replace("_", " "))
                for zone in zones if zone.count("/") == 1 and not zone.startswith("Etc/")]
    return [(concept, name) for concept, name in entries if concept not in NOT_NAMES]


@cache
def lexicon(locales: tuple[str, ...] = LOCALES) -> Lexicon:
    """The lexicon of `locales`, with the organisations and regions of `qa.news_names`,
    loaded on first use and kept. Building it from Babel's CLDR data takes about a second
    of Python (docs/benchmarks.md), so it is built once per machine and then read back as
    built (`qa.parsed_cache`, keyed by the locales' data files and Babel's version, which
    stands for their parents'). The Arabic one, which reads
    Arabic text, knows their Arabic names only, and also `ARABIC_SHORT_NAMES`; the others,
    whose names ranking searches for, know every name and the acronyms."""
    import babel

    data = Path(babel.__file__).parent
    files = [data / "global.dat", *(data / "locale-data" / f"{code}.dat" for code in ("root", *locales))]
    label = hashlib.sha256("/".join(locales).encode("utf-8")).hexdigest()[:8]
    return read_parsed(f"lexicon-{label}", files, lambda: _built_lexicon(locales), libraries=("babel", "PyStemmer"))


def _built_lexicon(locales: tuple[str, ...]) -> Lexicon:
    news = [((kind, key), name) for kind, table in (("organisation", ORGANISATIONS), ("region", REGIONS))
            for key, names in table.items() for name in names]
    if locales == ARABIC_LOCALES:
        arabic = [(("territory", key), name) for key, names in ARABIC_SHORT_NAMES.items() for name in names]
        arabic += [(concept, name) for concept, name in news if _arabic_name(name)]
        return Lexicon(cldr_entries(locales) + arabic)
    return Lexicon(cldr_entries(locales) + news, ACRONYMS)


def names_in_text(text: str) -> list[Found]:
    """The names in a text: in one written mostly in Arabic script, by their Arabic names
    only (the Persian and Urdu ones include Arabic words: جون, June, is John), unless
    letters that Arabic lacks say it is Persian or Urdu."""
    words = NAME_WORD.findall(text)
    arabic = sum(bool(ARABIC_SCRIPT.search(word)) for word in words) * 2 >= len(words) > 0
    return (lexicon(ARABIC_LOCALES) if arabic and not _PERSIAN_OR_URDU.search(text) else lexicon()).find(text)


def _country_of(concept: Concept) -> str | None:
    """A territory's own code, a city's country (its time zone's territory), else None."""
    kind, key = concept
    if kind == "city":
        from babel.core import get_global

        key = get_global("zone_territories").get(key, "")
    elif kind != "territory":
        return None
    return key if key.isalpha() and key not in NOT_COUNTRIES else None


@lru_cache(maxsize=4096)
def names_in(text: str) -> tuple[Found, ...]:
    """`names_in_text(text)`, remembered: ranking and every evidence sentence of the
    answer ask it about the same question, and answers to other questions read the same
    passages."""
    return tuple(names_in_text(text))


def _shortest_name(key: str) -> int:
    """The shortest name looked up, in characters, for a key of this script."""
    if is_unspaced(key):
        return MIN_UNSPACED_CHARS
    return MIN_HANGUL_CHARS if HANGUL_SCRIPT.search(key) else MIN_NAME_CHARS


def date_words(date: str) -> str:
    """An ISO date ("2015-08-06") as the words a question would name it by: its year and
    its month's name in every locale ("2015 أغسطس غشت August août ..."). The answer gate
    reads a question's "in August 2015" against an article's publication date with them
    (`qa.grounding.GroundingChecker.check`); the day is left out, as questions name it in
    too many ways."""
    match = _ISO_MONTH.match(date)
    if not match:
        return date
    year, month = match.groups()
    return " ".join([year, *lexicon().names_of(("month", str(int(month))))])


def found_as(term: str, found: Sequence[Found]) -> list[Found]:
    """The found names that `term` (a salient term: no possessive) is, or is a word of; a
    name is found with its words apart (Saudi-Arabien: Saudi Arabien)."""
    apart = _DASHES.sub(" ", term)
    return [f for f in found if apart == f.surface or term in f.bare_words]


def other_names(term: str, found: Sequence[Found]) -> tuple[str, ...]:
    """What the found name that `term` is, or is a word of, is called in every locale; an
    organisation or a region (`Found.whole`) only what Arabic calls it."""
    return tuple(dict.fromkeys(name for f in found_as(term, found)
                               for name in (f.arabic_names if f.whole else f.names)))


def key_tokens(name: str, rarity: Callable[[str], float]) -> tuple[str, ...]:
    """The search token that stands for a name: its rarest by `rarity` (idf in an index),
    as Arabic spells it with either letter for a foreign g (`other_g_spelling`). Requiring
    every token would miss the Saudi Arabia of an article that writes only السعودية,
    while its rarest token is there in one of the name's languages."""
    tokens = tokenize_for_search(name)
    if not tokens:
        return ()
    key = max(tokens, key=rarity)
    return tuple(dict.fromkeys((key, other_g_spelling(key))))
