"""Serve with waitress, whose own errors are JSON with the security headers too.

Waitress answers some requests without calling the app: a malformed request line or
header, a bad ``Content-Length``, headers or a chunked body over its limits, an app that
fails before sending its headers. Those responses are made here in the contract's error
shape, and never echo the offending input. What waitress cannot answer at all (a
connection reset while the client still sends) is for a front proxy (docs/production.md).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.task import ErrorTask

from qa.web.guard import SECURITY_HEADERS

_MESSAGES = {
    400: "the request is malformed",
    413: "the request body is too large",
    431: "the request headers are too large",
    500: "something went wrong; the error was logged",
}


class JsonErrorTask(ErrorTask):
    """Waitress's error response, as JSON with the app's security headers."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        code = error.reason.lower().replace(" ", "_")
        message = _MESSAGES.get(status, _MESSAGES[400 if status < 500 else 500])
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.status = f"{status} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"),
                                      *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def make_server(app: Flask, **adjustments: Any) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for ``app`` (``host``, ``port``, ``threads``, ...) whose own
    error responses are JSON."""
    server = create_server(app, **adjustments)
    listeners = server.map.values() if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
    return server
