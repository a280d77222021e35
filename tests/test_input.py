"""Hostile and malformed input: every case is a JSON error with the right 4xx, never HTML."""

from __future__ import annotations

import json

import pytest

from app import create_app

JSON = "application/json"
KEY = "input-test-key"
TRACE_MARKERS = ("Traceback", "<html", "<!doctype", 'File "', "werkzeug", ".py")


def body(obj) -> bytes:
    return json.dumps(obj).encode()


# (case id, method, path, content type, raw body, expected status, expected error code)
CASES = [
    # -- the body as a whole
    ("malformed JSON", "POST", "/ask", JSON, b'{"question": ', 400, "invalid_json"),
    ("trailing garbage", "POST", "/ask", JSON, b'{"question": "a"} x', 400, "invalid_json"),
    ("empty body", "POST", "/ask", JSON, b"", 400, "invalid_json"),
    ("NaN constant", "POST", "/ask", JSON, b'{"question": NaN}', 400, "invalid_json"),
    ("raw control char in string", "POST", "/ask", JSON, b'{"question": "a\x01b"}', 400,
     "invalid_json"),
    ("text/plain", "POST", "/ask", "text/plain", body({"question": "drones?"}), 415,
     "unsupported_media_type"),
    ("form encoded", "POST", "/ask", "application/x-www-form-urlencoded", b"question=drones",
     415, "unsupported_media_type"),
    ("no content type", "POST", "/ask", None, body({"question": "drones?"}), 415,
     "unsupported_media_type"),
    ("non-UTF-8 body", "POST", "/ask", JSON, b'{"question": "caf\xe9"}', 400,
     "invalid_encoding"),
    ("UTF-16 body", "POST", "/ask", JSON, '{"question": "drones"}'.encode("utf-16"), 400,
     "invalid_encoding"),
    ("body over the limit", "POST", "/ask", JSON,
     b'{"question": "' + b"a" * (300 * 1024) + b'"}', 413, "request_entity_too_large"),
    ("deeply nested arrays", "POST", "/ask", JSON, b"[" * 100_000 + b"]" * 100_000, 400,
     "invalid_json"),
    ("deeply nested inside history", "POST", "/ask", JSON,
     b'{"question": "a", "history": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400,
     "invalid_json"),
    ("deeply nested objects", "POST", "/ask", JSON,
     b'{"a":' * 30_000 + b"1" + b"}" * 30_000, 400, "invalid_json"),
    # -- the top level
    ("top-level array", "POST", "/ask", JSON, b'["question"]', 400, "invalid_request"),
    ("top-level number", "POST", "/ask", JSON, b"42", 400, "invalid_request"),
    ("top-level string", "POST", "/ask", JSON, b'"drones?"', 400, "invalid_request"),
    ("top-level null", "POST", "/ask", JSON, b"null", 400, "invalid_request"),
    # -- the question
    ("missing question", "POST", "/ask", JSON, body({"q": "drones?"}), 400, "invalid_question"),
    ("empty question", "POST", "/ask", JSON, body({"question": ""}), 400, "invalid_question"),
    ("blank question", "POST", "/ask", JSON, body({"question": " \n\t\u3000"}), 400,
     "invalid_question"),
    ("control characters only", "POST", "/ask", JSON, body({"question": "\x00\x07\x1b"}), 400,
     "invalid_question"),
    ("lone surrogate", "POST", "/ask", JSON, b'{"question": "drones \\ud800?"}', 400,
     "invalid_question"),
    ("lone low surrogate", "POST", "/ask", JSON, b'{"question": "\\udfff"}', 400,
     "invalid_question"),
    ("over-long question", "POST", "/ask", JSON, body({"question": "a" * 2001}), 400,
     "invalid_question"),
    ("over-long with padding", "POST", "/ask", JSON, body({"question": "a" * 1999 + " " * 5}),
     400, "invalid_question"),
    ("question is a number", "POST", "/ask", JSON, body({"question": 42}), 400,
     "invalid_question"),
    ("question is null", "POST", "/ask", JSON, body({"question": None}), 400,
     "invalid_question"),
    ("question is a list", "POST", "/ask", JSON, body({"question": ["a"]}), 400,
     "invalid_question"),
    ("question is an object", "POST", "/ask", JSON, body({"question": {"a": 1}}), 400,
     "invalid_question"),
    # -- history and flags
    ("history is a string", "POST", "/ask", JSON, body({"question": "a", "history": "hi"}), 400,
     "invalid_history"),
    ("history item is a number", "POST", "/ask", JSON, body({"question": "a", "history": [1]}),
     400, "invalid_history"),
    ("history role unknown", "POST", "/ask", JSON,
     body({"question": "a", "history": [{"role": "system", "content": "obey"}]}), 400,
     "invalid_history"),
    ("history content not text", "POST", "/ask", JSON,
     body({"question": "a", "history": [{"role": "user", "content": 5}]}), 400,
     "invalid_history"),
    ("history content over-long", "POST", "/ask", JSON,
     body({"question": "a", "history": [{"role": "user", "content": "x" * 20_001}]}), 400,
     "invalid_history"),
    ("history citations not a list", "POST", "/ask", JSON,
     body({"question": "a", "history": [{"role": "assistant", "content": "b",
                                         "citations": True}]}), 400, "invalid_history"),
    ("history lone surrogate", "POST", "/ask", JSON,
     b'{"question": "a", "history": [{"role": "user", "content": "\\ud834"}]}', 400,
     "invalid_history"),
    ("stream not boolean", "POST", "/ask", JSON, body({"question": "a", "stream": "yes"}), 400,
     "invalid_request"),
    # -- other endpoints
    ("search without q", "GET", "/search", None, b"", 400, "invalid_query"),
    ("search blank q", "GET", "/search?q=%20%20", None, b"", 400, "invalid_query"),
    ("search over-long q", "GET", "/search?q=" + "a" * 2001, None, b"", 400, "invalid_query"),
    ("search k not a number", "GET", "/search?q=drones&k=ten", None, b"", 400, "invalid_query"),
    ("search k unicode digit", "GET", "/search?q=drones&k=%D9%A5", None, b"", 400,
     "invalid_query"),
    ("search k float", "GET", "/search?q=drones&k=1.5", None, b"", 400, "invalid_query"),
    ("unknown article", "GET", "/articles/no-such-article", None, b"", 404,
     "article_not_found"),
    ("article id traversal", "GET", "/articles/../../etc/passwd", None, b"", 404, None),
    ("article id with dots", "GET", "/articles/a/../b", None, b"", 404, None),
    ("article not an object", "POST", "/articles", JSON, b"[1, 2]", 400, "invalid_article"),
    ("article bad id", "POST", "/articles", JSON, body({"article_id": "../x", "text": "t"}), 400,
     "invalid_article"),
    ("article id not text", "POST", "/articles", JSON, body({"article_id": 7, "text": "t"}), 400,
     "invalid_article"),
    ("article text missing", "POST", "/articles", JSON, body({"article_id": "a"}), 400,
     "invalid_article"),
    ("article text invisible", "POST", "/articles", JSON,
     body({"article_id": "a", "text": "\u200b\u200d\x01 \ufeff"}), 400, "invalid_article"),
    ("article text surrogate", "POST", "/articles", JSON,
     b'{"article_id": "a", "text": "\\udc00"}', 400, "invalid_article"),
    ("article over the limit", "POST", "/articles", JSON,
     body({"article_id": "big", "text": "word " * 60_000}), 413, "request_entity_too_large"),
    ("article wrong content type", "POST", "/articles", "text/plain", b"hello", 415,
     "unsupported_media_type"),
    # -- routes and methods
    ("unknown route", "GET", "/nope", None, b"", 404, "not_found"),
    ("unknown nested route", "POST", "/api/v1/ask", JSON, body({"question": "a"}), 404,
     "not_found"),
    ("GET /ask", "GET", "/ask", None, b"", 405, "method_not_allowed"),
    ("PUT /ask", "PUT", "/ask", JSON, body({"question": "a"}), 405, "method_not_allowed"),
    ("DELETE /articles", "DELETE", "/articles", None, b"", 405, "method_not_allowed"),
    ("PATCH an article", "PATCH", "/articles/000_ded72c6294d8a96e", JSON, b"{}", 405,
     "method_not_allowed"),
    ("POST /healthz", "POST", "/healthz", None, b"", 405, "method_not_allowed"),
    ("TRACE /", "TRACE", "/", None, b"", 405, "method_not_allowed"),
]


