"""What kind of answer a question asks for, and whether a sentence can supply it.

Only rules that held on news they were not written for are here (docs/ablation.md): a few
answer types, each a veto on sentences that cannot hold that kind of answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from babel import Locale
from babel.numbers import get_currency_name, get_territory_currencies

from qa.cite import MARKER
from vectorstore.terms import STOPWORDS, stem, terms, words

# The rule families ``python -m bench.ablation`` switches off one at a time (docs/ablation.md);
# the service runs with every family on.
FAMILIES = (
    "type.count", "type.number", "type.money", "type.percent", "type.date", "type.year",
    "type.duration", "type.place", "type.name", "mentions", "story",
)
OFF: set[str] = set()


def on(family: str) -> bool:
    """Tell whether a rule family is switched on (all are, outside the ablation)."""
    return family not in OFF


# "In his 40s" is an age and "prices doubled" how much they rose.
_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,.]*\s?(?:%|percent|per cent|million|billion|trillion|bn|m)?\b|"
    r"\b\d0s\b|\b(?:doubl|tripl|trebl|quadrupl|halv)(?:ed|es|e|ing)\b|"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundreds?|thousands?|millions?|billions?|dozens?|first|second|third|"
    r"fourth|fifth|sixth|seventh|eighth|ninth|tenth|half|quarter)\b",
    re.IGNORECASE,
)
# A year as news writes one: 1800-2099.
_A_YEAR = r"(?:1[89]|20)\d\d"
# What a count cannot be: a year, a sum of money, a share, an ordinal, or a number that
# only modifies a noun ("a 10-year plan" does not say how many troops there are; "a
# 19-strong panel" does say how many sit on it).
_NOT_A_COUNT = re.compile(
    r"\b" + _A_YEAR + r"\b|\b\d0s\b|[$€£¥]\s?\d[\d,.]*(?:\s?(?:m|bn|million|billion|trillion)\b)?|"
    r"\d[\d,.]*\s?(?:%|percent|per cent)|\b(?:\d+|one|two|three|four|five|six|seven|eight|"
    r"nine|ten)-(?!strong\b)\w+|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"half|quarter)\b",
    re.IGNORECASE,
)
# A share is written as a fraction as often: "half the vote", "two-thirds", "three in five".
_PERCENT = re.compile(r"\d\s?(?:%|percent|per cent)|\bhalf\b|\b(?:a|one|two)[- ]thirds?\b|"
                      r"\b(?:a|one|three)[- ]quarters?\b|\b(?:\d+|one|two|three|four|five|six|"
                      r"seven|eight|nine) (?:in|out of) (?:\d+|two|three|four|five|six|seven|"
                      r"eight|nine|ten)\b(?! (?:seconds?|minutes?|hours?|days?|weeks?|months?|"
                      r"years?|games?|matches)\b)", re.IGNORECASE)


def _currencies() -> tuple[str, str, str, str]:
    """Every currency in use today, from the CLDR data ``babel`` ships: its symbols, the
    words for its unit ("francs", "kronor", "rupees"), its ISO codes, and the words its name
    puts before the unit ("swiss", "hong kong"), for text whose capitals were lost."""
    en = Locale("en")
    codes = {code for territory in en.territories
             for code in get_territory_currencies(territory, tender=True)}
    names = {get_currency_name(code, count, locale=en).lower()
             for code in codes for count in (1, 2)}
    units = {name.split()[-1] for name in names}
    # Sub-units, the British spelling, and minus units whose everyday sense is not money
    # ("two gold medals", "the 1,000 mark").
    units = {u for u in units if u.isalpha()} | {"pence", "cent", "cents", "rouble", "roubles"}
    units -= {"gold", "mark", "marks"}
    symbols = "".join(c for c in map(chr, range(0x10000)) if unicodedata.category(c) == "Sc")
    qualifiers = {word for name in names if name.split()[-1] in units
                  for word in name.split()[:-1]}
    # Longest first, so an alternation never stops at a shorter word's prefix of a longer one.
    return (re.escape(symbols), "|".join(sorted(units, key=_longest_first)),
            "|".join(sorted(codes)),
            "|".join(map(re.escape, sorted(qualifiers, key=_longest_first))))


def _longest_first(word: str) -> tuple[int, str]:
    return -len(word), word


_SYMBOLS, _UNITS, _CODES, _QUALIFIERS = _currencies()
# Money needs a currency: "8 million drones" is a count, "$8 million" is money, and so are
# "2 billion Swiss francs" (or "swiss francs" in lower-cased text, but not "5 players
# won"), "CHF 40m" and "₹500 crore". Codes count only in capitals: "ALL" is the Albanian
# lek, "all" is a word.
_MONEY = re.compile(
    rf"[{_SYMBOLS}]\s?\d|\d[\d,.]*\s?(?:m|bn|million|billion|trillion)?\s?"
    rf"(?:(?-i:(?:[A-Z][a-z]+\s){{0,2}})|(?:(?:{_QUALIFIERS})\s){{1,3}})(?:{_UNITS})\b|"
    rf"\b\d+p\b|(?-i:\b(?:{_CODES})\s?\d|\d[\d,.]*\s?(?:m|bn|million|billion)?\s?(?:{_CODES})\b)|"
    r"\b(?:usd|eur|gbp)\s?\d",
    re.IGNORECASE,
)
# "For the next decade" is how long, not when; "last night", "next season" and "two weeks
# ago" are when.
_DATE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|tonight|(?<!for the )(?<!for )(?:next|last|this|coming) (?:week|weekend|month|"
    r"year|decade|season|spring|summer|autumn|winter|morning|afternoon|evening|night)|"
    + _A_YEAR + r"(?:s|’s|'s)?|(?:days?|weeks?|months?|years?|decades?) ago|new year|"
    # "At the weekend", "in the spring", "at the end of the month", "later in the week".
    r"(?:at|over|in|during|on) the (?:weekend|spring|summer|autumn|winter|(?:end|start|"
    r"beginning|middle) of the (?:week|month|year|season))|(?:later|earlier) in the "
    r"(?:week|month|year|season)|"
    # The hour and the match's minute: "at 09:42 GMT", "at 10pm", "in the 88th minute".
    r"\d{1,2}:\d\d|\d{1,2}\s?(?:am|pm)|midnight|noon|\d+(?:st|nd|rd|th)[- ]minute|"
    r"half[- ]time|(?:first|second) half|extra[- ]time|stoppage[- ]time|injury[- ]time)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(rf"\b{_A_YEAR}\b")
# "A 38-minute engine burn" and "an hour" say how long as well as "two months" does.
_DURATION = re.compile(
    r"\b(?:\d[\d,.]*|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|several|few)[- ](?:second|minute|hour|day|week|month|"
    r"year|decade|centur(?:y|ie))s?\b|\bdecade\b|\bfortnights?\b|\buntil\b|\bfor as long\b|"
    # "He was mayor from 2010 to 2018."
    rf"\b(?:from|between) {_A_YEAR} (?:to|until|and) {_A_YEAR}\b",
    re.IGNORECASE,
)
_PATTERNS = {"percent": _PERCENT, "money": _MONEY, "year": _YEAR, "date": _DATE,
             "duration": _DURATION, "number": _NUMBER}
# A capital letter of any alphabet up to Cyrillic: names start with "Ø", "Ł" and "É" too.
CAPITAL = "[" + re.escape("".join(c for c in map(chr, range(0x530)) if c.isupper())) + "]"
_NAME = re.compile(rf"\b{CAPITAL}[\w’'-]+")
# "In Leeds", "at Millfield Park", "in eastern Ukraine", "in the market town of Llanrwst",
# "near the border with Syria", "Denver-based Kestan" and "the Glasgow-born singer".
_PLACE = re.compile(
    r"\b(?:in|at|to|from|near|across|outside|inside|via|toward|towards)\s+(?:[Tt]he\s+)?"
    r"(?:(?:(?:north|south)[- ]?(?:east|west)|north|south|east|west)(?:ern)?\s+|"
    r"(?:central|rural|coastal|downtown|inner)\s+|(?:[a-z-]+\s+){0,2}(?:town|city|village|"
    r"region|province|state|county|district|island|port|suburbs?|borough|capital|republic|"
    r"kingdom|territory|municipality|neighbou?rhood|outskirts|heart|centre|center|edge|coast|"
    r"border|north|south|east|west)\s+(?:of|with)\s+)?"
    rf"({CAPITAL}[\w’']+(?:-(?!(?:based|born)\b)[\w’']+)*)|\b({CAPITAL}[\w’'-]*?)-(?:based|born)\b"
)
# Capitalised, but never the name asked for.
_NOT_NAMES = frozenset(stem(w) for w in (
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december western eastern northern southern "
    "west east north south").split())
_PERSON_NOUNS = (
    r"(?:official|minister|president|premier|pm|spokes\w+|chief|head|leader|secretary|general|"
    r"author|writer|reporter|journalist|editor|photographer|person|man|woman|ambassador|"
    r"commander|envoy|chair\w*|director|ceo|founder)s?"
)

# "Who is Gareth Pritchard?" asks what he is ("the council's leader"), not for a name. Only
# capitals tell it from "who is responsible?" (a question typed in lower case has the
# articles' capitals by now: ``qa.truecase``).
_DESCRIBED = re.compile(
    r"^(?i:and\s+)?(?i:who)(?:['’]s|\s+(?i:is|was|are|were))\s+(?P<who>(?i:he|she|they)|"
    rf"{CAPITAL}[\w’'.-]*(?:\s+(?:(?:al|bin|da|de|del|der|di|la|le|van|von)\s+)?"
    rf"{CAPITAL}[\w’'.-]*)*)\s*\??$"
)
# ...but "Who is Lumen's CEO?" and "Who is Prime Minister?" ask for a name.
_ROLE = re.compile(rf"['’]s\b|\b{_PERSON_NOUNS}\b|\b(?:boss|coach|manager|captain|governor|"
                   r"mayor|king|queen)s?\b", re.IGNORECASE)
_RULES: list[tuple[str, str]] = [
    (r"\bwhat (?:percentage|percent|proportion|share|slice|fraction)\b|\bwhat % ", "percent"),
    (r"\bhow many\b", "count"),
    (r"\bhow much\b.*\b(?:money|cost|worth|spend|spent|invest|pay|paying|fund|budget|aid)\b|"
     r"\bhow much (?:money|cash|funding)\b|\bdollar value\b|\bhow much is\b.*\bworth\b", "money"),
    # An age is any number: "the 24-year-old striker", "Scott, 71, died".
    (r"\bhow much\b|\bhow old\b", "number"),
    # The sum must be what is asked: "what was the vote on the budget?" asks for the vote.
    (r"\bwhat(?:'s| is| was| are| were) (?:(?!(?:on|of|for|in|about|over|after) )[\w.'’-]+ ){0,3}"
     r"(?:budget|cost|price|worth|value|salary|revenue|turnover)\b", "money"),
    (r"\bpopulation\b|\bhow (?:big|large|tall|far)\b", "count"),
    (r"\bhow long\b", "duration"),
    (r"\b(?:what|which) year\b|\bin what year\b", "year"),
    (r"^(?:and )?when\b|\bwhen(?:'s| is| was| did| will| does)\b|\b(?:what|which) "
     r"(?:date|day|month|time)\b|\bon what date\b", "date"),
    (r"^(?:and )?where\b|\b(?:what|which) (?:city|country|town|capital|place|venue)\b|"
     r"\bin what (?:city|country|town)\b", "place"),
    # A person, a company or a paper is asked for by its name.
    (r"\b(?:what|which)(?:'s| is| was)? (?:the )?name of (?:the |that |this )?(?:\w+ ){0,3}"
     + _PERSON_NOUNS + r"\b|\bwhich (?:[\w-]+ ){0,2}" + _PERSON_NOUNS + r"\b", "name"),
    (r"\b(?:what|which) (?:[\w-]+ ){0,2}(?:compan(?:y|ies)|firms?|manufacturers?|"
     r"newspapers?|outlets?|organi[sz]ations?)\b", "name"),
    (r"^(?:and )?who\b|\bwhose\b|\bwhat(?:'s| is) (?:his|her|their|the) name\b|^name\b|"
     r"\bwhich (?:newspaper|outlet|company|firm|organisation|organization|person|official)\b",
     "name"),
]


def implied(question: str) -> str:
    """Words an answer may add that the question implies: news gives an age as "Brooks,
    19, ..." or "the 19-year-old", and "19 years old" answers how old she is."""
    return "years old aged" if re.search(r"\bhow old\b", question, re.IGNORECASE) else ""


