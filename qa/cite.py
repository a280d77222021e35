"""Citations are data: claims carry their evidence spans, and ``[n]`` markers derive from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

MARKER = re.compile(r"\[(\d+)\]")
# What every reader answers when the articles do not say.
ABSTAIN_TEXT = (
    "The articles don't say. I could not find this in the indexed news articles, "
    "so I won't guess."
)


@dataclass(frozen=True)
class Evidence:
    """An exact span of an article that supports a claim."""

    article_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    quote: str
    score: float
    published: str | None = None
    source: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, chunk, start: int, end: int, quote: str, score: float) -> Evidence:
        """A span of ``chunk`` (a stored passage or anything shaped like one), carrying its
        article's date, outlet and address so every citation can show them."""
        return cls(chunk.article_id, chunk.title, chunk.chunk_id, start, end, quote, score,
                   getattr(chunk, "published", None), getattr(chunk, "source", None),
                   getattr(chunk, "url", None))


@dataclass
class Claim:
    """One answer sentence and the spans that support it."""

    text: str
    evidence: list[Evidence] = field(default_factory=list)
    verified: bool = True


@dataclass
class Citation:
    n: int
    article_id: str
    title: str
    quote: str
    start: int
    end: int
    chunk_id: str
    score: float
    published: str | None = None
    source: str | None = None
    url: str | None = None

    def to_json(self) -> dict:
        return {
            "n": self.n, "article_id": self.article_id, "title": self.title,
            "quote": self.quote, "start": self.start, "end": self.end,
            "chunk_id": self.chunk_id, "score": round(self.score, 4),
            "published": self.published, "source": self.source, "url": self.url,
        }


def render(claims: list[Claim]) -> tuple[str, list[Citation]]:
    """Number the evidence in order of first use and write each claim with its markers."""
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    sentences = []
    for claim in claims:
        marks = []
        for ev in claim.evidence:
            key = (ev.article_id, ev.start, ev.end)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(
                    Citation(numbers[key], ev.article_id, ev.title, ev.quote, ev.start,
                             ev.end, ev.chunk_id, ev.score, ev.published, ev.source, ev.url)
                )
            if numbers[key] not in marks:
                marks.append(numbers[key])
        sentences.append(_with_markers(claim.text, marks))
    return " ".join(sentences), citations


def _with_markers(sentence: str, numbers: list[int]) -> str:
    sentence = re.sub(r"\s*\[\d+\]", "", sentence).strip()
    if not numbers:
        return sentence
    markers = "".join(f"[{n}]" for n in numbers)
    if sentence[-1:] in ".!?" and sentence[-2:-1] not in ".!?":
        return f"{sentence[:-1]} {markers}{sentence[-1]}"
    return f"{sentence} {markers}"


def citation_problems(
    answer: str, citations: list[dict], article_text: Callable[[str], str | None]
) -> list[str]:
    """List every way ``answer`` and ``citations`` break the contract (empty when valid)."""
    problems = []
    used = {int(n) for n in MARKER.findall(answer)}
    numbers = [c.get("n") for c in citations]
    if len(numbers) != len(set(numbers)):
        problems.append("two citations share a number")
    for n in sorted(used - set(numbers)):
        problems.append(f"marker [{n}] has no citation")
    for n in sorted(set(numbers) - used):
        problems.append(f"citation {n} is not referenced by a marker")
    for c in citations:
        text = article_text(c.get("article_id", ""))
        if text is None:
            problems.append(f"citation {c.get('n')} names unknown article {c.get('article_id')}")
            continue
        start, end = c.get("start"), c.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            problems.append(f"citation {c.get('n')} has bad offsets")
        elif text[start:end] != c.get("quote"):
            problems.append(f"citation {c.get('n')} quote is not at its offsets")
    return problems
