"""Fit the abstainer (``qa/abstain.json``) on fixtures, with the real model.

    python -m qa.calibrate_abstainer collect FIXTURES... --data-dir DIR --out ROWS.json
    python -m qa.calibrate_abstainer fit ROWS.json... [--check ROWS.json...] [--write]

``collect`` runs every question through retrieval, the configured generative reader (with
an abstainer that never abstains, so every answer attempt and its signals are seen) and
the extractive reader, and stores per question the signals, what the model answered,
whether that answer and the extractive one are right. ``fit`` learns a logistic model of
"answering is right" from those rows, picks the threshold that answers best while false
refusals stay under ``--max-refusals`` on every fixture file, reports k-fold
cross-validated figures, and with ``--write`` saves the weights.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from qa.abstain import DIRECTIONS, WEIGHTS_FILE, Abstainer, Signals
from qa.drafts import Drafts
from qa.errors import ModelError
from qa.eval import correct, load_fixtures
from qa.readers import finish


def collect(fixture_files: list[Path], data_dir: Path, model: str | None,
            drafts: Path | None = None) -> list[dict]:
    from app import create_app
    from qa.condense import Turn
    from qa.service import AskRequest

    overrides = {"answer_model": model} if model else {}
    app = create_app(data_dir=data_dir, seeds_dir=Path("/nonexistent"), **overrides)
    svc = app.extensions["qa"]
    svc.warm_up()
    reader = svc.reader
    reader.abstainer = Abstainer.of(bias=100.0)  # see every attempt: never abstain here
    reader.model = Drafts(reader.model, drafts)
    rows = []
    for path in fixture_files:
        for fx in load_fixtures(path):
            history = [Turn(t["role"], t["content"]) for t in fx.history or []]
            question = svc.pipeline.retrieve(AskRequest(fx.question, history))
            extractive = svc.extractive.answer(question)
            started = time.perf_counter()
            try:
                reading = finish(reader.read(question, deadline=time.monotonic() + 120))
                error = None
            except ModelError as exc:
                reading, error = None, exc.code
            claims = reading.claims if reading else []
            said = " ".join(c.text for c in claims)
            ext_said = " ".join(c.text for c in extractive.claims)
            rows.append({
                "set": path.stem, "id": fx.id, "type": fx.type, "answerable": fx.answerable,
                "question": fx.question, "answers": fx.answers,
                "quotes": [e.quote for c in claims for e in c.evidence],
                # An overview ("what is this story about?") is not weighed by the abstainer.
                "signals": ({k: v for k, v in reading.details["answerability"].items()
                             if k in Signals.names()}
                            if reading and "answerability" in reading.details else None),
                "draft": reading.details.get("draft") if reading else None,
                "answer": said, "error": error,
                "model_abstains": bool(reading and reading.abstained),
                "model_correct": bool(said) and correct(said, fx.answers),
                "extractive_abstains": extractive.abstained,
                "extractive_correct": not extractive.abstained and correct(ext_said, fx.answers),
                "extractive_answer": ext_said,
                "seconds": round(time.perf_counter() - started, 2),
            })
            print(f"{fx.id:40} {rows[-1]['model_correct']!s:5} {said[:80]!r}", file=sys.stderr)
    return rows


# -- deciding, as the pipeline does --------------------------------------------------------


def outcome(row: dict, answers: bool) -> tuple[bool, bool]:
    """``(abstained, right)`` for one question when the abstainer answers or not."""
    if not answers:
        return True, not row["answerable"]
    if row.get("model_abstains"):  # a check after the abstainer said the articles don't
        return True, not row["answerable"]
    if row["answer"]:
        return False, row["answerable"] and row["model_correct"]
    # The model's answer did not verify (or it refused): the extractive reader answers.
    if row["extractive_abstains"]:
        return True, not row["answerable"]
    return False, row["answerable"] and row["extractive_correct"]


def scores(rows: list[dict], decisions: list[bool]) -> dict:
    answerable = [(r, d) for r, d in zip(rows, decisions, strict=True) if r["answerable"]]
    other = [(r, d) for r, d in zip(rows, decisions, strict=True) if not r["answerable"]]
    got = [outcome(r, d) for r, d in answerable]
    return {
        "correct": _share(right for _, right in got),
        "false_refusals": _share(abstained for abstained, _ in got),
        "abstention": _share(outcome(r, d)[0] for r, d in other),
    }


def _share(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 3) if values else 0.0


# -- fitting ----------------------------------------------------------------------------


def matrix(rows: list[dict], names: list[str]) -> np.ndarray:
    return np.array([[r["signals"][n] for n in names] for r in rows], dtype=float)


def labels(rows: list[dict], target: str = "answerable") -> np.ndarray:
    """``answerable``: 1 where the articles answer the question. ``right``: 1 where
    answering gives a right answer, 0 where abstaining is right or as good."""
    if target == "answerable":
        return np.array([float(r["answerable"]) for r in rows])
    return np.array([float(outcome(r, True)[1]) for r in rows])


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000,
             signs: np.ndarray | None = None) -> tuple:
    """L2-regularised logistic regression on standardised features (plain gradient descent,
    small data); a weight whose ``signs`` entry is +1 or -1 is kept on that side of zero
    (projected gradient). Returns weights and bias in the original units."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / std
    w, b = np.zeros(z.shape[1]), 0.0
    signs = np.zeros(z.shape[1]) if signs is None else signs
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        grad = z.T @ (p - y) / len(y) + l2 * w / len(y)
        w -= 0.5 * grad
        b -= 0.5 * float(np.mean(p - y))
        w = np.where(signs * w < 0, 0.0, w)
    weights = w / std
    return weights, b - float(weights @ mean)


