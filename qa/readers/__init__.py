"""Readers: the one seam between retrieved evidence and a cited answer.

The pipeline hands every reader the same ``ReaderInput`` (the question, and for each part of
it the retrieved passages and their sentences ranked by the sentence scorer) and gets back
a ``Reading``: claims that cite exact spans, or an abstention. A reader may stream draft
text while it works (``read`` is a generator of text pieces that returns the reading).

A new reader is one class and one entry in ``READERS``::

    @register("echo")
    class EchoReader:
        name = "echo"

        def __init__(self, spec: str, settings, parts):
            pass

        def read(self, question, *, deadline, stream=False):
            best = question.parts[0].candidates[0]
            return Reading([Claim(best.text, [best.evidence()])], abstained=False)
            yield  # a reader that streams nothing is still a generator

``QA_ANSWER_MODEL=echo`` then selects it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

from qa.cite import Claim
from qa.condense import Turn
from qa.errors import ConfigError
from qa.question import on


@dataclass
class Part:
    """One part of the question (most questions have one) and the evidence found for it."""

    text: str
    query: Any  # qa.retrieve.Query
    passages: list  # qa.retrieve.Passage, best first
    candidates: list  # qa.compose.Candidate, ranked by the sentence scorer


@dataclass
class ReaderInput:
    question: str  # as asked, slips mended and names cased as the articles write them
    standalone: str  # resolved against the conversation: what was searched for
    history: list[Turn]
    parts: list[Part]
    # What the story or the news is about, or a summary: the candidates are the leads of
    # the articles it points to (qa.overview), in article order, and there is one part.
    overview: bool = False
    # What the answer model reads instead of the question and the chat: a follow-up it
    # rewrote to stand alone, or an overview question as a request for a summary.
    rewritten: str | None = None
    typed: str | None = None  # the question as typed, when mending changed it
    unmatched: bool = False  # no article matches the request's filters
    # The news as a whole ("What is the latest news?"): the newest articles' leads, which
    # are answered as they are written, one per article, newest first.
    headlines: bool = False


# An article holding this idf-weighted share of the question's terms tells the story asked
# about; one holding OFF_STORY less tells another (another match's score, another
# candidate's seat). Decided on the dev sets (docs/evaluation.md, "The story asked about").
FOCUS = 0.75
OFF_STORY = 0.3


def story_floor(question: ReaderInput) -> float:
    """The share of the question's terms below which an article tells another story than
    the one asked about, so none of its sentences answers: 0 (none) when no article clearly
    tells it, or when a follow-up or a question in several parts may span stories."""
    spans = bool(question.history) or len(question.parts) != 1
    return floor_among([] if spans else question.parts[0].candidates, spans=spans)


def floor_among(candidates, *, spans: bool) -> float:
    """``story_floor`` of a question whose candidate sentences are ``candidates``; ``spans``
    when it may span stories (a follow-up, several parts)."""
    if spans or not on("story"):
        return 0.0
    told = max((c.story for c in candidates), default=0.0)
    return told - OFF_STORY if told >= FOCUS else 0.0


@dataclass
class Reading:
    """What a reader concluded. ``fallback`` names why the extractive reader should answer
    instead (the model wrote nothing the passages support, say)."""

    claims: list[Claim]
    abstained: bool
    fallback: str | None = None
    details: dict = field(default_factory=dict)


class Reader(Protocol):
    name: str

    def read(self, question: ReaderInput, *, deadline: float,
             stream: bool = False) -> Generator[str, None, Reading]: ...


def finish(events: Generator[str, None, Reading]) -> Reading:
    """Run a reader's ``read`` to the end, dropping its draft pieces (tools that score)."""
    try:
        while True:
            next(events)
    except StopIteration as done:
        return done.value


Factory = Callable[[str, Any, Any], Reader]
READERS: dict[str, Factory] = {}


def register(kind: str) -> Callable[[Factory], Factory]:
    """Make ``QA_ANSWER_MODEL=<kind>[:<spec>]`` build this reader."""

    def add(factory: Factory) -> Factory:
        READERS[kind] = factory
        return factory

    return add


def make_reader(spec: str, settings, parts) -> Reader:
    """Build the reader ``spec`` names (``kind`` or ``kind:detail``); ``parts`` gives access
    to the embedder and the stores. Raises ``ConfigError`` for an unknown kind."""
    _load_builtin()
    kind, _, detail = spec.partition(":")
    if kind not in READERS:
        raise ConfigError(f"QA_ANSWER_MODEL={spec!r}: the kind must be one of "
                          f"{', '.join(sorted(READERS))}")
    return READERS[kind](detail, settings, parts)


def _load_builtin() -> None:
    # Imported here so that registering them does not import llama.cpp or LangChain.
    from qa.readers import extractive, generative  # noqa: F401
