"""Search filters on an article's date and outlet, applied inside both searches.

The dense search takes them as a Chroma ``where`` on each passage's ``published_ts`` and
``source`` metadata; the keyword search as a SQL condition on the cached article. Filtering
inside the search, not after it, keeps ``k`` results when the filter is narrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class Filters:
    """``published_after``/``published_before`` are inclusive dates (UTC days); ``sources``
    lists outlet names. An article without a date never matches a date filter."""

    published_after: date | None = None
    published_before: date | None = None
    sources: tuple[str, ...] | None = None

    def __bool__(self) -> bool:
        return bool(self.published_after or self.published_before or self.sources is not None)

    def ts_range(self) -> tuple[int | None, int | None]:
        """Epoch-second bounds: ``lo <= published_ts < hi``."""
        lo = _midnight(self.published_after) if self.published_after else None
        hi = (_midnight(self.published_before + timedelta(days=1))
              if self.published_before else None)
        return lo, hi

    def chroma_where(self) -> dict | None:
        """The filter as a Chroma ``where`` on passage metadata (None when there is none)."""
        lo, hi = self.ts_range()
        clauses: list[dict] = []
        if lo is not None:
            clauses.append({"published_ts": {"$gte": lo}})
        if hi is not None:
            clauses.append({"published_ts": {"$lt": hi}})
        if self.sources is not None:
            clauses.append({"source": {"$in": list(self.sources) or [""]}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def sql(self, alias: str = "a") -> tuple[str, list]:
        """The filter as a SQL condition on the cached ``articles`` row (``"1"`` when none)."""
        lo, hi = self.ts_range()
        parts, params = [], []
        if lo is not None:
            parts.append(f"{alias}.published_ts >= ?")
            params.append(lo)
        if hi is not None:
            parts.append(f"{alias}.published_ts < ?")
            params.append(hi)
        if self.sources is not None:
            parts.append(f"{alias}.source IN ({','.join('?' * len(self.sources)) or 'NULL'})")
            params.extend(self.sources)
        return (" AND ".join(parts) or "1"), params


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
