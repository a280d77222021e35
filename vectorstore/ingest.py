"""Ingest: load -> chunk -> embed -> store, idempotently, in bounded batches.

Chunk ids are stable (``<article_id>:<n>``) and carry a content hash, so a re-run embeds
only new or changed chunks (unchanged ones keep their vectors), stores nothing for an
unchanged article, and deletes the articles gone from an ingested folder. Articles arrive
as an iterable and are read a few hundred at a time, so a large feed never sits in memory
whole. Each batch is stored by ``Corpus.write``, which commits or discards it whole; a run
killed at any point is completed by the next run.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vectorstore.article import Article, Rejected
from vectorstore.chunk import CHUNKER_VERSION, Chunk, chunk_article
from vectorstore.corpus import Corpus, Pending
from vectorstore.docstore import read_legacy
from vectorstore.embed import DIMENSIONS, Embedder, embed_passages
from vectorstore.load import iter_sources
from vectorstore.records import Version

Progress = Callable[[int, int], None]
BATCH_CHUNKS = 2048  # chunks embedded, and articles stored, per batch
PLAN_ARTICLES = 256  # articles looked up in Chroma at once


@dataclass
class IngestReport:
    articles: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    articles_removed: int = 0
    superseded: int = 0  # articles a newer write (another process's) replaced first
    rejected: list[Rejected] = field(default_factory=list)
    cleaned: list[tuple[str, str]] = field(default_factory=list)  # (article_id, what)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{self.articles} articles: {self.added} chunks added, {self.unchanged} unchanged, "
            f"{self.removed} removed ({self.articles_removed} articles removed) "
            f"in {self.seconds:.1f}s"
        )
        if self.superseded:
            text += f"\n{self.superseded} articles were meanwhile replaced by a newer write"
        for r in self.rejected:
            text += f"\nskipped {r.path}: {r.reason}"
        for article_id, note in self.cleaned:
            text += f"\ncleaned {article_id}: {note}"
        return text

    @classmethod
    def from_json(cls, data: dict) -> IngestReport:
        """The inverse of ``to_json`` (a report sent over the wire)."""
        return cls(
            articles=data["articles"], added=data["added"], unchanged=data["unchanged"],
            removed=data["removed"], articles_removed=data["articles_removed"],
            superseded=data.get("superseded", 0),
            rejected=[Rejected(r["path"], r["reason"], r.get("where", ""))
                      for r in data["rejected"]],
            cleaned=[(c["article_id"], c["note"]) for c in data["cleaned"]],
            seconds=data["seconds"],
        )

    def to_json(self) -> dict:
        return {
            "articles": self.articles, "added": self.added, "unchanged": self.unchanged,
            "removed": self.removed, "articles_removed": self.articles_removed,
            "superseded": self.superseded,
            "rejected": [{"path": r.path, "reason": r.reason, "where": r.where}
                         for r in self.rejected],
            "cleaned": [{"article_id": aid, "note": note} for aid, note in self.cleaned],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Work:
    article: Article
    hash: str
    chunks: list[Chunk]
    to_embed: list[Chunk]
    reuse: dict[str, str]  # chunk_id -> id of a stored vector with the same content


def doc_hash(article: Article, chunk_chars: int) -> str:
    return f"{article.content_hash}:{CHUNKER_VERSION}:{chunk_chars}"


class Ingestor:
    """Reconcile the corpus with a stream of articles."""

    def __init__(self, corpus: Corpus, embedder: Embedder, chunk_chars: int = 350):
        self.corpus = corpus
        self.store = corpus.vectors
        self.docs = corpus.cache
        self.embedder = embedder
        self.chunk_chars = chunk_chars

    def ingest_paths(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders (``load.iter_sources``); articles gone from a replacing
        source are removed."""
        started = time.perf_counter()
        rejected: list[Rejected] = []
        replace: set[str] = set()

        def articles() -> Iterator[Article]:
            # Streamed: a 10 MB feed or CSV is never held whole, only its ids.
            for source in iter_sources(paths):
                before = len(rejected)
                for item in source.items:
                    if isinstance(item, Article):
                        yield item
                    else:
                        rejected.append(item)
                # A record that could not be read this time may be a stored article: a
                # source with one removes nothing this run, rather than delete what it
                # could not read.
                if source.replaces and len(rejected) == before:
                    replace.add(source.origin)

        report = self.ingest(articles(), replace_sources=replace, progress=progress)
        report.rejected = rejected
        report.seconds = time.perf_counter() - started
        return report

    def ingest(
        self,
        articles: Iterable[Article],
        replace_sources: set[str] = frozenset(),
        progress: Progress | None = None,
        rewrite: frozenset[str] = frozenset(),
    ) -> IngestReport:
        """Store ``articles``; delete stored articles of ``replace_sources`` not among them.

        ``replace_sources`` is read once ``articles`` is consumed, so a caller streaming
        them can fill it as it goes. ``rewrite`` names articles to store again even if
        unchanged (a repair)."""
        started = time.perf_counter()
        report = IngestReport()
        seen: dict[str, set[str]] = defaultdict(set)
        pipeline = _Pipeline(self, report, progress)
        try:
            for group in _groups(articles, PLAN_ARTICLES):
                report.articles += len(group)
                for article in group:
                    report.cleaned += [(article.article_id, note) for note in article.notes]
                    seen[article.origin].add(article.article_id)
                for work in self._plan(group, report, rewrite):
                    pipeline.add(work)
            pipeline.finish()
        finally:
            pipeline.close()
        self._remove({origin: seen[origin] for origin in replace_sources}, report)
        report.seconds = time.perf_counter() - started
        return report

    def _plan(self, group: list[Article], report: IngestReport,
              rewrite: frozenset[str]) -> list[_Work]:
        """Compare a group with Chroma: what to store, and which vectors can be kept."""
        latest = {a.article_id: a for a in group}  # a repeated id: the last one counts
        now = self.corpus.records.current(list(latest))
        changed: list[tuple[Article, Version | None]] = []
        for article in latest.values():
            version = now.get(article.article_id)
            live = version is not None and not version.deleted
            if (live and version.hash == doc_hash(article, self.chunk_chars)
                    and article.article_id not in rewrite):
                report.unchanged += version.chunks
            else:
                changed.append((article, version if live else None))
        if not changed:
            return []
        reusable = self._reusable([a.article_id for a, _ in changed], now)
        work = []
        for article, version in changed:
            chunks = chunk_article(article, self.chunk_chars)
            own = reusable.get(article.article_id, {})
            reuse = {c.chunk_id: own[c.content_hash] for c in chunks if c.content_hash in own}
            to_embed = [c for c in chunks if c.chunk_id not in reuse]
            report.unchanged += len(reuse)
            report.removed += max(0, (version.chunks if version else 0) - len(chunks))
            work.append(_Work(article, doc_hash(article, self.chunk_chars), chunks, to_embed,
                              reuse))
        return work

    def _reusable(self, article_ids: list[str],
                  now: dict[str, Version]) -> dict[str, dict[str, str]]:
        """``article_id -> chunk hash -> vector id`` of vectors already stored, preferring
        the current version's (no other writer deletes those before it is superseded)."""
        found: dict[str, dict[str, str]] = {}
        for stored in self.corpus.vectors.of_articles(article_ids):
            version = now.get(stored.article_id)
            mine = found.setdefault(stored.article_id, {})
            if stored.chunk_hash not in mine or (version and stored.stamp == version.stamp):
                mine[stored.chunk_hash] = stored.vector_id
        return found

    def _write(self, batch: list[_Work], embedded: dict[tuple[str, str], np.ndarray],
               report: IngestReport) -> int:
        """Gather every vector of the batch (new and kept) and store it whole."""
        keep = [vid for w in batch for vid in w.reuse.values()]
        kept = self.corpus.vectors.vectors(keep) if keep else {}
        # A kept vector can vanish if its version was superseded meanwhile: embed it again.
        lost = [c for w in batch for c in w.chunks
                if c.chunk_id in w.reuse and w.reuse[c.chunk_id] not in kept]
        if lost:
            vectors = embed_passages(self.embedder, [c.text for c in lost],
                                     [c.title for c in lost])
            embedded = {**embedded, **dict(zip(map(_key, lost), vectors, strict=True))}
        pending = []
        for w in batch:
            vectors = [embedded[_key(c)] if _key(c) in embedded else kept[w.reuse[c.chunk_id]]
                       for c in w.chunks]
            pending.append(Pending(w.article, w.hash, self.chunk_chars, w.chunks,
                                   np.stack(vectors) if vectors
                                   else np.zeros((0, DIMENSIONS), dtype=np.float32)))
        result = self.corpus.write(pending)
        report.added += len(embedded)
        report.superseded += len(result.superseded)
        return len(embedded)

    def _remove(self, seen: dict[str, set[str]], report: IngestReport) -> None:
        """Delete the stored articles of each ingested folder that it no longer holds."""
        for origin, ids in seen.items():
            stored = {v.article_id for v in self.corpus.records.of_origin(origin)
                      if not v.deleted}
            gone = sorted(stored - ids)
            if not gone:
                continue
            # Only those whose current version still comes from this folder.
            now = self.corpus.records.current(gone)
            doomed = [aid for aid, v in now.items() if not v.deleted and v.origin == origin]
            for aid in self.corpus.delete(doomed):
                report.articles_removed += 1
                report.removed += now[aid].chunks

    def migrate_legacy(self, path: Path) -> IngestReport:
        """Move a 0.3.0 store (texts in ``docstore.sqlite3``, vectors without versions) into
        Chroma; vectors are kept, not embedded again."""
        report = self.ingest(read_legacy(path))
        legacy = [v.vector_id for v in self.corpus.vectors.scan() if v.stamp is None]
        self.corpus.vectors.delete(legacy)
        try:
            path.rename(path.with_name(path.name + ".migrated"))
        except FileNotFoundError:
            pass  # another worker on the same data directory moved it first
        return report

    def remove_article(self, article_id: str) -> bool:
        """Delete one article everywhere; return whether it existed."""
        return bool(self.corpus.delete([article_id]))


