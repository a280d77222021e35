"""The extractive reader: the answer is the article sentences that best answer the question.

No generative model is involved, so every word of the answer is a quote: instant, and the
fallback of every other reader.
"""

from __future__ import annotations

from collections.abc import Generator

from qa.cite import ABSTAIN_TEXT, Claim
from qa.readers import ReaderInput, Reading, register, story_floor

MAX_PART_CLAIMS = 2  # per part of a multi-part question


class ExtractiveReader:
    name = "extractive"

    def __init__(self, parts):
        self.parts = parts  # the service, for its sentence scorer

    def answer(self, question: ReaderInput) -> Reading:
        """Choose the answer sentences of every part, or abstain when none qualifies."""
        if question.overview:
            return _leads(question)
        claims: list[Claim] = []
        floor = story_floor(question)
        for part in question.parts:
            # A sentence from another story than the one an article clearly tells is no
            # answer (another match's score), nor one far from where its article names what
            # is asked (the other film's), as the generative reader's checks say too.
            candidates = [c for c in part.candidates if c.story >= floor and c.focused]
            found, abstained = self.parts.scorer.decide(part.query, part.passages, candidates)
            if abstained:
                continue
            seen = {c.text for c in claims}
            claims += [c for c in found if c.text not in seen][:MAX_PART_CLAIMS]
        if not claims:
            return Reading([Claim(ABSTAIN_TEXT)], abstained=True)
        return Reading(claims, abstained=False)

    def read(self, question: ReaderInput, *, deadline: float,
             stream: bool = False) -> Generator[str, None, Reading]:
        return self.answer(question)
        yield  # noqa: B901 - a generator that streams nothing: the answer is ready at once


def _leads(question: ReaderInput) -> Reading:
    """What the articles are about, in their own opening sentence each."""
    firsts: dict[str, Claim] = {}
    for lead in question.parts[0].candidates:
        firsts.setdefault(lead.chunk.article_id, Claim(lead.text, [lead.evidence()]))
    if not firsts:
        return Reading([Claim(ABSTAIN_TEXT)], abstained=True)
    return Reading(list(firsts.values()), abstained=False)


@register("extractive")
def _extractive(spec: str, settings, parts) -> ExtractiveReader:
    return ExtractiveReader(parts)
