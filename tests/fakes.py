"""Deterministic stand-ins for the swappable parts, registered through the same factories."""

from __future__ import annotations

import hashlib

import numpy as np

from vectorstore.embed import DIMENSIONS
from vectorstore.terms import terms


class FakeEmbedder:
    """Bag-of-stemmed-words hashed into 384 dimensions; counts every text it embeds."""

    name = "fake-embedder"

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(DIMENSIONS, dtype=np.float32)
        for term in terms(text) or ["empty"]:
            digest = hashlib.blake2b(term.encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % DIMENSIONS] += 1.0
        return vec / np.linalg.norm(vec)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
