"""Ingest: load -> chunk -> embed -> store, idempotently.

Chunk ids are stable (``<article_id>:<n>``) and carry a content hash, so a re-run
embeds only new or changed chunks, replaces changed articles and deletes removed
ones. Each store is reconciled against its own contents, so a run killed at any
point is completed by the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from vectorstore.article import Article, Rejected
from vectorstore.chunk import CHUNKER_VERSION, Chunk, chunk_article
from vectorstore.docstore import DocStore
from vectorstore.embed import Embedder, embed_passages
from vectorstore.load import iter_sources
from vectorstore.store import VectorStore

Progress = Callable[[int, int], None]
BATCH_CHUNKS = 2048


@dataclass
class IngestReport:
    articles: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    articles_removed: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    cleaned: list[tuple[str, str]] = field(default_factory=list)  # (article_id, what)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{self.articles} articles: {self.added} chunks added, {self.unchanged} unchanged, "
            f"{self.removed} removed ({self.articles_removed} articles removed) "
            f"in {self.seconds:.1f}s"
        )
        for r in self.rejected:
            text += f"\nskipped {r.path}: {r.reason}"
        for article_id, note in self.cleaned:
            text += f"\ncleaned {article_id}: {note}"
        return text

    def to_json(self) -> dict:
        return {
            "articles": self.articles, "added": self.added, "unchanged": self.unchanged,
            "removed": self.removed, "articles_removed": self.articles_removed,
            "rejected": [{"path": r.path, "reason": r.reason} for r in self.rejected],
            "cleaned": [{"article_id": aid, "note": note} for aid, note in self.cleaned],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Work:
    article: Article
    chunks: list[Chunk]
    to_embed: list[Chunk]
    stale: list[str]
    doc_changed: bool


def doc_hash(article: Article, chunk_chars: int) -> str:
    return f"{article.content_hash}:{CHUNKER_VERSION}:{chunk_chars}"


class Ingestor:
    """Reconcile the stores with a set of articles."""

    def __init__(
        self, store: VectorStore, docs: DocStore, embedder: Embedder, chunk_chars: int = 350
    ):
        self.store = store
        self.docs = docs
        self.embedder = embedder
        self.chunk_chars = chunk_chars

    def ingest_paths(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders (``load.iter_sources``); articles gone from a replacing
        source are removed."""
        started = time.perf_counter()
        articles: list[Article] = []
        rejected: list[Rejected] = []
        replace: set[str] = set()
        for source in iter_sources(paths):
            before = len(rejected)
            for item in source.items:
                (articles if isinstance(item, Article) else rejected).append(item)
            # A record that could not be read this time may be a stored article: a source
            # with one removes nothing this run, rather than delete what it could not read.
            if source.replaces and len(rejected) == before:
                replace.add(source.origin)
        report = self.ingest(articles, replace_sources=replace, progress=progress)
        report.rejected = rejected
        report.seconds = time.perf_counter() - started
        return report

    def ingest(
        self,
        articles: list[Article],
        replace_sources: set[str] = frozenset(),
        progress: Progress | None = None,
    ) -> IngestReport:
        """Upsert ``articles``; delete stored articles of ``replace_sources`` not among them."""
        started = time.perf_counter()
        report = IngestReport(articles=len(articles))
        report.cleaned = [(a.article_id, note) for a in articles for note in a.notes]
        wanted = {a.article_id: a for a in articles}
        stored_chunks = self.store.hashes()
        stored_docs = self.docs.article_hashes()

        by_article: dict[str, list[str]] = {}
        for chunk_id, (article_id, _) in stored_chunks.items():
            by_article.setdefault(article_id, []).append(chunk_id)

        work = []
        for article in wanted.values():
            chunks = chunk_article(article, self.chunk_chars)
            ids = {c.chunk_id for c in chunks}
            to_embed = [c for c in chunks if stored_chunks.get(c.chunk_id, ("", ""))[1]
                        != c.content_hash]
            stale = [cid for cid in by_article.get(article.article_id, []) if cid not in ids]
            stored = stored_docs.get(article.article_id)
            doc_changed = stored is None or stored[0] != doc_hash(article, self.chunk_chars)
            report.unchanged += len(chunks) - len(to_embed)
            if to_embed or stale or doc_changed:
                work.append(_Work(article, chunks, to_embed, stale, doc_changed))

        self._apply(work, report, progress)
        self._remove(wanted, replace_sources, stored_docs, by_article, report)
        report.seconds = time.perf_counter() - started
        return report

    def _apply(self, work: list[_Work], report: IngestReport, progress: Progress | None) -> None:
        total = sum(len(w.to_embed) for w in work)
        done = 0
        batch: list[_Work] = []
        pending = 0
        # One writer thread stores batch n while the model embeds batch n + 1: Chroma and
        # SQLite release the GIL, so the writes hide behind the embedding. One writer keeps
        # the batches in order, and waiting for it before queueing the next bounds memory.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write") as writer:
            writing: Future | None = None
            for item in work + [None]:
                if item is not None:
                    batch.append(item)
                    pending += len(item.to_embed)
                    if pending < BATCH_CHUNKS:
                        continue
                if not batch:
                    break
                chunks = [c for w in batch for c in w.to_embed]
                vectors = (embed_passages(self.embedder, [c.text for c in chunks],
                                          [c.title for c in chunks]) if chunks else None)
                if writing is not None:
                    done += writing.result()
                    if progress:
                        progress(done, total)
                writing = writer.submit(self._write, batch, chunks, vectors, report)
                batch, pending = [], 0
            if writing is not None:
                done += writing.result()
                if progress:
                    progress(done, total)

    def _write(self, batch: list[_Work], chunks: list[Chunk], vectors, report: IngestReport) -> int:
        if chunks:
            self.store.upsert(chunks, vectors)
        stale = [cid for w in batch for cid in w.stale]
        if stale:
            self.store.delete(stale)
        # The docstore is written after the vectors: a kill in between leaves an
        # article the next run sees as changed and completes.
        for w in batch:
            if w.doc_changed or w.to_embed or w.stale:
                self.docs.put_article(
                    w.article, w.chunks, doc_hash(w.article, self.chunk_chars)
                )
        report.added += len(chunks)
        report.removed += len(stale)
        return len(chunks)

    def _remove(self, wanted, replace_sources, stored_docs, by_article, report) -> None:
        gone = [
            aid for aid, (_, source) in stored_docs.items()
            if source in replace_sources and aid not in wanted
        ]
        # Chunks whose article no store knows were orphaned by an interrupted run.
        orphans = [aid for aid in by_article if aid not in stored_docs and aid not in wanted]
        doomed = [cid for aid in gone + orphans for cid in by_article.get(aid, [])]
        if doomed:
            self.store.delete(doomed)
        if gone:
            self.docs.delete_articles(gone)
        report.removed += len(doomed)
        report.articles_removed += len(gone)

    def remove_article(self, article_id: str) -> bool:
        """Delete one article everywhere; return whether it existed."""
        existed = self.docs.article(article_id) is not None
        ids = self.store.ids_of(article_id)
        if ids:
            self.store.delete(ids)
        self.docs.delete_articles([article_id])
        return existed or bool(ids)
