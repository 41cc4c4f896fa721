"""Checking the `[n]` source markers in a generated answer against the passages shown.

A model can cite a passage that was never shown (`[7]` with five passages) or write
markers in forms the UI cannot link (`[1، 2]`, `[٣]`). Every answer goes through
`check_citations` so the user only ever sees markers that point at a real passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text.folding import ARABIC_DIGITS

_DIGIT = f"[0-9{ARABIC_DIGITS}]"  # ASCII, Arabic-Indic, Persian
_NUMBER = f"{_DIGIT}+"

#: One bracketed group of source numbers: `[3]`, `[1, 2]`, `[١]`, `[1،2]`. Not `[a]` or
#: `[2023 report]`. After `check_citations` every marker is `[n]`, one number each.
CITATION_MARKER = re.compile(rf"\[\s*({_NUMBER}(?:\s*[,\u060c]\s*{_NUMBER})*)\s*\]")

# Markers written back to back (`[1][2]`) are rewritten as one unit, so dropping an
# invalid one in the middle of a run does not eat the space before the whole run.
_RUN = re.compile(rf"(?:{CITATION_MARKER.pattern})+")
_NUMBER_RE = re.compile(_NUMBER)


@dataclass(frozen=True)
class CheckedCitations:
    """An answer whose markers all point at a shown passage, and what was dropped."""

    text: str
    cited: tuple[int, ...]  # valid source numbers, in order of first appearance
    removed: tuple[int, ...]  # out-of-range numbers taken out of the text

    @property
    def has_citations(self) -> bool:
        return bool(self.cited)


def check_citations(text: str, source_count: int) -> CheckedCitations:
    """Rewrite markers as canonical `[n]` and drop numbers outside 1..source_count.

    Rewriting repeats until nothing changes: removing a marker can join the text around
    it into a new one (`[7 [9]]` becomes `[7]`), which must be checked as well.
    """
    removed: list[int] = []
    while True:
        rewritten = _rewrite_once(text, source_count, removed)
        if rewritten == text:
            break
        text = rewritten
    cited = (int(n) for marker in CITATION_MARKER.finditer(text) for n in _numbers(marker[1]))
    return CheckedCitations(text, tuple(dict.fromkeys(cited)), tuple(dict.fromkeys(removed)))


def _rewrite_once(text: str, source_count: int, removed: list[int]) -> str:
    """One pass over the runs of markers; out-of-range numbers are appended to `removed`."""
    parts: list[str] = []
    end = 0
    for run in _RUN.finditer(text):
        numbers = [n for marker in CITATION_MARKER.finditer(run[0]) for n in _numbers(marker[1])]
        valid = [n for n in numbers if 1 <= n <= source_count]
        removed.extend(n for n in numbers if not 1 <= n <= source_count)
        before = text[end:run.start()]
        if not valid and before and before[-1].isspace() and before[-1] not in "\r\n":
            before = before[:-1]
        parts.append(before)
        parts.append("".join(f"[{n}]" for n in dict.fromkeys(valid)))
        end = run.end()
    parts.append(text[end:])
    return "".join(parts)


def _numbers(group: str) -> list[int]:
    """The numbers in one marker's group; `int` reads Arabic-Indic and Persian digits."""
    return [int(n) for n in _NUMBER_RE.findall(group)]
