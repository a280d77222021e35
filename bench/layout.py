"""Answer latency with llama.cpp's weights repacked and not, on this machine.

``python -m bench.layout [--questions FILE] [--limit 30] [--rounds 2] [--bbc CSV] [--out FILE]``

``python app.py`` with the local model over the seeds and the BBC articles, once with
``QA_LOCAL_REPACK=on`` and once ``off``, alternated ``--rounds`` times so that drift in the
machine's speed hits both alike. Each start answers one question that is not a fixture,
then each question of ``--questions`` (follow-ups left out) streamed over HTTP: time to the
first streamed token and to the whole answer, as the client sees them. Medians and p95 per
layout, and the plain layout's ratio against the repacked one, which is llama.cpp's default.
Also what ``QA_LOCAL_REPACK=auto`` chose here. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from bench.haystack import BBC_CSV
from bench.latency import peak_rss_mb, percentile, stream_answer
from bench.report import emit
from qa.readers.repack import store
from qa.settings import Settings
from tests.servers import ROOT, app_env, free_port, spawn, stop, wait_until

WARM_UP = "What did the prime minister say about the economy?"
LAYOUTS = {"repacked": "on", "plain": "off"}


def serve_and_ask(data: Path, questions: list[str], **env: str) -> tuple[list, float | None]:
    """The (first token, whole answer) seconds of each question asked of ``python app.py``
    with the local model and ``env``, and the server's peak RSS."""
    env = app_env(data, ROOT / "seeds", free_port(), QA_ANSWER_MODEL="local", **env)
    base = f"http://127.0.0.1:{env['QA_PORT']}"
    proc = spawn([sys.executable, str(ROOT / "app.py")], env)
    try:
        wait_until(lambda: requests.get(f"{base}/readyz", timeout=10).status_code == 200,
                   proc, 300, "app.py")
        stream_answer(base, WARM_UP)  # waits for the model's warm-up
        # An answer that streams no token (an abstention) is first seen whole.
        times = [(first or total, total) for first, total in
                 (stream_answer(base, q) for q in questions)]
        return times, peak_rss_mb(proc.pid)
    finally:
        stop(proc)


def ingest_bbc(tmp: Path, bbc: Path) -> Path:
    """A data directory with the seeds and the BBC articles ingested."""
    data = tmp / "data"
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "ingest", str(bbc)],
                   cwd=ROOT, env=app_env(data, ROOT / "seeds"), check=True,
                   capture_output=True)
    return data


def questions_of(path: Path, limit: int) -> list[str]:
    """The first ``limit`` questions of a fixture file that are not follow-ups."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [r["question"] for r in rows if not r.get("history")][:limit]


TIMES = ("first_token_p50_s", "answer_p50_s", "answer_p95_s")


def summary(times: list[tuple[float, float]]) -> dict:
    firsts, totals = sorted(t[0] for t in times), sorted(t[1] for t in times)
    figures = (statistics.median(firsts), statistics.median(totals), percentile(totals, 95))
    return {key: round(value, 2) for key, value in zip(TIMES, figures, strict=True)}


def alternate(data: Path, questions: list[str], rounds: int, variants: dict[str, dict],
              log=print) -> dict[str, dict]:
    """Serve ``data`` once per variant (the environment it names), alternated ``rounds``
    times so that drift in the machine's speed hits all alike: each one's ``summary`` of
    all its rounds and its server's peak RSS."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    rss: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(rounds):
        for name, env in variants.items():
            run, peak = serve_and_ask(data, questions, **env)
            times[name] += run
            rss[name] += [peak] if peak else []
            log(f"round {i + 1} {name}: {json.dumps(summary(run))}, peak RSS {peak} MiB")
    return {name: {**summary(rows), "peak_rss_mb": max(rss[name], default=None)}
            for name, rows in times.items()}


def ratio(medians: dict[str, dict], of: str, against: str) -> dict:
    """Each time of ``of`` over the same time of ``against``."""
    return {key: round(medians[of][key] / medians[against][key], 2) for key in TIMES}


def measure(questions: list[str], rounds: int, bbc: Path, log=print) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        medians = alternate(ingest_bbc(Path(tmp), bbc), questions, rounds,
                            {layout: {"QA_LOCAL_REPACK": value}
                             for layout, value in LAYOUTS.items()}, log)
    kept = store(ROOT / Settings.from_env().local_model_path)
    chosen = list(json.loads(kept.read_text()).values()) if kept.is_file() else None
    return {"questions": len(questions), "rounds": rounds, "medians": medians,
            "plain_vs_repacked": ratio(medians, "plain", "repacked"), "auto_chose": chosen}


def add_serving_arguments(parser: argparse.ArgumentParser, each: str) -> None:
    """The arguments of a benchmark that serves the BBC articles and streams questions."""
    parser.add_argument("--questions", type=Path, default=ROOT / "tests/fixtures/bbc-a.jsonl")
    parser.add_argument("--limit", type=int, default=30, help="questions asked per start")
    parser.add_argument("--rounds", type=int, default=2, help=f"starts of each {each}")
    parser.add_argument("--bbc", type=Path, default=BBC_CSV, help="the BBC articles' CSV")
    parser.add_argument("--out", type=Path, help="also write the result here as JSON")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_serving_arguments(parser, "layout")
    args = parser.parse_args(argv)
    questions = questions_of(args.questions, args.limit)
    emit(measure(questions, args.rounds, args.bbc, log=lambda t: print(t, file=sys.stderr)),
         args.out)


if __name__ == "__main__":
    main()
