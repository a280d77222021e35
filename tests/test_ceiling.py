"""qa.ceiling: the same reader answers from the served sentences, with the answer's sentence
among them, and from it alone."""

from __future__ import annotations

import json
import re

import pytest

import qa.ceiling
from app import create_app
from qa.abstain import Abstainer
from qa.ceiling import main, measure, summarize
from qa.eval import Fixture, correct
from qa.readers.chat import Generation
from qa.readers.evidence import select

NUMBERED = re.compile(r"^\[(\d+)\] (.*)$", re.MULTILINE)
PURL = Fixture("purl", "PURL stands for what?", ["Prioritized Ukraine Requirements List"],
               ["000_ded72c6294d8a96e"], True)


class RestatesTheLast:
    """A model that always restates the last sentence it reads, citing it."""

    name = "restates-the-last"

    def __init__(self) -> None:
        self.read: list[list[str]] = []

    def generate(self, messages, **options):
        sentences = [text for _, text in NUMBERED.findall(messages[-1][1])]
        self.read.append(sentences)
        return Generation(iter([f"{sentences[-1]} [{len(sentences)}]"]), {"refusal": 0.01})


@pytest.fixture
def service(settings, fake_embedder):
    app = create_app(settings, embedder_factory=lambda: fake_embedder,
                     answer_model="openai:never-called", openai_base_url="http://127.0.0.1:9")
    svc = app.extensions["qa"]
    svc.ensure_seeded()
    svc.reader.model = RestatesTheLast()
    svc.reader.abstainer = Abstainer.of(bias=10)  # the plumbing, not the weights
    yield svc
    svc.close()


def test_the_answer_sentence_is_read_among_the_served_ones_and_alone(service):
    model = service.reader.model
    [row] = measure(service, [PURL])
    served, among, alone = model.read
    assert len(among) == len(served) == service.reader.sentences
    has_answer = [correct(s, PURL.answers) for s in among]
    assert any(has_answer) and has_answer.count(True) == 1
    assert len(alone) == 1 and correct(alone[0], PURL.answers)
    assert row["retrieved"] == any(correct(s, PURL.answers) for s in served)
    if not row["retrieved"]:  # it takes the last served sentence's place
        assert among[:-1] == served[:-1] and correct(among[-1], PURL.answers)
    # Restating the answer's sentence alone is a right, verified answer.
    assert row["alone"]["how"] == "model" and row["alone"]["right"]
    assert row["among"]["right"] == correct(among[-1], PURL.answers)


@pytest.mark.parametrize("depth", [0, 100], ids=["a-candidate", "not-retrieved"])
def test_an_answer_sentence_not_served_takes_the_last_ones_place(service, monkeypatch, depth):
    """The service's sentences lack the answer: among them it replaces the last one, and it
    is found among the scored candidates or, not retrieved at all, in its article."""
    def served_without_the_answer(question, count, words, order):
        for part in question.parts:  # depth 100: as if no passage of the article came back
            part.candidates = [c for c in part.candidates
                               if not (depth and c.chunk.article_id in PURL.sources)]
        found = select(question, count + 20, words, order)
        return [s for s in found if not correct(s.text, PURL.answers)][:count]

    monkeypatch.setattr(qa.ceiling, "select", served_without_the_answer)
    [row] = measure(service, [PURL])
    served, among, alone = service.reader.model.read
    assert row["retrieved"] is False and not any(correct(s, PURL.answers) for s in served)
    assert among[:-1] == served[:-1] and correct(among[-1], PURL.answers)
    assert alone == among[-1:] and row["alone"]["right"] and not row["served"]["right"]


def test_questions_it_cannot_measure_are_counted_and_never_reach_the_model(service):
    unanswerable = Fixture("dj", "Who was the DJ?", [], ["000_ded72c6294d8a96e"], False)
    yes_no = Fixture("yn", "Is PURL a list?", ["yes"], ["000_ded72c6294d8a96e"], True)
    spread = Fixture("spread", "PURL stands for what?", ["Prioritized", "Shahed"],
                     ["000_ded72c6294d8a96e"], True)
    rows = measure(service, [unanswerable, yes_no, spread, PURL])
    summary = summarize(rows)
    assert summary["measured"] == 1 and summary["questions"] == 4
    assert summary["left_out"] == {"not_answerable_or_yes_no": 2,
                                   "answer_not_in_one_sentence": 1}
    assert len(service.reader.model.read) == 3  # PURL's three conditions only
    assert summary["alone_right"] == 1.0


def test_the_extractive_reader_is_refused(tmp_path, capsys):
    fixtures = tmp_path / "f.jsonl"
    fixtures.write_text(json.dumps(PURL.__dict__) + "\n")
    with pytest.raises(SystemExit) as stop:
        main([str(fixtures), "--data-dir", str(tmp_path / "data"), "--model", "extractive"])
    assert stop.value.code == 2 and "not a generative reader" in capsys.readouterr().err
