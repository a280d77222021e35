"""Time in answers: a question about the latest news favours newer articles, and a model
reads each sentence with its article's date so it can say when.

Both are about how people ask about news in general ("what is the latest...", "currently",
"so far"), not about any corpus; articles without a date are left as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

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


def newest_first(ranked: list, ratio: float, score=lambda c: c.score) -> list:
    """Put the newest of the sentences scoring within ``ratio`` of the best first, and drop
    sentences from older articles than it: for the latest news they are superseded. A
    clearly better sentence still wins; without ``recency`` marks nothing changes."""
    if not ranked or not any(c.recency for c in ranked):
        return ranked
    close = [c for c in ranked if score(c) >= ratio * score(ranked[0])]
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


# How ``day_of`` writes a day, read back: the day of the month, then the month and year.
_SHOWN_DAY = re.compile(r"\b(\d{1,2}) ([A-Z][a-z]+ \d{4})\b")


def days_as_said(claim: str, shown: str) -> str:
    """``shown`` (the articles' days, as ``day_of`` writes them) less each day of the month
    that ``claim`` does not write as a date: "29 years old" in an article of 29 November
    is not its day. The month and year stay: a claim may say those alone."""
    said = {day for day, _ in days_stated(claim)}
    return _SHOWN_DAY.sub(lambda m: m[0] if int(m[1]) in said else m[2], shown)


# -- calendar dates an answer states ------------------------------------------------------
# A small model turns "on Tuesday" into a date, and the parts of a wrong one are all there
# to be found: "14 November 2026" passed on "on Tuesday, 14 months after leaving Earth" in
# an article of 11 November. A day of a month must be what the quote says.

_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"([12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}\b", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSETS = {"today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0,
            "this evening": 0, "yesterday": -1, "last night": -1, "tomorrow": 1}
_RELATIVE = re.compile(rf"\b({'|'.join([*_OFFSETS, *_WEEKDAYS])})\b", re.IGNORECASE)


# Other times a text may name ("in March", "last week", "in 2019"): then it is not telling
# of its article's own day. "May" and "March" alone are more often a verb.
_TIME_SAID = re.compile(r"\b(?:january|february|april|june|july|august|september|october|"
                        r"november|december|(?:last|next) (?:week|month|year)|(?:1[89]|20)\d\d)\b",
                        re.IGNORECASE)


# "February 26, 2016" for "saturday 26 february": a small model gives a day the article
# leaves in its own year a year from its memory.
_YEAR_OF_DATE = re.compile(
    rf"(?P<date>\b{_DAY}\s+(?:of\s+)?{_MONTH}|\b{_MONTH}(?:\s+{_DAY})?),?\s+"
    r"(?P<year>(?:1[89]|20)\d\d)\b", re.IGNORECASE)


def without_years(claim: str, years: AbstractSet[str]) -> str:
    """``claim`` with each of ``years`` cut where it only dates the day or month before it."""
    return _YEAR_OF_DATE.sub(lambda m: m["date"] if m["year"] in years else m[0], claim)


def days_stated(text: str) -> set[tuple[int, int]]:
    """The (day, month) pairs ``text`` writes out: "14 November", "Nov. 14th", "5 of May"."""
    return {pair for _, pair in _dates(text)}


def _dates(text: str) -> Iterator[tuple[str, tuple[int, int]]]:
    for m in _DAY_MONTH.finditer(text):
        yield m[0], (int(m[1]), _month(m[2]))
    for m in _MONTH_DAY.finditer(text):
        yield m[0], (int(m[2]), _month(m[1]))


def _month(name: str) -> int:
    return next(i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul",
                                         "aug", "sep", "oct", "nov", "dec"), 1)
                if name.lower().startswith(m))


def _pair(day: dt.datetime) -> tuple[int, int]:
    return day.day, day.month


def misdated(claim: str, text: str, published: str | None, given: str = "") -> bool:
    """Tell whether ``claim`` gives a day of a month that ``text`` neither writes nor points
    to from its article's day (the day itself when ``text`` names no time). The question's
    own dates (``given``) may be repeated."""
    said = days_stated(claim) - days_stated(given)
    return bool(said) and not said <= _meant(text, published)


def days_pointed(claim: str, text: str, published: str | None) -> str:
    """The dates of ``claim`` that ``text`` points to without writing them ("10 November"
    for "on Tuesday" in an article of Wednesday 11 November): an answer may say them."""
    dates = list(_dates(claim))
    if not dates:  # most answers give none: nothing of the text to read
        return ""
    pointed = _meant(text, published) - days_stated(text)  # a date written out is evidence
    return " ".join(written for written, pair in dates if pair in pointed)


def _meant(text: str, published: str | None) -> set[tuple[int, int]]:
    """The (day, month) pairs ``text`` writes out or points to from its article's day ("on
    Tuesday": the Tuesday before or after it; "yesterday"), or that day itself when
    ``text`` names no time at all: it may be telling what happened on the day."""
    stated = days_stated(text)
    relative = [m[1].lower() for m in _RELATIVE.finditer(text)]
    day = when(published)
    if day is None:
        return stated
    if not stated and not relative and not _TIME_SAID.search(text):
        return {_pair(day)}
    for word in relative:
        if word in _OFFSETS:
            stated.add(_pair(day + dt.timedelta(days=_OFFSETS[word])))
        else:
            back = (day.weekday() - _WEEKDAYS.index(word)) % 7
            stated |= {_pair(day - dt.timedelta(days=back)),
                       _pair(day + dt.timedelta(days=(7 - back) % 7 or 7))}
    return stated
