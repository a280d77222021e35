"""Give a question typed in lower case the capitals the articles give its words.

People type into chat boxes in lower case, and the abstention rules find a question's
names by their capitals (``qa.question.entities``): "how old is jennifer capriati?" names
no one. The articles themselves say how each word is written ("Capriati" everywhere,
"old" everywhere else), so a word the indexed text writes with a capital, away from the
start of a sentence, nearly every time gets that capital. On a corpus that is itself lower
case there is nothing to learn, and the question is left as typed.
"""

from __future__ import annotations

import re
from collections import Counter

from vectorstore.terms import STOPWORDS, terms

# Passages read per word: enough to tell a name from a word, cheap for any corpus size.
SAMPLE = 40
# A word takes its capitals only when the articles write it so this often (news writes
# "Labour" and "the Bank" with capitals, but "bank" and "labour" more often without).
MIN_SHARE = 0.8

# Words with a letter: "rutte", "e5", "f" of "f-16" (numbers are not cased).
# Each run of letters and digits is tried once, from its start: a pattern that could start
# mid-run took quadratic time on a long run of digits (20,000 zeros: 9 s).
_WORDS = re.compile(r"(?<![^\W_])(?=[^\W_]*[^\W\d_])[^\W_]+")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*)([^\W\d_])")
# After these a capital marks a sentence or a quote, not a name.
_OPENERS = ".!?:\"“‘'\n"


def typed_lower(text: str) -> bool:
    """Tell whether ``text`` has no capital but those that open its sentences."""
    return not any(c.isupper() for c in _SENTENCE_START.sub(lambda m: m.group(0).lower(), text))


def usual_form(word: str, docs) -> str:
    """How the articles write ``word`` away from the start of a sentence, when that is
    with capitals nearly every time; else ``word`` as it is."""
    found = terms(word)
    if len(found) != 1:
        return word
    pattern = re.compile(rf"(?<![\w'’-]){re.escape(word)}(?![\w-])", re.IGNORECASE)
    forms = Counter()
    for text in docs.texts_with(found[0], SAMPLE):
        for m in pattern.finditer(text):
            before = text[: m.start()].rstrip(" \t\"“‘'")
            if before and before[-1] not in _OPENERS:
                forms[m.group()] += 1
    if not forms:
        return word
    form = forms.most_common(1)[0][0]
    capitals = sum(n for f, n in forms.items() if f != f.lower())
    if form == form.lower() or capitals < MIN_SHARE * sum(forms.values()):
        return word
    return form


def truecase(text: str, docs, typed: str | None = None) -> str:
    """``text`` with the capitals the articles give its words, when it was typed without
    any (its sentences' first letters aside); otherwise ``text`` unchanged. ``typed``: the
    text as typed, when it was mended since (a name spelled out brings its own capitals)."""
    if not typed_lower(text if typed is None else typed):
        return text
    forms: dict[str, str] = {}  # each word looked up once, however often it is typed

    def cased(m: re.Match) -> str:
        word = m.group()
        if word not in STOPWORDS and word not in forms:
            forms[word] = usual_form(word, docs)
        return forms.get(word, word)

    # Only the words the articles capitalise change: a small model reads "who" and "Who"
    # differently often enough to flip answers, and no rule reads a sentence's first letter.
    return _WORDS.sub(cased, text)
