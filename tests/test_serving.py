"""Serving: ``python app.py`` under waitress, the single-process embedded store, /readyz."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app import create_app
from qa.cite import citation_problems
from tests.fakes import FakeEmbedder
from tests.servers import ROOT, app_env, free_port, run_ingest, start_app, stop, wait_until

QUESTION = "How many drones can Ukraine produce each year?"


def started(env: dict, module: str = "tests.fake_app"):
    return start_app(env, module=module)


@pytest.mark.slow
def test_python_app_py_serves_with_waitress_and_the_real_model(tmp_path: Path):
    """``python app.py`` exactly as documented: waitress, warm model, first-start seeding."""
    port = free_port()
    server = start_app(app_env(tmp_path / "data", ROOT / "seeds", port, QA_ANSWER_MODEL="local"),
                       module="app.py",
                       timeout=300)
    base = f"http://127.0.0.1:{port}"
    try:
        health = requests.get(f"{base}/healthz", timeout=5)
        assert health.json() == {"status": "ok"}
        assert health.headers["Server"] == "news-qa"  # waitress, not the dev server
        # Ready once the model is warm (it warms while the server listens).
        wait_until(lambda: requests.get(f"{base}/readyz", timeout=10).ok, server, 120, "warm")
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert list((tmp_path / "data" / "llama").glob("opening-*.kv"))  # kept for next start
        started_at = time.perf_counter()
        answer = requests.post(f"{base}/ask", json={"question": QUESTION}, timeout=60).json()
        assert time.perf_counter() - started_at < 10  # warm once ready
        assert answer["model"] == "local" and not answer["degraded"]
        assert "8 million" in answer["answer"] and not answer["abstained"]

        def text(aid):
            return requests.get(f"{base}/articles/{aid}", timeout=5).json().get("text")

        assert citation_problems(answer["answer"], answer["citations"], text) == []
        page = requests.get(base, timeout=5)
        assert page.headers["Content-Type"].startswith("text/html")
    finally:
        log = stop(server)
    assert "serving on" in log and "Traceback" not in log


def test_fake_app_serves_like_python_app_py(tmp_path: Path):
    port = free_port()
    server = started(app_env(tmp_path / "data", ROOT / "seeds", port, QA_THREADS="4"))
    base = f"http://127.0.0.1:{port}"
    try:
        assert requests.get(f"{base}/healthz", timeout=5).headers["Server"] == "news-qa"
        answer = requests.post(f"{base}/ask", json={"question": QUESTION}, timeout=30)
        assert answer.status_code == 200 and answer.json()["citations"]
        # The body limit holds on the wire too, as a JSON 413.
        big = requests.post(f"{base}/ask", data=b"x" * (300 * 1024),
                            headers={"Content-Type": "application/json"}, timeout=30)
        assert big.status_code == 413 and big.json()["error"]["code"]
    finally:
        stop(server)


def test_second_process_on_the_same_data_dir_fails_fast(tmp_path: Path):
    data = tmp_path / "data"
    first = started(app_env(data, ROOT / "seeds", free_port()))
    try:
        # The real entry point: it must refuse before loading the model or listening.
        second_port = free_port()
        began = time.perf_counter()
        second = subprocess.run(
            [sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env=app_env(data, ROOT / "seeds", second_port),
        )
        took = time.perf_counter() - began
        assert second.returncode != 0
        assert "in use by another process" in second.stderr
        assert "QA_CHROMA_HOST" in second.stderr  # says how to run several processes
        assert "Traceback" not in second.stderr
        assert took < 30, took  # no model load (that takes longer), no waiting for a lock
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", second_port)) != 0  # it never listened

        # The server wrote its address: `flask ingest` hands it the paths instead.
        ingest = run_ingest(app_env(data, ROOT / "seeds"), [ROOT / "seeds"], module="app")
        assert ingest.returncode == 0, ingest.stderr
        assert "holds the store" in ingest.stderr and " 0 chunks added" in ingest.stdout
    finally:
        stop(first)
    # Once the holder is gone, the data directory is free again (the lock is released
    # by the kernel, even after SIGKILL).
    again = started(app_env(data, ROOT / "seeds", free_port()))
    stop(again)


def test_flask_ingest_beside_a_running_server_hands_it_the_paths(tmp_path: Path):
    """The README's `make run` then `flask ingest my-news/`: the server ingests them."""
    data, port = tmp_path / "data", free_port()
    news = tmp_path / "news"
    news.mkdir()
    (news / "ferry.txt").write_text(
        "Harbour council approves ferry budget\n\nThe Harbour council voted 7 to 2 on "
        "Tuesday to spend 3.4 million pounds on a new electric ferry.\n")
    server = started(app_env(data, ROOT / "seeds", port))
    base = f"http://127.0.0.1:{port}"
    try:
        address = json.loads((data / "server.json").read_text())
        assert address["url"] == base and address["pid"] == server.pid
        env = app_env(data, ROOT / "seeds")
        ingest = run_ingest(env, [news])
        assert ingest.returncode == 0, ingest.stderr
        assert ingest.stdout.startswith("1 articles: 1 chunks added, 0 unchanged")
        answer = requests.post(f"{base}/ask", timeout=30,
                               json={"question": "How much will the electric ferry cost?"})
        assert answer.json()["citations"][0]["article_id"] == "ferry"
        missing = run_ingest(env, [tmp_path / "nowhere"])
        assert missing.returncode == 0 and "skipped" in missing.stdout
        # A token that is not the server's: refused, said plainly.
        (data / "server.json").write_text(json.dumps({**address, "token": "guess"}))
        refused = run_ingest(env, [news])
        assert refused.returncode != 0 and "refused the ingest" in refused.stderr
        assert "Traceback" not in refused.stderr
        # An address left by another process: the store's holder is not handed anything.
        (data / "server.json").write_text(json.dumps({**address, "pid": 1}))
        stale = run_ingest(env, [news])
        assert stale.returncode != 0 and "in use by another process" in stale.stderr
    finally:
        stop(server)
    assert not (data / "server.json").exists() or \
        json.loads((data / "server.json").read_text())["pid"] == 1


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ready"
    assert set(body["checks"]) == {"store", "documents", "embedder", "model"}
    assert all(check["ok"] for check in body["checks"].values())
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_names_a_dead_chroma_server(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # closed again: connections are refused
    app = create_app(settings.replace(chroma_host="127.0.0.1", chroma_port=dead_port,
                                      ready_timeout_s=5.0),
                     embedder_factory=FakeEmbedder)
    client = app.test_client()
    began = time.perf_counter()
    response = client.get("/readyz")
    assert time.perf_counter() - began < 6
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert body["checks"]["store"]["ok"] is False
    assert body["checks"]["embedder"]["ok"] is True
    assert str(dead_port) not in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # liveness touches no dependency


def test_readyz_answers_in_bounded_time_when_a_probe_hangs(settings):
    class HangingEmbedder(FakeEmbedder):
        def embed_query(self, text):
            time.sleep(3)
            return super().embed_query(text)

    app = create_app(settings.replace(ready_timeout_s=0.5), embedder_factory=HangingEmbedder)
    client = app.test_client()
    client.get("/articles")  # open the stores first
    for _ in range(2):  # the second check must not start a second hanging probe
        began = time.perf_counter()
        body = client.get("/readyz").get_json()
        assert time.perf_counter() - began < 1.5
        assert body["checks"]["embedder"] == {"ok": False, "error": "no answer within 0.5 s"}
        assert body["checks"]["store"]["ok"] and body["checks"]["documents"]["ok"]
    readiness = app.extensions["readiness"]
    assert sum(not f.done() for f in readiness._running.values()) <= 1
    app.extensions["qa"].close()
