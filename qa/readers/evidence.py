"""The sentences a small model reads: the scorer's best, a few, each cut short if asked.

A 1.5B model given eight whole passages refuses almost everything; given the six best
sentences it answers (docs/evaluation.md, "How the reader was chosen"). Each sentence keeps
its chunk and offsets, so the verifier can check an answer against it and the quote comes
from the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.readers import ReaderInput
from vectorstore.terms import terms


@dataclass(frozen=True)
class Sentence:
    """One numbered evidence sentence, shaped like a chunk for the verifier."""

    chunk: object  # vectorstore.docstore.StoredChunk
    start: int
    end: int
    text: str
    similarity: float  # to the question
    coverage: float  # idf-weighted share of the question's terms it holds
    score: float  # the sentence scorer's
    story: float = 1.0  # idf-weighted share of the question's terms its article holds

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def article_id(self) -> str:
        return self.chunk.article_id

    @property
    def title(self) -> str:
        return self.chunk.title

    @property
    def published(self) -> str | None:
        return self.chunk.published

    @property
    def source(self) -> str | None:
        return self.chunk.source

    @property
    def url(self) -> str | None:
        return self.chunk.url

    @property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        return ((self.start, self.end),)


def select(question: ReaderInput, count: int, words: int = 0) -> list[Sentence]:
    """The ``count`` best distinct sentences, taken from every part of the question in turn,
    each cut to at most ``words`` words around the question's terms (0: whole)."""
    ranked = [part.candidates for part in question.parts]
    chosen: list[Sentence] = []
    seen: set[str] = set()
    for depth in range(max((len(r) for r in ranked), default=0)):
        for candidates in ranked:
            if depth < len(candidates) and len(chosen) < count:
                c = candidates[depth]
                if c.text not in seen:
                    seen.add(c.text)
                    start, end = window(c.text, c.covered, words)
                    chosen.append(Sentence(c.chunk, c.start + start, c.start + end,
                                           c.text[start:end], c.dense, c.coverage, c.score,
                                           c.story))
    return chosen


WORD = re.compile(r"\S+")


def window(text: str, covered: frozenset[str], words: int) -> tuple[int, int]:
    """The character span of the ``words``-word stretch of ``text`` holding most of the
    question's terms, centred on them; the whole text when it is short enough.

    Prompt evaluation is most of a small model's time to first token, and a run-on
    sentence (common in scraped or punctuation-stripped news) is mostly beside the point.
    """
    spans = [m.span() for m in WORD.finditer(text)]
    if not words or len(spans) <= words:
        return 0, len(text)
    # The question's terms each word holds, found once for every window that contains it.
    held = [covered & set(terms(text[a:b])) for a, b in spans]
    where = [i for i, found in enumerate(held) if found]

    def merit(first: int) -> tuple[int, float]:
        inside = [i for i in where if first <= i < first + words]
        middle = sum(inside) / len(inside) if inside else (len(spans) - 1) / 2
        found = set().union(*(held[i] for i in inside))
        return len(found), -abs(middle - (first + (words - 1) / 2))

    first = max(range(len(spans) - words + 1), key=merit)
    return spans[first][0], spans[first + words - 1][1]
