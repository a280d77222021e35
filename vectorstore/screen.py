"""Screen hostile article text before ingest: clean what can be cleaned, quarantine the rest.

Articles are plain text. Markup is removed (a ``<script>`` block with its content), hidden
format characters are counted and dropped, and text that addresses a language model with
instructions is quarantined: it is never ingested, and the report says why. Each change
is recorded as a note, so an operator can see what ingest did.
"""

from __future__ import annotations

import re
import unicodedata

# Whole blocks whose content is code or styling, never article prose: from the opening tag
# to the first closing tag of its name (``_without_blocks``).
_BLOCK_NAMES = ("script", "style", "iframe", "object", "embed", "svg", "template", "noscript")
_BLOCK_OPEN = re.compile(rf"<({'|'.join(_BLOCK_NAMES)})\b[^<>]*>", re.IGNORECASE)
_BLOCK_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _BLOCK_NAMES}
# A tag that names an HTML element: "<b>", "</p>", '<img src=x onerror="...">'. Prose such
# as "3 < 4 > 2" or "<ahem>"-style asides without an element name is left alone.
_TAGS = (
    "a|abbr|b|base|blockquote|body|br|button|code|div|em|embed|font|form|frame|h[1-6]|head|"
    "hr|html|i|iframe|img|input|link|li|meta|object|ol|p|pre|script|section|small|span|strong|"
    "style|sub|sup|svg|table|tbody|td|textarea|th|thead|tr|u|ul|video|audio|source|math"
)
_TAG = re.compile(rf"</?(?:{_TAGS})\b(?:[^<>\"']|\"[^\"]*\"|'[^']*')*/?>", re.IGNORECASE)
# Unicode format characters (category Cf): soft hyphens, zero-width marks, bidi controls,
# tag characters. They hide text from readers but not from models: files lose them, and
# injection screening reads text without them.
_FORMAT = re.compile(
    "[\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)

# -- injection screening -----------------------------------------------------------------
# Text is screened as a model would read it: ``fold`` undoes what changes how text looks
# but not what it says (compatibility forms, hidden format characters, look-alike letters,
# accents), ``flatten`` what splits words apart (markup, in-word punctuation, spaced-out
# letters, digits for letters). The stored text is never changed by this.

# Tag characters spell ASCII invisibly ("ASCII smuggling"); a model reads them as letters.
_TAGS_TO_ASCII = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}
# Letters that look Latin: Cyrillic, Greek, small capitals and dotless i (NFKC keeps them).
_CONFUSABLES = str.maketrans(
    "АВЕЅІЈКМНОРСТХУаеѕіјорсхуԁһӏԛԝьѡЪɡ"
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαβεικνορτυχ"
    "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢı",
    "abesijkmhopctxyaesijopcxydhlqwbwbg"
    "abezhikmnoptyxabeikvoptux"
    "abcdefghijklmnoprstuvwyzi",
)
_TAG_CHARACTER = re.compile("[\U000e0020-\U000e007e]")
_CONFUSABLE = re.compile(f"[{re.escape(''.join(map(chr, _CONFUSABLES)))}]")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LEET = str.maketrans("013457@$", "oieastas")
_LEETSPEAK = re.compile(r"\b\w*?(?:[a-z][013457]|[013457][a-z])\w*|[@$](?=[a-z])")
_LEET_PAIR = re.compile(r"[a-z][013457]|[013457][a-z]|[@$][a-z]")  # what each match holds
_HTML_TAG = re.compile(r"<[^<>\n]{1,200}>")

