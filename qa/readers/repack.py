"""Whether llama.cpp should repack the model's weights on this CPU: timed once, then kept.

At load llama.cpp can copy Q4_K weights into an interleaved layout ("repacking",
``use_extra_bufts``) made for its AVX2/AVX-512 kernels. Which layout is faster depends on
the CPU, and differently for the two halves of an answer: on an Intel Xeon here (AVX-512,
AMX off) the plain layout evaluates a prompt ~1.35x faster (115 vs 86 tokens/s) and the
repacked one writes tokens ~1.4x faster (70 vs 96 ms each). An answer is mostly prompt
(~220 new tokens, ~10 written), so the choice is timed on the machine itself, both layouts
alternated, and the verdict kept beside the model file, keyed by everything it depends on:
a new CPU, thread count, model or llama.cpp times it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# A typical answer on two cores: the new prompt tokens (six sentences and the question) and
# the tokens written (docs/performance.md, "Repacking the weights").
PROMPT_TOKENS, WRITTEN_TOKENS = 220, 10
# Timed per layout and round: a prompt batch, then single tokens. Two rounds, alternated, so
# a passing load on the machine hits both layouts; each layout's best round counts.
SAMPLE_TOKENS, SAMPLE_WRITES, ROUNDS = 128, 6, 2
SAMPLE = ("The minister said on Tuesday that the plan would cost £2bn over five years, "
          "and critics warned that thousands of jobs could be lost in the north of England. ")

# repacked or not -> (seconds per prompt token, seconds per written token)
Timer = Callable[[bool], tuple[float, float]]


def cpu_name() -> str:
    """The CPU's model name and a digest of its instruction sets (a VM may name several
    generations of a vendor's CPUs alike)."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())  # the first core's
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "flags" not in fields:
        return name
    flags = " ".join(sorted(fields["flags"].split()))
    return f"{name} [{hashlib.sha256(flags.encode()).hexdigest()[:8]}]"


def identity(path: Path, threads: int, build: str) -> str:
    stat = path.stat()
    return f"{cpu_name()}|{os.cpu_count()}|{threads}|{build}|{path.name}|{stat.st_size}"


def store(path: Path) -> Path:
    """The file that keeps the verdicts for the model at ``path``."""
    return path.with_name(f"{path.name}.repack.json")


def choose(path: Path, threads: int, build: str, timer: Timer) -> bool:
    """Repack or not: the kept verdict for this machine, else timed by ``timer`` and kept."""
    key = identity(path, threads, build)
    verdicts = _read(store(path))
    if isinstance(verdicts.get(key), dict) and isinstance(verdicts[key].get("repack"), bool):
        return verdicts[key]["repack"]
    best: dict[bool, tuple[float, float]] = {}
    for _ in range(ROUNDS):
        for layout in (True, False):
            prompt, write = timer(layout)
            old = best.get(layout, (prompt, write))
            best[layout] = (min(old[0], prompt), min(old[1], write))
    cost = {layout: PROMPT_TOKENS * p + WRITTEN_TOKENS * w for layout, (p, w) in best.items()}
    repack = cost[True] <= cost[False]
    verdicts[key] = {"repack": repack, **{
        ("repacked" if layout else "plain"): {
            "prompt_tokens_per_s": round(1 / p, 1), "written_ms": round(w * 1000, 1),
            "answer_s": round(cost[layout], 2)}
        for layout, (p, w) in best.items()}}
    log.info("llama.cpp weights %s on this CPU: %s", "repacked" if repack else "not repacked",
             verdicts[key])
    _write(store(path), verdicts)
    return repack


class LayoutTimer:
    """Times a model ``load(repack)`` builds: a prompt batch from an empty cache, then single
    tokens after it. Each layout is loaded once, kept for the next round, freed by ``close``."""

    def __init__(self, load: Callable[[bool], object]):
        self.load, self.models = load, {}

    def __call__(self, repack: bool) -> tuple[float, float]:
        if repack not in self.models:
            self.models[repack] = self.load(repack)
        llm = self.models[repack]
        tokens = llm.tokenize((SAMPLE * 8).encode(), add_bos=False)[:SAMPLE_TOKENS]
        llm.n_tokens = 0  # eval() clears the cache from here on
        started = time.perf_counter()
        llm.eval(tokens)
        prompt = (time.perf_counter() - started) / len(tokens)
        writes = []
        for token in tokens[:SAMPLE_WRITES]:
            started = time.perf_counter()
            llm.eval([token])
            writes.append(time.perf_counter() - started)
        return prompt, min(writes)

    def close(self) -> None:
        for llm in self.models.values():
            llm.close()
        self.models.clear()


def _read(kept: Path) -> dict:
    try:
        verdicts = json.loads(kept.read_text())
    except (OSError, ValueError):
        return {}
    return verdicts if isinstance(verdicts, dict) else {}


def _write(kept: Path, verdicts: dict) -> None:
    partial = kept.with_name(f"{kept.name}.{os.getpid()}.part")
    try:
        partial.write_text(json.dumps(verdicts, indent=1))
        os.replace(partial, kept)
    except OSError as exc:  # a read-only models directory: timed again at the next start
        log.warning("could not keep the repacking verdict in %s: %s", kept, exc)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def main() -> int:
    """``python -m qa.readers.repack``: time the layouts now (``make setup`` does), so the
    first answer does not; prints the verdict, quick when one is kept."""
    from qa.readers.llama import fastest_layout
    from qa.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    if settings.local_repack != "auto":
        print(f"QA_LOCAL_REPACK={settings.local_repack}: nothing to time")
        return 0
    path = Path(settings.local_model_path)
    repack = fastest_layout(path, settings.local_threads)
    print(f"{path.name}: weights {'repacked' if repack else 'not repacked'} on this CPU "
          f"(kept in {store(path)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
