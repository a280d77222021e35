"""Time our ingest end to end (real loader, chunker, model, Chroma, keyword index) and hit@5."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seeds.jsonl"


@dataclass
class IngestRun:
    """One first ingest of a corpus into a fresh data directory, and its re-ingest."""

    precision: str
    passages: int
    articles: int
    seconds: float
    cpu_seconds: float
    reingest_seconds: float
    data_dir: Path

    @property
    def passages_per_s(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def load_embedder(settings: Settings):
    """Load the real model once per precision; return it and the seconds it took."""
    from vectorstore.embed import make_embedder

    started = time.perf_counter()
    embedder = make_embedder(settings.embed_precision, settings.embed_batch_size)
    # One small batch so torch's lazy initialisation is not billed to the first ingest.
    embedder.embed_documents(["warm up the model"] * 16)
    return embedder, time.perf_counter() - started


def ingest_once(corpus: Path | list[Path], settings: Settings, embedder,
                data_dir: Path) -> IngestRun:
    """First-ingest ``corpus`` (a folder, or files and folders such as the seeds and the BBC
    CSV) into the empty ``data_dir``, then re-ingest it unchanged."""
    from qa.service import QAService

    paths = corpus if isinstance(corpus, list) else [corpus]
    service = QAService(settings.replace(data_dir=data_dir), embedder_factory=lambda: embedder)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        report = service.ingestor.ingest_paths(paths)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if report.rejected:
            raise RuntimeError(f"ingest rejected files: {report.rejected[:3]}")
        again = time.perf_counter()
        second = service.ingestor.ingest_paths(paths)
        again = time.perf_counter() - again
        if second.added or second.removed:
            raise RuntimeError(f"re-ingest of an unchanged corpus changed it: {second.summary()}")
    finally:
        service.close()
    return IngestRun(settings.embed_precision, report.added, report.articles, wall, cpu, again,
                     data_dir)


def count_tokens(texts: list[str]) -> int:
    """Return the model tokens the embedder runs over ``texts`` (truncated at 256 each)."""
    from tokenizers import Tokenizer

    from vectorstore.embed import model_path

    tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    return sum(len(e.ids) for e in tokenizer.encode_batch([t.strip() for t in texts]))


def our_tokens(corpus: Path, settings: Settings) -> dict:
    """Tokens our ingest embeds: every passage's text, and once each title that is not its
    article's lead (see ``embed_passages``)."""
    from vectorstore.chunk import chunk_article
    from vectorstore.embed import title_is_lead
    from vectorstore.load import load_paths

    chunks = [c for r in load_paths([corpus]).values() for a in r.articles
              for c in chunk_article(a, settings.chunk_chars)]
    bodies = count_tokens([c.text for c in chunks])
    led = {c.title for c in chunks if title_is_lead(c.title, c.text)}
    titles = count_tokens(list(dict.fromkeys(c.title for c in chunks if c.title not in led)))
    return {"tokens": bodies + titles, "title_tokens": titles}


def fresh_dir(parent: Path, name: str) -> Path:
    path = parent / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# -- retrieval quality ------------------------------------------------------------------


def load_fixtures(path: Path = FIXTURES) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _ranked_articles(passages) -> list[set[str]]:
    # The same definition as qa.eval: a passage and its same-story copies share one rank.
    ranks: list[set[str]] = []
    seen: set[str] = set()
    for p in passages:
        group = {p.article_id, *(c.article_id for c in p.copies)} - seen
        if group:
            ranks.append(group)
            seen |= group
    return ranks


def hit_at_5(data_dir: Path, settings: Settings, embedder, fixtures: Iterable[dict]) -> dict:
    """Share of answerable fixtures with a source among the top-5 retrieved articles."""
    from qa.condense import Turn, condense
    from qa.service import QAService

    service = QAService(settings.replace(data_dir=data_dir), embedder_factory=lambda: embedder)
    hits, misses = 0, []
    try:
        retriever = service.retriever
        for fx in fixtures:
            if not fx.get("answerable"):
                continue
            history = [Turn(t["role"], t["content"]) for t in fx.get("history") or []]
            standalone = condense(fx["question"], history)
            passages = retriever.search(
                retriever.prepare(standalone.text), settings.top_k,
                boost=standalone.carried_articles,
            )
            top = set().union(*_ranked_articles(passages)[:5])
            if top & set(fx["sources"]):
                hits += 1
            else:
                misses.append(fx["id"])
    finally:
        service.close()
    total = hits + len(misses)
    return {"hit@5": round(hits / total, 4) if total else None, "questions": total,
            "misses": misses}


def scratch_dir(parent: Path | None = None) -> Path:
    return Path(tempfile.mkdtemp(prefix="bench-", dir=parent))
