"""Server-sent events for ``/ask``: retrieval, token, citation, final (or error).

The ``final`` event carries the full contract response. With a generative model the
``token`` events are the model's raw text as it writes; the final answer is the verified
one, which the chat box shows in place of the streamed text. Every event's data is
checked against its contract model on the way out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from flask import Response, stream_with_context

from qa.contract.ask import EVENTS
from qa.contract.base import Reply
from qa.web.errors import public

TOKEN_WORDS = 4  # an extractive answer is sent as tokens of a few words each


def sse(event: str, data: Reply) -> str:
    """Format one server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {data.model_dump_json()}\n\n"


def pieces(text: str, words: int = TOKEN_WORDS) -> list[str]:
    """Cut ``text`` into deltas of a few words that join back into ``text`` exactly."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return ["".join(parts[i : i + words]) for i in range(0, len(parts), words)]


def answer_stream(events: Iterator[tuple[str, dict]]) -> Iterator[str]:
    """Turn the service's answer events into SSE text; a failure becomes an ``error`` event."""
    streamed = False
    try:
        for name, data in events:
            event = EVENTS[name].model_validate(data)
            if name == "final":
                yield from _closing(event, streamed)
                continue
            streamed = streamed or name == "token"
            yield sse(name, event)
    except Exception as exc:  # the status line is sent: report in the stream itself
        yield sse("error", public(exc))


def _closing(final: Reply, streamed: bool) -> Iterator[str]:
    """Tokens (when the answerer streamed none), one event per citation, then final."""
    if not streamed:
        for piece in pieces(final.answer):
            yield sse("token", EVENTS["token"](text=piece))
    for citation in final.citations:
        yield sse("citation", citation)
    yield sse("final", final)


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
