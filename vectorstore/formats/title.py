"""Title an article: its headline line, or a short title read from a lead glued to its body.

Files and rows without a headline start with a paragraph: the BBC CSV puts the headline
and the first sentence on one lowercased line with the punctuation stripped ("tigers wary
of farrell  gamble  leicester say they will not be rushed..."). Such a line is not a
title. ``title_of`` takes its first sentence when that is short, else the words up to the
last clause break within ``TITLE_CHARS`` (a dash or colon, or two spaces where a quote or
comma was stripped), else whole words up to ``TITLE_CHARS`` and an ellipsis. It cuts
no word, except one so long that whole it would be no title (``MAX_LINE_TITLE``).
"""

from __future__ import annotations

import re

MAX_LINE_TITLE = 160  # a first line longer than this is a paragraph, not a headline
SENTENCE_TITLE = 100  # a first sentence up to this long is the title as it stands
TITLE_CHARS = 64  # otherwise: a shorter phrase, cut at a break or between words
MIN_PHRASE = 16  # a break this early leaves too little to stand as a title

_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
# The end of a sentence: terminal punctuation and a space (abbreviations such as
# "Mr." or "U.S." are single letters or short words, skipped below).
# (From a run's start only: from inside a long row of dots it backtracked quadratically.)
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]+[\"”’'»)]*(?=\s|$)")
# A break inside a line: a dash, colon, semicolon or bar, or the two spaces that stripped
# punctuation leaves behind. (Not a comma: "During the summit in The Hague" is no title.)
_BREAK = re.compile(r"\s+[-–—|]\s+|[:;]\s+|\s{2,}")
_SHORT_WORDS = frozenset(
    "mr mrs ms dr st prof gen sen rep gov jr sr no vs inc ltd co corp jan feb mar apr jun "
    "jul aug sep sept oct nov dec".split()
)
# Words a title should not end on when it is cut.
_DANGLING = frozenset(
    "a an the of to in into on at by for from with and or but nor as than that which who "
    "whose whom is are was were be been has have had will would can could should may might "
    "s his her its their our your my this these those".split()
)


def _headline(line: str) -> str:
    line = _EMPHASIS.sub(r"\2", line.strip().lstrip("#").strip())
    return " ".join(line.split())


def first_sentence(text: str) -> str:
    for match in _SENTENCE_END.finditer(text):
        word = _word_before(text, match.start()).lower()
        if match.group(0) == "." and (len(word) == 1 or word.rstrip(".") in _SHORT_WORDS):
            continue
        return text[: match.end()]
    return text


def _word_before(text: str, end: int) -> str:
    """The last word of ``text[:end]``, found from ``end`` backwards (splitting all of
    ``text[:end]`` at each stop is quadratic: "x. x. x. ..." on one line)."""
    while end > 0 and text[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _trim(words: list[str]) -> list[str]:
    while len(words) > 1 and words[-1].lower().strip("\"'“‘(") in _DANGLING:
        words = words[:-1]
    return words


def short_title(lead: str, limit: int = TITLE_CHARS) -> str:
    """Return a phrase of at most ``limit`` characters from the start of ``lead``."""
    lead = lead.strip()
    sentence = " ".join(first_sentence(lead).split())
    if len(sentence) <= SENTENCE_TITLE:
        # A headline has no full stop; an ellipsis stays.
        return sentence[:-1] if sentence.endswith(".") and not sentence.endswith("..") else (
            sentence)
    head = lead[: limit + 1]
    breaks = [m.start() for m in _BREAK.finditer(head) if MIN_PHRASE <= m.start() <= limit]
    if breaks:
        return " ".join(_trim(head[: breaks[-1]].split()))
    words = lead[: limit + 1].split()
    if len(lead) > limit and not lead[limit].isspace():
        words = words[:-1]  # the last word runs past the limit: leave it out whole
    if not words:
        # One word longer than the limit stays whole up to a headline's length. Past that
        # it is cut: a title is embedded and indexed with every passage of its article,
        # and "[1][1][1]..." as one 100,000-character word made ingest quadratic.
        word = lead.split()[0]
        return word if len(word) <= MAX_LINE_TITLE else word[:MAX_LINE_TITLE] + "…"
    return " ".join(_trim(words)).rstrip(",;:") + "…"


def title_of(text: str) -> str:
    """Return the title of an article that has none of its own.

    That is its first non-empty line (Markdown heading marks and emphasis removed), unless
    the line is a lead glued to its body: the whole text on one line, or longer than
    ``MAX_LINE_TITLE``. Then it is a short title read from the lead (``short_title``).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = _headline(lines[0])
    if len(lines) > 1 and len(first) <= MAX_LINE_TITLE:
        return first
    return short_title(_EMPHASIS.sub(r"\2", lines[0].strip().lstrip("#").strip()))


def tidy_title(title: str) -> str:
    """Return a given title on one line; a paragraph given as a title is shortened."""
    title = _headline(title.replace("\n", " "))
    return title if len(title) <= MAX_LINE_TITLE else short_title(title)
