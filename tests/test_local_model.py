"""The default answerer end to end: Qwen2.5-Coder-1.5B in llama.cpp, the real MiniLM, Chroma.

Slow: the model loads once for the module, and each answer takes seconds on two cores.
"""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest

from app import create_app
from qa.condense import Turn
from qa.errors import ModelError
from qa.readers.generative import PREFILL
from qa.settings import Settings
from tests.conftest import SEEDS
from tests.test_generate import assert_valid

pytestmark = pytest.mark.slow
DRONES = "001_757337abefd0f303"


@pytest.fixture(scope="module")
def local_app(tmp_path_factory, real_embedder):
    root = tmp_path_factory.mktemp("local")
    shutil.copytree(SEEDS, root / "seeds")
    # Generous: other processes may share the two cores while CI runs.
    settings = Settings(data_dir=root / "data", seeds_dir=root / "seeds", model_timeout_s=60)
    assert settings.answer_model == "local"  # the default, as `make run` serves it
    app = create_app(settings, embedder_factory=lambda: real_embedder)
    app.extensions["qa"].warm_up()
    llm = app.extensions["qa"].reader.model.model.llm
    app.config["CACHED_AT_START"] = list(llm._input_ids[: llm.n_tokens])  # before any question
    yield app
    app.extensions["qa"].close()


def ask(app, question: str, **body) -> dict:
    response = app.test_client().post("/ask", json={"question": question, **body})
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert_valid(app, data)
    return data


def test_start_up_evaluates_the_instructions_before_the_first_question(local_app):
    reader = local_app.extensions["qa"].reader
    system = reader.model.model.prompt_tokens([("system", reader.prompt.system)])
    cached = local_app.config["CACHED_AT_START"]
    # The instructions and worked examples, all but the closing tokens of the system turn.
    assert len(system) > 300 and cached[: len(system) - 8] == system[: len(system) - 8]


def test_the_local_model_answers_in_its_own_words_with_a_verified_citation(local_app):
    data = ask(local_app, "How many drones can Ukraine produce each year?")
    assert data["model"] == "local" and data["degraded"] is False
    assert not data["abstained"] and "8 million" in data["answer"]
    assert data["citations"][0]["article_id"] == DRONES
    assert data["verified"] is True and all(c["verified"] for c in data["citations"])
    assert "8 million" in data["citations"][0]["quote"]


def test_the_local_model_says_when_the_articles_do_not(local_app):
    data = ask(local_app, "What is the population of Lisbon?")
    assert data["abstained"] is True and "don't" in data["answer"]
    assert data["model"] == "local"


def test_the_draft_streams_before_the_verified_answer(local_app):
    response = local_app.test_client().post(
        "/ask", json={"question": "Which company will train Ukrainian aircraft maintenance "
                                  "specialists?", "stream": True})
    text = response.get_data(as_text=True)
    names = [ln[7:] for ln in text.splitlines() if ln.startswith("event: ")]
    assert names[0] == "retrieval" and names[-1] == "final" and "token" in names
    final = json.loads(text.split("event: final\ndata: ", 1)[1].split("\n", 1)[0])
    assert final["model"] == "local" and "Airbus" in final["answer"]
    assert 0 < final["timings_ms"]["first_token"] < final["timings_ms"]["total"]


def test_a_model_that_stalls_gives_the_extractive_answer(local_app, monkeypatch):
    svc = local_app.extensions["qa"]
    monkeypatch.setattr(svc.pipeline, "settings", svc.settings.replace(model_timeout_s=0.2))
    data = ask(local_app, "How many drones can Ukraine produce each year?")
    assert data["degraded"] is True and data["fallback"] == "model_timeout"
    assert data["model"] == "extractive" and data["requested_model"] == "local"
    assert "8 million" in data["answer"]


def test_a_model_that_fails_mid_answer_gives_the_extractive_answer(local_app, monkeypatch):
    llm = local_app.extensions["qa"].reader.model.model.llm
    real = llm.generate

    def failing(tokens, **options):
        for n, token in enumerate(real(tokens, **options)):
            if n == 2:
                raise RuntimeError("llama_decode returned -1")
            yield token

    monkeypatch.setattr(llm, "generate", failing)
    data = ask(local_app, "How many drones can Ukraine produce each year?")
    assert data["degraded"] is True and data["fallback"] == "model_error"
    assert "8 million" in data["answer"]


def test_a_full_queue_answers_extractively_at_once(local_app):
    reader = local_app.extensions["qa"].reader
    taken = [reader._slots.acquire(blocking=False) for _ in range(10)]
    try:
        data = ask(local_app, "How many drones can Ukraine produce each year?")
        assert data["degraded"] is True and data["fallback"] == "model_busy"
    finally:
        for got in taken:
            if got:
                reader._slots.release()


