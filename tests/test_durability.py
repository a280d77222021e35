"""Durability: SIGKILL the ingest process at several points, re-run it, lose nothing.

The ingest is the real CLI (``flask ingest``) in its own process, through
``tests.fake_app`` (the fake embedder, slowed a little, and small batches so that
there are many states to be killed in). Each kill lands once the docstore holds a
given number of articles, plus a random delay, so kills fall between and inside
Chroma upserts and docstore transactions alike.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from qa.settings import Settings
from tests.fakes import FakeEmbedder
from tests.servers import BIN, ROOT, app_env, start_chroma, stop
from vectorstore.check import check
from vectorstore.chunk import chunk_article
from vectorstore.corpus import CACHE_FILE, Corpus
from vectorstore.embed import embed_passages
from vectorstore.load import load_paths
from vectorstore.store import split_vector_id

ARTICLES = 300
# Kill once the docstore holds this many articles (each run resumes where the last died).
KILL_AT = (1, 45, 95, 150, 205, 260)


def write_corpus(folder: Path, n: int = ARTICLES) -> None:
    rng = random.Random(5)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pe", "du", "zan", "qui"]
    vocab = sorted({"".join(rng.choices(syllables, k=4)) for _ in range(6000)})
    folder.mkdir(parents=True)
    for i in range(n):
        sentences = [
            " ".join(rng.choices(vocab, k=rng.randint(8, 16))).capitalize() + "."
            for _ in range(rng.randint(6, 14))
        ]
        paragraphs = [" ".join(sentences[j:j + 3]) for j in range(0, len(sentences), 3)]
        (folder / f"story_{i:03d}.txt").write_text(
            f"Story {i} of the durability corpus\n\n" + "\n\n".join(paragraphs) + "\n"
        )


def expected_chunks(folder: Path) -> dict:
    chunk_chars = Settings().chunk_chars
    articles = [a for r in load_paths([folder]).values() for a in r.articles]
    return {c.chunk_id: c for a in articles for c in chunk_article(a, chunk_chars)}


def docstore_articles(data: Path) -> int:
    # The ingest process writes each committed batch to its local cache too.
    path = data / CACHE_FILE
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def ingest(env: dict, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "tests.fake_app", "ingest", str(folder)],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def kill_at(env: dict, folder: Path, data: Path, articles: int, rng: random.Random) -> int:
    """Run an ingest and SIGKILL it once ``articles`` are stored; return the count then."""
    proc = ingest(env, folder)
    deadline = time.monotonic() + 180
    while docstore_articles(data) < articles:
        assert proc.poll() is None, f"the ingest ended before {articles} articles: " + \
            proc.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "the ingest made no progress"
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.08))
    assert proc.poll() is None, "the ingest finished before the kill"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return docstore_articles(data)


def check_consistent(settings: Settings, expected: dict) -> None:
    corpus = Corpus.open(settings)
    store = corpus.vectors
    try:
        docs = corpus.ready()  # the local cache, built from Chroma alone
        report = check(corpus)
        assert report.ok, "\n".join(report.lines())
        assert report.articles == ARTICLES and report.passages == len(expected)
        got = store.collection.get(include=["embeddings", "metadatas"])
        ids = [split_vector_id(vid)[0] for vid in got["ids"]]
        assert len(ids) == len(set(ids)), "duplicate chunk ids"
        assert set(ids) - set(expected) == set(), "chunks that should not exist"
        assert set(expected) - set(ids) == set(), "missing chunks"
        assert store.count() == len(expected)

        assert docs.count_articles() == ARTICLES
        assert docs.count_chunks() == len(expected)
        stored = docs.chunks(list(expected))
        assert set(stored) == set(expected)
        for chunk_id, meta in zip(ids, got["metadatas"], strict=True):
            want = expected[chunk_id]
            assert meta["hash"] == want.content_hash, chunk_id  # Chroma agrees with the files
            assert stored[chunk_id].text == want.text  # and so does the cache
            assert (stored[chunk_id].start, stored[chunk_id].end) == (want.start, want.end)

        # Each stored vector is the chunk's own, and a query with it finds that chunk first.
        embedder = FakeEmbedder()
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        own = embed_passages(embedder, [expected[cid].text for cid in ids],
                             [expected[cid].title for cid in ids])
        assert np.allclose(vectors, own, atol=1e-5)
        for start in range(0, len(ids), 100):
            found = store.collection.query(query_embeddings=vectors[start:start + 100],
                                           n_results=1, include=["distances"])
            for cid, hits, distances in zip(ids[start:start + 100], found["ids"],
                                            found["distances"], strict=True):
                assert split_vector_id(hits[0])[0] == cid or distances[0] < 1e-6, \
                    f"{cid} is not findable"
    finally:
        corpus.close()


@pytest.mark.parametrize("mode", ["embedded", "chroma-server"])
def test_ingest_survives_sigkill_at_every_point(tmp_path: Path, mode: str):
    folder, data = tmp_path / "corpus", tmp_path / "data"
    write_corpus(folder)
    expected = expected_chunks(folder)
    assert len(expected) > 2 * ARTICLES  # a large ingest: many batches, many chunks

    chroma = None
    extra = {}
    settings = Settings(data_dir=data)
    if mode == "chroma-server":
        chroma, port = start_chroma(tmp_path / "chroma")
        extra = {"QA_CHROMA_HOST": "127.0.0.1", "QA_CHROMA_PORT": str(port)}
        settings = settings.replace(chroma_host="127.0.0.1", chroma_port=port)
    env = app_env(data, folder, FAKE_EMBED_DELAY_S="0.03", FAKE_INGEST_BATCH="24", **extra)
    rng = random.Random(11)
    try:
        survived = []
        for target in KILL_AT:
            survived.append(kill_at(env, folder, data, target, rng))
        assert len(survived) >= 5 and survived == sorted(survived)
        assert survived[-1] < ARTICLES

        final = ingest(env, folder)
        out, err = final.communicate(timeout=300)
        assert final.returncode == 0, err[-3000:]
        assert f"{ARTICLES} articles" in out
        check_consistent(settings, expected)

        # A further run finds nothing to do.
        again = ingest(env, folder)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err[-3000:]
        assert f"0 chunks added, {len(expected)} unchanged, 0 removed" in out
        print(f"{mode}: survived {len(survived)} SIGKILLs at {survived} of {ARTICLES} articles; "
              f"{len(expected)} chunks consistent")
    finally:
        if chroma is not None:
            stop(chroma)
