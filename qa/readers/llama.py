"""A GGUF model run in-process by llama.cpp (``llama-cpp-python``), greedy and deadline-bound.

One generation runs at a time (llama.cpp contexts are not thread-safe); the generative
reader bounds how many wait for it. llama.cpp keeps the tokens of the previous prompt in
its KV cache, so a constant opening (the instructions and worked examples, evaluated by
``warm_up``) costs nothing after the first request: keep it first and byte-identical.

The same prompt gets the same answer whatever was asked before it. A token's numbers depend
on the batch it is evaluated in (docs/evaluation.md, "The same question, the same answer"),
so reusing whatever prefix the previous prompt happened to share would make a draft, and the
refusal probability the abstainer reads, depend on the order of requests. Each prompt is cut
into batches by its own tokens alone (``_cuts``), and the cache is reused only up to where
the previous prompt was cut the same way: the opening, in practice.

The evaluated opening is saved beside the data (``state_dir``) and restored at the next
start: milliseconds instead of the ~5 s its ~500 tokens take on two cores. The file's name is
a digest of everything its numbers depend on, so a changed prompt, model or setting
evaluates afresh; llama.cpp's own state file format rejects a truncated one.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import functools
import hashlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa.errors import ConfigError, ModelError
from qa.readers.chat import Generation, Message, as_model_error, openai_role

log = logging.getLogger(__name__)
# Prompt tokens evaluated per llama_decode call: the deadline is checked between calls.
# 256 is ~5 % faster than 128 on two cores and still checks the deadline every ~1.7 s.
EVAL_CHUNK = 256


class LlamaCppModel:
    """Greedy generation from a local GGUF file; ``generate`` is the reader's seam."""

    def __init__(self, path: Path, *, threads: int, context: int = 4096, max_tokens: int = 96,
                 name: str | None = None, state_dir: Path | None = None,
                 repack: bool | None = None):
        self.check(path)
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.name = name or f"local:{path.name}"
        self.max_tokens = max_tokens
        if repack is None:  # whichever layout answers faster on this CPU
            repack = fastest_layout(path, threads)
        self.llm = _load(path, repack, threads, context)
        self._vocab = self.llm.n_vocab()
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ConfigError(f"{path} has no chat template")
        eos = self.llm.token_eos()
        options = {"template": template, "eos_token": self.llm._model.token_get_text(eos),
                   "bos_token": "", "stop_token_ids": [eos]}
        self._format = Jinja2ChatFormatter(**options)
        self._closed = Jinja2ChatFormatter(**options, add_generation_prompt=False)
        self._opening: list[int] = []  # the tokens warm_up evaluated; every prompt starts so
        self._cached_cuts: list[int] = [0]  # where the cached tokens were cut into batches
        self._stops = {eos, *self._special("<|im_end|>"), *self._special("<|endoftext|>")}
        self._run = threading.Lock()
        self.closed = False
        self._lib, self._state_dir = llama_cpp, state_dir
        stat = path.stat()
        # What the cached opening's numbers depend on, besides its tokens: a build with
        # other kernels sums in another order.
        self._identity = (f"{build_name()}|{path.resolve()}|{stat.st_size}|"
                          f"{stat.st_mtime_ns}|{context}|{threads}|{EVAL_CHUNK}|flash|repack={repack}")

    @staticmethod
    def check(path: Path) -> None:
        """Raise ``ConfigError`` unless the model file and llama-cpp-python are installed."""
        if not path.is_file():
            raise ConfigError(
                f"the local model {path} is missing: run `make setup` "
                "(python tools/fetch_model.py) or set QA_LOCAL_MODEL_PATH"
            )
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                "the local model needs llama-cpp-python: run `make setup` "
                "(it builds llama-cpp-python==0.3.36 for this CPU)"
            )

    def _special(self, text: str) -> list[int]:
        ids = self.llm.tokenize(text.encode(), add_bos=False, special=True)
        return ids if len(ids) == 1 else []

    def prompt_tokens(self, messages: list[Message], prefill: str = "", *,
                      reply: bool = True) -> list[int]:
        """The tokens of ``messages``, opening the assistant's turn unless ``reply`` is off."""
        chat = [{"role": openai_role(role), "content": text} for role, text in messages]
        prompt = (self._format if reply else self._closed)(messages=chat).prompt + prefill
        return self.llm.tokenize(prompt.encode(), add_bos=False, special=True)

    def warm_up(self, messages: list[Message]) -> None:
        """Evaluate ``messages``, the turns every prompt opens with (the instructions and
        worked examples), into the KV cache: later prompts evaluate only what follows them."""
        with self._run:
            self._opening = self.prompt_tokens(messages, reply=False)
            saved = self._saved_opening()
            if saved is not None and self._restore(saved):
                log.info("restored the local model's evaluated opening from %s", saved)
                return
            self._evaluate_prompt(self._opening, time.monotonic() + 600, threading.Event(),
                                  keep_last=False)
            if saved is not None:
                self._save(saved)

    def _saved_opening(self) -> Path | None:
        """Where the evaluated opening is kept: named by what its numbers depend on."""
        if self._state_dir is None:
            return None
        digest = hashlib.sha256(self._identity.encode())
        digest.update(np.asarray(self._opening, dtype=np.int32).tobytes())
        return self._state_dir / f"opening-{digest.hexdigest()[:24]}.kv"

    def _restore(self, path: Path) -> bool:
        """Load the opening's KV cache from ``path``; False, with the cache emptied, if it
        cannot be."""
        if not path.is_file():
            return False
        llm, count = self.llm, len(self._opening)
        tokens = (self._lib.llama_token * count)()
        loaded = ctypes.c_size_t(0)
        try:
            ok = self._lib.llama_state_load_file(llm._ctx.ctx, str(path).encode(), tokens,
                                                 count, ctypes.byref(loaded))
        except Exception:  # an unreadable file costs one evaluation, never the start-up
            ok = False
        if not ok or list(tokens[: loaded.value]) != self._opening:
            log.warning("the saved opening %s does not fit; evaluating it again", path)
            llm.n_tokens = 0  # whatever a failed load left in the cache is not trusted
            return False
        llm.input_ids[:count] = self._opening
        llm.n_tokens = count
        self._cached_cuts = _cuts(count, count)  # as evaluating it would have cut it
        return True

    def _save(self, path: Path) -> None:
        """Keep the evaluated opening for the next start, replacing older openings."""
        tokens = (self._lib.llama_token * len(self._opening))(*self._opening)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not self._lib.llama_state_save_file(self.llm._ctx.ctx, str(partial).encode(),
                                                   tokens, len(self._opening)):
                raise OSError("llama.cpp could not write the state")
            os.replace(partial, path)  # whole or absent: a reader never sees half a file
            for old in path.parent.glob("opening-*.kv"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only data directory costs the next start ~5 s
            log.warning("could not save the local model's opening to %s: %s", path, exc)
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)

    def first_token_ids(self, text: str) -> list[int]:
        """The token ids an answer opening with ``text`` can start with (" NOT", "NOT")."""
        ids = set()
        for variant in (text, " " + text.lstrip()):
            tokens = self.llm.tokenize(variant.encode(), add_bos=False)
            if tokens:
                ids.add(tokens[0])
        return sorted(ids)

    def generate(self, messages: list[Message], *, deadline: float, prefill: str = "",
                 watch: dict[str, str] | None = None,
                 cancel: threading.Event | None = None) -> Generation:
        """Start answering ``messages`` (the assistant turn opened with ``prefill``).

        ``watch`` maps names to openings whose probability as the first token is recorded
        in ``Generation.first_probs``. Pieces stop at a newline, the deadline, or ``cancel``.
        """
        generation = Generation(iter(()))
        generation.pieces = self._pieces(messages, prefill, watch or {}, deadline,
                                         cancel or threading.Event(), generation)
        return generation

    def close(self) -> None:
        """Free the weights and the context now. Left to the interpreter's exit, llama.cpp's
        destructors run in whatever order modules are torn down, and once (0.4.27) an
        evaluation run crashed there after writing its report."""
        # An answer still being written keeps the model; the interpreter frees it then.
        if not self._run.acquire(timeout=5):
            return
        try:
            if not self.closed:
                self.closed = True
                self.llm.close()
        finally:
            self._run.release()

    def _pieces(self, messages, prefill, watch, deadline, cancel, generation) -> Iterator[str]:
        if not self._run.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise ModelError("the local model did not start in time", code="model_timeout")
        try:
            if self.closed:
                raise ModelError("the local model was closed", code="model_unavailable")
            yield from self._decode(self.prompt_tokens(messages, prefill), watch, deadline,
                                    cancel, generation)
        except ModelError:
            raise
        except Exception as exc:  # llama.cpp failed mid-answer: degrade, never a 500
            log.exception("the local model failed")
            raise as_model_error(exc) from exc
        finally:
            self._run.release()

    def _decode(self, tokens, watch, deadline, cancel, generation) -> Iterator[str]:
        self._evaluate_prompt(tokens, deadline, cancel)
        watched = {k: self.first_token_ids(v) for k, v in watch.items()}
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        count = 0
        # generate() re-uses the cached prefix; only the last prompt token is evaluated again.
        for token in self.llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
            if count == 0 and watched:
                generation.first_probs = self._probabilities(watched)
            if token in self._stops:
                break
            text = decoder.decode(self.llm.detokenize([token]))
            if "\n" in text:
                head = text.split("\n", 1)[0]
                if head:
                    yield head
                break
            if text:
                yield text
            count += 1
            if count >= self.max_tokens or cancel.is_set():
                break
            if time.monotonic() > deadline:
                raise ModelError("the local model did not answer in time", code="model_timeout")

    def _evaluate_prompt(self, tokens: list[int], deadline: float, cancel: threading.Event,
                         *, keep_last: bool = True) -> None:
        """Evaluate the prompt tokens the cache lacks, a batch at a time, within the deadline.

        ``keep_last`` leaves the last token to ``generate()``, which samples after it.
        """
        llm = self.llm
        end = len(tokens) - 1 if keep_last else len(tokens)
        cuts = _cuts(_shared(self._opening, tokens), end)
        shared = _shared(llm._input_ids[: llm.n_tokens], tokens)
        reuse = 0
        for done, cut in zip(self._cached_cuts, cuts, strict=False):
            if done != cut or cut > shared:
                break
            reuse += 1
        # Cuts past what a stopped evaluation reached fail ``cut > shared`` next time.
        self._cached_cuts = cuts
        llm.n_tokens = cuts[reuse - 1]
        for start, stop in zip(cuts[reuse - 1 :], cuts[reuse:], strict=False):
            if cancel.is_set() or time.monotonic() > deadline:
                raise ModelError("the local model did not answer in time", code="model_timeout")
            llm.eval(tokens[start:stop])

    def _probabilities(self, watched: dict[str, list[int]]) -> dict[str, float]:
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits_ith(-1), shape=(self._vocab,))
        top = float(logits.max())
        total = float(np.exp(logits - top).sum())
        return {k: float(np.exp(logits[ids] - top).sum() / total) for k, ids in watched.items()}


