"""Where a generative reader loses answers: finding the answer's sentence, or reading it.

    python -m qa.ceiling FIXTURES... --data-dir DIR [--model SPEC] [--drafts FILE] [--out ROWS]

Each answerable question whose answer is a phrase of one sentence of its source article is
answered three times by the configured generative reader, every time through verification,
the abstainer and the extractive fallback, exactly as the service would show it:

- ``served``: from the sentences the service picks (what users get);
- ``among``: the same sentences, with the answer's sentence in place of the last one when
  it is missing (perfect retrieval: the answer is always in front of the model);
- ``alone``: from the answer's sentence only (perfect selection: what is left is reading).

``served`` to ``among`` is what better retrieval could add; ``among`` to ``alone`` is lost
choosing among the sentences; below ``alone``, the model misreads. Swapping the answer
model, this says which part to work on. Yes/no questions and answers spread over several
sentences are left out and counted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from qa.condense import Turn
from qa.errors import ModelError
from qa.eval import Fixture, correct, load_fixtures
from qa.readers import ReaderInput, finish
from qa.readers.evidence import Sentence, select
from qa.readers.generative import GenerativeReader
from qa.retrieve import Passage
from qa.service import AskRequest

CONDITIONS = ("served", "among", "alone")


def answer_sentence(svc, question: ReaderInput, evidence: list[Sentence],
                    fixture: Fixture) -> Sentence | None:
    """The best sentence that holds the whole answer: a served one (of any article: a copy of
    the story answers too), else a scored candidate of a source article, else that article's
    first, with the features the scorer gives it for this question (as if retrieved)."""
    def holds(chunk, text: str) -> bool:
        return chunk.article_id in fixture.sources and correct(text, fixture.answers)

    served = next((s for s in evidence if correct(s.text, fixture.answers)), None)
    if served is not None:
        return served
    scored = (c for part in question.parts for c in part.candidates)
    for c in scored:
        if holds(c.chunk, c.text):
            return _sentence(c)
    query = question.parts[0].query
    for source in fixture.sources:
        for chunk in svc.docs.article_chunks(source):
            if not any(holds(chunk, text) for _, _, text in chunk.sentence_texts()):
                continue
            dense = float(svc.embedder.embed_documents([chunk.text])[0] @ query.vector)
            ranked = svc.scorer.rank(svc.scorer.candidates(query, [Passage(chunk, 0.0, dense)]))
            found = next((c for c in ranked if holds(c.chunk, c.text)), None)
            if found is not None:  # a heading is never a candidate
                return _sentence(found)
    return None


def _sentence(c) -> Sentence:
    return Sentence(c.chunk, c.start, c.end, c.text, c.dense, c.coverage, c.score)


def conditions(evidence: list[Sentence], gold: Sentence) -> dict[str, list[Sentence]]:
    among = evidence if gold in evidence else evidence[:-1] + [gold]
    return {"served": evidence, "among": among, "alone": [gold]}


def shown(svc, reader: GenerativeReader, question: ReaderInput,
          evidence: list[Sentence]) -> dict:
    """What the service would show from ``evidence``: the model's verified answer, an
    abstention, or the extractive fallback."""
    try:
        reading = finish(reader.answer_from(question, evidence, time.monotonic() + 120))
    except ModelError as exc:
        return {"how": exc.code, "draft": "", "text": _said(svc.extractive.answer(question))}
    draft = reading.details.get("draft", "")
    if reading.abstained:
        return {"how": "abstained", "draft": draft, "text": ""}
    if reading.fallback:
        return {"how": reading.fallback, "draft": draft,
                "text": _said(svc.extractive.answer(question))}
    return {"how": "model", "draft": draft, "text": _said(reading)}


def _said(reading) -> str:
    return " ".join(c.text for c in reading.claims or [])


def measure(svc, fixtures: list[Fixture]) -> list[dict]:
    """One row per eligible question: whether each condition's shown answer and the model's
    own draft are right, and whether the served sentences held the answer."""
    reader = svc.reader
    rows = []
    for fx in fixtures:
        row = {"id": fx.id, "eligible": _eligible(fx)}
        rows.append(row)
        if not row["eligible"]:
            continue
        history = [Turn(t["role"], t["content"]) for t in fx.history or []]
        question = svc.pipeline.retrieve(AskRequest(fx.question, history))
        evidence = select(question, reader.sentences, reader.words, reader.order)
        gold = answer_sentence(svc, question, evidence, fx)
        row["in_one_sentence"] = gold is not None
        if gold is None or not evidence:
            continue
        row["retrieved"] = gold in evidence
        row["extractive"] = correct(_said(svc.extractive.answer(question)), fx.answers)
        for name, given in conditions(evidence, gold).items():
            result = shown(svc, reader, question, given)
            row[name] = {**result, "right": correct(result["text"], fx.answers),
                         "draft_right": correct(result["draft"], fx.answers)}
    return rows


def _eligible(fx: Fixture) -> bool:
    yes_no = any(v.strip().lower() in ("yes", "no") for a in fx.answers for v in a.split("|"))
    return fx.answerable and bool(fx.answers) and not yes_no


def summarize(rows: list[dict]) -> dict:
    measured = [r for r in rows if "served" in r]
    n = len(measured)

    def share(test) -> float:
        return round(sum(map(test, measured)) / n, 3) if n else 0.0

    return {
        "questions": len(rows),
        "measured": n,
        "left_out": {"not_answerable_or_yes_no": sum(not r["eligible"] for r in rows),
                     "answer_not_in_one_sentence": sum(r.get("in_one_sentence") is False
                                                       for r in rows)},
        "answer_among_served_sentences": share(lambda r: r["retrieved"]),
        "extractive_right": share(lambda r: r["extractive"]),
        **{f"{c}_right": share(lambda r, c=c: r[c]["right"]) for c in CONDITIONS},
        **{f"{c}_draft_right": share(lambda r, c=c: r[c]["draft_right"]) for c in CONDITIONS},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.ceiling",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("fixtures", type=Path, nargs="+")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--model", help="QA_ANSWER_MODEL for the run (default: the setting)")
    parser.add_argument("--drafts", type=Path, help="a file of the model's drafts, by prompt")
    parser.add_argument("--out", type=Path, help="write the per-question rows here")
    args = parser.parse_args(argv)

    from app import create_app
    from qa.drafts import replay

    overrides = {"answer_model": args.model} if args.model else {}
    app = create_app(data_dir=args.data_dir, **overrides)
    svc = app.extensions["qa"]
    if not isinstance(svc.reader, GenerativeReader):
        parser.error(f"{svc.reader.name} is not a generative reader: pass --model")
    svc.ensure_seeded()
    svc.warm_up()
    replay(svc.reader, args.drafts)
    rows = measure(svc, [fx for path in args.fixtures for fx in load_fixtures(path)])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1))
    print(json.dumps(summarize(rows), indent=2))
    svc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
