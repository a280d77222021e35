"""Chroma: embedded ``PersistentClient`` by default, a Chroma server when configured.

Both modes run the same code: two collections (the passage vectors here, the article
versions in ``records.py``) on one client. We hand Chroma our own vectors; its default
embedding function would download a model.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from qa.errors import StoreError, StoreLocked

log = logging.getLogger(__name__)
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# A passage vector's Chroma id is ``<chunk_id>@<stamp>``: every write of an article stores
# its own set, so two writers never overwrite each other's vectors (see corpus.py).
STAMP_SEP = "@"
# Chroma's ``$in`` lists and id lists are kept this short per request.
ID_BATCH = 500
# A Chroma server fails up to one search in a hundred that meets a delete in flight, with
# "Error finding id" (chroma-core/chroma#4460; measured on 1.5.9 with three writers). A
# search changes nothing, so it is tried again, after these pauses (seconds).
QUERY_RETRY_PAUSES = (0.02, 0.1)


def vector_id(chunk_id: str, stamp: int) -> str:
    return f"{chunk_id}{STAMP_SEP}{stamp}"


def split_vector_id(vid: str) -> tuple[str, int | None]:
    """Return ``(chunk_id, stamp)``; a vector from before versioned writes has no stamp."""
    chunk_id, sep, stamp = vid.rpartition(STAMP_SEP)
    if not sep or not stamp.isdigit():
        return vid, None
    return chunk_id, int(stamp)


def _limit_requests(client, timeout: httpx.Timeout) -> None:
    """Put a time limit on the Chroma HTTP client's requests (chromadb sets none)."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        # A chromadb upgrade moved it; requirements.txt pins the version this was tested on.
        raise StoreError("cannot set a time limit on the Chroma client: unknown chromadb layout")
    session.timeout = timeout


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
                "server and set QA_CHROMA_HOST/QA_CHROMA_PORT",
                holder=int(holder) if holder.isdigit() else None,
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass
class Client:
    """One Chroma client, the data-directory lock it holds (embedded mode) and its limits."""

    chroma: object
    lock: DataDirLock | None = None
    timeout_s: float | None = None

    @property
    def remote(self) -> bool:
        return self.lock is None

    @classmethod
    def open(cls, settings) -> Client:
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
            return cls(client, None, settings.chroma_timeout_s)
        lock = DataDirLock(Path(settings.data_dir))
        try:
            client = chromadb.PersistentClient(
                path=str(Path(settings.data_dir) / "chroma"), settings=chroma_settings
            )
        except Exception:
            lock.release()
            raise
        return cls(client, lock)

    @contextmanager
    def calls(self) -> Iterator[None]:
        """A Chroma server that fails or does not answer in time is a ``StoreError`` (503)."""
        from chromadb.errors import ChromaError

        try:
            yield
        except httpx.TimeoutException as exc:
            raise StoreError(
                f"the Chroma server did not answer within {self.timeout_s} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the Chroma server: {exc}") from exc
        except ChromaError as exc:
            raise StoreError(f"Chroma failed: {exc}") from exc
        except (StoreError, ValueError, TypeError):
            raise
        except Exception as exc:
            if not self.remote:
                raise
            # chromadb raises a bare Exception for a server error without a Chroma error
            # body (a restarting server, a proxy's 502): a store outage, not our bug.
            raise StoreError(f"the Chroma server failed: {exc}") from exc

    def collection(self, name: str):
        with self.calls():
            return self.chroma.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
            )

    def pages(self, collection, page: int = 5000) -> Iterator[dict]:
        """Every record of a collection with its metadata, ``page`` at a time."""
        offset = 0
        while True:
            with self.calls():
                got = collection.get(include=["metadatas"], limit=page, offset=offset)
            yield got
            if len(got["ids"]) < page:
                return
            offset += page

    def max_batch(self) -> int:
        with self.calls():
            return int(self.chroma.get_max_batch_size())

    def heartbeat(self) -> None:
        with self.calls():
            self.chroma.heartbeat()

    def close(self) -> None:
        if self.lock:
            self.lock.release()


@dataclass(frozen=True)
class VectorHit:
    vector_id: str
    chunk_id: str
    article_id: str
    stamp: int | None
    chunk_hash: str
    similarity: float


@dataclass(frozen=True)
class StoredVector:
    """A passage vector's id and metadata (no embedding)."""

    vector_id: str
    chunk_id: str
    article_id: str
    stamp: int | None
    chunk_hash: str


