"""``.html`` and ``.htm`` pages: the main text, without navigation, footers and ads.

trafilatura finds the article's main text. Metadata comes from the page's own tags, in
the contract's order: ``og:title``, ``<h1>``, ``<title>``; ``article:published_time``
(or another published-date tag), ``<time>``; ``og:site_name``; the canonical link or
``og:url``. Where a tag is missing, trafilatura's reading of the page fills in (its
date search is kept to the page's markup, never guessed from the text).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.formats.record import build_article, read_one_file

SUFFIXES = (".html", ".htm")
MAX_PAGE_BYTES = 10 * 1024 * 1024

_DATE_META = (
    "article:published_time", "og:article:published_time", "datepublished",
    "date", "pubdate", "publishdate", "dc.date.issued", "dc.date", "sailthru.date",
)


def _meta(tree) -> dict[str, str]:
    """Map each ``<meta property|name|itemprop>`` to its content, lowercased keys, first wins."""
    found: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = node.get("property") or node.get("name") or node.get("itemprop")
        value = (node.get("content") or "").strip()
        if key and value:
            found.setdefault(key.strip().lower(), value)
    return found


def _text_of(tree, path: str) -> str | None:
    for node in tree.xpath(path):
        text = " ".join(node.text_content().split()) if hasattr(node, "text_content") else ""
        if text:
            return text
    return None


def page_metadata(tree) -> dict[str, str | None]:
    """Read title, published, source and url from a parsed page, as the contract orders them."""
    meta = _meta(tree)
    time_node = next((n.get("datetime") for n in tree.iter("time") if n.get("datetime")), None)
    canonical = next((n.get("href") for n in tree.iter("link")
                      if "canonical" in (n.get("rel") or "").lower().split() and n.get("href")),
                     None)
    return {
        "title": meta.get("og:title") or _text_of(tree, "//h1") or _text_of(tree, "//title"),
        "published": next((meta[k] for k in _DATE_META if k in meta), None) or time_node,
        "source": meta.get("og:site_name") or meta.get("application-name"),
        "url": canonical or meta.get("og:url"),
    }


def read(path: Path, root: Path, origin: str) -> Iterator[Article | Rejected]:
    import lxml.etree
    import lxml.html
    import trafilatura

    found = read_one_file(path, root, MAX_PAGE_BYTES)
    if isinstance(found, Rejected):
        yield found
        return
    article_id, raw = found
    try:
        tree = lxml.html.document_fromstring(raw)
    except (ValueError, lxml.etree.ParserError):
        yield Rejected(str(path), "not an HTML page", article_id=article_id)
        return
    found = trafilatura.bare_extraction(
        # Precision over recall: a page of links yields nothing rather than its menu.
        raw, with_metadata=True, include_comments=False, include_tables=True,
        favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    text = found.text if found is not None else None
    if not text or not text.strip():
        yield Rejected(str(path), "no main text found in the page", article_id=article_id)
        return
    meta = page_metadata(tree)
    yield build_article(
        article_id, text, origin=origin, path=str(path),
        title=meta["title"] or found.title,
        published=meta["published"] or found.date,
        source=meta["source"] or found.sitename,
        url=meta["url"] or found.url,
    )
