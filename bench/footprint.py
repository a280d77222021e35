"""Memory at ~100k passages: the peak RSS of each part of a deployment.

    python -m bench.footprint [--cache data/bench-cache] [--out FILE]

The cached large index of ``bench.scale`` (~100k passages) serves, in turn:

1. ``python app.py`` embedded with the local model (the README defaults at 100k: the
   issue's 3.5 GB target),
2. ``chroma run`` on the same Chroma directory, and a worker in server mode on an empty
   data directory, answering extractively (in scale mode the model runs elsewhere),
3. the model server (``python -m llama_cpp.server``) after one answer.

Each server answers a few questions first; peak RSS is ``VmHWM`` of the process and its
children, read from ``/proc`` before it stops.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import requests

from bench.report import emit
from bench.scale import ensure_large_index
from qa.settings import Settings
from tests.servers import (
    ROOT,
    app_env,
    free_port,
    start_app,
    start_chroma,
    start_model_server,
    stop,
)

QUESTIONS = [
    "How many drones can Ukraine produce each year?",
    "Where did Zelensky and Rutte meet?",
    "How much does Ukraine plan to invest per year in its own weapons production?",
    "What is the PURL programme designed to do?",
    "Who won the Boston indoor 5000m?",
]
MIB = 1024 * 1024


def peak_rss(pid: int) -> int:
    """Peak resident bytes of ``pid`` and every descendant still running."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total


def ask_all(port: str) -> list[float]:
    seconds = []
    for question in QUESTIONS:
        r = requests.post(f"http://127.0.0.1:{port}/ask", json={"question": question},
                          timeout=300)
        r.raise_for_status()
        seconds.append(r.elapsed.total_seconds())
    return seconds


def serve_and_ask(env: dict, name: str, timeout: float) -> dict:
    """Start ``python app.py`` with ``env``, ask the questions, return times and peak RSS."""
    worker = start_app(env, module="app.py", timeout=timeout)
    try:
        return {f"{name}_s": ask_all(env["QA_PORT"]),
                f"{name}_mib": round(peak_rss(worker.pid) / MIB)}
    finally:
        stop(worker)


def measure(data: Path, work: Path) -> dict:
    result = serve_and_ask(app_env(data, ROOT / "seeds", free_port(), QA_ANSWER_MODEL="local"),
                           "embedded_with_model", 600)
    chroma, port = start_chroma(data / "chroma", timeout=300)
    try:
        result |= serve_and_ask(app_env(work / "worker", ROOT / "seeds", free_port(),
                                        QA_CHROMA_HOST="127.0.0.1", QA_CHROMA_PORT=str(port)),
                                "server_mode_worker", 900)
        result["chroma_server_mib"] = round(peak_rss(chroma.pid) / MIB)
    finally:
        stop(chroma)
    result["model_server_mib"] = model_server_rss()
    return result


def model_server_rss() -> int:
    settings = Settings()
    server, url = start_model_server(ROOT / settings.local_model_path, settings.local_threads,
                                     settings.local_context)
    try:
        requests.post(f"{url}/chat/completions", timeout=120, json={
            "model": "local", "max_tokens": 16, "temperature": 0,
            "messages": [{"role": "user", "content": QUESTIONS[0]}]}).raise_for_status()
        return round(peak_rss(server.pid) / MIB)
    finally:
        stop(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "bench-cache")
    parser.add_argument("--bbc", type=Path,
                        default=ROOT.parent / "shared" / "data" / "bbc-news-928.csv")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    data, manifest = ensure_large_index(args.cache, args.bbc, Settings(),
                                        log=lambda m: print(m, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as work:
        result = {"passages": manifest.get("passages"), **measure(data, Path(work))}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
