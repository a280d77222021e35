"""Split a multi-part question into sub-questions that can each be answered on their own."""

from __future__ import annotations

import re

from vectorstore.terms import STOPWORDS, words

_WH = r"(?:how|what|what's|which|who|whom|whose|where|when|why|is|are|does|do|did|can)"
# ", and which ...", " and how many ...", "; where ...", or two questions in one message.
_JOINS = re.compile(rf"(?:,\s*(?:and|but|while)\s+|\s+and\s+|;\s*|\?\s+)(?={_WH}\b)",
                    re.IGNORECASE)
_COMPARE = re.compile(r"^(?:compare|contrast)\s+(.+?)\s+(?:with|to|and)\s+(.+)$", re.IGNORECASE)
_COMPARE_INNER = re.compile(r"^(.+?)\s+compares?\s+(?:with|to)\s+(.+)$", re.IGNORECASE)
_MIN_CONTENT_WORDS = 2


def split_question(question: str) -> list[str]:
    """Return the parts of ``question``; a simple question is its own only part."""
    text = question.strip()
    for pattern in (_COMPARE, _COMPARE_INNER):
        match = pattern.match(text)
        if match:
            parts = [match.group(1), match.group(2)]
            break
    else:
        parts = _JOINS.split(text)
    parts = [p.strip(" ,;?.") for p in parts]
    if len(parts) < 2 or any(_content_words(p) < _MIN_CONTENT_WORDS for p in parts):
        return [question]
    return [p + "?" for p in parts]


def _content_words(text: str) -> int:
    return sum(1 for w in words(text) if w not in STOPWORDS)


class TooManyParts(ValueError):
    """A question that splits into more parts than one request may cost."""

    def __init__(self, parts: int, limit: int):
        super().__init__(f"the question has {parts} parts; ask at most {limit} at a time")
        self.parts, self.limit = parts, limit


def capped_split(question: str, limit: int) -> list[str]:
    """Split ``question``; past ``limit`` parts raise ``TooManyParts`` (each part costs a
    retrieval and an answer, so the parts bound the work of one request)."""
    parts = split_question(question)
    if len(parts) > limit:
        raise TooManyParts(len(parts), limit)
    return parts