# Chat-template tokens, matched on the folded text (fullwidth bars fold to "|").
_TEMPLATE = re.compile(
    r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|"
    r"end_header_id|begin_of_text)\s*\|>|\[/?inst\]|<</?sys>>|<start_of_turn>|<end_of_turn>"
)
# An instruction to a reader starts a sentence, a line or a quote, or follows "please",
# "now", "you must"...; a report of one ("he would ignore previous advice", "residents were
# told to disregard earlier instructions") is not.
_IMPERATIVE = re.compile(
    r"(?:^|[\n.!?:;\"'()\[\]{}<>|#-]|\b(?:please|kindly|now|just|simply|and|then|so|also|"
    r"first|you must|you should|you will|you need to|you have to|i want you to|make sure to|"
    r"be sure to|remember to))\s*$"
)
_OVERRIDE = re.compile(
    r"\b(?:ignore|disregard|forget|override|overlook|bypass|skip|discard|abandon|neglect|"
    r"dismiss|drop|set aside|pay no (?:attention|heed|mind) to|do not (?:follow|obey|heed)|"
    r"dont (?:follow|obey|heed)|stop (?:following|obeying)|disobey|never ?mind)\b"
)
_EARLIER = (
    r"(?:previous(?:ly)?|prior|above|earlier|preceding|foregoing|former|original|initial|"
    r"old|system|developer|your|my|all|any)"
)
_RULES = (
    r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance|commands?|"
    r"orders|messages?|context|constraints|restrictions|programming|policies)"
)
_SO_FAR = (
    r"(?:above|before|prior|previously|so far|earlier|up to (?:now|here)|"
    r"you (?:were|have been|ve been|are) (?:told|given|instructed)|(?:i|we) (?:said|told you)|"
    r"this (?:line|point|message|sentence))"
)
_WORDS = r"(?:[\w'-]+\s+)"
# What an override verb is told to drop: earlier instructions, or everything so far.
_OVERRIDDEN = re.compile(
    # "ignore all of the previous instructions", "disregard any prior directions"
    rf"\s+{_WORDS}{{0,4}}?{_EARLIER}\s+{_WORDS}{{0,2}}?{_RULES}\b"
    # "please disregard everything above", "forget all you were told"
    rf"|\s+(?:all\s+)?(?:of\s+)?(?:everything|anything|whatever|all|what|the)\s+"
    rf"{_WORDS}{{0,3}}?{_SO_FAR}\b"
    # "ignore the instructions you were given"
    rf"|\s+(?:the|your|any|all)\s+{_RULES}\s+{_WORDS}{{0,3}}?{_SO_FAR}\b"
)
_ASK_PROMPT = re.compile(
    r"\b(?:reveal|print|repeat|output|show|display|leak|dump) (?:me )?the (?:system|initial|"
    r"original|hidden|secret) (?:prompt|instructions)\b"
)
# Text that addresses a model wherever it stands; searched only when one of the words it
# needs is there at all (most articles have none, and the search is the costly part).
_ANYWHERE_NEEDS = ("you are", "mode", "reading this", "your", "note", "message", "instruction",
                   "system", "##")
_ANYWHERE = re.compile(
    r"\byou are now (?:in )?(?:an? |the )?(?:[\w-]+ ){0,3}?(?:ai|assistant|model|chatbot|bot|"
    r"dan|jailbroken|unrestricted|unfiltered|uncensored)\b"
    r"|\b(?:enter|enable|activate|switch to|you are (?:now )?in) (?:developer|dan|jailbreak|god|"
    r"debug|admin|unrestricted) mode\b"
    r"|\bif you are an? (?:ai|large language model|language model|llm|assistant|chatbot|bot)\b"
    r"|\b(?:note|message|instructions?) (?:to|for) (?:[\w-]+ ){0,2}?(?:ai|llms?|language "
    r"models?|assistants?|chatbots?|models?)\s*:"
    r"|\b(?:ais?|llms?|language models?|assistants?|chatbots?) reading this\b"
    r"|\b(?:reveal|print|repeat|output|show|display|leak|dump|share|tell me|write out) "
    r"(?:me )?your (?:[\w-]+ ){0,2}?(?:prompt|instructions|rules|guidelines)\b"
    r"|\b(?:system|developer) (?:prompt|message|instructions?)\s*:|(?:^|\n)\s*system\s*:"
    r"|(?<!#)#{2,}\s*(?:system|instructions?|user|assistant)\b"  # from a run's start: linear
)


def fold(text: str) -> str:
    """Lower-case ``text`` as it reads: NFKC, no format characters, look-alikes and
    accented letters folded to plain Latin."""
    if text.isascii():  # none of it touches ASCII but the case; most news is ASCII
        return text.lower()
    # A translation table is a lookup per character: looked for first, it is rarely needed.
    if _TAG_CHARACTER.search(text):
        text = text.translate(_TAGS_TO_ASCII)
    text = _FORMAT.sub("", unicodedata.normalize("NFKC", text))
    if _CONFUSABLE.search(text):
        text = text.translate(_CONFUSABLES)
    return _COMBINING.sub("", unicodedata.normalize("NFD", text)).lower()


