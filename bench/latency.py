"""Serve a prepared index with ``python app.py`` and time cold start, ``/ask`` and memory."""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Questions outside the fixtures: they load every lazy part without warming the fixtures' own
# sentences into the answerer's cache.
WARM_UP = (
    "What did the prime minister say about the economy?",
    "Which team won the match on Saturday?",
    "How much will the new plan cost?",
    "Who criticised the decision?",
    "When will the election be held?",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float | None:
    """Return the process's peak resident set (VmHWM) in MiB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """Return the CPU time (user + system) the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    ready_seconds: float
    log_path: Path
    ready_cpu_seconds: float | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: Path, log_path: Path, seeds_dir: Path,
                 timeout: float = 180.0) -> Server:
    """Start ``python app.py`` on ``data_dir``; return once ``/readyz`` answers 200."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(data_dir), QA_PORT=str(port), QA_HOST="127.0.0.1",
               QA_SEEDS_DIR=str(seeds_dir), QA_ANSWER_MODEL="extractive",
               PYTHONUNBUFFERED="1")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # the child keeps its own copy of the descriptor
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return Server(process, port, time.perf_counter() - started, log_path,
                              cpu_seconds(process.pid))
        except OSError:
            pass
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"the server was not ready within {timeout:.0f}s; see {log_path}")


def ask(conn: http.client.HTTPConnection, question: str, history: list[dict]) -> tuple[float, dict]:
    body = json.dumps({"question": question, "history": history})
    started = time.perf_counter()
    conn.request("POST", "/ask", body=body, headers={"Content-Type": "application/json",
                                                     "Accept": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"/ask answered {response.status}: {payload[:200]!r}")
    return elapsed, json.loads(payload)


def stream_answer(base: str, question: str) -> tuple[float | None, float]:
    """Ask ``question`` streamed over HTTP (``requests``): seconds to its first streamed token
    (None if none came) and to its end, as the client sees them."""
    import requests

    asked, first = time.perf_counter(), None
    with requests.post(f"{base}/ask", json={"question": question, "stream": True},
                       stream=True, timeout=120) as response:
        for line in response.iter_lines():
            if first is None and line.startswith(b"event: token"):
                first = time.perf_counter() - asked
    return first, time.perf_counter() - asked


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LatencyResult:
    cold_start_s: list[float]
    cold_start_cpu_s: list[float] = field(default_factory=list)
    ask_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None

    def to_json(self) -> dict:
        return {
            "cold_start_s": round(statistics.median(self.cold_start_s), 2),
            "cold_start_runs_s": [round(s, 2) for s in self.cold_start_s],
            # CPU time to ready: what the cold start costs when nothing else wants the CPU.
            "cold_start_cpu_s": (round(statistics.median(self.cold_start_cpu_s), 2)
                                 if self.cold_start_cpu_s else None),
            "ask_p50_ms": round(percentile(self.ask_ms, 50), 1),
            "ask_p95_ms": round(percentile(self.ask_ms, 95), 1),
            "ask_mean_ms": round(statistics.fmean(self.ask_ms), 1),
            "server_total_p50_ms": round(percentile(self.server_ms, 50), 1),
            "requests": len(self.ask_ms),
            "peak_rss_mb": self.peak_rss_mb,
        }


def measure(data_dir: Path, fixtures: list[dict], log_path: Path, seeds_dir: Path,
            starts: int = 3, rounds: int = 1) -> LatencyResult:
    """Cold-start the server ``starts`` times; time every fixture question on the last one."""
    result = LatencyResult([])
    server = None
    for i in range(starts):
        server = start_server(data_dir, log_path, seeds_dir)
        result.cold_start_s.append(server.ready_seconds)
        if server.ready_cpu_seconds is not None:
            result.cold_start_cpu_s.append(server.ready_cpu_seconds)
        if i < starts - 1:
            server.stop()
    assert server is not None
    try:
        result.ask_ms, result.server_ms = ask_fixtures(server.port, fixtures, rounds)
        result.peak_rss_mb = peak_rss_mb(server.process.pid)
    finally:
        server.stop()
    return result


def ask_fixtures(port: int, fixtures: list[dict], rounds: int = 1) -> tuple[list, list]:
    """Warm up, then ask every fixture question (with its history) over one connection;
    return the client's and the server's milliseconds for each."""
    client_ms, server_ms = [], []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for question in WARM_UP:
        ask(conn, question, [])
    for _ in range(rounds):
        for fx in fixtures:
            history = [{"role": t["role"], "content": t["content"]}
                       for t in fx.get("history") or []]
            seconds, payload = ask(conn, fx["question"], history)
            client_ms.append(seconds * 1000)
            server_ms.append(payload.get("timings_ms", {}).get("total", 0.0))
    conn.close()
    return client_ms, server_ms
