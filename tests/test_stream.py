"""Server-sent events from /ask: retrieval, token, citation, final, in that order."""

from __future__ import annotations

import json

import pytest

from app import create_app
from qa.errors import StoreError
from tests.openai_stub import Reply, first_sentence, passages, running
from tests.test_generate import ANSWERS_UNLESS_REFUSED, assert_valid

QUESTION = "What is the PURL programme designed to do?"


@pytest.fixture
def openai_stub():
    yield from running()


def events(response) -> list[tuple[str, dict]]:
    out = []
    for block in response.get_data(as_text=True).split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def order_ok(names: list[str]) -> bool:
    rank = {"retrieval": 0, "token": 1, "citation": 2, "final": 3}
    return [rank[n] for n in names] == sorted(rank[n] for n in names)


def test_extractive_answer_streams_in_order(client, app):
    response = client.post("/ask", json={"question": QUESTION, "stream": True})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    got = events(response)
    names = [n for n, _ in got]
    assert names[0] == "retrieval" and names[-1] == "final" and order_ok(names)
    assert names.count("token") >= 2
    final = got[-1][1]
    assert "".join(d["text"] for n, d in got if n == "token") == final["answer"]
    assert [d for n, d in got if n == "citation"] == final["citations"]
    assert final["timings_ms"]["total"] > 0
    assert got[0][1]["passages"] == final["retrieved"]
    assert_valid(app, final)


def test_accept_header_asks_for_a_stream(client):
    response = client.post("/ask", json={"question": QUESTION},
                           headers={"Accept": "text/event-stream, application/json"})
    assert response.mimetype == "text/event-stream"
    plain = client.post("/ask", json={"question": QUESTION})
    assert plain.mimetype == "application/json"


def test_invalid_request_is_a_json_error_not_a_stream(client):
    response = client.post("/ask", json={"question": "", "stream": True})
    assert response.status_code == 400 and response.mimetype == "application/json"


@pytest.fixture
def gen_app(settings, fake_embedder, openai_stub):
    app = create_app(settings, embedder_factory=lambda: fake_embedder,
                     answer_model="openai:stub-model", openai_base_url=openai_stub.url,
                     model_timeout_s=3.0)
    app.extensions["qa"].reader.abstainer = ANSWERS_UNLESS_REFUSED
    yield app
    app.extensions["qa"].close()


def test_generated_tokens_stream_and_final_is_verified(gen_app, openai_stub):
    def respond(body):
        return Reply(f"{first_sentence(passages(body)[1])} [1][9] Cheese is blue, say "
                     "bakers [2].", chunk_delay=0.01)
    openai_stub.responder = respond
    response = gen_app.test_client().post("/ask", json={"question": QUESTION, "stream": True})
    got = events(response)
    names = [n for n, _ in got]
    assert order_ok(names) and names[0] == "retrieval" and names[-1] == "final"
    streamed = "".join(d["text"] for n, d in got if n == "token")
    assert "[9]" in streamed and "Cheese" in streamed  # the raw draft, as generated
    assert names.count("token") > 5
    final = got[-1][1]
    assert "[9]" not in final["answer"] and "Cheese" not in final["answer"]
    assert final["model"] == "openai:stub-model"
    assert openai_stub.requests[-1]["stream"] is True
    assert_valid(gen_app, final)


def test_slow_stream_degrades_to_a_final_extractive_answer(gen_app, openai_stub):
    openai_stub.responder = lambda body: Reply("word " * 200, chunk_delay=0.05)
    got = events(gen_app.test_client().post("/ask", json={"question": QUESTION,
                                                            "stream": True}))
    final = got[-1]
    assert final[0] == "final" and final[1]["fallback"] == "model_timeout"
    assert final[1]["degraded"] is True
    assert_valid(gen_app, final[1])


def test_failure_after_headers_is_an_error_event(gen_app, openai_stub, monkeypatch):
    openai_stub.responder = lambda body: Reply(status=500)
    svc = gen_app.extensions["qa"]

    def store_down(request):
        raise StoreError("the store is unreachable")
    monkeypatch.setattr(svc.extractive, "answer", store_down)
    got = events(gen_app.test_client().post("/ask", json={"question": QUESTION,
                                                           "stream": True}))
    assert got[0][0] == "retrieval"
    name, data = got[-1]
    assert name == "error" and data["error"]["code"] == "store_unavailable"
    assert "final" not in [n for n, _ in got]


def test_the_draft_streams_from_its_first_word(gen_app, openai_stub):
    openai_stub.responder = lambda body: Reply(f"{first_sentence(passages(body)[1])} [1]",
                                               chunk_delay=0.01)
    got = events(gen_app.test_client().post("/ask", json={"question": QUESTION,
                                                            "stream": True}))
    first_word = first_sentence(passages(openai_stub.requests[-1])[1]).split()[0]
    assert len(first_word) < len("NOT FOUND")  # so a draft held back that long would show
    # Nothing held back once the draft cannot be the refusal.
    assert next(d["text"] for n, d in got if n == "token").strip() == first_word