def test_one_answer_at_a_time_and_the_cache_is_reused(local_app):
    model = local_app.extensions["qa"].reader.model.model
    results: list = []

    def run():
        try:
            results.append(ask(local_app, "What is the PURL programme?")["model"])
        except (AssertionError, ModelError) as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r in ("local", "extractive") for r in results), results
    # The constant instructions stay evaluated in the KV cache between answers.
    system = model.prompt_tokens([("system", local_app.extensions["qa"].reader.prompt.system)])
    assert list(model.llm._input_ids[: len(system) - 8]) == system[: len(system) - 8]


def test_the_same_prompt_gets_the_same_draft_whatever_was_asked_before(local_app):
    reader = local_app.extensions["qa"].reader
    model = reader.model.model
    sentences = ("[1] ukraine can now produce over 8 million drones of various types a year.\n"
                 "[2] the factories are spread across the country to avoid russian strikes.")

    def draft(question: str) -> tuple[str, dict]:
        messages = reader.prompt.messages(history="", sentences=sentences, question=question)
        generation = model.generate(messages, deadline=time.monotonic() + 60, prefill=PREFILL,
                                    watch={"refusal": "NOT"})
        return "".join(generation), generation.first_probs

    reader.warm_up()
    first = draft("How many drones can Ukraine make a year?")
    draft("Where are the drone factories?")  # the same sentences: a long shared prefix
    # The refusal probability the abstainer reads is equal to the last bit, not nearly.
    assert draft("How many drones can Ukraine make a year?") == first


def test_the_model_rewrites_a_follow_up_after_its_cached_instructions(local_app, monkeypatch):
    reader = local_app.extensions["qa"].reader
    llm = reader.model.model.llm
    reader.warm_up()
    evaluated = []
    real_eval = llm.eval
    monkeypatch.setattr(llm, "eval", lambda tokens: (evaluated.extend(tokens),
                                                     real_eval(tokens))[1])
    history = [Turn("user", "Who is the NATO Secretary General?"),
               Turn("assistant", "NATO Secretary General Mark Rutte [1].")]
    text = reader.condense("Where did he meet Zelensky?", history, time.monotonic() + 60)
    assert text is not None and "rutte" in text.lower(), text
    # Only the rewrite turn is evaluated: the instructions before it come from the cache,
    # and stay there for the answer that follows.
    system = reader.model.model.prompt_tokens([("system", reader.prompt.system)])
    assert 0 < len(evaluated) < len(system) / 2
    assert list(llm._input_ids[: len(system) - 8]) == system[: len(system) - 8]


def test_a_restart_restores_the_evaluated_opening_and_drafts_the_same(local_app, monkeypatch):
    from qa.readers.llama import LlamaCppModel

    svc = local_app.extensions["qa"]
    reader, settings = svc.reader, svc.settings
    model = reader.model.model
    saved = list((settings.data_dir / "llama").glob("opening-*.kv"))
    assert len(saved) == 1  # the fixture's warm-up evaluated the opening and kept it
    restarted = LlamaCppModel(settings.local_model_path, threads=settings.local_threads,
                              context=settings.local_context,
                              max_tokens=settings.model_max_tokens,
                              state_dir=settings.data_dir / "llama")

    def evaluate(*args, **kwargs):
        raise AssertionError("the saved opening was evaluated again")

    with monkeypatch.context() as patch:
        patch.setattr(restarted, "_evaluate_prompt", evaluate)
        restarted.warm_up(reader.opening)
    llm = restarted.llm
    assert list(llm._input_ids[: llm.n_tokens]) == local_app.config["CACHED_AT_START"]
    messages = reader.prompt.messages(
        history="", question="How many drones can Ukraine make a year?",
        sentences="[1] ukraine can now produce over 8 million drones of various types a year.")

    def draft(on: LlamaCppModel) -> tuple[str, dict]:
        generation = on.generate(messages, deadline=time.monotonic() + 60, prefill=PREFILL,
                                 watch={"refusal": "NOT"})
        return "".join(generation), generation.first_probs

    restored = draft(restarted)
    model.llm.n_tokens = 0  # nothing cached: this prompt evaluates its opening afresh
    # The restored cache is the evaluated one: the same draft, the same probability.
    assert restored == draft(model)
    restarted.close()


def test_a_closed_local_model_frees_its_weights_and_refuses_to_answer(local_app):
    # Freed when the service closes, before the interpreter's teardown (where llama.cpp's
    # destructors once crashed an evaluation run as it exited).
    from pathlib import Path

    from qa.readers.llama import LlamaCppModel

    settings = local_app.extensions["qa"].settings
    model = LlamaCppModel(Path(settings.local_model_path), threads=settings.local_threads,
                          context=512)
    model.close()
    model.close()  # twice is harmless
    assert model.llm._ctx.ctx is None
    with pytest.raises(ModelError) as error:
        "".join(model.generate([("user", "Hello")], deadline=time.monotonic() + 10))
    assert error.value.code == "model_unavailable"
