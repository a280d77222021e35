"""The OpenAPI 3.0 document for every route, served at ``/openapi.json``.

Request schemas state only what the server enforces exactly, so a generated request
that breaks them is always refused and one that keeps them is never refused for its
shape; rules that depend on trimming are written in the descriptions.
"""

from __future__ import annotations

from typing import Any

# Written without lookahead so generators can honour it: no ".." anywhere.
ARTICLE_ID_PATTERN = r"^[A-Za-z0-9](\.?[A-Za-z0-9_\-/])*\.?$"
# A character that survives trimming (str.strip) and control-character removal.
VISIBLE = "[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
# ... and the removal of zero-width characters that article ingest applies too.
VISIBLE_IN_ARTICLE = (
    "[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u2060-\u2063"
    "\u3000\ufeff]"
)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _retry(description: str) -> dict:
    response = _error(description)
    response["headers"] = {
        "Retry-After": {"description": "seconds to wait before retrying",
                        "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    }
    return response


BAD_BODY = {
    "400": _error("the body is not valid JSON, not UTF-8, or breaks the rules above"),
    "413": _error("the body is larger than the configured limit"),
    "415": _error("the body was not sent as application/json"),
}
SERVER = {
    "500": _error("an unexpected failure; logged with the request id"),
    "503": _retry("a store is unavailable, or the server is overloaded"),
}
LOCKED = {
    "401": _error("QA_API_KEY is set and X-API-Key is missing or wrong"),
}


def build_spec(
    max_question_chars: int = 2000,
    max_body_bytes: int = 256 * 1024,
    static_files: list[str] | None = None,
) -> dict:
    """Return the OpenAPI document for the service's current limits."""
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "stable machine code"},
                        "message": {"type": "string", "description": "safe to show a user"},
                        "request_id": {"type": "string"},
                    },
                }
            },
        },
        "Turn": {
            "type": "object",
            "required": ["role", "content"],
            "properties": {
                "role": {"type": "string", "enum": ["user", "assistant"]},
                "content": {"type": "string", "maxLength": 20000},
                "citations": {
                    "type": "array", "nullable": True, "items": {},
                    "description": "the citations of an assistant turn (non-objects ignored)",
                },
            },
        },
        "AskRequest": {
            "type": "object",
            "required": ["question"],
            "properties": {
                "question": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": max_question_chars,
                    "pattern": VISIBLE,
                    "description": (
                        f"at most {max_question_chars} characters, and at least one left "
                        "after trimming whitespace and dropping control characters; "
                        "lone surrogates are refused"
                    ),
                },
                "history": {
                    "type": "array",
                    "nullable": True,
                    "items": _ref("Turn"),
                    "description": "earlier turns of the conversation, oldest first",
                },
                "stream": {"type": "boolean", "description": "ask for server-sent events"},
            },
        },
        "Citation": {
            "type": "object",
            "required": ["n", "article_id", "title", "quote", "start", "end", "chunk_id",
                         "score"],
            "properties": {
                "n": {"type": "integer", "minimum": 1},
                "article_id": {"type": "string"},
                "title": {"type": "string"},
                "quote": {"type": "string", "description": "text[start:end] of the article"},
                "start": {"type": "integer", "minimum": 0},
                "end": {"type": "integer", "minimum": 1},
                "chunk_id": {"type": "string"},
                "score": {"type": "number"},
            },
        },
        "Passage": {
            "type": "object",
            "required": ["chunk_id", "article_id", "title", "score"],
            "properties": {
                "chunk_id": {"type": "string"},
                "article_id": {"type": "string"},
                "title": {"type": "string"},
                "score": {"type": "number"},
                "same_story": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Answer": {
            "type": "object",
            "required": ["answer", "abstained", "citations", "model", "timings_ms"],
            "properties": {
                "answer": {"type": "string",
                           "description": "every [n] marker has exactly one citation"},
                "abstained": {"type": "boolean"},
                "citations": {"type": "array", "items": _ref("Citation")},
                "model": {"type": "string"},
                "timings_ms": {"type": "object",
                               "additionalProperties": {"type": "number"}},
                "retrieved": {"type": "array", "items": _ref("Passage")},
                "degraded": {"type": "boolean"},
                "standalone_question": {"type": "string"},
            },
        },
        "AnswerEvent": {
            "type": "object",
            "required": ["event", "data"],
            "description": "one server-sent event; data is JSON: retrieval {passages}, "
                           "token {text}, citation (a Citation), final (an Answer), "
                           "error (an Error)",
            "properties": {
                "event": {"type": "string",
                          "enum": ["retrieval", "token", "citation", "final", "error"]},
                "data": {"type": "string"},
            },
        },
        "Article": {
            "type": "object",
            "required": ["article_id", "title", "text"],
            "properties": {
                "article_id": {"type": "string"},
                "title": {"type": "string"},
                "text": {"type": "string"},
            },
        },
        "ArticleList": {
            "type": "object",
            "required": ["articles"],
            "properties": {
                "articles": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["article_id", "title"],
                        "properties": {"article_id": {"type": "string"},
                                       "title": {"type": "string"}},
                    },
                }
            },
        },
        "NewArticle": {
            "type": "object",
            "required": ["article_id", "text"],
            "properties": {
                "article_id": {"type": "string", "pattern": ARTICLE_ID_PATTERN,
                               "maxLength": 200,
                               "description": "letters, digits, '.', '_', '-', '/'; no '..'"},
                "text": {"type": "string", "pattern": VISIBLE_IN_ARTICLE,
                         "description": "plain text with a visible character, stored as "
                                        "sent less zero-width and control characters "
                                        "(markup is shown escaped, never run); text that "
                                        "addresses a language model is refused with code "
                                        "quarantined"},
            },
        },
        "IngestResult": {
            "type": "object",
            "required": ["article_id", "report"],
            "properties": {
                "article_id": {"type": "string"},
                "report": {
                    "type": "object",
                    "required": ["articles", "added", "unchanged", "removed"],
                    "properties": {
                        "articles": {"type": "integer"}, "added": {"type": "integer"},
                        "unchanged": {"type": "integer"}, "removed": {"type": "integer"},
                        "articles_removed": {"type": "integer"},
                        "rejected": {"type": "array"}, "seconds": {"type": "number"},
                    },
                },
            },
        },
        "SearchResults": {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "allOf": [_ref("Passage")],
                        "type": "object",
                        "required": ["text", "start", "end"],
                        "properties": {"text": {"type": "string"},
                                       "start": {"type": "integer"},
                                       "end": {"type": "integer"}},
                    },
                }
            },
        },
        "Readiness": {
            "type": "object",
            "required": ["status", "checks"],
            "properties": {
                "status": {"type": "string", "enum": ["ready", "unavailable"]},
                "checks": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["ok"],
                        "properties": {"ok": {"type": "boolean"},
                                       "error": {"type": "string"}},
                    },
                },
            },
        },
    }
    article_id_param = {
        "name": "article_id", "in": "path", "required": True,
        "description": "the article's path relative to its folder, without the extension",
        "schema": {"type": "string"},
    }
    html = {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "The chat page", "operationId": "index",
                      "responses": {"200": html, **SERVER}}},
        "/ask": {
            "post": {
                "summary": "Answer a question from the articles, with citations",
                "operationId": "ask",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("AskRequest")}}},
                "responses": {
                    "200": {
                        "description": "the answer (JSON), or server-sent events when "
                                       "stream is true and the client accepts them",
                        "content": {
                            "application/json": {"schema": _ref("Answer")},
                            # OpenAPI 3.0 has no itemSchema: this schema is each event.
                            "text/event-stream": {"schema": _ref("AnswerEvent")},
                        },
                    },
                    **BAD_BODY,
                    "429": _retry("this client exceeded its per-minute allowance"),
                    **SERVER,
                    "502": _error("the generative model failed"),
                },
            }
        },
        "/articles": {
            "get": {
                "summary": "List the stored articles",
                "operationId": "listArticles",
                "responses": {"200": _json(_ref("ArticleList"), "every article"), **SERVER},
            },
            "post": {
                "summary": "Add or replace one article",
                "operationId": "putArticle",
                "security": [{"apiKey": []}],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("NewArticle")}}},
                "responses": {
                    "200": _json(_ref("IngestResult"), "the article replaced one"),
                    "201": _json(_ref("IngestResult"), "the article is new"),
                    **BAD_BODY, **LOCKED, **SERVER,
                },
            },
        },
        "/articles/{article_id}": {
            "get": {
                "summary": "One article: JSON, or an HTML page for Accept: text/html",
                "operationId": "getArticle",
                "parameters": [
                    article_id_param,
                    {"name": "start", "in": "query", "required": False,
                     "description": "HTML only: start offset of a quote to highlight "
                                    "(an integer; anything else is ignored)",
                     "schema": {"type": "string"}},
                    {"name": "end", "in": "query", "required": False,
                     "description": "HTML only: end offset of that quote",
                     "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "the article",
                            "content": {"application/json": {"schema": _ref("Article")},
                                        "text/html": {"schema": {"type": "string"}}}},
                    "404": _error("no such article"),
                    **SERVER,
                },
            },
            "delete": {
                "summary": "Delete one article",
                "operationId": "deleteArticle",
                "security": [{"apiKey": []}],
                "parameters": [article_id_param],
                "responses": {
                    "200": _json(
                        {"type": "object", "required": ["article_id", "deleted"],
                         "properties": {"article_id": {"type": "string"},
                                        "deleted": {"type": "boolean"}}},
                        "the article is gone",
                    ),
                    **LOCKED,
                    "404": _error("no such article"),
                    **SERVER,
                },
            },
        },
        "/search": {
            "get": {
                "summary": "Passages that match a query (the sources panel)",
                "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "description": "at least one visible character",
                     "schema": {"type": "string", "minLength": 1,
                                "maxLength": max_question_chars, "pattern": VISIBLE}},
                    {"name": "k", "in": "query", "required": False,
                     "description": "how many results, clamped to 1..50 (default 10)",
                     "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": _json(_ref("SearchResults"), "the best passages"),
                    "400": _error("q or k is invalid"),
                    **SERVER,
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness: the process answers; touches no dependency",
                "operationId": "healthz",
                "responses": {"200": _json(
                    {"type": "object", "required": ["status"],
                     "properties": {"status": {"type": "string", "enum": ["ok"]}}},
                    "alive")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: each dependency probed, within a bounded time",
                "operationId": "readyz",
                "responses": {
                    "200": _json(_ref("Readiness"), "every dependency is ready"),
                    "503": _json(_ref("Readiness"), "some dependency is not ready"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
            }
        },
        "/static/{filename}": {
            "get": {
                "summary": "The chat page's scripts and styles",
                "operationId": "static",
                "parameters": [{"name": "filename", "in": "path", "required": True,
                                "schema": {"type": "string",
                                           **({"enum": static_files} if static_files else {})}}],
                "responses": {
                    "200": {"description": "the file",
                            "content": {"text/javascript": {"schema": {"type": "string"}},
                                        "text/css": {"schema": {"type": "string"}}}},
                    "304": {"description": "not modified"},
                    "404": _error("no such file"),
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "News QA",
            "version": "1.0",
            "description": (
                "Answers questions about news articles with cited quotes. Every error is "
                "JSON of the Error shape with a 4xx or 5xx status, never HTML. Request "
                f"bodies are limited to {max_body_bytes} bytes."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "required when the server sets QA_API_KEY"},
            },
        },
    }
