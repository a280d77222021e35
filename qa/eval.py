"""Score answers against fixtures: ``python -m qa.eval FIXTURES... [--url URL] [--out DIR]``.

Runs every fixture question in-process (a fresh store with the seed corpus, or an
existing ``--data-dir``, plus any ``--corpus`` files) or against a running server, and
reports per fixture file retrieval hit@1/hit@5/MRR, answer correctness, abstention recall
and false refusals, citation validity and support, latency and time to the first streamed
token. Exits 1 when a score falls below the thresholds file (a flat file applies to every
fixture file; ``{"<file stem>": {...}}`` to the one it names).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.cite import MARKER, citation_problems
from vectorstore.terms import terms

ROOT = Path(__file__).resolve().parent.parent
SUPPORT_MIN = 0.6  # share of a sentence's content terms its quotes must contain


@dataclass
class Fixture:
    id: str
    question: str
    answers: list[str]
    sources: list[str]
    answerable: bool
    type: str = "fact"
    history: list[dict] | None = None


def load_fixtures(path: Path) -> list[Fixture]:
    fixtures = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            fixtures.append(Fixture(**json.loads(line)))
    return fixtures


# -- scoring one answer ------------------------------------------------------------------


def correct(answer: str, required: list[str]) -> bool:
    """Every required term (a ``|``-separated list of variants) appears in the answer as
    whole words, or as their plural: "8" does not answer with "18", nor "no" with "know",
    but "10 years" answers with "10 year" and "interceptors" with "interceptor"."""
    text = answer.lower()
    return all(any(re.search(rf"(?<!\w){re.escape(v.strip().lower())}(?:e?s)?(?!\w)", text)
                   for v in term.split("|")) for term in required)


def ranked_articles(response: dict) -> list[set[str]]:
    """Articles in retrieval order; a passage and its same-story copies share a rank."""
    ranks: list[set[str]] = []
    seen: set[str] = set()
    for passage in response.get("retrieved", []):
        group = {passage["article_id"], *passage.get("same_story", [])} - seen
        if group:
            ranks.append(group)
            seen |= group
    return ranks


def reciprocal_rank(ranks: list[set[str]], sources: list[str]) -> float:
    for i, group in enumerate(ranks):
        if group & set(sources):
            return 1.0 / (i + 1)
    return 0.0


def support(answer: str, citations: list[dict]) -> float | None:
    """Share of answer sentences whose cited quotes contain most of their content terms."""
    quotes = {c["n"]: set(terms(c["quote"])) for c in citations}
    sentences = [s for s in _sentences_with_markers(answer) if s[1]]
    if not sentences:
        return None
    supported = 0
    for text, numbers in sentences:
        own = set(terms(text))
        cited = set().union(*(quotes.get(n, set()) for n in numbers))
        if own and len(own & cited) / len(own) >= SUPPORT_MIN:
            supported += 1
    return supported / len(sentences)


def _sentences_with_markers(answer: str) -> list[tuple[str, list[int]]]:
    parts = []
    last = 0
    for match in MARKER.finditer(answer):
        # A marker closes the claim that precedes it; adjacent markers share the claim.
        if answer[last : match.start()].strip():
            parts.append([answer[last : match.start()], []])
        if parts:
            parts[-1][1].append(int(match.group(1)))
        last = match.end()
    return [(text, numbers) for text, numbers in parts]


def score(fx: Fixture, response: dict, seconds: float, text_of) -> dict:
    ranks = ranked_articles(response)
    rr = reciprocal_rank(ranks, fx.sources) if fx.answerable else None
    problems = citation_problems(response["answer"], response["citations"], text_of)
    right = set(fx.sources).union(*(g for g in ranks if set(g) & set(fx.sources)))
    row = {
        "id": fx.id,
        "type": fx.type,
        "question": fx.question,
        "answerable": fx.answerable,
        "answer": response["answer"],
        "abstained": response["abstained"],
        "retrieved": [sorted(g) for g in ranks[:5]],
        "hit@1": None if rr is None else rr == 1.0,
        "hit@5": None if rr is None else rr >= 1 / 5,
        "rr": rr,
        "correct": (not response["abstained"] and correct(response["answer"], fx.answers))
        if fx.answerable
        else response["abstained"],
        # Over answerable questions answered with a citation: is the first one the article
        # that holds the answer, or a copy of the same story retrieval grouped with it?
        "top_citation": (response["citations"][0]["article_id"] in right)
        if fx.answerable and response["citations"] and not response["abstained"] else None,
        "citations_valid": not problems,
        "citation_problems": problems,
        "support": support(response["answer"], response["citations"]),
        "latency_ms": round(seconds * 1000, 1),
        "first_token_ms": response.get("timings_ms", {}).get("first_token"),
        "model": response.get("model"),
        "fallback": response.get("fallback"),
    }
    for key in ("draft", "answerability"):  # what a generative reader wrote and weighed
        if key in response:
            row[key] = response[key]
    return row


# -- running -----------------------------------------------------------------------------


def final_event(chunks, started: float) -> dict:
    """Read an ``/ask`` event stream; return its final response, with the time the first
    token arrived as the client saw it (``timings_ms.first_token``)."""
    buffer, first = "", None
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            name = next((ln[7:] for ln in block.splitlines() if ln.startswith("event: ")), "")
            data = "".join(ln[6:] for ln in block.splitlines() if ln.startswith("data: "))
            if name == "token" and first is None:
                first = time.perf_counter()
            elif name == "error":
                raise RuntimeError(f"/ask failed: {data}")
            elif name == "final":
                final = json.loads(data)
                if first is not None:
                    final.setdefault("timings_ms", {})["first_token"] = round(
                        (first - started) * 1000, 1)
                return final
    raise RuntimeError("/ask ended without a final event")


def _http_runner(url: str) -> tuple[Callable[[dict], dict], Callable[[str], str | None]]:
    import requests

    session = requests.Session()
    texts: dict[str, str | None] = {}

    def ask(payload: dict) -> dict:
        started = time.perf_counter()
        r = session.post(f"{url.rstrip('/')}/ask", json={**payload, "stream": True},
                         timeout=120, stream=True)
        r.raise_for_status()
        with r:
            return final_event(r.iter_content(chunk_size=None), started)

    def text_of(article_id: str) -> str | None:
        if article_id not in texts:
            r = session.get(f"{url.rstrip('/')}/articles/{article_id}",
                            headers={"Accept": "application/json"}, timeout=30)
            texts[article_id] = r.json()["text"] if r.ok else None
        return texts[article_id]

    return ask, text_of


def _local_runner(data_dir: Path | None, corpus: list[Path], model: str | None = None,
                  drafts: Path | None = None):
    from app import create_app
    from qa.drafts import replay

    overrides = {"answer_model": model} if model else {}
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="qa-eval-"))
    overrides["data_dir"] = data_dir
    app = create_app(**overrides)
    service = app.extensions["qa"]
    service.ensure_seeded()
    if corpus:
        print(service.ingestor.ingest_paths(corpus).summary(), file=sys.stderr)
    service.warm_up()
    replayed = replay(service.reader, drafts)
    client = app.test_client()

    def ask(payload: dict) -> dict:
        started = time.perf_counter()
        r = client.post("/ask", json={**payload, "stream": True}, buffered=False)
        if r.status_code != 200:
            raise RuntimeError(f"/ask answered {r.status_code}: {r.get_data(as_text=True)}")
        try:
            return final_event(r.response, started)
        finally:
            r.close()  # ends the stream, which gives its concurrency slot back

    def text_of(article_id: str) -> str | None:
        article = service.docs.article(article_id)
        return article.text if article else None

    return ask, text_of, replayed, service.close


def run(fixtures: list[Fixture], ask, text_of) -> list[dict]:
    rows = []
    for fx in fixtures:
        payload = {"question": fx.question}
        if fx.history:
            payload["history"] = fx.history
        started = time.perf_counter()
        response = ask(payload)
        rows.append(score(fx, response, time.perf_counter() - started, text_of))
    return rows


# -- reporting ---------------------------------------------------------------------------


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def summarize(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    latencies = sorted(r["latency_ms"] for r in rows)
    return {
        "questions": len(rows),
        "hit@1": _mean(r["hit@1"] for r in answerable),
        "hit@5": _mean(r["hit@5"] for r in answerable),
        "mrr": _mean(r["rr"] for r in answerable),
        "answer_correct": _mean(r["correct"] for r in answerable),
        "abstention_recall": _mean(r["abstained"] for r in unanswerable),
        "false_refusal_rate": _mean(r["abstained"] for r in answerable),
        "top_citation": _mean(r.get("top_citation") for r in answerable
                              if r.get("top_citation") is not None),
        "citation_validity": _mean(r["citations_valid"] for r in rows),
        "citation_support": _mean(r["support"] for r in rows),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(_percentile(latencies, 95), 1) if latencies else None,
        "first_token_p50_ms": _median(r.get("first_token_ms") for r in rows),
        "degraded_rate": _mean(r.get("fallback") is not None for r in rows),
    }


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def by_type(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
    return {
        t: {"questions": len(g), "correct": _mean(r["correct"] for r in g),
            "hit@5": _mean(r["hit@5"] for r in g)}
        for t, g in sorted(groups.items())
    }


def _percentile(sorted_values: list[float], pct: float) -> float:
    index = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def check(summary: dict, thresholds: dict) -> list[str]:
    """Return the scores that miss their thresholds (``min_*`` floors, ``max_*`` ceilings)."""
    failures = []
    for key, bound in thresholds.items():
        kind, metric = key.split("_", 1)
        value = summary.get(metric)
        if value is None:
            continue
        if (kind == "min" and value < bound) or (kind == "max" and value > bound):
            failures.append(f"{metric} = {value} ({kind} {bound})")
    return failures


def write_report(out: Path, summary: dict, types: dict, rows: list[dict],
                 failures: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(
        json.dumps({"summary": summary, "by_type": types, "questions": rows,
                    "failures": failures}, indent=2, ensure_ascii=False)
    )
    _chart(out / "eval.png", types)
    lines = ["# Evaluation report", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.items()]
    lines += ["", "## By question type", "", "| type | questions | correct | hit@5 |",
              "|---|---|---|---|"]
    lines += [f"| {t} | {v['questions']} | {v['correct']} | {v['hit@5']} |"
              for t, v in types.items()]
    lines += ["", "![scores by question type](eval.png)", "", "## Misses", ""]
    for r in rows:
        if not r["correct"] or not r["citations_valid"]:
            lines.append(f"- `{r['id']}` ({r['type']}): {r['question']} -> {r['answer'][:200]}")
    lines += ["", "## Threshold failures", ""] + [f"- {f}" for f in failures or ["none"]]
    (out / "eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _chart(path: Path, types: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(types)
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.4
    xs = range(len(names))
    ax.bar([x - width / 2 for x in xs], [types[n]["correct"] or 0 for n in names], width,
           label="answer correct")
    ax.bar([x + width / 2 for x in xs], [types[n]["hit@5"] or 0 for n in names], width,
           label="retrieval hit@5")
    ax.set_xticks(list(xs), names, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title("Scores by question type")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def thresholds_for(thresholds: dict, stem: str) -> dict:
    if any(isinstance(v, dict) for v in thresholds.values()):
        return thresholds.get(stem, {})
    return thresholds


def summary_table(results: dict[str, dict]) -> str:
    """One line per fixture file: the figures a maintainer compares run to run."""
    keys = ["questions", "hit@1", "hit@5", "answer_correct", "abstention_recall",
            "false_refusal_rate", "top_citation", "citation_validity", "latency_p50_ms",
            "latency_p95_ms", "first_token_p50_ms", "degraded_rate"]
    lines = ["| fixtures | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for stem, summary in results.items():
        lines.append(f"| {stem} | " + " | ".join(str(summary.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.eval", description=__doc__.split("\n")[0])
    parser.add_argument("fixtures", type=Path, nargs="+")
    parser.add_argument("--url", help="evaluate a running server instead of in-process")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "eval")
    parser.add_argument("--data-dir", type=Path, help="in-process: use this store")
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="in-process: also ingest these files or folders (distractors)")
    parser.add_argument("--thresholds", type=Path,
                        help="floors and ceilings (tests/fixtures/gates/); none: report only")
    parser.add_argument("--model", help="in-process: the answer model (QA_ANSWER_MODEL)")
    parser.add_argument("--drafts", type=Path,
                        help="in-process: replay the model's drafts from this file, adding new "
                             "ones (quality only: replayed latencies are not the model's)")
    args = parser.parse_args(argv)
    if args.url and args.drafts:
        parser.error("--drafts replays an in-process model; it cannot with --url")

    replayed, close = None, None
    if args.url:
        ask, text_of = _http_runner(args.url)
    else:
        ask, text_of, replayed, close = _local_runner(args.data_dir, args.corpus, args.model,
                                                      args.drafts)
    try:
        return _evaluate(args, ask, text_of, replayed)
    finally:
        if close is not None:  # the model freed now, not in the interpreter's teardown
            close()


def _evaluate(args, ask, text_of, replayed) -> int:
    thresholds = json.loads(args.thresholds.read_text()) if args.thresholds else {}
    results, failed = {}, []
    for path in args.fixtures:
        rows = run(load_fixtures(path), ask, text_of)
        summary, types = summarize(rows), by_type(rows)
        failures = check(summary, thresholds_for(thresholds, path.stem))
        out = args.out / path.stem if len(args.fixtures) > 1 else args.out
        write_report(out, summary, types, rows, failures)
        results[path.stem] = summary
        print(json.dumps({path.stem: summary}, indent=2))
        for r in rows:
            if not r["correct"]:
                print(f"MISS {r['id']:32} {r['answer'][:150]!r}", file=sys.stderr)
        failed += [f"{path.stem}: {f}" for f in failures]
    args.out.mkdir(parents=True, exist_ok=True)
    table = summary_table(results)
    if replayed is not None:
        table += f"\n\n{replayed.describe()}: the latency columns are not the model's."
    (args.out / "summary.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    if failed:
        print("below thresholds: " + "; ".join(failed), file=sys.stderr)
        return 1
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    # Once (0.4.27), a replay run crashed in native code as it exited, after writing its
    # report; should it recur, the log shows where every thread was.
    faulthandler.enable()
    sys.exit(main())
