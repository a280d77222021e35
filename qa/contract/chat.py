"""The OpenAI-compatible routes: ``POST /v1/chat/completions`` and ``GET /v1/models``.

The last user message is the question and the user and assistant turns before it are its
history; other roles are accepted and do not steer the answer. Every user message is a
question this service was asked, so each one follows the question's rules.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from qa.contract.ask import AskBody, AskResponse, Citation
from qa.contract.base import KINDS, Reply, Request, rule_of
from qa.contract.fields import MAX_TURN_CHARS, QuestionText, refuse
from qa.settings import Settings

MODEL_ID = "news-qa"


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text"]
    text: QuestionText


class UserMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["user"]
    content: QuestionText | Annotated[list[TextPart], Field(min_length=1, max_length=1)] = Field(
        description="the question: a string, or a list of one text part; at most "
                    "{max_question_chars} characters and {max_question_parts} parts")

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else self.content[0].text


class AssistantMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["assistant"]
    content: str | list[Any] | None = Field(
        None, description="an earlier answer; text past 20,000 characters is not read")

    @property
    def text(self) -> str:
        content = self.content
        if isinstance(content, list):  # content parts: only text parts carry text
            content = "".join(p["text"] for p in content if isinstance(p, dict)
                              and p.get("type") == "text" and isinstance(p.get("text"), str))
        return (content or "")[:MAX_TURN_CHARS]


class OtherMessage(BaseModel):
    """System, developer and tool messages do not steer a retrieval-grounded answer."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "tool", "function"]
    content: Any = None


ChatMessage = Annotated[UserMessage | AssistantMessage | OtherMessage,
                        Field(discriminator="role")]
_HAS_USER = {"contains": {"type": "object", "required": ["role"],
                          "properties": {"role": {"const": "user"}}}}


class ChatRequest(Request):
    """The body of ``POST /v1/chat/completions`` (OpenAI's fields not listed are ignored)."""

    field_codes: ClassVar[dict[str, str]] = {"messages": "invalid_messages"}
    field_messages: ClassVar[dict[str, str]] = {
        "messages": "messages must be a list of 1 or more {{role, content}} objects",
        "n": "n must be 1: there is one cited answer per question",
    }
    shape_message: ClassVar[str] = "the body must be a JSON object with a messages list"

    @classmethod
    def problem(cls, error: Any, settings: Settings) -> tuple[str, str]:
        """A message's errors in the client's terms: ``messages[0].content``, never the
        role the union was told apart by or the validators a value went through."""
        loc = error["loc"]
        if len(loc) < 2 or loc[0] != "messages" or not isinstance(loc[1], int):
            return super().problem(error, settings)
        at = f"messages[{loc[1]}]"
        if error["type"] in ("union_tag_invalid", "union_tag_not_found",
                             "model_attributes_type"):
            return "invalid_messages", (f"{at} must be an object whose role is user, "
                                        "assistant, system, developer, tool or function")
        if len(loc) >= 4 and loc[2:4] == ("user", "content"):
            where, own = f"{at}.content", (error.get("ctx") or {}).get("code")
            if error["type"] == "missing":
                return "invalid_messages", f"{where} is required: it is the question"
            if error["type"] == "contract":  # the question's own rules, in their words
                return own or "invalid_messages", rule_of(where, error["msg"])
            if error["type"] == "string_unicode":
                return "invalid_messages", f"{where} {KINDS['string_unicode']}"
            return "invalid_messages", (
                f"{where} must be the question: 1 to {settings.max_question_chars} characters, "
                "as a string or a list of one text part")
        if len(loc) >= 4 and loc[2:4] == ("assistant", "content"):
            return "invalid_messages", (f"{at}.content must be a string, a list of content "
                                        "parts, or null")
        field = f".{loc[3]}" if len(loc) > 3 else ""  # a field of another role's message
        return "invalid_messages", f"{at}{field}: {error['msg']}"

    messages: list[ChatMessage] = Field(min_length=1, json_schema_extra=_HAS_USER,
                                        description="the conversation; one user message "
                                                    "at least")
    model: str | None = Field(None, description=f"ignored: this server serves {MODEL_ID}")
    stream: StrictBool = False
    n: Literal[1] | None = Field(None, description="1: one cited answer per question")

    @model_validator(mode="after")
    def _asks_something(self) -> ChatRequest:
        if not any(isinstance(m, UserMessage) for m in self.messages):
            raise refuse("messages must include a user message", code="invalid_messages")
        return self

    def to_ask(self, settings: Settings) -> AskBody:
        """The ask request: the last user message, and the turns before it as history."""
        last = max(i for i, m in enumerate(self.messages) if isinstance(m, UserMessage))
        history = [{"role": m.role, "content": m.text} for m in self.messages[:last]
                   if isinstance(m, UserMessage | AssistantMessage)]
        question: UserMessage = self.messages[last]  # type: ignore[assignment]
        return AskBody.parse({"question": question.text, "history": history}, settings)


class AnswerMessage(Reply):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="the cited answer, with its [n] markers")


class Choice(Reply):
    index: int = 0
    message: AnswerMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(Reply):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(Reply):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    usage: Usage = Usage()
    citations: list[Citation]
    qa: AskResponse = Field(description="the full /ask response")


class Delta(Reply):
    omit_none: ClassVar[frozenset[str]] = frozenset({"role", "content"})

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(Reply):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None


class ChatChunk(Reply):
    """One server-sent ``data:`` line of a streamed completion; the last one carries the
    citations and the full /ask response, then ``data: [DONE]``."""

    omit_none: ClassVar[frozenset[str]] = frozenset({"citations", "qa"})

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str = MODEL_ID
    choices: list[ChunkChoice]
    citations: list[Citation] | None = None
    qa: AskResponse | None = None


class ModelCard(Reply):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = MODEL_ID
    answer_model: str = Field(description="the answerer behind it (QA_ANSWER_MODEL)")


class ModelList(Reply):
    object: Literal["list"] = "list"
    data: list[ModelCard]
