"""Bounded load test: concurrent clients against ``/ask`` of a real ``python app.py`` on loopback.

    python -m bench.load                      # 16 clients for 60 s, then a short overload
    python -m bench.load --url http://127.0.0.1:8000 --clients 8 --seconds 20

Without ``--url`` it starts ``python app.py`` (waitress, the real MiniLM model, the
extractive answerer) on a free port with a temporary data directory seeded from
``seeds/``, and stops it afterwards. Phase 1 (``--clients`` for ``--seconds``) must give
0 errors; phase 2 sends more concurrent questions than ``QA_MAX_CONCURRENCY`` admits and
checks that the excess is refused at once with 503 and ``Retry-After``. Writes
``reports/load.json`` and ``reports/load.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "fixtures" / "seeds.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 1)


def start_server(data_dir: Path, port: int, env_extra: dict) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(data_dir), QA_SEEDS_DIR=str(ROOT / "seeds"),
               QA_HOST="127.0.0.1", QA_PORT=str(port), QA_ANSWER_MODEL="extractive",
               QA_RATE_LIMIT_PER_MINUTE="0", **env_extra)
    log_path = data_dir.parent / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"python app.py exited:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).ok:
                return proc, log_path
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("python app.py was not ready within 300 s")


def run_phase(url: str, questions: list[str], clients: int, seconds: float,
              honour_retry: bool = False) -> dict:
    """Run ``clients`` closed-loop clients for ``seconds``; each sends its next question.

    With ``honour_retry`` a refused client waits ``Retry-After`` before its next question,
    as a well-behaved client does.
    """
    results: list[tuple[float, int, float, str | None]] = []  # (ms, status, at, retry_after)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start = time.monotonic()

    def client(index: int) -> None:
        session = requests.Session()
        n = index
        while time.monotonic() < stop_at:
            question = questions[n % len(questions)]
            n += clients
            began = time.perf_counter()
            try:
                response = session.post(f"{url}/ask", json={"question": question}, timeout=60)
                status = response.status_code
                retry = response.headers.get("Retry-After")
                if status == 200 and "answer" not in response.json():
                    status = -1
            except (requests.RequestException, ValueError):
                status, retry = 0, None
            ms = (time.perf_counter() - began) * 1000
            with lock:
                results.append((ms, status, time.monotonic() - start, retry))
            if honour_retry and status in (429, 503) and retry:
                time.sleep(min(float(retry), max(0.0, stop_at - time.monotonic())))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    ok = [ms for ms, status, _, _ in results if status == 200]
    refused = [(ms, retry) for ms, status, _, retry in results if status in (429, 503)]
    statuses: dict[str, int] = {}
    for _, status, _, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "ok": len(ok),
        "errors": len(results) - len(ok),
        "statuses": statuses,
        "throughput_rps": round(len(results) / elapsed, 1),
        "latency_ms": {
            "p50": percentile(ok, 50), "p95": percentile(ok, 95), "p99": percentile(ok, 99),
            "mean": round(statistics.fmean(ok), 1) if ok else None,
            "max": round(max(ok), 1) if ok else None,
        },
        "refused": {
            "count": len(refused),
            "with_retry_after": sum(1 for _, retry in refused if retry),
            "p50_ms": percentile([ms for ms, _ in refused], 50),
            "p99_ms": percentile([ms for ms, _ in refused], 99),
        },
    }


def markdown(report: dict) -> str:
    main, over = report["load"], report.get("overload")
    lat = main["latency_ms"]
    lines = [
        "# Load test",
        "",
        f"`python -m bench.load` on {report['machine']}, {report['date']}; server: "
        f"`python app.py` (waitress, {report['server']['threads']} threads, "
        f"QA_MAX_CONCURRENCY={report['server']['max_concurrency']}, extractive answerer, "
        f"{report['server']['embedder']}); load average at start {report['loadavg']}.",
        "",
        "| phase | clients | seconds | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| load | {main['clients']} | {main['seconds']} | {main['requests']} | "
        f"{main['errors']} | {main['throughput_rps']} | {lat['p50']} | {lat['p95']} | "
        f"{lat['p99']} |",
    ]
    if over:
        olat, ref = over["latency_ms"], over["refused"]
        lines += [
            f"| overload | {over['clients']} | {over['seconds']} | {over['requests']} | "
            f"{over['errors']} | {over['throughput_rps']} | {olat['p50']} | {olat['p95']} | "
            f"{olat['p99']} |",
            "",
            f"Overload: {ref['count']} of {over['requests']} questions were refused with "
            f"503/429 ({ref['with_retry_after']} with `Retry-After`, which the clients "
            f"honour), in p50 {ref['p50_ms']} ms / p99 {ref['p99_ms']} ms; statuses "
            f"{over['statuses']}. The latency columns of this row are those of the admitted "
            "questions; nothing queues without bound.",
        ]
    lines += ["", f"Statuses in the load phase: {main['statuses']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--overload-clients", type=int, default=40)
    parser.add_argument("--overload-seconds", type=float, default=10,
                        help="0 skips the overload phase")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    # Turn SIGTERM into SystemExit so the finally below still stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()
                 if line.strip()]
    server = None
    tmp = None
    settings = {"threads": os.environ.get("QA_THREADS", "24"),
                "max_concurrency": os.environ.get("QA_MAX_CONCURRENCY", "16")}
    url = args.url
    loadavg = " ".join(f"{x:.1f}" for x in os.getloadavg())
    if url is None:
        tmp = Path(tempfile.mkdtemp(prefix="load-"))
        port = free_port()
        server, log_path = start_server(tmp / "data", port, {})
        url = f"http://127.0.0.1:{port}"
    try:
        ready = requests.get(f"{url}/readyz", timeout=10).json()
        # One pass over the questions first, so the figures describe a warm server.
        run_phase(url, questions, 2, 5)
        load = run_phase(url, questions, args.clients, args.seconds)
        overload = None
        if args.overload_seconds > 0:
            overload = run_phase(url, questions, args.overload_clients, args.overload_seconds,
                                 honour_retry=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
            log = log_path.read_text()
            if "Traceback" in log:
                print(log[-3000:], file=sys.stderr)
            shutil.rmtree(tmp, ignore_errors=True)

    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} CPUs",
        "loadavg": loadavg,
        "server": {**settings, "url": url, "readyz": ready["status"],
                   "embedder": "all-MiniLM-L6-v2" if args.url is None else "as configured"},
        "load": load,
        "overload": overload,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "load.md").write_text(markdown(report))
    print(markdown(report))
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
