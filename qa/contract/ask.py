"""``POST /ask``: the question (with history and filters), the cited answer, its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qa.condense import Turn
from qa.contract.base import Reply, Request
from qa.contract.fields import (
    MAX_TURN_CHARS,
    IsoDate,
    QuestionText,
    refuse,
    settings_of,
    unicode_text,
    without_controls,
)
from qa.contract.status import ErrorBody
from qa.decompose import TooManyParts, capped_split
from vectorstore.filters import Filters as SearchFilters

MAX_CITATIONS_PER_TURN = 20
MAX_SOURCES = 50

Question = Annotated[QuestionText, Field(description=(
    "at most {max_question_chars} characters with a visible one, and at most "
    "{max_question_parts} parts (questions joined by 'and', ';' or '?'); whitespace is "
    "trimmed and each run of it made one space, control characters dropped, lone "
    "surrogates refused"))]
TurnText = Annotated[
    str, Field(max_length=MAX_TURN_CHARS), AfterValidator(unicode_text),
    AfterValidator(without_controls),
]
SourceName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(unicode_text)]


class Filters(BaseModel):
    """Search only the articles that match every filter given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    published_after: IsoDate | None = Field(None, description="on or after this date")
    published_before: IsoDate | None = Field(None, description="on or before this date")
    sources: list[SourceName] | None = Field(
        None, max_length=MAX_SOURCES, description="only articles from these sources"
    )

    @model_validator(mode="after")
    def _a_range(self) -> Filters:
        after, before = self.published_after, self.published_before
        if after is not None and before is not None and after > before:
            # No article could match: a mistake to say so, not an empty answer to give.
            raise refuse("published_after is later than published_before")
        return self

    def for_search(self) -> SearchFilters:
        """The filters as both searches apply them (``vectorstore.filters``)."""
        return SearchFilters(
            published_after=self.published_after, published_before=self.published_before,
            sources=tuple(self.sources) if self.sources is not None else None,
        )


class HistoryTurn(BaseModel):
    """An earlier turn of the conversation."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant"]
    content: TurnText
    citations: list[Any] | None = Field(
        None, description="the citations of an assistant turn (items that are not objects "
                          "are ignored); their articles are favoured for a follow-up")

    def to_turn(self) -> Turn:
        cited = [c for c in self.citations or [] if isinstance(c, dict)]
        return Turn(self.role, self.content, cited[:MAX_CITATIONS_PER_TURN])


@dataclass
class AskRequest:
    """A question for the answering service: what ``QAService.ask`` and ``events`` take."""

    question: str
    history: list[Turn] = field(default_factory=list)
    filters: Filters | None = None


class AskBody(Request):
    """The body of ``POST /ask``."""

    field_codes: ClassVar[dict[str, str]] = {
        "question": "invalid_question", "history": "invalid_history", "filters": "invalid_filters",
    }
    field_messages: ClassVar[dict[str, str]] = {
        "question": "question must be 1 to {max_question_chars} characters",
    }
    shape_message: ClassVar[str] = 'the body must be a JSON object like {"question": "..."}'

    question: Question
    history: list[HistoryTurn] | None = Field(
        None, description="earlier turns, oldest first; only the last {max_history_turns} "
                          "are read")
    filters: Filters | None = None
    stream: StrictBool = Field(False, description="answer as server-sent events")

    @field_validator("question")
    @classmethod
    def _few_parts(cls, question: str, info: ValidationInfo) -> str:
        try:
            capped_split(question, settings_of(info).max_question_parts)
        except TooManyParts as exc:
            raise refuse(str(exc), code="too_many_parts") from None
        return question

    @field_validator("history")
    @classmethod
    def _recent(cls, history: list[HistoryTurn] | None, info: ValidationInfo) -> list:
        keep = settings_of(info).max_history_turns
        return history[-keep:] if history and keep else []

    def to_request(self) -> AskRequest:
        return AskRequest(self.question, [t.to_turn() for t in self.history or []],
                          self.filters)


# -- the answer -----------------------------------------------------------------------


class Citation(Reply):
    """An exact quote that supports the answer: ``text[start:end] == quote``."""

    omit_none: ClassVar[frozenset[str]] = frozenset({"verified"})

    n: int = Field(ge=1, description="the [n] marker in the answer")
    article_id: str
    title: str
    quote: str = Field(description="text[start:end] of the article")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    chunk_id: str
    score: float
    published: str | None = None
    source: str | None = None
    url: str | None = None
    verified: bool | None = Field(
        None, description="generative answers: whether a verified sentence relies on it")


class Passage(Reply):
    """A retrieved passage, with the other articles that tell the same story. Passages come
    in the order of the hybrid ranking (meaning and keywords fused), so ``score``, the
    meaning part alone, need not fall from one to the next."""

    chunk_id: str
    article_id: str
    title: str
    score: float = Field(description="cosine similarity of the passage to the question; the "
                                     "order is the hybrid ranking's, not this score's")
    same_story: list[str] = []


class Timings(Reply):
    """Milliseconds spent, by step; a step not listed here may appear too."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float]
    omit_none: ClassVar[frozenset[str]] = frozenset({"first_token"})

    retrieve: float
    answer: float
    total: float
    first_token: float | None = Field(None, description="streamed answers: to the first token")


