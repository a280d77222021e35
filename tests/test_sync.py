"""Workers follow the corpus in Chroma: rebuild, poll, stale passages dropped, filters.

Two ``Corpus`` objects on one Chroma client with separate cache files stand for two
workers with separate data directories (tests/test_scale_out.py does it with processes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.retrieve import Filters, Retriever
from tests.fakes import FakeEmbedder
from vectorstore.article import Article
from vectorstore.corpus import CACHE_FILE, Corpus
from vectorstore.ingest import Ingestor
from vectorstore.load import article_from_text
from vectorstore.store import Client, vector_id


@pytest.fixture
def workers(settings, tmp_path):
    """Two workers' corpora on one Chroma store; the second has its own cache."""
    client = Client.open(settings)
    one = Corpus(client, "articles", Path(settings.data_dir) / CACHE_FILE, sync_interval_s=0)
    two = Corpus(client, "articles", tmp_path / "other" / CACHE_FILE, sync_interval_s=0)
    yield one, two
    one.syncer.stop()
    two.syncer.stop()
    client.close()


def ingestor(corpus: Corpus) -> Ingestor:
    return Ingestor(corpus, FakeEmbedder())


def story(article_id: str, token: str, detail: str = "", **meta) -> Article:
    body = f"The {token} bridge opens\nThe {token} bridge carries 4,000 cars a day. {detail}"
    return Article(article_id, f"The {token} bridge opens", body, "api", **meta)


def search(corpus: Corpus, text: str, k: int = 5, filters: Filters | None = None,
           depth: int = 40) -> list:
    retriever = Retriever(corpus, FakeEmbedder(), depth=depth)
    return retriever.search(retriever.prepare(text), k, filters=filters)


def test_a_worker_on_an_empty_data_dir_builds_its_cache_from_chroma(workers, seeds_dir):
    one, two = workers
    ingestor(one).ingest_paths([seeds_dir])
    assert two.cache.count_articles() == 0
    docs = two.ready()
    assert docs.count_articles() == one.cache.count_articles() == 5
    assert docs.chunk_hashes() == one.cache.chunk_hashes()
    question = "How many drones can Ukraine produce each year?"
    assert [p.chunk_id for p in search(two, question)] == \
        [p.chunk_id for p in search(one, question)]
    # Kept across restarts: a second start finds it built and only catches up.
    assert two.cache.get_meta("store") == two.identity


def test_a_poll_brings_in_what_another_worker_added_changed_or_deleted(workers):
    one, two = workers
    two.ready()
    write = ingestor(one)
    write.ingest([story("a", "quandrilex"), story("b", "zorblatt")])
    assert two.syncer.poll().applied == 2
    assert two.cache.article("a").text == one.cache.article("a").text
    write.ingest([story("a", "vextrane")])
    write.remove_article("b")
    report = two.syncer.poll()
    assert (report.applied, report.removed) == (1, 1)
    assert "vextrane" in two.cache.article("a").text and two.cache.article("b") is None
    assert two.syncer.poll().applied == 0  # applying again is a no-op


def test_a_passage_deleted_elsewhere_is_never_answered_even_before_the_poll(workers):
    one, two = workers
    two.ready()
    ingestor(one).ingest([story("a", "quandrilex")])
    two.syncer.poll()
    assert search(two, "quandrilex bridge")[0].article_id == "a"
    ingestor(one).remove_article("a")
    assert two.cache.article("a") is not None  # not synced yet
    assert all(p.article_id != "a" for p in search(two, "quandrilex bridge"))
    assert two.syncer._wake.is_set()  # and the sync was told to look now


def test_vectors_of_a_write_in_flight_are_not_used(workers):
    one, _ = workers
    one.ready()
    ingestor(one).ingest([story("a", "quandrilex")])
    stamp = one.cache.cached(["a"])["a"].stamp
    # Another writer has stored vectors for a newer version but not committed it yet.
    chunk = one.cache.article_chunks("a")[0]
    vector = one.vectors.vectors([vector_id(chunk.chunk_id, stamp)])
    one.vectors.upsert([vector_id(chunk.chunk_id, stamp + 1)], list(vector.values()),
                       [{"article_id": "a", "s": stamp + 1, "hash": "other"}])
    hits = one.vectors.query(list(vector.values())[0], 5)
    assert {h.stamp for h in hits if h.article_id == "a"} == {stamp, stamp + 1}
    passages = search(one, "quandrilex bridge")
    assert [p.chunk_id for p in passages].count(chunk.chunk_id) == 1


