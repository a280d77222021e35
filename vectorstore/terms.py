"""Word terms for keyword search: lower-cased, stop words out, Snowball-stemmed."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself also
    said says say tell told does did much many whats s t""".split()
)

# News names a country and its people interchangeably ("Danish Prime Minister" answers
# "Denmark's prime minister"): a demonym is indexed and searched as its country.
_DEMONYMS = dict(
    pair.split(":") for pair in """afghan:afghanistan albanian:albania american:america
    argentine:argentina argentinian:argentina australian:australia austrian:austria
    belgian:belgium brazilian:brazil british:britain bulgarian:bulgaria canadian:canada
    chinese:china croatian:croatia danish:denmark dane:denmark dutch:netherlands
    egyptian:egypt estonian:estonia european:europe finnish:finland finn:finland
    french:france german:germany greek:greece hungarian:hungary indian:india iranian:iran
    iraqi:iraq irish:ireland israeli:israel italian:italy japanese:japan korean:korea
    latvian:latvia lithuanian:lithuania mexican:mexico moldovan:moldova nigerian:nigeria
    norwegian:norway pakistani:pakistan palestinian:palestine portuguese:portugal
    romanian:romania russian:russia scottish:scotland serbian:serbia slovak:slovakia
    spanish:spain swede:sweden swedish:sweden swiss:switzerland syrian:syria turkish:turkey
    ukrainian:ukraine welsh:wales""".split()
)

# Country names (stemmed below as COUNTRY_TERMS), for questions that ask "which country".
_COUNTRIES = frozenset(
    _DEMONYMS.values()
) | frozenset("""us usa america uk britain england china qatar belarus kazakhstan cuba venezuela
    vietnam thailand indonesia philippines taiwan singapore malaysia kenya ethiopia africa
    algeria morocco tunisia libya sudan lebanon jordan yemen emirates uae soviet""".split())

# A capital stands for its government in the news ("Kyiv's wish list" is Ukraine's), so an
# article naming the country speaks of the capital asked about. Not indexed as the country:
# "where did they meet?" must still tell Kyiv from elsewhere in Ukraine.
_CAPITALS = dict(
    pair.split(":") for pair in """kyiv:ukraine kiev:ukraine moscow:russia kremlin:russia
    london:britain paris:france berlin:germany beijing:china tokyo:japan rome:italy
    madrid:spain warsaw:poland ankara:turkey budapest:hungary stockholm:sweden oslo:norway
    helsinki:finland copenhagen:denmark tehran:iran minsk:belarus pyongyang:korea
    seoul:korea delhi:india islamabad:pakistan kabul:afghanistan baghdad:iraq
    damascus:syria cairo:egypt ottawa:canada canberra:australia""".split()
)

_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_stemmer = snowballstemmer.stemmer("english")
# The Snowball stemmer keeps its working state on the object: two threads stemming at
# once corrupt each other's words (or raise IndexError). Cache hits skip the lock.
_stem_lock = threading.Lock()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    with _stem_lock:
        return _stemmer.stemWord(word)


COUNTRY_TERMS = frozenset(stem(c) for c in _COUNTRIES)
# Stemmed capital -> stemmed country.
CAPITAL_COUNTRY = {stem(city): stem(country) for city, country in _CAPITALS.items()}
# One country under several names ("the UK", "Britain"), for comparing which one a sentence
# is about; the index keeps the words as written.
_SAME_COUNTRY = {"uk": "britain", "england": "britain", "us": "america", "usa": "america"}


def same_country(term: str) -> set[str]:
    """Every term naming the same country as ``term`` ("britain" -> {"britain", "uk", ...})."""
    canonical = _SAME_COUNTRY.get(term, term)
    return {canonical} | {k for k, v in _SAME_COUNTRY.items() if v == canonical}


def countries(text: str) -> set[str]:
    """The countries ``text`` names (by name, demonym or abbreviation), one term each."""
    found = set(terms(text)) & COUNTRY_TERMS
    if "us" in found and not _US.search(text):  # "told us" names no country
        found.discard("us")
    return {_SAME_COUNTRY.get(c, c) for c in found}


_US = re.compile(r"\bU\.?S\.?(?:A\.?)?\b")


def words(text: str) -> list[str]:
    """Split into lower-case words, keeping numbers like 8.5 and 1,000 whole."""
    return [w.replace("’", "'").strip("'") for w in _WORD.findall(text.lower())]


def terms(text: str) -> list[str]:
    """Return the stemmed content terms of ``text`` in order (repeats kept)."""
    out = []
    for word in words(text):
        if word in STOPWORDS or not word:
            continue
        word = word.removesuffix("'s")
        if word[0].isdigit():
            word = word.replace(",", "")
        else:
            word = _DEMONYMS.get(word) or _DEMONYMS.get(word.removesuffix("s")) or word
        out.append(stem(word))
    return out
