"""Fitting the abstainer: weights keep the side their signal's meaning gives them."""

from __future__ import annotations

import random

import numpy as np

from qa.abstain import DIRECTIONS, Signals
from qa.calibrate_abstainer import best_threshold, fit, outcome


def rows(n: int = 200) -> list[dict]:
    """Answerable questions whose best sentence is a little *less* similar than the
    near-misses' (which share the question's words), told apart by the model's refusal."""
    rng = random.Random(3)
    out = []
    for i in range(n):
        answerable = i % 2 == 0
        signals = {name: rng.random() for name in Signals.names()}
        signals["refusal"] = rng.uniform(0, 0.4) if answerable else rng.uniform(0.3, 1)
        signals["top_similarity"] = rng.uniform(0.5, 0.7) if answerable else rng.uniform(0.6, 0.8)
        out.append({"set": "a", "answerable": answerable, "signals": signals, "answer": "x",
                    "model_correct": answerable, "extractive_abstains": False,
                    "extractive_correct": answerable})
    return out


def test_a_fit_keeps_each_weight_on_the_side_its_signal_means():
    free = dict(zip(Signals.names(), fit(rows(), 0.05, 1.0, monotone=False).weights,
                    strict=True))
    kept = dict(zip(Signals.names(), fit(rows(), 0.05, 1.0).weights, strict=True))
    assert free["top_similarity"] < 0  # what near-misses teach a free fit
    assert kept["top_similarity"] >= 0 and kept["refusal"] < 0
    assert all(DIRECTIONS[n] * w >= 0 for n, w in kept.items())


def row(set_name: str, answerable: bool, refusal: float, **extra) -> dict:
    signals = {name: 0.5 for name in Signals.names()} | {"refusal": refusal}
    return {"set": set_name, "answerable": answerable, "signals": signals, "answer": "x",
            "model_correct": answerable, "extractive_abstains": True,
            "extractive_correct": False} | extra


def test_a_set_already_over_the_refusal_cap_does_not_stop_every_threshold():
    # Set "a" refuses one answerable question of four whatever the abstainer does (the
    # model's answer did not verify and the extractive reader abstains); set "b"'s
    # near-misses are told apart by the model's refusal.
    rows = [row("a", True, 0.1, answer=""), *(row("a", True, 0.1) for _ in range(3)),
            *(row("b", True, 0.1) for _ in range(20)), *(row("b", False, 0.9) for _ in range(20))]
    probs = np.array([0.9] * 24 + [0.1] * 20)
    assert best_threshold(rows, probs, 0.05) > 0.1  # abstains on b's near-misses
    assert best_threshold(rows[4:], probs[4:], 0.05) > 0.1


def test_an_answer_a_later_check_withdrew_counts_as_abstaining():
    withdrawn = row("a", False, 0.1, answer="The articles don't say.", model_abstains=True,
                    model_correct=False)
    assert outcome(withdrawn, True) == (True, True)
    assert outcome(withdrawn | {"model_abstains": False}, True) == (False, False)