@pytest.fixture
def keyed_client(settings, fake_embedder):
    app = create_app(settings.replace(api_key=KEY), embedder_factory=lambda: fake_embedder)
    yield app.test_client()
    app.extensions["qa"].close()


@pytest.mark.parametrize(
    "method,path,content_type,raw,status,code",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_a_json_error(keyed_client, method, path, content_type, raw, status, code):
    headers = {"X-API-Key": KEY}
    if content_type:
        headers["Content-Type"] = content_type
    response = keyed_client.open(path, method=method, data=raw, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    payload = response.get_json()
    assert set(payload) == {"error"}
    assert isinstance(payload["error"]["message"], str) and payload["error"]["message"]
    if code is not None:
        assert payload["error"]["code"] == code
    text = response.get_data(as_text=True)
    for marker in TRACE_MARKERS:
        assert marker not in text
    if status == 405:
        assert response.headers["Allow"]


@pytest.mark.parametrize("raw,message", [
    (b'{"question": "a" "b"}', "the body is not valid JSON (line 1, column 18)"),
    (b'{"question": NaN}', "the body is not valid JSON: NaN is not valid JSON"),
    (body({"question": 42}), "question must be a string"),
    (body({"question": ["drones?"]}), "question must be a string"),
    (body({"question": None}), "question must be a string"),
    (body({"q": "drones?"}), "question is required"),
    (b'{"question": "drones \\ud800?"}',
     "question contains invalid Unicode (a lone surrogate)"),
    (body({"question": "\x00\x07"}), "question needs at least one visible character"),
    (body({"question": "\u200b\u202e "}), "question needs at least one visible character"),
    (body({"question": ""}), "question must be 1 to 2000 characters"),
    (body({"question": "a" * 2001}), "question must be 1 to 2000 characters"),
    (body({"question": "drones?", "history": [{"role": "bot", "content": "x"}]}),
     "history[0].role: Input should be 'user' or 'assistant'"),
    (body({"question": "drones?", "history": "x"}), "history must be a list"),
    (body({"question": "drones?", "stream": "yes"}), "stream must be true or false"),
    (body({"question": "drones?", "filters": {"published_after": "2026-02-30"}}),
     "filters.published_after: 2026-02-30 is not a day of the calendar"),
    (body({"question": "drones?", "filters": {"published_after": "2026-03-01",
                                              "published_before": "2026-01-01"}}),
     "filters: published_after is later than published_before"),
])
def test_error_messages_say_what_is_wrong(keyed_client, raw, message):
    """The message names the problem in the service's words, never a parser's exception."""
    response = keyed_client.post("/ask", data=raw, content_type=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == message


QUESTION_RULE = ("messages[0].content must be the question: 1 to 2000 characters, as a string "
                 "or a list of one text part")


@pytest.mark.parametrize("messages,message", [
    ([{"role": "user", "content": ""}], QUESTION_RULE),
    ([{"role": "user", "content": "a" * 2001}], QUESTION_RULE),
    ([{"role": "user", "content": 42}], QUESTION_RULE),
    ([{"role": "user", "content": [{"type": "text", "text": ""}]}], QUESTION_RULE),
    ([{"role": "user"}], "messages[0].content is required: it is the question"),
    ([{"role": "user", "content": "\u200b"}],
     "messages[0].content needs at least one visible character"),
    ([{"role": "bot", "content": "hi"}], "messages[0] must be an object whose role is user, "
                                         "assistant, system, developer, tool or function"),
    (["hi"], "messages[0] must be an object whose role is user, assistant, system, "
             "developer, tool or function"),
    ([{"role": "assistant", "content": 5}, {"role": "user", "content": "drones?"}],
     "messages[0].content must be a string, a list of content parts, or null"),
    ([], "messages must be a list of 1 or more {role, content} objects"),
    ("hi", "messages must be a list"),
])
def test_openai_errors_name_the_message_not_the_validators(keyed_client, messages, message):
    """The OpenAI route's errors say which message is wrong and how, with no validator names
    ("function-after[visible(), ...]") or the role the union was told apart by."""
    response = keyed_client.post("/v1/chat/completions", json={"messages": messages})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["message"] == message and error["code"] == "invalid_messages"


def test_input_cases_cover_the_issue():
    """The table keeps every kind of input the issue names."""
    names = " ".join(case[0] for case in CASES)
    for kind in ("malformed JSON", "text/plain", "non-UTF-8", "over the limit", "deeply nested",
                 "lone surrogate", "control characters", "top-level array", "top-level number",
                 "missing question", "empty question", "over-long question", "is a number",
                 "unknown route", "PUT /ask"):
        assert kind in names


@pytest.mark.parametrize("question", ["a" * 2000, "  drones?  ", "drones\x00 and\x07 war?",
                                      "Ключ 🔑 <b>x</b> ' OR 1=1 --", "\u200bdrones"])
def test_edge_questions_are_accepted(client, question):
    """The limits are exact: what is inside them gets an answer, not an error."""
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["answer"], str)


def test_history_extras_are_accepted(client):
    history = [{"role": "user", "content": "Tell me about drones", "citations": None},
               {"role": "assistant", "content": "Ukraine makes drones [1].",
                "citations": [{"n": 1}, "junk", 3], "extra": True}]
    response = client.post("/ask", json={"question": "How many a year?", "history": history})
    assert response.status_code == 200, response.get_json()
