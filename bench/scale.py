"""The ~100k-passage index: the haystack plus perturbed copies of the BBC articles, cached.

Embedding 100k passages takes many minutes on two cores, so the index is built once
into ``--cache`` and reused while its manifest (corpus recipe, chunker, model) matches.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from bench.haystack import VARIANTS_VERSION, build_haystack, read_bbc, variants
from qa.settings import Settings


def _manifest(bbc_csv: Path, target: int, settings: Settings, copies: int) -> dict:
    from vectorstore.chunk import CHUNKER_VERSION
    from vectorstore.embed import MODEL_NAME
    from vectorstore.records import STORE_FORMAT

    return {
        "variants_version": VARIANTS_VERSION,
        "bbc_csv_bytes": bbc_csv.stat().st_size,
        "target_passages": target,
        "copies": copies,
        "chunker_version": CHUNKER_VERSION,
        "store_format": STORE_FORMAT,
        "chunk_chars": settings.chunk_chars,
        "model": MODEL_NAME,
    }


def plan_copies(bbc_csv: Path, target: int, settings: Settings, haystack: Path) -> int:
    """Return how many perturbed copies of the BBC set bring the corpus to ``target`` passages."""
    from vectorstore.chunk import chunk_article
    from vectorstore.load import article_from_text, load_paths

    loaded = load_paths([haystack])
    have = sum(len(chunk_article(a, settings.chunk_chars))
               for r in loaded.values() for a in r.articles)
    bbc = read_bbc(bbc_csv)
    per_copy = sum(len(chunk_article(article_from_text(aid, text), settings.chunk_chars))
                   for aid, text in variants(bbc, 1))
    return max(0, -(-(target - have) // per_copy))


def write_corpus(folder: Path, bbc_csv: Path, copies: int) -> Path:
    build_haystack(folder, bbc_csv)
    for article_id, text in variants(read_bbc(bbc_csv), copies):
        path = folder / f"{article_id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(text, encoding="utf-8")
    return folder


def ensure_large_index(cache: Path, bbc_csv: Path, settings: Settings,
                       target: int = 100_000, log=print) -> tuple[Path, dict]:
    """Return the data dir of the cached large index and its manifest, building it if needed."""
    cache = Path(cache)
    corpus, data_dir, manifest_path = cache / "corpus", cache / "data", cache / "manifest.json"
    probe = cache / "haystack-probe"
    build_haystack(probe, bbc_csv)
    copies = plan_copies(bbc_csv, target, settings, probe)
    shutil.rmtree(probe, ignore_errors=True)
    wanted = _manifest(bbc_csv, target, settings, copies)
    if manifest_path.exists():
        have = json.loads(manifest_path.read_text())
        if {k: have.get(k) for k in wanted} == wanted and (data_dir / "chroma").exists():
            return data_dir, have
        log(f"the cached large index in {cache} is stale; rebuilding it")
        manifest_path.unlink()
        shutil.rmtree(corpus, ignore_errors=True)
    write_corpus(corpus, bbc_csv, copies)
    log(f"building the large index in {data_dir} ({copies} copies of the BBC set, bf16); "
        "this takes a while on two cores, and a killed build resumes where it stopped")
    from qa.service import QAService

    # bf16 for speed: it matches fp32 retrieval (the hit@5 comparison in bench.json).
    service = QAService(settings.replace(data_dir=data_dir, embed_precision="bf16"))
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            rate = done / max(now - started, 1e-9)
            log(f"  large index: {done}/{total} passages embedded ({rate:.0f}/s)")

    try:
        report = service.ingestor.ingest_paths([corpus], progress=progress)
        passages = service.docs.count_chunks()
        articles = service.docs.count_articles()
    finally:
        service.close()
    manifest = {**wanted, "passages": passages, "articles": articles,
                "build_seconds": round(time.perf_counter() - started, 1),
                "build_report": report.summary().splitlines()[0]}
    manifest_path.write_text(json.dumps(manifest, indent=2))
    log(f"large index ready: {passages} passages, {articles} articles")
    return data_dir, manifest


if __name__ == "__main__":  # pragma: no cover - python -m bench.scale CACHE
    from bench.haystack import BBC_CSV

    ensure_large_index(Path(sys.argv[1] if len(sys.argv) > 1 else "data/bench-cache"),
                       BBC_CSV, Settings.from_env())
