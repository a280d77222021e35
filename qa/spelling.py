"""Mend a question's misspelt words with the words the articles use.

"How much will the Staton Road brige repair cost?" searches for two words no article holds,
and every sign that the articles answer it fades with them: the keyword match, the
sentence scores, the extractive reader's verdict, so it is abstained on though the model
read the answer. Search engines ask "did you mean"; a chat answer cannot wait for the reply,
so a word that is surely a slip is mended in place: one of five letters or more that no
indexed passage holds and that is not an English word the embedding model knows whole, one
edit (a letter added, dropped, changed, or two swapped) from words the articles use. It
becomes the one found with the question's other words in the most passages; with none of
them anywhere, it is left as typed (an unknown name is as likely as a slip, and the rules
that abstain on names no article gives must still see it), unless it is one edit from a
single function word ("betwen"), which no index holds.
"""

from __future__ import annotations

import re
import string
from functools import cache

from vectorstore.embed import model_path
from vectorstore.terms import STOPWORDS, terms

MIN_LETTERS = 5  # below this, one edit turns a word into another word too easily
# Above this a "word" is no slip but a pasted string, and its ~54 edits per letter, each
# stemmed, would take minutes (2,000 letters: over 3 minutes).
MAX_LETTERS = 30
SAMPLE = 20  # passages read to see how the articles write a word
# Words mended per question (~25 ms each on the haystack): a question has a slip or two; one
# with many unknown words is in another language or not a question, and must stay cheap.
MAX_SLIPS = 3
_WORD = re.compile(r"[^\W\d_]+")


@cache
def english() -> frozenset[str]:
    """The whole words of the embedding model's WordPiece vocabulary: common English."""
    lines = (model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if w.isalpha())


def edits(word: str) -> list[str]:
    """Every string one edit from ``word`` (lower-case ASCII letters), in a fixed order."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {a + b[1:] for a, b in splits if b}
    found |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    found |= {a + c + b[1:] for a, b in splits if b for c in string.ascii_lowercase}
    found |= {a + c + b for a, b in splits for c in string.ascii_lowercase}
    found.discard(word)
    return sorted(found)


def respell(text: str, docs) -> str:
    """``text`` with each surely misspelt word replaced by the articles' word for it."""
    slips = {}  # each word that may be a slip, and its keyword term
    for m in _WORD.finditer(text):
        word = m.group().lower()
        if word not in slips and (term := _slip_term(word)):
            slips[word] = term
    if not slips:
        return text
    typed_lower = set(_WORD.findall(text))  # a word here was typed in lower case
    asked = terms(text)
    frequency, _ = docs.document_frequencies(asked)
    known = [t for t in asked if frequency.get(t)]
    unknown = [word for word, term in slips.items() if not frequency.get(term)]
    mended = {}
    for word in unknown[:MAX_SLIPS]:
        by_term: dict[str, list[str]] = {}
        for variant in edits(word):
            found = terms(variant)
            if len(found) == 1:
                by_term.setdefault(found[0], []).append(variant)
        used, _ = docs.document_frequencies(list(by_term))
        scored = sorted(((docs.together(t, known), n, t) for t, n in used.items() if n),
                        reverse=True)
        # The most passages with the question's other words: the frequent word in context.
        # (Measured against the share of its passages, which picks rare words: "Gorton
        # Brown", "stamp up for"; docs/evaluation.md, "Slips of the keyboard".)
        for together, _, term in scored:
            if not together:
                break
            # The articles' own word, not a string that shares its stem ("usaing": "usa").
            written = written_as(by_term[term], docs.texts_with(term, SAMPLE))
            if written:
                mended[word] = written
                break
        if word not in mended and word in typed_lower:
            # A slip of a function word ("betwen"), which no index holds: when it is the only
            # one a single edit away, and typed in lower case (a capital may start a name).
            common = [v for v in edits(word) if v in STOPWORDS]
            if len(common) == 1:
                mended[word] = common[0]
    if not mended:
        return text

    def mend(m: re.Match) -> str:
        typed = m.group()
        fixed = mended.get(typed.lower())
        if fixed is None:
            return typed
        if typed.isupper() and len(typed) > 1:
            return fixed.upper()
        return fixed.capitalize() if typed[0].isupper() else fixed

    return _WORD.sub(mend, text)


def written_as(variants: list[str], texts: list[str]) -> str | None:
    """The first of ``variants`` that ``texts`` write as a word of their own, if any."""
    words = {w.lower() for text in texts for w in _WORD.findall(text)}
    return next((v for v in variants if v in words), None)


def _slip_term(word: str) -> str | None:
    """The keyword term of a lower-case ``word`` that may be a slip, else None."""
    if not MIN_LETTERS <= len(word) <= MAX_LETTERS or not word.isascii() or word in english():
        return None
    found = terms(word)
    return found[0] if len(found) == 1 else None
