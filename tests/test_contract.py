"""The contract as code: one rule per fact, limits from the settings, responses in shape."""

from __future__ import annotations

import unicodedata

import pytest

from app import create_app
from qa.contract import AskResponse
from qa.contract.ask import EVENTS, AskBody
from qa.contract.fields import INVISIBLE, VISIBLE, is_article_id
from tests.openai_stub import Reply, first_sentence, passages, running

QUESTION = "What is the PURL programme designed to do?"


def test_the_visible_rule_is_the_unicode_categories():
    """One definition of 'shows nothing' for questions, queries and articles."""
    import re

    invisible = re.compile(f"[{INVISIBLE}]")
    for cp in range(0x10000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        expected = ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")
        assert bool(invisible.fullmatch(ch)) == expected, hex(cp)
    assert VISIBLE == f"[^{INVISIBLE}]"


@pytest.mark.parametrize(("article_id", "ok"), [
    ("000_x", True), ("bbc-news-928/17", True), ("a.b", True), ("a" * 200, True),
    ("a" * 201, False), ("../x", False), ("a/../b", False), ("a..b", False), (".a", False),
    ("", False), ("a b", False), ("é", False),
])
def test_the_article_id_rule(article_id, ok):
    assert is_article_id(article_id) is ok


def test_a_question_is_trimmed_and_single_spaced():
    body = AskBody.model_validate({"question": "  How many\n\ndrones\t can \u00a0 Ukraine make? "})
    assert body.question == "How many drones can Ukraine make?"


def test_limits_in_the_schema_come_from_the_settings(settings, fake_embedder):
    app = create_app(settings.replace(max_question_chars=120, max_search_k=7,
                                      max_history_turns=3, max_question_parts=2),
                     embedder_factory=lambda: fake_embedder)
    spec = app.test_client().get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    question = schemas["AskBody"]["properties"]["question"]
    assert question["maxLength"] == 120 and "at most 2 parts" in question["description"]
    assert "last 3" in schemas["AskBody"]["properties"]["history"]["description"]
    k = {p["name"]: p for p in spec["paths"]["/search"]["get"]["parameters"]}["k"]
    assert k["schema"]["maximum"] == 7 and k["schema"]["minimum"] == 1
    assert str(settings.max_body_bytes) in spec["info"]["description"]
    assert "x-limits" not in str(spec) and "{max_" not in str(spec)
    # ... and validation uses the same numbers.
    client = app.test_client()
    refused = client.post("/ask", json={"question": "x" * 121}).get_json()["error"]
    assert refused == {"code": "invalid_question",
                       "message": "question must be 1 to 120 characters"}
    assert client.get("/search?q=drones&k=8").get_json()["error"]["message"] == (
        "k must be a whole number from 1 to 7")
    assert client.get("/search?q=drones&k=7").status_code == 200
    app.extensions["qa"].close()


def test_every_route_is_documented_with_its_errors(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    routes = {(m, r.rule.replace("<path:", "{").replace("<", "{").replace(">", "}"))
              for r in client.application.url_map.iter_rules()
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
    for path, method in (("/ask", "post"), ("/search", "get"), ("/v1/chat/completions", "post")):
        responses = spec["paths"][path][method]["responses"]
        assert {"429", "503"} <= set(responses), path  # behind the admission limits
        assert "Retry-After" in responses["429"]["headers"]
    for path, method in (("/articles", "post"), ("/articles/{article_id}", "delete")):
        responses = spec["paths"][path][method]
        assert {"401", "403"} <= set(responses["responses"]) and responses["security"]


def service_keys(response: dict) -> set[str]:
    return set(response) | {f"timings_ms.{k}" for k in response["timings_ms"]} | {
        f"citations.{k}" for c in response["citations"] for k in c}


def model_keys() -> set[str]:
    fields = set(AskResponse.model_fields)
    timings = AskResponse.model_fields["timings_ms"].annotation.model_fields
    citation = EVENTS["citation"].model_fields
    return fields | {f"timings_ms.{k}" for k in timings} | {f"citations.{k}" for k in citation}


def test_the_extractive_answer_fits_the_response_model(app):
    from qa.contract import AskRequest

    response = app.extensions["qa"].ask(AskRequest(QUESTION))
    assert service_keys(response) <= model_keys()  # nothing the model would drop
    assert AskResponse.model_validate(response).model_dump()["answer"] == response["answer"]


def test_the_generative_answer_fits_the_response_model(settings, fake_embedder):
    from qa.contract import AskRequest

    for stub in running():
        stub.responder = lambda body: Reply(f"{first_sentence(passages(body)[1])} [1]")
        app = create_app(settings, embedder_factory=lambda: fake_embedder,
                         answer_model="openai:stub-model", openai_base_url=stub.url)
        response = app.extensions["qa"].ask(AskRequest(QUESTION))
        assert response["model"] == "openai:stub-model" and response["verified"]
        assert service_keys(response) <= model_keys()
        AskResponse.model_validate(response)
        app.extensions["qa"].close()


def test_optional_fields_are_left_out_and_citation_metadata_is_null(client):
    body = client.post("/ask", json={"question": QUESTION}).get_json()
    assert not {"fallback", "requested_model", "verified", "verification"} & set(body)
    assert "first_token" not in body["timings_ms"]
    for citation in body["citations"]:
        assert citation["published"] is None and citation["url"] is None
        assert "verified" not in citation


def test_filters_are_validated_and_passed_to_the_service(app, monkeypatch):
    seen = []
    real = app.extensions["qa"].ask

    def spy(request):
        seen.append(request)
        return real(request)

    monkeypatch.setattr(app.extensions["qa"], "ask", spy)
    client = app.test_client()
    ok = client.post("/ask", json={"question": QUESTION, "filters": {
        "published_after": "2024-01-01", "published_before": "2024-06-30",
        "sources": ["BBC"]}})
    assert ok.status_code == 200
    assert str(seen[0].filters.published_after) == "2024-01-01"
    assert seen[0].filters.sources == ["BBC"]
    for bad in ({"published_after": "2024-13-01"}, {"published_after": "yesterday"},
                {"published_before": 20240101}, {"source": ["BBC"]}, {"sources": "BBC"}):
        r = client.post("/ask", json={"question": QUESTION, "filters": bad})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_filters", bad
