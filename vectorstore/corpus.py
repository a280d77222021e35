"""The corpus: everything durable in Chroma, a local cache beside it, and how writes commit.

Chroma is the single source of truth, in both modes: the passage vectors (store.py) and
one record per article version (records.py). The SQLite file in ``QA_DATA_DIR`` is this
worker's cache (docstore.py), rebuilt from Chroma and kept fresh by sync.py.

How a write stays whole without transactions, across processes sharing a Chroma server:

1. A write takes a new stamp and stores a complete set of passage vectors under ids
   ``<chunk_id>@<stamp>`` (embedding only what changed; unchanged vectors are copied).
   Nothing can read them yet: readers use only the vectors of an article's current version.
2. It then adds the article record ``<article_id>@<stamp>``: the commit point. The current
   version of an article is its record with the highest stamp; a delete adds a tombstone.
   Records are added, never overwritten, so writes of one article converge to the latest
   stamp whatever order they land in, and a late, older write cannot undo a newer one.
3. It then settles the article: deletes the records and the vectors of every version
   older than the current one. Nothing else deletes vectors, except the orphan sweep of
   ``check --repair``, and that only for versions that never committed and are older than
   ``QA_ORPHAN_GRACE_S`` (a writer gives up rather than commit later than half of that).

So a committed current version always has all its vectors; vectors whose version is not
current are invisible and deleted by whoever supersedes them. In one process writes are
also serialised by a lock.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import StoreError
from vectorstore.article import Article
from vectorstore.chunk import CHUNKER_VERSION, Chunk
from vectorstore.docstore import Cached, DocStore, Entry
from vectorstore.embed import DIMENSIONS
from vectorstore.records import ArticleRecords, Version, current, new_stamp
from vectorstore.store import Client, VectorStore, vector_id

CACHE_FILE = "cache.sqlite3"
LEGACY_FILE = "docstore.sqlite3"  # 0.3.0 kept article texts only here
# Tombstones need an embedding too; any fixed unit vector will do.
_TOMBSTONE = np.eye(1, DIMENSIONS, dtype=np.float32)


@dataclass
class Pending:
    """One article version ready to be stored: its passages and a vector for each."""

    article: Article
    hash: str
    chunk_chars: int
    chunks: list[Chunk]
    vectors: np.ndarray


@dataclass
class WriteResult:
    committed: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)  # a newer write of theirs won


class Corpus:
    """Chroma's two collections, this worker's cache, and the write protocol above."""

    def __init__(self, client: Client, collection: str, cache_path: Path,
                 orphan_grace_s: float = 600.0, sync_interval_s: float = 2.0):
        from vectorstore.sync import Syncer

        self.client = client
        self.vectors = VectorStore(client, collection)
        self.records = ArticleRecords(client, f"{collection}_records")
        self.cache = DocStore(cache_path)
        self.orphan_grace_s = orphan_grace_s
        self.write_lock = threading.Lock()
        self.syncer = Syncer(self, sync_interval_s)
        self._ready = False
        self._ready_lock = threading.Lock()

    @classmethod
    def open(cls, settings) -> Corpus:
        client = Client.open(settings)
        try:
            return cls(client, settings.collection, Path(settings.data_dir) / CACHE_FILE,
                       settings.orphan_grace_s, settings.sync_interval_s)
        except BaseException:
            client.close()
            raise

    @property
    def identity(self) -> str:
        """Which store the cache belongs to: a recreated collection means a new store."""
        return f"{self.vectors.collection.id}/{self.records.collection.id}"

    def close(self) -> None:
        self.syncer.stop()
        self.client.close()

    def is_empty(self) -> bool:
        return self.records.count() == 0 and self.vectors.count() == 0

    def ready(self) -> DocStore:
        """Return the cache, first building it from Chroma if it is missing or foreign."""
        if self._ready:
            return self.cache
        with self._ready_lock:
            if not self._ready:
                if self.cache.get_meta("store") != self.identity:
                    self.syncer.rebuild()
                else:
                    self.syncer.poll()
                self.syncer.start()
                self._ready = True
        return self.cache

    # -- writes ------------------------------------------------------------------------

    def write(self, pending: list[Pending]) -> WriteResult:
        """Store these article versions: vectors, then records (the commit), then settle."""
        if not pending:
            return WriteResult()
        with self.write_lock:
            stamp = new_stamp()
            started = time.monotonic()
            ids, metas = [], []
            for p in pending:
                extra = _filter_metadata(p.article)
                for c in p.chunks:
                    ids.append(vector_id(c.chunk_id, stamp))
                    metas.append({"article_id": c.article_id, "s": stamp,
                                  "hash": c.content_hash, **extra})
            try:
                self.vectors.upsert(ids, np.concatenate([p.vectors for p in pending]), metas)
                if time.monotonic() - started > self.orphan_grace_s / 2:
                    raise StoreError("a write took too long to commit; it was rolled back")
            except BaseException:
                self._forget(ids)
                raise
            versions = [
                Version(p.article.article_id, stamp, hash=p.hash, chunks=len(p.chunks),
                        chunk_chars=p.chunk_chars, chunker=CHUNKER_VERSION,
                        title=p.article.title,
                        origin=p.article.origin, published=p.article.published,
                        published_ts=p.article.published_ts, source=p.article.source,
                        url=p.article.url)
                for p in pending
            ]
            centroids = np.stack([_centroid(p.vectors) for p in pending])
            self.records.commit(versions, [p.article.text for p in pending], centroids)
            now = self.settle([v.article_id for v in versions])
            result = WriteResult()
            entries = []
            for p in pending:
                aid = p.article.article_id
                if now.get(aid) is not None and now[aid].stamp == stamp:
                    result.committed.append(aid)
                    entries.append(Entry(p.article, p.chunks, p.hash, stamp))
                else:
                    result.superseded.append(aid)
            self.cache.put(entries)
            return result

    def delete(self, article_ids: list[str]) -> list[str]:
        """Delete these articles (tombstone first, then their vectors); return those that
        existed."""
        with self.write_lock:
            before = self.records.current(article_ids)
            existed = [aid for aid in dict.fromkeys(article_ids)
                       if aid in before and not before[aid].deleted]
            if existed:
                stamp = new_stamp()
                tombstones = [Version(aid, stamp, deleted=True) for aid in existed]
                self.records.commit(tombstones, [None] * len(existed),
                                    np.repeat(_TOMBSTONE, len(existed), axis=0))
                self.settle(existed)
                self.cache.delete_articles(existed, before=stamp)
            return existed

    def settle(self, article_ids: list[str]) -> dict[str, Version]:
        """Delete every version of these articles older than its current one; return the
        current versions."""
        versions = self.records.versions(article_ids)
        now = {aid: current(vs) for aid, vs in versions.items()}
        superseded = [v for aid, vs in versions.items() for v in vs if v.stamp < now[aid].stamp]
        by_stamp: dict[int, list[str]] = defaultdict(list)
        for aid, version in now.items():
            by_stamp[version.stamp].append(aid)
        for stamp, aids in by_stamp.items():
            self.vectors.delete_older(aids, stamp)
        if superseded:
            self.records.delete(superseded)
        return now

    def _forget(self, vector_ids: list[str]) -> None:
        try:
            self.vectors.delete(vector_ids)
        except StoreError:
            pass  # left for the orphan sweep: uncommitted vectors are invisible anyway

    # -- reads -------------------------------------------------------------------------

    def stale(self, cached: dict[str, Cached]) -> set[str]:
        """Of these cached articles, those deleted or changed in Chroma (one lookup); any
        difference wakes the sync."""
        if not cached:
            return set()
        now = self.records.current(list(cached))
        gone = {aid for aid, c in cached.items()
                if (v := now.get(aid)) is None or v.deleted or v.hash != c.hash}
        if gone or any(now[aid].stamp != c.stamp for aid, c in cached.items() if aid in now):
            self.syncer.wake()
        return gone


def _filter_metadata(article: Article) -> dict:
    """The article fields passages are filtered on inside the dense search."""
    extra: dict = {}
    if article.published_ts is not None:
        extra["published_ts"] = article.published_ts
    if article.source is not None:
        extra["source"] = article.source
    return extra


def _centroid(vectors: np.ndarray) -> np.ndarray:
    """The article's embedding in its record: the mean of its passage vectors."""
    if not len(vectors):
        return _TOMBSTONE[0]
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else _TOMBSTONE[0]).astype(np.float32)
