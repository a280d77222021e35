"""What kind of answer a question asks for, and whether a sentence can supply it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vectorstore.terms import COUNTRY_TERMS, STOPWORDS, countries, stem, terms, words

# The rule families ``python -m bench.ablation`` switches off one at a time (docs/ablation.md);
# the service runs with every family on.
FAMILIES = (
    "type.count", "type.number", "type.money", "type.percent", "type.date", "type.year",
    "type.duration", "type.place", "type.country", "type.person", "type.name", "type.org",
    "count-noun", "credit", "roles", "countries", "lookahead", "report-date", "other-event",
    "when", "given", "kinds", "mentions",
)
OFF: set[str] = set()


def on(family: str) -> bool:
    """Tell whether a rule family is switched on (all are, outside the ablation)."""
    return family not in OFF

_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,.]*\s?(?:%|percent|per cent|million|billion|trillion|bn|m)?\b|"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozens?|first|second|third|fourth|fifth|"
    r"sixth|seventh|eighth|ninth|tenth|half|quarter)\b",
    re.IGNORECASE,
)
# What a count cannot be: a year, a sum of money, a share, an ordinal, or a number that
# only modifies a noun ("a 10-year plan" does not say how many troops there are).
_NOT_A_COUNT = re.compile(
    r"\b(?:1[89]|20)\d\d\b|[$€£¥]\s?\d[\d,.]*(?:\s?(?:m|bn|million|billion|trillion)\b)?|"
    r"\d[\d,.]*\s?(?:%|percent|per cent)|\b(?:\d+|one|two|three|four|five|six|seven|eight|"
    r"nine|ten)-\w+|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"half|quarter)\b",
    re.IGNORECASE,
)
# "Politico reported on Wednesday" dates the report, not the event asked about.
_REPORT_DATE = re.compile(
    r"\b(?:reported|reports|said|says|told|wrote|writes)\b[^.;]{0,30}?\bon "
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
# Capitalised, but never the name asked for.
_NOT_NAMES = frozenset(stem(w) for w in (
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december western eastern northern southern "
    "west east north south").split())
# "When will Ukraine join?" is not answered by a meeting held "this month": a date still to
# come needs a sentence that looks ahead.
_ASKS_AHEAD = re.compile(
    r"\bwhen (?:will|would|shall)\b|\b(?:supposed|due|expected|scheduled|set|going|planned) "
    r"to (?:begin|start|happen|take place|open|end|finish|close|launch|come)\b")
# "Which country hosts the next summit?" is not answered by the one that was held.
_ASKS_NEXT = re.compile(r"\b(?:the|its|their) next\b|\bafter the one\b|\bupcoming\b")
_ASKS_WEEKDAY = re.compile(r"\bday of the week\b")
# "What day did Politico publish its story?" is answered by the day it reported.
_ABOUT_A_REPORT = frozenset(stem(w) for w in "report story article publish put wrote".split())
# "Who was secretary general before Rutte?" is not answered by a sentence naming Rutte.
_ASKS_ORDER = re.compile(
    r"\b(?:before|after) [A-Z]|\b(?:predecessor|successor|preceded|succeeded)\b")
_SAYS = {
    "ahead": re.compile(
        r"\b(?:will|shall|to be|next|coming|upcoming|due|expected|scheduled|planned|plans?|"
        r"set to|intends?|from (?:19|20)\d\d|by (?:the end of )?(?:19|20)\d\d|starting|"
        r"beginning|later this)\b", re.IGNORECASE),
    "weekday": re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
                          re.IGNORECASE),
    "order": re.compile(
        r"\b(?:before|after|preceded|succeeded|predecessor|successor|former|previous|"
        r"previously|replaced|replacing|took over|succeed)\b", re.IGNORECASE),
}
_PERSON_NOUNS = (
    r"(?:official|minister|president|premier|pm|spokes\w+|chief|head|leader|secretary|general|"
    r"author|writer|reporter|journalist|editor|photographer|person|man|woman|ambassador|"
    r"commander|envoy|chair\w*|director|ceo|founder)s?"
)
_PERCENT = re.compile(r"\d\s?(?:%|percent|per cent)", re.IGNORECASE)
# Money needs a currency: "8 million drones" is a count, "$8 million" is money.
_MONEY = re.compile(
    r"[$€£¥]\s?\d|\d[\d,.]*\s?(?:m|bn|million|billion|trillion)?\s?"
    r"(?:dollars|euros|pounds|yen|roubles|rubles|hryvnias?)\b|\b(?:usd|eur|gbp)\s?\d",
    re.IGNORECASE,
)
# Time qualifiers in a question that an answer must share ("produced last year").
_WHEN = re.compile(
    r"\b(?:(?:last|this|next|previous|coming|each|every|per|a) (?:year|month|week|decade|season)|"
    r"annually|yesterday|today|tomorrow|so far|(?:in|since|during) (?:1[89]|20)\d\d)\b",
    re.IGNORECASE,
)
_PERIODIC = {"each", "every", "per", "a", "annually"}
# "This week, Zelensky said ..." times the saying, not the thing said.
_SAID_WHEN = re.compile(
    r"^\W*(?:this|last) (?:week|month)\b(?=[^.;]{0,80}\b(?:said|says|told|wrote|reported|"
    r"announced)\b)",
    re.IGNORECASE,
)
# "For the next decade" is how long, not when.
_DATE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|tonight|(?<!for the )(?<!for )(?:next|last|this|coming) (?:week|month|year|"
    r"decade|spring|summer|autumn|winter)|(?:1[89]|20)\d\d)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ](?:year|month|week|day|"
    r"decade)s?\b|\bdecade\b|\buntil\b|\bfor as long\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w’'-]+")
_PLACE = re.compile(
    r"\b(?:in|at|to|from|near|across|outside|inside|via|toward|towards)\s+(?:[Tt]he\s+)?"
    r"([A-Z][\w’'-]+)"
)


@dataclass(frozen=True)
class Role:
    """A role asked about, stemmed: "the Italian finance minister" is (minist, financ, itali)."""

    noun: str
    modifier: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class AnswerType:
    kind: str | None  # count, number, percent, money, date, year, duration, name, person, org,
    # place, country, author, photographer or None
    counted: str | None = None  # the noun after "how many", stemmed
    when: tuple[str, ...] = ()  # time qualifiers the answer must share
    # What the answer must also say: "ahead" for a date still to come ("when will ..."),
    # "order" for someone before or after a named person ("who was ... before Rutte").
    needs: str | None = None
    # "What kinds of sanctions": the noun an answer naming kinds of it must contain.
    noun: str | None = None
    # "Who is the finance minister": the roles (any one) an answer's person must hold.
    roles: tuple[Role, ...] = ()
    # "When did they meet": the event words a date must be attached to.
    event: frozenset[str] = frozenset()
    # For a figure: the countries the question asks about, and the numbers it gives itself.
    countries: frozenset[str] = frozenset()
    given: frozenset[str] = frozenset()


# "Which kinds of weapons" asks for kinds of one noun.
_KINDS_OF = re.compile(r"\b(?:kinds?|types?|sorts?) of ((?:[\w'’-]+ ?)+)")
# "Who is the finance minister" is answered by a sentence naming a finance minister, not
# any minister; "the Italian PM" by one naming a prime minister, not just Italy.
_ROLE = re.compile(
    r"\b(?:([a-z][\w'’-]*) )?(minister|secretary|chancellor|ambassador|commander|envoy|"
    r"governor|president|premier|spokes(?:man|woman|person)|pm)\b",
    re.IGNORECASE,
)
# Abbreviated roles: capitalised, but not names.
_ROLE_ABBREVIATIONS = {"pm": ("prime", "minist"), "mp": ("member", "parliament")}
# Words of a "when" question that time the event rather than name it.
_TIMING = frozenset(stem(w) for w in (
    "when date day week month year time begin start happen take place held hold due "
    "supposed expected scheduled set going officially last next upcoming coming").split())

# Occasions a sentence may date instead of the event asked about.
_OCCASIONS = frozenset(stem(w)[:5] for w in (
    "meeting summit session talks conference visit vote election ceremony hearing trial "
    "match launch").split())


def _noun_phrase_head(phrase: str) -> str | None:
    """The last word before a stop word or auxiliary ("Russian missile attacks were" -> attack)."""
    head = []
    for word in words(phrase):
        if word in STOPWORDS or word in _AUXILIARIES:
            break
        head.append(word)
    return stem(head[-1]) if head else None


def _roles(question: str) -> tuple[Role, ...]:
    """Return the roles asked about: "the finance minister", "the Italian PM"."""
    return tuple(_role(question, m) for m in _ROLE.finditer(question))


def _role(question: str, m: re.Match) -> Role:
    """Read one role match: its noun, its modifier word, and the country it belongs to."""
    # The country stands just before ("the Italian PM") or after ("minister of Norway").
    after = re.match(r"\s+(?:of|in|for) ((?:the )?\S+)", question[m.end():])
    country = min(countries(" ".join(question[: m.start(2)].split()[-2:]))
                  or countries(after.group(1) if after else ""), default=None)
    noun = m.group(2).lower()
    if noun in _ROLE_ABBREVIATIONS:
        modifier, noun_stem = _ROLE_ABBREVIATIONS[noun]
        return Role(noun_stem, modifier, country)
    word = m.group(1) or ""
    modifier = terms(word)
    # "NATO secretary general": an acronym or a capitalised word before a lower-case role
    # is a name, which the article check already asks for.
    named = word.isupper() or (word[:1].isupper() and m.group(2)[:1].islower())
    if not modifier or named or modifier[0] in COUNTRY_TERMS or modifier[0] in _WH_STEMS:
        return Role(stem(noun), None, country)
    return Role(stem(noun), modifier[0], country)


def _event_words(question: str) -> frozenset[str]:
    """Stems of a "when" question's words that name the event, not its timing or names."""
    names = set(entities(question))
    return frozenset(t for t in terms(question)
                     if t not in names and t not in _TIMING and t not in _WH_STEMS
                     and not t[:1].isdigit())