_WH_WORDS = frozenset("how what which who whom whose where when why is are does do did can "
                      "name compare".split())
# Capitalised abbreviations of roles, not names an article must contain.
_ROLE_ABBREVIATIONS = frozenset({"pm", "mp"})


def entities(question: str) -> list[str]:
    """Return the stems of the names the question mentions (capitalised words past the first).

    A question typed in lower case names none that can be told apart from other words."""
    found = []
    for m in re.finditer(rf"\b{CAPITAL}[\w’'-]*", question):
        word = m.group().lower().replace("’", "'").removesuffix("'s")
        if m.start() == 0 or word in STOPWORDS or word in _WH_WORDS or (
                word in _ROLE_ABBREVIATIONS):
            continue
        found += terms(word)  # "Swedish" is Sweden, as in the index
    return list(dict.fromkeys(found))


def answer_type(question: str) -> str | None:
    """The kind of answer asked for: count, number, percent, money, date, year, duration,
    name, place, or None when any sentence may answer."""
    described = _DESCRIBED.match(question.strip())
    if described and not _ROLE.search(described.group("who")):
        return None
    q = question.strip().lower()
    for pattern, kind in _RULES:
        if on(f"type.{kind}") and re.search(pattern, q):
            return kind
    return None


def supplies(kind: str | None, sentence: str, question: str = "", known: str = "") -> int:
    """Tell whether ``sentence`` can hold what the question asks for: 0 it cannot, 1 it can.

    ``known`` is context the conversation already gave (its names are not the answer either).
    """
    if kind is None:
        return 1
    if kind in _PATTERNS:
        return int(bool(_PATTERNS[kind].search(sentence)))
    if kind == "count":
        # "Scored twice" or "a hat-trick" says how many goals, though it is no age or sum.
        return int(bool(_NUMBER.search(_NOT_A_COUNT.sub(" ", sentence))
                        or re.search(r"\b(?:twice|thrice|hat-?tricks?|a brace)\b", sentence,
                                     re.IGNORECASE)))
    if sentence == sentence.lower():
        # Names and places are told by their capitals; lower-cased text hides them, so the
        # rule cannot veto a sentence it cannot read.
        return 1
    asked = {stem(w) for w in words(f"{question} {known}")} | set(terms(f"{question} {known}"))
    if kind == "place":
        places = (m.group(1) or m.group(2) for m in _PLACE.finditer(sentence))
        return int(any(stem(p.lower()) not in asked for p in places))
    # A name the question does not give. A capital at the very start marks the sentence, but
    # a name starts one as often ("Rutte met Zelensky in Kyiv"): only a common opening word
    # ("The", "But") is no name.
    names = {t for m in _NAME.finditer(sentence)
             if m.start() > 2 or m.group().lower() not in STOPWORDS | _WH_WORDS
             for part in m.group().split("-") if part[:1].isupper() for t in terms(part)}
    return int(bool(names - asked - _NOT_NAMES))


