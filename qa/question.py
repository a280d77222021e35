"""What kind of answer a question asks for, and whether a sentence can supply it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vectorstore.terms import STOPWORDS, stem, words

_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,.]*\s?(?:%|percent|per cent|million|billion|trillion|bn|m)?\b|"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozens?|first|second|third|fourth|fifth|"
    r"sixth|seventh|eighth|ninth|tenth|half|quarter)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\d\s?(?:%|percent|per cent)", re.IGNORECASE)
_MONEY = re.compile(r"[$€£]\s?\d|\d[\d,.]*\s?(?:million|billion|trillion|bn)\b|"
                    r"\b(?:dollars|euros|pounds)\b", re.IGNORECASE)
_DATE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|tonight|(?:next|last|this|coming) (?:week|month|year|decade|spring|summer|"
    r"autumn|winter)|(?:1[89]|20)\d\d)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ](?:year|month|week|day|"
    r"decade)s?\b|\bdecade\b|\buntil\b|\bfor as long\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w’'-]+")


@dataclass(frozen=True)
class AnswerType:
    kind: str | None  # number, percent, money, date, year, duration, name, place or None
    counted: str | None = None  # the noun after "how many", stemmed


_RULES: list[tuple[str, str]] = [
    (r"\bwhat (?:percentage|percent|proportion|share|slice|fraction)\b|\bwhat % ", "percent"),
    (r"\bhow many\b", "number"),
    (r"\bhow much\b.*\b(?:money|cost|worth|spend|spent|invest|pay|paying|fund|budget|aid)\b|"
     r"\bhow much (?:money|cash|funding)\b|\bdollar value\b|\bhow much is\b.*\bworth\b", "money"),
    (r"\bhow much\b", "number"),
    (r"\bhow long\b", "duration"),
    (r"\b(?:what|which) year\b|\bin what year\b", "year"),
    (r"^(?:and )?when\b|\bwhen(?:'s| is| was| did| will| does)\b|\b(?:what|which) "
     r"(?:date|day|month|time)\b|\bon what date\b", "date"),
    (r"^(?:and )?where\b|\b(?:what|which) (?:city|country|town|capital|place|venue)\b|"
     r"\bin what (?:city|country|town)\b", "place"),
    (r"^(?:and )?who\b|\bwhose\b|\bwhat(?:'s| is) (?:his|her|their|the) name\b|^name\b|"
     r"\bwhich (?:newspaper|outlet|company|firm|organisation|organization|person|official)\b",
     "name"),
]


def answer_type(question: str) -> AnswerType:
    q = question.strip().lower()
    for pattern, kind in _RULES:
        if re.search(pattern, q):
            counted = None
            if kind == "number":
                after = re.search(r"\bhow many ([\w' -]+)", q)
                if after:
                    nouns = [w for w in words(after.group(1)) if w not in STOPWORDS]
                    counted = stem(nouns[0]) if nouns else None
            return AnswerType(kind, counted)
    return AnswerType(None)


def supplies(kind: AnswerType, sentence: str, question: str = "") -> bool:
    """Tell whether ``sentence`` holds something of the kind the question asks for."""
    k = kind.kind
    if k is None:
        return True
    if k == "percent":
        return bool(_PERCENT.search(sentence))
    if k == "money":
        return bool(_MONEY.search(sentence))
    if k == "year":
        return bool(_YEAR.search(sentence))
    if k == "date":
        return bool(_DATE.search(sentence))
    if k == "duration":
        return bool(_DURATION.search(sentence))
    if k == "number":
        return _counts(kind.counted, sentence)
    if k in ("name", "place"):
        asked = {w.lower() for w in re.findall(r"[A-Z][\w’'-]+", question)}
        # A capital at the very start only marks the sentence, not a name.
        names = [m.group() for m in _NAME.finditer(sentence) if m.start() > 2]
        return any(n.lower() not in asked for n in names)
    return True


def _counts(noun: str | None, sentence: str) -> bool:
    """A number must stand shortly before the counted noun when the sentence names it."""
    tokens = words(sentence)
    stems = [stem(t) for t in tokens]
    if noun and noun in stems:
        for i, s in enumerate(stems):
            if s == noun and any(_NUMBER.fullmatch(t) for t in tokens[max(0, i - 6) : i]):
                return True
        return False
    return bool(_NUMBER.search(sentence))
