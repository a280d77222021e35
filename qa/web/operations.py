"""Routes declared with their contract: one declaration gives the URL rule, the request's
validation, the admission limits, the corpus-write guard and the route's OpenAPI entry.

    routes = Routes("ask", __name__)

    @routes.post("/ask", body=AskBody, responses={200: AskResponse}, answers=True)
    def ask(body: AskBody): ...

A view gets its validated ``body`` and ``query`` as arguments and returns a contract
model (optionally with a status), or a Flask response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request

from qa.contract.base import Reply, Request
from qa.errors import InvalidRequest, UnsupportedMediaType
from qa.service import QAService
from qa.settings import Settings
from qa.web import guard
from qa.web.limits import limited


@dataclass
class Operation:
    """One route as the contract describes it."""

    method: str
    path: str  # the Flask rule, with the blueprint's prefix
    name: str
    summary: str
    body: type[Request] | None = None
    query: type[Request] | None = None
    # status -> a Reply model, or an OpenAPI response object for other media types
    responses: dict[int, Any] = field(default_factory=dict)
    # the server-sent events of a stream: name -> the model(s) of its JSON data
    events: dict[str, Any] | None = None
    answers: bool = False  # retrieves or answers: behind the rate limit and the gate
    writes: bool = False  # changes the corpus: API key and same-origin checks
    parameters: list[dict] = field(default_factory=list)  # path and extra query parameters
    plain: bool = False  # touches no dependency (health, the document itself)


class Routes:
    """A blueprint whose routes are ``Operation``s."""

    def __init__(self, name: str, import_name: str, url_prefix: str = ""):
        self.blueprint = Blueprint(name, import_name, url_prefix=url_prefix or None)
        self.prefix = url_prefix
        self.operations: list[Operation] = []

    def get(self, rule: str, **spec: Any) -> Callable:
        return self.route("GET", rule, **spec)

    def post(self, rule: str, **spec: Any) -> Callable:
        return self.route("POST", rule, **spec)

    def delete(self, rule: str, **spec: Any) -> Callable:
        return self.route("DELETE", rule, **spec)

    def route(self, method: str, rule: str, *, summary: str, **spec: Any) -> Callable:
        def register(view: Callable) -> Callable:
            op = Operation(method, self.prefix + rule, view.__name__, summary, **spec)
            self.operations.append(op)
            self.blueprint.add_url_rule(rule, view.__name__, bind(op, view), methods=[method])
            return view

        return register


def bind(op: Operation, view: Callable) -> Callable:
    """Wrap ``view`` in what ``op`` declares: guard, limits, validation, serialisation."""

    @wraps(view)
    def handle(**path: Any) -> Response:
        if op.writes:
            guard.corpus_write()
        if op.query is not None:
            path["query"] = op.query.parse(request.args.to_dict(), settings())
        if op.body is not None:
            path["body"] = op.body.parse(json_body(), settings())
        return to_response(view(**path))

    return limited(handle) if op.answers else handle


def to_response(result: Any) -> Response:
    """A contract model (or ``(model, status)``) as JSON; a Flask response as it is."""
    model, status = result if isinstance(result, tuple) else (result, 200)
    if isinstance(model, Reply):
        return json_response(model, status)
    return current_app.make_response(result)


def json_response(model: Reply, status: int = 200) -> Response:
    return current_app.response_class(model.model_dump_json(), status=status,
                                      mimetype="application/json")


def json_body() -> Any:
    """Decode the request body strictly: JSON content type, UTF-8, well-formed JSON."""
    mimetype = (request.content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("send the request as Content-Type: application/json")
    try:
        text = request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the body is not valid UTF-8", code="invalid_encoding") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidRequest("the JSON is nested too deeply", code="invalid_json") from None
    except json.JSONDecodeError as exc:
        # Where, in our words: the parser's own message is an exception's text.
        raise InvalidRequest(f"the body is not valid JSON (line {exc.lineno}, column "
                             f"{exc.colno})", code="invalid_json") from None
    except ValueError as exc:  # NaN, Infinity: our own message
        raise InvalidRequest(f"the body is not valid JSON: {exc}", code="invalid_json") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def service() -> QAService:
    return current_app.extensions["qa"]


def settings() -> Settings:
    return service().settings