def flatten(folded: str) -> str:
    """Join what obfuscation splits: markup, in-word punctuation, hyphenated line ends,
    spaced-out letters, digits written for letters; one space between words."""
    text = _HTML_TAG.sub(" ", folded)
    text = re.sub(r"[*_~`^]+", "", text)
    text = re.sub(r"(?<=[a-z])(?:-\s*\n\s*|[.'’-])(?=[a-z])", "", text)
    if _LEET_PAIR.search(text):  # most articles have none, and the word scan is costly
        text = _LEETSPEAK.sub(lambda m: m[0].translate(_LEET), text)
    text = re.sub(r"\b(?:[a-z][ .-]){3,}[a-z]\b", lambda m: re.sub(r"[ .-]", "", m[0]), text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def strip_markup(text: str) -> tuple[str, list[str]]:
    """Remove HTML blocks, comments and tags; return the text and what was removed."""
    notes = []
    text, blocks = _without_blocks(text)
    text, comments = _without_comments(text)
    text, tags = _TAG.subn("", text)
    if blocks or comments or tags:
        parts = [f"{n} {what}" for n, what in ((blocks, "script/style blocks"),
                                                (comments, "comments"), (tags, "tags")) if n]
        notes.append("removed HTML markup (" + ", ".join(parts) + ")")
    return text, notes


# A block or comment never closed would have a lazy ``.*?`` scan the rest of the text from
# each of its openings: minutes for an article of 100,000 of them. These look for each
# closing once, and stop looking when there is none.


def _without_blocks(text: str) -> tuple[str, int]:
    """``text`` with each code or styling block made a space, and how many there were.
    A block never closed stays (its tags go with the others)."""
    parts, count, kept, pos = [], 0, 0, 0
    unclosed: set[str] = set()  # no closing tag after here, so none after a later opening
    while opened := _BLOCK_OPEN.search(text, pos):
        name = opened[1].lower()
        closing = None if name in unclosed else _BLOCK_CLOSE[name].search(text, opened.end())
        if closing is None:
            unclosed.add(name)
            pos = opened.start() + 1
            continue
        parts += [text[kept:opened.start()], " "]
        count += 1
        kept = pos = closing.end()
    return "".join(parts) + text[kept:], count


def _without_comments(text: str) -> tuple[str, int]:
    """``text`` with each ``<!-- ... -->`` comment made a space, and how many there were."""
    parts, count, kept = [], 0, 0
    while (start := text.find("<!--", kept)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        parts += [text[kept:start], " "]
        count += 1
        kept = end + 3
    return "".join(parts) + text[kept:], count


def invisible_characters(text: str) -> list[str]:
    count = len(_FORMAT.findall(text))
    return [f"removed {count} invisible format characters (zero-width, soft hyphen, "
            "direction control)"] if count else []


def injection(text: str) -> str | None:
    """Return why ``text`` looks like a prompt injection, or None."""
    folded = fold(text)
    found = _TEMPLATE.search(folded)
    if found is None:
        flat = flatten(folded)
        addressed = any(word in flat for word in _ANYWHERE_NEEDS)
        found = (_ANYWHERE.search(flat) if addressed else None) or _instruction(flat)
    if found is None:
        return None
    return f"quarantined: it addresses a language model ({found.group(0).strip()[:60]!r})"


def _instruction(text: str) -> re.Match | None:
    """An imperative that tells the reader to drop its instructions or show its prompt."""
    for pattern, rest in ((_OVERRIDE, _OVERRIDDEN), (_ASK_PROMPT, None)):
        for verb in pattern.finditer(text):
            if not _IMPERATIVE.search(text, max(0, verb.start() - 40), verb.start()):
                continue
            if rest is None:
                return verb
            found = rest.match(text, verb.end())
            if found:
                return re.search(re.escape(text[verb.start():found.end()]), text)
    return None


def screen(raw: str) -> tuple[str, list[str]]:
    """Return the text without hidden characters and markup, and notes on what went.

    Check the result with ``injection``: hidden characters and tags can no longer split
    a phrase apart there.
    """
    notes = invisible_characters(raw)
    text, markup = strip_markup(_FORMAT.sub("", raw))
    return text, notes + markup
