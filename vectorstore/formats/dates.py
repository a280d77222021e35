"""Read a publication date as users' files give it and write it as ISO 8601.

A date stays a date (``2024-09-01``); a time becomes a full timestamp with its offset
(``2024-09-01T10:00:00+02:00``; a time without a zone is read as UTC). What cannot be
read surely (no year, no day, ``01/02/2024``) is None with a note: a bad date never
rejects an article.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
import warnings

_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)")
_NUMERIC = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\s*$")
_HAS_TIME = re.compile(r"\d:\d\d")
# Unix times in seconds (2001 to 2286) and in milliseconds, as JSON exports write them.
_EPOCH_S = (1e9, 1e10)
_EPOCH_MS = (1e12, 1e13)
MAX_DATE_CHARS = 100


def _iso(value: dt.date | dt.datetime) -> str | None:
    if not 1800 <= value.year <= 2200:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _from_iso(text: str) -> dt.date | dt.datetime | None:
    try:
        if len(text) <= 10 and "T" not in text:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        return None


def _from_rfc2822(text: str) -> dt.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _from_words(text: str) -> dt.date | dt.datetime | str:
    """Parse "5 March 2024", "March 5, 2024 10:00 GMT" and the like, or say why not."""
    from dateutil import parser

    if not _YEAR.search(text):
        return "has no year"
    numeric = _NUMERIC.match(text)
    if numeric and int(numeric.group(1)) <= 12 and int(numeric.group(2)) <= 12 and (
            numeric.group(1) != numeric.group(2)):
        return "is ambiguous (day or month first?)"
    # Parse twice with different defaults: a part that differs was missing, not given.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unknown zone name is read as UTC
            one = parser.parse(text, default=dt.datetime(2000, 1, 1))
            two = parser.parse(text, default=dt.datetime(2001, 2, 2))
    except (ValueError, OverflowError, parser.ParserError):
        return "is not a date"
    if one.year != two.year or one.month != two.month or one.day != two.day:
        return "has no day"
    return one if _HAS_TIME.search(text) else one.date()


def normalise_published(value: object) -> tuple[str | None, str | None]:
    """Return ``(iso, note)``: the date in ISO 8601 or None, and why it was dropped."""
    if value is None or value == "":
        return None, None
    if isinstance(value, time.struct_time):  # feedparser's parsed dates are UTC
        return _iso(dt.datetime(*value[:6], tzinfo=dt.UTC)), None
    if isinstance(value, dt.date):
        found = _iso(value)
        return found, None if found else f"published {value} is out of range"
    if isinstance(value, int | float) and not isinstance(value, bool):
        for (low, high), scale in ((_EPOCH_S, 1), (_EPOCH_MS, 1000)):
            if low <= value < high:
                return _iso(dt.datetime.fromtimestamp(value / scale, dt.UTC)), None
        return None, f"published {value!r} is not a date"
    if not isinstance(value, str):
        return None, f"published {value!r} is not a date"
    text = " ".join(value.split())
    if not text:
        return None, None
    shown = text if len(text) <= 40 else text[:40] + "…"
    if len(text) > MAX_DATE_CHARS:
        return None, f"published {shown!r} is not a date"
    parsed: dt.date | dt.datetime | str | None = _from_iso(text) or _from_rfc2822(text)
    if parsed is None:
        parsed = _from_words(text)
    if isinstance(parsed, str):
        return None, f"published {shown!r} {parsed}"
    found = _iso(parsed)
    return (found, None) if found else (None, f"published {shown!r} is out of range")