# Nouns any count may stand for: "12 civilians" answers how many people died.
_ANY_COUNTED = frozenset(stem(w) for w in ("people", "persons", "times"))
# Nouns that count whatever is sold or made: "120,000 units" answers how many laptops.
_ANY_GOODS = frozenset(stem(w) for w in ("units", "copies"))


def _counted(question: str) -> set[str]:
    """The stems of X in "how many X" (none when X is people or times, which any count
    answers)."""
    asked = re.search(r"\bhow many ((?:[\w'-]+\s+){0,3}[\w'-]+)", question.lower())
    if not asked:
        return set()
    counted = {stem(w) for w in words(asked.group(1))
               if w not in STOPWORDS and not w[0].isdigit()}
    return set() if counted & _ANY_COUNTED else counted


def _counts(text: str) -> Iterator[tuple[re.Match, list[str]]]:
    """Each count in ``text`` (not a share, sum, year or ordinal) and the word after it."""
    # Blanked, not removed: the counts' offsets must still be the text's.
    blanked = _NOT_A_COUNT.sub(lambda m: " " * len(m.group()), text)
    for count in _NUMBER.finditer(blanked):
        yield count, words(text[count.end():])[:1]


def counts_other(question: str, answer: str) -> bool:
    """Tell whether ``answer`` counts only something other than what "how many X" asks
    ("70 projects" for how many tanks, "163 MPs" for how many seats); a bare count or a
    count of X answers it, and so does anything when X is people or times."""
    counted = _counted(question)
    if not counted:
        return False
    found = False
    for _, after in _counts(MARKER.sub(" ", answer.lower())):
        if not after or after[0] in STOPWORDS or after[0][0].isdigit() or (
                stem(after[0]) in counted | _ANY_GOODS):
            return False
        found = True
    return found


def other_kind(question: str, answer: str) -> bool:
    """Tell whether ``answer`` holds no answer of the kind "how many" or "what share" asks
    for: "35 seats" for what share of the vote, "34.2%" or "$50 billion" for how many votes.
    True to its sentence, it answers another question than the one asked."""
    kind = answer_type(question)
    text = MARKER.sub(" ", answer)
    if kind == "percent":
        return not supplies(kind, text)
    return kind == "count" and bool(re.search(r"\bhow many\b", question, re.IGNORECASE)) and (
        not supplies(kind, text))


_SHARE_OR_SUM = re.compile(r"[$€£¥]\s?\d|\d[\d,.]*\s?(?:%|percent\b|per cent\b)")


def share_for_count(question: str, answer: str, quote: str) -> bool:
    """Tell whether ``answer`` gives only a share or a sum where "how many X" asks for a
    count that ``quote`` states ("27.8%" for how many seats, quoting "came second with
    27.8 per cent and 33 seats"): the count was there to give."""
    counted = _counted(question)
    text = MARKER.sub(" ", answer.lower())
    if not counted or not _SHARE_OR_SUM.search(text) or next(_counts(text), None):
        return False
    return any(after and stem(after[0]) in counted for _, after in _counts(quote.lower()))
