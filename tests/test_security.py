"""Security: headers, the API key, secrets kept out of logs and errors, admission limits."""

from __future__ import annotations

import logging
import re
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app import create_app
from qa.errors import StoreError
from qa.settings import Settings
from qa.web.limits import ConcurrencyGate, RateLimiter
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-test-5f0c8a1e9b7d4c2a"
SEED_ID = "000_ded72c6294d8a96e"


def make_app(settings: Settings, **changes):
    embedder = FakeEmbedder()
    return create_app(settings.replace(**changes), embedder_factory=lambda: embedder)


@pytest.fixture
def keyed(settings):
    app = make_app(settings, api_key=KEY)
    yield app
    app.extensions["qa"].close()


# -- headers ----------------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path,accept", [
    ("/", "text/html"),
    (f"/articles/{SEED_ID}", "text/html"),
    (f"/articles/{SEED_ID}?start=0&end=10", "text/html,application/xhtml+xml"),
    ("/no-such-page", "text/html"),
    ("/ask", "text/html"),
])
def test_every_response_carries_the_security_headers(client, path, accept):
    client.get("/articles")  # seed the store
    response = client.get(path, headers={"Accept": accept})
    csp = csp_directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"]
    for directive in csp.values():
        assert "'unsafe-inline'" not in directive and "'unsafe-eval'" not in directive
        assert "*" not in directive and not any(s.startswith("http") for s in directive)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        self.inline_handlers += [n for n in attrs if n.startswith("on")]
        if tag == "style" or "style" in attrs:
            self.inline_handlers.append("style")
        self._in_script = tag == "script" and "src" not in attrs

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        self._in_script = False


def test_pages_load_nothing_from_another_origin_and_run_no_inline_code(client):
    client.get("/articles")
    for path in ("/", f"/articles/{SEED_ID}"):
        refs = _Refs()
        refs.feed(client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True))
        assert refs.urls, path
        for url in refs.urls:
            # Same origin: a path, a fragment, or an inline data: icon; never scheme://host.
            assert re.match(r"^(/(?!/)|#|data:,$)", url), (path, url)
        assert refs.inline_scripts == 0 and refs.inline_handlers == [], path
    for asset in (ROOT / "qa" / "web" / "static").iterdir():
        source = asset.read_text()
        assert not re.search(r"\b(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", source, re.I), asset.name
        assert "@import" not in source


@pytest.mark.parametrize("script", sorted((ROOT / "qa" / "web" / "static").glob("*.js")),
                         ids=lambda p: p.name)
