"""Every answering route meets the same admission: one rate limit, one concurrency gate,
the cap on question parts, and the contract's JSON errors (with OpenAI's type on /v1)."""

from __future__ import annotations

import json
import threading

import pytest

from app import create_app
from qa.errors import StoreError
from tests.fakes import FakeEmbedder

QUESTION = "How many drones can Ukraine produce each year?"
CHAT = {"model": "news-qa", "messages": [{"role": "user", "content": QUESTION}]}
# Each answering route, as a request that succeeds.
ANSWERING = {
    "/ask": lambda c: c.post("/ask", json={"question": QUESTION}),
    "/ask stream": lambda c: c.post("/ask", json={"question": QUESTION, "stream": True}),
    "/search": lambda c: c.get("/search?q=drones"),
    "/v1/chat/completions": lambda c: c.post("/v1/chat/completions", json=CHAT),
    "/v1 stream": lambda c: c.post("/v1/chat/completions", json={**CHAT, "stream": True}),
}


def make_app(settings, **changes):
    embedder = FakeEmbedder()
    return create_app(settings.replace(**changes), embedder_factory=lambda: embedder)


@pytest.fixture
def limited_app(settings):
    app = make_app(settings, rate_limit_per_minute=1)
    yield app
    app.extensions["qa"].close()


@pytest.mark.parametrize("route", ANSWERING)
def test_every_answering_route_is_rate_limited_with_retry_after(limited_app, route):
    client = limited_app.test_client()
    client.get("/articles")  # seed first: that is not an answering route
    statuses = []
    for _ in range(3):
        response = ANSWERING[route](client)
        statuses.append(response.status_code)
        response.close()
    assert statuses == [200, 429, 429]
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    if route.startswith("/v1"):
        assert response.get_json()["error"]["type"] == "rate_limit_error"
    assert client.get("/healthz").status_code == 200  # other routes are not limited


def test_the_limit_is_one_allowance_shared_by_every_answering_route(limited_app):
    client = limited_app.test_client()
    assert ANSWERING["/search"](client).status_code == 200
    assert ANSWERING["/ask"](client).status_code == 429
    assert ANSWERING["/v1/chat/completions"](client).status_code == 429


@pytest.mark.parametrize("route", ANSWERING)
def test_every_answering_route_passes_the_concurrency_gate(settings, route, monkeypatch):
    app = make_app(settings, max_concurrency=1)
    svc = app.extensions["qa"]
    app.test_client().get("/articles")
    inside, release = threading.Event(), threading.Event()
    real_search = svc.search

    def slow_search(text, k):
        inside.set()
        release.wait(10)
        return real_search(text, k)

    monkeypatch.setattr(svc, "search", slow_search)
    holder = threading.Thread(target=lambda: app.test_client().get("/search?q=drones"))
    holder.start()
    assert inside.wait(10)
    busy = ANSWERING[route](app.test_client())
    release.set()
    holder.join(10)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert busy.get_json()["error"]["code"] == "overloaded"
    assert ANSWERING[route](app.test_client()).status_code == 200  # the slot came back
    svc.close()


def test_a_v1_stream_holds_its_slot_until_it_ends(settings):
    app = make_app(settings, max_concurrency=1)
    client = app.test_client()
    client.get("/articles")
    streaming = client.post("/v1/chat/completions", json={**CHAT, "stream": True},
                            buffered=False)
    assert streaming.status_code == 200 and streaming.mimetype == "text/event-stream"
    assert ANSWERING["/search"](app.test_client()).status_code == 503
    body = streaming.get_data(as_text=True)
    streaming.close()
    assert body.rstrip().endswith("data: [DONE]")
    assert ANSWERING["/search"](app.test_client()).status_code == 200
    app.extensions["qa"].close()


@pytest.mark.parametrize(("raw", "content_type", "status", "code"), [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', "text/plain", 415,
     "unsupported_media_type"),
    (b"[]", "application/json", 400, "invalid_request"),
    (b'{"messages": "hi"}', "application/json", 400, "invalid_messages"),
    (b'{"messages": [{"role": "bot", "content": "hi"}]}', "application/json", 400,
     "invalid_messages"),
    (b'{"messages": [{"role": "system", "content": "obey"}]}', "application/json", 400,
     "invalid_messages"),
    (b'{"messages": [{"role": "user", "content": "   "}]}', "application/json", 400,
     "invalid_messages"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
     "application/json", 400, "invalid_request"),
    (b'{"messages": [{"role": "user", "content": "' + b"a" * 300_000 + b'"}]}',
     "application/json", 413, "request_entity_too_large"),
])
def test_malformed_v1_bodies_get_the_contract_error_with_openai_type(client, raw, content_type,
                                                                     status, code):
    response = client.post("/v1/chat/completions", data=raw,
                           headers={"Content-Type": content_type})
    assert response.status_code == status and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert error["type"] == "invalid_request_error"


def test_ask_errors_have_no_openai_type(client):
    error = client.post("/ask", data=b"{", content_type="application/json").get_json()["error"]
    assert error["code"] == "invalid_json" and "type" not in error


def test_a_v1_stream_failure_carries_no_exception_text(app, monkeypatch):
    secret = "/srv/secret/chroma at 10.0.0.7:8001"

    def events(request, stream=False):
        yield "retrieval", {"passages": []}
        raise StoreError(f"cannot reach {secret}")

    monkeypatch.setattr(app.extensions["qa"], "events", events)
    body = app.test_client().post("/v1/chat/completions",
                                  json={**CHAT, "stream": True}).get_data(as_text=True)
    error = json.loads(body.split("data: ")[-1])["error"]
    assert error == {"code": "store_unavailable", "type": "server_error",
                     "message": "the article store is unavailable; try again shortly"}
    assert secret not in body

    def crash(request, stream=False):
        yield "retrieval", {"passages": []}
        raise RuntimeError(f"boom at {secret}")

    monkeypatch.setattr(app.extensions["qa"], "events", crash)
    body = app.test_client().post("/v1/chat/completions",
                                  json={**CHAT, "stream": True}).get_data(as_text=True)
    assert secret not in body and '"code":"internal_error"' in body


MANY_PARTS = " ".join(f"What did the {n} minister say about drones?" for n in (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"))


def test_a_question_of_many_parts_is_refused_on_every_route(client):
    for response in (client.post("/ask", json={"question": MANY_PARTS}),
                     client.post("/ask", json={"question": MANY_PARTS, "stream": True}),
                     client.post("/v1/chat/completions", json={"messages": [
                         {"role": "user", "content": MANY_PARTS}]})):
        assert response.status_code == 400 and response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert error["code"] == "too_many_parts"
        assert error["message"] == "the question has 9 parts; ask at most 4 at a time"
    four = "?".join(MANY_PARTS.split("?")[:4]) + "?"
    assert client.post("/ask", json={"question": four}).status_code == 200


def test_the_longest_question_of_short_questions_is_refused_quickly(client):
    """The issue's case: ~2,000 characters of short questions split into 68 parts."""
    import time

    question = " ".join(f"Who won the {i} vote?" for i in range(200))[:2000]
    started = time.perf_counter()
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "too_many_parts"
    assert time.perf_counter() - started < 1.0
