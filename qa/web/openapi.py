"""``/openapi.json``: the OpenAPI 3.1 document, generated from the declared operations.

Schemas are pydantic's own JSON Schema (2020-12, which OpenAPI 3.1 uses unchanged) of the
contract models; the limits that are settings are filled in from this app's settings. The
error responses each operation can give follow from what it declares: a body, a query,
admission limits (429, 503 with Retry-After), corpus writes (401, 403).

A generator of our own rather than spectree or flask-openapi3: the limits come from the
settings of each app, the errors keep the contract's codes (415, invalid_encoding, lone
surrogates...) that those libraries would have to be overridden to give, and the whole
generator is smaller than either integration's configuration of it would be.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import current_app
from pydantic.json_schema import models_json_schema

from qa.contract.base import Reply
from qa.contract.fields import fill_limits
from qa.contract.status import ErrorBody
from qa.settings import Settings
from qa.web.operations import Operation, Routes, settings

routes = Routes("docs", __name__)
REF = "#/components/schemas/{model}"
_RETRY = {"Retry-After": {"description": "seconds to wait before retrying",
                          "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_ERRORS = {
    400: "bad input, or a Host header this server does not serve",
    401: "QA_API_KEY is set and X-API-Key is missing or wrong",
    403: "sent from a page on another site",
    413: "the body is larger than QA_MAX_BODY_BYTES",
    415: "the body was not sent as application/json",
    429: "this client sent more than QA_RATE_LIMIT_PER_MINUTE requests a minute",
    500: "an unexpected failure; logged with the request id",
    502: "the generative model failed",
    503: "a store is unavailable, or the server is answering all it can",
}


@routes.get("/openapi.json", summary="This document", plain=True,
            responses={200: {"description": "the OpenAPI document",
                             "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi():
    static = sorted(p.name for p in Path(current_app.static_folder).iterdir() if p.is_file())
    return build_spec(current_app.extensions["operations"], settings(), static)


def build_spec(operations: list[Operation], settings: Settings,
               static_files: list[str]) -> dict:
    """The OpenAPI document of ``operations`` under ``settings``' limits."""
    refs, schemas = _schemas(operations)
    paths: dict[str, dict] = {}
    for op in operations:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.path)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, refs)
    paths["/static/{filename}"] = {"get": _static(static_files)}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "News QA", "version": "1.0", "description": (
            "Answers questions about news articles with cited quotes. Every error is JSON "
            "of the ErrorBody shape with a 4xx or 5xx status, never HTML. Request bodies "
            "are limited to {max_body_bytes} bytes.")},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"apiKey": {
            "type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": "required when the server sets QA_API_KEY"}}},
    }
    return fill_limits(doc, settings)


def _schemas(operations: list[Operation]) -> tuple[dict, dict]:
    """JSON Schemas of every model the operations name: requests as validated, replies
    as serialised; ``refs`` maps ``(model, mode)`` to its reference."""
    wanted = {(ErrorBody, "serialization")}
    for op in operations:
        if op.body is not None:
            wanted.add((op.body, "validation"))
        models = [*_models(op.responses), *_models(op.events or {})]
        wanted.update((m, "serialization") for m in models)
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, top = models_json_schema(ordered, ref_template=REF)
    return refs, top.get("$defs", {})


def _models(value: Any) -> list[type[Reply]]:
    if isinstance(value, type) and issubclass(value, Reply):
        return [value]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _models(v)]
    if isinstance(value, tuple):
        return [m for v in value for m in _models(v)]
    return []


def _operation(op: Operation, refs: dict) -> dict:
    out: dict[str, Any] = {"summary": op.summary, "operationId": op.name,
                           "parameters": [*op.parameters, *_query(op)]}
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    if op.writes:
        out["security"] = [{"apiKey": []}]
    out["responses"] = {str(k): v for k, v in sorted(_responses(op, refs).items())}
    return out


def _query(op: Operation) -> list[dict]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             "description": prop.pop("description", ""), "schema": prop}
            for name, prop in schema["properties"].items()]


def _responses(op: Operation, refs: dict) -> dict[int, dict]:
    errors = {400} if op.plain else {400, 500, 503}
    if op.body is not None:
        errors |= {413, 415}
    if op.answers:
        errors |= {429, 502}
    if op.writes:
        errors |= {401, 403}
    out = {status: _error(status, _ERRORS[status], refs) for status in errors}
    for status, value in op.responses.items():
        out[status] = _response(status, value, op, refs)
    return out


def _response(status: int, value: Any, op: Operation, refs: dict) -> dict:
    if isinstance(value, str):  # an error of this operation's own
        return _error(status, value, refs)
    if isinstance(value, type):
        value = {"description": " ".join((value.__doc__ or value.__name__).split()),
                 "content": {"application/json": {"schema": value}}}
    content = {media: {**spec, "schema": _schema(spec["schema"], refs)}
               for media, spec in value.get("content", {}).items()}
    if op.events:
        content["text/event-stream"] = {"schema": _events(op.events, refs)}
    return {**value, "content": content} if content else value


def _events(events: dict[str, Any], refs: dict) -> dict:
    """The schema of one server-sent event: its name and its JSON data. A ``message``
    event is data alone (OpenAI's stream), closed by ``data: [DONE]``."""
    variants = []
    for name, models in events.items():
        schemas = [refs[(m, "serialization")] for m in _models(models)]
        data = {"type": "string", "contentMediaType": "application/json",
                "contentSchema": schemas[0] if len(schemas) == 1 else {"anyOf": schemas}}
        if name == "message":
            variants.append({"type": "object", "required": ["data"], "properties": {
                "data": {"anyOf": [data, {"const": "[DONE]"}]}}})
        else:
            variants.append({"type": "object", "required": ["event", "data"], "properties": {
                "event": {"const": name}, "data": data}})
    return {"description": "one server-sent event", "oneOf": variants}


def _schema(schema: Any, refs: dict) -> Any:
    if isinstance(schema, type):
        return refs[(schema, "serialization")]
    return schema


def _error(status: int, description: str, refs: dict) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}}
    if status in (429, 503):
        response["headers"] = _RETRY
    return response


def _static(files: list[str]) -> dict:
    """Flask's own static route, for the chat page's scripts and styles."""
    name = {"type": "string", **({"enum": files} if files else {})}
    return {
        "summary": "The chat page's scripts and styles", "operationId": "static",
        "parameters": [{"name": "filename", "in": "path", "required": True, "schema": name}],
        "responses": {
            "200": {"description": "the file", "content": {
                "text/javascript": {"schema": {"type": "string"}},
                "text/css": {"schema": {"type": "string"}}}},
            "304": {"description": "not modified"},
            "400": {"description": _ERRORS[400], "content": {"application/json": {
                "schema": {"$ref": REF.format(model="ErrorBody")}}}},
            "404": {"description": "no such file", "content": {"application/json": {
                "schema": {"$ref": REF.format(model="ErrorBody")}}}},
        },
    }
