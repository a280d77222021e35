"""An OpenAI-compatible front door: ``POST /v1/chat/completions`` and ``GET /v1/models``.

The last user message is the question and the earlier turns are its history. The message
content is the cited answer; the citations are in a top-level ``citations`` field and the
full contract response under ``qa``. A stream sends the verified answer (not the model's
raw draft), so what a client concatenates is exactly the cited answer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from flask import Blueprint, current_app, jsonify, request

from qa.errors import InvalidRequest
from qa.service import AskRequest, QAService
from qa.stream import pieces, primed, sse_response
from qa.validate import parse_ask, parse_json_body

MODEL_ID = "news-qa"
bp = Blueprint("openai", __name__, url_prefix="/v1")


def service() -> QAService:
    return current_app.extensions["qa"]


@bp.get("/models")
def list_models():
    return jsonify(object="list", data=[_model_card()])


@bp.get("/models/<path:model_id>")
def get_model(model_id: str):
    if model_id != MODEL_ID:
        raise InvalidRequest(f"no model {model_id!r}; this server serves {MODEL_ID!r}",
                             code="model_not_found", status=404)
    return jsonify(_model_card())


@bp.post("/chat/completions")
def chat_completions():
    svc = service()
    payload = parse_json_body(request.content_type, request.get_data(cache=False))
    ask_request, stream = parse_chat(payload, svc)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if stream:
        return sse_response(_chunks(completion_id, primed(svc.events(ask_request))))
    response = svc.ask(ask_request)
    return jsonify({
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": response["answer"]},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": response["citations"],
        "qa": response,
    })


def parse_chat(payload: object, svc: QAService) -> tuple[AskRequest, bool]:
    """Map OpenAI chat messages onto an ask request: last user message, earlier history."""
    if not isinstance(payload, dict):
        raise InvalidRequest("the body must be a JSON object with a messages list")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages must be a non-empty list", code="invalid_messages")
    turns = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidRequest(f"messages[{i}] must be an object with a role",
                                 code="invalid_messages")
        if message["role"] in ("user", "assistant"):
            turns.append({"role": message["role"], "content": _text(message, i)})
        # system, developer and tool messages do not steer the retrieval-grounded answer
    if not turns or turns[-1]["role"] != "user":
        raise InvalidRequest("the last user or assistant message must be from the user",
                             code="invalid_messages")
    ask_request, _ = parse_ask(
        {"question": turns[-1]["content"], "history": turns[:-1]},
        svc.settings.max_question_chars, svc.settings.max_history_turns,
    )
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("stream must be true or false")
    return ask_request, stream


def _text(message: dict, i: int) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only text parts carry the question
        return "".join(
            p["text"] for p in content
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        )
    raise InvalidRequest(f"messages[{i}].content must be a string or a list of text parts",
                         code="invalid_messages")


def _chunks(completion_id: str, events: Iterator[tuple[str, dict]]) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra: object) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return _data(body)

    yield chunk({"role": "assistant", "content": ""})
    try:
        final = next(data for name, data in events if name == "final")
    except Exception as exc:  # the stream has started: report in OpenAI's stream shape
        current_app.logger.exception("chat completion stream failed")
        message = getattr(exc, "message", "something went wrong; the error was logged")
        yield _data({"error": {"message": message, "type": "server_error",
                               "code": getattr(exc, "code", "internal_error")}})
        return
    for piece in pieces(final["answer"]):
        yield chunk({"content": piece})
    yield chunk({}, "stop", citations=final["citations"], qa=final)
    yield "data: [DONE]\n\n"


def _data(body: dict) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _model_card() -> dict:
    return {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "news-qa",
            "answer_model": service().settings.answer_model}
