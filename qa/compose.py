"""The extractive answerer: compose an answer from the sentences that best answer the question.

No generative model is involved, so every word of the answer is a quote from an article.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.cite import ABSTAIN_TEXT, Claim, Evidence
from qa.focus import around, asked_in, far
from qa.question import answer_type, entities, on, supplies
from qa.recency import newest_first
from qa.retrieve import Passage, Query, jaccard
from vectorstore.docstore import DocStore, StoredChunk
from vectorstore.embed import Embedder
from vectorstore.terms import terms

MAX_CLAIMS = 3
BORROWED_WEIGHT = 0.3
_MULTIPART = re.compile(
    r"\b(?:and (?:how|what|which|who|where|when)|both|two|compare|versus|vs\.?)\b|,\s*and\b",
    re.IGNORECASE,
)


WEIGHTS_FILE = Path(__file__).with_name("weights.json")


def fitted(cls, path: Path = WEIGHTS_FILE, section: str | None = None):
    """The dataclass ``cls`` with the weights ``path`` holds (in ``section``), its defaults
    for any it lacks; other keys are another part's."""
    values = json.loads(path.read_text()) if path.exists() else {}
    if section:
        values = values.get(section, {})
    return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Weights:
    """Blend of evidence for a sentence; ``python -m qa.calibrate`` fits it on the fixtures."""

    dense: float = 0.45  # the sentence's similarity to the question
    passage: float = 0.20  # its passage's similarity (context the sentence leaves implicit)
    coverage: float = 0.35  # idf-weighted share of question terms it contains
    entity: float = 0.0  # share of the names in the question that its article mentions
    ask: float = 0.0  # coverage of the question's words other than names: what is asked
    min_ask: float = 0.0  # a sentence with less "ask" coverage cannot be the answer
    threshold: float = 0.42  # below this the best sentence does not answer the question
    follow_ratio: float = 0.80  # extra sentences must score this close to the best
    min_gain: float = 0.15  # and cover this share of the question not yet covered

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Weights:
        return fitted(cls, path)

    def admits(self, cand: Candidate) -> bool:
        """Tell whether a sentence may answer at all: the right kind, and on the question."""
        return cand.fits_type and cand.ask >= self.min_ask

    def score(self, cand: Candidate) -> float:
        return (
            self.dense * cand.dense
            + self.passage * cand.passage
            + self.coverage * cand.coverage
            + self.entity * cand.entities
            + self.ask * cand.ask
        )


@dataclass
class Candidate:
    chunk: StoredChunk
    start: int
    end: int
    text: str
    rank: int
    dense: float = 0.0
    coverage: float = 0.0
    covered: frozenset[str] = frozenset()
    vocab: frozenset[str] = frozenset()  # the sentence's own terms
    fit: int = 1  # 0: cannot hold the asked-for kind of answer, 1: can
    passage: float = 0.0
    entities: float = 1.0  # share of the question's names its article mentions
    ask: float = 0.0  # idf-weighted coverage of the question's non-name words
    recency: float = 0.0  # how new its article is, for a question about the latest news
    story: float = 1.0  # idf-weighted share of the question's terms its article holds
    focused: bool = True  # False: far from where its article names what is asked (qa.focus)
    score: float = 0.0

    @property
    def fits_type(self) -> bool:
        return self.fit > 0

    def evidence(self) -> Evidence:
        # Report the similarity to the question: bounded and comparable across answers.
        return Evidence.of(self.chunk, self.start, self.end, self.text, self.dense)


