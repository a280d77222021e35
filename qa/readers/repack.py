"""Whether llama.cpp should repack the model's weights on this CPU: timed once, then kept.

At load llama.cpp can copy Q4_K weights into an interleaved layout ("repacking",
``use_extra_bufts``) made for its AVX2/AVX-512 kernels. Which layout is faster depends on
the CPU, and differently for the two halves of an answer: on an Intel Xeon here (AVX-512,
AMX off) the plain layout evaluates a prompt ~1.35x faster (115 vs 86 tokens/s) and the
repacked one writes tokens ~1.4x faster (70 vs 96 ms each). An answer is mostly prompt
(~220 new tokens, ~10 written), so the choice is timed on the machine itself, both layouts
alternated, and the verdict kept beside the model file, keyed by everything it depends on:
a new CPU, thread count, model or llama.cpp times it again. A round in which another process
took some of the cores does not count: a load that started between two layouts' timings
once kept the slower layout for good.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

# A typical answer on two cores: the new prompt tokens (six sentences and the question) and
# the tokens written (docs/performance.md, "Repacking the weights").
PROMPT_TOKENS, WRITTEN_TOKENS = 220, 10
# Timed per layout and round: a prompt batch, then single tokens. Two clean rounds,
# alternated; each layout's best clean round counts.
SAMPLE_TOKENS, SAMPLE_WRITES, ROUNDS = 128, 6, 2
# A round is clean when llama.cpp's threads had the cores to themselves: their CPU time is
# 0.99 of threads x wall time on an idle machine here, 0.68 with one core busy elsewhere.
CLEAN_SHARE, MAX_ROUNDS = 0.9, 6
SAMPLE = ("The minister said on Tuesday that the plan would cost £2bn over five years, "
          "and critics warned that thousands of jobs could be lost in the north of England. ")


class Timing(NamedTuple):
    prompt: float  # seconds per prompt token
    write: float  # seconds per written token
    share: float  # of the cores the threads were given, how much they got


# repacked or not -> its timing
Timer = Callable[[bool], Timing]


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
    clean: list[dict[bool, Timing]] = []
    loaded: list[dict[bool, Timing]] = []
    for _ in range(MAX_ROUNDS):
        if len(clean) == ROUNDS:
            break
        timings = {layout: timer(layout) for layout in (True, False)}
        fair = min(t.share for t in timings.values()) >= CLEAN_SHARE
        (clean if fair else loaded).append(timings)
    if len(clean) < ROUNDS:
        # Busy throughout: each round's two layouts ran under about the same load, so the
        # rounds' middle ratio decides, for this start only; the next start times again.
        ratios = [_cost(r[True]) / _cost(r[False]) for r in clean + loaded]
        repack = statistics.median(ratios) <= 1
        log.warning("llama.cpp weights %s for now: another process kept taking cores while "
                    "the layouts were timed", "repacked" if repack else "not repacked")
        return repack
    best = {layout: Timing(min(r[layout].prompt for r in clean),
                           min(r[layout].write for r in clean), 1.0) for layout in (True, False)}
    cost = {layout: _cost(timing) for layout, timing in best.items()}
    repack = cost[True] <= cost[False]
    verdicts[key] = {"repack": repack, **{
        ("repacked" if layout else "plain"): {
            "prompt_tokens_per_s": round(1 / t.prompt, 1), "written_ms": round(t.write * 1000, 1),
            "answer_s": round(cost[layout], 2)}
        for layout, t in best.items()}}
    log.info("llama.cpp weights %s on this CPU: %s", "repacked" if repack else "not repacked",
             verdicts[key])
    _write(store(path), verdicts)
    return repack


def _cost(timing: Timing) -> float:
    """Seconds for a typical answer."""
    return PROMPT_TOKENS * timing.prompt + WRITTEN_TOKENS * timing.write


class LayoutTimer:
    """Times a model ``load(repack)`` builds with ``threads``: a prompt batch from an empty
    cache, then single tokens after it, and the share of the cores its threads got. Each
    layout is loaded and warmed once, kept for the next round, freed by ``close``."""

    def __init__(self, load: Callable[[bool], object], threads: int):
        self.load, self.models = load, {}
        self.cores = max(1, min(threads, len(os.sched_getaffinity(0))))

    def __call__(self, repack: bool) -> Timing:
        if repack not in self.models:
            self.models[repack] = self.load(repack)
            self._evaluate(self.models[repack])  # the first pass faults the weights' pages in
        llm = self.models[repack]
        wall, cpu = time.perf_counter(), time.process_time()
        tokens = self._evaluate(llm)
        prompt = (time.perf_counter() - wall) / len(tokens)
        writes = []
        for token in tokens[:SAMPLE_WRITES]:
            started = time.perf_counter()
            llm.eval([token])
            writes.append(time.perf_counter() - started)
        # process_time counts every thread of the process: llama.cpp's busy threads.
        share = (time.process_time() - cpu) / (self.cores * (time.perf_counter() - wall))
        return Timing(prompt, min(writes), share)

    @staticmethod
    def _evaluate(llm) -> list[int]:
        """The sample prompt evaluated from an empty cache (tokenizing it takes ~0.1 ms)."""
        tokens = llm.tokenize((SAMPLE * 8).encode(), add_bos=False)[:SAMPLE_TOKENS]
        llm.n_tokens = 0  # eval() clears the cache from here on
        llm.eval(tokens)
        return tokens

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
    from qa.readers.llama import build_name, fastest_layout
    from qa.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    if settings.local_repack != "auto":
        print(f"QA_LOCAL_REPACK={settings.local_repack}: nothing to time")
        return 0
    path = Path(settings.local_model_path)
    repack = fastest_layout(path, settings.local_threads)
    kept = identity(path, settings.local_threads, build_name()) in _read(store(path))
    print(f"{path.name}: weights {'repacked' if repack else 'not repacked'} on this CPU "
          + (f"(kept in {store(path)})" if kept else "(not kept: the machine was busy)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
