"""One translation of every failure into the contract's JSON error, at the boundary.

Domain errors show their safe public message; HTTP errors a fixed one; anything else is
logged with the request id and becomes a generic 500. No exception text, path, host or
prompt reaches a client. On the OpenAI-compatible routes the error also has OpenAI's
``type``, so OpenAI clients raise the right exception.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from qa.contract.status import ErrorBody, ErrorDetail
from qa.errors import QAError
from qa.web.operations import json_response

log = logging.getLogger(__name__)
GENERIC = "something went wrong; the error was logged"
_HTTP_MESSAGES = {
    404: "no such endpoint",
    413: "the request body is too large",
}
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error",
                 429: "rate_limit_error"}


def install(app: Flask) -> None:
    app.register_error_handler(QAError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def error_response(status: int, code: str, message: str, *,
                   request_id: str | None = None, retry_after: int | None = None) -> Response:
    """The contract's error shape, with ``Retry-After`` when the client should retry."""
    detail = ErrorDetail(code=code, message=message, request_id=request_id,
                         type=openai_type(status) if _openai_route() else None)
    response = json_response(ErrorBody(error=detail), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def openai_type(status: int) -> str:
    if status >= 500:
        return "server_error"
    return _OPENAI_TYPES.get(status, "invalid_request_error")


def public(exc: BaseException) -> ErrorBody:
    """What a client may see of ``exc`` once a stream has started (logged if unexpected)."""
    if isinstance(exc, QAError):
        detail = exc.to_json()["error"]
        return ErrorBody(error=ErrorDetail(**detail, type="server_error"
                                           if _openai_route() else None))
    log.error("request %s failed", g.get("request_id"), exc_info=exc)
    return ErrorBody(error=ErrorDetail(
        code="internal_error", message=GENERIC, request_id=g.get("request_id"),
        type="server_error" if _openai_route() else None))


def _openai_route() -> bool:
    return request.path.startswith("/v1/")


def _domain_error(exc: QAError) -> Response:
    if exc.public_message:  # the client sees a generic message; keep the detail
        log.warning("request %s: %s: %s", g.get("request_id"), exc.code, exc.message)
    body = exc.to_json()["error"]
    return error_response(exc.status, body["code"], body["message"],
                          retry_after=getattr(exc, "retry_after", None))


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    if status == 405:
        message = f"method {request.method} is not allowed here"
    else:
        message = _HTTP_MESSAGES.get(status, exc.description or code)
    response = error_response(status, code, message)
    if status == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("request %s failed", g.get("request_id"))
    return error_response(500, "internal_error", GENERIC, request_id=g.get("request_id"))
