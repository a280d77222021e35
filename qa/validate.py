"""Parse and validate request bodies; each failure is an ``InvalidRequest`` with a clear message."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from qa.condense import Turn
from qa.errors import InvalidRequest, QAError
from qa.service import AskRequest

MAX_TURN_CHARS = 20_000


class UnsupportedMediaType(QAError):
    status = 415
    code = "unsupported_media_type"


def parse_json_body(content_type: str | None, body: bytes) -> Any:
    """Decode a JSON request body strictly: JSON content type, UTF-8, well-formed."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("send the request as Content-Type: application/json")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the body is not valid UTF-8", code="invalid_encoding") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidRequest("the JSON is nested too deeply", code="invalid_json") from None
    except ValueError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {_short(exc)}",
                             code="invalid_json") from None


def parse_ask(payload: Any, max_chars: int, max_turns: int) -> tuple[AskRequest, bool]:
    """Return the ask request and whether the client asked for a stream."""
    if not isinstance(payload, dict):
        raise InvalidRequest("the body must be a JSON object like {\"question\": \"...\"}")
    question = payload.get("question")
    if not isinstance(question, str):
        raise InvalidRequest(
            f"question must be a string of 1 to {max_chars} characters",
            code="invalid_question",
        )
    # The raw length is capped as well, so the limit holds before and after trimming,
    # exactly as /openapi.json states it.
    too_long = len(question) > max_chars
    question = clean(question, "question", "invalid_question").strip()
    if too_long or not question:
        raise InvalidRequest(
            f"question must be 1 to {max_chars} characters", code="invalid_question"
        )
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("stream must be true or false", code="invalid_request")
    return AskRequest(question, parse_history(payload.get("history"), max_turns)), stream


def parse_history(history: Any, max_turns: int) -> list[Turn]:
    if history is None:
        return []
    if not isinstance(history, list):
        raise InvalidRequest("history must be a list of {role, content} turns",
                             code="invalid_history")
    turns = []
    for i, item in enumerate(history):
        if not isinstance(item, dict):
            raise InvalidRequest(f"history[{i}] must be an object", code="invalid_history")
        role, content = item.get("role"), item.get("content")
        if role not in ("user", "assistant"):
            raise InvalidRequest(f"history[{i}].role must be 'user' or 'assistant'",
                                 code="invalid_history")
        if not isinstance(content, str) or len(content) > MAX_TURN_CHARS:
            raise InvalidRequest(
                f"history[{i}].content must be a string of at most {MAX_TURN_CHARS} characters",
                code="invalid_history",
            )
        citations = item.get("citations")
        citations = [] if citations is None else citations
        if not isinstance(citations, list):
            raise InvalidRequest(f"history[{i}].citations must be a list",
                                 code="invalid_history")
        turns.append(Turn(role, clean(content, f"history[{i}].content", "invalid_history"),
                          [c for c in citations if isinstance(c, dict)][:20]))
    # Only the most recent turns matter for a follow-up; keep requests cheap.
    return turns[-max_turns:]


def clean(text: str, field: str, code: str) -> str:
    """Refuse lone surrogates; drop control characters other than newline and tab."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(f"{field} contains invalid Unicode (a lone surrogate)",
                             code=code) from None
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _short(exc: ValueError) -> str:
    return str(exc).split("\n", 1)[0][:120]
