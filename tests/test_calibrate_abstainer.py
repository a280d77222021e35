"""Fitting the abstainer: weights keep the side their signal's meaning gives them."""

from __future__ import annotations

import random

from qa.abstain import DIRECTIONS, Signals
from qa.calibrate_abstainer import fit


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
