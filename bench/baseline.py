"""The baseline: LangChain's RAG tutorial ingest and retrieval over the same corpus and model.

The tutorial splits with ``RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)`` and calls ``Chroma.add_documents``. ``HuggingFaceEmbeddings``
(langchain-huggingface) would pull a different huggingface-hub than the one our pinned
transformers needs, so a tiny ``Embeddings`` does what it does: sentence-transformers
``encode`` with its defaults (fp32, batches of 32), on the same all-MiniLM-L6-v2 files.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings


class MiniLMEmbeddings(Embeddings):
    """What ``HuggingFaceEmbeddings(model_name=...)`` does with default arguments."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        from vectorstore.embed import model_path

        self.client = SentenceTransformer(str(model_path()), device="cpu",
                                          local_files_only=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        texts = [t.replace("\n", " ") for t in texts]
        return self.client.encode(texts, show_progress_bar=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def load_documents(corpus: Path):
    """Read every article file as one ``Document`` whose source is its article id."""
    from langchain_core.documents import Document

    docs = []
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and path.suffix in (".txt", ".md"):
            article_id = path.relative_to(corpus).with_suffix("").as_posix()
            docs.append(Document(page_content=path.read_text(encoding="utf-8"),
                                 metadata={"source": article_id}))
    return docs


@dataclass
class BaselineRun:
    passages: int
    seconds: float
    cpu_seconds: float
    store: object
    texts: list[str]

    @property
    def passages_per_s(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def ingest(corpus: Path, embeddings: Embeddings, data_dir: Path) -> BaselineRun:
    """Load, split and ``add_documents`` into a persistent Chroma, as the tutorial does."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    wall, cpu = time.perf_counter(), time.process_time()
    docs = load_documents(corpus)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    splits = splitter.split_documents(docs)
    store = Chroma(
        collection_name=f"baseline-{uuid.uuid4().hex[:8]}",
        embedding_function=embeddings,
        persist_directory=str(data_dir),
        client_settings=chromadb.config.Settings(anonymized_telemetry=False),
    )
    store.add_documents(documents=splits)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return BaselineRun(len(splits), wall, cpu, store,
                       [d.page_content.replace("\n", " ") for d in splits])


def retrieval(store, fixtures: list[dict]) -> dict:
    """hit@5 (a source among the top-5 chunks' articles) and per-query latency, in process."""
    hits = total = 0
    latencies = []
    for fx in fixtures:
        if not fx.get("answerable"):
            continue
        # The tutorial has no history handling: a follow-up is searched as it stands.
        started = time.perf_counter()
        found = store.similarity_search(fx["question"], k=5)
        latencies.append((time.perf_counter() - started) * 1000)
        total += 1
        hits += bool({d.metadata.get("source") for d in found} & set(fx["sources"]))
    return {
        "hit@5": round(hits / total, 4) if total else None,
        "questions": total,
        "search_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
    }
