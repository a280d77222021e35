"""How soon a restarted server answers with the local model.

``python -m bench.startup [--starts 3] [--out FILE]``

``python app.py`` with the default local model, on a data directory its first start
ingested the seed articles into, is timed until ``/readyz`` answers 200 and then until the first
streamed token of one question. Two kinds of start, alternated so that drift in the
machine's speed hits both alike:

- ``restored``: the model's evaluated instructions saved by an earlier start
  (``data/llama/``) are restored;
- ``evaluated``: that file deleted, so they are evaluated again, as every start did
  before 0.4.18 (and a first start still does).

Medians, and the restored start's ratio against the evaluated one. Run it on an otherwise
idle machine: it times the model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.latency import stream_answer
from bench.report import emit
from tests.servers import ROOT, app_env, free_port, spawn, stop, wait_until

QUESTION = "How many drones can Ukraine produce each year?"


def timed_start(data: Path, seeds: Path) -> dict:
    """Start, wait for ready, stream one answer; the seconds each step took."""
    env = app_env(data, seeds, free_port(), QA_ANSWER_MODEL="local")
    base = f"http://127.0.0.1:{env['QA_PORT']}"
    started = time.perf_counter()
    proc = spawn([sys.executable, str(ROOT / "app.py")], env)
    try:
        wait_until(lambda: requests.get(f"{base}/readyz", timeout=10).status_code == 200,
                   proc, 300, "app.py")
        ready = time.perf_counter() - started
        first, _ = stream_answer(base, QUESTION)
        if first is None:
            raise RuntimeError("the answer streamed no token")
    finally:
        stop(proc)
    return {"ready_s": ready, "first_token_s": first, "to_first_token_s": ready + first}


def measure(starts: int, log=print) -> dict:
    runs: dict[str, list[dict]] = {"evaluated": [], "restored": []}
    with tempfile.TemporaryDirectory() as tmp:
        data, seeds = Path(tmp) / "data", ROOT / "seeds"
        timed_start(data, seeds)  # ingests the seeds, evaluates the opening and saves it
        for i in range(starts):
            for kind in ("evaluated", "restored"):
                if kind == "evaluated":
                    shutil.rmtree(data / "llama", ignore_errors=True)
                runs[kind].append(timed_start(data, seeds))
                log(f"start {i + 1} {kind}: {json.dumps(runs[kind][-1])}")
    medians = {kind: {key: round(statistics.median(r[key] for r in rows), 2)
                      for key in rows[0]} for kind, rows in runs.items()}
    ratio = medians["restored"]["to_first_token_s"] / medians["evaluated"]["to_first_token_s"]
    return {"starts": starts, "question": QUESTION, "medians": medians,
            "restored_vs_evaluated_to_first_token": round(ratio, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="starts of each kind")
    parser.add_argument("--out", type=Path, help="also write the result here as JSON")
    args = parser.parse_args(argv)
    emit(measure(args.starts, log=lambda text: print(text, file=sys.stderr)), args.out)


if __name__ == "__main__":
    main()
