"""Spell out an abbreviation the articles never use, as they write the name it stands for.

"When does the UDCG meet?" asks about the "Ukraine Defense Contact Group", which the
article names in full and never abbreviates. The keyword index does not hold "UDCG", and
the rules that abstain on names no article gives see a stranger, so the question is
abstained on though its answer is there. A word in capitals that no indexed passage holds
becomes the name the articles write with those initials ("Ukraine Defense Contact
Group"), when they write one; otherwise it is left as typed (it may name someone the
articles do not cover, and the abstention rules must still see it). People type into chat
boxes in lower case, so "cnb" is read as "CNB" when it is no English word and no likely
slip of one ("usm", "teh"). The response's ``standalone_question`` shows the reading.
"""

from __future__ import annotations

import re
from collections import Counter

from qa.spelling import edits, english
from vectorstore.terms import STOPWORDS, terms

SAMPLE = 40  # passages read per abbreviation
# Abbreviations spelled out per question: a question of many capitalised words is
# shouted, not abbreviated, and must stay cheap.
MAX_ABBREVIATIONS = 2
# A word standing alone, and one that may be followed by a plural's or a possessive's "s".
_START, _END = r"(?<![\w'’-])", r"(?![\w'’-])"
_PLURAL_END = rf"(?=(?:s|['’]s)?{_END})"
# "UDCG", "CNB's", "NGOs": three to six capitals, standing alone. (Two are too easily
# other initials: "3 PM" is no "Prime Minister", "OK" no "Oval Kennington".)
_ABBREVIATION = re.compile(rf"{_START}([A-Z]{{3,6}}){_PLURAL_END}")
# "cnb", "cnb's" typed in lower case ("cnbs" is left alone: the plural is too like a word).
_LOWER = re.compile(rf"{_START}([a-z]{{3,6}})(?=(?:['’]s)?{_END})")
# Roles news writes out and readers abbreviate: "Veltrona's CEO" is its "Chief Executive",
# "the council's CEO" its "chief executive". Their initials alone would not find them, as
# "Officer" is often dropped and a role is written in lower case as often as not.
ROLES = {"ceo": "chief executive", "cfo": "chief financial officer",
         "coo": "chief operating officer", "cto": "chief technology officer"}
_ROLE = re.compile(rf"{_START}({'|'.join(ROLES)}){_PLURAL_END}", re.IGNORECASE)
# Words a name's initials skip ("Bank of England", "Food and Drug Administration").
_SKIPPED = r"(?:of|and|for|the|on|in|to|de|des|du|la|le|der|&)"


def spell_out(text: str, docs) -> str:
    """``text`` with each abbreviation no passage holds replaced by the name the articles
    write with its initials, or by the role they write out ("CEO": "chief executive")."""
    capitals = list(dict.fromkeys(_ABBREVIATION.findall(text)))
    if len(capitals) > MAX_ABBREVIATIONS:
        return text
    lower = [w for w in dict.fromkeys(_LOWER.findall(text)) if _may_be_initials(w)]
    # Keyed by the word as typed ("CEO" found twice is one); "ALL" is a stopword, no term.
    keyed = {a: t[0] for a in capitals + lower + _ROLE.findall(text)
             if len(t := terms(a)) == 1}
    if not keyed:
        return text  # no lookup, not even the passage count the frequencies come with
    frequency, _ = docs.document_frequencies(list(keyed.values()))
    unknown = [a for a, term in keyed.items() if not frequency.get(term)]
    if len(unknown) > MAX_ABBREVIATIONS:
        return text  # names no article gives, or another language: nothing to spell
    names = {}
    for abbreviation in unknown:
        if role := ROLES.get(abbreviation.lower()):
            name = phrase_as_written(role, docs.texts_with_run(terms(role), SAMPLE))
        else:
            name = name_for(abbreviation.upper(), docs.texts_with_initials(abbreviation,
                                                                           SAMPLE))
        if name:
            names[abbreviation] = name
    if not names:
        return text
    found = "|".join(map(re.escape, names))
    return re.sub(rf"{_START}({found}){_PLURAL_END}", lambda m: names[m.group(1)], text)


def phrase_as_written(words: str, texts: list[str]) -> str | None:
    """How ``texts`` most often write ``words`` ("Chief Executive"), or None."""
    return _most_written(r"\s+".join(map(re.escape, words.split())), texts, re.IGNORECASE)


def _may_be_initials(word: str) -> bool:
    """Tell whether a word typed in lower case may be an abbreviation: no English word, no
    English word with two letters swapped or a vowel dropped ("usm", "jmp"), and no
    function word with one slip ("teh", "fom")."""
    if word in english():
        return False
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    voweled = {word[:i] + v + word[i:] for i in range(len(word) + 1) for v in "aeiou"}
    # With a vowel it is a word ("sum"), not one of the vocabulary's initials ("cbn").
    if any(w in english() and set(w) & set("aeiouy") for w in swapped | voweled):
        return False
    return not any(len(w) > 2 and w in STOPWORDS for w in edits(word))


def name_for(abbreviation: str, texts: list[str]) -> str | None:
    """The name ``texts`` most often write with the initials ``abbreviation``, each of its
    words capitalised, or None."""
    gap = rf"(?:\s+{_SKIPPED}){{0,2}}\s+"
    return _most_written(gap.join(rf"{letter}[^\W\d_]*" for letter in abbreviation), texts)


def _most_written(body: str, texts: list[str], flags: int = 0) -> str | None:
    """The most frequent match of the pattern ``body``, standing alone but for a plural's
    or possessive's "s" ("the European Space Agency's probe"), in ``texts``, its runs of
    whitespace made one space, or None."""
    pattern = re.compile(rf"{_START}{body}{_PLURAL_END}", flags)
    found = Counter(" ".join(m.group().split()) for text in texts
                    for m in pattern.finditer(text))
    return found.most_common(1)[0][0] if found else None
