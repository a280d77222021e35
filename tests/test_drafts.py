"""Replaying the model's drafts: the same prompt never reaches the model twice."""

from __future__ import annotations

from qa.drafts import Drafts, replay
from qa.readers.chat import Generation

PROMPT = [("system", "Answer from the sentences."), ("user", "Question: who won?")]


class Counting:
    name = "counting"

    def __init__(self, text: str = "Ginepri won [1].") -> None:
        self.text, self.calls = text, 0

    def generate(self, messages, **options):
        self.calls += 1
        return Generation(iter([self.text[:4], self.text[4:]]), {"refusal": 0.125})


def drain(generation) -> str:
    return "".join(generation)


def test_a_saved_prompt_is_replayed_from_the_file_without_the_model(tmp_path):
    path = tmp_path / "drafts.json"
    model = Counting()
    first = Drafts(model, path).generate(PROMPT, prefill="Answer:")
    assert drain(first) == "Ginepri won [1]." and first.first_probs == {"refusal": 0.125}
    assert model.calls == 1

    again = Drafts(Counting("never asked"), path)  # a new run, the same file
    replayed = again.generate(PROMPT, prefill="Answer:")
    assert drain(replayed) == "Ginepri won [1]."
    assert replayed.first_probs == {"refusal": 0.125}
    assert again.model.calls == 0 and (again.replayed, again.generated) == (1, 0)


def test_a_new_prompt_or_prefill_is_generated_and_added(tmp_path):
    path = tmp_path / "drafts.json"
    Drafts(Counting(), path).generate(PROMPT, prefill="Answer:")
    drafts = Drafts(Counting("NOT FOUND"), path)
    changed = [PROMPT[0], ("user", "Question: who lost?")]
    assert drain(drafts.generate(changed, prefill="Answer:")) == "NOT FOUND"
    assert drain(drafts.generate(PROMPT, prefill="")) == "NOT FOUND"
    assert drafts.model.calls == 2 and len(Drafts(Counting(), path).saved) == 3


def test_an_empty_draft_replays_as_no_text(tmp_path):
    path = tmp_path / "drafts.json"
    drain(Drafts(Counting(""), path).generate(PROMPT))
    assert list(Drafts(Counting(), path).generate(PROMPT)) == []


def test_only_a_reader_with_a_model_replays(tmp_path):
    class Extractive:
        pass

    class Generative:
        model = Counting()

    reader = Generative()
    assert replay(Extractive(), tmp_path / "d.json") is None
    assert replay(reader, None) is None and isinstance(reader.model, Counting)
    drafts = replay(reader, tmp_path / "d.json")
    assert reader.model is drafts and drafts.name == "counting"


def test_closing_the_drafts_frees_the_model_behind_them(tmp_path):
    model = Counting()
    model.close = lambda: setattr(model, "closed", True)
    Drafts(model, tmp_path / "drafts.json").close()
    assert model.closed
