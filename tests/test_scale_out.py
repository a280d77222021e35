"""Scale-out with real processes: a ``chroma run`` on loopback and two ``python app.py``
workers with separate data directories, sharing nothing but the Chroma server (issue 15).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from bench import stress
from tests.servers import BIN, ROOT, app_env, free_port, start_app, start_chroma, stop

pytestmark = pytest.mark.slow

SEED_QUESTION = "How many drones can Ukraine produce each year?"
NEW_ID = "quillbrook_ferry"
NEW_TEXT = (
    "Quillbrook ferry sets a record\n\n"
    "The Quillbrook ferry carried 4,512 passengers across the Varna strait in March, "
    "the port authority said on Tuesday. Officials expect the route to grow next year."
)
CHANGED_TEXT = NEW_TEXT.replace("4,512", "6,075")
NEW_QUESTION = "How many passengers did the Quillbrook ferry carry?"


def worker_env(tmp_path: Path, name: str, chroma_port: int, collection: str, **extra) -> dict:
    return app_env(tmp_path / name, ROOT / "seeds", free_port(), QA_CHROMA_HOST="127.0.0.1",
                   QA_CHROMA_PORT=str(chroma_port), QA_COLLECTION=collection,
                   QA_SYNC_INTERVAL_S="1", **extra)


def base(env: dict) -> str:
    return f"http://127.0.0.1:{env['QA_PORT']}"


def ask(url: str, q: str) -> dict:
    response = requests.post(f"{url}/ask", json={"question": q}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def cites(answer: dict, article_id: str) -> bool:
    return any(c["article_id"] == article_id for c in answer["citations"])


def within(seconds: float, condition) -> float:
    """Wait until ``condition()`` holds; return how long it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_an_article_posted_to_one_worker_is_answered_by_the_other(tmp_path):
    chroma, port = start_chroma(tmp_path / "chroma")
    collection = f"two_{uuid.uuid4().hex[:8]}"
    env_a = worker_env(tmp_path, "a", port, collection)
    env_b = worker_env(tmp_path, "b", port, collection)
    procs = [start_app(env_a, module="app.py", timeout=300)]  # seeds the empty store
    try:
        # B starts on an empty data directory: it builds its cache from Chroma and serves.
        procs.append(start_app(env_b, module="app.py", timeout=300))
        a, b = base(env_a), base(env_b)
        assert "8 million" in ask(b, SEED_QUESTION)["answer"]
        assert not cites(ask(b, NEW_QUESTION), NEW_ID)

        posted = requests.post(f"{a}/articles", json={"article_id": NEW_ID, "text": NEW_TEXT},
                               timeout=60)
        assert posted.status_code == 201
        seen = within(30, lambda: cites(ask(b, NEW_QUESTION), NEW_ID))
        assert "4,512" in ask(b, NEW_QUESTION)["answer"]

        changed = requests.post(f"{b}/articles", json={"article_id": NEW_ID,
                                                        "text": CHANGED_TEXT}, timeout=60)
        assert changed.status_code == 200
        within(30, lambda: "6,075" in ask(a, NEW_QUESTION)["answer"])
        assert "4,512" not in ask(a, NEW_QUESTION)["answer"]

        assert requests.delete(f"{a}/articles/{NEW_ID}", timeout=60).status_code == 200
        gone = within(30, lambda: not cites(ask(b, NEW_QUESTION), NEW_ID))
        # Answers check Chroma on every request; B's listing follows at its next sync.
        within(30, lambda: requests.get(f"{b}/articles/{NEW_ID}", timeout=10).status_code
               == 404)
        print(f"posted to A, answered by B after {seen:.1f} s; deleted through A, "
              f"no longer cited by B after {gone:.1f} s")
    finally:
        logs = "".join(stop(p) for p in procs)
        stop(chroma)
    assert "Traceback" not in logs


def keep_asking(url: str, until: threading.Event, out: list, question: str = SEED_QUESTION):
    session = requests.Session()
    while not until.is_set():
        started = time.monotonic()
        try:
            r = session.post(f"{url}/ask", json={"question": question}, timeout=60)
            body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") \
                else None
            out.append((r.status_code, body, time.monotonic() - started))
        except requests.RequestException as exc:
            out.append((type(exc).__name__, None, time.monotonic() - started))


