"""The article record the write path passes along: text, title and the metadata users see."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Article:
    """One news article as loaded from a file, a CSV/JSONL row, a feed entry or the API.

    ``published`` is an ISO 8601 date or timestamp (or None); ``source`` is the outlet and
    ``url`` the original's address, as the contract names them. ``origin`` is the file or
    folder the article was ingested from (``"api"`` for ``POST /articles``): re-ingesting an
    origin removes its articles that are gone from it.
    """

    article_id: str
    title: str
    text: str
    origin: str = ""
    published: str | None = None
    source: str | None = None
    url: str | None = None
    # What ingest cleaned out of the file (markup, hidden characters), for the report.
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def content_hash(self) -> str:
        """Hash of everything a reader sees: a changed date or link re-stores the article."""
        parts = (self.title, self.text, self.published or "", self.source or "", self.url or "")
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]

    @property
    def published_ts(self) -> int | None:
        """``published`` as epoch seconds (UTC; a date alone is its midnight), or None."""
        return epoch_seconds(self.published)


def epoch_seconds(published: str | None) -> int | None:
    """Parse an ISO 8601 date or timestamp; a naive one is taken as UTC; None if unreadable."""
    if not published:
        return None
    try:
        when = datetime.fromisoformat(published.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


@dataclass
class Rejected:
    """A file, row or entry that was not ingested, and why.

    ``where`` names the record inside a file that holds many ("row 5", "line 7",
    "entry 3"); ``article_id`` is the id the record would have had, when it is known.
    """

    path: str
    reason: str
    where: str = ""
    article_id: str | None = None

    @property
    def label(self) -> str:
        """The file, and the record in it: ``news.csv row 5``."""
        return f"{self.path} {self.where}" if self.where else self.path
