"""The chat's HTML (ui/render.py) without a browser: whatever an article, an upload or a
question holds is shown as text, never run as markup. The browser tests check the same
on the page; these run everywhere, Chromium or not."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

import pytest

from qa.answer import Answer, Citation
from qa.retriever import Passage
from ui.render import block, render_answer, render_source, render_sources

HOSTILE = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    '"><svg onload=alert(1)>',
    "</div><iframe src=javascript:alert(3)>",
    "' onmouseover='alert(4)",
    "&lt;script&gt; already escaped",
]
#: The only markup the renderer itself writes.
OWN_TAGS = {"div", "a", "b", "bdi", "mark"}
OWN_ATTRIBUTES = {"class", "dir", "href", "id"}


class Markup(HTMLParser):
    """Every tag and attribute in a piece of HTML, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_only_own_markup(html: str) -> Markup:
    markup = Markup(html)
    for tag, attrs in markup.tags:
        assert tag in OWN_TAGS, (tag, html)
        assert set(attrs) <= OWN_ATTRIBUTES, (attrs, html)
        assert not (attrs.get("href") or "#").lower().startswith("javascript")
    return markup


def passage(hostile: str, rank: int = 1) -> Passage:
    text = f"قال الوزير {hostile} في مؤتمر صحفي. وأضاف أن المحادثات كانت بناءة."
    return Passage(rank, 0.9, text, f"id{hostile}", f"عنوان {hostile}", "2024-03-12", 100, 100 + len(text),
                   outlet=f"وكالة {hostile}")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_passages_render_as_text(hostile: str) -> None:
    source = passage(hostile)
    quote = (source.start, source.start + source.text.index(".") + 1)
    html = render_source(source, [quote], "t1-src-")
    markup = assert_only_own_markup(html)
    shown = "".join(markup.text)
    assert f"عنوان {hostile}" in shown and f"وكالة {hostile}" in shown and f"id{hostile}" in shown
    assert source.text in shown
    marks = [t for t, _ in markup.tags if t == "mark"]
    assert marks == ["mark"]  # the quoted sentence, highlighted, hostile text inside it escaped


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_questions_and_answers_render_as_text(hostile: str) -> None:
    source = passage(hostile)
    answer = Answer(
        question=f"what did {hostile} say?", searched=f"what did the minister {hostile} say?",
        text=f"From {hostile}:\n{hostile} said the talks were constructive [1] [2]",
        abstained=False, passages=(source,), citations=(Citation.of(source),), language="en",
        notes=(f"note {hostile}",),
    )
    for html in (render_answer(answer, "t1-src-"), render_sources(answer, "t1-src-"), block(answer.question)):
        shown = "".join(assert_only_own_markup(html).text)
        assert hostile in shown or hostile in answer.question
    links = [a["href"] for t, a in Markup(render_answer(answer, "t1-src-")).tags if t == "a"]
    assert links == ["#t1-src-1", "#t1-src-2"]  # markers link, text stays text


def test_direction_follows_the_first_strong_character() -> None:
    assert 'dir="rtl"' in block("« 12 » قال الوزير")  # punctuation and digits are not strong
    assert 'dir="ltr"' in block("The minister قال")
    abstained = Answer("q", "q", "I could not find this.", True, (passage("x"),), (), "en")
    assert "Nearest passages" in "".join(Markup(render_sources(abstained)).text)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_copies_of_a_story_are_named_as_text(hostile: str) -> None:
    from qa.retriever import Copy

    source = replace(passage("x"), also_in=(Copy(f"id{hostile}", "t", None, f"وكالة {hostile}"),))
    shown = "".join(assert_only_own_markup(render_source(source, [], "t1-src-")).text)
    assert f"Also in: وكالة {hostile} (id{hostile})" in shown
