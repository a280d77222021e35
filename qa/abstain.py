"""Whether the articles answer the question: one calibrated probability from several signals.

No signal is enough alone on news nobody tuned on: a small model invents answers to
near-miss questions, and retrieval scores cannot tell "the article names the player" from
"the article gives his age". A logistic model over the model's own refusal probability,
the support check of its answer and the retrieval and sentence scores separates them
better than any one of them; ``python -m qa.calibrate --reader`` fits it on fixtures.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

WEIGHTS_FILE = Path(__file__).with_name("abstain.json")


@dataclass(frozen=True)
class Signals:
    """What is known about one answer attempt; every value is in [0, 1] or a similarity."""

    refusal: float  # the model's probability of opening with its refusal
    refused: float  # 1 when it did refuse
    support: float  # support score of its answer by the cited sentence (0: none)
    cited_similarity: float  # the cited sentence's similarity to the question
    top_similarity: float  # the best sentence's similarity to the question
    passage_similarity: float  # the best passage's similarity to the question
    sentence_score: float  # the sentence scorer's best score (the extractive answerability)

    def vector(self) -> list[float]:
        return [getattr(self, f.name) for f in fields(self)]


@dataclass(frozen=True)
class Abstainer:
    """``P(answerable) = sigmoid(bias + weights . signals)``; answer at ``threshold`` or above."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Abstainer:
        values = json.loads(path.read_text())
        names = [f.name for f in fields(Signals)]
        return cls(tuple(float(values["weights"][n]) for n in names), float(values["bias"]),
                   float(values["threshold"]))

    def save(self, path: Path = WEIGHTS_FILE, **notes) -> None:
        names = [f.name for f in fields(Signals)]
        path.write_text(json.dumps({
            "weights": dict(zip(names, self.weights, strict=True)), "bias": self.bias,
            "threshold": self.threshold, **notes}, indent=2) + "\n")

    def probability(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def answerable(self, signals: Signals) -> bool:
        return self.probability(signals) >= self.threshold


def describe(signals: Signals, probability: float) -> dict:
    """The decision's inputs, for the response's ``details`` and the evaluation report."""
    return {**{k: round(v, 4) for k, v in asdict(signals).items()},
            "answerable": round(probability, 4)}
