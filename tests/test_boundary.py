"""The edge of the service: trusted hosts (DNS rebinding), same-origin corpus writes, and
the errors waitress raises itself, as JSON with the security headers."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from app import create_app
from qa.web.server import make_server
from tests.fakes import FakeEmbedder

ARTICLE = {"article_id": "origin-test", "text": "Harbour news\nThe quay reopened on Monday."}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "LOCALHOST:5000",
                                  "[::1]:8000", "localhost."])
def test_loopback_hosts_are_served(client, host):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "", "10.0.0.5"])
def test_a_foreign_host_is_refused_with_json(client, host):
    for method, path in (("GET", "/healthz"), ("POST", "/ask"), ("GET", "/"),
                         ("DELETE", "/articles/000_ded72c6294d8a96e")):
        response = client.open(path, method=method, headers={"Host": host},
                               json={"question": "drones?"} if method == "POST" else None)
        assert response.status_code == 400, (host, path)
        assert response.get_json()["error"]["code"] == "untrusted_host"
        assert response.headers["Content-Security-Policy"]
        assert host.split(":")[0] not in response.get_data(as_text=True) or not host


def test_allowed_hosts_and_the_bind_host_are_served(settings):
    embedder = FakeEmbedder()
    app = create_app(settings.replace(allowed_hosts=("news.example", ".example.org")),
                     embedder_factory=lambda: embedder)
    client = app.test_client()
    for host, status in (("news.example", 200), ("a.example.org", 200), ("example.org", 200),
                         ("localhost", 400), ("evilexample.org", 400)):
        assert client.get("/healthz", headers={"Host": host}).status_code == status, host
    bound = create_app(settings.replace(host="10.0.0.5"), embedder_factory=lambda: embedder)
    assert bound.test_client().get("/healthz", headers={"Host": "10.0.0.5:8000"}
                                   ).status_code == 200
    anything = create_app(settings.replace(allowed_hosts=("*",)),
                          embedder_factory=lambda: embedder)
    assert anything.test_client().get("/healthz", headers={"Host": "x.test"}).status_code == 200


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "http://localhost:8001"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_cross_site_corpus_writes_are_refused_without_an_api_key(client, headers):
    created = client.post("/articles", json=ARTICLE, headers=headers)
    assert created.status_code == 403 and created.get_json()["error"]["code"] == "cross_origin"
    deleted = client.delete("/articles/000_ded72c6294d8a96e", headers=headers)
    assert deleted.status_code == 403
    assert client.get("/articles/origin-test").status_code == 404
    assert client.get("/articles/000_ded72c6294d8a96e").status_code == 200
    # Reading and asking are not corpus changes.
    assert client.post("/ask", json={"question": "drones?"}, headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [
    {},  # curl, scripts
    {"Origin": "http://localhost"},  # the chat page itself
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},  # typed by the user
])
def test_same_origin_and_non_browser_writes_are_accepted(client, headers):
    assert client.post("/articles", json=ARTICLE, headers=headers).status_code in (200, 201)
    assert client.delete("/articles/origin-test", headers=headers).status_code == 200


@pytest.fixture
def waitress_url(app):
    server = make_server(app, host="127.0.0.1", port=0, threads=2, ident="news-qa")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_host, server.effective_port
    server.close()


def raw(address: tuple[str, int], request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``request`` as it is; return the status line, headers and body."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\rb\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\x00secret-token\r\n\r\n", 400),
    (b"POST /ask HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
])
def test_waitress_errors_are_json_with_the_security_headers(waitress_url, request_bytes, status):
    line, headers, body = raw(waitress_url, request_bytes)
    assert line.split(" ", 2)[1] == str(status), line
    assert headers["content-type"] == "application/json"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    error = json.loads(body)["error"]
    assert error["code"] and error["message"]
    assert b"secret-token" not in body and b"waitress" not in body.lower()
    assert b"generated by" not in body


def test_an_oversized_header_gets_a_json_431_or_a_reset(waitress_url):
    """Waitress stops reading at its header limit and closes: the client may see a reset
    before the response (docs/production.md: a front proxy must bound header sizes)."""
    try:
        line, headers, body = raw(waitress_url, b"GET / HTTP/1.1\r\nHost: localhost\r\n"
                                                b"X-Big: " + b"a" * 300_000 + b"\r\n\r\n")
    except (ConnectionResetError, BrokenPipeError):
        return
    assert " 431 " in line and headers["content-type"] == "application/json"


def test_the_app_still_answers_through_waitress(waitress_url):
    line, headers, body = raw(waitress_url, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            b"Connection: close\r\n\r\n")
    assert line.endswith("200 OK") and body == b'{"status":"ok"}'