def test_killing_one_worker_mid_request_leaves_the_other_answering(tmp_path):
    chroma, port = start_chroma(tmp_path / "chroma")
    collection = f"kill_{uuid.uuid4().hex[:8]}"
    env_a = worker_env(tmp_path, "a", port, collection)
    env_b = worker_env(tmp_path, "b", port, collection)
    a_proc = start_app(env_a, module="app.py", timeout=300)
    b_proc = start_app(env_b, module="app.py", timeout=300)
    a, b = base(env_a), base(env_b)
    try:
        assert requests.post(f"{a}/articles", json={"article_id": NEW_ID, "text": NEW_TEXT},
                             timeout=60).status_code == 201
        done = threading.Event()
        on_a, on_b = [], []
        threads = [threading.Thread(target=keep_asking, args=(a, done, on_a)) for _ in range(3)]
        threads += [threading.Thread(target=keep_asking, args=(b, done, on_b)) for _ in range(2)]

        def keep_writing() -> None:  # so that the kill can land inside a write as well
            i = 0
            while not done.is_set():
                try:
                    requests.post(f"{a}/articles", timeout=60, json={
                        "article_id": f"filler/{i}", "text": f"Filler {i}\n\n{NEW_TEXT}"})
                except requests.RequestException:
                    pass
                i += 1

        threads.append(threading.Thread(target=keep_writing))
        for t in threads:
            t.start()
        within(30, lambda: len(on_a) >= 5)
        os.kill(a_proc.pid, signal.SIGKILL)
        killed_at = len(on_b)
        time.sleep(5)
        done.set()
        for t in threads:
            t.join(60)
        assert len(on_b) > killed_at + 5, "B stopped answering after A was killed"
        assert {s for s, _, _ in on_b} == {200}, Counter(s for s, _, _ in on_b)
        assert any(not isinstance(s, int) for s, _, _ in on_a)  # A really died mid-traffic
        answer = ask(b, NEW_QUESTION)
        assert cites(answer, NEW_ID) and "4,512" in answer["answer"]
        logs = stop(b_proc)
        # What A left half-written is invisible, and `check` does not take it for damage.
        check = subprocess.run([str(BIN / "flask"), "--app", "app", "check"], cwd=ROOT,
                               env=env_b, text=True, capture_output=True, timeout=600)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        stop(a_proc)
        stop(b_proc)
        stop(chroma)
    assert "Traceback" not in logs


def test_both_workers_answer_503_while_chroma_restarts_then_recover(tmp_path):
    chroma, port = start_chroma(tmp_path / "chroma")
    collection = f"restart_{uuid.uuid4().hex[:8]}"
    env_a = worker_env(tmp_path, "a", port, collection, QA_CHROMA_TIMEOUT_S="3")
    env_b = worker_env(tmp_path, "b", port, collection, QA_CHROMA_TIMEOUT_S="3")
    procs = [start_app(env_a, module="app.py", timeout=300),
             start_app(env_b, module="app.py", timeout=300)]
    urls = [base(env_a), base(env_b)]
    done = threading.Event()
    results: dict[str, list] = {url: [] for url in urls}
    threads = [threading.Thread(target=keep_asking, args=(url, done, results[url]))
               for url in urls for _ in range(2)]
    try:
        for t in threads:
            t.start()
        within(30, lambda: all(len(r) >= 3 for r in results.values()))
        stop(chroma)  # the Chroma server goes away under load
        marks = {url: len(r) for url, r in results.items()}
        within(30, lambda: all(any(s == 503 for s, _, _ in r[marks[url]:])
                               for url, r in results.items()))
        for url in urls:
            assert requests.get(f"{url}/readyz", timeout=10).status_code == 503
        time.sleep(2)
        chroma, _ = start_chroma(tmp_path / "chroma", port=port)  # same data, same port
        marks = {url: len(r) for url, r in results.items()}
        recovered = within(60, lambda: all(
            any(s == 200 for s, _, _ in r[marks[url]:]) for url, r in results.items()))
        time.sleep(2)
        done.set()
        for t in threads:
            t.join(60)
        for url, got in results.items():
            statuses = Counter(s for s, _, _ in got)
            assert set(statuses) <= {200, 503}, (url, statuses)  # never a 500
            for status, body, seconds in got:
                assert seconds < 3 * 2 + 10, f"a request hung for {seconds:.0f} s"
                if status == 503:
                    assert body["error"]["code"] == "store_unavailable", body
            assert got[-1][0] == 200
            assert requests.get(f"{url}/readyz", timeout=10).status_code == 200
        print(f"both workers answered again {recovered:.1f} s after Chroma restarted")
    finally:
        done.set()
        logs = "".join(stop(p) for p in procs)
        stop(chroma)
    assert "Traceback" not in logs


@pytest.mark.parametrize("workers", [1, 2])
def test_three_writers_and_a_reader_lose_nothing(tmp_path, workers):
    """The stress test of bench/stress.py, shorter: one process, then two on one Chroma."""
    result = stress.run(12.0, workers, 3, "tests.fake_app", tmp_path)
    print(result)
    assert result["ok"], result["problems"]
    assert result["acknowledged"] >= 10 and result["deleted"] >= 3