class SentenceVectors:
    """A bounded cache of sentence embeddings: popular passages are embedded once."""

    def __init__(self, embedder: Embedder, size: int = 20_000):
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Request threads share the cache; eviction must not race a lookup.
        self._lock = threading.Lock()

    def get(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found.update(zip(missing, self.embedder.embed_documents(missing), strict=True))
        with self._lock:
            for t in texts:
                self._cache[t] = found[t]
                self._cache.move_to_end(t)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, docs: DocStore, weights: Weights | None = None):
        self.docs = docs
        self.vectors = SentenceVectors(embedder)
        self.weights = weights or Weights.load()
        self._vocab: OrderedDict[tuple[str, int], frozenset[str]] = OrderedDict()
        self._vocab_lock = threading.Lock()

    def candidates(self, query: Query, passages: list[Passage]) -> list[Candidate]:
        """Score every sentence of the retrieved passages against the question."""
        # The kind of answer comes from the question as asked, not from borrowed context.
        kind = answer_type(query.asked or query.text)
        idf = self._idf(query)
        total = sum(idf.values()) or 1.0
        names = entities(query.text)
        asked = {t: w for t, w in idf.items() if t not in names}
        asked_total = sum(asked.values()) or 1.0
        version = self.docs.version()
        stories: dict[str, float] = {}
        # The names as asked (a follow-up's borrowed ones may be said anywhere), those each
        # article uses, and its text where there are some: read once per article.
        named = query.asked or query.text
        asked_here: dict[str, set[str]] = {}
        texts: dict[str, tuple[str, int]] = {}  # an article's text and the offset it starts at
        cands = []
        for rank, passage in enumerate(passages):
            chunk = passage.chunk
            context = set(terms(chunk.title))
            mentioned = self._mentions(chunk.article_id, names, version)
            if chunk.article_id not in stories:
                vocab = self._article_vocab(chunk.article_id, version) | context
                stories[chunk.article_id] = sum(w for t, w in idf.items() if t in vocab) / total
                asked_here[chunk.article_id] = asked_in(named, vocab) if names else set()
                if asked_here[chunk.article_id]:
                    article = self.docs.article(chunk.article_id)
                    texts[chunk.article_id] = ((article.text, 0) if article
                                               else (chunk.text, chunk.start))
            here = asked_here[chunk.article_id]
            told, offset = texts.get(chunk.article_id, ("", 0))
            for start, end, text in chunk.sentence_texts():
                if is_heading(text):
                    continue
                own = frozenset(terms(text))
                covered = frozenset(t for t in idf if t in own)
                near = sum(idf[t] for t in idf if t in context and t not in own)
                cands.append(
                    Candidate(
                        chunk, start, end, text, rank,
                        coverage=(sum(idf[t] for t in covered) + 0.5 * near) / total,
                        covered=covered,
                        vocab=own,
                        fit=supplies(kind, text, query.asked or query.text,
                                     known=query.text if query.asked else ""),
                        passage=passage.dense,
                        entities=mentioned,
                        ask=sum(asked[t] for t in covered if t in asked) / asked_total,
                        story=stories[chunk.article_id],
                        focused=not here or not far(here, around(
                            told, start - offset, end - offset, chunk.title)),
                    )
                )
        if not cands:
            return []
        vectors = self.vectors.get([c.text for c in cands])
        sims = vectors @ query.vector
        if query.focus is not None:
            # A bare follow-up is thin on its own and the rewrite leans on the old topic.
            sims = np.maximum(sims, vectors @ query.focus)
        for cand, sim in zip(cands, sims, strict=True):
            cand.dense = float(sim)
        return cands

    def rank(self, cands: list[Candidate], weights: Weights | None = None) -> list[Candidate]:
        weights = weights or self.weights
        for cand in cands:
            cand.score = weights.score(cand)
        ranked = sorted(cands, key=lambda c: c.score, reverse=True)
        return newest_first(ranked, weights.follow_ratio)

    def answer(self, query: Query, passages: list[Passage]) -> tuple[list[Claim], bool]:
        """Return the claims of the answer and whether the answer abstains."""
        return self.decide(query, passages, self.candidates(query, passages))

    def decide(
        self,
        query: Query,
        passages: list[Passage],
        candidates: list[Candidate],
        weights: Weights | None = None,
    ) -> tuple[list[Claim], bool]:
        """Pick the answer sentences from scored candidates, or abstain."""
        weights = weights or self.weights
        cands = self.rank(candidates, weights)
        fitting = [c for c in cands if weights.admits(c)]
        if not fitting or fitting[0].score < weights.threshold:
            return [Claim(ABSTAIN_TEXT)], True
        chosen = self._select(query, fitting, weights)
        copies = {p.chunk_id: p.copies for p in passages}
        claims = []
        for cand in sorted(chosen, key=lambda c: (c.rank, c.start)):
            evidence = [cand.evidence()]
            evidence += _same_sentence_in(copies.get(cand.chunk.chunk_id, []), cand)
            claims.append(Claim(cand.text, evidence))
        return claims, False

    def _select(
        self, query: Query, fitting: list[Candidate], weights: Weights
    ) -> list[Candidate]:
        best = fitting[0]
        chosen = [best]
        idf = self._idf(query)
        total = sum(idf.values()) or 1.0
        covered = set(best.covered)
        multipart = bool(_MULTIPART.search(query.text))
        for cand in fitting[1:]:
            if len(chosen) >= MAX_CLAIMS or cand.score < weights.follow_ratio * best.score:
                break
            if any(_overlaps(cand, c) for c in chosen):
                continue
            gain = sum(idf[t] for t in cand.covered - covered) / total
            other_article = all(cand.chunk.article_id != c.chunk.article_id for c in chosen)
            if gain >= weights.min_gain or (multipart and other_article):
                chosen.append(cand)
                covered |= cand.covered
        return chosen

    def _mentions(self, article_id: str, names: list[str], version: int) -> float:
        """Share of ``names`` found in the article (by stem or a 5-letter prefix)."""
        if not names or not on("mentions"):
            return 1.0
        vocab = self._article_vocab(article_id, version)
        return sum(n in vocab or n[:5] in vocab for n in names) / len(names)

    def _article_vocab(self, article_id: str, version: int) -> frozenset[str]:
        """An article's stems and stem prefixes, cached per corpus version."""
        key = (article_id, version)
        with self._vocab_lock:
            vocab = self._vocab.get(key)
        if vocab is None:
            article = self.docs.article(article_id)
            stems = set(terms(article.text)) if article else set()
            vocab = frozenset(stems | {s[:5] for s in stems})
            # Request threads share the cache; evict under the lock, never re-read after.
            with self._vocab_lock:
                self._vocab[key] = vocab
                while len(self._vocab) > 2048:
                    self._vocab.popitem(last=False)
        return vocab

    def _idf(self, query: Query) -> dict[str, float]:
        """Weigh each question term by its rarity; words borrowed from history weigh less."""
        if query.idf is None:
            df, n = self.docs.document_frequencies(query.terms)
            query.idf = {}
            for t in dict.fromkeys(query.terms):
                weight = math.log((n + 1) / (df.get(t, 0) + 0.5))
                # Borrowed words locate the topic; they are not what is asked.
                if query.own_terms is not None and t not in query.own_terms:
                    weight *= BORROWED_WEIGHT
                query.idf[t] = weight
        return query.idf


