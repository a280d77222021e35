"""Write stress: writers POST and DELETE articles while a reader asks; then check everything.

``python -m bench.stress [--duration 30] [--workers 1|2] [--writers 3] [--app app.py]``

With one worker, ``python app.py`` runs on the embedded store; with two, a ``chroma run``
on loopback and two ``python app.py`` with separate data directories, the writers spread
over both. Each writer owns its articles (so their expected end state is exact) and also
writes a few articles every writer contends for. Afterwards, on every worker: each
acknowledged article is listed, carries its latest text and is answered, with a citation,
from its unique token; each deleted one is not. Then, with the workers stopped: each
acknowledged article has all its vectors in Chroma and each deleted one none; contended
articles are whole or gone; ``flask --app app check`` passes; and no worker's start-up
check, run while the writers write, took their writes in flight for damage. A refused ask
or write is reported with the reason the worker logged. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import random
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.report import emit
from tests.servers import BIN, ROOT, app_env, free_port, start_app, start_chroma, stop

HOT = [f"hot/{i}" for i in range(4)]  # every writer writes these


def article_text(token: str, cars: int) -> str:
    return (f"The {token} bridge opens\n\nThe {token} bridge opened on Monday. Engineers said "
            f"the {token} bridge carries {cars:,} cars a day across the river.")


def question(token: str) -> str:
    return f"How many cars does the {token} bridge carry each day?"


def new_token(rng: random.Random) -> str:
    return "qx" + "".join(rng.choices(string.ascii_lowercase, k=8))


@dataclass
class Ledger:
    """What the writers were told: the last acknowledged state of each article."""

    live: dict[str, str] = field(default_factory=dict)  # article_id -> token
    deleted: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)  # a write that failed: either state
    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def writer(n: int, bases: list[str], ledger: Ledger, until: float, seed: int) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    mine: list[str] = []
    i = 0
    while time.monotonic() < until:
        base = bases[(n + i) % len(bases)]
        roll = rng.random()
        if mine and roll < 0.25:
            aid = mine.pop(rng.randrange(len(mine)))
            r = session.delete(f"{base}/articles/{aid}", timeout=60)
            with ledger.lock:
                ledger.counts[f"delete {r.status_code}"] += 1
                if r.status_code == 200:
                    ledger.live.pop(aid, None)
                    ledger.deleted.add(aid)
                else:
                    ledger.uncertain.add(aid)
        else:
            if roll < 0.35:
                aid = rng.choice(HOT)
            elif mine and roll < 0.5:
                aid = rng.choice(mine)  # a new version of one of ours
            else:
                aid = f"w{n}/{i:05d}"
            token = new_token(rng)
            r = session.post(f"{base}/articles", timeout=60,
                             json={"article_id": aid, "text": article_text(token, i + 1000)})
            with ledger.lock:
                ledger.counts[f"post {r.status_code}"] += 1
                if aid in HOT:
                    continue
                if r.status_code in (200, 201):
                    ledger.live[aid] = token
                    ledger.deleted.discard(aid)
                    if aid not in mine:
                        mine.append(aid)
                else:
                    ledger.uncertain.add(aid)
        i += 1


def reader(bases: list[str], ledger: Ledger, until: float, statuses: Counter) -> None:
    rng = random.Random(99)
    session = requests.Session()
    while time.monotonic() < until:
        with ledger.lock:
            tokens = list(ledger.live.values())
        q = question(rng.choice(tokens)) if tokens else "How many cars cross the bridge?"
        r = session.post(f"{rng.choice(bases)}/ask", json={"question": q}, timeout=60)
        statuses[r.status_code if r.status_code == 200 else f"{r.status_code} {_code(r)}"] += 1


def _code(response) -> str:
    """The error code of a refused answer (store_unavailable, overloaded, ...): which one
    tells a timeout under load from a lost write."""
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return "(no JSON error)"


def verify_served(base: str, ledger: Ledger) -> list[str]:
    """Every acknowledged article listed, current and answered; every deleted one gone."""
    problems = []
    session = requests.Session()
    for aid, token in ledger.live.items():
        if aid in ledger.uncertain:
            continue
        got = session.get(f"{base}/articles/{aid}", timeout=30)
        if got.status_code != 200 or token not in got.json()["text"]:
            problems.append(f"{base}: {aid} not listed with its latest text ({got.status_code})")
            continue
        answer = session.post(f"{base}/ask", json={"question": question(token)}, timeout=60)
        cited = answer.ok and any(c["article_id"] == aid for c in answer.json()["citations"])
        if not cited:
            problems.append(f"{base}: {aid} not answered from its token {token}")
    for aid in ledger.deleted - ledger.uncertain:
        if session.get(f"{base}/articles/{aid}", timeout=30).status_code != 404:
            problems.append(f"{base}: deleted {aid} is still listed")
    return problems


def verify_stored(settings, ledger: Ledger) -> list[str]:
    """Vectors in Chroma: all of each acknowledged article's, none of a deleted one's."""
    from vectorstore.chunk import chunk_article
    from vectorstore.corpus import Corpus
    from vectorstore.load import article_from_text

    problems = []
    corpus = Corpus.open(settings)
    try:
        now = corpus.records.current(list(ledger.live) + list(ledger.deleted) + HOT)
        vectors = Counter(v.article_id for v in corpus.vectors.of_articles(
            list(ledger.live) + list(ledger.deleted) + HOT))
        for aid, token in ledger.live.items():
            if aid in ledger.uncertain:
                continue
            want = len(chunk_article(article_from_text(aid, article_text(token, 1)),
                                     settings.chunk_chars))
            version = now.get(aid)
            if version is None or version.deleted or vectors[aid] != want:
                problems.append(f"{aid}: {vectors[aid]} of {want} vectors, record {version}")
        for aid in ledger.deleted - ledger.uncertain:
            if vectors[aid] or (now.get(aid) and not now[aid].deleted):
                problems.append(f"deleted {aid} still has {vectors[aid]} vectors or a record")
        for aid in HOT:
            version = now.get(aid)
            listed = version is not None and not version.deleted
            if listed != bool(vectors[aid]) or (listed and vectors[aid] != version.chunks):
                problems.append(f"{aid}: record {version} with {vectors[aid]} vectors")
    finally:
        corpus.close()
    return problems


def run(duration: float, workers: int, writers: int, app: str, work: Path,
        log=print) -> dict:
    seeds = ROOT / "seeds"
    chroma = None
    extra: dict[str, str] = {}
    if workers > 1:
        chroma, chroma_port = start_chroma(work / "chroma")
        extra = {"QA_CHROMA_HOST": "127.0.0.1", "QA_CHROMA_PORT": str(chroma_port),
                 "QA_COLLECTION": f"stress_{uuid.uuid4().hex[:8]}"}
    envs = [app_env(work / f"data-{i}", seeds, free_port(), QA_MAX_CONCURRENCY="8", **extra)
            for i in range(workers)]
    procs = []
    result: dict = {"duration_s": duration, "workers": workers, "writers": writers, "app": app}
    try:
        for env in envs:
            procs.append(start_app(env, module=app, timeout=300))
        bases = [f"http://127.0.0.1:{env['QA_PORT']}" for env in envs]
        ledger, statuses = Ledger(), Counter()
        until = time.monotonic() + duration
        threads = [threading.Thread(target=writer, args=(n, bases, ledger, until, n))
                   for n in range(writers)]
        threads.append(threading.Thread(target=reader, args=(bases, ledger, until, statuses)))
        log(f"stress: {writers} writers and a reader for {duration:.0f} s on {workers} worker(s)")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result.update(writes=dict(ledger.counts), asks=dict(statuses),
                      acknowledged=len(ledger.live), deleted=len(ledger.deleted),
                      uncertain=len(ledger.uncertain))
        time.sleep(3 * 2.0)  # a few sync intervals: every worker has caught up
        problems = [p for base in bases for p in verify_served(base, ledger)]
        if set(statuses) - {200}:
            problems.append(f"the reader got {dict(statuses)}")
        if set(ledger.counts) - {"post 200", "post 201", "delete 200"}:
            problems.append(f"the writers got {dict(ledger.counts)}")
        logs = "".join(stop(p) for p in procs)
        procs = []
        if "Traceback" in logs:
            at = logs.index("Traceback")
            problems.append(f"a worker logged a traceback:\n{logs[at - 300 : at + 3000]}")
        if "consistency check found problems" in logs:  # writes in flight are not damage
            at = logs.index("consistency check found problems")
            problems.append(f"a worker's start-up check failed:\n{logs[at : at + 2000]}")
        refused = [line for line in logs.splitlines() if " WARNING " in line
                   and ("store_unavailable" in line or "store_locked" in line)]
        if refused:
            problems.append("store errors in the worker logs:\n" + "\n".join(refused[:5]))
        from qa.settings import Settings

        settings = Settings.from_env(envs[0])
        problems += verify_stored(settings, ledger)
        check = subprocess.run(
            [str(BIN / "flask"), "--app", app.removesuffix(".py").replace("/", "."), "check"],
            cwd=ROOT, env=envs[0], text=True, capture_output=True, timeout=600)
        result["check"] = check.stdout.strip().splitlines()
        if check.returncode != 0:
            problems.append(f"flask check exited {check.returncode}: {check.stdout[-2000:]}")
        result["problems"] = problems
        result["ok"] = not problems
        return result
    finally:
        for p in procs:
            stop(p)
        if chroma is not None:
            stop(chroma)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stress", description=__doc__)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--app", default="app.py",
                        help="app.py (the real model) or tests.fake_app (a fake embedder)")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stress-") as work:
        result = run(args.duration, args.workers, args.writers, args.app, Path(work))
    emit(result, args.out)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
