"""Follow-up questions in a conversation, rewritten by rules the user can read.

"and with Qatar?" after "what did Lavrov discuss with Kuwait?" means "what did Lavrov
discuss with Qatar?", but searched as typed it finds nothing useful. Rewriting it with a
language model would make retrieval depend on a service that may be down and hide what
was searched, so a few transparent rules do it instead, and the rule applied is shown
next to the query actually searched. The rules only fire on questions that cannot stand
alone (they start with a connector such as "and", "what about", "وماذا عن", or are a few
words without the shape of a question): a wrong rewrite of a self-contained question is
worse than none.

`previous` holds the queries that were actually searched, so each rewrite builds on the
last one and chains work ("and with Qatar?", then "and Iran?").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from index.text.folding import folded_words, normalize_for_search
from index.text.scripts import ARABIC_SCRIPT
from index.text.words import HYPHENATED_WORD, QUESTION_WORDS, STOPWORDS
from qa.language import detect_language


@dataclass(frozen=True)
class SearchQuery:
    """What is searched for one question, and why it differs from what was typed."""

    text: str
    rewritten: bool
    #: Short English explanation shown to the user; None when not rewritten.
    rule: str | None


#: Openers of an elliptical follow-up, longest first. Several can chain ("and" + "what
#: about"; an attached Arabic "و" + "ماذا عن"), so each entry is one connector.
_CONNECTORS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            tuple(normalize_for_search(phrase).split())
            for phrase in (
                "and", "also", "or", "but", "what about", "how about", "same for",
                "the same for", "same question for",
                "و", "وعن", "ماذا عن", "فماذا عن", "ماذا بشأن", "كذلك", "وكذلك", "أيضا",
                "et", "aussi", "qu'en est-il de", "qu'en est-il du", "qu'en est-il des",
                "qu'en est-il de la", "quid de", "quid du", "quid des",
                "y", "también", "qué hay de", "qué tal", "qué pasa con",
                "und", "auch", "was ist mit", "wie steht es mit",
                "а", "и", "также", "как насчёт", "как насчет", "что насчёт", "что насчет",
                "ve", "peki", "ya", "ayrıca",
                "e", "ed", "anche", "e invece", "quanto a",
                "bagaimana dengan", "اور", "همچنین",
            )
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip

#: Words that open a question (and so, followed by more words, a self-contained one).
_QUESTION_WORDS = folded_words(word for words in QUESTION_WORDS.values() for word in words)
#: Auxiliaries and copulas: "who is X?" and "did X ...?" are whole questions.
_AUXILIARIES = folded_words(
    "is are was were did does do has have had can could will would should "
    "est sont était es son fue fueron era está están ha han ist sind war waren hat haben "
    "wird wurde è sono hanno é são foi foram adalah هو هي هم هما كان كانت تم"
)
#: Prepositions by language of the previous query: the one a follow-up starts with must
#: be a preposition there, so an article elsewhere ("a" in English) is never taken for one.
_PREPOSITIONS: Mapping[str, frozenset[str]] = {
    "en": folded_words("with in about for to from on at by against between regarding into "
                       "over after before during near toward towards"),
    "fr": folded_words("avec en sur pour à au aux de du des dans contre chez entre vers par "
                       "sans concernant"),
    "es": folded_words("con en sobre para por a al de del desde hacia entre contra sin"),
    "de": folded_words("mit in im über für zu zum zur von vom aus an am auf bei nach gegen "
                       "zwischen ohne"),
    "ru": folded_words("с со в во на о об обо про для к ко от из у по между против"),
    "it": folded_words("con in su per a da di tra fra nel sul al dal contro"),
    "pt": folded_words("com em sobre para por a de no na do da ao entre contra"),
    "id": folded_words("dengan di ke dari tentang untuk pada dalam"),
    "ar": folded_words("مع في عن إلى الى من على حول بين ضد لدى عند بشأن تجاه نحو"),
    # Verb-final languages: the phrase after a preposition runs on into the verb
    # ("با کویت ... گفتگو کرد") and nothing marks where it ends; Turkish and Urdu have
    # postpositions.
    "fa": frozenset(), "tr": frozenset(), "ur": frozenset(),
}  # fmt: skip
_ALL_PREPOSITIONS = frozenset().union(*_PREPOSITIONS.values())
#: A name does not start with these, so a remainder that does is no name to substitute.
_NOT_A_NAME = _QUESTION_WORDS | _ALL_PREPOSITIONS
#: Up to this many words without "?" or a connector are a keyword search, not a follow-up.
_SHORT_WORDS = 3
#: Longer remainders are clauses, not a name to substitute ("and the minister of Oman").
_MAX_NAME_WORDS = 4
#: Prepositions that continue a noun phrase ("the minister of Kuwait") rather than
#: start the next one ("with Kuwait | in Moscow").
_GENITIVES = folded_words("de du des d di da del della do dos das von vom")
#: Articles that go with the name they precede: "avec le Koweït" + "et l'Iran ?" must
#: give "avec l'Iran", not "avec le l'Iran". English keeps its "the" (no entry).
_ARTICLES: Mapping[str, frozenset[str]] = {
    "fr": folded_words("le la les l"), "es": folded_words("el la los las"),
    "it": folded_words("il lo la i gli le l"), "pt": folded_words("o a os as"),
    "de": folded_words("der die das den dem des"),
}  # fmt: skip
#: Lower-case words inside names: "Tamim bin Hamad Al Thani" is one name.
_NAME_PARTICLES = folded_words("bin ibn bint al el abu ben de da del der van von du dos")

#: Arabic words that are never the entity of a question: function and question words,
#: pronouns, and time words that often end one ("ماذا قال بوتين عن الصين أمس؟").
_ARABIC_NON_ENTITIES = folded_words(STOPWORDS["ar"]) | folded_words(
    "أمس اليوم غدا الآن حاليا مؤخرا أيضا فقط جدا بعد قبل خلال حول بين ضد لدى عند بشأن "
    "تجاه نحو هو هي هم هما ذلك تلك هناك هنا كل بعض لا لكن لأن"
)
#: Common news words that begin with و as a root letter: their و is not "and"
#: (وزير is "minister", not "and" + زير).
_WAW_WORDS = folded_words(
    "وزير وزيرة وزراء وزارة وزارات وفد وفود وقت وضع وصل وصول وكالة وكالات ولاية "
    "ولايات واشنطن وطن وطني وطنية وسط وسائل وسيلة وقف وقع واقع ورقة وحدة وحدات "
    "وثيقة وثائق ولي وعد وجود وجه وجهة وراء وفاة واجب وارد وكيل ورد وفق وفقا وافق "
    "وصف وادي"
)

_EDGE_PUNCTUATION = "?؟!.,،;؛:¿¡\"'«»“”()[]…"
_END_PUNCTUATION = " ?؟!.…"
#: Where the phrase after a preposition ends: punctuation, a sentence stop, a dash.
_PHRASE_END = re.compile(r"[,;:?!،؛؟…()«»\"“”]|\.(?:\s|$)|\s[-–—]\s")
_SENTENCE_STOP = re.compile(r"[.!?؟¿¡:]")
#: Proclitics glued to an Arabic word: conjunction, preposition, article.
_PROCLITIC_ARTICLE = re.compile(r"^([وف]?[بكل]?)(ال\w{2,})$")
_PROCLITIC_LAM_ARTICLE = re.compile(r"^([وف]?ل)ل(\w{2,})$")  # للكويت = ل + الكويت
_PROCLITIC_LAM_HAMZA = re.compile(r"^([وف]?ل)([أإآ]\w+)$")  # لإيران
_PROCLITIC_WAW = re.compile(r"^(و)(\w{2,})$")


def _key(token: str) -> str:
    return normalize_for_search(token.strip(_EDGE_PUNCTUATION))


def _split_proclitics(word: str) -> tuple[str, str]:
    """(proclitic, word): "بالكويت" -> ("ب", "الكويت"), "للكويت" -> ("ل", "الكويت")."""
    if normalize_for_search(word) in _WAW_WORDS:
        return "", word
    if m := _PROCLITIC_LAM_ARTICLE.match(word):
        return m[1], "ال" + m[2]
    for pattern in (_PROCLITIC_ARTICLE, _PROCLITIC_LAM_HAMZA, _PROCLITIC_WAW):
        if (m := pattern.match(word)) and m[1]:
            return m[1], m[2]
    return "", word


def _attach(proclitic: str, text: str) -> str:
    """Glue a proclitic onto text; ل + ال is spelled لل (ل + السعودية = للسعودية)."""
    if proclitic.endswith("ل") and text.startswith("ال"):
        return proclitic + text[1:]
    return proclitic + text


def _strip_connectors(tokens: list[str]) -> tuple[bool, list[str]]:
    """Whether the text opens with connectors, and the tokens after them."""
    found = False
    while tokens:
        keys = [_key(token) for token in tokens]
        connector = next((c for c in _CONNECTORS if tuple(keys[: len(c)]) == c), None)
        if connector:
            tokens, found = tokens[len(connector) :], True
            continue
        if found or not _is_attached_and(word := tokens[0].strip(_EDGE_PUNCTUATION)):
            break
        tokens, found = [tokens[0].replace(word, word[1:], 1), *tokens[1:]], True
    return found, tokens


def _is_attached_and(word: str) -> bool:
    """Whether a word is Arabic "و" glued to another ("وقطر", "ومع"), not "وزير"."""
    return (
        word.startswith("و") and len(word) > 2 and bool(ARABIC_SCRIPT.search(word[1]))
        and normalize_for_search(word) not in _WAW_WORDS
    )  # fmt: skip


def _is_whole_question(tokens: list[str]) -> bool:
    """A question word or auxiliary followed by more: "who is X?", "did X meet Y?"."""
    keys = [key for key in map(_key, tokens) if key]
    if keys and keys[0] in _QUESTION_WORDS:
        return len(keys) >= 3 or (len(keys) == 2 and keys[1] in _AUXILIARIES)
    return len(keys) >= 3 and keys[0] in _AUXILIARIES


def _is_short_ellipsis(text: str, tokens: list[str]) -> bool:
    """A few words asked as a question, or a bare "why"/"with Qatar", e.g. "why?".

    A few words without "?" ("Lavrov Kuwait talks") are a keyword search, not a follow-up.
    """
    keys = [key for key in map(_key, tokens) if key]
    if not keys or len(keys) > _SHORT_WORDS:
        return False
    return text.endswith(("?", "؟")) or keys[0] in _NOT_A_NAME


def _replaced(context: str, start: int, stop: int, new: str) -> SearchQuery:
    old = context[start:stop]
    rule = f"follow-up: replaced '{old}' with '{new}' in the previous question"
    return SearchQuery(context[:start] + new + context[stop:], rewritten=True, rule=rule)


def _phrase_stop(context: str, start: int, language: str) -> int:
    """End of the phrase after a preposition, which starts at `start`.

    It runs to the next punctuation or to the next prepositional phrase, whichever comes
    first: "with Kuwait in 2023?" keeps "in 2023". German puts participles and
    infinitives last ("mit Kuwait besprochen?") and capitalises every noun, so there
    trailing lower-case words are the verb and stay.
    """
    m = _PHRASE_END.search(context, start)
    stop = m.start() if m else len(context)
    prepositions = _PREPOSITIONS.get(language, _ALL_PREPOSITIONS) - _GENITIVES
    words = list(HYPHENATED_WORD.finditer(context, start, stop))
    for i, w in enumerate(words[1:], start=1):
        if normalize_for_search(w[0]) in prepositions:
            words = words[:i]
            break
    while language == "de" and len(words) > 1 and words[-1][0][0].islower():
        words.pop()
    return words[-1].end() if words else start


def _substitute_after_preposition(remainder: str, context: str) -> SearchQuery | None:
    """Rule a: "and with Qatar?" puts Qatar after the last "with" of the previous query."""
    tokens = remainder.split()
    if not tokens:
        return None
    words = list(HYPHENATED_WORD.finditer(context))
    preposition = _key(tokens[0])
    language = detect_language(context)
    if preposition in _PREPOSITIONS.get(language, _ALL_PREPOSITIONS):
        new = " ".join(tokens[1:]).strip(_END_PUNCTUATION)
        at = [w for w in words if normalize_for_search(w[0]) == preposition]
        if not new or not at:
            return None
        start = len(context) - len(context[at[-1].end() :].lstrip())
        proclitic = ""
    else:  # an attached ل: "ولقطر؟", "وللسعودية؟" after "... للكويت؟"
        word = tokens[0].strip(_EDGE_PUNCTUATION)
        if not word.startswith("ل") or _key(word) in _ARABIC_NON_ENTITIES:
            return None
        lam, core = _split_proclitics(word)
        new = " ".join([core if lam == "ل" else word[1:], *tokens[1:]]).strip(_END_PUNCTUATION)
        at = [w for w in words if _split_proclitics(w[0])[0].endswith("ل")]
        if not new or not at:
            return None
        start, proclitic = at[-1].start(), _split_proclitics(at[-1][0])[0]
    stop = _phrase_stop(context, start, language)
    if stop <= start:
        return None
    return _replaced(context, start, stop, _attach(proclitic, new))


def _last_capitalised_name(context: str, language: str) -> tuple[int, int] | None:
    """Span of the last run of capitalised words, not at a sentence start (cased scripts)."""
    stopwords = STOPWORDS.get(language, frozenset())
    last: tuple[int, int] | None = None
    run_start: int | None = None
    previous_end = 0
    for i, w in enumerate(HYPHENATED_WORD.finditer(context)):
        word, gap = w[0], context[previous_end : w.start()]
        previous_end = w.end()
        joined = not gap or gap.isspace()
        starts_sentence = i == 0 or bool(_SENTENCE_STOP.search(gap))
        if (
            word[0].isupper() and len(word) > 1 and not starts_sentence
            and word.lower() not in stopwords
        ):  # fmt: skip
            if run_start is None or not joined:
                run_start = w.start()
            last = (run_start, w.end())
        elif not (joined and word.lower() in _NAME_PARTICLES):
            run_start = None
    return last


def _last_arabic_content_word(context: str) -> tuple[int, int, str] | None:
    """Span and proclitic of the last Arabic word that can name something."""
    for w in reversed(list(HYPHENATED_WORD.finditer(context))):
        proclitic, core = _split_proclitics(w[0])
        keys = {normalize_for_search(w[0]), normalize_for_search(core)}
        if not core.isdigit() and not keys & _ARABIC_NON_ENTITIES:
            return w.start(), w.end(), proclitic
    return None


def _substitute_entity(remainder: str, context: str) -> SearchQuery | None:
    """Rule b: "what about Qatar?" replaces the last named thing of the previous query."""
    new = remainder.strip(_END_PUNCTUATION)
    keys = [_key(token) for token in new.split()]
    if not keys or len(keys) > _MAX_NAME_WORDS or keys[0] in _NOT_A_NAME:
        return None
    if any(c.isupper() or c.islower() for c in new) and not any(c.isupper() for c in new):
        return None  # "and the economy?" names no one: replacing "Kuwait" with it is wrong
    language = detect_language(context)
    if language == "ar":  # no capitals; verb-first, so the last content word is a name
        found = _last_arabic_content_word(context)
        if found is None:
            return None
        start, stop, proclitic = found
        return _replaced(context, start, stop, _attach(proclitic, new))
    span = _last_capitalised_name(context, language)
    if span is None:  # uncased scripts (Hebrew, Persian, Chinese, ...): no name stands out
        return None
    start, stop = span
    articles = _ARTICLES.get(language, frozenset())
    if _key(re.split(r"[\s'’]", new)[0]) in articles:  # the new name brings its article
        prior = list(HYPHENATED_WORD.finditer(context[:start]))
        if prior and normalize_for_search(prior[-1][0]) in articles:
            if not context[prior[-1].end() : start].strip(" '’"):
                start = prior[-1].start()
    return _replaced(context, start, stop, new)


def resolve_followup(question: str, previous: Sequence[str]) -> SearchQuery:
    """The query to search for `question`, given the queries searched before it.

    Rules, first that applies: (a) a preposition phrase replaces the phrase after the
    same preposition in the previous query; (b) after a connector, a short noun phrase
    replaces the previous query's last name; (c) otherwise an elliptical follow-up is
    searched together with the previous query. A self-contained question, or one with
    no previous query, is searched as typed.
    """
    text = " ".join(question.split())
    context = next((" ".join(p.split()) for p in reversed(previous) if p and p.strip()), None)
    unchanged = SearchQuery(question, rewritten=False, rule=None)
    if not text or context is None:
        return unchanged
    has_connector, rest = _strip_connectors(text.split())
    if _is_whole_question(rest) or not (has_connector or _is_short_ellipsis(text, rest)):
        return unchanged
    remainder = " ".join(rest)
    rewritten = _substitute_after_preposition(remainder, context) or (
        _substitute_entity(remainder, context) if has_connector else None
    )
    if rewritten:
        return rewritten
    lead = remainder or text
    rule = f"follow-up: searched '{lead}' together with the previous question"
    return SearchQuery(f"{lead} {context}", rewritten=True, rule=rule)