class _Pipeline:
    """Embed batch n + 1 while a writer thread stores batch n.

    The model and Chroma release the GIL, so the writes hide behind the embedding. One
    writer keeps the batches in order, and waiting for it before queueing the next bounds
    memory to two batches.
    """

    def __init__(self, ingestor: Ingestor, report: IngestReport, progress: Progress | None):
        self.ingestor = ingestor
        self.report = report
        self.progress = progress
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write")
        self.writing: Future | None = None
        self.batch: list[_Work] = []
        self.pending = 0
        self.total = 0
        self.done = 0

    def add(self, work: _Work) -> None:
        self.batch.append(work)
        self.pending += len(work.to_embed)
        self.total += len(work.to_embed)
        if self.pending >= BATCH_CHUNKS or len(self.batch) >= PLAN_ARTICLES:
            self._flush()

    def _flush(self) -> None:
        if not self.batch:
            return
        chunks = [c for w in self.batch for c in w.to_embed]
        vectors = (embed_passages(self.ingestor.embedder, [c.text for c in chunks],
                                  [c.title for c in chunks]) if chunks else [])
        embedded = dict(zip(map(_key, chunks), vectors, strict=True))
        self._wait()
        self.writing = self.writer.submit(self.ingestor._write, self.batch, embedded,
                                          self.report)
        self.batch, self.pending = [], 0

    def _wait(self) -> None:
        if self.writing is not None:
            self.done += self.writing.result()
            self.writing = None
            if self.progress:
                self.progress(self.done, self.total)

    def finish(self) -> None:
        self._flush()
        self._wait()

    def close(self) -> None:
        self.writer.shutdown(wait=True)


def _key(chunk: Chunk) -> tuple[str, str]:
    return chunk.chunk_id, chunk.content_hash


def _groups(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(articles)
    while group := list(itertools.islice(it, size)):
        yield group
