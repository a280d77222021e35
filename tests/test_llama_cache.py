"""The local model's KV cache: the same prompt is evaluated the same way whatever came before.

llama.cpp's numbers for a token depend on the batch it was evaluated in, so a prompt whose
cached tokens were computed in other batches can get another draft and another refusal
probability. A fake llama records which batch wrote each cache position.
"""

from __future__ import annotations

import ctypes
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qa.errors import ModelError
from qa.readers.llama import EVAL_CHUNK, LlamaCppModel

OPENING = list(range(1000, 1300))  # the warmed system turn: longer than one batch


class RecordingLlama:
    """Enough of ``llama_cpp.Llama`` for the cache logic: a cache that knows its writers."""

    def __init__(self, cancel_after: int | None = None):
        self.ids: list[int] = []
        self.writer: list[tuple] = []  # per position: (start, tokens) of the batch that wrote it
        self.n_tokens = 0
        self.starts: list[int] = []  # where each batch began, in order
        self.cancel_after, self.cancel = cancel_after, threading.Event()

    @property
    def _input_ids(self) -> list[int]:
        return self.ids[: self.n_tokens]

    def eval(self, tokens: list[int]) -> None:
        batch = (self.n_tokens, tuple(tokens))
        self.starts.append(self.n_tokens)
        del self.ids[self.n_tokens :], self.writer[self.n_tokens :]
        self.ids += tokens
        self.writer += [batch] * len(tokens)
        self.n_tokens += len(tokens)
        if len(self.starts) == self.cancel_after:
            self.cancel.set()


def model_with(llm: RecordingLlama) -> LlamaCppModel:
    model = LlamaCppModel.__new__(LlamaCppModel)  # no weights: only the cache logic runs
    model.llm, model._run = llm, threading.Lock()
    model._opening, model._cached_cuts, model._state_dir = [], [0], None
    model.prompt_tokens = lambda messages, prefill="", reply=True: list(OPENING)
    return model


def ask(model: LlamaCppModel, tokens: list[int], draft: tuple[int, ...] = (7, 8, 9)) -> None:
    """Evaluate a prompt as ``generate`` does, then write a draft after it."""
    model._evaluate_prompt(tokens, time.monotonic() + 60, threading.Event())
    for token in (tokens[-1], *draft):  # llama's generate(): the last token, then the draft
        model.llm.eval([token])


def prompt(*tail: list[int]) -> list[int]:
    return OPENING + [t for part in tail for t in part]


SENTENCES = list(range(1, 400))  # the user's turn: longer than a batch after the opening
A = prompt(SENTENCES, [501, 502, 503])
B_SAME_SENTENCES = prompt(SENTENCES, [601, 602])  # shares 399 tokens past the opening with A
B_OTHER = prompt([1, 2, 3], range(700, 900))
FOREIGN = list(range(5000, 5600))  # another system turn altogether


def canonical(tokens: list[int] = A) -> list[tuple]:
    llm = RecordingLlama()
    model = model_with(llm)
    model.warm_up([])
    ask(model, tokens)
    return llm.writer[: len(tokens) - 1]


@pytest.mark.parametrize("before", [[], [A], [B_SAME_SENTENCES], [B_OTHER],
                                    [FOREIGN], [B_OTHER, FOREIGN, B_SAME_SENTENCES]],
                         ids=["fresh", "itself", "same-sentences", "other", "foreign", "mixed"])
def test_a_prompt_is_evaluated_in_the_same_batches_whatever_came_before(before):
    llm = RecordingLlama()
    model = model_with(llm)
    model.warm_up([])
    for earlier in before:
        ask(model, earlier)
    ask(model, A)
    assert llm.writer[: len(A) - 1] == canonical()


def test_the_warmed_opening_and_whole_batches_are_reused():
    llm = RecordingLlama()
    model = model_with(llm)
    model.warm_up([])
    ask(model, B_SAME_SENTENCES)
    before = len(llm.starts)
    ask(model, A)
    # The opening and A's first full batch after it (the same tokens as B's) were kept:
    # one batch of the prompt is evaluated, then its last token and the draft.
    assert llm.starts[before:] == [len(OPENING) + EVAL_CHUNK, len(A) - 1, len(A), len(A) + 1,
                                   len(A) + 2]


