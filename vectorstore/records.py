"""Article versions in Chroma: the durable article records and the change log in one.

Each write of an article adds a record ``<article_id>@<stamp>`` (the article's text as its
document, what readers see as metadata, the mean of its passage vectors as its embedding);
a delete adds a tombstone record. An article's current version is its record with the
highest stamp, so a write never overwrites another writer's record: a late, older write
loses to a newer one whatever order they land in. Every record carries the time it was
committed (``c``), so the records committed since a moment are a range query: that is the
change log workers poll (see sync.py). Superseded versions are deleted by the writer that
supersedes them, and by ``check --repair``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vectorstore.article import Article
from vectorstore.store import ID_BATCH, STAMP_SEP, Client

# The layout of what Chroma holds (versioned passage vectors and article records).
STORE_FORMAT = "2"

_stamp_lock = threading.Lock()
_last_stamp = 0


def new_stamp() -> int:
    """A write stamp: wall-clock nanoseconds at microsecond precision plus a random tail.

    Stamps order writes of one article across processes (last writer wins, as far as the
    machines' clocks agree) and increase strictly within one process.
    """
    global _last_stamp
    with _stamp_lock:
        stamp = max(time.time_ns() // 1000 * 1000 + random.randrange(1000), _last_stamp + 1)
        _last_stamp = stamp
        return stamp


def stamp_seconds(stamp: int) -> float:
    return stamp / 1e9


@dataclass(frozen=True)
class Version:
    """One stored version of an article (or a tombstone), as its record's metadata says."""

    article_id: str
    stamp: int
    committed_ms: int = 0
    deleted: bool = False
    hash: str = ""  # content hash : chunker version : chunk size
    chunks: int = 0
    chunk_chars: int = 0
    chunker: str = ""  # the chunker version that cut its passages
    title: str = ""
    origin: str = ""
    published: str | None = None
    published_ts: int | None = None
    source: str | None = None
    url: str | None = None

    @property
    def record_id(self) -> str:
        return f"{self.article_id}{STAMP_SEP}{self.stamp}"

    def article(self, text: str) -> Article:
        return Article(self.article_id, self.title, text, self.origin, self.published,
                       self.source, self.url)

    def metadata(self) -> dict:
        meta = {"article_id": self.article_id, "s": self.stamp, "c": self.committed_ms}
        if self.deleted:
            meta["deleted"] = True
            return meta
        meta.update(hash=self.hash, n=self.chunks, chunk_chars=self.chunk_chars,
                    chunker=self.chunker, title=self.title, origin=self.origin)
        for key in ("published", "published_ts", "source", "url"):
            value = getattr(self, key)
            if value is not None:
                meta[key] = value
        return meta

    @classmethod
    def from_metadata(cls, meta: dict) -> Version:
        return cls(
            article_id=meta["article_id"], stamp=int(meta["s"]), committed_ms=int(meta["c"]),
            deleted=bool(meta.get("deleted", False)), hash=meta.get("hash", ""),
            chunks=int(meta.get("n", 0)), chunk_chars=int(meta.get("chunk_chars", 0)),
            chunker=meta.get("chunker", ""),
            title=meta.get("title", ""), origin=meta.get("origin", ""),
            published=meta.get("published"), published_ts=meta.get("published_ts"),
            source=meta.get("source"), url=meta.get("url"),
        )


def current(versions: list[Version]) -> Version | None:
    return max(versions, key=lambda v: v.stamp) if versions else None


class ArticleRecords:
    """The records collection: every stored version of every article, and tombstones."""

    def __init__(self, client: Client, collection_name: str):
        self.client = client
        self.name = collection_name
        self.collection = client.collection(collection_name)
        self.max_batch = client.max_batch()

    def count(self) -> int:
        with self.client.calls():
            return self.collection.count()

    def commit(self, versions: list[Version], texts: list[str | None],
               embeddings: np.ndarray) -> list[Version]:
        """Store these versions (the commit point of their writes); return them as stored."""
        now_ms = time.time_ns() // 1_000_000
        stored = [_with_commit_time(v, now_ms) for v in versions]
        for start in range(0, len(stored), self.max_batch):
            batch = stored[start : start + self.max_batch]
            docs = texts[start : start + self.max_batch]
            with self.client.calls():
                self.collection.upsert(
                    ids=[v.record_id for v in batch],
                    embeddings=embeddings[start : start + self.max_batch],
                    metadatas=[v.metadata() for v in batch],
                    # Tombstones have no text; Chroma wants all documents or none.
                    documents=[d or "" for d in docs],
                )
        return stored

    def delete(self, versions: list[Version]) -> None:
        self.delete_ids([v.record_id for v in versions])

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), self.max_batch):
            with self.client.calls():
                self.collection.delete(ids=ids[start : start + self.max_batch])

    def versions(self, article_ids: list[str]) -> dict[str, list[Version]]:
        """Every stored version of these articles (metadata only), by article."""
        found: dict[str, list[Version]] = {}
        unique = list(dict.fromkeys(article_ids))
        for start in range(0, len(unique), ID_BATCH):
            with self.client.calls():
                got = self.collection.get(
                    where={"article_id": {"$in": unique[start : start + ID_BATCH]}},
                    include=["metadatas"])
            for version in _versions(got):
                found.setdefault(version.article_id, []).append(version)
        return found

    def current(self, article_ids: list[str]) -> dict[str, Version]:
        """The current version of each of these articles that has one (tombstones too)."""
        return {aid: current(vs) for aid, vs in self.versions(article_ids).items()}

    def texts(self, versions: list[Version]) -> dict[str, str]:
        """``record_id -> text`` of these versions (a version deleted meanwhile is absent)."""
        ids = [v.record_id for v in versions]
        found: dict[str, str] = {}
        for start in range(0, len(ids), ID_BATCH):
            with self.client.calls():
                got = self.collection.get(ids=ids[start : start + ID_BATCH],
                                          include=["documents"])
            found.update(zip(got["ids"], got["documents"], strict=True))
        return found

    def embeddings(self, versions: list[Version]) -> dict[str, np.ndarray]:
        ids = [v.record_id for v in versions]
        with self.client.calls():
            got = self.collection.get(ids=ids, include=["embeddings"])
        return {rid: np.asarray(vec, dtype=np.float32)
                for rid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    def committed_since(self, ms: int) -> list[Version]:
        """Every version committed at or after ``ms`` (epoch milliseconds)."""
        with self.client.calls():
            got = self.collection.get(where={"c": {"$gte": ms}}, include=["metadatas"])
        return _versions(got)

    def of_origin(self, origin: str) -> list[Version]:
        with self.client.calls():
            got = self.collection.get(where={"origin": origin}, include=["metadatas"])
        return _versions(got)

    def scan(self) -> Iterator[Version]:
        """Every stored version, page by page (metadata only)."""
        for got in self.client.pages(self.collection):
            yield from _versions(got)


def _versions(got) -> list[Version]:
    # A record deleted while Chroma answered can come back without its metadata.
    return [Version.from_metadata(m) for m in got["metadatas"] if m]


def _with_commit_time(version: Version, ms: int) -> Version:
    from dataclasses import replace

    return replace(version, committed_ms=ms)
