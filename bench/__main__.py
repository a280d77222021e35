"""``python -m bench``: ingest, retrieval quality and serving benchmarks, with the baseline.

Writes ``bench.json``, ``bench.md`` and ``bench.png`` into ``--out``; a full run also copies
the figure to ``docs/bench.png``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from bench.haystack import BBC_CSV, ROOT, build_haystack, copy_seeds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="seeds and haystack only, one run of everything")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    p.add_argument("--bbc", type=Path, default=BBC_CSV, help="the BBC news CSV")
    p.add_argument("--bbc-limit", type=int, default=None,
                   help="use only the first N BBC articles (a smoke test of the script)")
    p.add_argument("--cache", type=Path, default=ROOT / "data" / "bench-cache",
                   help="where the ~100k-passage index is built once and kept")
    p.add_argument("--large-passages", type=int, default=100_000)
    p.add_argument("--skip-large", action="store_true", help="leave out the ~100k size")
    p.add_argument("--build-cache", action="store_true",
                   help="only build the ~100k-passage index into --cache, then exit")
    p.add_argument("--ingest-repeats", type=int, default=3, help="first ingests, ours in bf16")
    p.add_argument("--fp32-repeats", type=int, default=3, help="first ingests, ours in fp32")
    p.add_argument("--baseline-repeats", type=int, default=3,
                   help="LangChain tutorial ingests")
    p.add_argument("--starts", type=int, default=3, help="server cold starts per corpus size")
    p.add_argument("--ask-rounds", type=int, default=1,
                   help="passes over the fixture questions per corpus size")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = p.parse_args(argv)
    if args.quick:
        args.skip_large = True
        args.ingest_repeats = args.fp32_repeats = args.baseline_repeats = 1
        args.starts = 1
    return args


def median_of(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_snapshot() -> tuple[float, float, float]:
    """Return (busy CPU seconds of the whole machine, of this process and its reaped
    children, wall clock), to tell how much of the CPU other work took during the run."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
    own = os.times()
    return (busy / os.sysconf("SC_CLK_TCK"), own.user + own.system + own.children_user
            + own.children_system, time.perf_counter())


def others_cores(before: tuple[float, float, float]) -> float:
    """Average number of cores busy with work other than this benchmark since ``before``."""
    after = cpu_snapshot()
    busy, own, wall = (a - b for a, b in zip(after, before, strict=True))
    return max(0.0, (busy - own) / wall) if wall > 0 else 0.0


def machine() -> dict:
    import torch

    from vectorstore.embed import cpu_has_bf16

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "bf16": cpu_has_bf16(),
        "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
        "load_start": load_average(),
    }


def run_ingest(args, settings, haystack: Path, scratch: Path, fixtures: list[dict],
               as_csv: list[Path] | None = None) -> dict:
    """Interleave our bf16, our fp32 and the baseline so drifting load hits all three alike.

    ``as_csv`` is the same corpus as users have it (the seeds folder and the BBC CSV): our
    bf16 ingest of it runs beside the others and is compared with the same baseline runs.
    """
    from bench import baseline
    from bench.ingest import (
        count_tokens,
        fresh_dir,
        hit_at_5,
        ingest_once,
        load_embedder,
        our_tokens,
    )

    say("loading the model (bf16, fp32, baseline)")
    bf16, load_s = load_embedder(settings.replace(embed_precision="bf16"))
    fp32, _ = load_embedder(settings.replace(embed_precision="fp32"))
    base_embeddings = baseline.MiniLMEmbeddings()
    base_embeddings.embed_documents(["warm up the model"] * 16)

    ours, ours32, base, ours_csv = [], [], [], []
    for r in range(max(args.ingest_repeats, args.fp32_repeats, args.baseline_repeats)):
        if r < args.ingest_repeats:
            run = ingest_once(haystack, settings.replace(embed_precision="bf16"), bf16,
                              fresh_dir(scratch, f"bf16-{r}"))
            ours.append(run)
            say(f"ours bf16 #{r + 1}: {run.passages} passages in {run.seconds:.1f}s "
                f"({run.passages_per_s:.0f}/s), re-ingest {run.reingest_seconds:.2f}s")
        if as_csv and r < args.ingest_repeats:
            run = ingest_once(as_csv, settings.replace(embed_precision="bf16"), bf16,
                              fresh_dir(scratch, f"csv-{r}"))
            ours_csv.append(run)
            say(f"ours bf16 from the CSV #{r + 1}: {run.passages} passages in "
                f"{run.seconds:.1f}s, re-ingest {run.reingest_seconds:.2f}s")
        if r < args.fp32_repeats:
            run = ingest_once(haystack, settings.replace(embed_precision="fp32"), fp32,
                              fresh_dir(scratch, f"fp32-{r}"))
            ours32.append(run)
            say(f"ours fp32 #{r + 1}: {run.seconds:.1f}s ({run.passages_per_s:.0f}/s)")
        if r < args.baseline_repeats:
            run = baseline.ingest(haystack, base_embeddings, fresh_dir(scratch, f"base-{r}"))
            base.append(run)
            say(f"LangChain tutorial #{r + 1}: {run.passages} chunks in {run.seconds:.1f}s "
                f"({run.passages_per_s:.0f}/s)")

    say("retrieval hit@5 over the haystack: bf16 index, fp32 index, baseline")
    quality = {
        "ours_bf16": hit_at_5(ours[-1].data_dir, settings, bf16, fixtures),
        "ours_fp32": hit_at_5(ours32[-1].data_dir, settings, fp32, fixtures) if ours32 else None,
        "baseline": baseline.retrieval(base[-1].store, fixtures) if base else None,
    }
    quality = {k: v for k, v in quality.items() if v}
    if "ours_fp32" in quality:
        quality["hit5_drop"] = round(
            quality["ours_fp32"]["hit@5"] - quality["ours_bf16"]["hit@5"], 4)

    def row(runs) -> dict:
        seconds = median_of([r.seconds for r in runs])
        return {"passages": runs[0].passages, "seconds": round(seconds, 2),
                "cpu_seconds": round(median_of([r.cpu_seconds for r in runs]), 2),
                "passages_per_s": round(runs[0].passages / seconds, 1),
                "runs_s": [round(r.seconds, 2) for r in runs]}

    ingest = {"articles": ours[0].articles, "model_load_s": round(load_s, 1),
              "ours_bf16": {**row(ours), **our_tokens(haystack, settings)}}
    again = [r.reingest_seconds for r in ours]
    ingest["reingest"] = {"seconds": round(median_of(again), 3),
                          "runs_s": [round(s, 3) for s in again],
                          "speedup": round(ingest["ours_bf16"]["seconds"] / median_of(again), 1)}
    if ours32:
        ingest["ours_fp32"] = row(ours32)
        ingest["bf16_speedup"] = round(ingest["ours_fp32"]["seconds"]
                                       / ingest["ours_bf16"]["seconds"], 2)
    if ours_csv:
        ingest["ours_csv"] = {**row(ours_csv), "articles": ours_csv[0].articles,
                              "reingest_s": round(median_of([r.reingest_seconds
                                                             for r in ours_csv]), 3)}
    if base:
        ingest["baseline"] = {**row(base), "tokens": count_tokens(base[-1].texts)}
        if ours_csv:
            ingest["csv_speedup_vs_baseline"] = round(ingest["baseline"]["seconds"]
                                                      / ingest["ours_csv"]["seconds"], 2)
        ingest["speedup_vs_baseline"] = round(ingest["baseline"]["seconds"]
                                              / ingest["ours_bf16"]["seconds"], 2)
        paired = [b.seconds / o.seconds for o, b in zip(ours, base, strict=False)]
        ingest["speedup_vs_baseline_paired"] = round(median_of(paired), 2)
    return {"ingest": ingest, "quality": quality, "haystack_dir": ours[-1].data_dir,
            "embedder": bf16}


