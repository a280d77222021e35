"""Whether a sentence stands where its article talks about what the question names.

Articles about two of a kind (two films, two companies, two towns) tell one, then the
other, naming each at the start of its stretch and then writing "it", "the probe", "the
band". A sentence far from any mention of the asked-for name is about the other one.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from functools import lru_cache

from countryinfo import all_countries

from qa.question import entities
from vectorstore.chunk import split_sentences
from vectorstore.terms import terms

# How far before a sentence its subject is still named: about three news sentences.
NEAR = 500


def unfocused(question: str, near: str, article: str | AbstractSet[str]) -> bool:
    """Tell whether the names ``question`` gives, which ``article`` (its text, or its
    terms) uses, are all missing from ``near`` (the sentence, the ``NEAR`` characters
    before it and the title): "Parking on Millgate Street will rise to £1.80" for Abbeyfield
    Road's parking."""
    return far(asked_in(question, article), near)


# The words a sentence opens with that may name its subject ("Former England captain Alan
# Shearer said").
OPENING = 5


def around(article: str, start: int, end: int, title: str, before: int = NEAR) -> str:
    """What stands near the sentence at ``start:end`` of ``article``: its title, the
    ``before`` characters before it, the sentence and, for the article's first sentence,
    the ``OPENING`` words of the one after it. A lede often tells of someone before the next
    sentence opens with their name ("A former finance director has been jailed for six
    years. Derek Fowler, 58, admitted fraud..."); a name further into it is another's
    ("...captain Brian O'Driscoll is in the squad. France's Fabien Pelous and Italy's
    Marco Bortolami are also...")."""
    told, near = article[:start], [title, article[max(start - before, 0) : end]]
    if not told.strip() or told.strip() == title.strip():
        rest = article[end : end + 2 * NEAR]  # the next sentence is in it; not all the text
        near += [" ".join(rest[a:b].split()[:OPENING]) for a, b in split_sentences(rest)[:1]]
    return " ".join(near)


def asked_in(question: str, article: str | AbstractSet[str]) -> set[str]:
    """The names ``question`` gives (its capitalised words) that ``article`` (its text, or
    its terms) uses: a name it never uses is another check's."""
    return set(entities(question)).intersection(
        terms(article) if isinstance(article, str) else article)


def far(asked: AbstractSet[str], near: str) -> bool:
    """Tell whether ``near`` says none of the names ``asked``. A country counts by its
    capital and demonym too ("Moscow's reasons", told as Russia's)."""
    if not asked:
        return False
    said = set(terms(near))
    return not any(country_forms().get(name, {name}) & said for name in asked)


@lru_cache(maxsize=1)
def country_forms() -> dict[str, frozenset[str]]:
    """Each country's one-word name, capital and demonym, as terms, to all three: news
    writes a government as its capital. Several-word names are left out ("New" would make
    New Zealand and New Delhi one)."""
    table: dict[str, frozenset[str]] = {}
    for country in all_countries():
        capital = country.capital()  # a list where a country has several
        named = [country.name(), country.demonym(),
                 *(capital if isinstance(capital, list) else [capital])]
        forms = [terms(name) for name in named if isinstance(name, str)]
        one = frozenset(form[0] for form in forms if len(form) == 1)
        for term in one:
            table[term] = table.get(term, frozenset()) | one
    return table
