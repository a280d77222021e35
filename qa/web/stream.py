"""Server-sent events for ``/ask``: retrieval, token, citation, final (or error).

The ``final`` event carries the full contract response. With a generative model the
``token`` events are the model's raw text as it writes; the final answer is the verified
one, which the chat box shows in place of the streamed text.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterator

from flask import Response, g, stream_with_context

from qa.errors import QAError

log = logging.getLogger(__name__)
TOKEN_WORDS = 4  # an extractive answer is sent as tokens of a few words each


def sse(event: str, data: dict) -> str:
    """Format one server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def pieces(text: str, words: int = TOKEN_WORDS) -> list[str]:
    """Cut ``text`` into deltas of a few words that join back into ``text`` exactly."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return ["".join(parts[i : i + words]) for i in range(0, len(parts), words)]


def answer_stream(events: Iterator[tuple[str, dict]]) -> Iterator[str]:
    """Turn the service's answer events into SSE text; failures become an ``error`` event."""
    streamed = False
    try:
        for name, data in events:
            if name == "token":
                streamed = True
                yield sse("token", data)
            elif name == "final":
                if not streamed:
                    for piece in pieces(data.get("answer", "")):
                        yield sse("token", {"text": piece})
                for citation in data.get("citations", []):
                    yield sse("citation", citation)
                yield sse("final", data)
            else:
                yield sse(name, data)
    except QAError as exc:
        yield sse("error", exc.to_json())
    except Exception:
        log.exception("streamed request %s failed", g.get("request_id"))
        yield sse("error", {"error": {"code": "internal_error",
                                      "message": "something went wrong; the error was logged",
                                      "request_id": g.get("request_id")}})


def sse_response(body: Iterator[str]) -> Response:
    """Wrap an SSE body in a response that proxies neither cache nor buffer."""
    response = Response(stream_with_context(body), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def primed(events: Iterator[tuple[str, dict]]) -> Iterator[tuple[str, dict]]:
    """Run ``events`` to its first event now, so a failure before any output (the store is
    down, say) is still an ordinary JSON error with its status code."""
    first = next(events)
    return itertools.chain([first], events)


def stream_answer(events: Iterator[tuple[str, dict]]) -> Response:
    return sse_response(answer_stream(primed(events)))
