"""The OpenAI-compatible front door, driven by the official clients over real HTTP."""

from __future__ import annotations

import threading

import openai
import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.openai_stub import Reply, first_sentence, passages, running
from tests.test_generate import ANSWERS_UNLESS_REFUSED, assert_valid

QUESTION = "What is the PURL programme designed to do?"


@pytest.fixture
def openai_stub():
    yield from running()


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}/v1"


@pytest.fixture
def served(app):
    server, url = serve(app)
    yield app, openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30)
    server.shutdown()


def test_models_lists_the_service(served):
    _, client = served
    assert [m.id for m in client.models.list()] == ["news-qa"]


def test_non_streaming_completion_is_a_cited_answer(served):
    app, client = served
    completion = client.chat.completions.create(
        model="news-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    content = completion.choices[0].message.content
    assert completion.object == "chat.completion" and "[1]" in content
    extra = completion.model_extra
    assert extra["qa"]["answer"] == content and extra["citations"] == extra["qa"]["citations"]
    assert_valid(app, {"answer": content, "citations": extra["citations"]})


def test_streaming_completion_is_the_same_cited_answer(served):
    app, client = served
    stream = client.chat.completions.create(
        model="news-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    last = chunks[-1].model_extra
    assert last["qa"]["answer"] == content and "[1]" in content
    assert_valid(app, {"answer": content, "citations": last["citations"]})


def test_history_reaches_the_service(served):
    _, client = served
    completion = client.chat.completions.create(model="news-qa", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the PURL programme?"},
        {"role": "assistant", "content": "A framework to align NATO's support [1]."},
        {"role": "user", "content": [{"type": "text", "text": "Who discussed it in Kyiv?"}]},
    ])
    assert "purl" in completion.model_extra["qa"]["standalone_question"].lower()


def test_bad_requests_are_json_4xx(served):
    _, client = served
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="news-qa", messages=[])
    assert caught.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="news-qa", messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.BadRequestError) as caught:  # one cited answer, not two
        client.chat.completions.create(
            model="news-qa", n=2, messages=[{"role": "user", "content": QUESTION}])
    assert "n must be 1" in caught.value.body["message"]


def test_langchain_chat_openai_gets_a_cited_answer(served):
    from langchain_openai import ChatOpenAI

    app, client = served
    llm = ChatOpenAI(model="news-qa", base_url=str(client.base_url), api_key="unused",
                     max_retries=0)
    assert "[1]" in llm.invoke(QUESTION).content


def test_generated_answers_through_v1_are_verified(settings, fake_embedder, openai_stub):
    openai_stub.responder = lambda body: Reply(
        f"{first_sentence(passages(body)[1])} [1][7] Pigs fly over Kyiv nightly [3].")
    app = create_app(settings, embedder_factory=lambda: fake_embedder,
                     answer_model="openai:stub-model", openai_base_url=openai_stub.url)
    # About verification through /v1, not the fitted abstainer (fake embeddings fool it).
    app.extensions["qa"].reader.abstainer = ANSWERS_UNLESS_REFUSED
    server, url = serve(app)
    try:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        for stream in (False, True):
            result = client.chat.completions.create(
                model="news-qa", messages=[{"role": "user", "content": QUESTION}],
                stream=stream)
            if stream:
                chunks = list(result)
                content = "".join(c.choices[0].delta.content or "" for c in chunks)
                qa = chunks[-1].model_extra["qa"]
            else:
                content, qa = result.choices[0].message.content, result.model_extra["qa"]
            assert qa["model"] == "openai:stub-model" and content == qa["answer"]
            assert "[7]" not in content and "Pigs" not in content and "[1]" in content
            assert_valid(app, qa)
    finally:
        server.shutdown()
        app.extensions["qa"].close()
