"""Rule ablation: the extractive answerer with each rule family switched off in turn.

``python -m bench.ablation [--families F ...] [--data-dir DIR] [--out FILE]`` ingests (or
reuses) the haystack store (the five seeds plus the 928 BBC articles) and a seeds-only store,
then, with every family on and with each family off, asks every fixture question through the
service in-process with the extractive reader, as ``python -m qa.eval --model extractive
--thresholds /nonexistent`` does: the blind BBC sets bbc-a and bbc-b over the haystack, the
seed sets over the seeds. The holdout bbc-c is never run here. It prints a Markdown table of
counts (docs/ablation.md) and writes every summary and per-question row as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.haystack import BBC_CSV, build_haystack
from qa import question
from qa.eval import ROOT, load_fixtures, run, summarize

FIXTURES = ROOT / "tests" / "fixtures"
BLIND = ("bbc-a", "bbc-b")  # over the haystack; bbc-c is the holdout and never run here
SEEDS = ("seeds", "seeds-b", "seeds-c", "holdout")  # over the seeds alone


def open_service(data_dir: Path, corpus: Path | None = None):
    """The extractive service on ``data_dir``, with ``corpus`` ingested (idempotent)."""
    from app import create_app

    app = create_app(data_dir=data_dir, answer_model="extractive")
    service = app.extensions["qa"]
    service.ensure_seeded()
    if corpus is not None:
        print(service.ingestor.ingest_paths([corpus]).summary(), file=sys.stderr)
    service.warm_up()
    client = app.test_client()

    def ask(payload: dict) -> dict:
        r = client.post("/ask", json=payload)
        if r.status_code != 200:
            raise RuntimeError(f"/ask answered {r.status_code}: {r.get_data(as_text=True)}")
        return r.get_json()

    def text_of(article_id: str) -> str | None:
        article = service.docs.article(article_id)
        return article.text if article else None

    return ask, text_of


def counts(rows: list[dict]) -> dict:
    """The table's figures for one fixture set (or several pooled)."""
    answerable = [r for r in rows if r["answerable"]]
    near = [r for r in rows if not r["answerable"]]
    summary = summarize(rows)
    return {
        "correct": sum(r["correct"] for r in answerable), "answerable": len(answerable),
        "abstained": sum(r["abstained"] for r in near), "near_misses": len(near),
        "refused": sum(r["abstained"] for r in answerable),
        "hit@1": summary["hit@1"], "hit@5": summary["hit@5"],
    }


def measure(stores, sets: dict[str, tuple[str, ...]]) -> dict:
    """Run every fixture set on its store; per set and pooled figures, and the rows."""
    out: dict = {"sets": {}, "rows": {}}
    for group, names in sets.items():
        ask, text_of = stores[group]
        pooled = []
        for name in names:
            rows = run(load_fixtures(FIXTURES / f"{name}.jsonl"), ask, text_of)
            out["sets"][name] = counts(rows)
            out["rows"][name] = [{k: r[k] for k in ("id", "correct", "abstained", "hit@1",
                                                    "answer")} for r in rows]
            pooled += rows
        out["sets"][group] = counts(pooled)
    return out


def cell(c: dict) -> str:
    return (f"{c['correct']}/{c['answerable']} | {c['abstained']}/{c['near_misses']} | "
            f"{c['refused']} | {c['hit@1']:.3f} | {c['hit@5']:.3f}")


def table(results: dict[str, dict]) -> str:
    head = ("| off | BBC correct | near-misses abstained | false refusals | hit@1 | hit@5 "
            "| seeds correct | abstained | refusals | hit@1 | hit@5 |")
    lines = [head, "|" + "---|" * 11]
    for name, result in results.items():
        sets = result["sets"]
        lines.append(f"| {name} | {cell(sets['blind'])} | {cell(sets['seed sets'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ablation",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="*", default=list(question.FAMILIES),
                        help="families to switch off one at a time (default: all)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) /
                        "ablation", help="where the haystack and seeds stores are kept")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "ablation.json")
    parser.add_argument("--bbc", type=Path, default=BBC_CSV, help="the BBC articles (CSV)")
    args = parser.parse_args(argv)
    unknown = set(args.families) - set(question.FAMILIES)
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; known: {question.FAMILIES}")

    haystack = build_haystack(args.data_dir / "haystack-files", bbc_csv=args.bbc)
    stores = {"blind": open_service(args.data_dir / "haystack", haystack),
              "seed sets": open_service(args.data_dir / "seeds")}
    sets = {"blind": BLIND, "seed sets": SEEDS}
    results = {}
    for family in ["(none)", *args.families]:
        question.OFF.clear()
        if family != "(none)":
            question.OFF.add(family)
        results[family] = measure(stores, sets)
        print(f"| {family} | {cell(results[family]['sets']['blind'])} | "
              f"{cell(results[family]['sets']['seed sets'])} |", file=sys.stderr, flush=True)
    question.OFF.clear()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(table(results))
    print(f"\nper question: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
