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
import json
import sys
import tempfile
from pathlib import Path

import requests

from bench.scale import ensure_large_index
from qa.settings import Settings
from tests.servers import (
    ROOT,
    app_env,
    free_port,
    spawn,
    start_app,
    start_chroma,
    stop,
    wait_until,
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


def measure(data: Path, work: Path) -> dict:
    result = {}
    env = app_env(data, ROOT / "seeds", free_port(), QA_ANSWER_MODEL="local")
    worker = start_app(env, module="app.py", timeout=600)
    try:
        result["embedded_with_model_s"] = ask_all(env["QA_PORT"])
        result["embedded_with_model_mib"] = round(peak_rss(worker.pid) / MIB)
    finally:
        stop(worker)
    chroma, port = start_chroma(data / "chroma", timeout=300)
    try:
        env = app_env(work / "worker", ROOT / "seeds", free_port(),
                      QA_CHROMA_HOST="127.0.0.1", QA_CHROMA_PORT=str(port))
        worker = start_app(env, module="app.py", timeout=900)
        try:
            result["server_mode_worker_s"] = ask_all(env["QA_PORT"])
            result["server_mode_worker_mib"] = round(peak_rss(worker.pid) / MIB)
        finally:
            stop(worker)
        result["chroma_server_mib"] = round(peak_rss(chroma.pid) / MIB)
    finally:
        stop(chroma)
    result["model_server_mib"] = model_server_rss()
    return result


def model_server_rss() -> int:
    settings, port = Settings(), free_port()
    server = spawn([sys.executable, "-m", "llama_cpp.server", "--model",
                    str(ROOT / settings.local_model_path), "--host", "127.0.0.1", "--port",
                    str(port), "--n_ctx", str(settings.local_context), "--n_threads",
                    str(settings.local_threads), "--model_alias", "local"], {})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until(lambda: requests.get(f"{url}/models", timeout=2).ok, server, 120,
                   "llama_cpp.server")
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
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
