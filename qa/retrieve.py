"""Hybrid retrieval: dense (Chroma) + BM25 (FTS5), fused by reciprocal rank, copies grouped."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vectorstore.docstore import DocStore, StoredChunk
from vectorstore.embed import Embedder
from vectorstore.store import VectorStore
from vectorstore.terms import terms

RRF_K = 60
# Chunks of two articles sharing this much of their vocabulary tell the same story.
DUPLICATE_JACCARD = 0.5


@dataclass
class Passage:
    chunk: StoredChunk
    score: float  # fused reciprocal-rank score
    dense: float = 0.0  # cosine similarity to the query
    keyword: float = 0.0  # BM25, 0 when the keyword search missed it
    copies: list[StoredChunk] = field(default_factory=list)  # same story, other articles

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def article_id(self) -> str:
        return self.chunk.article_id

    def to_json(self) -> dict:
        return {
            "chunk_id": self.chunk_id,
            "article_id": self.article_id,
            "title": self.chunk.title,
            "score": round(self.dense, 4),
            "same_story": [c.article_id for c in self.copies],
        }


@dataclass
class Query:
    """A question prepared once: its text, vector and stemmed terms.

    For a rewritten follow-up, ``focus`` is the vector of the question as asked and
    ``own_terms`` its terms: borrowed context finds the passages, the new words pick the
    sentence.
    """

    text: str
    vector: np.ndarray
    terms: list[str]
    focus: np.ndarray | None = None
    own_terms: frozenset[str] | None = None
    asked: str = ""  # the question as asked, when ``text`` carries borrowed context
    idf: dict[str, float] | None = None  # filled by the answerer, once per query


class Retriever:
    def __init__(
        self,
        store: VectorStore,
        docs: DocStore,
        embedder: Embedder,
        depth: int = 40,
    ):
        self.store = store
        self.docs = docs
        self.embedder = embedder
        self.depth = depth

    def prepare(self, text: str, own: str | None = None) -> Query:
        """Embed and tokenise ``text``; ``own`` is the follow-up as asked, if it was rewritten."""
        query = Query(text, self.embedder.embed_query(text), terms(text))
        if own and own != text:
            query.focus = self.embedder.embed_query(own)
            query.own_terms = frozenset(terms(own))
            query.asked = own
        return query

    def search(self, query: Query, k: int, boost: frozenset[str] = frozenset(),
               filters=None) -> list[Passage]:
        """Return the best ``k`` passages; articles in ``boost`` get one extra fused rank."""
        dense = self.store.query(query.vector, self.depth)
        keyword = self.docs.search(query.terms, self.depth)
        fused: dict[str, float] = {}
        for rank, hit in enumerate(dense):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (chunk_id, _) in enumerate(keyword):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        if boost:
            for hit in dense:
                if hit.article_id in boost:
                    fused[hit.chunk_id] += 1.0 / (RRF_K + 1)
        ranked = sorted(fused, key=fused.get, reverse=True)[: k * 3]
        chunks = self.docs.chunks(ranked)
        similarity = {h.chunk_id: h.similarity for h in dense}
        bm25 = dict(keyword)
        missing = [cid for cid in ranked if cid in chunks and cid not in similarity]
        if missing:
            for cid, vec in self.store.vectors(missing).items():
                similarity[cid] = float(np.dot(vec, query.vector))
        passages = [
            Passage(chunks[cid], fused[cid], similarity.get(cid, 0.0), bm25.get(cid, 0.0))
            for cid in ranked
            if cid in chunks
        ]
        return group_copies(passages)[:k]


def group_copies(passages: list[Passage]) -> list[Passage]:
    """Fold a passage into a better-ranked one from another article that tells the same story."""
    kept: list[tuple[Passage, set[str]]] = []
    for passage in passages:
        vocab = set(terms(passage.chunk.text))
        for leader, leader_vocab in kept:
            if leader.article_id != passage.article_id and jaccard(vocab, leader_vocab) >= (
                DUPLICATE_JACCARD
            ):
                leader.copies.append(passage.chunk)
                break
        else:
            kept.append((passage, vocab))
    return [p for p, _ in kept]


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
