import numpy as np
import pytest

from tests.fakes import FakeEmbedder
from vectorstore.corpus import Corpus
from vectorstore.embed import TITLE_WEIGHT, embed_passages
from vectorstore.ingest import Ingestor


def make_ingestor(settings, embedder) -> Ingestor:
    return Ingestor(Corpus.open(settings), embedder, settings.chunk_chars)


def stored_ids(ingestor: Ingestor) -> set[str]:
    return set(ingestor.store.hashes())


def test_first_ingest_stores_every_chunk(settings, fake_embedder, seeds_dir):
    ingestor = make_ingestor(settings, fake_embedder)
    report = ingestor.ingest_paths([seeds_dir])
    assert report.articles == 5 and report.added > 0 and report.unchanged == 0
    assert ingestor.store.count() == report.added == ingestor.docs.count_chunks()
    assert ingestor.docs.count_articles() == 5


def test_reingest_of_an_unchanged_corpus_embeds_nothing(settings, fake_embedder, seeds_dir):
    ingestor = make_ingestor(settings, fake_embedder)
    first = ingestor.ingest_paths([seeds_dir])
    calls = fake_embedder.calls
    second = ingestor.ingest_paths([seeds_dir])
    assert fake_embedder.calls == calls
    assert (second.added, second.removed, second.unchanged) == (0, 0, first.added)
    assert ingestor.store.count() == first.added


def test_changed_article_replaces_its_old_chunks(settings, fake_embedder, seeds_dir):
    ingestor = make_ingestor(settings, fake_embedder)
    ingestor.ingest_paths([seeds_dir])
    path = seeds_dir / "001_757337abefd0f303.txt"
    path.write_text("Short replacement\nOnly one sentence about zorblax now.")
    texts_before = fake_embedder.texts
    report = ingestor.ingest_paths([seeds_dir])
    assert report.added == 1
    assert fake_embedder.texts == texts_before + 1  # the passage; its title is its lead
    ids = {cid for cid in stored_ids(ingestor) if cid.startswith("001_")}
    assert ids == {"001_757337abefd0f303:0"}
    assert ingestor.store.count() == ingestor.docs.count_chunks()
    assert "zorblax" in ingestor.docs.article("001_757337abefd0f303").text


def test_removed_article_loses_its_chunks(settings, fake_embedder, seeds_dir):
    ingestor = make_ingestor(settings, fake_embedder)
    ingestor.ingest_paths([seeds_dir])
    (seeds_dir / "004_57dd90c7a496a4fa.txt").unlink()
    report = ingestor.ingest_paths([seeds_dir])
    assert report.articles_removed == 1 and report.removed > 0
    assert not any(cid.startswith("004_") for cid in stored_ids(ingestor))
    assert ingestor.docs.article("004_57dd90c7a496a4fa") is None
    assert ingestor.store.count() == ingestor.docs.count_chunks()


def test_ingesting_another_folder_keeps_the_first(settings, fake_embedder, seeds_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.txt").write_text("Extra\nA separate article.")
    ingestor = make_ingestor(settings, fake_embedder)
    ingestor.ingest_paths([seeds_dir])
    ingestor.ingest_paths([other])
    assert ingestor.docs.count_articles() == 6


def test_writes_respect_chromas_max_batch_size(settings, fake_embedder, seeds_dir, monkeypatch):
    ingestor = make_ingestor(settings, fake_embedder)
    sizes = []
    original = ingestor.store.collection.upsert

    def spy(**kwargs):
        sizes.append(len(kwargs["ids"]))
        return original(**kwargs)

    monkeypatch.setattr(ingestor.store.collection, "upsert", spy)
    ingestor.store.max_batch = 7
    report = ingestor.ingest_paths([seeds_dir])
    assert max(sizes) <= 7 and sum(sizes) == report.added


def test_vectors_of_a_write_killed_before_its_commit_are_kept_by_the_next(
        settings, fake_embedder, seeds_dir, monkeypatch):
    ingestor = make_ingestor(settings, fake_embedder)
    corpus = ingestor.corpus

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies between its vectors and its commit

    monkeypatch.setattr(corpus, "_forget", lambda ids: None)  # a dead process cleans nothing
    monkeypatch.setattr(corpus.records, "commit", killed)
    with pytest.raises(KeyboardInterrupt):
        ingestor.ingest_paths([seeds_dir])
    monkeypatch.undo()
    assert corpus.records.count() == 0 and corpus.vectors.count() > 0
    texts = fake_embedder.texts
    report = ingestor.ingest_paths([seeds_dir])
    assert fake_embedder.texts == texts  # the orphaned vectors were reused, not re-embedded
    assert report.added == 0 and report.unchanged == corpus.vectors.count()
    assert corpus.vectors.count() == ingestor.docs.count_chunks()  # and then deleted


def test_each_title_is_embedded_once_and_mixed_into_its_passages():
    embedder = FakeEmbedder()
    texts = ["drones rolled off the line", "the plant doubled output", "rain in Lisbon"]
    titles = ["Ukraine drone factory", "Ukraine drone factory", "Weather"]
    vectors = embed_passages(embedder, texts, titles)
    assert embedder.texts == len(texts) + 2  # two distinct titles, encoded once each
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    title = embedder.embed_query("Ukraine drone factory")
    plain = embedder.embed_documents(texts[:1])[0]
    assert vectors[0] @ title > plain @ title  # the passage now leans towards its title
    assert vectors[0] @ plain > 0.9  # but stays its own text


def test_a_title_that_is_its_articles_lead_lends_the_first_passage_vector():
    embedder = FakeEmbedder()
    texts = ["storm hits the coast and floods towns. more text", "rain continues"]
    titles = ["storm hits the coast and…"] * 2  # no headline line: the title is the lead
    vectors = embed_passages(embedder, texts, titles)
    assert embedder.texts == 2  # no third encode for the title
    first = embedder.embed_query(texts[0])
    second = embedder.embed_query(texts[1])
    want = second + TITLE_WEIGHT * first
    want /= np.linalg.norm(want)
    assert np.allclose(vectors[1], want, atol=1e-6)