def _counted_noun(question: str) -> str | None:
    """Return the head noun after "how many" ("Ukrainian specialists" -> "specialist")."""
    after = re.search(r"\bhow many ((?:[\w'’-]+ ?)+)", question)
    return _noun_phrase_head(after.group(1)) if after else None


_AUXILIARIES = frozenset("could can will would should shall may might must".split())


# Who wrote a story or took its photo is said once, on a credit line, not in the story.
CREDIT_KINDS = frozenset({"author", "photographer"})
_CREDIT_LINE = {
    "author": re.compile(r"^(?:author|by|written by|reporting by|words by)\s*[:\-–]?\s*[A-Z]",
                         re.IGNORECASE),
    "photographer": re.compile(
        r"^(?:(?:image|photo|picture|photograph)s?\s*(?:credits?|by)?|credits?)\s*[:\-–]",
        re.IGNORECASE),
}

_RULES: list[tuple[str, str]] = [
    (r"\bwho (?:wrote|authored|penned)\b|\bwho is the (?:author|writer)\b|"
     r"\b(?:author|writer) of (?:the|this|that) (?:piece|article|story|report)\b", "author"),
    (r"\bwho (?:took|shot)\b.*\b(?:photos?|photographs?|pictures?|images?)\b|"
     r"\b(?:photo|image|picture) credits?\b|\bwhose (?:photo|picture|image)\b", "photographer"),
    (r"\bwhat (?:percentage|percent|proportion|share|slice|fraction)\b|\bwhat % ", "percent"),
    (r"\bhow many\b", "count"),
    (r"\bhow much\b.*\b(?:money|cost|worth|spend|spent|invest|pay|paying|fund|budget|aid)\b|"
     r"\bhow much (?:money|cash|funding)\b|\bdollar value\b|\bhow much is\b.*\bworth\b", "money"),
    (r"\bhow much\b", "number"),
    (r"\bwhat(?:'s| is| was| are| were)\b.*\b(?:budget|cost|price|worth|value|salary|"
     r"revenue|turnover)\b", "money"),
    (r"\bpopulation\b|\bhow (?:big|large|old|tall|far)\b", "count"),
    (r"\bhow long\b", "duration"),
    (r"\b(?:what|which) year\b|\bin what year\b", "year"),
    (r"^(?:and )?when\b|\bwhen(?:'s| is| was| did| will| does)\b|\b(?:what|which) "
     r"(?:date|day|month|time)\b|\bon what date\b", "date"),
    (r"\b(?:what|which|in what|in which) (?:country|nation)\b", "country"),
    (r"\b(?:what|which)(?:'s| is| was)? (?:the )?name of (?:the |that |this )?(?:\w+ ){0,3}"
     + _PERSON_NOUNS + r"\b|\bwhich (?:[\w-]+ ){0,2}" + _PERSON_NOUNS + r"\b", "person"),
    # Companies and papers have names, and a country is not one.
    (r"\b(?:what|which) (?:[\w-]+ ){0,2}(?:compan(?:y|ies)|firms?|manufacturers?|"
     r"newspapers?|outlets?|organi[sz]ations?)\b", "org"),
    (r"^(?:and )?where\b|\b(?:what|which) (?:city|country|town|capital|place|venue)\b|"
     r"\bin what (?:city|country|town)\b", "place"),
    (r"^(?:and )?who\b|\bwhose\b|\bwhat(?:'s| is) (?:his|her|their|the) name\b|^name\b|"
     r"\bwhich (?:newspaper|outlet|company|firm|organisation|organization|person|official)\b",
     "name"),
]


