"""Check a generated answer against the passages it cites, sentence by sentence.

The model's text is split into sentences; markers that name passages that were not
retrieved are dropped; each sentence must be supported by a passage it cites. Quotes are
chosen here, from the cited passage, never copied from the model's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.cite import MARKER, Claim, Evidence
from qa.compose import SentenceVectors
from qa.question import CAPITAL, entities
from qa.recency import days_pointed, misdated
from vectorstore.chunk import split_sentences
from vectorstore.terms import STOPWORDS, stem, terms, words

# Calibrated by ``calibrate(fixture_pairs(...))`` with the real MiniLM embedder on
# tests/fixtures/seeds.jsonl and seeds/ (run ``python -m qa.verify``): 222 labelled pairs
# (74 supported), accuracy 0.85 at this threshold (see the docstring of ``calibrate``).
SUPPORT_THRESHOLD = 0.657
# Blend of evidence: share of the sentence's content terms in the passage, share of its
# names and numbers in the passage (a swapped name is the typical fabrication, and it moves
# the other two signals little), and the best embedding similarity to a passage sentence.
LEXICAL_WEIGHT = 0.35
KEY_WEIGHT = 0.30
EMBEDDING_WEIGHT = 0.35
MAX_QUOTE_SENTENCES = 2

# [1], [1, 2], [1][2], [Passage 3], [passage 1; 2]
_MARKERS = re.compile(r"\[\s*(?:passages?\s*)?(\d+(?:\s*[,;]\s*(?:passage\s*)?\d+)*)\s*\]",
                      re.IGNORECASE)
_LEADING_MARKERS = re.compile(r"^(?:\s*" + _MARKERS.pattern + r")+", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
# Shown "a 6 932 majority" (text that lost its punctuation), the model writes "6, 932".
_COMMA_SPACED = re.compile(r"(?<![\d.,])\d{1,3}(?:, \d{3})+(?![\d,.]?\d)")
_WORD = re.compile(r"[^\W_][\w'’.,%-]*[^\W_]|[^\W_]")


class ChunkLike(Protocol):
    chunk_id: str
    article_id: str
    title: str
    start: int
    text: str
    sentences: tuple[tuple[int, int], ...]


@dataclass
class Sentence:
    """One sentence of a generated answer, with the passages it cites (1-based)."""

    text: str
    cited: list[int] = field(default_factory=list)
    fabricated: list[int] = field(default_factory=list)


@dataclass
class Support:
    score: float
    evidence: Evidence


@dataclass
class Verdict:
    sentence: Sentence
    supported: list[Support]  # cited passages that support it
    unsupported: list[Support]  # cited passages that do not

    @property
    def verified(self) -> bool:
        return bool(self.supported)


def split_answer(text: str, passage_count: int) -> list[Sentence]:
    """Split generated text into sentences and their markers; markers out of range are kept
    apart as ``fabricated``. Markers that open a sentence belong to the one before it."""
    pieces: list[tuple[str, list[int]]] = []
    for start, end in split_sentences(text):
        raw = text[start:end]
        lead = _LEADING_MARKERS.match(raw)
        if lead and pieces:
            pieces[-1][1].extend(_numbers(lead.group(0)))
            raw = raw[lead.end():]
        pieces.append((raw, _numbers(raw)))
    sentences = []
    for raw, numbers in pieces:
        clean = _SPACE_BEFORE_PUNCT.sub(r"\1", _MARKERS.sub("", raw))
        clean = " ".join(clean.split())
        clean = _COMMA_SPACED.sub(lambda m: m.group(0).replace(", ", ","), clean)
        if not re.search(r"\w", clean):
            continue
        unique = list(dict.fromkeys(numbers))
        sentences.append(Sentence(
            clean,
            [n for n in unique if 1 <= n <= passage_count],
            [n for n in unique if not 1 <= n <= passage_count],
        ))
    return sentences


def _numbers(text: str) -> list[int]:
    found = []
    for group in _MARKERS.findall(text):
        found += [int(n) for n in re.findall(r"\d+", group)]
    return found


class Verifier:
    """Score sentences against passages with lexical and embedding evidence."""

    def __init__(self, vectors: SentenceVectors, threshold: float = SUPPORT_THRESHOLD):
        self.vectors = vectors
        self.threshold = threshold

    def support(self, sentence: str, chunk: ChunkLike, given: str = "",
                shown: str = "", names: str = "") -> Support:
        """Score how well ``chunk`` supports ``sentence`` and pick the quote that does.

        ``given`` is the question: an answer may repeat its words without evidence ("He
        plans to return to the Davis Cup in 2006" for "when does he plan to return to the
        Davis Cup?"), so only what the answer adds to it must be found in the passage.
        ``shown`` is more the answer may say unsupported (the articles' days, shown with
        the sentences); a number of it the passage states is evidence all the same ("14"
        aces in an article published on the 14th). ``names`` are the passage's names as its
        article gives them in full (``full_names``): the passage says them.
        """
        spans = [(s, e, chunk.text[s - chunk.start : e - chunk.start]) for s, e in
                 chunk.sentences] or [(chunk.start, chunk.start + len(chunk.text), chunk.text)]
        sentence, given = as_printed(sentence, chunk.text), as_printed(given, chunk.text)
        vecs = self.vectors.get([sentence] + [t for _, _, t in spans])
        sims = vecs[1:] @ vecs[0]
        text_terms = set(terms(_whole_numbers(chunk.text))) | set(terms(names))
        published = getattr(chunk, "published", None)
        asked = set(terms(_whole_numbers(given))) | {
            t for t in terms(_whole_numbers(shown)) if not (t[0].isdigit() and t in text_terms)}
        # "10 November" for "on Tuesday" in an article of Wednesday 11 November is said.
        asked |= set(terms(days_pointed(sentence, chunk.text, published)))
        own = set(terms(_whole_numbers(sentence))) - asked
        chunk_terms = text_terms | set(terms(chunk.title))
        lexical = len(own & chunk_terms) / len(own) if own else 0.0
        # Names and numbers must be in the quotable text: a title is context, not evidence.
        keys = key_terms(_whole_numbers(sentence)) - asked
        key = len(keys & text_terms) / len(keys) if keys else 1.0
        score = (LEXICAL_WEIGHT * lexical + KEY_WEIGHT * key
                 + EMBEDDING_WEIGHT * float(np.max(sims)))
        spelled = counted(sentence)  # the passage's counts are read only when needed
        if any(t[0].isdigit() and t not in text_terms for t in own) or (
                spelled and spelled - counted(f"{chunk.text} {given} {shown}", every=True)):
            score = 0.0  # a number the passage does not state is the costliest fabrication
        elif misquoted(sentence, chunk.text):
            score = 0.0  # so is a word put in someone's mouth
        start, end = _best_span(own, spans, sims)
        quote = chunk.text[start - chunk.start : end - chunk.start]
        if unpaired(sentence, quote) or other_half(f"{given} {sentence}", quote) or (
                reranked(sentence, quote) or qualified(given, quote)
                or negated(sentence, quote) or unmade(given, quote)
                or swapped(sentence, quote)) or (
                unreported(sentence, _around(chunk, spans, start, end))) or (
                misdated(sentence, chunk.text, published, given)):
            # "sent off" quoting "sent on", the men's race quoting the women's, the first
            # try quoting the second, the minister quoting his deputy, "should come in"
            # quoting "don't want... coming in", revenue for the profit it has yet to
            # make, the loser for the winner, "the official said" quoting a meeting he
            # held, "14 November" quoting "on Tuesday, 14 months after": every word the
            # answer adds is there, the fact is not.
            score = 0.0
        return Support(score, Evidence.of(chunk, start, end, quote, score))

    def check(self, sentences: list[Sentence], chunks: list[ChunkLike]) -> list[Verdict]:
        """Judge each sentence against the passages it cites (``chunks`` in prompt order)."""
        verdicts = []
        for sentence in sentences:
            scored = [self.support(sentence.text, chunks[n - 1]) for n in sentence.cited]
            verdicts.append(Verdict(
                sentence,
                [s for s in scored if s.score >= self.threshold],
                [s for s in scored if s.score < self.threshold],
            ))
        return verdicts


# "£150 000": news text that lost its punctuation writes thousands apart.
_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3})((?: \d{3})+)(?![\d])")


# "12:30 GMT", which text that lost its punctuation writes "1230 gmt".
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d\d)(?![\d:])")


# "1.7m" and "1.7 million": one number, printed as news does or written out as the model
# does; kept one word, so "1.7 billion" is not it.
_SCALED = re.compile(r"(?<=\d)(?:(m|mn|bn|tn)|\s(million|billion|trillion))\b",
                     re.IGNORECASE)
_SCALES = {"m": "m", "mn": "m", "million": "m", "bn": "bn", "billion": "bn", "tn": "tn",
           "trillion": "tn"}


def _whole_numbers(text: str) -> str:
    """Join digit groups written with spaces, so "150 000" and "150,000" are one number,
    a time's hours and minutes, so "12:30" is the "1230" of a text without colons, and a
    scale to its number, so "1.7 million" is the "1.7m" news prints."""
    text = _CLOCK.sub(r"\1\2", text)
    text = _SCALED.sub(lambda m: _SCALES[(m.group(1) or m.group(2)).lower()], text)
    return _GROUPED.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)


def key_terms(sentence: str) -> set[str]:
    """Return the stems of the names and numbers in ``sentence`` (not its first word)."""
    found = set()
    for i, word in enumerate(_WORD.finditer(sentence)):
        token = word.group(0)
        if token[0].isdigit() or (i > 0 and token[0].isupper()):
            found.update(terms(token))
    return found


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> set[str]:
    """The numbers written in ``text`` as bare digits: "£150,000" and "150 000" are
    "150000", "$50bn" is "50", "2-1" is "2" and "1"."""
    return {m.group(0).replace(",", "").rstrip(".")
            for m in _NUMBER.finditer(_whole_numbers(text))}


# Number words, so a "2" the model writes for "two" is not taken for an invention. Ordinals
# count too ("sixth"); "one" and "first" also mean other things, which only ever excuses
# a number, never accuses one.
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()
_ORDINALS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth "
             "eleventh twelfth").split()
_ORDINAL_PLACE = {w: i for i, w in enumerate(_ORDINALS)}
_TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90, "hundred": 100, "dozen": 12}
_NUMBER_WORDS = {**{w: i for i, w in enumerate(_UNITS)}, **{w: i for i, w in enumerate(_ORDINALS)},
                 **_TENS}


# "Dozens of civilians" read as "20": a rounding of a figure the article gives vaguely,
# not an invention, when it is of the rough count's size.
_ROUGHLY = {"handful": (2, 10), "several": (2, 10), "dozens": (12, 100), "scores": (20, 100),
            "hundreds": (100, 1000), "thousands": (1000, 10**6)}


# Words that make a count written in words part of a bigger one ("two hundred", "twenty
# five").
_IN_BIGGER = frozenset({"thousand", "million", "billion", "half", *_NUMBER_WORDS})


def counted(text: str, every: bool = False) -> set[str]:
    """The counts ``text`` writes in words, as digits ("six years": "6"); with ``every``
    also those it writes in digits and as parts of bigger numbers, all a text may state.
    Alone, only the ones a claim clearly states: "one" is a pronoun as often, "two
    hundred" or "twenty-five" is another number than its words."""
    said = words(text)
    found = numbers(text) if every else set()
    for i, word in enumerate(said):
        if word not in _NUMBER_WORDS or word in _ORDINAL_PLACE:
            continue
        beside = {said[j] for j in (i - 1, i + 1) if 0 <= j < len(said)}
        if every or (word not in ("zero", "one") and not beside & _IN_BIGGER):
            found.add(str(_NUMBER_WORDS[word]))
    return found


def invented(claim: str, read: str) -> set[str]:
    """The numbers ``claim`` states that ``read`` (all the model was shown) never does, as
    digits, as words or as a rough count of their size ("dozens" for 20): a number the model
    made up, not one it misquoted a sentence for."""
    said = re.findall(r"[a-z]+", read.lower())
    stated = numbers(read) | {str(_NUMBER_WORDS[w]) for w in said if w in _NUMBER_WORDS}
    rough = [_ROUGHLY[w] for w in set(said) & set(_ROUGHLY)]
    return {n for n in numbers(_MARKERS.sub("", claim)) - stated
            if not any(low <= float(n) < high for low, high in rough)}


def introduced(claim: str, question: str, context: str) -> bool:
    """Tell whether every name ``claim`` repeats from ``question`` is in ``context``.

    The support score exempts the question's words (an answer restates its question), so
    "Russia can produce 8 million drones" passes on a sentence about Ukraine's drones; the
    name must at least have been said where the claim's sentence stands (its article's
    title, the text up to it, the sentence itself).
    """
    # The question's names count where the claim opens with one ("Russia can produce...").
    names = {t for t in key_terms(claim) | key_terms(question) if not t[0].isdigit()}
    names &= set(terms(question)) & set(terms(claim))
    return not names or names <= set(terms(context))


# A name of two or more capitalised words ("Riverside United", "Mick Lynch"), and one of
# any length.
_CAPITALISED = rf"\b{CAPITAL}[\w'’-]*"
_NAME = re.compile(rf"{_CAPITALISED}(?:[ ]+{_CAPITALISED})+")
_NAMED = re.compile(rf"{_CAPITALISED}(?:[ ]+{_CAPITALISED})*")


def full_names(quote: str, article: str) -> str:
    """The longer names ``article`` gives to what ``quote`` names shortly: news names a
    person or team in full once, then shortly, and an answer may use either. "Mr Pickering"
    stands for the one name of the article that ends "Pickering"; "Riverside", inside a
    sentence, for the one that starts "Riverside" ("Riverside United"). Not at a sentence's
    start, where a title stands as often ("Chief executive..."); and a word two names end or
    start with tells neither, so none is lent."""
    names = set(_NAME.findall(article))
    full = set()
    for named in _NAMED.finditer(quote):
        said = named.group().split()
        inside = named.start() > 0 or said[0].lower() in STOPWORDS  # "As Riverside's..."
        while said and said[0].lower() in STOPWORDS:
            said.pop(0)
        if not said:
            continue
        run, last = " ".join(said), _bare(said[-1])
        ends = [n for n in names if n != run and _bare(n.split()[-1]) == last]
        starts = [n for n in names if inside and len(said) == 1
                  and _bare(n.split()[0]) == last]
        full.update(found[0] for found in (ends, starts) if len(found) == 1)
    return " ".join(sorted(full))


def _bare(word: str) -> str:
    return word.removesuffix("'s").removesuffix("’s")


# Particles that make a verb another verb ("sent off" is not "sent on", "turned down" is not
# "turned up"). They are stopwords to the support score, so they are checked apart; "on" and
# "in" are left out, being prepositions far more often than particles.
_PARTICLES = frozenset({"off", "up", "down", "out", "away", "back"})
_PARTICLE_REACH = 3  # "turned the offer down"


# A word the text prints with an apostrophe: "O'Driscoll", "don't".
_ELIDED = re.compile(r"\b([^\W\d_]+)['’]([^\W\d_]+)\b")


def as_printed(text: str, passage: str) -> str:
    """``text`` with the words ``passage`` prints without their apostrophe written as it
    does ("O'Driscoll" as "O Driscoll" for "ireland s brian o driscoll"): text that lost
    its punctuation splits the word in two, where the model restores it as one."""

    def printed(match: re.Match) -> str:
        plain = f"{match.group(1)} {match.group(2)}"
        if re.search(rf"(?<!\w){re.escape(plain)}(?!\w)", passage, re.IGNORECASE):
            return plain
        return match.group(0)

    return _ELIDED.sub(printed, text) if "'" in text or "’" in text else text


def _rank(word: str) -> int | None:
    """The place an ordinal names ("second" and "2nd" are 2), else None."""
    if word in _ORDINAL_PLACE:
        return _ORDINAL_PLACE[word]
    found = re.fullmatch(r"(\d+)(?:st|nd|rd|th)", word)
    return int(found.group(1)) if found else None


# Parts of a match or contest that an ordinal places ("second half"): not a modifier.
_SEGMENTS = frozenset({"half", "halves", "leg", "round", "set", "quarter", "period", "innings",
                       "stage", "day", "week", "time"})


def reranked(claim: str, quote: str) -> bool:
    """Tell whether ``claim`` gives a thing another place than ``quote`` does: "Scotland's
    first try" quoting "a second try for scotland", "his ninth budget" quoting "his eighth
    budget". Every word of the claim may be there; the place is not."""
    said, told = words(claim), words(quote)
    places = {(_rank(w), stem(n)) for w, n in zip(told, told[1:], strict=False)
              if _rank(w) is not None}
    # "his first senior goal" places the goal too; not "a second-half goal", whose place
    # is the half's.
    places |= {(_rank(w), stem(n)) for w, m, n in zip(told, told[1:], told[2:], strict=False)
               if _rank(w) is not None and m not in STOPWORDS and m not in _SEGMENTS
               and m[0].isalpha()}
    for word, noun in zip(said, said[1:], strict=False):
        rank = _rank(word)
        if rank is None or (rank, stem(noun)) in places:
            continue
        if any(thing == stem(noun) for _, thing in places):
            return True
    return False


# Words that deny what follows them; "t" is what "don t" leaves of "don't" in text that
# lost its apostrophes.
_NEGATORS = frozenset("""not never no nor cannot t don't doesn't didn't won't can't isn't
    wasn't aren't weren't couldn't wouldn't shouldn't hasn't haven't hadn't""".split())
_NEGATION_REACH = 3  # words after a negator that it denies
_CLAUSE_ENDS = frozenset({"but", "and", "or", "while", "although", "though", "yet",
                          "because"})
# A negator denies the words up to a preposition, not what follows it: "no match for
# benita johnson" denies the match, not Johnson; "did not play for chelsea", the playing.
_PREPOSITIONS = frozenset({"for", "of", "to", "in", "on", "at", "with", "by", "from",
                           "against", "over", "after", "before", "than", "into", "about"})
_NEGATOR_STEMS = frozenset(stem(w) for w in _NEGATORS)


def _denied(said: list[str]) -> list[bool]:
    """For each word, whether a negator stands in the ``_NEGATION_REACH`` words before it,
    in its clause ("yet to" denies what follows it). "not only" and "No 1" (a rank, "No
    10" a street) deny nothing."""
    denied = [False] * len(said)
    for i, word in enumerate(said):
        after = said[i + 1 : i + 2]
        first = i + 1
        if word == "yet" and after == ["to"]:
            first = i + 2  # "it has yet to make a profit"
        elif word not in _NEGATORS or after == ["only"] or (
                word == "no" and after and after[0][0].isdigit()):
            continue
        for j in range(first, min(first + _NEGATION_REACH, len(said))):
            if said[j] in _CLAUSE_ENDS or said[j] in _PREPOSITIONS:
                break
            denied[j] = True
    return denied


def negated(claim: str, quote: str) -> set[str]:
    """The words ``claim`` asserts that ``quote`` only ever denies: "someone else should
    come in" quoting "we don't want someone else coming in". Every word is there; the
    quote says the opposite."""
    said, told = words(claim), words(quote)
    asserted = {stem(w) for w, no in zip(said, _denied(said), strict=True)
                if not no and w not in STOPWORDS and w[0].isalpha()}
    told_denied = _denied(told)
    denied = {stem(w) for w, no in zip(told, told_denied, strict=True) if no}
    affirmed = {stem(w) for w, no in zip(told, told_denied, strict=True) if not no}
    return (asserted & denied) - affirmed - _NEGATOR_STEMS


# "How much profit...", "how many goals...": the thing a number is asked of.
_MEASURED = re.compile(r"\bhow (?:much|many)\s+([a-z]+)", re.IGNORECASE)


def unmade(asked: str, quote: str) -> bool:
    """Tell whether ``quote`` only denies the thing ``asked`` wants an amount of: "$910
    million" for how much profit Kestrel made, quoting "its revenue rose to $910 million,
    although it has yet to make a profit". The number is another thing's."""
    found = _MEASURED.search(asked)
    if not found or found.group(1).lower() in STOPWORDS:
        return False
    thing, told = stem(found.group(1).lower()), words(quote)
    places = [no for word, no in zip(told, _denied(told), strict=True) if stem(word) == thing]
    return bool(places) and all(places)


def swapped(claim: str, quote: str) -> bool:
    """Tell whether ``claim`` has two names the other way round about their verb than
    ``quote`` does: "Harriers beat Sheffield Lynx" quoting "Sheffield Lynx came from two
    goals down to beat Rotherham Harriers". Every word is there; who did it to whom is not.
    Passives ("beaten by") are left alone."""
    text = MARKER.sub(" ", claim)
    names = [n for n in _NAMED.finditer(text)
             if any(w not in STOPWORDS for w in words(n.group()))]
    if len(names) < 2:  # most answers: a bare name or none, nothing to read in the quote
        return False
    told = words(quote)
    stems = [stem(w) for w in told]
    for one, other in zip(names, names[1:], strict=False):
        between = words(text[one.end() : other.start()])
        verbs = [w for w in between if w not in STOPWORDS]
        if len(verbs) != 1 or "by" in between or not verbs[0].isalpha():
            continue
        first, second = set(words(one.group())), set(words(other.group()))
        first, second = first - second - STOPWORDS, second - first - STOPWORDS
        for i in (i for i, s in enumerate(stems) if s == stem(verbs[0])):
            if told[i + 1 : i + 2] == ["by"]:
                continue
            before, after = set(told[:i]), set(told[i + 1 :])
            if second & before and first & after and not (first & before or second & after):
                return True
    return False


# What an answer puts in quotation marks: straight or curly, at least one word.
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')


def misquoted(claim: str, passage: str) -> set[str]:
    """The words ``claim`` puts in quotation marks that ``passage`` never uses: 'Lord
    Carlile called the ruling "anathema"' of a passage in which he calls it nothing. Marks
    say the words are the article's; a support score would pass one made-up word among
    many true ones."""
    quoted = " ".join(a or b for a, b in _QUOTED.findall(claim))
    if not quoted:
        return set()
    return {w for w in terms(quoted) if w not in STOPWORDS} - set(terms(passage))


def unpaired(claim: str, quote: str) -> set[str]:
    """The phrasal verbs of ``claim`` ("sent off") whose verb ``quote`` uses only without
    that particle ("sent on a second striker")."""
    said, text = words(claim), words(quote)
    stems = [stem(w) for w in text]
    found = set()
    for i, (verb, particle) in enumerate(zip(said, said[1:], strict=False)):
        after = said[i + 2] if i + 2 < len(said) else ""
        if particle not in _PARTICLES or verb in STOPWORDS or not verb[0].isalpha():
            continue
        if after[:1].isdigit() or after == "to":  # "profit up 18%", "cost up to £5m"
            continue
        root = stem(verb)
        places = [j for j, s in enumerate(stems) if s == root]
        if places and not any(particle in text[j + 1 : j + 1 + _PARTICLE_REACH]
                              for j in places):
            found.add(f"{verb} {particle}")
    return found


# An answer that says someone said something: the verbs a reader writes for it. (Not
# "state", a noun as often; not "according to", which the model writes of the articles.)
_SAYS = frozenset({"say", "says", "said", "saying", "told", "tells", "stated"})
# What the article wrote their words with: quotation marks, or a reporting verb or noun.
# Stems, so "warned" and "warns" are one; generous, since a wrongly dropped answer costs
# as much as a wrong one kept.
_REPORTED = frozenset(stem(w) for w in (
    "say said told tell state add note emphasize stress warn insist claim argue explain "
    "announce write wrote ask reply respond confirm deny admit acknowledge urge pledge "
    "promise vow predict reveal report describe call suggest believe think thought hope "
    "expect accuse criticize praise declare maintain reiterate reaffirm recall comment "
    "remark quote accord interview statement spokesman spokeswoman spokesperson assert "
    "agree recommend propose demand complain concede conclude estimate tweet testify "
    "mention indicate point dismiss welcome condemn blame thank apologize fear feel felt "
    .split()))
_QUOTATION_MARKS = frozenset('"“”«»')
# Words that, just before a verb of saying, make it the articles' words, not a person's.
_OF_THE_ARTICLES = frozenset({"article", "articles", "passage", "passages", "text", "story",
                              "source", "sources", "it"})


def unreported(claim: str, quote: str) -> bool:
    """Tell whether ``claim`` says someone said something and ``quote`` (with a sentence
    either side) reports nobody's words: "The NATO official said they would look at ways
    to help" quoting "NATO officials held a meeting to discuss ways to help". The support
    score cannot see it: verbs of saying are stopwords."""
    said = words(claim)
    if not any(w in _SAYS and (i == 0 or said[i - 1] not in _OF_THE_ARTICLES)
               for i, w in enumerate(said)):
        return False
    if _QUOTATION_MARKS & set(quote):
        return False
    return not any(stem(w) in _REPORTED for w in words(quote))


def _around(chunk: ChunkLike, spans: list[tuple[int, int, str]], start: int,
            end: int) -> str:
    """The quote ``start:end`` with the passage's sentence before and after it: who said
    it often stands a sentence away ("...a great day." Smith said.)."""
    inside = [i for i, (s, e, _) in enumerate(spans) if s < end and start < e]
    first, last = max(min(inside, default=0) - 1, 0), min(max(inside, default=0) + 1,
                                                          len(spans) - 1)
    return chunk.text[spans[first][0] - chunk.start : spans[last][1] - chunk.start]


# Sport, schools and surveys report both halves side by side ("won the women's race", the
# men's a line later); each word's stem and its other half's.
_HALVES = {"men": "women", "women": "men", "boy": "girl", "girl": "boy",
           "male": "femal", "femal": "male"}


# "How much did profits fall?": a question after the size of a change, not where it ended.
_CHANGE = re.compile(
    r"\bhow (?:much|far|many)\b.*?\b(?:fall|fell|fallen|drop|rise|rose|risen|grow|grew|"
    r"grown|increase|decrease|decline|climb|jump|slump|slide|shrink|shrank|gain|lose|lost)"
    r"\w*\b(?!.*\bto\W*$)", re.IGNORECASE)
_LEVEL = re.compile(rf"\bto\s+(?:about\s+|around\s+)?[$€£¥]?\s?({_NUMBER.pattern})",
                    re.IGNORECASE)


def level_for_change(question: str, answer: str, quote: str) -> bool:
    """Tell whether ``answer`` gives where a change ended where ``question`` asks its size:
    "£84.6m" for how much profit fell, quoting "a 31% fall in profit to £84.6m". The
    quote gives the change too, which the fallback shows."""
    if not _CHANGE.search(question):
        return False
    said = {n.replace(",", "") for n in _NUMBER.findall(MARKER.sub(" ", answer))}
    levels = {m.group(1).replace(",", "") for m in _LEVEL.finditer(quote)}
    others = {n.replace(",", "") for n in _NUMBER.findall(quote)} - levels
    return bool(said) and said <= levels and bool(others)


# Words that make a role another one: the deputy health minister is not the minister.
_QUALIFIERS = frozenset({"deputy", "vice", "assistant", "former", "ex", "shadow"})


def qualified(asked: str, quote: str) -> bool:
    """Tell whether ``asked`` names a role ("the health minister") that ``quote`` gives
    only qualified ("rhona brankin, the deputy health minister"; "former england
    captain"). Two words, so "former porto manager" does not qualify Chelsea's manager."""
    said, told = [w.removesuffix("'s") for w in words(asked)], words(quote)
    for i, qualifier in enumerate(told):
        role = told[i + 1 : i + 3]
        if qualifier not in _QUALIFIERS or len(role) < 2 or role[-1] in STOPWORDS:
            continue
        named = [j for j in range(len(said) - 1) if said[j : j + 2] == role]
        if not named or all(j > 0 and said[j - 1] == qualifier for j in named):
            continue  # not asked, or asked qualified as the quote has it
        if not any(told[j : j + 2] == role and (j == 0 or told[j - 1] not in _QUALIFIERS)
                   for j in range(len(told) - 1)):
            return True
    return False


def other_half(asked: str, quote: str) -> bool:
    """Tell whether ``quote`` is about the other half of what ``asked`` names: the women's
    race for the men's, girls for boys. "women" holds "men", so the check is by word."""
    said, told = set(terms(asked)), set(terms(quote))
    return any(word in said and other not in said and other in told and word not in told
               for word, other in _HALVES.items())


def unmentioned(question: str, article: str | AbstractSet[str]) -> set[str]:
    """The names ``question`` gives (its capitalised words, see ``entities``) that
    ``article`` (its text, or its terms) never uses: an answer drawn from it is likely about
    someone else."""
    return set(entities(question)).difference(
        terms(article) if isinstance(article, str) else article)


def _best_span(own: set[str], spans: list[tuple[int, int, str]],
               sims: np.ndarray) -> tuple[int, int]:
    """Choose the passage sentence (plus a neighbour when it adds cited terms) to quote."""
    span_terms = [set(terms(t)) for _, _, t in spans]

    def value(i: int) -> float:
        hit = len(own & span_terms[i]) / len(own) if own else 0.0
        return hit + float(sims[i])

    best = max(range(len(spans)), key=value)
    start, end = spans[best][0], spans[best][1]
    covered = own & span_terms[best]
    for j in (best + 1, best - 1):
        if MAX_QUOTE_SENTENCES < 2 or not 0 <= j < len(spans):
            continue
        gain = (own & span_terms[j]) - covered
        if len(gain) >= 2:  # the neighbour states part of the claim the best one lacks
            start, end = min(start, spans[j][0]), max(end, spans[j][1])
            break
    return start, end


def claims_from(verdicts: list[Verdict], policy: str) -> list[Claim]:
    """Turn verdicts into claims: drop unsupported sentences, or keep them flagged."""
    claims = []
    for v in verdicts:
        if v.verified:
            claims.append(Claim(v.sentence.text, [s.evidence for s in v.supported]))
        elif policy == "flag":
            claims.append(Claim(v.sentence.text, [s.evidence for s in v.unsupported],
                                verified=False))
    return claims


# -- calibration --------------------------------------------------------------------------


def calibrate(pairs: Iterable[tuple[float, bool]]) -> float:
    """Return the support threshold that best separates supported from unsupported pairs.

    ``pairs`` are ``(score, supported)``; the threshold maximises accuracy, ties broken
    by the widest margin (the midpoint between the neighbouring scores).

    How ``SUPPORT_THRESHOLD`` was calibrated: ``fixture_pairs`` turns every answerable
    fixture question whose answer string appears in a source article into a declarative
    claim ("PURL stands for what?" + "Prioritized Ukraine Requirements List" ->
    "PURL stands for Prioritized Ukraine Requirements List."), then scores three pairs:
    the claim against the passage that states the answer (supported); the claim against
    the best-matching passage of another article that does not state it (unsupported,
    topic-near); and the claim with its answer swapped for another fixture's answer,
    against the true passage (unsupported, a fabricated fact). ``python -m qa.verify``
    runs this with the real embedder and prints the threshold and its accuracy.

    The synthetic claims reuse the question's wording, which the passage often does not;
    a model that writes from the passage scores higher, so the threshold errs on the side
    of dropping a sentence rather than keeping an unsupported one.
    """
    ranked = sorted(pairs)
    if not ranked:
        return SUPPORT_THRESHOLD
    positives = sum(1 for _, ok in ranked if ok)
    best = (-1, -1.0)  # (correct, margin)
    best_cut = ranked[0][0]
    below_pos = below_neg = 0
    for i in range(len(ranked) + 1):
        # Cut between ranked[i-1] and ranked[i]: from i on is called "supported".
        correct = below_neg + (positives - below_pos)
        lo = ranked[i - 1][0] if i else ranked[0][0] - 0.05
        hi = ranked[i][0] if i < len(ranked) else ranked[-1][0] + 0.05
        if hi > lo and (correct, hi - lo) > best:
            best, best_cut = (correct, hi - lo), (lo + hi) / 2
        if i < len(ranked):
            if ranked[i][1]:
                below_pos += 1
            else:
                below_neg += 1
    return round(best_cut, 3)


def accuracy(pairs: list[tuple[float, bool]], threshold: float) -> float:
    return sum((s >= threshold) == ok for s, ok in pairs) / len(pairs) if pairs else 0.0


def fixture_pairs(verifier: Verifier, fixtures: Path, seeds: Path) -> list[tuple[float, bool]]:
    """Score the labelled (claim, passage) pairs described in ``calibrate``."""
    from vectorstore.chunk import chunk_article
    from vectorstore.load import load_paths

    chunks = [c for result in load_paths([seeds]).values() for a in result.articles
              for c in chunk_article(a)]
    items = [json.loads(line) for line in fixtures.read_text().splitlines() if line.strip()]
    examples = []
    for item in items:
        if not item.get("answerable") or not item.get("answers"):
            continue
        answer = item["answers"][0].split("|")[0]
        home = next((c for c in chunks if c.article_id in item.get("sources", [])
                     and answer.lower() in c.text.lower()), None)
        if home is not None:
            examples.append((_declarative(item["question"], answer), answer, home))
    pairs = []
    for i, (claim, answer, home) in enumerate(examples):
        pairs.append((verifier.support(claim, home).score, True))
        own = set(terms(claim))
        others = [c for c in chunks if c.article_id != home.article_id
                  and answer.lower() not in c.text.lower()]
        near = max(others, key=lambda c: len(own & set(terms(c.text))))
        pairs.append((verifier.support(claim, near).score, False))
        swap = next((a for _, a, _ in examples[i + 1:] + examples[:i]
                     if a.lower() not in home.text.lower()), None)
        if swap:
            fake = claim.replace(answer, swap)
            pairs.append((verifier.support(fake, home).score, False))
    return pairs


def _declarative(question: str, answer: str) -> str:
    q = question.strip().rstrip("?").strip()
    q = re.sub(r"^(?:what|which|who|whom|where|when|how many|how much|how long|in which|"
               r"according to \w+,?)\b\s*", "", q, flags=re.IGNORECASE)
    q = re.sub(r"\bwhat\b", answer, q, flags=re.IGNORECASE)
    return f"{q} {answer}." if answer not in q else f"{q}."


if __name__ == "__main__":  # pragma: no cover - a calibration run, not part of the service
    from vectorstore.embed import make_embedder

    root = Path(__file__).resolve().parent.parent
    scored = fixture_pairs(Verifier(SentenceVectors(make_embedder())),
                           root / "tests" / "fixtures" / "seeds.jsonl", root / "seeds")
    cut = calibrate(scored)
    print(f"pairs={len(scored)} threshold={cut} accuracy={accuracy(scored, cut):.3f}")
