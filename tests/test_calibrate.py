"""The threshold sweep: best accuracy, false refusals held down on every store."""

from pathlib import Path

from qa.calibrate import score_at, sweep


def test_false_refusals_are_capped_per_store_not_only_pooled():
    # Store "s": 10 answerable, two of them score low (0.4). Store "h": 90 answerable, all
    # high. Pooled, refusing the two is 2 % of 100; on "s" alone it is 20 %.
    rows = [(True, 0.4, True, "s")] * 2 + [(True, 0.9, True, "s")] * 8
    rows += [(True, 0.9, True, "h")] * 90
    rows += [(False, 0.45, False, "s")] * 5  # unanswerable, best score 0.45
    acc, refusals = score_at(rows, 0.5)
    assert refusals == {"s": 0.2, "h": 0.0}
    assert acc == (98 + 5) / 105
    _, threshold, worst = sweep(rows)
    assert threshold <= 0.4 and worst == 0.0  # 0.5 would abstain more, but refuse on "s"


def test_equally_accurate_weights_are_split_by_how_often_the_expected_article_comes_first(
        monkeypatch):
    import qa.calibrate as calibrate

    monkeypatch.setattr(calibrate, "GRID", {"dense": [0.5, 0.6]})

    def outcomes(answerer, prepared, weights):
        # Both points answer everything right; only dense=0.6 ranks the expected article first.
        return [(True, 0.9, True, "s", weights.dense == 0.6)] * 4

    monkeypatch.setattr(calibrate, "_outcomes", outcomes)
    weights, acc = calibrate.search(None, [])
    assert acc == 1.0 and weights.dense == 0.6


def test_weights_are_fitted_on_the_sentences_the_served_reader_chooses_among(monkeypatch):
    # The served extractive reader leaves out sentences of another story than the one an
    # article clearly tells (qa.readers.story_floor) and those far from where their article
    # names what is asked (qa.focus); fitting on them would fit to sentences it never sees.
    # A follow-up may span stories, so it keeps every story's.
    from types import SimpleNamespace

    import app as app_module
    from qa.calibrate import prepare
    from qa.eval import Fixture

    told, other = SimpleNamespace(story=0.9, focused=True), SimpleNamespace(story=0.5,
                                                                             focused=True)
    far = SimpleNamespace(story=0.9, focused=False)  # far from where the name is said
    part = SimpleNamespace(text="q", question="q", carried_articles=set())
    service = SimpleNamespace(
        warm_up=lambda: None, settings=SimpleNamespace(top_k=8),
        docs=SimpleNamespace(article=lambda article_id: object()),
        pipeline=SimpleNamespace(standalone=lambda question, history: [part]),
        retriever=SimpleNamespace(prepare=lambda text, question: None,
                                  search=lambda query, k, boost: []),
        scorer=SimpleNamespace(candidates=lambda query, passages: [told, other, far]))
    monkeypatch.setattr(app_module, "create_app", lambda **kw: SimpleNamespace(
        extensions={"qa": service}))

    def fixture(history):
        return Fixture(id="f", question="q", answers=["x"], sources=["a"], answerable=True,
                       type="fact", history=history)

    _, prepared = prepare([fixture(None), fixture([{"role": "user", "content": "earlier"}])],
                          Path("."))
    assert [row[3] for row in prepared] == [[told], [told, other]]
