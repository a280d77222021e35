"""``flask --app app check [--repair]``: every kind of damage is found, then repaired."""

from __future__ import annotations

import logging
import time

import pytest

from app import create_app
from tests.fakes import FakeEmbedder
from vectorstore.check import check, check_in_background
from vectorstore.records import Version, new_stamp
from vectorstore.store import vector_id


@pytest.fixture
def app(settings):
    embedder = FakeEmbedder()
    app = create_app(settings.replace(orphan_grace_s=60), embedder_factory=lambda: embedder)
    assert app.test_client().get("/articles").status_code == 200  # seeded and cached
    yield app
    app.extensions["qa"].close()


def run_check(app, *args):
    result = app.test_cli_runner().invoke(args=["check", *args])
    return result.exit_code, result.output


def corpus_of(app):
    service = app.extensions["qa"]
    service.close()  # the CLI closes the service: open it again for the test's own look
    return service.corpus


ARTICLE = "001_757337abefd0f303"


def test_a_consistent_corpus_passes(app):
    code, out = run_check(app)
    assert code == 0, out
    assert "5 articles" in out and "consistent" in out


def test_an_article_without_all_its_vectors_is_found_and_stored_again(app):
    corpus = corpus_of(app)
    lost = [i for i in corpus.vectors.ids_of(ARTICLE)][:2]
    corpus.vectors.delete(lost)
    code, out = run_check(app)
    assert code == 1 and "articles listed without all their vectors" in out and ARTICLE in out
    code, out = run_check(app, "--repair")
    assert code == 0, out
    assert "repair: stored 1 articles again" in out
    assert check(corpus_of(app)).ok


def test_leftovers_of_replaced_versions_and_dead_writes_are_removed(app):
    corpus = corpus_of(app)
    now = corpus.records.current([ARTICLE])[ARTICLE]
    chunk = corpus.cache.article_chunks(ARTICLE)[0]
    vector = list(corpus.vectors.vectors([vector_id(chunk.chunk_id, now.stamp)]).values())
    old, dead, fresh = now.stamp - 1, new_stamp() - int(3600e9), new_stamp()
    planted = {  # (article, stamp): an older version's, a dead writer's, a live writer's
        "old": vector_id(chunk.chunk_id, old),
        "dead": vector_id("ghost:0", dead),
        "fresh": vector_id("newcomer:0", fresh),
    }
    for (aid, stamp), vid in zip([(ARTICLE, old), ("ghost", dead), ("newcomer", fresh)],
                                 planted.values(), strict=True):
        corpus.vectors.upsert([vid], vector, [{"article_id": aid, "s": stamp, "hash": "x"}])
    # A record of an older version that its writer did not get to delete.
    corpus.records.commit([Version(ARTICLE, old, hash="x", chunks=1, title="t")], ["old"],
                          vector)
    code, out = run_check(app)
    assert code == 1
    assert "records or vectors of replaced versions left behind" in out
    assert "vectors of writes that never committed" in out and "ghost" in out
    assert "note: 1 vectors of writes still in flight" in out  # not an error
    code, out = run_check(app, "--repair")
    assert code == 0, out
    left = {v.vector_id for v in corpus_of(app).vectors.scan()}
    assert planted["fresh"] in left  # never another writer's chunks in flight
    assert planted["dead"] not in left and planted["old"] not in left
    assert len(corpus_of(app).records.versions([ARTICLE])[ARTICLE]) == 1


def test_a_drifted_cache_is_found_and_caught_up(app):
    corpus = corpus_of(app)
    corpus.cache.delete_articles([ARTICLE])
    corpus.cache.db.execute("DELETE FROM chunk_terms WHERE rowid = "
                            "(SELECT MIN(rowid) FROM chunk_terms)")
    report = check(corpus)
    kinds = {f.kind for f in report.findings}
    assert {"cache_missing", "cache_index"} <= kinds and not report.ok
    code, out = run_check(app, "--repair")
    assert code == 0, out
    assert corpus_of(app).cache.article(ARTICLE) is not None


def test_the_service_checks_in_the_background_at_start_and_logs(app, caplog):
    corpus = corpus_of(app)
    corpus.vectors.delete(corpus.vectors.ids_of(ARTICLE)[:1])
    with caplog.at_level(logging.INFO, logger="vectorstore.check"):
        check_in_background(corpus, delay_s=0).join(30)
    assert "found problems" in caplog.text and ARTICLE in caplog.text


def test_old_tombstones_are_noted_not_failed(app):
    client = app.test_client()
    assert client.delete(f"/articles/{ARTICLE}").status_code == 200
    corpus = corpus_of(app)
    corpus.orphan_grace_s = 0.001
    time.sleep(0.01)
    report = check(corpus)
    assert report.ok and report.tombstones == 1
    assert any(f.kind == "old_tombstones" for f in report.findings)


def test_a_write_settling_during_the_check_is_not_taken_for_damage(app, monkeypatch):
    """A writer between commit and settle leaves an old record for milliseconds; a worker's
    cache lags Chroma by up to a sync interval. Both pass during the check's pause."""
    corpus = corpus_of(app)
    now = corpus.records.current([ARTICLE])[ARTICLE]
    chunk = corpus.cache.article_chunks(ARTICLE)[0]
    vector = list(corpus.vectors.vectors([vector_id(chunk.chunk_id, now.stamp)]).values())
    corpus.records.commit([Version(ARTICLE, now.stamp - 1, hash="x", chunks=1, title="t")],
                          ["old"], vector)
    corpus.cache.delete_articles(["002_9bafd4e5a807f6bb"])
    paused = []

    def pause(seconds: float) -> None:
        paused.append(seconds)
        corpus.settle([ARTICLE])
        corpus.syncer.reconcile()

    monkeypatch.setattr(time, "sleep", pause)
    report = check(corpus)
    assert paused and report.ok, report.lines()


def test_damage_still_there_after_the_pause_is_reported(app, monkeypatch):
    corpus = corpus_of(app)
    corpus.cache.delete_articles([ARTICLE])
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    report = check(corpus)
    assert [f.kind for f in report.findings] == ["cache_missing"]
