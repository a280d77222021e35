"""RSS and Atom feed files (``.xml``, ``.rss``, ``.atom``): one article per entry.

feedparser reads a whole document, so a feed is streamed instead: lxml's ``iterparse``
walks the file and hands each ``<item>``/``<entry>`` element, alone, to feedparser (which
knows every dialect's dates, guids and content types), then frees it. A 10 MB feed needs
the memory of one entry. A feed that is not well-formed XML (an undefined ``&nbsp;``, a
cut-off file) is handed whole to feedparser's lenient parser when it is at most
``LENIENT_MAX_BYTES``; a larger broken feed keeps the entries read before the fault and
the rest is reported. Entries are identified by their guid, else their link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.formats.dates import normalise_published
from vectorstore.formats.record import build_article, id_prefix, slug, validate_article_id

SUFFIXES = (".xml", ".rss", ".atom")
LENIENT_MAX_BYTES = 8 * 1024 * 1024

ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# One entry at a time, in a document of the feed's own dialect.
_WRAP = {
    "rss": (b'<rss version="2.0"><channel>', b"</channel></rss>"),
    "atom": (f'<feed xmlns="{ATOM}">'.encode(), b"</feed>"),
    "rdf": (f'<rdf:RDF xmlns:rdf="{RDF}" xmlns="{RSS1}">'.encode(), b"</rdf:RDF>"),
}
_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
           "pre", "section", "article", "figure", "table", "ul", "ol")
_HTML = ("text/html", "application/xhtml+xml", "html", "xhtml")


def html_to_text(html: str) -> str:
    """Return the text of an HTML fragment, one line per paragraph."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return html
    for node in root.xpath("//script|//style"):
        node.drop_tree()
    for node in root.iter(*_BLOCKS):
        node.tail = "\n" + (node.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _kind(tag: str) -> str | None:
    return {"rss": "rss", f"{{{ATOM}}}feed": "atom", f"{{{RDF}}}RDF": "rdf"}.get(tag)


class _Feed:
    def __init__(self, path: Path, root: Path, origin: str):
        self.path, self.label, self.origin = path, str(path), origin
        self.prefix = id_prefix(path, root)
        self.title: str | None = None
        self.count = 0
        self.seen: dict[str, str] = {}

    def stream(self) -> Iterator[Article | Rejected]:
        """Walk the file with ``iterparse``; raise ``XMLSyntaxError`` where it breaks."""
        import feedparser
        import lxml.etree

        kind = None
        events = lxml.etree.iterparse(
            str(self.path), events=("start", "end"), resolve_entities=False, no_network=True,
            load_dtd=False, remove_comments=True, remove_pis=True,
        )
        for event, node in events:
            if kind is None:
                kind = _kind(node.tag)
                if kind is None:
                    name = lxml.etree.QName(node).localname
                    yield Rejected(self.label, f"not an RSS or Atom feed (its root is <{name}>)")
                    return
                continue
            if event != "end":
                continue
            name = lxml.etree.QName(node).localname
            parent = node.getparent()
            if name in ("item", "entry") and parent is not None and node.tag in (
                    "item", f"{{{ATOM}}}entry", f"{{{RSS1}}}item"):
                self.count += 1
                head, tail = _WRAP[kind]
                parsed = feedparser.parse(head + lxml.etree.tostring(node, with_tail=False) + tail)
                entry = parsed.entries[0] if parsed.entries else None
                yield self.article(entry, self.count)
                # Free what has been read: the entry and every sibling before it.
                node.clear()
                while node.getprevious() is not None:
                    del parent[0]
            elif name == "title" and self.title is None and parent is not None and (
                    lxml.etree.QName(parent).localname in ("channel", "feed")):
                self.title = " ".join((node.text or "").split()) or None

    def lenient(self, error: Exception) -> Iterator[Article | Rejected]:
        """Read a feed that is not well-formed XML with feedparser's lenient parser."""
        import feedparser

        parsed = feedparser.parse(self.path.read_bytes())
        if not parsed.entries:
            yield Rejected(self.label, f"not a readable feed ({_reason(error)})")
            return
        self.title = self.title or parsed.feed.get("title")
        for number, entry in enumerate(parsed.entries, start=1):
            if self.entry_id(entry) not in self.seen:
                yield self.article(entry, number)

    def entry_id(self, entry) -> str | None:
        key = entry.get("id") or entry.get("link") if entry is not None else None
        return f"{self.prefix}/{slug(key)}" if key and slug(key) else None

    def article(self, entry, number: int) -> Article | Rejected:
        where = f"entry {number}"
        if entry is None:
            return Rejected(self.label, "cannot be read", where=where)
        article_id = self.entry_id(entry)
        if article_id is None or not validate_article_id(article_id):
            return Rejected(self.label, "has no guid or link to identify it", where=where)
        if article_id in self.seen:
            return Rejected(self.label, f"repeats id {article_id} ({self.seen[article_id]})",
                            where=where, article_id=article_id)
        self.seen[article_id] = where
        return build_article(
            article_id, _body(entry), origin=self.origin, path=self.label, where=where,
            title=_text(entry.get("title"), entry.get("title_detail")),
            published=_published(entry), source=self.title or _source(entry),
            url=entry.get("link"),
        )


def _text(value, detail) -> str | None:
    if not value:
        return None
    kind = (detail or {}).get("type", "")
    return html_to_text(value) if kind in _HTML else value


def _body(entry) -> str | None:
    """The entry's full content when it has some, else its summary, as plain text."""
    contents = [c for c in entry.get("content") or [] if c.get("value")]
    if contents:
        best = max(contents, key=lambda c: len(c["value"]))
        return _text(best["value"], best)
    return _text(entry.get("summary"), entry.get("summary_detail"))


def _published(entry) -> object:
    """The entry's own date string when it reads, else feedparser's parse of it."""
    for raw, parsed in (("published", "published_parsed"), ("updated", "updated_parsed")):
        if entry.get(raw):
            if normalise_published(entry[raw])[0] is not None or not entry.get(parsed):
                return entry[raw]
            return entry[parsed]
    return None


def _source(entry) -> str | None:
    source = entry.get("source") or {}
    return source.get("title") if hasattr(source, "get") else None


def _reason(error: Exception) -> str:
    line = getattr(error, "lineno", None)
    message = getattr(error, "msg", None) or str(error)
    return f"{message} at line {line}" if line else message


def read(path: Path, root: Path, origin: str) -> Iterator[Article | Rejected]:
    import lxml.etree

    feed = _Feed(path, root, origin)
    try:
        yield from feed.stream()
    except lxml.etree.XMLSyntaxError as error:
        if path.stat().st_size <= LENIENT_MAX_BYTES:
            yield from feed.lenient(error)
        else:
            yield Rejected(feed.label, f"not well-formed XML ({_reason(error)}); the entries "
                           "after it were not read", where=f"entry {feed.count + 1}")
