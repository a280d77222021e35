"""Chroma vector store: embedded ``PersistentClient`` by default, a Chroma server when configured.

We hand Chroma our own vectors; its default embedding function would download a model.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from qa.errors import StoreError, StoreLocked
from vectorstore.chunk import Chunk

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _limit_requests(client, timeout: httpx.Timeout) -> None:
    """Put a time limit on the Chroma HTTP client's requests (chromadb sets none)."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        # A chromadb upgrade moved it; requirements.txt pins the version this was tested on.
        raise StoreError("cannot set a time limit on the Chroma client: unknown chromadb layout")
    session.timeout = timeout


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    article_id: str
    similarity: float


class DataDirLock:
    """An exclusive lock on the data directory: the embedded store is single-process."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "store.lock"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self._fd)
            raise StoreLocked(
                f"the embedded store in {data_dir} is in use by another process (pid {holder}); "
                "the embedded store is single-process: stop that process, or run a Chroma "
                "server and set QA_CHROMA_HOST/QA_CHROMA_PORT"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class VectorStore:
    """The chunk collection: upsert by stable id, delete, hash lookup and similarity search."""

    def __init__(self, client, collection_name: str, lock: DataDirLock | None = None,
                 timeout_s: float | None = None):
        self.client = client
        self.lock = lock
        self.timeout_s = timeout_s
        try:
            self.collection = client.get_or_create_collection(
                collection_name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
            )
            self.max_batch = int(client.get_max_batch_size())
        except Exception as exc:  # chromadb raises many unrelated types
            raise StoreError(f"cannot open the Chroma collection: {exc}") from exc

    @classmethod
    def open(cls, settings) -> VectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.uses_chroma_server:
            address = f"{settings.chroma_host}:{settings.chroma_port}"
            timeout = httpx.Timeout(settings.chroma_timeout_s)
            try:
                # chromadb's client waits forever, from its first request on: probe first,
                # so a hung server fails here, then give the client's session a limit.
                httpx.get(f"http://{address}/api/v2/heartbeat", timeout=timeout)
                client = chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
            except Exception as exc:
                raise StoreError(f"cannot reach the Chroma server at {address}") from exc
            _limit_requests(client, timeout)
            return cls(client, settings.collection, timeout_s=settings.chroma_timeout_s)
        lock = DataDirLock(Path(settings.data_dir))
        client = chromadb.PersistentClient(
            path=str(Path(settings.data_dir) / "chroma"), settings=chroma_settings
        )
        return cls(client, settings.collection, lock)

    @contextmanager
    def _server(self) -> Iterator[None]:
        """A Chroma server that fails or does not answer in time is a ``StoreError`` (503)."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise StoreError(
                f"the Chroma server did not answer within {self.timeout_s} s"
            ) from exc
        except httpx.TransportError as exc:
            raise StoreError(f"cannot reach the Chroma server: {exc}") from exc

    def close(self) -> None:
        if self.lock:
            self.lock.release()

    def count(self) -> int:
        with self._server():
            return self.collection.count()

    def heartbeat(self) -> None:
        with self._server():
            self.client.heartbeat()

    def hashes(self, page: int = 5000) -> dict[str, tuple[str, str]]:
        """Return ``chunk_id -> (article_id, content_hash)`` for every stored chunk."""
        found: dict[str, tuple[str, str]] = {}
        offset = 0
        while True:
            with self._server():
                got = self.collection.get(include=["metadatas"], limit=page, offset=offset)
            for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                found[chunk_id] = (meta.get("article_id", ""), meta.get("hash", ""))
            if len(got["ids"]) < page:
                return found
            offset += page

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), self.max_batch):
            batch = chunks[start : start + self.max_batch]
            with self._server():
                self.collection.upsert(
                    ids=[c.chunk_id for c in batch],
                    embeddings=vectors[start : start + self.max_batch],
                    # Only what Chroma itself filters on: texts, titles and offsets live in
                    # the docstore, and Chroma indexes every string it holds (half the
                    # write time).
                    metadatas=[{"article_id": c.article_id, "hash": c.content_hash}
                               for c in batch],
                )

    def delete(self, chunk_ids: Iterable[str]) -> None:
        ids = list(chunk_ids)
        for start in range(0, len(ids), self.max_batch):
            with self._server():
                self.collection.delete(ids=ids[start : start + self.max_batch])

    def query(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        if k <= 0:
            return []
        with self._server():
            got = self.collection.query(
                query_embeddings=[vector], n_results=k, include=["metadatas", "distances"]
            )
        return [
            VectorHit(chunk_id, meta.get("article_id", ""), 1.0 - float(distance))
            for chunk_id, meta, distance in zip(
                got["ids"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        if not chunk_ids:
            return {}
        with self._server():
            got = self.collection.get(ids=chunk_ids, include=["embeddings"])
        return {
            cid: np.asarray(vec, dtype=np.float32)
            for cid, vec in zip(got["ids"], got["embeddings"], strict=True)
        }

    def ids_of(self, article_id: str) -> list[str]:
        """Return the ids of one article's chunks."""
        with self._server():
            return self.collection.get(where={"article_id": article_id}, include=[])["ids"]
