"""The HTTP contract through Flask's test client (fake embedder, real Chroma and SQLite)."""

import pytest

from qa.cite import citation_problems

TOKEN_ARTICLE = ("Harbour festival\nThe quandrilex bridge will open in May. "
                 "It cost 40 million euros to build.")


@pytest.fixture
def seeded(client, seeds_dir):
    (seeds_dir / "900_token.txt").write_text(TOKEN_ARTICLE)
    return client


def text_of(client):
    return lambda aid: (client.get(f"/articles/{aid}").get_json() or {}).get("text")


def test_ask_answers_in_the_contract_shape(seeded):
    r = seeded.post("/ask", json={"question": "When will the quandrilex bridge open?"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert set(body) >= {"answer", "abstained", "citations", "model", "timings_ms"}
    assert set(body["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert body["model"] == "extractive" and body["abstained"] is False
    assert "May" in body["answer"]
    [citation] = body["citations"]
    assert citation["article_id"] == "900_token"
    assert citation["chunk_id"].startswith("900_token:")
    assert citation_problems(body["answer"], body["citations"], text_of(seeded)) == []


def test_every_marker_has_one_citation_and_quotes_sit_at_offsets(seeded):
    for q in ["How much did the quandrilex bridge cost?", "Who met Rutte in Kyiv?",
              "What is the PURL programme?"]:
        body = seeded.post("/ask", json={"question": q}).get_json()
        assert citation_problems(body["answer"], body["citations"], text_of(seeded)) == []


def test_history_is_accepted_and_follow_ups_are_rewritten(seeded):
    r = seeded.post("/ask", json={
        "question": "And how much did it cost?",
        "history": [{"role": "user", "content": "When will the quandrilex bridge open?"},
                    {"role": "assistant", "content": "In May [1].",
                     "citations": [{"article_id": "900_token"}]}],
    })
    body = r.get_json()
    assert r.status_code == 200
    assert "quandrilex" in body["standalone_question"]
    assert body["retrieved"][0]["article_id"] == "900_token"


def test_article_json_and_html_with_highlight(seeded):
    body = seeded.get("/articles/900_token").get_json()
    assert body["title"] == "Harbour festival" and body["text"] == TOKEN_ARTICLE
    start = TOKEN_ARTICLE.index("It cost")
    html = seeded.get(f"/articles/900_token?start={start}&end={start + 7}",
                      headers={"Accept": "text/html"})
    assert html.mimetype == "text/html"
    assert '<mark id="quote">It cost</mark>' in html.get_data(as_text=True)


def test_article_page_escapes_markup(seeded, seeds_dir, app):
    # Not an HTML element name, so ingest screening keeps it: the template must escape it.
    (seeds_dir / "901_xss.txt").write_text("Odd <blink onclick=go()>tags</blink>\nA & B.")
    app.extensions["qa"].ingestor.ingest_paths([seeds_dir])
    html = seeded.get("/articles/901_xss", headers={"Accept": "text/html"}).get_data(True)
    assert "<blink" not in html and "&lt;blink onclick=go()&gt;" in html


def test_articles_list_and_search(seeded):
    page = seeded.get("/articles").get_json()
    assert {"article_id": "900_token", "title": "Harbour festival", "published": None,
            "source": None, "url": None} in page["articles"]
    assert page["total"] == len(page["articles"]) == 6
    results = seeded.get("/search?q=quandrilex bridge&k=3").get_json()["results"]
    assert results[0]["article_id"] == "900_token"


def test_unknown_article_is_a_json_404(seeded):
    r = seeded.get("/articles/nope")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "article_not_found"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": "question=hi", "content_type": "application/x-www-form-urlencoded"}, 415,
         "unsupported_media_type"),
        ({"json": {}}, 400, "invalid_question"),
        ({"json": {"question": "   "}}, 400, "invalid_question"),
        ({"json": {"question": "x" * 2001}}, 400, "invalid_question"),
        ({"json": {"question": 42}}, 400, "invalid_question"),
        ({"json": {"question": "hi", "history": "nope"}}, 400, "invalid_history"),
        ({"json": ["question"]}, 400, "invalid_request"),
        ({"data": "x" * 300_000, "content_type": "application/json"}, 413,
         "request_entity_too_large"),
    ],
)
def test_bad_input_gets_a_json_error(client, kwargs, status, code):
    r = client.post("/ask", **kwargs)
    assert r.status_code == status
    assert r.mimetype == "application/json"
    assert r.get_json()["error"]["code"] == code
    assert "Traceback" not in r.get_data(as_text=True)


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").get_json()["error"]["code"] == "not_found"
    r = client.get("/ask")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"


def test_unexpected_failure_is_a_generic_json_500(client, app, monkeypatch):
    def boom(request):
        raise RuntimeError("secret /etc/path detail")

    monkeypatch.setattr(app.extensions["qa"], "ask", boom)
    r = client.post("/ask", json={"question": "hello there"})
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert r.get_json()["error"]["code"] == "internal_error" and "/etc/path" not in body


def test_chat_page_is_served_without_inline_script(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="question"' in html
    assert "<script>" not in html and "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert client.get("/static/chat.js").status_code == 200


def test_delete_removes_the_article_and_every_chunk(seeded, app):
    seeded.get("/articles")  # seed the store
    store = app.extensions["qa"].store
    assert store.ids_of("900_token")
    assert seeded.delete("/articles/900_token").status_code == 200
    assert store.ids_of("900_token") == []
    assert not any(cid.startswith("900_token:") for cid in store.hashes())
    assert seeded.get("/articles/900_token").status_code == 404
    assert seeded.delete("/articles/900_token").status_code == 404


def test_articles_are_listed_a_page_at_a_time(client):
    everything = client.get("/articles").get_json()
    assert (everything["total"], everything["limit"], everything["offset"]) == (5, 100, 0)
    ids = [a["article_id"] for a in everything["articles"]]
    assert ids == sorted(ids)
    page = client.get("/articles?limit=2&offset=1").get_json()
    assert [a["article_id"] for a in page["articles"]] == ids[1:3] and page["total"] == 5
    assert client.get("/articles?offset=5").get_json()["articles"] == []
    assert client.get(f"/articles?offset={10**30}").get_json()["articles"] == []
    for bad in ("limit=0", "limit=1001", "offset=-1", "limit=ten", "limit=1.5"):
        r = client.get(f"/articles?{bad}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_query", bad
    assert client.get("/articles?limit=1000").status_code == 200


def test_an_article_may_come_with_its_title_date_source_and_url(client):
    body = {"article_id": "meta/1", "text": "harbour news\nthe quay reopened on monday.",
            "title": "Quay reopens", "published": "2024-09-01T08:30:00Z",
            "source": "Harbour Herald", "url": "https://herald.example/quay"}
    assert client.post("/articles", json=body).status_code == 201
    stored = client.get("/articles/meta/1").get_json()
    assert stored["title"] == "Quay reopens" and stored["text"] == body["text"]
    assert set(stored) == {"article_id", "title", "text", "published", "source", "url"}
    listed = client.get("/articles?limit=1000").get_json()["articles"]
    assert {k: v for k, v in stored.items() if k != "text"} in listed  # the same metadata
    for field, bad in (("published", "2024-02-30"), ("published", "yesterday"),
                       ("url", "javascript:alert(1)"), ("source", ""), ("title", " \u200b")):
        r = client.post("/articles", json={**body, field: bad})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_article", field