class Verification(Reply):
    removed_markers: int = Field(ge=0, description="[n] markers that named no passage")
    dropped_sentences: int = Field(ge=0, description="sentences that failed verification")
    moved_citations: int = Field(
        0, ge=0, description="sentences the model cited to the wrong sentence, cited to the "
                             "one that states them instead")
    misattributed: int = Field(
        0, ge=0, description="dropped sentences that pinned a name from the question on a "
                             "sentence its article does not say is about it, or that cite an "
                             "article using two of the question's names nowhere, or one "
                             "telling another story than the article that holds most of the "
                             "question")
    invented_numbers: list[str] = Field(
        default_factory=list, description="numbers in dropped sentences that no sentence the "
                                          "model read states, as digits")
    restated: int = Field(
        0, ge=0, description="dropped sentences, when every one was, that only restated the "
                             "question's words")
    miscounted: int = Field(
        0, ge=0, description="sentences true to the sentence they cite that count something "
                             "other than what \"how many\" asked (70 projects for how many "
                             "tanks), dropped")


class Answerability(Reply):
    """Why a generative answer was given or withheld: the abstainer's signals and verdict."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float]

    answerable: float = Field(ge=0, le=1, description="probability that the articles answer")


class AskResponse(Reply):
    """The cited answer. Every [n] marker has exactly one citation and every citation is
    used; when the articles do not say, ``abstained`` is true and the answer says so."""

    omit_none: ClassVar[frozenset[str]] = frozenset({
        "fallback", "requested_model", "standalone_question", "verified", "verification",
        "draft", "answerability", "unstated_numbers",
    })

    answer: str
    abstained: bool
    citations: list[Citation]
    model: str = Field(description="the answerer that wrote the answer")
    timings_ms: Timings
    retrieved: list[Passage] = Field([], description="the passages the answer was read from")
    degraded: bool = Field(False, description="the configured model failed; see fallback")
    fallback: str | None = Field(None, description="why the answer degraded to extractive")
    requested_model: str | None = Field(None, description="the model that failed")
    standalone_question: str | None = Field(
        None, description="what was searched for, when not what was typed: a follow-up "
                          "rewritten, the parts of a multi-part question joined by ' | ', or "
                          "slips of the keyboard mended to the articles' words")
    verified: bool | None = Field(None, description="generative: every sentence verified")
    verification: Verification | None = None
    draft: str | None = Field(None, description="generative: what the model wrote, before "
                                                "verification (the streamed tokens)")
    answerability: Answerability | None = None
    unstated_numbers: list[str] | None = Field(
        None, description="numbers the question gives (a year, a score) that no article found "
                          "states: the service abstained without reading them")


class RetrievalEvent(Reply):
    passages: list[Passage]


class TokenEvent(Reply):
    text: str


# Server-sent events of a streamed answer, in order: retrieval, token*, citation*, final
# (or error once the stream has started).
EVENTS: dict[str, type[Reply]] = {
    "retrieval": RetrievalEvent, "token": TokenEvent, "citation": Citation,
    "final": AskResponse, "error": ErrorBody,
}
