"""One reader per input format, chosen by file extension.

Each reader is ``read(path, root, origin) -> Iterator[Article | Rejected]``: it yields
the file's articles one at a time (a CSV, JSONL or feed file is never loaded whole) and a
``Rejected`` for each record it cannot read, naming the record ("row 5") and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.formats import feed, html, rows, text

Reader = Callable[[Path, Path, str], Iterator[Article | Rejected]]

READERS: dict[str, Reader] = {
    **dict.fromkeys(text.SUFFIXES, text.read),
    **dict.fromkeys(html.SUFFIXES, html.read),
    **dict.fromkeys(rows.CSV_SUFFIXES, rows.read_csv),
    **dict.fromkeys(rows.JSONL_SUFFIXES, rows.read_jsonl),
    **dict.fromkeys(feed.SUFFIXES, feed.read),
}
# Feeds accumulate: an entry a feed no longer lists is kept, not removed.
ACCUMULATING = frozenset(feed.SUFFIXES)


def reader_for(path: Path) -> Reader | None:
    return READERS.get(path.suffix.lower())
