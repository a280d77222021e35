"""Load article files into ``Article`` records (id, title, text) as the contract defines."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.screen import injection, screen

ARTICLE_SUFFIXES = (".txt", ".md")
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
MAX_TITLE_CHARS = 160

# Invisible characters that hide text from readers but not from models.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff"))
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def clean_text(raw: str) -> str:
    """Normalise newlines and drop invisible and control characters."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


def title_of(text: str) -> str:
    """Return the first non-empty line with Markdown emphasis and heading marks removed."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            line = _EMPHASIS.sub(r"\2", line.lstrip("#").strip())
            if len(line) > MAX_TITLE_CHARS:
                line = line[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
            return line
    return ""


def article_from_text(
    article_id: str, raw: str, origin: str = "", notes: tuple[str, ...] = ()
) -> Article:
    text = clean_text(raw)
    return Article(article_id=article_id, title=title_of(text), text=text, origin=origin,
                   notes=notes)


def validate_article_id(article_id: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}", article_id)) and (
        ".." not in article_id
    )


def load_file(path: Path, root: Path, origin: str) -> Article | Rejected:
    """Read one article file; a file that cannot be an article becomes a ``Rejected``."""
    article_id = path.relative_to(root).with_suffix("").as_posix()
    if not validate_article_id(article_id):
        return Rejected(str(path), "file name is not a valid article id")
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        return Rejected(str(path), f"larger than {MAX_ARTICLE_BYTES // 1024} KiB ({size} bytes)")
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return Rejected(str(path), "not UTF-8 text")
    # Files come from scrapers and feeds: strip their markup and hidden characters.
    # (POST /articles stores the text an operator sends as it is; pages show it escaped.)
    screened, notes = screen(raw)
    article = article_from_text(article_id, screened, origin, tuple(notes))
    if not article.text.strip():
        return Rejected(str(path), "empty")
    quarantine = injection(article.text)
    if quarantine:
        return Rejected(str(path), quarantine)
    return article


def iter_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in ARTICLE_SUFFIXES:
            yield path


def load_paths(paths: list[Path]) -> dict[str, LoadResult]:
    """Load every article under each path, keyed by the path's resolved source root."""
    results: dict[str, LoadResult] = {}
    for given in paths:
        given = Path(given)
        if not given.exists():
            results[str(given)] = LoadResult(rejected=[Rejected(str(given), "no such file")])
            continue
        root = given.parent if given.is_file() else given
        origin = str(given.resolve())
        result = results.setdefault(origin, LoadResult())
        for path in iter_files(given):
            loaded = load_file(path, root, origin)
            (result.articles if isinstance(loaded, Article) else result.rejected).append(loaded)
    return results
