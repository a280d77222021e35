"""A scripted OpenAI-compatible chat server on loopback that records every request.

Tests give it a responder: a function from the request body to a ``Reply``. It speaks the
wire protocol of ``POST /v1/chat/completions`` (JSON, or server-sent chunks when the
request asks to stream) and ``GET /v1/models``, and can be slow, fail or send garbage.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SENTENCE = re.compile(r"^\[(\d+)\] (.*)$", re.MULTILINE)


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before the first byte
    raw: bytes | None = None  # a body sent as is (garbage)
    chunk_delay: float = 0.0  # seconds between streamed chunks


Responder = Callable[[dict], Reply]


class OpenAIStub:
    """The server; ``requests`` holds every chat request body in order."""

    def __init__(self, responder: Responder | None = None):
        self.responder: Responder = responder or (lambda body: Reply("stub answer"))
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [
                        {"id": "stub-model", "object": "model", "created": 0, "owned_by": "t"}
                    ]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                reply = stub.responder(body)
                try:
                    time.sleep(reply.delay)
                    if reply.status != 200:
                        self._json(reply.status, {"error": {"message": "scripted failure",
                                                            "type": "server_error"}})
                    elif reply.raw is not None:
                        self._send(200, "application/json", reply.raw)
                    elif body.get("stream"):
                        self._stream(body, reply)
                    else:
                        self._json(200, completion(body, reply.content))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout under test)

            def _stream(self, body: dict, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for chunk in chunks(body, reply.content):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(reply.chunk_delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _json(self, status: int, payload: dict) -> None:
                self._send(status, "application/json", json.dumps(payload).encode())

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # a sleeping handler must not hold up shutdown
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> OpenAIStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def completion(body: dict, content: str) -> dict:
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "stub-model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def chunks(body: dict, content: str) -> Iterator[dict]:
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": body.get("model", "stub-model")}
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                "finish_reason": None}]}
    for piece in re.findall(r"\S+\s*", content):
        yield {**base, "choices": [{"index": 0, "delta": {"content": piece},
                                    "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


# -- helpers for writing responders ----------------------------------------------------------


def user_text(body: dict) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


def system_text(body: dict) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def passages(body: dict) -> dict[int, str]:
    """Return the numbered evidence sentences the prompt carries."""
    return {int(n): text for n, text in SENTENCE.findall(user_text(body))}


def first_sentence(text: str) -> str:
    """The first full sentence of a passage (skipping a heading line)."""
    for line in text.splitlines():
        line = line.strip()
        if line.endswith((".", "!", "?", '"', "”")) and len(line.split()) >= 6:
            return re.split(r"(?<=[.!?])\s+(?=[A-Z])", line)[0]
    return text.strip().splitlines()[0]


def running() -> Iterator[OpenAIStub]:
    """Start a stub for a test; each test module wraps this in its ``openai_stub`` fixture."""
    stub = OpenAIStub().start()
    yield stub
    stub.stop()
