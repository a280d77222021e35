"""The order in which a generative reader is shown its evidence sentences."""

import json
from types import SimpleNamespace

from qa.compose import Candidate
from qa.readers import Part, ReaderInput
from qa.readers.evidence import ORDER, Order, select


def cand(text, dense, coverage, fit=1, story=1.0, entities=1.0, article="a", recency=0.0):
    chunk = SimpleNamespace(article_id=article, chunk_id=f"{article}:0", title="", published=None,
                            source=None, url=None)
    c = Candidate(chunk, 0, len(text), text, 0, dense=dense, coverage=coverage, fit=fit,
                  story=story, entities=entities)
    c.recency = recency
    return c


def asked(*candidates):
    part = Part("q", None, [], list(candidates))
    return ReaderInput(question="q", standalone="q", history=[], parts=[part])


def test_the_sentence_holding_the_asked_words_and_kind_is_read_first():
    # Embedding similarity alone puts the sentence about the topic first; the one that
    # holds the question's words and a figure of the asked-for kind answers it.
    topical = cand("The panel has long been criticised.", dense=0.62, coverage=0.3, fit=0)
    answer = cand("The panel has 19 lawyers.", dense=0.50, coverage=0.6, fit=1)
    assert [s.text for s in select(asked(topical, answer), 2)] == [
        topical.text, answer.text]  # as the extractive reader ranked them
    assert [s.text for s in select(asked(topical, answer), 2, order=ORDER)] == [
        answer.text, topical.text]


def test_a_sentence_from_another_story_drops_behind_the_story_asked_about():
    elsewhere = cand("He scored twice in the final.", dense=0.55, coverage=0.5, story=0.3,
                     article="b")
    here = cand("He scored once in the final.", dense=0.5, coverage=0.5, story=0.9)
    assert select(asked(elsewhere, here), 1, order=ORDER)[0].text == here.text


def test_for_the_latest_news_the_newest_close_sentence_still_leads():
    old = cand("The old report.", dense=0.6, coverage=0.5, recency=0.0, article="old")
    new = cand("The new report.", dense=0.55, coverage=0.5, recency=1.0, article="new")
    assert [c.text for c in Order().rank([old, new])] == [new.text]


def test_the_order_is_read_from_the_weights_file_and_calibration_keeps_it(tmp_path,
                                                                        monkeypatch):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({"dense": 0.5, "evidence": {"dense": 1.0, "fit": 0.0}}))
    assert Order.load(path) == Order(dense=1.0, fit=0.0)
    assert Order.load(tmp_path / "missing.json") == Order()

    import qa.calibrate
    from qa.compose import Weights
    monkeypatch.setattr(qa.calibrate, "WEIGHTS_FILE", path)
    monkeypatch.setattr(qa.calibrate, "prepare", lambda fixtures, data_dir: (None, []))
    monkeypatch.setattr(qa.calibrate, "search", lambda answerer, prepared: (Weights(), 1.0))
    monkeypatch.setattr(qa.calibrate, "_first_rate", lambda outcomes: 1.0)
    monkeypatch.setattr(qa.calibrate, "_outcomes", lambda *a: [])
    monkeypatch.setattr(qa.calibrate, "outcomes", lambda *a: [])
    monkeypatch.setattr(qa.calibrate, "score_at", lambda *a: (1.0,))
    monkeypatch.setattr(qa.calibrate, "load_fixtures", lambda path: [])
    qa.calibrate.main([str(tmp_path / "none.jsonl"), "--write"])
    written = json.loads(path.read_text())
    assert written["evidence"] == {"dense": 1.0, "fit": 0.0}
    assert written["dense"] == Weights().dense


def test_the_evidence_benchmark_reads_its_variants():
    import argparse

    import pytest

    from bench.evidence import DEFAULT_VARIANTS, variant
    assert variant("4-reader=QA_EVIDENCE_SENTENCES=4,QA_EVIDENCE_ORDER=reader") == (
        "4-reader", {"QA_EVIDENCE_SENTENCES": "4", "QA_EVIDENCE_ORDER": "reader"})
    assert variant("defaults=") == ("defaults", {})
    for bad in ("name", "=QA_X=1", "name=QA_X", "name=QA_X=1,=2"):
        with pytest.raises(argparse.ArgumentTypeError):
            variant(bad)
    assert list(DEFAULT_VARIANTS) == ["defaults", "4-reader"]
