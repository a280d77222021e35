"""How long a worker takes to serve a corpus it has never seen, and what each part holds.

``python -m bench.rebuild [--data DIR | --corpus PATH] [--starts 3]``

``--data`` is a data directory with an embedded store (for instance the ~100k index that
``python -m bench --build-cache`` keeps in ``data/bench-cache/data``); ``--corpus`` ingests
a folder (default: the haystack) into a fresh one first. Then, with ``python app.py``:

- embedded, cache kept: the ordinary cold start;
- embedded, cache deleted: start until ready, the cache rebuilt from the embedded Chroma;
- server mode: ``chroma run`` on the same Chroma files and a worker on an empty data
  directory: start until ready (its cache built over HTTP), then a restart with it kept;
- with the cache kept, the fixture questions asked once (``/ask`` p50 and p95), then the
  peak RSS of the worker in each mode and of the Chroma server.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.ingest import load_fixtures
from bench.latency import ask_fixtures, peak_rss_mb, percentile
from bench.report import emit
from tests.servers import ROOT, app_env, free_port, spawn, start_chroma, stop, wait_until


def start_worker(env: dict) -> tuple[object, float]:
    """Start ``python app.py``; return it and the seconds until ``/readyz`` answered 200."""
    started = time.perf_counter()
    proc = spawn([sys.executable, str(ROOT / "app.py")], env)
    url = f"http://127.0.0.1:{env['QA_PORT']}/readyz"
    wait_until(lambda: requests.get(url, timeout=5).status_code == 200, proc, 1800, "app.py")
    return proc, time.perf_counter() - started


def passages(env: dict) -> int:
    url = f"http://127.0.0.1:{env['QA_PORT']}/search"
    requests.get(url, params={"q": "warm up"}, timeout=60).raise_for_status()
    from vectorstore.corpus import CACHE_FILE

    # Read-only and closed at once: the worker is the cache's only writer.
    path = Path(env["QA_DATA_DIR"]) / CACHE_FILE
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    finally:
        db.close()


def measure(data: Path, work: Path, starts: int, log=print) -> dict:
    from vectorstore.corpus import CACHE_FILE

    seeds = work / "no-seeds"
    seeds.mkdir(exist_ok=True)
    out: dict = {"data_dir": str(data)}

    fixtures = load_fixtures()

    def timed_starts(env: dict, before=None, serve: str = "") -> tuple[list[float], float | None,
                                                                         int]:
        """Start ``starts`` times; with ``serve``, ask the fixtures on the last start."""
        times, rss, count = [], None, 0
        for i in range(starts):
            if before:
                before()
            proc, seconds = start_worker(env)
            times.append(round(seconds, 2))
            count = passages(env)
            if serve and i == starts - 1:
                asked, _ = ask_fixtures(int(env["QA_PORT"]), fixtures)
                out[f"{serve}_ask_p50_ms"] = round(percentile(asked, 50), 1)
                out[f"{serve}_ask_p95_ms"] = round(percentile(asked, 95), 1)
            rss = peak_rss_mb(proc.pid)
            stop(proc)
        return times, rss, count

    embedded = app_env(data, seeds, free_port(), QA_ANSWER_MODEL="extractive")
    cache = data / CACHE_FILE
    times, rss, count = timed_starts(embedded, lambda: cache.unlink(missing_ok=True))
    out["passages"] = count
    out["embedded_rebuild_s"] = times
    log(f"embedded, no cache: ready in {times} s ({count} passages)")
    times, rss, _ = timed_starts(embedded, serve="embedded")
    out["embedded_cold_start_s"], out["embedded_worker_rss_mb"] = times, rss
    log(f"embedded, cache kept: ready in {times} s; after the fixture questions, "
        f"worker peak RSS {rss} MiB")

    chroma, port = start_chroma(data / "chroma", timeout=600)
    try:
        worker = work / "worker"
        remote = app_env(worker, seeds, free_port(), QA_ANSWER_MODEL="extractive",
                         QA_CHROMA_HOST="127.0.0.1", QA_CHROMA_PORT=str(port))
        times, _, count = timed_starts(remote, lambda: shutil.rmtree(worker,
                                                                     ignore_errors=True))
        out["server_rebuild_s"] = times
        log(f"server mode, empty data dir: ready in {times} s ({count} passages)")
        times, rss, _ = timed_starts(remote, serve="server")
        out["server_cold_start_s"], out["server_worker_rss_mb"] = times, rss
        log(f"server mode, cache kept: ready in {times} s; worker peak RSS {rss} MiB")
        out["chroma_server_rss_mb"] = peak_rss_mb(chroma.pid)
        log(f"Chroma server peak RSS {out['chroma_server_rss_mb']} MiB")
    finally:
        stop(chroma)
    for key in [k for k in out if k.endswith("_s")]:
        out[key.removesuffix("_s") + "_median_s"] = round(statistics.median(out[key]), 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__)
    parser.add_argument("--data", type=Path, help="a data directory with an embedded store")
    parser.add_argument("--corpus", type=Path, help="ingest this folder into a fresh one first")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    try:
        data = args.data
        if data is None:
            from bench.haystack import build_haystack
            from qa.service import QAService
            from qa.settings import Settings

            corpus = args.corpus or build_haystack(work / "haystack")
            data = work / "data"
            service = QAService(Settings(data_dir=data, seeds_dir=corpus))
            try:
                print(service.ingestor.ingest_paths([corpus]).summary().splitlines()[0])
            finally:
                service.close()
        result = measure(data, work, args.starts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
