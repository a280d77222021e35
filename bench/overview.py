"""Overview questions over the haystack: "what is this story about?" and summaries.

``python -m bench.overview [--model M] [--data-dir DIR] [--out FILE]`` ingests (or reuses)
the haystack store (the five seeds plus the 928 BBC articles), then asks, through the
service in process, "What is the story about <the first four words of its headline>?" for
each article behind the blind set ``bbc-c``, and "Summarise the news about <topic>" for
topics no article covers. It reports how often the first citation is the article asked
about (or a copy of it), how many off-corpus topics abstained, the degraded share and the
latency (docs/evaluation.md, "Overview questions").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.haystack import BBC_CSV, build_haystack
from qa.eval import ROOT, load_fixtures

BLIND = ROOT / "tests" / "fixtures" / "bbc-c.jsonl"
# Stories from years after the BBC set (2004-2005): no article can be about them.
OFF_CORPUS = (
    "the mars rover landing", "the 2022 world cup final in qatar", "the covid vaccine rollout",
    "the brexit referendum result", "the launch of chatgpt", "the bitcoin price crash",
    "the tokyo olympics opening ceremony", "the death of queen elizabeth",
    "the wildfires in california last summer", "the james webb telescope images",
)
HEADLINE_WORDS = 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overview",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="local", help="the answer model (QA_ANSWER_MODEL)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) /
                        "ablation", help="where the haystack store is kept (shared with "
                        "bench.ablation)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "overview.json")
    parser.add_argument("--bbc", type=Path, default=BBC_CSV, help="the BBC articles (CSV)")
    args = parser.parse_args(argv)

    from app import create_app

    haystack = build_haystack(args.data_dir / "haystack-files", bbc_csv=args.bbc)
    app = create_app(data_dir=args.data_dir / "haystack", answer_model=args.model)
    service = app.extensions["qa"]
    service.ensure_seeded()
    print(service.ingestor.ingest_paths([haystack]).summary(), file=sys.stderr)
    service.warm_up()
    client = app.test_client()

    def ask(question: str) -> tuple[dict, float]:
        started = time.perf_counter()
        r = client.post("/ask", json={"question": question})
        if r.status_code != 200:
            raise RuntimeError(f"/ask answered {r.status_code}: {r.get_data(as_text=True)}")
        return r.get_json(), (time.perf_counter() - started) * 1000

    def opening(article_id: str) -> str:
        return service.docs.article(article_id).text[:200]

    articles = list(dict.fromkeys(s for q in load_fixtures(BLIND) for s in q.sources))
    rows, latencies = [], []
    for article_id in articles:
        headline = " ".join(service.docs.article(article_id).text.split()[:HEADLINE_WORDS])
        data, ms = ask(f"What is the story about {headline}?")
        first = data["citations"][0]["article_id"] if data["citations"] else None
        right = first is not None and opening(first) == opening(article_id)  # or a copy
        rows.append({"article_id": article_id, "question": headline, "answer": data["answer"],
                     "right": right, "abstained": data["abstained"],
                     "degraded": data.get("degraded", False), "ms": round(ms, 1)})
        latencies.append(ms)
    for topic in OFF_CORPUS:
        data, ms = ask(f"Summarise the news about {topic}")
        rows.append({"topic": topic, "answer": data["answer"], "abstained": data["abstained"],
                     "ms": round(ms, 1)})
        latencies.append(ms)

    on = [r for r in rows if "article_id" in r]
    off = [r for r in rows if "topic" in r]
    summary = {
        "model": args.model,
        "articles": len(on),
        "right_article_first": sum(r["right"] for r in on),
        "abstained": sum(r["abstained"] for r in on),
        "degraded": sum(r["degraded"] for r in on),
        "off_corpus_topics": len(off),
        "off_corpus_abstained": sum(r["abstained"] for r in off),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(sorted(latencies)[int(0.95 * len(latencies))], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    print(json.dumps(summary, indent=2))
    service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
