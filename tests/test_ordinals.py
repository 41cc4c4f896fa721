"""Ordinal numbers as questions and articles write them (qa/ordinals.py)."""

from __future__ import annotations

import pytest

from qa.ordinals import COUNTED, numbers_in, ordinals_in


@pytest.mark.parametrize(("text", "languages", "found"), [
    ("What cargo did the seventh Saudi relief plane deliver?", ["en"], {7}),
    ("the 7th round and the 3rd", ["en"], {3, 7}),
    ("كم طناً حملت الطائرة الإغاثية السعودية الثامنة؟", ["ar"], {8}),
    ("وصلت الطائرة السادسة، في الأسبوع الرابع، للمرة الخامسة", ["ar"], {4, 5, 6}),
    ("والسابعة وبالثامنة", ["ar"], {7, 8}),
    # Without the article an Arabic ordinal is a name or no item of a series.
    ("ميدان رابعة العدوية، طرف ثالث، ثالث أكبر مدينة، الطائرة الخامسة", ["ar"], {5}),
    ("Combien de tonnes le septième avion a-t-il apportées ?", ["fr"], {7}),
    ("la 7e édition, les 3èmes", ["fr"], {3, 7}),
    ("la 7.ª ronda, el 4º", ["es"], {4, 7}),
    ("¿Qué trajo la séptima ronda?", ["es"], {7}),
    ("Седьмая партия прибыла в седьмом часу", ["ru"], {7}),
    ("yedinci uçak", ["tr"], {7}),
    ("die siebte Runde", ["de"], {7}),
    ("第七架沙特救援飞机", ["zh"], {7}),
    ("第8轮", ["zh"], {8}),
])
def test_ordinals_are_read_in_each_language(text, languages, found):
    assert ordinals_in(text, languages) == found


@pytest.mark.parametrize(("text", "languages"), [
    ("the first and the second time, for a second", ["en"]),  # 1 and 2 are not counted
    ("acht Jahre lang", ["de"]),  # German acht is eight and the stem of eighth: left out
    ("non è vero", ["it"]),  # Italian nono (ninth) stems to non, "not"
    ("سبعة أيام وثلاثة أشهر", ["ar"]),  # cardinals
    ("the seventh plane", ["ar"]),  # English words read as Arabic: nothing
    ("पहला सातवाँ", ["hi"]),  # no Hindi table (neither Snowball nor num2words writes Hindi)
    ("the 21st century", ["en"]),  # past COUNTED
    ("第十一届", ["zh"]),  # the eleventh, not the tenth
    ("第100次", ["zh"]),  # the hundredth, not the tenth
    ("section 4E, the F-10E", ["en"]),  # codes, not ordinals
])
def test_what_is_no_counted_ordinal(text, languages):
    assert ordinals_in(text, languages) == set()


def test_counted_and_numbers():
    assert list(COUNTED) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert numbers_in("الطائرة رقم 7 تحمل 11 طنا في 2015") == {7, 11}
    # a date's, a decimal's or a time's digits are no number of their own
    assert numbers_in("2015-07-06, 1.5 طن, 10:30, 3/4") == set()
