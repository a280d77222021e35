"""Turn one record's fields (a file, a row, a feed entry, an API body) into an ``Article``.

Every format ends here, so every article is screened the same way: markup and hidden
characters are removed, an article that addresses a language model is quarantined, a
missing title is read from the text, and ``published``, ``source`` and ``url`` are
normalised. A field that cannot be used is dropped with a note; only a record without an
id or text, or a quarantined one, is rejected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from vectorstore.article import Article, Rejected
from vectorstore.formats.dates import normalise_published
from vectorstore.formats.title import tidy_title, title_of
from vectorstore.screen import injection, screen

MAX_ARTICLE_BYTES = 2 * 1024 * 1024
MAX_SOURCE_CHARS = 200
MAX_URL_CHARS = 2048

# Invisible characters that hide text from readers but not from models.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff"))
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}")
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")

# The columns (CSV), keys (JSONL, API) each field is read from, first found wins.
FIELDS = {
    "id": ("id", "article_id"),
    "text": ("text", "body", "content"),
    "title": ("title", "headline"),
    "published": ("published", "date", "published_at", "pubdate"),
    "source": ("source", "site", "publisher"),
    "url": ("url", "link"),
}


# Unicode's control characters (category Cc: C0, DEL, C1) but newline and tab, and lone
# surrogates (Cs). One regex pass, not a category lookup per character: re-ingesting the
# BBC CSV spent 0.7 of its 1.9 s in that lookup.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(raw: str) -> str:
    """Normalise newlines and drop invisible and control characters."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    return _CONTROL.sub("", text)


def validate_article_id(article_id: str) -> bool:
    return bool(_ID.fullmatch(article_id)) and ".." not in article_id


def slug(value: str, limit: int = 120) -> str:
    """Make an id part from a guid, link or id value: ``https://x.org/a/1`` -> ``x.org-a-1``.

    A long value keeps its start and a hash of the whole, so two long links stay apart.
    """
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip(), flags=re.IGNORECASE)
    out = _NOT_ID.sub("-", value).strip("-.")
    out = re.sub(r"\.{2,}", ".", out)
    if len(out) > limit:
        digest = hashlib.sha256(value.encode()).hexdigest()[:10]
        out = out[: limit - 11].rstrip("-.") + "-" + digest
    return out


def id_prefix(path: Path, root: Path) -> str:
    """The id part a file gives its records: its path under the ingested folder, no suffix."""
    rel = path.relative_to(root).with_suffix("").as_posix()
    return rel if validate_article_id(rel) else "/".join(slug(p) or "_" for p in rel.split("/"))


def read_one_file(path: Path, root: Path, max_bytes: int) -> tuple[str, bytes] | Rejected:
    """Return the id and bytes of a one-article file, or why it is not read at all."""
    article_id = path.relative_to(root).with_suffix("").as_posix()
    if not validate_article_id(article_id):
        return Rejected(str(path), "file name is not a valid article id")
    size = path.stat().st_size
    if size > max_bytes:
        return Rejected(str(path), f"larger than {max_bytes // 1024} KiB ({size} bytes)",
                        article_id=article_id)
    return article_id, path.read_bytes()


def pick(record: Mapping[str, object], field: str) -> object:
    """Return the first non-empty value of ``field`` under any of its names."""
    for name in FIELDS[field]:
        value = record.get(name)
        if value is not None and value != "":
            return value
    return None


def _one_line(value: str, limit: int) -> str:
    text, _ = screen(value)
    return " ".join(clean_text(text).split())[:limit].strip()


def clean_url(value: object) -> tuple[str | None, str | None]:
    """Keep an absolute http(s) address; anything else (``javascript:``...) is dropped."""
    if value is None or value == "":
        return None, None
    url = str(value).strip()
    parts = urlsplit(url) if len(url) <= MAX_URL_CHARS else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc or (
            any(ch.isspace() or ord(ch) < 32 for ch in url)):
        shown = url if len(url) <= 40 else url[:40] + "…"
        return None, f"url {shown!r} is not an http(s) address"
    return url, None


def build_article(
    article_id: str,
    text: object,
    *,
    origin: str,
    path: str,
    where: str = "",
    title: object = None,
    published: object = None,
    source: object = None,
    url: object = None,
    screen_markup: bool = True,
) -> Article | Rejected:
    """Return the screened article, or why the record cannot be one.

    ``path`` and ``where`` ("row 5", "entry 3") name the record in a rejection.
    ``screen_markup=False`` keeps the text's markup-like prose as it is (the API stores
    what an operator sends; pages show it escaped).
    """

    def reject(reason: str) -> Rejected:
        return Rejected(path, reason, where=where, article_id=article_id or None)

    if not article_id or not validate_article_id(article_id):
        return reject(f"{article_id!r} is not a valid article id" if article_id else "no id")
    if not isinstance(text, str) or not text.strip():
        return reject("no text")
    if len(text) > MAX_ARTICLE_BYTES:
        return reject(f"text longer than {MAX_ARTICLE_BYTES // 1024} KiB ({len(text)} characters)")
    notes: list[str] = []
    if screen_markup:
        text, notes = screen(text)
    text = clean_text(text)
    if not text.strip():
        return reject("no text once markup is removed")
    given = _one_line(title, 1000) if isinstance(title, str) else ""
    title = tidy_title(given) if given else title_of(text)
    when, note = normalise_published(published)
    notes += [note] if note else []
    link, note = clean_url(url)
    notes += [note] if note else []
    outlet = _one_line(source, MAX_SOURCE_CHARS) if isinstance(source, str) else None
    quarantine = injection(f"{title}\n{text}")
    if quarantine:
        return reject(quarantine)
    return Article(article_id=article_id, title=title, text=text, origin=origin,
                   published=when, source=outlet or None, url=link, notes=tuple(notes))
