"""Scale mode: a real ``chroma run`` on loopback, several app processes, ingest while serving."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import requests

from app import create_app
from qa.cite import citation_problems
from qa.errors import StoreError
from tests.fakes import FakeEmbedder
from tests.servers import (
    BIN,
    ROOT,
    app_env,
    free_port,
    run_ingest,
    spawn,
    start_app,
    start_chroma,
    stop,
)
from vectorstore.store import VectorStore

QUESTION = "How many drones can Ukraine produce each year?"
NEW_ID = "quillbrook_ferry"
NEW_TEXT = (
    "Quillbrook ferry sets a record\n\n"
    "The Quillbrook ferry carried 4,512 passengers across the Varna strait in March, "
    "the port authority said on Tuesday. Officials expect the route to grow next year."
)
NEW_QUESTION = "How many passengers did the Quillbrook ferry carry?"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    proc, port = start_chroma(tmp_path_factory.mktemp("chroma"))
    yield port
    stop(proc)


def server_env(tmp_path: Path, chroma_port: int, collection: str, port: int | None = None,
               **extra) -> dict:
    return app_env(tmp_path / "data", ROOT / "seeds", port, QA_CHROMA_HOST="127.0.0.1",
                   QA_CHROMA_PORT=str(chroma_port), QA_COLLECTION=collection, **extra)


def ask(base: str, question: str) -> dict:
    response = requests.post(f"{base}/ask", json={"question": question}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def grounded(base: str, answer: dict) -> list[str]:
    def text(aid):
        got = requests.get(f"{base}/articles/{aid}", timeout=10)
        return got.json()["text"] if got.ok else None

    return citation_problems(answer["answer"], answer["citations"], text)


def cites(answer: dict, article_id: str) -> bool:
    return any(c["article_id"] == article_id for c in answer["citations"])


def filler(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        words = " ".join(f"token{i}x{j} report{j % 7}" for j in range(120))
        (folder / f"filler_{i:03d}.txt").write_text(f"Filler report {i}\n\n{words}.\n")


def test_the_app_answers_from_a_chroma_server(chroma, settings):
    app = create_app(
        settings.replace(chroma_host="127.0.0.1", chroma_port=chroma,
                         collection=f"e2e_{uuid.uuid4().hex[:8]}"),
        embedder_factory=FakeEmbedder,
    )
    client = app.test_client()
    svc = app.extensions["qa"]
    answer = client.post("/ask", json={"question": QUESTION}).get_json()
    assert "8 million" in answer["answer"]

    def text(aid):
        found = svc.docs.article(aid)
        return found.text if found else None

    assert citation_problems(answer["answer"], answer["citations"], text) == []
    assert svc.store.lock is None  # server mode takes no data-directory lock
    assert svc.store.count() == svc.docs.count_chunks()
    assert client.post("/articles", json={"article_id": NEW_ID, "text": NEW_TEXT}).status_code \
        == 201
    assert "4,512" in client.post("/ask", json={"question": NEW_QUESTION}).get_json()["answer"]
    assert client.delete(f"/articles/{NEW_ID}").status_code == 200
    assert svc.store.count() == svc.docs.count_chunks()
    assert "4,512" not in client.post("/ask", json={"question": NEW_QUESTION}).get_json()["answer"]
    svc.close()


class StallingProxy:
    """Forwards TCP to a Chroma server; while ``stalled`` is set, holds back its replies."""

    def __init__(self, target: int):
        self.target = target
        self.stalled = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, is_reply: bool) -> None:
        try:
            while data := src.recv(65536):
                while is_reply and self.stalled.is_set():
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                sock.close()

    def close(self) -> None:
        self.listener.close()


def test_a_hung_chroma_server_is_a_503_within_the_timeout_not_a_hung_request(chroma, settings):
    proxy = StallingProxy(chroma)
    app = create_app(
        settings.replace(chroma_host="127.0.0.1", chroma_port=proxy.port, chroma_timeout_s=1.0,
                         collection=f"hang_{uuid.uuid4().hex[:8]}"),
        embedder_factory=FakeEmbedder,
    )
    client = app.test_client()
    try:
        assert "8 million" in client.post("/ask", json={"question": QUESTION}).get_json()["answer"]
        proxy.stalled.set()
        got = {}
        asking = threading.Thread(
            target=lambda: got.update(r=client.post("/ask", json={"question": QUESTION})),
            daemon=True)
        asking.start()
        asking.join(15)
        assert not asking.is_alive(), "the request hangs with the Chroma server"
        response = got["r"]
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "store_unavailable"
        assert client.get("/readyz").status_code == 503
        proxy.stalled.clear()
        # The service recovers by itself once the server answers again.
        assert "8 million" in client.post("/ask", json={"question": QUESTION}).get_json()["answer"]
    finally:
        proxy.stalled.clear()
        proxy.close()
        app.extensions["qa"].close()


@pytest.mark.slow  # 20 s of racing
def test_searches_meeting_deletes_in_flight_do_not_fail(chroma, settings):
    """The server fails about 1 search in 100 that meets a delete ("Error finding id"):
    without the retry, some of these hundreds of searches get a ``StoreError``."""
    store = VectorStore.open(settings.replace(
        chroma_host="127.0.0.1", chroma_port=chroma, collection=f"race_{uuid.uuid4().hex[:8]}"))
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        v = rng.standard_normal((n, 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    store.upsert([f"seed:{i}@0" for i in range(60)], unit(60),
                 [{"article_id": f"seed{i // 3}", "s": 0} for i in range(60)])
    until = time.monotonic() + 20
    searches, failures = [], []

    def write(n: int) -> None:
        pick = random.Random(n)
        for stamp in range(n * 10**6 + 1, n * 10**6 + 10**6):
            if time.monotonic() > until:
                return
            aid, count = f"a{pick.randrange(20)}", pick.randint(1, 3)
            store.upsert([f"{aid}:{j}@{stamp}" for j in range(count)], unit(count),
                         [{"article_id": aid, "s": stamp}] * count)
            store.delete_older([aid], stamp)
            if pick.random() < 0.3:  # and a whole article, as DELETE /articles does
                store.delete_older([f"a{pick.randrange(20)}"], 10**9)

    def search() -> None:
        while time.monotonic() < until:
            try:
                searches.append(len(store.query(unit(1)[0], 100)))
            except StoreError as exc:
                failures.append(exc.message)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=search) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        store.close()
    print(f"{len(searches)} searches, {len(failures)} failed")
    assert len(searches) > 300
    assert not failures, f"{len(failures)} of {len(searches) + len(failures)}: {failures[:3]}"


def test_ingest_in_one_process_while_two_others_answer(chroma, tmp_path: Path):
    collection = f"scale_{uuid.uuid4().hex[:8]}"
    port_a, port_b = free_port(), free_port()
    # Two app processes on one Chroma server and one data directory (shared SQLite docstore).
    a = start_app(server_env(tmp_path, chroma, collection, port_a, QA_THREADS="6"))
    b = start_app(server_env(tmp_path, chroma, collection, port_b, QA_THREADS="6"))
    base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    try:
        for base in (base_a, base_b):
            first = ask(base, QUESTION)
            assert "8 million" in first["answer"] and grounded(base, first) == []
            assert not cites(ask(base, NEW_QUESTION), NEW_ID)

        incoming = tmp_path / "incoming"
        filler(incoming, 80)
        (incoming / f"{NEW_ID}.txt").write_text(NEW_TEXT)

        statuses: list[int] = []
        done = threading.Event()

        def keep_asking(base: str) -> None:
            while not done.is_set():
                response = requests.post(f"{base}/ask", json={"question": QUESTION}, timeout=30)
                good = response.ok and "8 million" in response.json()["answer"]
                statuses.append(response.status_code if good else -response.status_code)

        askers = [threading.Thread(target=keep_asking, args=(base,))
                  for base in (base_a, base_a, base_b, base_b)]
        for t in askers:
            t.start()
        try:
            # The ingest is a third process: the real CLI with the fake embedder, slowed a
            # little so that it overlaps the questions.
            ingest = run_ingest(server_env(tmp_path, chroma, collection,
                                           FAKE_EMBED_DELAY_S="0.05", FAKE_INGEST_BATCH="16"),
                                [incoming])
        finally:
            done.set()
            for t in askers:
                t.join(60)
        assert ingest.returncode == 0, ingest.stderr[-2000:]
        assert "81 articles" in ingest.stdout
        assert len(statuses) >= 8 and set(statuses) == {200}, statuses

        # Both processes answered before the ingest; both see the new article now,
        # with no restart.
        for base in (base_a, base_b):
            fresh = ask(base, NEW_QUESTION)
            assert "4,512" in fresh["answer"] and cites(fresh, NEW_ID), fresh["answer"]
            assert grounded(base, fresh) == []

        # A change made through one process is visible through the other at once.
        assert requests.delete(f"{base_a}/articles/{NEW_ID}", timeout=30).status_code == 200
        assert requests.get(f"{base_b}/articles/{NEW_ID}", timeout=10).status_code == 404
        assert not cites(ask(base_b, NEW_QUESTION), NEW_ID)
        added = requests.post(f"{base_b}/articles", json={"article_id": NEW_ID, "text": NEW_TEXT},
                              timeout=30)
        assert added.status_code == 201
        assert cites(ask(base_a, NEW_QUESTION), NEW_ID)
    finally:
        logs = stop(a) + stop(b)
    assert "Traceback" not in logs


@pytest.mark.slow
def test_python_app_py_and_flask_ingest_with_the_real_model(chroma, tmp_path: Path):
    """The documented commands, unmodified: ``python app.py`` and ``flask --app app ingest``."""
    collection = f"real_{uuid.uuid4().hex[:8]}"
    port = free_port()
    server = start_app(server_env(tmp_path, chroma, collection, port), module="app.py",
                       timeout=300)
    base = f"http://127.0.0.1:{port}"
    try:
        assert "8 million" in ask(base, QUESTION)["answer"]
        incoming = tmp_path / "incoming"
        incoming.mkdir()
        (incoming / f"{NEW_ID}.txt").write_text(NEW_TEXT)
        ingest = subprocess.Popen(
            [str(BIN / "flask"), "--app", "app", "ingest", str(incoming)], cwd=ROOT,
            env=server_env(tmp_path, chroma, collection), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        while ingest.poll() is None:  # the server keeps answering during the ingest
            assert "8 million" in ask(base, QUESTION)["answer"]
        out, err = ingest.communicate()
        assert ingest.returncode == 0, err[-2000:]
        fresh = ask(base, NEW_QUESTION)
        assert "4,512" in fresh["answer"] and cites(fresh, NEW_ID)
        assert grounded(base, fresh) == []
    finally:
        stop(server)


def test_an_unreachable_chroma_server_is_a_clear_error(tmp_path: Path):
    port = free_port()  # nothing listens here
    env = app_env(tmp_path / "data", ROOT / "seeds", free_port(), QA_CHROMA_HOST="127.0.0.1",
                  QA_CHROMA_PORT=str(port))
    proc = spawn([sys.executable, "-m", "tests.fake_app"], env)
    proc.wait(120)
    out = stop(proc)
    assert proc.returncode != 0
    assert f"cannot reach the Chroma server at 127.0.0.1:{port}" in out
    assert "Traceback" not in out
