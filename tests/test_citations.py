"""Citation markers: canonical `[n]`, nothing outside the shown passages survives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.citations import CITATION_MARKER, CheckedCitations, check_citations


@pytest.mark.parametrize(
    ("text", "count", "expected", "cited", "removed"),
    [
        ("Lavrov met the emir [1].", 3, "Lavrov met the emir [1].", (1,), ()),
        ("Two sources [1, 2].", 3, "Two sources [1][2].", (1, 2), ()),
        ("Adjacent [2][1].", 3, "Adjacent [2][1].", (2, 1), ()),
        ("Spaced [ 3 ,1 ].", 3, "Spaced [3][1].", (3, 1), ()),
        ("Out of range [7].", 3, "Out of range.", (), (7,)),
        ("Zero [0] too.", 3, "Zero too.", (), (0,)),
        ("Partly [1, 9].", 3, "Partly [1].", (1,), (9,)),
        ("Run [9][2].", 3, "Run [2].", (2,), (9,)),
        ("Run [2][9].", 3, "Run [2].", (2,), (9,)),
        ("Run [9][8] end", 3, "Run end", (), (9, 8)),
        ("Twice [1, 1] then [1].", 3, "Twice [1] then [1].", (1,), ()),
        ("Leading zero [01].", 3, "Leading zero [1].", (1,), ()),
        ("No passages [1].", 0, "No passages.", (), (1,)),
        ("[5] at the start", 3, " at the start", (), (5,)),
        ("Two spaces  [5].", 3, "Two spaces .", (), (5,)),
        ("Line\n[5] next", 3, "Line\n next", (), (5,)),
        ("A [1] b [2] a [1].", 2, "A [1] b [2] a [1].", (1, 2), ()),
        ("Later [9] and [8] and [9].", 3, "Later and and.", (), (9, 8)),
    ],
)
def test_markers_are_canonical_and_in_range(
    text: str, count: int, expected: str, cited: tuple[int, ...], removed: tuple[int, ...]
) -> None:
    assert check_citations(text, count) == CheckedCitations(expected, cited, removed)


@pytest.mark.parametrize(
    ("text", "expected", "cited"),
    [
        ("التقى لافروف أمير الكويت [١].", "التقى لافروف أمير الكويت [1].", (1,)),
        ("مصدران [١، ٢].", "مصدران [1][2].", (1, 2)),
        ("مصدران [1،2].", "مصدران [1][2].", (1, 2)),
        ("فارسی [۲].", "فارسی [2].", (2,)),
        ("ملتصق[٢]بالنص", "ملتصق[2]بالنص", (2,)),
        ("عدد مختلط [1٢]", "عدد مختلط", ()),
    ],
)
def test_arabic_and_persian_digits_and_comma(
    text: str, expected: str, cited: tuple[int, ...]
) -> None:
    assert check_citations(text, 3).text == expected
    assert check_citations(text, 3).cited == cited


def test_out_of_range_marker_next_to_arabic_text_takes_only_one_space() -> None:
    checked = check_citations("قال الوزير [٩] إن الاجتماع [٢] كان مثمرا", 3)
    assert checked.text == "قال الوزير إن الاجتماع [2] كان مثمرا"
    assert checked.removed == (9,)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No markers at all.",
        "A footnote [a] and [2023 report] and [1 2] and [1,] and [] and [-1] and [1.5].",
        "Unclosed [1 and closed 2]",
        "نص عربي بلا إشارات",
    ],
)
def test_text_without_number_groups_is_untouched(text: str) -> None:
    checked = check_citations(text, 3)
    assert checked == CheckedCitations(text, (), ())
    assert not checked.has_citations


def test_has_citations() -> None:
    assert check_citations("Yes [1].", 1).has_citations
    assert not check_citations("No [2].", 1).has_citations


def test_removal_that_forms_a_new_marker_is_checked_again() -> None:
    # Dropping " [9]" joins "[7" and "]" into a marker that is out of range as well.
    assert check_citations("x [7 [9]] y", 3) == CheckedCitations("x y", (), (9, 7))
    assert check_citations("x [1 [9]] y", 3) == CheckedCitations("x [1] y", (1,), (9,))


def test_marker_regex_finds_each_canonical_marker() -> None:
    text = check_citations("a [1, 2] b [٣]", 3).text
    assert [m[0] for m in CITATION_MARKER.finditer(text)] == ["[1]", "[2]", "[3]"]


_ANSWER_PIECES = st.sampled_from(
    ["[", "]", ",", "،", " ", "\n", "1", "2", "9", "0", "١", "۳", "a", "قال", "[1]",
     "[4, 2]", "[٢،٩]", "[2023 report]"]
)
_ANSWERS = st.lists(_ANSWER_PIECES, max_size=30).map("".join)


@given(text=_ANSWERS, count=st.integers(min_value=0, max_value=5))
def test_checking_twice_changes_nothing(text: str, count: int) -> None:
    once = check_citations(text, count)
    twice = check_citations(once.text, count)
    assert twice == CheckedCitations(once.text, once.cited, ())


@given(text=_ANSWERS, count=st.integers(min_value=0, max_value=5))
def test_only_canonical_in_range_markers_survive(text: str, count: int) -> None:
    checked = check_citations(text, count)
    markers = list(CITATION_MARKER.finditer(checked.text))
    assert all(m[0] == f"[{int(m[1])}]" for m in markers)
    numbers = [int(m[1]) for m in markers]
    assert all(1 <= n <= count for n in numbers)
    assert checked.cited == tuple(dict.fromkeys(numbers))
    assert not set(checked.removed) & set(range(1, count + 1))