class VectorStore:
    """The passage vectors: one per chunk of each stored article version.

    Metadata holds only what Chroma filters on (it indexes every string it holds): the
    article id, the write stamp, the chunk's content hash, and ``published_ts``/``source``
    for search filters. Texts and offsets live in the article record and the local cache.
    """

    def __init__(self, client: Client, collection_name: str):
        self.client = client
        self.name = collection_name
        self.collection = client.collection(collection_name)
        self.max_batch = client.max_batch()

    @property
    def lock(self) -> DataDirLock | None:
        return self.client.lock

    @classmethod
    def open(cls, settings) -> VectorStore:
        """Open the passage collection alone (tests and tools; the service opens a Corpus)."""
        return cls(Client.open(settings), settings.collection)

    def close(self) -> None:
        self.client.close()

    def count(self) -> int:
        with self.client.calls():
            return self.collection.count()

    def heartbeat(self) -> None:
        self.client.heartbeat()

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            with self.client.calls():
                self.collection.upsert(ids=ids[start:end], embeddings=vectors[start:end],
                                       metadatas=metadatas[start:end])

    def delete(self, vector_ids: Iterable[str]) -> None:
        ids = list(vector_ids)
        for start in range(0, len(ids), self.max_batch):
            with self.client.calls():
                self.collection.delete(ids=ids[start : start + self.max_batch])

    def delete_older(self, article_ids: list[str], stamp: int) -> None:
        """Delete the vectors of these articles written before ``stamp``."""
        for start in range(0, len(article_ids), ID_BATCH):
            batch = article_ids[start : start + ID_BATCH]
            with self.client.calls():
                self.collection.delete(where={"$and": [
                    {"article_id": {"$in": batch}}, {"s": {"$lt": stamp}}]})

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[VectorHit]:
        if k <= 0:
            return []
        for pause in (*QUERY_RETRY_PAUSES, None):
            try:
                with self.client.calls():
                    got = self.collection.query(query_embeddings=[vector], n_results=k,
                                                where=where, include=["metadatas", "distances"])
                break
            except StoreError as exc:
                if pause is None or not _internal(exc):
                    raise
                log.info("search tried again after %s", exc.message)
                time.sleep(pause)
        hits = []
        for vid, meta, distance in zip(got["ids"][0], got["metadatas"][0], got["distances"][0],
                                       strict=True):
            if meta is None:  # the Chroma server can return a vector deleted meanwhile
                continue
            chunk_id, stamp = split_vector_id(vid)
            hits.append(VectorHit(vid, chunk_id, meta.get("article_id", ""), stamp,
                                  meta.get("hash", ""), 1.0 - float(distance)))
        return hits

    def vectors(self, vector_ids: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(vector_ids), ID_BATCH):
            with self.client.calls():
                got = self.collection.get(ids=vector_ids[start : start + ID_BATCH],
                                          include=["embeddings"])
            found.update((vid, np.asarray(vec, dtype=np.float32))
                         for vid, vec in zip(got["ids"], got["embeddings"], strict=True))
        return found

    def of_articles(self, article_ids: list[str]) -> list[StoredVector]:
        """Every stored vector of these articles, any version."""
        out: list[StoredVector] = []
        for start in range(0, len(article_ids), ID_BATCH):
            with self.client.calls():
                got = self.collection.get(
                    where={"article_id": {"$in": article_ids[start : start + ID_BATCH]}},
                    include=["metadatas"])
            out += _stored(got)
        return out

    def scan(self) -> Iterator[StoredVector]:
        """Every stored vector, page by page."""
        for got in self.client.pages(self.collection):
            yield from _stored(got)

    def hashes(self) -> dict[str, tuple[str, str]]:
        """Return ``chunk_id -> (article_id, content_hash)`` for every stored vector."""
        return {v.chunk_id: (v.article_id, v.chunk_hash) for v in self.scan()}

    def ids_of(self, article_id: str) -> list[str]:
        """Return the vector ids of one article (any version)."""
        return [v.vector_id for v in self.of_articles([article_id])]


def _internal(exc: StoreError) -> bool:
    """Whether Chroma itself failed inside (its ``InternalError``), not the connection."""
    from chromadb.errors import InternalError

    return isinstance(exc.__cause__, InternalError)


def _stored(got) -> list[StoredVector]:
    out = []
    for vid, meta in zip(got["ids"], got["metadatas"], strict=True):
        meta = meta or {}
        chunk_id, stamp = split_vector_id(vid)
        out.append(StoredVector(vid, chunk_id, meta.get("article_id", ""), stamp,
                                meta.get("hash", "")))
    return out
