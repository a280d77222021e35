"""Spell out an abbreviation the articles never use, as they write the name it stands for.

"When does the UDCG meet?" asks about the "Ukraine Defense Contact Group", which the
article names in full and never abbreviates. The keyword index does not hold "UDCG", and
the rules that abstain on names no article gives see a stranger, so the question is
abstained on though its answer is there. A word in capitals that no indexed passage holds
becomes the name the articles write with those initials ("Ukraine Defense Contact
Group"), when they write one; otherwise it is left as typed (it may name someone the
articles do not cover, and the abstention rules must still see it). The response's
``standalone_question`` shows the reading.
"""

from __future__ import annotations

import re
from collections import Counter

from vectorstore.terms import terms

SAMPLE = 40  # passages read per abbreviation
# Abbreviations spelled out per question: a question of many capitalised words is
# shouted, not abbreviated, and must stay cheap.
MAX_ABBREVIATIONS = 2
# "UDCG", "CNB's", "NGOs": three to six capitals, standing alone. (Two are too easily
# other initials: "3 PM" is no "Prime Minister", "OK" no "Oval Kennington".)
_ABBREVIATION = re.compile(r"(?<![\w'’-])([A-Z]{3,6})(?=(?:s|['’]s)?(?![\w'’-]))")
# Words a name's initials skip ("Bank of England", "Food and Drug Administration").
_SKIPPED = r"(?:of|and|for|the|on|in|to|de|des|du|la|le|der|&)"


def spell_out(text: str, docs) -> str:
    """``text`` with each abbreviation no passage holds replaced by the name the articles
    write with its initials."""
    found = list(dict.fromkeys(_ABBREVIATION.findall(text)))
    if not found or len(found) > MAX_ABBREVIATIONS:
        return text
    keyed = {a: t[0] for a in found if len(t := terms(a)) == 1}  # "ALL" is a stopword
    if not keyed:
        return text  # no lookup, not even the passage count the frequencies come with
    frequency, _ = docs.document_frequencies(list(keyed.values()))
    names = {}
    for abbreviation, term in keyed.items():
        if not frequency.get(term):
            name = name_for(abbreviation, docs.texts_with_initials(abbreviation.lower(),
                                                                   SAMPLE))
            if name:
                names[abbreviation] = name
    if not names:
        return text
    return _ABBREVIATION.sub(lambda m: names.get(m.group(1), m.group(1)), text)


def name_for(abbreviation: str, texts: list[str]) -> str | None:
    """The name ``texts`` most often write with the initials ``abbreviation``, each of its
    words capitalised, or None."""
    gap = rf"(?:\s+{_SKIPPED}){{0,2}}\s+"
    pattern = re.compile(r"(?<![\w'’-])" + gap.join(rf"{letter}[^\W\d_]*"
                                                    for letter in abbreviation)
                         + r"(?![\w'’-])")
    names = Counter(" ".join(m.group().split()) for text in texts
                    for m in pattern.finditer(text))
    return names.most_common(1)[0][0] if names else None
