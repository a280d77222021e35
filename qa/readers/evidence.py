"""The sentences a small model reads: the scorer's best, a few, each cut short if asked.

A 1.5B model given eight whole passages refuses almost everything; given the six best
sentences it answers (docs/evaluation.md, "How the reader was chosen"). Each sentence keeps
its chunk and offsets, so the verifier can check an answer against it and the quote comes
from the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qa.compose import WEIGHTS_FILE, fitted
from qa.readers import ReaderInput
from qa.recency import newest_first
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


@dataclass(frozen=True)
class Order:
    """How the sentences a model reads are ranked (``QA_EVIDENCE_ORDER=reader``): the
    scorer's features, weighted for what a reader needs in front of it (docs/evaluation.md,
    "Four sentences ranked for the reader").

    The extractive reader ranks to pick one sentence above a threshold; a model reading a
    few needs the answer among them, and first. On the dev sets that favours the question's
    words a sentence holds over its embedding similarity, and a sentence that can hold the
    asked-for kind of answer, in an article telling the story asked about.
    """

    dense: float = 0.25  # the sentence's similarity to the question
    coverage: float = 0.4  # idf-weighted share of the question's terms it holds
    entity: float = 0.15  # share of the question's names its article mentions
    fit: float = 0.2  # it can hold the asked-for kind of answer (qa.question.supplies)
    story: float = 0.2  # idf-weighted share of the question's terms its article holds
    follow_ratio: float = 0.8  # for the latest news: how close a newer sentence must score

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Order:
        return fitted(cls, path, "evidence")

    def score(self, cand) -> float:
        return (self.dense * cand.dense + self.coverage * cand.coverage
                + self.entity * cand.entities + self.fit * float(cand.fits_type)
                + self.story * cand.story)

    def rank(self, candidates: list) -> list:
        ranked = sorted(candidates, key=self.score, reverse=True)
        return newest_first(ranked, self.follow_ratio, score=self.score)


ORDER = Order.load()


def select(question: ReaderInput, count: int, words: int = 0,
           order: Order | None = None) -> list[Sentence]:
    """The ``count`` best distinct sentences by ``order`` (None: as the extractive reader
    ranks them), taken from every part of the question in turn, each cut to at most
    ``words`` words around the question's terms (0: whole)."""
    ranked = [order.rank(part.candidates) if order else part.candidates
              for part in question.parts]
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