def rerank(passages: list[Passage], scored: list[Candidate], weights: Weights) -> list[Passage]:
    """Order passages by their best admissible sentence: finer than the fused passage rank."""
    best: dict[str, tuple[bool, float]] = {}
    for cand in scored:
        key = (weights.admits(cand), cand.score)
        chunk_id = cand.chunk.chunk_id
        best[chunk_id] = max(best.get(chunk_id, key), key)
    return sorted(passages, key=lambda p: best.get(p.chunk_id, (False, float("-inf"))),
                  reverse=True)


def is_heading(text: str) -> bool:
    """A short line without final punctuation is a heading, unless it is a "Label: value" line."""
    return text[-1:] not in ".!?\"”’)" and len(text.split()) < 12 and ":" not in text


def _overlaps(a: Candidate, b: Candidate) -> bool:
    if a.chunk.article_id == b.chunk.article_id and a.start < b.end and b.start < a.end:
        return True
    return jaccard(a.vocab, b.vocab) >= 0.6


def _same_sentence_in(copies: list[StoredChunk], cand: Candidate) -> list[Evidence]:
    """Cite the copy of this sentence in other articles telling the same story, if any."""
    found = []
    for chunk in copies:
        for start, end, text in chunk.sentence_texts():
            if jaccard(cand.vocab, set(terms(text))) >= 0.6:
                found.append(Evidence.of(chunk, start, end, text, cand.dense))
                break
    return found

