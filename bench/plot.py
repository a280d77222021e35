"""Draw the benchmark figure: latency and memory against corpus size, and ingest bars."""

from __future__ import annotations

from pathlib import Path


def plot(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [s for s in results.get("serve", []) if s.get("ask_p50_ms") is not None]
    fig, (ax_lat, ax_mem, ax_ing) = plt.subplots(1, 3, figsize=(15, 4.6))
    if sizes:
        xs = [s["passages"] for s in sizes]
        ax_lat.plot(xs, [s["ask_p50_ms"] for s in sizes], "o-", label="p50")
        ax_lat.plot(xs, [s["ask_p95_ms"] for s in sizes], "s--", label="p95")
        for x, s in zip(xs, sizes, strict=True):
            ax_lat.annotate(s["name"], (x, s["ask_p50_ms"]), textcoords="offset points",
                            xytext=(0, 8), ha="center", fontsize=8)
        ax_mem.plot(xs, [s["peak_rss_mb"] or 0 for s in sizes], "o-", color="tab:purple")
        for ax in (ax_lat, ax_mem):
            ax.set_xscale("log")
            ax.set_xlabel("corpus size (passages)")
            ax.grid(True, which="both", alpha=0.3)
    ax_lat.axhline(100, color="tab:green", lw=0.8, ls=":", label="target 100 ms (haystack)")
    ax_lat.axhline(250, color="tab:red", lw=0.8, ls=":", label="target 250 ms (~100k)")
    ax_lat.set_ylabel("/ask latency over HTTP (ms)")
    ax_lat.set_title("/ask latency, warm, extractive")
    ax_lat.legend(fontsize=8)
    ax_mem.axhline(1536, color="tab:red", lw=0.8, ls=":", label="target 1.5 GB")
    ax_mem.set_ylabel("server peak RSS (MiB)")
    ax_mem.set_title("server memory")
    ax_mem.legend(fontsize=8)

    ingest = results.get("ingest", {})
    bars = [(label, ingest.get(key, {}).get("seconds"))
            for label, key in (("ours bf16", "ours_bf16"), ("ours fp32", "ours_fp32"),
                               ("LangChain\ntutorial", "baseline"),
                               ("ours re-ingest", "reingest"))]
    bars = [(label, v) for label, v in bars if v is not None]
    if bars:
        colors = ["tab:blue", "tab:cyan", "tab:gray", "tab:green"][: len(bars)]
        drawn = ax_ing.bar([b[0] for b in bars], [b[1] for b in bars], color=colors)
        ax_ing.bar_label(drawn, labels=[f"{b[1]:.1f} s" for b in bars], fontsize=8)
    ax_ing.set_ylabel("wall time (s), median")
    ax_ing.set_title(f"ingest of the haystack ({ingest.get('articles', '?')} articles)")
    note = results.get("machine", {}).get("note")
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