def test_a_cache_of_another_store_is_rebuilt(settings, seeds_dir):
    client = Client.open(settings)
    try:
        corpus = Corpus(client, "articles", Path(settings.data_dir) / CACHE_FILE,
                        sync_interval_s=0)
        ingestor(corpus).ingest_paths([seeds_dir])
        corpus.ready()
        client.chroma.delete_collection("articles")
        client.chroma.delete_collection("articles_records")
        fresh = Corpus(client, "articles", Path(settings.data_dir) / CACHE_FILE,
                       sync_interval_s=0)
        assert fresh.ready().count_articles() == 0  # nothing survives from the old store
    finally:
        client.close()


def test_filters_apply_inside_both_searches_not_after(workers):
    one, _ = workers
    one.ready()
    crowd = [story(f"crowd/{i}", "harbour", source="Daily Crowd", published="2024-01-10")
             for i in range(30)]
    wanted = [story("rare/1", "harbour", "Tolls rise in July, the mayor said.",
                    source="Rare Times", published="2024-06-30T22:00:00Z"),
              story("rare/2", "harbour", "Divers inspected the piers after the storm.",
                    source="Rare Times", published="2023-05-01")]
    ingestor(one).ingest(crowd + wanted)
    # With a depth of 5 the crowd fills both searches: filtering afterwards would leave
    # nothing.
    only_rare = search(one, "harbour bridge", depth=5, filters=Filters(sources=("Rare Times",)))
    assert {p.article_id for p in only_rare} == {"rare/1", "rare/2"}
    from datetime import date

    june = Filters(published_after=date(2024, 6, 1), published_before=date(2024, 6, 30))
    assert [p.article_id for p in search(one, "harbour bridge", depth=5, filters=june)] == \
        ["rare/1"]
    assert search(one, "harbour bridge", filters=Filters(sources=())) == []
    top = only_rare[0]
    assert top.to_json()["source"] == "Rare Times" and top.chunk.published
    from qa.contract import Filters as AskFilters  # the contract's filters, as searched
    assert AskFilters(published_after="2024-06-01", sources=["Wire"]).for_search() == \
        Filters(published_after=date(2024, 6, 1), sources=("Wire",))


def test_passage_vectors_carry_the_filter_fields(workers):
    one, _ = workers
    ingestor(one).ingest([story("a", "quandrilex", source="Wire", published="2024-03-01")])
    got = one.vectors.collection.get(include=["metadatas"])
    assert got["metadatas"][0]["published_ts"] == 1709251200
    assert got["metadatas"][0]["source"] == "Wire"
    record = one.records.current(["a"])["a"]
    assert (record.source, record.published, record.origin) == ("Wire", "2024-03-01", "api")
    assert one.records.texts([record])[record.record_id].startswith("The quandrilex")


def test_ingest_reads_an_iterable_a_batch_at_a_time(workers, monkeypatch):
    import vectorstore.ingest as ingest_module

    one, _ = workers
    monkeypatch.setattr(ingest_module, "PLAN_ARTICLES", 10)
    consumed = []
    writes_seen_at = []
    original = one.write

    def write(pending):
        writes_seen_at.append(len(consumed))
        return original(pending)

    monkeypatch.setattr(one, "write", write)

    def feed():
        for i in range(45):
            consumed.append(i)
            yield article_from_text(f"feed/{i}", f"Item {i}\nThe item number {i} sold well.",
                                    origin="feed")

    report = ingestor(one).ingest(feed())
    assert report.articles == 45 and one.cache.count_articles() == 45
    assert writes_seen_at[0] < 45  # storing began before the feed was read to its end


