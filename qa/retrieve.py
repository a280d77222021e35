"""Hybrid retrieval: dense (Chroma) + BM25 (FTS5), fused by reciprocal rank, copies grouped.

Both searches apply the filters inside themselves. Only passages of the article version
this worker's cache holds are used, and before they reach the answerer one lookup in
Chroma drops any whose article was deleted or changed meanwhile (and wakes the sync).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vectorstore.corpus import Corpus
from vectorstore.docstore import DocStore, StoredChunk
from vectorstore.embed import Embedder
from vectorstore.filters import Filters
from vectorstore.store import vector_id
from vectorstore.terms import terms

__all__ = ["Filters", "Passage", "Query", "Retriever", "group_copies"]

RRF_K = 60
# Chunks of two articles sharing this much of their vocabulary tell the same story.
DUPLICATE_JACCARD = 0.5
# BM25's best hits always reach the reader: a rare name matched by one article only can
# otherwise drown, under reciprocal-rank fusion, in many near-identical articles that
# match the question's common words in both searches.
KEYWORD_FLOOR = 2


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
            "published": self.chunk.published,
            "source": self.chunk.source,
            "url": self.chunk.url,
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
    def __init__(self, corpus: Corpus, embedder: Embedder, depth: int = 40):
        self.corpus = corpus
        self.store = corpus.vectors
        self.embedder = embedder
        self.depth = depth

    @property
    def docs(self) -> DocStore:
        return self.corpus.ready()

    def prepare(self, text: str, own: str | None = None) -> Query:
        """Embed and tokenise ``text``; ``own`` is the follow-up as asked, if it was rewritten."""
        query = Query(text, self.embedder.embed_query(text), terms(text))
        if own and own != text:
            query.focus = self.embedder.embed_query(own)
            query.own_terms = frozenset(terms(own))
            query.asked = own
        return query

    def search(self, query: Query, k: int, boost: frozenset[str] = frozenset(),
               filters: Filters | None = None) -> list[Passage]:
        """Return the best ``k`` passages matching ``filters``; articles in ``boost`` get one
        extra fused rank."""
        docs = self.docs
        dense = self.store.query(query.vector, self.depth,
                                 filters.chroma_where() if filters else None)
        keyword = docs.search(query.terms, self.depth, filters)
        cached = docs.cached({h.article_id for h in dense}
                             | {cid.rpartition(":")[0] for cid, _ in keyword})
        # A vector of another version than the cached one (a write in flight, a version not
        # yet synced or not yet deleted) does not count.
        dense = [h for h in dense
                 if h.article_id in cached and h.stamp == cached[h.article_id].stamp]
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
        floor = [cid for cid, _ in keyword[:KEYWORD_FLOOR]]
        ranked += [cid for cid in floor if cid not in ranked]
        chunks = docs.chunks(ranked)
        gone = self.corpus.stale({c.article_id: cached[c.article_id] for c in chunks.values()
                                  if c.article_id in cached})
        ranked = [cid for cid in ranked if cid in chunks
                  and chunks[cid].article_id in cached and chunks[cid].article_id not in gone]
        similarity = {h.chunk_id: h.similarity for h in dense}
        bm25 = dict(keyword)
        missing = {vector_id(cid, cached[chunks[cid].article_id].stamp): cid
                   for cid in ranked if cid not in similarity}
        if missing:
            for vid, vec in self.store.vectors(list(missing)).items():
                similarity[missing[vid]] = float(np.dot(vec, query.vector))
        passages = [
            Passage(chunks[cid], fused[cid], similarity.get(cid, 0.0), bm25.get(cid, 0.0))
            for cid in ranked
        ]
        passages = group_copies(passages, set(query.terms))
        late = [p for p in passages[k:] if p.chunk_id in floor]
        return passages[: k - len(late)] + late


def group_copies(passages: list[Passage], asked: set[str] = frozenset()) -> list[Passage]:
    """Fold a passage into a better-ranked one from another article that tells the same story.

    A passage holding a term of the question that the better-ranked one lacks is not a
    copy for this question: two reports cut from one template ("the X bridge carries N
    cars") differ exactly where the question points."""
    kept: list[tuple[Passage, set[str]]] = []
    for passage in passages:
        vocab = set(terms(passage.chunk.text))
        for leader, leader_vocab in kept:
            if (leader.article_id != passage.article_id
                    and jaccard(vocab, leader_vocab) >= DUPLICATE_JACCARD
                    and not (vocab - leader_vocab) & asked):
                leader.copies.append(passage.chunk)
                break
        else:
            kept.append((passage, vocab))
    return [p for p, _ in kept]


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
