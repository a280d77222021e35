"""Turn a follow-up into a standalone question, deterministically (no model needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.cite import MARKER
from qa.question import CAPITAL, entities
from vectorstore.terms import STOPWORDS, terms, words

_REFERS_BACK = re.compile(
    r"\b(?:it|its|it's|that|this|these|those|they|them|their|theirs|he|him|his|she|her|"
    r"there|then|former|latter)\b|^(?:and|but|so|also|what about|"
    r"how about)\b",
    re.IGNORECASE,
)
_MIN_OWN_WORDS = 3
# "How old is she?" asks about a person: the one the last answer named first, more often
# than anyone in the question before it ("Who won the women's race?" -> "Åse Lindvik won").
_PERSON = re.compile(r"\b(?:he|him|his|she|her|hers)\b", re.IGNORECASE)
_OPENING_NAME = re.compile(rf"\s*((?:{CAPITAL}[\w’'-]*\s+){{0,4}}{CAPITAL}[\w’'-]*)")


@dataclass
class Turn:
    role: str
    content: str
    citations: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Standalone:
    text: str  # what retrieval searches for
    rewritten: bool
    carried_articles: frozenset[str] = frozenset()
    own: str = ""  # the question as asked, before borrowed context
    by_model: bool = False  # the answer model's rewrite, which the reader reads as asked
    follow_up: bool = False  # leans on the chat: the reader is shown its last exchange

    @property
    def question(self) -> str:
        return self.own or self.text


def last_exchange(history: list[Turn], chars: int = 300) -> list[Turn]:
    """The last two turns that say something, without citation markers, each cut to
    ``chars``: what a model is shown of the chat."""
    turns = [t for t in history if t.content.strip()][-2:]
    return [Turn(t.role, " ".join(MARKER.sub("", t.content).split())[:chars]) for t in turns]


def is_follow_up(question: str, previous: str = "") -> bool:
    """Tell whether the question leans on the previous one: it refers back, or is too short
    to stand alone and names nothing new."""
    if _REFERS_BACK.search(question.strip()):
        return True
    own = [w for w in words(question) if w not in STOPWORDS]
    known = set(terms(previous))
    names_something_new = any(name not in known for name in entities(question))
    return len(own) < _MIN_OWN_WORDS and not names_something_new


# How many follow-ups back a chain is read: "How old is he?", then "Where did he join
# from?" still asks about the scorer the first question's answer named.
CHAIN = 3


def condense(question: str, history: list[Turn], chain: int = CHAIN) -> Standalone:
    """Append the earlier question's content words when the question refers back to it;
    when that one was a follow-up too, its own resolved words."""
    users = [i for i, t in enumerate(history) if t.role == "user" and t.content.strip()]
    if not users or not is_follow_up(question, history[users[-1]].content):
        return Standalone(question, False, own=question)
    previous = history[users[-1]].content
    if chain > 1:
        # Resolved as it was when it was asked, from the turns before it.
        previous = condense(previous, history[: users[-1]], chain - 1).text
    last = history[-1]
    named = (_opening_name(last.content)
             if last.role == "assistant" and _PERSON.search(question) else "")
    seen = {w for w in words(question)}
    context = [
        w for w in words(MARKER.sub("", f"{named} {previous}"))
        if w not in STOPWORDS and w not in seen
    ]
    carried = frozenset(
        c["article_id"]
        for t in history[-2:]
        if t.role == "assistant"
        for c in t.citations
        if isinstance(c, dict) and isinstance(c.get("article_id"), str)
    )
    if not context:
        return Standalone(question, False, carried, question, follow_up=True)
    text = f"{question.strip()} ({' '.join(dict.fromkeys(context))})"
    return Standalone(text, True, carried, question, follow_up=True)


def _opening_name(answer: str) -> str:
    """The name an answer opens with ("Sarah Claxton, 25, ..." -> "Sarah Claxton"), or ""
    when it opens with a pronoun or another word ("She beat ...", "Yes, ...")."""
    found = _OPENING_NAME.match(re.sub(r"^\s*(?:yes|no)\b[,.]?", "", answer, flags=re.I))
    if not found:
        return ""
    name = found.group(1).split()
    return "" if any(w.lower() in STOPWORDS for w in name) else " ".join(name)


# A model's rewrite of a follow-up must keep this share of the follow-up's own words: one
# that drops them asks something else ("Who is Alan Johnson?" for "what's his job in the
# government?"), and the rules' search does better with the words as asked.
KEPT_WORDS = 0.6
MAX_REWRITE_CHARS = 300


def accepted(question: str, rewrite: str) -> str | None:
    """The model's standalone version of ``question``, if it is one line that still asks
    what the follow-up asks; else None (the rules resolve it)."""
    lines = rewrite.strip().splitlines()
    text = " ".join(lines[0].split()) if lines else ""
    if not text or len(text) > MAX_REWRITE_CHARS or text.upper().startswith("NOT FOUND"):
        return None
    own = {t for t in terms(question) if t not in STOPWORDS}  # "who's" gives "who"
    kept = own & set(terms(text))
    return text if not own or len(kept) >= KEPT_WORDS * len(own) else None