def passages_in(data_dir: Path) -> int:
    from vectorstore.corpus import CACHE_FILE
    from vectorstore.docstore import DocStore

    return DocStore(data_dir / CACHE_FILE).count_chunks()


def run_serving(args, settings, sizes: list[tuple[str, Path]], seeds: Path,
                fixtures: list[dict]) -> list[dict]:
    from bench.latency import measure

    out = []
    for name, data_dir in sizes:
        passages = passages_in(data_dir)
        say(f"serving {name} ({passages} passages): {args.starts} cold start(s), "
            f"{len(fixtures) * args.ask_rounds} questions")
        result = measure(data_dir, fixtures, args.out / "logs" / f"server-{name}.log", seeds,
                         starts=args.starts, rounds=args.ask_rounds)
        row = {"name": name, "passages": passages, **result.to_json()}
        say(f"  cold start {row['cold_start_s']}s, /ask p50 {row['ask_p50_ms']} ms, "
            f"p95 {row['ask_p95_ms']} ms, peak RSS {row['peak_rss_mb']} MiB")
        out.append(row)
    return out


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench import plot, report
    from bench.ingest import load_fixtures, scratch_dir
    from qa.settings import Settings

    settings = Settings.from_env()
    if args.build_cache:
        from bench.scale import ensure_large_index

        ensure_large_index(args.cache, args.bbc, settings, args.large_passages, log=say)
        return 0
    if not args.bbc.exists():
        sys.exit(f"error: no BBC CSV at {args.bbc} (pass --bbc)")
    started = time.perf_counter()
    snapshot = cpu_snapshot()
    results: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    fixtures = load_fixtures()
    scratch = scratch_dir()
    try:
        haystack = build_haystack(scratch / "haystack", args.bbc, limit=args.bbc_limit)
        seeds = copy_seeds(scratch / "seeds")
        # The same articles as users have them: the seeds folder and the BBC CSV itself.
        as_csv = None if args.bbc_limit else [seeds, args.bbc]
        ingested = run_ingest(args, settings, haystack, scratch, fixtures, as_csv)
        results["ingest"], results["quality"] = ingested["ingest"], ingested["quality"]

        # The seeds index, built the way a first start builds it.
        from bench.ingest import ingest_once

        seeds_dir = ingest_once(seeds, settings.replace(embed_precision="bf16"),
                                ingested.pop("embedder"), scratch / "seeds-data").data_dir
        sizes = [("seeds", seeds_dir), ("haystack", ingested["haystack_dir"])]
        if not args.skip_large:
            from bench.scale import ensure_large_index

            large, _ = ensure_large_index(args.cache, args.bbc, settings,
                                          args.large_passages, log=say)
            sizes.append(("~100k", large))
        results["serve"] = run_serving(args, settings, sizes, seeds, fixtures)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    results["machine"]["load_end"] = load_average()
    busy = others_cores(snapshot)
    results["machine"]["other_work_cores"] = round(busy, 2)
    if busy > 0.25:
        results["machine"]["note"] = (
            f"Other processes kept {busy:.1f} of {os.cpu_count()} cores busy on average "
            "during this run: absolute times are inflated and noisy; ratios measured "
            "in the same run hold better."
        )
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = report.targets(results)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "bench.md").write_text(report.markdown(results))
    png = plot.plot(results, args.out / "bench.png")
    if not args.quick and not args.skip_large:
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(png, ROOT / "docs" / "bench.png")
    say(f"wrote {args.out / 'bench.md'}, bench.json and bench.png")
    print(report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