def test_a_legacy_store_is_migrated_without_embedding_again(settings, seeds_dir, tmp_path):
    """0.3.0 kept texts in docstore.sqlite3 and vectors under ``<chunk_id>`` ids."""
    import sqlite3

    from app import create_app
    from vectorstore.chunk import chunk_article
    from vectorstore.embed import embed_passages
    from vectorstore.load import load_paths
    from vectorstore.store import VectorStore

    articles = [a for r in load_paths([seeds_dir]).values() for a in r.articles]
    data = Path(settings.data_dir)
    data.mkdir(parents=True)
    with sqlite3.connect(data / "docstore.sqlite3") as db:
        db.execute("CREATE TABLE articles (article_id TEXT PRIMARY KEY, title TEXT, text TEXT, "
                   "hash TEXT, source TEXT, updated REAL)")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.executemany("INSERT INTO articles VALUES (?, ?, ?, '', ?, 0)",
                       [(a.article_id, a.title, a.text, a.origin) for a in articles])
    store = VectorStore.open(settings)
    chunks = [c for a in articles for c in chunk_article(a, settings.chunk_chars)]
    store.upsert([c.chunk_id for c in chunks],
                 embed_passages(FakeEmbedder(), [c.text for c in chunks],
                                [c.title for c in chunks]),
                 [{"article_id": c.article_id, "hash": c.content_hash} for c in chunks])
    store.close()

    embedder = FakeEmbedder()
    app = create_app(settings, embedder_factory=lambda: embedder)
    try:
        assert len(app.test_client().get("/articles").get_json()["articles"]) == 5
        assert embedder.texts == 0
        corpus = app.extensions["qa"].corpus
        assert {v.stamp is not None for v in corpus.vectors.scan()} == {True}
        assert corpus.vectors.count() == len(chunks)
        assert (data / "docstore.sqlite3.migrated").exists()
    finally:
        app.extensions["qa"].close()


def test_a_cache_file_deleted_under_a_running_worker_is_rebuilt(settings, seeds_dir, tmp_path):
    import subprocess
    import sys

    from vectorstore.docstore import DocStore

    path = tmp_path / "worker" / CACHE_FILE
    client = Client.open(settings)
    try:
        corpus = Corpus(client, "articles", path, sync_interval_s=0)
        ingestor(corpus).ingest_paths([seeds_dir])
        corpus.ready()
        # Another process (a running worker) still has the cache open.
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]);"
             " print(c.execute('SELECT COUNT(*) FROM articles').fetchone()[0], flush=True);"
             " time.sleep(60)", str(path)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "5"
            corpus.cache.db.close()
            path.unlink()  # its journal stays: SQLite alone fails with "disk I/O error"
            assert DocStore(path).count_articles() == 0
            again = Corpus(client, "articles", path, sync_interval_s=0)
            assert again.ready().count_articles() == 5
        finally:
            holder.kill()
            holder.wait()
    finally:
        client.close()


def token(i: int) -> str:
    """A made-up word, different for each i below 26 ** 2."""
    return f"qx{chr(97 + i // 26)}{chr(97 + i % 26)}vorn"


class NameBlindEmbedder(FakeEmbedder):
    """Cannot tell made-up names apart, as a real sentence model barely can: every article
    cut from one template gets one vector, so the dense search ranks them arbitrarily."""

    def _vector(self, text: str):
        return super()._vector(" ".join(w for w in text.split() if not w.startswith("qx")))


def test_the_article_naming_the_asked_bridge_is_read_among_many_like_it(workers):
    """Sixty articles cut from one template: the one the question names by its rare word is
    among the passages read, however the fusion ranks the others (bench.stress found it
    drowned: the rest match the common words in both searches)."""
    one, _ = workers
    embedder = NameBlindEmbedder()
    Ingestor(one, embedder).ingest([story(f"t/{i}", token(i)) for i in range(60)])
    retriever = Retriever(one, embedder)
    for i in range(0, 60, 6):
        query = retriever.prepare(f"How many cars does the {token(i)} bridge carry each day?")
        assert f"t/{i}" in [p.article_id for p in retriever.search(query, 8)], i
