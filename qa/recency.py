"""Time in answers: a question about the latest news favours newer articles, and a model
reads each sentence with its article's date so it can say when.

Both are about how people ask about news in general ("what is the latest...", "currently",
"so far"), not about any corpus; articles without a date are left as they are.
"""

from __future__ import annotations

import datetime as dt
import re

# Words that ask for the newest state of something. Plain English time words, not a list
# fitted to any fixture; an undated corpus is unaffected whatever they match.
LATEST = re.compile(
    r"\b(latest|newest|most recent(ly)?|recent(ly)?|current(ly)?|now|nowadays|today|"
    r"as of|so far|to date|up to date|still|at present|presently)\b",
    re.IGNORECASE,
)


def asks_latest(question: str) -> bool:
    return bool(LATEST.search(question))


def when(published: str | None) -> dt.datetime | None:
    """An article's ``published`` (ISO 8601, as ingest stores it) as an aware datetime."""
    if not published:
        return None
    try:
        value = dt.datetime.fromisoformat(published)
    except ValueError:
        try:
            value = dt.datetime.combine(dt.date.fromisoformat(published[:10]), dt.time())
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def mark_newer(question: str, candidates: list) -> None:
    """For a question about the latest news, set each dated candidate's ``recency`` in
    [0, 1] by how new its article is among the retrieved ones (newest 1, oldest 0)."""
    if not asks_latest(question):
        return
    dated = {c.chunk.published: when(c.chunk.published) for c in candidates}
    times = sorted({t for t in dated.values() if t is not None})
    if len(times) < 2:
        return
    rank = {t: i / (len(times) - 1) for i, t in enumerate(times)}
    for c in candidates:
        t = dated.get(c.chunk.published)
        c.recency = rank[t] if t is not None else 0.0


def newest_first(ranked: list, ratio: float) -> list:
    """Put the newest of the sentences scoring within ``ratio`` of the best first, and drop
    sentences from older articles than it: for the latest news they are superseded. A
    clearly better sentence still wins; without ``recency`` marks nothing changes."""
    if not ranked or not any(c.recency for c in ranked):
        return ranked
    close = [c for c in ranked if c.score >= ratio * ranked[0].score]
    lead = max(close, key=lambda c: c.recency)  # max keeps the best-scored on a tie
    return [lead] + [c for c in ranked if c is not lead and c.recency >= lead.recency]


def dated(text: str, published: str | None) -> str:
    """A sentence as a model reads it: with its article's day first when it has one."""
    day = day_of(published)
    return f"({day}) {text}" if day else text


def day_of(published: str | None) -> str | None:
    """``published`` as a day in words ("4 March 2024"): how an answer would say it."""
    t = when(published)
    return f"{t.day} {t:%B %Y}" if t else None