def fastest_layout(path: Path, threads: int) -> bool:
    """Repack the weights or not: whichever answers faster here (``qa.readers.repack``)."""
    from qa.readers.repack import LayoutTimer, choose

    # A small context: the timing evaluates 134 tokens.
    timer = LayoutTimer(lambda repack: _load(path, repack, threads, context=512), threads)
    try:
        return choose(path, threads, build_name(), timer)
    finally:
        timer.close()


def build_name() -> str:
    """llama-cpp-python's version and a digest of what its build has (instruction sets,
    OpenMP or not): a rebuild with other flags may favour the other layout."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    return f"{llama_cpp.__version__} [{hashlib.sha256(info).hexdigest()[:8]}]"


def _load(path: Path, repack: bool, threads: int, context: int):
    """The llama.cpp model as every answer runs it: greedy, flash attention, batches of 512."""
    return _llama()(str(path), repack=repack, n_ctx=context, n_threads=threads,
                    n_threads_batch=threads, n_batch=512, flash_attn=True, verbose=False)


@functools.cache
def _llama():
    """``Llama`` with llama.cpp's weight repacking (``use_extra_bufts``) as an argument,
    which llama-cpp-python 0.3.36 does not pass through: its constructor fills
    ``model_params`` and loads the model in one call, so the setter sets the field."""
    from llama_cpp import Llama

    class RepackingLlama(Llama):
        def __init__(self, *args, repack: bool, **kwargs):
            self._repack = repack
            super().__init__(*args, **kwargs)

        @property
        def model_params(self):
            return self._model_params

        @model_params.setter
        def model_params(self, params):
            params.use_extra_bufts = self._repack
            self._model_params = params

    return RepackingLlama


def _shared(cached, tokens: list[int]) -> int:
    """How many tokens ``tokens`` shares with ``cached`` from the start."""
    count = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        count += 1
    return count


def _cuts(opening: int, end: int) -> list[int]:
    """Batch boundaries for a prompt whose first ``opening`` tokens are the warmed opening and
    whose first ``end`` tokens are evaluated: ``EVAL_CHUNK`` steps from 0 to the opening,
    then from there to the end. A function of the prompt alone, never of the cache."""
    opening = min(opening, end)
    return [*range(0, opening, EVAL_CHUNK), *range(opening, end, EVAL_CHUNK), end]
