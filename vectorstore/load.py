"""Load articles from the files and folders users ingest, as a stream of sources.

``iter_sources(paths)`` yields one ``Source`` per origin: the articles (and the records
that could not be read) of an ingested folder or file, read lazily, so the ingestor can
consume them in batches and a 10 MB CSV or feed never sits in memory whole. Each format's
reader lives in ``vectorstore.formats``.

Which origins replace and which accumulate:

- A folder, and a ``.txt``/``.md``/``.html``/``.csv``/``.jsonl`` file given by itself, is a
  snapshot: re-ingesting it removes its stored articles that are gone from it (a deleted
  file, a row no longer in the CSV). Files inside a folder share the folder's origin.
- A feed file (``.xml``, ``.rss``, ``.atom``), inside a folder or not, is its own origin and
  accumulates: a feed lists only its latest entries, so an entry that dropped out of it is
  kept. New entries are added and a changed entry replaces its passages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.formats import ACCUMULATING, READERS, reader_for
from vectorstore.formats.record import (
    MAX_ARTICLE_BYTES,
    build_article,
    clean_text,
    validate_article_id,
)
from vectorstore.formats.title import title_of

ARTICLE_SUFFIXES = tuple(READERS)

__all__ = [
    "ARTICLE_SUFFIXES", "MAX_ARTICLE_BYTES", "LoadResult", "Source", "article_from_text",
    "build_article", "clean_text", "iter_sources", "load_paths", "title_of",
    "validate_article_id",
]


@dataclass
class Source:
    """The records read from one origin, and whether re-ingesting it removes what is gone.

    ``items`` is a one-shot iterator. When ``replaces`` is true, the ingestor removes the
    stored articles of ``origin`` that the run did not yield, unless a record of this
    source was rejected: that record may be one of the stored articles (see ``Ingestor``).
    """

    origin: str
    replaces: bool
    items: Iterator[Article | Rejected]


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def article_from_text(
    article_id: str, raw: str, origin: str = "", notes: tuple[str, ...] = ()
) -> Article:
    """Make an article from text as it is (no screening): its title is read from the text."""
    text = clean_text(raw)
    return Article(article_id=article_id, title=title_of(text), text=text, origin=origin,
                   notes=notes)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _read_all(files: list[Path], root: Path, origin: str) -> Iterator[Article | Rejected]:
    for path in files:
        yield from _read(path, root, origin)


def _read(path: Path, root: Path, origin: str) -> Iterator[Article | Rejected]:
    reader = reader_for(path)
    if reader is None:
        yield Rejected(str(path), "not a supported format (" + ", ".join(READERS) + ")")
        return
    try:
        yield from reader(path, root, origin)
    except OSError as exc:
        yield Rejected(str(path), f"cannot be read ({exc.strerror or exc})")


def iter_sources(paths: Iterable[Path]) -> Iterator[Source]:
    """Yield the sources under each path, in order; a file is read once per call."""
    done: set[Path] = set()
    for given in map(Path, paths):
        if not given.exists():
            yield Source(str(given), False, iter([Rejected(str(given), "no such file")]))
            continue
        origin = str(given.resolve())
        if given.is_file():
            files, root = [given], given.parent
        else:
            root = given
            files = [p for p in sorted(given.rglob("*"))
                     if p.is_file() and p.suffix.lower() in READERS and not _hidden(p, given)]
        files = [p for p in files if p.resolve() not in done]
        done.update(p.resolve() for p in files)
        feeds = [p for p in files if p.suffix.lower() in ACCUMULATING]
        others = [p for p in files if p.suffix.lower() not in ACCUMULATING]
        if given.is_dir() or others:
            yield Source(origin, True, _read_all(others, root, origin))
        for path in feeds:
            feed_origin = str(path.resolve())
            yield Source(feed_origin, False, _read(path, root, feed_origin))


def load_paths(paths: list[Path]) -> dict[str, LoadResult]:
    """Load everything under ``paths`` into memory, keyed by origin (for small corpora)."""
    results: dict[str, LoadResult] = {}
    for source in iter_sources(paths):
        result = results.setdefault(source.origin, LoadResult())
        for item in source.items:
            (result.articles if isinstance(item, Article) else result.rejected).append(item)
    return results
