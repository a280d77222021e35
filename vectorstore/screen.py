"""Screen hostile article text before ingest: clean what can be cleaned, quarantine the rest.

Articles are plain text. Markup is removed (a ``<script>`` block with its content), hidden
characters are counted and dropped by ``load.clean_text``, and text that addresses a
language model with instructions is quarantined: it is never ingested, and the report
says why. Each change is recorded as a note, so an operator can see what ingest did.
"""

from __future__ import annotations

import re

# Whole blocks whose content is code or styling, never article prose.
_BLOCKS = re.compile(
    r"<(script|style|iframe|object|embed|svg|template|noscript)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# A tag that names an HTML element: "<b>", "</p>", '<img src=x onerror="...">'. Prose such
# as "3 < 4 > 2" or "<ahem>"-style asides without an element name is left alone.
_TAGS = (
    "a|abbr|b|base|blockquote|body|br|button|code|div|em|embed|font|form|frame|h[1-6]|head|"
    "hr|html|i|iframe|img|input|link|li|meta|object|ol|p|pre|script|section|small|span|strong|"
    "style|sub|sup|svg|table|tbody|td|textarea|th|thead|tr|u|ul|video|audio|source|math"
)
_TAG = re.compile(rf"</?(?:{_TAGS})\b(?:[^<>\"']|\"[^\"]*\"|'[^']*')*/?>", re.IGNORECASE)
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")

# Phrases that address the model reading the article rather than a human reader.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*"
    r"(?:previous|prior|above|earlier|preceding|system)\s+(?:instructions|prompts?|rules|"
    r"directions|messages)"
    r"|\byou\s+are\s+now\s+(?:a|an|in)\b"
    r"|\b(?:reveal|print|repeat|output)\s+(?:your|the)\s+(?:system\s+)?prompt\b"
    r"|\bnew\s+instructions\s*:"
    r"|<\|im_start\|>|<\|system\|>|\[/?INST\]|###\s*(?:system|instruction)\b",
    re.IGNORECASE,
)


def strip_markup(text: str) -> tuple[str, list[str]]:
    """Remove HTML blocks, comments and tags; return the text and what was removed."""
    notes = []
    text, blocks = _BLOCKS.subn(" ", text)
    text, comments = _COMMENT.subn(" ", text)
    text, tags = _TAG.subn("", text)
    if blocks or comments or tags:
        parts = [f"{n} {what}" for n, what in ((blocks, "script/style blocks"),
                                                (comments, "comments"), (tags, "tags")) if n]
        notes.append("removed HTML markup (" + ", ".join(parts) + ")")
    return text, notes


def invisible_characters(text: str) -> list[str]:
    count = len(_INVISIBLE.findall(text))
    return [f"removed {count} zero-width or direction-control characters"] if count else []


def injection(text: str) -> str | None:
    """Return why ``text`` looks like a prompt injection, or None."""
    found = _INJECTION.search(text)
    if found is None:
        return None
    return f"quarantined: it addresses a language model ({found.group(0)[:60]!r})"


def screen(raw: str) -> tuple[str, list[str]]:
    """Return the text without hidden characters and markup, and notes on what went.

    Check the result with ``injection``: hidden characters and tags can no longer split
    a phrase apart there.
    """
    notes = invisible_characters(raw)
    text, markup = strip_markup(_INVISIBLE.sub("", raw))
    return text, notes + markup