_WH_WORDS = frozenset("how what which who whom whose where when why is are does do did can "
                      "name compare".split())
_WH_STEMS = frozenset(stem(w) for w in _WH_WORDS)


def entities(question: str) -> list[str]:
    """Return the stems of the names the question mentions (capitalised words past the first)."""
    found = []
    for m in re.finditer(r"\b[A-Z][\w’'-]*", question):
        word = m.group().lower().replace("’", "'").removesuffix("'s")
        if m.start() == 0 or word in STOPWORDS or word in _WH_WORDS or (
                word in _ROLE_ABBREVIATIONS):
            continue
        found += terms(word)  # "Swedish" is Sweden, as in the index
    return list(dict.fromkeys(found))


def answer_type(question: str) -> AnswerType:
    q = question.strip().lower()
    when = tuple(m.lower() for m in _WHEN.findall(q)) if on("when") else ()
    for pattern, kind in _RULES:
        if not on("credit" if kind in CREDIT_KINDS else f"type.{kind}"):
            continue
        if re.search(pattern, q):
            counted = _counted_noun(q) if kind == "count" and on("count-noun") else None
            needs, roles, event = None, (), frozenset()
            lookahead = on("lookahead")
            if kind in ("date", "year"):
                event = _event_words(question)
                if kind == "date" and _ASKS_WEEKDAY.search(q) and lookahead:
                    needs = "weekday"
                elif kind == "date" and _ASKS_AHEAD.search(q) and lookahead:
                    needs = "ahead"
            elif kind in ("name", "person"):
                roles = _roles(question) if on("roles") else ()
                if _ASKS_ORDER.search(question) and lookahead:
                    needs = "order"
            if needs is None and kind in _OCCASION_KINDS and _ASKS_NEXT.search(q) and lookahead:
                needs = "ahead"
            asked_countries, given = frozenset(), frozenset()
            if kind in _QUANTITIES:
                if on("countries"):
                    asked_countries = frozenset(countries(question))
                if on("given"):
                    given = frozenset(n.replace(",", "") for n in _DIGITS.findall(question))
            return AnswerType(kind, counted, when, needs, roles=roles, event=event,
                              countries=asked_countries, given=given)
    kinds_of = _KINDS_OF.search(q) if on("kinds") else None
    noun = _noun_phrase_head(kinds_of.group(1)) if kinds_of else None
    return AnswerType(None, None, when, noun=noun)


