"""Whether llama.cpp repacks the weights: timed once per machine, kept beside the model.

The choice itself runs on fake timings; the slow tests load the real model in each layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import ConfigError
from qa.readers import repack
from qa.readers.generative import REPACK
from qa.settings import Settings

MODEL = Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")


class FakeTimer:
    """Seconds per prompt token and per written token of each layout, on an idle machine,
    and the calls made."""

    def __init__(self, repacked=(0.010, 0.060), plain=(0.007, 0.080)):
        self.timings = {True: repacked, False: plain}
        self.calls: list[bool] = []

    def __call__(self, layout: bool) -> repack.Timing:
        self.calls.append(layout)
        return repack.Timing(*self.timings[layout], share=0.99)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"weights")
    return path


def test_the_layout_that_answers_faster_is_chosen_and_kept(model_file: Path):
    # 220 prompt tokens and 10 written: plain 1.54 + 0.8 s beats repacked 2.2 + 0.6 s.
    timer = FakeTimer()
    assert repack.choose(model_file, 2, "0.3.36", timer) is False
    assert sorted(timer.calls) == [False, False, True, True]  # both, alternated, twice
    kept = json.loads(model_file.with_name("model.gguf.repack.json").read_text())
    (verdict,) = kept.values()
    assert verdict["repack"] is False and verdict["plain"]["answer_s"] == 2.34
    # Kept: the next start reads the verdict and times nothing.
    again = FakeTimer(repacked=(0.001, 0.001))
    assert repack.choose(model_file, 2, "0.3.36", again) is False and again.calls == []


def test_a_cpu_that_writes_much_faster_repacked_keeps_repacking(model_file: Path):
    timer = FakeTimer(repacked=(0.0075, 0.030), plain=(0.007, 0.080))
    assert repack.choose(model_file, 2, "0.3.36", timer) is True


def test_each_layout_counts_its_best_round(model_file: Path):
    # Repacked, plain, repacked, plain: repacked's first round was slower; its second beats
    # plain.
    rounds = iter([(0.020, 0.060), (0.007, 0.080), (0.006, 0.060), (0.007, 0.080)])
    timer = lambda layout: repack.Timing(*next(rounds), share=0.99)  # noqa: E731
    assert repack.choose(model_file, 2, "0.3.36", timer) is True


def busy_from(n: int, idle: FakeTimer) -> repack.Timer:
    """``idle``'s timings until its ``n``th call; then another process takes one of the two
    cores: the threads get 0.68 of them and run 1.7x slower (measured here)."""

    def timer(layout: bool) -> repack.Timing:
        timing = idle(layout)
        if len(idle.calls) < n:
            return timing
        return repack.Timing(timing.prompt * 1.7, timing.write * 1.7, share=0.68)

    return timer


def test_a_round_in_which_another_process_took_a_core_does_not_count(model_file: Path):
    # The load starts after repacked's first timing: plain is slow in every round after it.
    # Counting those rounds chose the slower layout (repacked) and kept it for good.
    idle = FakeTimer()
    assert repack.choose(model_file, 2, "0.3.36", busy_from(2, idle)) is False
    assert len(idle.calls) == 2 * repack.MAX_ROUNDS  # kept trying for two clean rounds
    assert not repack.store(model_file).exists()  # and kept nothing: timed at the next start
    assert repack.choose(model_file, 2, "0.3.36", FakeTimer()) is False
    assert repack.store(model_file).exists()


def test_clean_rounds_after_a_busy_one_make_the_verdict(model_file: Path):
    idle = FakeTimer()
    shares = iter([0.99, 0.68, 0.99, 0.99, 0.99, 0.99])  # plain's first timing was busy

    def timer(layout: bool) -> repack.Timing:
        timing = idle(layout)
        share = next(shares)
        slow = 1.0 if share > 0.9 else 3.0
        return repack.Timing(timing.prompt * slow, timing.write * slow, share)

    assert repack.choose(model_file, 2, "0.3.36", timer) is False
    assert len(idle.calls) == 6 and repack.store(model_file).exists()


def test_another_thread_count_or_llama_build_is_timed_again(model_file: Path):
    repack.choose(model_file, 2, "0.3.36", FakeTimer())
    for threads, build in ((1, "0.3.36"), (2, "0.3.37"), (2, "0.3.36 [openmp]")):
        timer = FakeTimer()
        repack.choose(model_file, threads, build, timer)
        assert timer.calls, (threads, build)
    assert len(json.loads(model_file.with_name("model.gguf.repack.json").read_text())) == 4


def test_an_unreadable_verdict_is_timed_again(model_file: Path):
    model_file.with_name("model.gguf.repack.json").write_text("{not json")
    timer = FakeTimer()
    assert repack.choose(model_file, 2, "0.3.36", timer) is False and timer.calls


def test_a_directory_it_cannot_write_only_costs_the_keeping(model_file: Path, caplog):
    model_file.with_name("model.gguf.repack.json").mkdir()  # a directory where the file goes
    assert repack.choose(model_file, 2, "0.3.36", FakeTimer()) is False
    assert "could not keep" in caplog.text


def test_the_setting_names_a_layout_or_auto():
    assert REPACK[Settings(local_repack="on").local_repack] is True
    assert REPACK[Settings(local_repack="off").local_repack] is False
    assert REPACK[Settings().local_repack] is None  # auto: timed
    with pytest.raises(ConfigError, match="QA_LOCAL_REPACK"):
        Settings(local_repack="maybe")


# -- the real model ------------------------------------------------------------------------


@pytest.fixture
def real_model(tmp_path: Path) -> Path:
    if not MODEL.is_file():
        pytest.skip("the local model is not installed (make setup)")
    link = tmp_path / MODEL.name  # its verdict file goes here, not beside the real model
    link.symlink_to(MODEL.resolve())
    return link


@pytest.mark.slow
@pytest.mark.parametrize("layout", [True, False])
def test_the_model_loads_in_the_layout_asked_for(real_model: Path, layout: bool):
    from qa.readers.llama import LlamaCppModel, build_name

    model = LlamaCppModel(real_model, threads=2, context=512, repack=layout)
    try:
        assert model.llm.model_params.use_extra_bufts is layout
        assert f"repack={layout}" in model._identity  # its saved opening is its own
        assert model._identity.startswith(f"{build_name()}|")  # and its build's
    finally:
        model.close()


@pytest.mark.slow
def test_auto_loads_the_layout_timed_on_this_machine(real_model: Path):
    from qa.readers.llama import LlamaCppModel

    model = LlamaCppModel(real_model, threads=2, context=512, repack=None)
    try:
        kept = json.loads(real_model.with_name(f"{MODEL.name}.repack.json").read_text())
        (verdict,) = kept.values()
        assert set(verdict) == {"repack", "repacked", "plain"}
        assert model.llm.model_params.use_extra_bufts is verdict["repack"]
    finally:
        model.close()


@pytest.mark.slow
@pytest.mark.parametrize("kept", [False, True])
def test_auto_obeys_the_verdict_kept_for_this_machine(real_model: Path, kept: bool):
    from qa.readers.llama import LlamaCppModel, build_name

    key = repack.identity(real_model, 2, build_name())
    repack.store(real_model).write_text(json.dumps({key: {"repack": kept}}))
    model = LlamaCppModel(real_model, threads=2, context=512, repack=None)
    try:
        assert model.llm.model_params.use_extra_bufts is kept
        assert json.loads(repack.store(real_model).read_text()) == {key: {"repack": kept}}
    finally:
        model.close()
