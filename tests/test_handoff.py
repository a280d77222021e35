"""``POST /ingest`` and ``qa.handoff``: `flask ingest` while a server holds the store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qa import handoff
from qa.handoff import TOKEN_HEADER
from vectorstore.article import Rejected
from vectorstore.ingest import IngestReport

ARTICLE = ("Harbour council approves ferry budget\n\n"
           "The Harbour council voted 7 to 2 on Tuesday to spend 3.4 million pounds on a new "
           "electric ferry, which will enter service in May.\n")


@pytest.fixture
def news(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "ferry.txt").write_text(ARTICLE)
    return folder


def post(client, body, token: str | None, remote: str = "127.0.0.1"):
    headers = {TOKEN_HEADER: token} if token is not None else {}
    return client.post("/ingest", json=body, headers=headers,
                       environ_base={"REMOTE_ADDR": remote})


def lines(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_ingest_reads_local_paths_and_streams_the_report(app, client, news: Path):
    token = app.extensions["qa"].ingest_token
    response = post(client, {"paths": [str(news)]}, token)
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    events = lines(response)
    report = events[-1]["report"]
    assert report["articles"] == 1 and report["added"] >= 1
    assert all("progress" in e for e in events[:-1])
    assert client.get("/articles/ferry").get_json()["title"].startswith("Harbour council")
    # Idempotent, as `flask ingest` is.
    again = lines(post(client, {"paths": [str(news)]}, token))[-1]["report"]
    assert again["added"] == 0 and again["unchanged"] == report["added"]


def test_a_missing_file_is_reported_as_flask_ingest_reports_it(app, client, tmp_path: Path):
    token = app.extensions["qa"].ingest_token
    report = lines(post(client, {"paths": [str(tmp_path / "nope.txt")]}, token))[-1]["report"]
    assert report["articles"] == 0
    assert report["rejected"] == [{"path": str(tmp_path / "nope.txt"), "reason": "no such file",
                                   "where": ""}]


@pytest.mark.parametrize("token, remote", [(None, "127.0.0.1"), ("wrong", "127.0.0.1"),
                                           ("right", "10.1.2.3"), ("right", "::ffff:10.0.0.1")])
def test_ingest_needs_the_token_and_this_machine(app, client, news: Path, token, remote):
    if token == "right":
        token = app.extensions["qa"].ingest_token
    response = post(client, {"paths": [str(news)]}, token, remote)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "ingest_token"
    assert client.get("/articles/ferry").status_code == 404  # nothing was read


def test_ingest_over_ipv6_loopback(app, client, news: Path):
    response = post(client, {"paths": [str(news)]}, app.extensions["qa"].ingest_token, "::1")
    assert response.status_code == 200


@pytest.mark.parametrize("body", [{"paths": ["relative/news"]}, {"paths": []},
                                  {"paths": "/tmp"}, {}, {"paths": ["/x"] * 1001}])
def test_ingest_paths_must_be_absolute_and_few(app, client, body):
    response = post(client, body, app.extensions["qa"].ingest_token)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("paths ")


def test_ingest_with_an_api_key_needs_it_too(tmp_path, seeds_dir, fake_embedder, news: Path):
    from app import create_app
    from qa.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "keyed", seeds_dir=seeds_dir,
                              answer_model="extractive", api_key="sesame"),
                     embedder_factory=lambda: fake_embedder)
    client = app.test_client()
    token = app.extensions["qa"].ingest_token
    assert post(client, {"paths": [str(news)]}, token).status_code == 401
    keyed = client.post("/ingest", json={"paths": [str(news)]},
                        headers={TOKEN_HEADER: token, "X-API-Key": "sesame"})
    assert keyed.status_code == 200
    app.extensions["qa"].close()


def test_the_address_file_is_private_and_found_only_for_the_lock_holder(tmp_path: Path):
    handoff.advertise(tmp_path, "http://127.0.0.1:8123", "t0ken")
    path = tmp_path / handoff.ADDRESS_FILE
    assert path.stat().st_mode & 0o777 == 0o600  # the token proves access to the directory
    assert handoff.find(tmp_path, os.getpid()) == handoff.Address(os.getpid(),
                                                                  "http://127.0.0.1:8123", "t0ken")
    assert handoff.find(tmp_path, os.getpid() + 1) is None  # left by a process now gone
    assert handoff.find(tmp_path, None) is None
    handoff.withdraw(tmp_path)
    assert not path.exists()
    assert handoff.find(tmp_path, os.getpid()) is None


def test_another_process_address_is_not_withdrawn(tmp_path: Path):
    (tmp_path / handoff.ADDRESS_FILE).write_text(
        json.dumps({"pid": os.getpid() + 1, "url": "http://127.0.0.1:1", "token": "x"}))
    handoff.withdraw(tmp_path)
    assert (tmp_path / handoff.ADDRESS_FILE).exists()


@pytest.mark.parametrize("host, url", [("127.0.0.1", "http://127.0.0.1:80"),
                                       ("0.0.0.0", "http://127.0.0.1:80"),
                                       ("::", "http://[::1]:80"), ("::1", "http://[::1]:80"),
                                       ("localhost", "http://localhost:80")])
def test_local_url(host, url):
    assert handoff.local_url(host, 80) == url


def test_the_report_survives_the_wire():
    report = IngestReport(articles=3, added=5, unchanged=2, removed=1, articles_removed=1,
                          superseded=1, rejected=[Rejected("news.csv", "no text", "row 4")],
                          cleaned=[("news/1", "removed 2 hidden characters")], seconds=1.25)
    assert IngestReport.from_json(json.loads(json.dumps(report.to_json()))) == report
