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


# The sign each signal's weight may take (0: either), by what it means. Near-misses share
# the question's words, so a free fit on them learns that a less similar sentence means
# "answerable", and then an off-topic question ("how many planets are there?") looks it.
DIRECTIONS = {
    "refusal": -1, "refused": -1, "support": 1, "novelty": 0, "cited_similarity": 1,
    "cited_coverage": 1, "top_similarity": 1, "top_coverage": 1, "passage_similarity": 1,
    "sentence_score": 1, "extractive_abstains": -1, "agrees": 1,
}


@dataclass(frozen=True)
class Signals:
    """What is known about one answer attempt: shares in [0, 1], similarities and scores."""

    refusal: float  # the model's probability of opening with its refusal
    refused: float  # 1 when it did refuse
    support: float  # support score of its answer by the sentence it cites (0: none)
    novelty: float  # share of the answer's terms the question does not already hold
    cited_similarity: float  # the cited sentence's similarity to the question
    cited_coverage: float  # idf-weighted share of the question's terms the cited one holds
    top_similarity: float  # the best sentence's similarity to the question
    top_coverage: float  # the best coverage of the question by any sentence read
    passage_similarity: float  # the best passage's similarity to the question
    sentence_score: float  # the sentence scorer's best score (extractive answerability)
    extractive_abstains: float  # 1 when the extractive reader would abstain
    agrees: float = 0.0  # 1 when the model cites a sentence the extractive reader chose

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in self.names()]


@dataclass(frozen=True)
class Abstainer:
    """``P(answerable) = sigmoid(bias + weights . signals)``; answer at ``threshold`` or above.

    ``weights`` follow ``Signals.names()``; a signal the weights file does not name weighs 0.
    """

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def of(cls, bias: float, threshold: float = 0.5, **weights: float) -> Abstainer:
        """Build one from named weights (the rest weigh 0)."""
        unknown = set(weights) - set(Signals.names())
        if unknown:
            raise ValueError(f"no such signals: {sorted(unknown)}")
        return cls(tuple(float(weights.get(n, 0.0)) for n in Signals.names()), bias, threshold)

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Abstainer:
        values = json.loads(path.read_text())
        return cls(tuple(float(values["weights"].get(n, 0.0)) for n in Signals.names()),
                   float(values["bias"]), float(values["threshold"]))

    def save(self, path: Path = WEIGHTS_FILE, **notes) -> None:
        path.write_text(json.dumps({
            "weights": dict(zip(Signals.names(), self.weights, strict=True)),
            "bias": self.bias, "threshold": self.threshold, **notes}, indent=2) + "\n")

    def probability(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def answerable(self, signals: Signals) -> bool:
        return self.probability(signals) >= self.threshold


def describe(signals: Signals, probability: float) -> dict:
    """The decision's inputs, for the response's ``details`` and the evaluation report."""
    return {**{k: round(v, 4) for k, v in asdict(signals).items()},
            "answerable": round(probability, 4)}