def best_threshold(rows: list[dict], probs: np.ndarray, max_refusals: float) -> float:
    """The threshold answering most questions right, false refusals capped per fixture set.

    A set whose checks after the abstainer already refuse more than the cap (the model's
    answer states a number no sentence gives, say) may not refuse more; without that
    allowance no threshold passes and the search fell back to "never abstain"."""
    by_set: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_set.setdefault(r["set"], []).append(i)
    allowed = {name: max(max_refusals, scores([rows[i] for i in idx],
                                              [True] * len(idx))["false_refusals"])
               for name, idx in by_set.items()}
    best, best_t = -1.0, 0.0
    for t in sorted({0.0, *np.round(probs, 4)}):
        decisions = [p >= t for p in probs]
        if any(scores([rows[i] for i in idx], [decisions[i] for i in idx])["false_refusals"]
               > allowed[name] for name, idx in by_set.items()):
            continue
        s = scores(rows, decisions)
        value = s["correct"] + s["abstention"]
        if value > best:
            best, best_t = value, float(t)
    return best_t


def fit(rows: list[dict], max_refusals: float, l2: float, names: list[str] | None = None,
        target: str = "answerable", monotone: bool = True) -> Abstainer:
    """Fit on ``names`` (default: every signal); the others weigh 0. ``monotone`` keeps each
    weight on the side ``DIRECTIONS`` gives it."""
    names = names or Signals.names()
    rows = [r for r in rows if r["signals"] is not None]
    signs = np.array([DIRECTIONS[n] for n in names], dtype=float) if monotone else None
    fitted, bias = logistic(matrix(rows, names), labels(rows, target), l2, signs=signs)
    by_name = dict(zip(names, fitted, strict=True))
    weights = tuple(float(by_name.get(n, 0.0)) for n in Signals.names())
    abstainer = Abstainer(weights, bias, 0.5)
    probs = np.array([abstainer.probability(Signals(**r["signals"])) for r in rows])
    return Abstainer(abstainer.weights, bias, best_threshold(rows, probs, max_refusals))


def evaluate(abstainer: Abstainer, rows: list[dict]) -> dict:
    decisions = [r["signals"] is None or abstainer.answerable(Signals(**r["signals"]))
                 for r in rows]
    return scores(rows, decisions)


def cross_validate(rows: list[dict], folds: int, max_refusals: float, l2: float,
                   names: list[str] | None = None, target: str = "answerable",
                   seed: int = 7, monotone: bool = True) -> dict:
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    decisions = [True] * len(rows)
    for k in range(folds):
        test = set(order[k::folds])
        model = fit([r for i, r in enumerate(rows) if i not in test], max_refusals, l2, names,
                    target, monotone)
        for i in test:
            r = rows[i]
            decisions[i] = r["signals"] is None or model.answerable(Signals(**r["signals"]))
    return scores(rows, decisions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.calibrate_abstainer",
                                     description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("fixtures", type=Path, nargs="+")
    c.add_argument("--data-dir", type=Path, required=True)
    c.add_argument("--model", help="QA_ANSWER_MODEL for the run (default: the setting)")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--drafts", type=Path, help="a file of the model's drafts, reused by prompt")
    f = sub.add_parser("fit")
    f.add_argument("rows", type=Path, nargs="+")
    f.add_argument("--check", type=Path, nargs="*", default=[],
                   help="rows scored with the fitted weights, never fitted on")
    f.add_argument("--max-refusals", type=float, default=0.05)
    f.add_argument("--l2", type=float, default=1.0)
    f.add_argument("--folds", type=int, default=5)
    f.add_argument("--signals", help="comma-separated signals to fit on (default: all)")
    f.add_argument("--target", choices=("answerable", "right"), default="answerable")
    f.add_argument("--free", action="store_true",
                   help="let every weight take either sign (default: qa.abstain.DIRECTIONS)")
    f.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "collect":
        rows = collect(args.fixtures, args.data_dir, args.model, args.drafts)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1))
        print(json.dumps(scores(rows, [True] * len(rows))))
        return 0
    rows = [r for path in args.rows for r in json.loads(path.read_text())]
    names = args.signals.split(",") if args.signals else None
    monotone = not args.free
    abstainer = fit(rows, args.max_refusals, args.l2, names, args.target, monotone)
    report = {
        "never_abstain": scores(rows, [True] * len(rows)),
        "fitted": evaluate(abstainer, rows),
        f"cv{args.folds}": cross_validate(rows, args.folds, args.max_refusals, args.l2, names,
                                          args.target, monotone=monotone),
        "threshold": abstainer.threshold,
        "weights": dict(zip(Signals.names(), (round(w, 3) for w in abstainer.weights),
                            strict=True)),
        "bias": round(abstainer.bias, 3),
    }
    for path in args.check:
        report[f"check {path.stem}"] = evaluate(abstainer, json.loads(path.read_text()))
    print(json.dumps(report, indent=2))
    if args.write:
        abstainer.save(WEIGHTS_FILE, fitted=f"python -m qa.calibrate_abstainer fit "
                       f"{' '.join(p.name for p in args.rows)} --signals {args.signals} "
                       f"--target {args.target}{' --free' if args.free else ''}",
                       cv=report[f"cv{args.folds}"])
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
