"""The question-answering service: the parts wired once, and ``ask`` from question to answer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from qa import models
from qa.cite import Claim, render
from qa.compose import ABSTAIN_TEXT, ExtractiveAnswerer, rerank
from qa.condense import Standalone, Turn, condense
from qa.contract import AskRequest
from qa.decompose import split_question
from qa.generate import GenerativeAnswerer, final_response, generative_events
from qa.models import ChatModel
from qa.retrieve import Passage, Retriever
from qa.settings import Settings
from vectorstore.docstore import DocStore
from vectorstore.embed import Embedder, LazyEmbedder, make_embedder
from vectorstore.ingest import Ingestor, IngestReport
from vectorstore.store import VectorStore

log = logging.getLogger(__name__)
MAX_PART_CLAIMS = 2  # per part of a multi-part question


class QAService:
    """Holds the store, embedder and answerer; opens them on first use, not at import."""

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder] | None = None,
        answer_model_factory: Callable[[], ChatModel] | None = None,
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
        # Checked now, so a bad QA_ANSWER_MODEL or a missing package fails at start-up.
        self._model_factory = answer_model_factory or models.answer_model_factory(settings)
        self._generator: GenerativeAnswerer | None = None

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
        if self.generator is not None:
            self.generator.model  # noqa: B018 - load a local model before serving

    # -- the read path --------------------------------------------------------------------

    def search(self, text: str, k: int) -> list[Passage]:
        self.ensure_seeded()
        retriever = self.retriever
        return retriever.search(retriever.prepare(text), k)

    def standalone_questions(self, request: AskRequest) -> list[Standalone]:
        """Resolve follow-ups against the history and split multi-part questions."""
        parts = split_question(request.question)
        resolved = []
        for i, part in enumerate(parts):
            # Later parts may lean on the first ("... and how much of *it* is unfunded?").
            history = request.history + ([Turn("user", parts[0])] if i else [])
            resolved.append(condense(part, history))
        return resolved

    @property
    def generator(self) -> GenerativeAnswerer | None:
        """The generative answerer, or ``None`` when the answerer is extractive."""
        with self._lock:
            if self._generator is None and self._model_factory is not None:
                self._generator = GenerativeAnswerer(
                    self.settings.answer_model, self._model_factory, self.embedder,
                    self.settings.unverified,
                )
            return self._generator

    def events(self, request: AskRequest, stream: bool = False) -> Iterator[tuple[str, dict]]:
        """Answer as events: ``retrieval``, ``token`` (generative only), ``final``."""
        if self.generator is not None:
            yield from generative_events(self, request, stream)
            return
        response = self.ask_extractive(request)
        yield "retrieval", {"passages": response["retrieved"]}
        yield "final", response

    def ask(self, request: AskRequest) -> dict:
        """Answer with the configured answerer (degrading to extractive on model failure)."""
        if self.generator is not None:
            return final_response(self.events(request))
        return self.ask_extractive(request)

    def ask_extractive(self, request: AskRequest) -> dict:
        started = time.perf_counter()
        self.ensure_seeded()
        retriever = self.retriever
        retrieve_s = answer_s = 0.0
        claims: list[Claim] = []
        passages: list[Passage] = []
        standalones = self.standalone_questions(request)
        for standalone in standalones:
            t0 = time.perf_counter()
            query = retriever.prepare(standalone.text, standalone.question)
            found = retriever.search(query, self.settings.top_k,
                                     boost=standalone.carried_articles)
            t1 = time.perf_counter()
            candidates = self.answerer.candidates(query, found)
            part_claims, abstained = self.answerer.decide(query, found, candidates)
            found = rerank(found, candidates, self.answerer.weights)
            answer_s += time.perf_counter() - t1
            retrieve_s += t1 - t0
            seen = {c.text for c in claims}
            if not abstained:
                claims += [c for c in part_claims if c.text not in seen][:MAX_PART_CLAIMS]
            listed = {p.chunk_id for p in passages}
            passages += [p for p in found if p.chunk_id not in listed]
        abstained = not claims
        if abstained:
            claims = [Claim(ABSTAIN_TEXT)]
        text, citations = render(claims)
        response = {
            "answer": text,
            "abstained": abstained,
            "citations": [c.to_json() for c in citations],
            "model": self.answerer.name,
            "timings_ms": {
                "retrieve": _ms(retrieve_s),
                "answer": _ms(answer_s),
                "total": _ms(time.perf_counter() - started),
            },
            "retrieved": [p.to_json() for p in passages[: self.settings.top_k]],
            "degraded": False,
        }
        if len(standalones) > 1 or standalones[0].rewritten:
            response["standalone_question"] = " | ".join(s.text for s in standalones)
        return response


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
