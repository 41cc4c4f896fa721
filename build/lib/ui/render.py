"""HTML for answers and sources. Everything from articles or questions is escaped here.

Direction is decided per block, not per page: an English lead line followed by Arabic
quotes shows each line in its own direction. Each block gets an explicit `dir` from its
first strong character (what `unicode-bidi: plaintext` would pick), so the browser's
computed direction, alignment and punctuation placement all agree.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

from qa.answer import Answer
from qa.citations import CITATION_MARKER
from qa.language import phrases_for
from qa.retriever import Passage

CSS = """
#sources { max-height: 85vh; overflow-y: auto !important; }
.qa-block { unicode-bidi: plaintext; text-align: start; margin: 0.2em 0; }
.qa-note { color: #666; font-size: 0.85em; }
.qa-cite { text-decoration: none; font-weight: 600; unicode-bidi: isolate; }
.qa-source { border: 1px solid #ddd; border-radius: 8px; padding: 8px 12px; margin: 8px 0; }
.qa-source:target { border-color: #f59e0b; box-shadow: 0 0 0 2px #fde68a; }
.qa-source .qa-meta { color: #666; font-size: 0.85em; unicode-bidi: plaintext; }
.qa-source mark { background: #fde68a; }
.qa-source .qa-text { white-space: pre-line; }
.qa-nearest { opacity: 0.8; }
"""


def direction(text: str) -> str:
    """'rtl' or 'ltr' from the first strong character, as the Unicode bidi algorithm does."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def block(text: str, css_class: str = "qa-block", inner_html: str | None = None) -> str:
    """One line of text in its own direction; `inner_html` replaces the escaped text."""
    body = inner_html if inner_html is not None else html.escape(text)
    return f'<div class="{css_class}" dir="{direction(text)}">{body}</div>'


def link_markers(text: str, anchor_prefix: str) -> str:
    """Escaped text whose [n] markers link to source n in the sources panel."""
    out, cursor = [], 0
    for match in CITATION_MARKER.finditer(text):
        out.append(html.escape(text[cursor:match.start()]))
        for number in match.group(1).replace("،", ",").split(","):
            n = number.strip()
            out.append(f'<a class="qa-cite" href="#{anchor_prefix}{html.escape(n)}">[{html.escape(n)}]</a>')
        cursor = match.end()
    out.append(html.escape(text[cursor:]))
    return "".join(out)


def render_answer(answer: Answer, anchor_prefix: str = "src-") -> str:
    """The chat message: the answer line by line, then notes and the query searched."""
    phrases = phrases_for(answer.language)
    lines = [
        block(line, inner_html=link_markers(line, anchor_prefix))
        for line in answer.text.split("\n") if line.strip()
    ]
    if answer.searched != answer.question:
        label = f"{phrases.searched}: {answer.searched}"
        lines.append(block(label, "qa-block qa-note"))
    lines += [block(note, "qa-block qa-note") for note in answer.notes]
    return "\n".join(lines)


def render_sources(answer: Answer, anchor_prefix: str = "src-") -> str:
    """Numbered source cards; quoted sentences are highlighted inside their passage."""
    if not answer.passages:
        return block("No passages found.", "qa-block qa-note")
    quotes = {c.n: c.quotes for c in answer.citations}
    cards = [render_source(p, quotes.get(p.rank, ()), anchor_prefix) for p in answer.passages]
    if answer.abstained:
        heading = block(phrases_for(answer.language).nearest, "qa-block qa-note")
        return f'{heading}<div class="qa-nearest">{"".join(cards)}</div>'
    return "".join(cards)


def render_source(passage: Passage, quotes: Sequence[tuple[int, int]], anchor_prefix: str) -> str:
    # Each part isolated: an Arabic outlet beside a Latin id must not reorder the line.
    parts = [x for x in (passage.date, passage.outlet, passage.source, f"{passage.start}-{passage.end}") if x]
    meta = " · ".join(parts)
    title = passage.title or passage.source
    return (
        f'<div class="qa-source" id="{anchor_prefix}{passage.rank}">'
        + block(f"[{passage.rank}] {title}", "qa-block qa-title",
                f"<b>[{passage.rank}] {html.escape(title)}</b>")
        + block(meta, "qa-meta", " · ".join(f"<bdi>{html.escape(x)}</bdi>" for x in parts))
        + block(passage.text, "qa-block qa-text", highlight(passage, quotes))
        + also_in(passage)
        + "</div>"
    )


def also_in(passage: Passage) -> str:
    """The other outlets that carried the same story, each named with its article id."""
    if not passage.also_in:
        return ""
    names = [f"{c.outlet or c.title} ({c.source})" for c in passage.also_in]
    text = "Also in: " + ", ".join(names)
    return block(text, "qa-meta qa-also", "Also in: " + ", ".join(f"<bdi>{html.escape(n)}</bdi>" for n in names))


def highlight(passage: Passage, quotes: Sequence[tuple[int, int]]) -> str:
    """The passage, escaped, with each quoted article span wrapped in <mark>."""
    out, cursor = [], 0
    for start, end in sorted(quotes):
        start, end = max(start - passage.start, cursor), min(end - passage.start, len(passage.text))
        if start >= end:
            continue
        out.append(html.escape(passage.text[cursor:start]))
        out.append(f"<mark>{html.escape(passage.text[start:end])}</mark>")
        cursor = end
    out.append(html.escape(passage.text[cursor:]))
    return "".join(out)
