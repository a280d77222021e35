"""Served answer latency with the evidence a generative model reads sized or ranked otherwise.

``python -m bench.evidence [--variant NAME=SETTING=VALUE,...]... [--questions FILE]
[--limit 30] [--rounds 2] [--bbc CSV] [--out FILE]``

``python app.py`` with the local model over the seeds and the BBC articles, once per
variant (the settings it names on top of the defaults), alternated ``--rounds`` times so
that drift in the machine's speed hits all alike; each start answers one question that is
not a fixture, then each question of ``--questions`` (follow-ups left out) streamed over
HTTP, as ``bench.layout`` does. Medians and p95 per variant, and each variant's ratio
against the first. Without ``--variant``: the defaults against four sentences in the
reader's order (docs/evaluation.md, "Four sentences ranked for the reader"). Run it on an
otherwise idle machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.layout import add_serving_arguments, alternate, ingest_bbc, questions_of, ratio
from bench.report import emit

DEFAULT_VARIANTS = {
    "defaults": {},
    "4-reader": {"QA_EVIDENCE_SENTENCES": "4", "QA_EVIDENCE_ORDER": "reader"},
}


def variant(text: str) -> tuple[str, dict]:
    """``NAME=QA_X=1,QA_Y=2`` as a name and its environment (``NAME=``: the defaults)."""
    name, named, rest = text.partition("=")
    pairs = [p.partition("=") for p in rest.split(",") if p]
    if not name or not named or any(not key or not eq for key, eq, _ in pairs):
        raise argparse.ArgumentTypeError(f"expected NAME=SETTING=VALUE,...: {text!r}")
    return name, {key: value for key, _, value in pairs}


def measure(questions: list[str], variants: dict[str, dict], rounds: int, bbc: Path,
            log=print) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        medians = alternate(ingest_bbc(Path(tmp), bbc), questions, rounds, variants, log)
    first, *others = variants
    return {"questions": len(questions), "rounds": rounds, "variants": variants,
            "medians": medians,
            **{f"{name}_vs_{first}": ratio(medians, name, first) for name in others}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_serving_arguments(parser, "variant")
    parser.add_argument("--variant", type=variant, action="append",
                        help="NAME=SETTING=VALUE,... (repeat; the first is the baseline)")
    args = parser.parse_args(argv)
    variants = dict(args.variant) if args.variant else DEFAULT_VARIANTS
    emit(measure(questions_of(args.questions, args.limit), variants, args.rounds, args.bbc,
                 log=lambda t: print(t, file=sys.stderr)), args.out)


if __name__ == "__main__":
    main()
