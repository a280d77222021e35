"""Word terms for keyword search: lower-cased, stop words out, accents folded, British
spellings as American ones, Snowball-stemmed."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer
from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

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
    ukrainian:ukraine welsh:wales polish:poland icelandic:iceland slovenian:slovenia
    bosnian:bosnia belarusian:belarus cypriot:cyprus maltese:malta thai:thailand
    vietnamese:vietnam indonesian:indonesia filipino:philippines kenyan:kenya
    colombian:colombia chilean:chile peruvian:peru venezuelan:venezuela cuban:cuba
    lebanese:lebanon""".split()
)

_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_stemmer = snowballstemmer.stemmer("english")
# The Snowball stemmer keeps its working state on the object: two threads stemming at
# once corrupt each other's words (or raise IndexError). Cache hits skip the lock.
_stem_lock = threading.Lock()


# Latin letters that are not a base letter plus an accent, so decomposing keeps them.
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae",
                          "œ": "oe", "ß": "ss", "ı": "i", "ħ": "h"})


def fold(word: str) -> str:
    """``word`` without the accents on its Latin letters ("ibrahimović" -> "ibrahimovic").

    Readers type names without accents that the article prints ("Malmo" for "Malmö"); the
    embedder folds them already, the keyword index must too. Marks on other scripts' letters
    are part of the letter and stay.
    """
    if word.isascii():
        return word
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", word.translate(_LETTERS)):
        if not (unicodedata.combining(char) and kept and kept[-1].isascii()):
            kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The word's search root: accents folded, a British spelling made American, then
    Snowball's stem. British and Commonwealth outlets print "a 13.4-kilometre tunnel" and
    "Labour"; the model writes "13.4 kilometers", and readers type either."""
    word = fold(word)
    word = BRITISH_ENGLISH_SPELLINGS.get(word, word)
    with _stem_lock:
        return _stemmer.stemWord(word)


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
