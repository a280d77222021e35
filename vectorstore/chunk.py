"""Split articles into sentence-aligned passages that keep their character offsets."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from vectorstore.article import Article

# Bump when chunking or embedding changes, so re-ingest replaces every chunk.
CHUNKER_VERSION = "4"
MAX_SENTENCE_CHARS = 400

# Tried only where a run of stops begins: from inside a run, a pattern that cannot end at a
# space backtracks through the rest of it, which took minutes on a long row of dots.
_TERMINATOR = re.compile(r"(?<![.!?…])[.!?…]+[\"”’'»)\]]*(?=\s)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st gen col lt sgt capt gov sen rep jr sr inc ltd co corp vs etc "
    "e.g i.e u.s u.k u.n no nos approx dept est fig jan feb mar apr jun jul aug sep sept "
    "oct nov dec mt ft rev hon".split()
)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    article_id: str
    n: int
    start: int
    end: int
    text: str
    title: str
    sentences: tuple[tuple[int, int], ...]  # absolute offsets in the article

    @property
    def content_hash(self) -> str:
        payload = f"{CHUNKER_VERSION}\x00{self.title}\x00{self.start}\x00{self.text}"
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lower().strip("(\"'“‘")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _wrap(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut an over-long span at whitespace so no sentence exceeds ``limit``."""
    spans = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    spans.append((start, end))
    return [s for s in (_strip(text, a, b) for a, b in spans) if s]


def split_sentences(text: str, limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text``; lines never join."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line_end in [m.start() for m in re.finditer("\n", text)] + [len(text)]:
        start = line_start
        for match in _TERMINATOR.finditer(text, line_start, line_end):
            dot = match.start()
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            span = _strip(text, start, match.end())
            if span:
                spans.extend(_wrap(text, *span, limit))
            start = match.end()
        span = _strip(text, start, line_end)
        if span:
            spans.extend(_wrap(text, *span, limit))
        line_start = line_end + 1
    return spans


def chunk_article(article: Article, target_chars: int = 350) -> list[Chunk]:
    """Pack whole sentences into passages of about ``target_chars``, preferring paragraph ends."""
    text = article.text
    sentences = split_sentences(text)
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in sentences:
        if current:
            size = span[1] - current[0][0]
            new_paragraph = "\n" in text[current[-1][1] : span[0]]
            half_full = current[-1][1] - current[0][0] >= target_chars // 2
            if size > target_chars or (new_paragraph and half_full):
                groups.append(current)
                current = []
        current.append(span)
    if current:
        groups.append(current)
    return [
        Chunk(
            chunk_id=f"{article.article_id}:{n}",
            article_id=article.article_id,
            n=n,
            start=group[0][0],
            end=group[-1][1],
            text=text[group[0][0] : group[-1][1]],
            title=article.title,
            sentences=tuple(group),
        )
        for n, group in enumerate(groups)
    ]