def supplies(kind: AnswerType, sentence: str, question: str = "", known: str = "") -> int:
    """Rate how well ``sentence`` holds what the question asks for; ``known`` is context
    the conversation already gave (its names are not the answer either).

    0: it lacks it; 1: it has it; 2: it has a number right before the counted noun, or
    names the noun of "what kinds of ...".
    """
    if kind.when and _other_time(kind.when, _SAID_WHEN.sub(" ", sentence)):
        return 0
    if kind.needs and not _SAYS[kind.needs].search(sentence):
        return 0
    if kind.noun:  # the answerer prefers these when any retrieved sentence has the noun
        return 2 if kind.noun in terms(sentence) else 1
    if kind.roles and not any(_holds_role(role, sentence) for role in kind.roles):
        return 0
    if kind.event and on("other-event") and _times_another_event(kind.event, terms(sentence)):
        return 0
    k = kind.kind
    patterns = {"percent": _PERCENT, "money": _MONEY, "year": _YEAR, "date": _DATE,
                "duration": _DURATION}
    if k is None:
        return 1
    if k in CREDIT_KINDS:
        return 2 if _CREDIT_LINE[k].match(sentence) else 0
    if k in _QUANTITIES:
        if _about_another_country(kind.countries, sentence):
            return 0
        sentence = _without_given_numbers(kind.given, sentence)
    if k == "date" and on("report-date") and not kind.event & _ABOUT_A_REPORT:
        sentence = _REPORT_DATE.sub(" ", sentence)
    if k in patterns:
        return int(bool(patterns[k].search(sentence)))
    if k == "number":
        return int(bool(_NUMBER.search(sentence)))
    if k == "count":
        return _counts(kind.counted, sentence)
    asked = {stem(w) for w in words(f"{question} {known}")} | set(terms(f"{question} {known}"))
    if k == "place":
        places = (m.group(1) for m in _PLACE.finditer(sentence))
        return int(any(stem(p.lower()) not in asked for p in places))
    if k == "country":
        return int(bool((set(terms(sentence)) & COUNTRY_TERMS) - asked))
    if k in ("name", "person", "org"):
        # A capital at the very start only marks the sentence, not a name.
        names = {t for m in _NAME.finditer(sentence) if m.start() > 2
                 for part in m.group().split("-") if part[:1].isupper() for t in terms(part)}
        names -= asked | _NOT_NAMES
        if k != "name" and on("countries"):  # a country is not the person or company asked
            names -= COUNTRY_TERMS
        return int(bool(names))
    return 1


