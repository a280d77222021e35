"""Turn the benchmark results into targets met or missed, and a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

TARGETS = {
    "ingest_vs_baseline": ("first ingest vs LangChain tutorial ingest", ">=", 3.0, "x"),
    "csv_ingest_vs_baseline": ("first ingest from the BBC CSV vs LangChain tutorial", ">=",
                               3.0, "x"),
    "reingest_speedup": ("re-ingest speedup over first ingest", ">=", 20.0, "x"),
    "hit5_drop": ("hit@5 drop, bf16 vs fp32 index", "<=", 0.01, ""),
    "ask_p50_haystack": ("/ask p50 on the haystack", "<=", 100.0, " ms"),
    "ask_p50_large": ("/ask p50 at ~100k passages", "<=", 250.0, " ms"),
    "cold_start": ("cold start to ready (largest index measured)", "<=", 5.0, " s"),
    "rss_large": ("server peak RSS at ~100k passages", "<=", 1536.0, " MiB"),
}


def targets(results: dict) -> dict:
    ingest = results.get("ingest", {})
    serve = {s["name"]: s for s in results.get("serve", [])}
    quality = results.get("quality", {})
    values = {
        "ingest_vs_baseline": ingest.get("speedup_vs_baseline"),
        "csv_ingest_vs_baseline": ingest.get("csv_speedup_vs_baseline"),
        "reingest_speedup": ingest.get("reingest", {}).get("speedup"),
        "hit5_drop": quality.get("hit5_drop"),
        "ask_p50_haystack": serve.get("haystack", {}).get("ask_p50_ms"),
        "ask_p50_large": serve.get("~100k", {}).get("ask_p50_ms"),
        "cold_start": (results["serve"][-1]["cold_start_s"] if results.get("serve") else None),
        "rss_large": serve.get("~100k", {}).get("peak_rss_mb"),
    }
    out = {}
    for key, (label, op, limit, unit) in TARGETS.items():
        value = values[key]
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        out[key] = {"label": label, "value": value, "target": f"{op} {limit:g}{unit}",
                    "met": met}
    return out


def _f(value, fmt: str = ".1f", unit: str = "") -> str:
    return "–" if value is None else f"{value:{fmt}}{unit}"


def markdown(results: dict) -> str:
    m = results["machine"]
    ingest = results["ingest"]
    lines = [
        "# Benchmark",
        "",
        f"{m['when']}; {m['cpu']}, {m['cores']} cores, bf16 matrix units: {m['bf16']}; "
        f"load average {m['load_start']} at start, {m['load_end']} at end. {m.get('note', '')}",
        "",
        "## Targets",
        "",
        "| target | measured | goal | met |",
        "|---|---|---|---|",
    ]
    for t in results["targets"].values():
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        value = t["value"]
        lines.append(f"| {t['label']} | {_f(value, '.3g')} | {t['target']} | {met} |")
    lines += [
        "",
        f"## Ingest of the haystack ({ingest['articles']} articles), medians",
        "",
        "| pipeline | passages | model tokens | wall (s) | CPU (s) | passages/s | runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, key in (("ours, bf16", "ours_bf16"), ("ours, fp32", "ours_fp32"),
                       ("ours, bf16, from seeds/ and the BBC CSV", "ours_csv"),
                       ("LangChain tutorial (fp32)", "baseline")):
        row = ingest.get(key)
        if row:
            lines.append(
                f"| {label} | {row['passages']} | {row.get('tokens', '–')} | "
                f"{_f(row['seconds'])} | "
                f"{_f(row['cpu_seconds'])} | {_f(row['passages_per_s'])} | "
                f"{len(row['runs_s'])} |"
            )
    again = ingest.get("reingest", {})
    lines += [
        f"| ours, re-ingest unchanged | {ingest['ours_bf16']['passages']} | – | "
        f"{_f(again.get('seconds'), '.2f')} | – | – | {len(again.get('runs_s', []))} |",
        "",
        f"- first ingest vs LangChain tutorial: **{_f(ingest.get('speedup_vs_baseline'), '.2f')}×"
        f"** faster (paired per run: {_f(ingest.get('speedup_vs_baseline_paired'), '.2f')}×)",
        f"- first ingest from the CSV (the same articles) vs LangChain tutorial: "
        f"**{_f(ingest.get('csv_speedup_vs_baseline'), '.2f')}×**; its re-ingest "
        f"{_f(ingest.get('ours_csv', {}).get('reingest_s'), '.2f')} s",
        f"- bf16 vs fp32 (ours): {_f(ingest.get('bf16_speedup'), '.2f')}×",
        f"- of our {ingest['ours_bf16'].get('tokens')} model tokens, "
        f"{ingest['ours_bf16'].get('title_tokens')} are the article titles, each encoded "
        "once and mixed into its passages' vectors",
        f"- re-ingest: {_f(again.get('speedup'), '.0f')}× faster than the first ingest",
        f"- model load (not in the times above): {_f(ingest.get('model_load_s'), '.1f')} s",
        "",
        "## Retrieval quality over the haystack (answerable fixtures)",
        "",
        "| index | hit@5 |",
        "|---|---|",
    ]
    q = results["quality"]
    for label, key in (("ours, bf16 ingest", "ours_bf16"), ("ours, fp32 ingest", "ours_fp32"),
                       ("LangChain tutorial", "baseline")):
        if key in q:
            lines.append(f"| {label} | {_f(q[key]['hit@5'], '.3f')} |")
    lines += [
        "",
        "## Serving (`python app.py`, waitress, HTTP on loopback, warm, extractive)",
        "",
        "| corpus | passages | cold start (s) | cold start CPU (s) | /ask p50 (ms) | "
        "/ask p95 (ms) | server total p50 (ms) | peak RSS (MiB) | requests |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in results["serve"]:
        lines.append(
            f"| {s['name']} | {s['passages']} | {_f(s['cold_start_s'], '.2f')} | "
            f"{_f(s.get('cold_start_cpu_s'), '.2f')} | {_f(s['ask_p50_ms'])} | "
            f"{_f(s['ask_p95_ms'])} | {_f(s['server_total_p50_ms'])} | "
            f"{_f(s['peak_rss_mb'], '.0f')} | {s['requests']} |"
        )
    lines += ["", f"Total benchmark time: {results['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def emit(result: dict, out: Path | None) -> None:
    """Print a benchmark's result as JSON, and write it to ``out`` when given."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text)
