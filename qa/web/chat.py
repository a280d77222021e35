"""The OpenAI-compatible front door: ``POST /v1/chat/completions`` and ``GET /v1/models``.

The message content is the cited answer; the citations are in a top-level ``citations``
field and the full contract response under ``qa``. A stream sends the verified answer
(not the model's raw draft), so what a client concatenates is exactly the cited answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from qa.contract.ask import AskResponse
from qa.contract.chat import (
    MODEL_ID,
    AnswerMessage,
    ChatChunk,
    ChatCompletion,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
)
from qa.contract.status import ErrorBody
from qa.errors import NotFound
from qa.web.errors import public
from qa.web.operations import Routes, service, settings
from qa.web.stream import pieces, primed, sse_response

routes = Routes("openai", __name__, url_prefix="/v1")
MODEL_PARAM = {"name": "model_id", "in": "path", "required": True,
               "schema": {"type": "string"}, "description": f"{MODEL_ID!r} is served"}


@routes.get("/models", summary="The one model this server serves",
            responses={200: ModelList}, plain=True)
def list_models():
    return ModelList(data=[_card()])


@routes.get("/models/<path:model_id>", summary="A model by id", parameters=[MODEL_PARAM],
            responses={200: ModelCard, 404: "no such model"}, plain=True)
def get_model(model_id: str):
    if model_id != MODEL_ID:
        raise NotFound(f"no model {model_id!r}; this server serves {MODEL_ID!r}",
                       code="model_not_found")
    return _card()


@routes.post("/chat/completions", summary="Answer the last user message, with citations",
             body=ChatRequest, responses={200: ChatCompletion},
             events={"message": (ChatChunk, ErrorBody)}, answers=True)
def chat_completions(body: ChatRequest):
    """A completion, or ``data:`` chunks then ``data: [DONE]`` for ``stream``."""
    question = body.to_ask(settings()).to_request()
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if body.stream:
        return sse_response(_chunks(completion_id, primed(service().events(question))))
    answer = AskResponse.model_validate(service().ask(question))
    return ChatCompletion(id=completion_id, created=int(time.time()),
                          choices=[Choice(message=AnswerMessage(content=answer.answer))],
                          citations=answer.citations, qa=answer)


def _chunks(completion_id: str, events: Iterator[tuple[str, dict]]) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: Delta, finish: str | None = None, final: AskResponse | None = None) -> str:
        body = ChatChunk(id=completion_id, created=created,
                         choices=[ChunkChoice(delta=delta, finish_reason=finish)],
                         citations=final.citations if final else None, qa=final)
        return _data(body.model_dump_json())

    yield chunk(Delta(role="assistant", content=""))
    try:
        final = AskResponse.model_validate(next(d for name, d in events if name == "final"))
    except Exception as exc:  # the stream has started: report in OpenAI's stream shape
        yield _data(public(exc).model_dump_json())
        return
    for piece in pieces(final.answer):
        yield chunk(Delta(content=piece))
    yield chunk(Delta(), "stop", final)
    yield "data: [DONE]\n\n"


def _data(text: str) -> str:
    return f"data: {text}\n\n"


def _card() -> ModelCard:
    return ModelCard(answer_model=settings().answer_model)