_QUANTITIES = frozenset({"count", "number", "percent", "money"})
# Kinds of answer that can be about the next occasion ("where is the next summit?").
_OCCASION_KINDS = frozenset({"date", "year", "place", "country", "name", "person", "org"})
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")


def _about_another_country(asked: frozenset[str], sentence: str) -> bool:
    """Tell whether a figure is about other countries than the ones asked about: the
    sentence names countries, but not every one the question names ("the US gave $15bn"
    for Germany's aid). A sentence naming none ("his country needs ...") may still answer."""
    if not asked:
        return False
    said = countries(sentence)
    return bool(said) and bool(asked - said)


def _without_given_numbers(given: frozenset[str], sentence: str) -> str:
    """Blank out the numbers the question itself gives: "how much of the $50bn" is not
    answered by a sentence whose only figure is that $50bn."""
    if not given:
        return sentence
    return _DIGITS.sub(lambda m: " " if m.group().replace(",", "") in given else m.group(),
                       sentence)


def _holds_role(role: Role, sentence: str) -> bool:
    """Tell whether the sentence names the role (within two words of its modifier, if it
    has one), and not only for other countries than the role's."""
    said = countries(sentence) if on("countries") else set()
    if role.country and said and role.country not in said:
        return False
    spelled = []
    for s in terms(sentence):
        spelled += _ROLE_ABBREVIATIONS.get(s, (s,))
    return any(s == role.noun and (role.modifier is None
                                   or role.modifier in spelled[max(0, i - 2) : i + 3])
               for i, s in enumerate(spelled))


def _times_another_event(asked: frozenset[str], stems: list[str]) -> bool:
    """Tell whether the sentence dates some other occasion ("the first meeting is next week"
    for "when does the spending begin"): it names one the question does not, and none of
    the question's event words."""
    said = _prefixes(stems)
    return not _prefixes(asked) & said and bool(said & _OCCASIONS - _prefixes(asked))


def _prefixes(stems) -> set[str]:
    """Stems cut to five letters: "member" meets "membership", a typo's tail is forgiven."""
    return {s[:5] for s in stems}


def _other_time(asked: tuple[str, ...], sentence: str) -> bool:
    """Tell whether the sentence speaks of another time ("each year" for "last year")."""
    said = {_time_key(m) for m in _WHEN.findall(sentence)}
    return bool(said) and not said & {_time_key(a) for a in asked}


def _time_key(phrase: str) -> str:
    """Key a time phrase: "each year" and "annually" are one time, "per month" another."""
    words_ = phrase.lower().split()
    if words_ == ["annually"]:
        return "periodic year"
    return f"periodic {words_[-1]}" if words_[0] in _PERIODIC else phrase.lower()


def _counts(noun: str | None, sentence: str) -> int:
    """A number must stand shortly before the counted noun when the sentence names it."""
    tokens = words(sentence)
    stems = [stem(t) for t in tokens]
    if noun and noun in stems:
        for i, s in enumerate(stems):
            if s == noun and any(_NUMBER.fullmatch(t) for t in tokens[max(0, i - 6) : i]):
                return 2
        return 0
    return int(bool(_NUMBER.search(_NOT_A_COUNT.sub(" ", sentence))))