def test_a_prompt_cut_short_by_the_deadline_leaves_a_cache_the_next_can_trust():
    llm = RecordingLlama(cancel_after=3)  # the opening is two batches; stop after one more
    model = model_with(llm)
    model.warm_up([])
    with pytest.raises(ModelError):
        model._evaluate_prompt(A, time.monotonic() + 60, llm.cancel)
    llm.cancel_after = None
    ask(model, A)
    assert llm.writer[: len(A) - 1] == canonical()


def test_a_prompt_that_goes_on_from_the_last_draft_does_not_reuse_the_draft_as_a_batch():
    llm = RecordingLlama()
    model = model_with(llm)
    model.warm_up([])
    short, draft = prompt([1, 2, 3]), tuple(range(2000, 2300))  # a draft longer than a batch
    ask(model, short, draft)
    # Its tokens match the cache well past a batch boundary, but the draft was written a
    # token at a time, not in the batch this prompt is cut into.
    going_on = short + list(draft) + [4, 5, 6]
    ask(model, going_on)
    assert llm.writer[: len(going_on) - 1] == canonical(going_on)


# -- the evaluated opening, saved for the next start ----------------------------------------


class StateFiles:
    """llama.cpp's state-file calls, faked: a file holds the tokens it was saved with."""

    llama_token = ctypes.c_int32

    def __init__(self, load_ok: bool = True):
        self.load_ok, self.loads, self.saves = load_ok, 0, 0

    def llama_state_save_file(self, ctx, path: bytes, tokens, count) -> bool:
        self.saves += 1
        Path(path.decode()).write_text(json.dumps(list(tokens[:count])))
        return True

    def llama_state_load_file(self, ctx, path: bytes, out, capacity, loaded) -> bool:
        self.loads += 1
        saved = json.loads(Path(path.decode()).read_text())
        if not self.load_ok or len(saved) > capacity:
            return False
        out[: len(saved)] = saved
        loaded._obj.value = len(saved)
        return True


def saving_model(state_dir: Path, lib: StateFiles, opening=OPENING) -> LlamaCppModel:
    llm = RecordingLlama()
    llm._ctx, llm.input_ids = SimpleNamespace(ctx=None), np.zeros(4096, dtype=np.int32)
    model = model_with(llm)
    model.prompt_tokens = lambda messages, prefill="", reply=True: list(opening)
    model._state_dir, model._lib, model._identity = state_dir, lib, "model|settings"
    return model


def test_the_next_start_restores_the_opening_instead_of_evaluating_it(tmp_path: Path):
    lib = StateFiles()
    first = saving_model(tmp_path, lib)
    first.warm_up([])
    assert first.llm.starts and lib.saves == 1  # evaluated once, then saved
    again = saving_model(tmp_path, lib)
    again.warm_up([])
    assert again.llm.starts == [] and lib.loads == 1  # nothing evaluated
    assert list(again.llm.input_ids[: again.llm.n_tokens]) == OPENING
    assert again._cached_cuts == first._cached_cuts  # cut as the evaluation cut it


def test_a_changed_opening_is_evaluated_and_replaces_the_old_file(tmp_path: Path):
    lib = StateFiles()
    saving_model(tmp_path, lib).warm_up([])
    old = set(tmp_path.glob("opening-*.kv"))
    changed = saving_model(tmp_path, lib, opening=[*OPENING, 1])
    changed.warm_up([])
    assert changed.llm.starts and lib.loads == 0  # another name: never loaded
    assert len(set(tmp_path.glob("opening-*.kv"))) == 1 and not old & set(tmp_path.glob("*"))


def test_a_saved_opening_that_does_not_load_is_evaluated_again(tmp_path: Path):
    saving_model(tmp_path, StateFiles()).warm_up([])
    lib = StateFiles(load_ok=False)
    model = saving_model(tmp_path, lib)
    model.warm_up([])
    assert lib.loads == 1 and model.llm.starts  # tried, then evaluated
    assert model.llm.ids == OPENING and model._opening == OPENING


def test_a_data_directory_it_cannot_write_costs_only_the_saving(tmp_path: Path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the directory should be: mkdir fails
    model = saving_model(blocked / "llama", StateFiles())
    model.warm_up([])
    assert model.llm.ids == OPENING and "could not save" in caplog.text
