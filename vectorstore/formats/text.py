"""``.txt`` and ``.md`` files: one article each, with an optional front-matter block.

A file may open with ``key: value`` lines between two ``---`` lines, as static-site
generators write them; ``published`` (or ``date``), ``source``, ``url`` (or ``link``) and
``title`` are read from it and the block is not part of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.formats.record import FIELDS, MAX_ARTICLE_BYTES, build_article, read_one_file

SUFFIXES = (".txt", ".md")
_FRONT = re.compile(r"\A---[ \t]*\n((?:[^\n]*\n){0,40}?)---[ \t]*(?:\n|\Z)")
_PAIR = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def front_matter(raw: str) -> tuple[dict[str, str], str]:
    """Split ``raw`` into its front-matter fields and the text after the block."""
    found = _FRONT.match(raw.replace("\r\n", "\n"))
    if not found:
        return {}, raw
    fields = {}
    for line in found.group(1).splitlines():
        pair = _PAIR.match(line)
        if pair:
            value = pair.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[pair.group(1).lower()] = value
    return fields, raw.replace("\r\n", "\n")[found.end():]


def read(path: Path, root: Path, origin: str) -> Iterator[Article | Rejected]:
    found = read_one_file(path, root, MAX_ARTICLE_BYTES)
    if isinstance(found, Rejected):
        yield found
        return
    article_id, data = found
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield Rejected(str(path), "not UTF-8 text", article_id=article_id)
        return
    fields, text = front_matter(raw)
    if not text.strip():
        yield Rejected(str(path), "empty", article_id=article_id)
        return
    yield build_article(
        article_id, text, origin=origin, path=str(path), title=_first(fields, "title"),
        published=_first(fields, "published"), source=_first(fields, "source"),
        url=_first(fields, "url"),
    )


def _first(fields: dict[str, str], field: str) -> str | None:
    return next((fields[name] for name in FIELDS[field] if fields.get(name)), None)