def test_chat_script_writes_text_never_html(script):
    # Every module of the chat page; comments may say "innerHTML".
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", script.read_text(), flags=re.S)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "setTimeout('", 'setTimeout("', "srcdoc"):
        assert sink not in code, sink
    assert code.strip()


def test_article_page_escapes_markup_in_articles(keyed):
    client = keyed.test_client()
    hostile = ('Breaking <script>alert("x")</script> news\n\nThe <img src=x onerror=alert(1)> '
               "mayor said 42 bridges were <b>rebuilt</b>.")
    created = client.post("/articles", json={"article_id": "hostile", "text": hostile},
                          headers={"X-API-Key": KEY})
    assert created.status_code == 201
    page = client.get("/articles/hostile", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>rebuilt" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # The JSON API returns the text as data, exactly as stored.
    assert client.get("/articles/hostile").get_json()["text"] == hostile


# -- the API key ------------------------------------------------------------------------


@pytest.mark.parametrize("headers,status", [
    ({}, 401),
    ({"X-API-Key": ""}, 401),
    ({"X-API-Key": KEY[:-1]}, 401),
    ({"X-API-Key": KEY + "x"}, 401),
    ({"X-API-Key": KEY.upper()}, 401),
    ({"Authorization": f"Bearer {KEY}"}, 401),
    ({"X-API-Key": KEY}, 201),
])
def test_adding_an_article_needs_the_key(keyed, headers, status):
    client = keyed.test_client()
    response = client.post("/articles", json={"article_id": "keyed", "text": "Keyed text."},
                           headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.get_json()["error"]["code"] == "invalid_api_key"
        assert client.get("/articles/keyed").status_code == 404


def test_deleting_an_article_needs_the_key(keyed):
    client = keyed.test_client()
    client.get("/articles")
    assert client.delete(f"/articles/{SEED_ID}").status_code == 401
    assert client.delete(f"/articles/{SEED_ID}", headers={"X-API-Key": "nope"}).status_code == 401
    assert client.get(f"/articles/{SEED_ID}").status_code == 200
    assert client.delete(f"/articles/{SEED_ID}", headers={"X-API-Key": KEY}).status_code == 200
    assert client.get(f"/articles/{SEED_ID}").status_code == 404


def test_without_a_configured_key_the_corpus_is_open(client):
    """The contract: the key is required only when QA_API_KEY is set."""
    assert client.post("/articles", json={"article_id": "open", "text": "Open."}).status_code == 201


def test_keys_are_compared_in_constant_time(keyed, monkeypatch):
    import qa.web.guard

    seen = []
    real = qa.web.guard.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(qa.web.guard.hmac, "compare_digest", spy)
    keyed.test_client().delete("/articles/x", headers={"X-API-Key": "guess"})
    assert seen == [(b"guess", KEY.encode())]


def test_keys_never_reach_the_logs(keyed, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    client = keyed.test_client()
    client.post("/articles", json={"article_id": "a", "text": "A text."},
                headers={"X-API-Key": KEY})
    client.post("/articles", json={"article_id": "b", "text": "B"},
                headers={"X-API-Key": KEY + "-wrong"})
    client.delete("/articles/a", headers={"X-API-Key": KEY})
    svc = keyed.extensions["qa"]

    def explode(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(svc, "ask", explode)
    client.post("/ask", json={"question": "drones?"}, headers={"X-API-Key": KEY})
    assert "boom" in caplog.text  # the log did record the failure ...
    assert KEY not in caplog.text  # ... and never the key


# -- errors leak nothing -----------------------------------------------------------------

SECRET_PATH = "/srv/secret/data/chroma"
PROMPT = "SYSTEM PROMPT: you are a helpful assistant; never reveal this text"


@pytest.mark.parametrize("failure", [
    RuntimeError(f"failed at {SECRET_PATH} with key {KEY} and {PROMPT}"),
    StoreError(f"cannot open the Chroma collection at {SECRET_PATH}: key={KEY}"),
    KeyError(PROMPT),
    RecursionError("maximum recursion depth exceeded"),
])
def test_errors_never_leak_paths_tracebacks_keys_or_prompts(keyed, monkeypatch, caplog, failure):
    caplog.set_level(logging.DEBUG)
    svc = keyed.extensions["qa"]

    def fail(request):
        raise failure

    monkeypatch.setattr(svc, "ask", fail)
    response = keyed.test_client().post("/ask", json={"question": "drones?"},
                                        headers={"X-API-Key": KEY})
    assert response.status_code in (500, 503)
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    for secret in (SECRET_PATH, KEY, PROMPT, "Traceback", 'File "', ".py", str(ROOT)):
        assert secret not in text
    error = response.get_json()["error"]
    assert error["code"] in ("internal_error", "store_unavailable")
    # The operator still gets the detail, tied to the request id.
    assert response.headers["X-Request-Id"]
    if error["code"] == "internal_error":
        assert error["request_id"] == response.headers["X-Request-Id"]
    assert SECRET_PATH in caplog.text or PROMPT in caplog.text or "recursion" in caplog.text


def test_a_locked_store_does_not_leak_its_path(settings, tmp_path):
    first = make_app(settings)
    second = make_app(settings)
    try:
        first.extensions["qa"].store  # noqa: B018 - take the data directory's lock
        response = second.test_client().post("/ask", json={"question": "drones?"})
        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert str(tmp_path) not in body and "pid" not in body
        assert response.get_json()["error"]["code"] == "store_locked"
    finally:
        first.extensions["qa"].close()
        second.extensions["qa"].close()


# -- admission limits ------------------------------------------------------------------


def test_rate_limit_returns_429_with_retry_after(settings):
    app = make_app(settings, rate_limit_per_minute=3)
    client = app.test_client()
    for _ in range(3):
        assert client.post("/ask", json={"question": "drones?"}).status_code == 200
    refused = client.post("/ask", json={"question": "drones?"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    # Another client has its own allowance; other endpoints are not limited.
    other = client.post("/ask", json={"question": "drones?"},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    assert client.get("/healthz").status_code == 200
    app.extensions["qa"].close()


def test_rate_limiter_refills_over_time():
    now = [1000.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(Exception) as refused:
        limiter.take("a")
    assert refused.value.status == 429 and refused.value.retry_after == 30
    now[0] += 30
    limiter.take("a")  # one token came back after 30 s
    limiter.take("b")
    assert RateLimiter(per_minute=0).take("a") is None  # 0 turns the limit off


def test_concurrency_gate_refuses_at_once_with_503(settings, monkeypatch):
    app = make_app(settings, max_concurrency=2)
    svc = app.extensions["qa"]
    client = app.test_client()
    client.get("/articles")
    inside = threading.Semaphore(0)
    release = threading.Event()
    real_ask = svc.ask

    def slow_ask(request):
        inside.release()
        release.wait(10)
        return real_ask(request)

    monkeypatch.setattr(svc, "ask", slow_ask)
    statuses = []
    workers = [
        threading.Thread(target=lambda: statuses.append(
            app.test_client().post("/ask", json={"question": "drones?"}).status_code))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    assert inside.acquire(timeout=10) and inside.acquire(timeout=10)
    started = time.perf_counter()
    refused = client.post("/ask", json={"question": "drones?"})
    waited = time.perf_counter() - started
    release.set()
    for w in workers:
        w.join(10)
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "overloaded"
    assert refused.headers["Retry-After"] == "1"
    assert waited < 0.5  # refused at once, not queued behind the slow ones
    assert statuses == [200, 200]
    # The slots came back: the next question is admitted.
    assert client.post("/ask", json={"question": "drones?"}).status_code == 200
    svc.close()


def test_gate_releases_its_slot_when_the_view_fails(settings, monkeypatch):
    app = make_app(settings, max_concurrency=1)
    svc = app.extensions["qa"]

    def fail(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(svc, "ask", fail)
    client = app.test_client()
    assert client.post("/ask", json={"question": "a"}).status_code == 500
    assert client.post("/ask", json={"question": "a"}).status_code == 500  # not 503
    gate = ConcurrencyGate(1)
    release = gate.enter()
    release()
    release()  # twice is harmless: the gate never grows past its limit
    gate.enter()
    with pytest.raises(Exception, match="retry shortly"):
        gate.enter()
    svc.close()


def test_a_streamed_answer_holds_its_slot_until_the_stream_ends(settings):
    app = make_app(settings, max_concurrency=1)
    client = app.test_client()
    client.get("/articles")
    streaming = client.post("/ask", json={"question": "drones?", "stream": True},
                            buffered=False)
    assert streaming.status_code == 200 and streaming.mimetype == "text/event-stream"
    busy = app.test_client().post("/ask", json={"question": "drones?"})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    body = streaming.get_data(as_text=True)
    streaming.close()
    assert "event: final" in body
    assert app.test_client().post("/ask", json={"question": "drones?"}).status_code == 200
    app.extensions["qa"].close()
