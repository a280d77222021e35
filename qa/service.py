"""The question-answering service: the parts wired once; answering is ``qa.pipeline``."""

from __future__ import annotations

import atexit
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from qa import handoff
from qa.compose import ExtractiveAnswerer, SentenceVectors
from qa.contract import AskRequest
from qa.focus import country_forms
from qa.pipeline import Pipeline
from qa.readers import Reader, make_reader
from qa.readers.extractive import ExtractiveReader
from qa.retrieve import Passage, Retriever
from qa.settings import Settings
from qa.verify import Verifier
from vectorstore.check import check_in_background
from vectorstore.corpus import LEGACY_FILE, Corpus
from vectorstore.docstore import DocStore
from vectorstore.embed import Embedder, LazyEmbedder, make_embedder
from vectorstore.ingest import Ingestor, IngestReport
from vectorstore.store import VectorStore

log = logging.getLogger(__name__)


class QAService:
    """Holds the store, embedder and answerer; opens them on first use, not at import."""

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder] | None = None,
        reader_factory: Callable[[QAService], Reader] | None = None,
    ):
        self.settings = settings
        self._embedder_factory = embedder_factory or (
            lambda: make_embedder(settings.embed_precision, settings.embed_batch_size)
        )
        self._lock = threading.RLock()
        self._embedder: Embedder | None = None
        self._corpus: Corpus | None = None
        self._answerer: ExtractiveAnswerer | None = None
        self._seeded = False
        self._verifier: Verifier | None = None
        self._warming: threading.Thread | None = None
        # Proves a `flask ingest` beside this server can read the data directory.
        self.ingest_token = secrets.token_urlsafe(32)
        self._advertised = False
        # Built now, so a bad QA_ANSWER_MODEL or a missing package fails at start-up; a
        # model itself loads on first use (or in warm_up).
        self.extractive = ExtractiveReader(self)
        self.reader: Reader = (reader_factory(self) if reader_factory
                               else make_reader(settings.answer_model, settings, self))
        self.pipeline = Pipeline(self, self.reader, self.extractive, settings)

    # -- the parts, opened lazily -----------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = LazyEmbedder(self._embedder_factory)
            return self._embedder

    @property
    def corpus(self) -> Corpus:
        """Chroma (the source of truth) and this worker's cache of it."""
        with self._lock:
            if self._corpus is None:
                self._corpus = Corpus.open(self.settings)
            return self._corpus

    @property
    def store(self) -> VectorStore:
        return self.corpus.vectors

    @property
    def docs(self) -> DocStore:
        """The local cache, built from Chroma on first use and kept in sync from then on."""
        return self.corpus.ready()

    @property
    def retriever(self) -> Retriever:
        return Retriever(self.corpus, self.embedder)

    @property
    def scorer(self) -> ExtractiveAnswerer:
        """Scores every retrieved sentence against the question, for every reader."""
        with self._lock:
            if self._answerer is None:
                self._answerer = ExtractiveAnswerer(self.embedder, self.docs)
            return self._answerer

    @property
    def verifier(self) -> Verifier:
        with self._lock:
            if self._verifier is None:
                self._verifier = Verifier(SentenceVectors(self.embedder))
            return self._verifier

    @property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.corpus, self.embedder, self.settings.chunk_chars)

    def close(self) -> None:
        """Close the store and free the answer model; either opens again on next use."""
        with self._lock:
            if self._corpus is not None:
                self._corpus.close()
                self._corpus = None
        close = getattr(self.reader, "close", None)
        if close is not None:
            close()

    # -- lifecycle ----------------------------------------------------------------------

    def advertise(self, host: str, port: int | str) -> None:
        """Once serving: say where, so `flask ingest` can hand this process its paths while
        it holds the embedded store (``qa.handoff``). A Chroma server needs no hand-off."""
        if self._advertised or self.settings.uses_chroma_server or not port:
            return
        self._advertised = True
        data_dir = Path(self.settings.data_dir)
        handoff.advertise(data_dir, handoff.local_url(host, port), self.ingest_token)
        atexit.register(handoff.withdraw, data_dir)

    def ensure_seeded(self) -> IngestReport | None:
        """Ingest the seed corpus when the store is empty (first start)."""
        with self._lock:
            if self._seeded:
                return None
            report = None
            legacy = Path(self.settings.data_dir) / LEGACY_FILE
            if self.corpus.records.count() == 0 and legacy.exists():
                report = self.ingestor.migrate_legacy(legacy)
                log.info("moved the articles of %s into Chroma: %s", legacy, report.summary())
            elif self.corpus.is_empty():
                seeds = Path(self.settings.seeds_dir)
                if seeds.is_dir():
                    report = self.ingestor.ingest_paths([seeds])
                    log.info("first start: ingested %s", report.summary())
            self._seeded = True
            return report

    def warm_up(self, wait: bool = True) -> threading.Thread | None:
        """Load the models and the stores so the first question is as fast as the rest.

        ``wait=False`` warms the answer model in a thread instead (a local model takes a few
        seconds to evaluate its instructions): the server can listen meanwhile, and a
        question that comes first waits for the model as it would have anyway.
        """
        self.ensure_seeded()
        self.docs  # noqa: B018 - build the local cache now if this worker has none
        self.embedder.embed_documents(["warm up"] * 2)
        self.scorer  # noqa: B018 - build it now, not on the first request
        country_forms()  # the table both readers' focus check reads (0.3 s)
        check_in_background(self.corpus)
        warm = getattr(self.reader, "warm_up", None)
        if warm is None:
            return None
        if wait:
            warm()
            return None
        thread = threading.Thread(target=_warm, args=(warm,), name="warm-model", daemon=True)
        self._warming = thread
        thread.start()
        return thread

    @property
    def warming(self) -> bool:
        """Whether the answer model is still warming in the background (``/readyz`` says so:
        a question asked meanwhile waits for it)."""
        return self._warming is not None and self._warming.is_alive()

    # -- the read path --------------------------------------------------------------------

    def search(self, text: str, k: int) -> list[Passage]:
        self.ensure_seeded()
        retriever = self.retriever
        return retriever.search(retriever.prepare(text), k)

    def events(self, request: AskRequest, stream: bool = False) -> Iterator[tuple[str, dict]]:
        """Answer as events: ``retrieval``, ``token`` (a model's draft), ``final``."""
        return self.pipeline.events(request, stream)

    def ask(self, request: AskRequest) -> dict:
        return self.pipeline.ask(request)


def _warm(warm: Callable[[], None]) -> None:
    try:
        warm()
    except Exception:  # the first question will meet the same failure and degrade
        log.exception("warming the answer model failed")
