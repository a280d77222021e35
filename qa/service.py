"""The question-answering service: the parts wired once, and ``ask`` from question to answer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.cite import render
from qa.compose import ExtractiveAnswerer
from qa.condense import Turn, condense
from qa.retrieve import Passage, Retriever
from qa.settings import Settings
from vectorstore.docstore import DocStore
from vectorstore.embed import Embedder, LazyEmbedder, make_embedder
from vectorstore.ingest import Ingestor, IngestReport
from vectorstore.store import VectorStore

log = logging.getLogger(__name__)


@dataclass
class AskRequest:
    question: str
    history: list[Turn] = field(default_factory=list)


class QAService:
    """Holds the store, embedder and answerer; opens them on first use, not at import."""

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder] | None = None,
    ):
        self.settings = settings
        self._embedder_factory = embedder_factory or (
            lambda: make_embedder(settings.embed_precision, settings.embed_batch_size)
        )
        self._lock = threading.RLock()
        self._embedder: Embedder | None = None
        self._store: VectorStore | None = None
        self._docs: DocStore | None = None
        self._answerer: ExtractiveAnswerer | None = None
        self._seeded = False

    # -- the parts, opened lazily -----------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = LazyEmbedder(self._embedder_factory)
            return self._embedder

    @property
    def store(self) -> VectorStore:
        with self._lock:
            if self._store is None:
                self._store = VectorStore.open(self.settings)
            return self._store

    @property
    def docs(self) -> DocStore:
        with self._lock:
            if self._docs is None:
                self._docs = DocStore(Path(self.settings.data_dir) / "docstore.sqlite3")
            return self._docs

    @property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.docs, self.embedder)

    @property
    def answerer(self) -> ExtractiveAnswerer:
        with self._lock:
            if self._answerer is None:
                self._answerer = ExtractiveAnswerer(self.embedder, self.docs)
            return self._answerer

    @property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.docs, self.embedder, self.settings.chunk_chars)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- lifecycle ----------------------------------------------------------------------

    def ensure_seeded(self) -> IngestReport | None:
        """Ingest the seed corpus when the store is empty (first start)."""
        with self._lock:
            if self._seeded:
                return None
            report = None
            if self.docs.count_articles() == 0 and self.store.count() == 0:
                seeds = Path(self.settings.seeds_dir)
                if seeds.is_dir():
                    report = self.ingestor.ingest_paths([seeds])
                    log.info("first start: ingested %s", report.summary())
            self._seeded = True
            return report

    def warm_up(self) -> None:
        """Load the model and the stores so the first question is as fast as the rest."""
        self.ensure_seeded()
        self.embedder.embed_documents(["warm up"] * 2)
        self.answerer  # noqa: B018 - build it now, not on the first request

    # -- the read path --------------------------------------------------------------------

    def search(self, text: str, k: int) -> list[Passage]:
        self.ensure_seeded()
        retriever = self.retriever
        return retriever.search(retriever.prepare(text), k)

    def ask(self, request: AskRequest) -> dict:
        started = time.perf_counter()
        self.ensure_seeded()
        standalone = condense(request.question, request.history)
        retriever = self.retriever
        query = retriever.prepare(standalone.text)
        passages = retriever.search(query, self.settings.top_k, boost=standalone.carried_articles)
        retrieved_at = time.perf_counter()
        claims, abstained = self.answerer.answer(query, passages)
        text, citations = render(claims)
        answered_at = time.perf_counter()
        response = {
            "answer": text,
            "abstained": abstained,
            "citations": [c.to_json() for c in citations],
            "model": self.answerer.name,
            "timings_ms": {
                "retrieve": _ms(retrieved_at - started),
                "answer": _ms(answered_at - retrieved_at),
                "total": _ms(time.perf_counter() - started),
            },
            "retrieved": [p.to_json() for p in passages],
            "degraded": False,
        }
        if standalone.rewritten:
            response["standalone_question"] = standalone.text
        return response


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
