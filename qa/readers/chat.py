"""Chat models behind the generative reader's seam: ``generate(messages, deadline=...)``.

``openai:<model>`` is any OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, LM
Studio, OpenAI); ``langchain:<provider>:<model>`` any LangChain chat model; and
``transformers:<path>`` a local transformers model in-process. They are adapted from the
LangChain shape (``invoke``/``stream``), so LangChain's own fakes drop in. Heavy imports
live inside the factories; a missing package is a ``ConfigError`` naming the pip install.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qa.errors import ConfigError, ModelError

# (role, text) with LangChain's role names, which every LangChain chat model accepts.
Message = tuple[str, str]
_OPENAI_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def openai_role(role: str) -> str:
    return _OPENAI_ROLES.get(role, role)


@dataclass
class Generation:
    """The text pieces of one answer as they are written, and what the model's first
    token said about how likely each watched opening was (known to in-process models only)."""

    pieces: Iterator[str]
    first_probs: dict[str, float] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        return self.pieces


class ChatModel(Protocol):
    """LangChain's chat-model shape: LangChain chat models and their fakes satisfy it."""

    def invoke(self, messages: list[Message]) -> Any: ...

    def stream(self, messages: list[Message]) -> Iterator[Any]: ...


def text_of(result: Any) -> str:
    """Return the text of a model result: a str, or a LangChain message or chunk."""
    if isinstance(result, str):
        return result
    content = getattr(result, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # LangChain content blocks
        return "".join(
            b if isinstance(b, str) else str(b.get("text", "")) for b in content
            if isinstance(b, str | dict)
        )
    raise TypeError(f"the model returned {type(result).__name__}, not text")


def close_model(model) -> None:
    """Free ``model`` now if it can be freed (a remote model holds nothing to free)."""
    close = getattr(model, "close", None)
    if close is not None:
        close()


class StreamingChat:
    """Adapt a LangChain-shaped chat model to the reader's ``generate`` seam.

    Chat APIs cannot open the assistant's turn for the model, so ``prefill`` ends the last
    user message instead (the few-shot prompt's answers follow it; without it a small model
    served by llama.cpp refused every question), the reader's parser accepts an answer
    with or without it, and no first-token probabilities are known.
    """

    def __init__(self, name: str, model: ChatModel):
        self.name = name
        self.model = model

    def generate(self, messages: list[Message], *, deadline: float, prefill: str = "",
                 watch: dict[str, str] | None = None,
                 cancel: threading.Event | None = None):
        if prefill and messages and openai_role(messages[-1][0]) == "user":
            role, text = messages[-1]
            messages = [*messages[:-1], (role, f"{text.rstrip()}\n{prefill}")]
        return Generation(stream_within(lambda: self.model.stream(messages), deadline, cancel))

    def invoke(self, messages: list[Message], deadline: float) -> str:
        return "".join(self.generate(messages, deadline=deadline))


class OpenAIChatModel:
    """A chat model on any OpenAI-compatible server, through the official ``openai`` client."""

    def __init__(self, model: str, base_url: str | None, api_key: str | None,
                 timeout: float, max_tokens: int):
        from openai import OpenAI

        # Local servers (Ollama, llama.cpp, LM Studio) ignore the key but the client wants one.
        self.client = OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                             timeout=timeout, max_retries=0)
        self.model = model
        self.max_tokens = max_tokens

    def _request(self, messages: list[Message]) -> dict:
        return {
            "model": self.model,
            "messages": [{"role": openai_role(r), "content": t} for r, t in messages],
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }

    def invoke(self, messages: list[Message]) -> str:
        response = self.client.chat.completions.create(**self._request(messages))
        choices = getattr(response, "choices", None)
        if not choices or choices[0].message is None:
            raise ValueError("the server's response has no choices")
        return choices[0].message.content or ""

    def stream(self, messages: list[Message]) -> Iterator[str]:
        with self.client.chat.completions.create(**self._request(messages), stream=True) as s:
            for chunk in s:
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content


class TransformersChatModel:
    """A local causal LM run in-process: a GGUF file or a safetensors folder, greedy decoding."""

    def __init__(self, path: Path, max_new_tokens: int, max_time: float):
        # Never let a missing file turn into a hub download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no tqdm bars in the server log

        folder, extra = (path.parent, {"gguf_file": path.name}) if path.is_file() else (path, {})
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
        self.model = AutoModelForCausalLM.from_pretrained(
            folder, local_files_only=True, dtype=torch.float32, **extra
        )
        self.model.eval()
        self._torch = torch
        self.max_new_tokens = max_new_tokens
        self.max_time = max_time
        # One generation at a time: a second request waits (and degrades past its deadline).
        self._lock = threading.Lock()

    def _inputs(self, messages: list[Message]) -> dict:
        chat = [{"role": openai_role(r), "content": t} for r, t in messages]
        return self.tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def _generate(self, inputs: dict, **extra: Any) -> Any:
        with self._lock, self._torch.inference_mode():
            return self.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                max_time=self.max_time, pad_token_id=self.tokenizer.eos_token_id, **extra,
            )

    def invoke(self, messages: list[Message]) -> str:
        inputs = self._inputs(messages)
        output = self._generate(inputs)
        new = output[0][inputs["input_ids"].shape[1]:]
        return self.tokenizer.decode(new, skip_special_tokens=True)

    def stream(self, messages: list[Message]) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.max_time + 5
        )
        worker = threading.Thread(
            target=self._generate, args=(inputs,), kwargs={"streamer": streamer}, daemon=True
        )
        worker.start()
        yield from (piece for piece in streamer if piece)


# -- deadlines ----------------------------------------------------------------------------
# A remote model runs in a daemon thread, so a hung server can never hold a request past
# its deadline; the request degrades and the thread finishes on its own.


def stream_within(open_stream: Callable[[], Iterator[Any]], deadline: float,
                  cancel: threading.Event | None = None) -> Iterator[str]:
    """Yield the text of each streamed piece until the stream ends or ``deadline`` passes."""
    box: queue.Queue = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        try:
            pieces = open_stream()
            for piece in pieces:
                if stop.is_set():
                    getattr(pieces, "close", lambda: None)()
                    return
                box.put(("piece", piece))
            box.put(("end", None))
        except BaseException as exc:  # handed to the caller, not swallowed
            box.put(("error", exc))

    threading.Thread(target=run, name="answer-model-stream", daemon=True).start()
    try:
        while not (cancel and cancel.is_set()):
            try:
                kind, value = box.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise _timeout() from None
            if kind == "end":
                return
            if kind == "error":
                raise as_model_error(value) from value
            try:
                text = text_of(value)
            except TypeError as exc:
                raise ModelError(str(exc), code="model_garbage") from None
            if text:
                yield text
    finally:
        stop.set()


def as_model_error(exc: BaseException) -> ModelError:
    if isinstance(exc, ModelError):
        return exc
    kind = type(exc).__name__
    if "Timeout" in kind:
        return _timeout()
    if isinstance(exc, ValueError | TypeError | UnicodeError) or "Validation" in kind:
        return ModelError(f"the model returned garbage ({kind})", code="model_garbage")
    return ModelError(f"the answer model failed ({kind})", code="model_error")


def _timeout() -> ModelError:
    return ModelError("the answer model did not answer in time", code="model_timeout")


# -- factories ----------------------------------------------------------------------------


def openai_model(spec: str, settings) -> StreamingChat:
    # Built now: the client makes no request until asked, and importing it inside the
    # first request's deadline would eat most of a short timeout.
    client = OpenAIChatModel(spec, settings.openai_base_url, settings.openai_api_key,
                             settings.model_timeout_s, settings.model_max_tokens)
    return StreamingChat(f"openai:{spec}", client)


def langchain_model(spec: str, settings) -> StreamingChat:
    provider, _, model = spec.partition(":")
    if not model:
        raise ConfigError(
            f"QA_ANSWER_MODEL=langchain:{spec} needs a provider and a model, "
            "like langchain:ollama:llama3.2"
        )
    from langchain.chat_models import init_chat_model

    options = {}
    # Providers name their timeout and retry options differently; set the common ones.
    if provider in ("openai", "azure_openai", "deepseek", "xai", "groq", "mistralai"):
        options = {"timeout": settings.model_timeout_s, "max_retries": 0}
    try:
        chat = init_chat_model(model, model_provider=provider, **options)
    except ImportError as exc:
        package = f"langchain-{provider.replace('_', '-')}"
        raise ConfigError(
            f"QA_ANSWER_MODEL=langchain:{spec} needs the {provider} integration: "
            f"pip install {package} ({exc})"
        ) from None
    except Exception as exc:  # a bad provider name or missing credentials, at start-up
        raise ConfigError(f"QA_ANSWER_MODEL=langchain:{spec}: {exc}") from None
    return StreamingChat(f"langchain:{spec}", chat)


def transformers_model(spec: str, settings):
    """Check a transformers model now; return the factory that loads it."""
    path = Path(spec).expanduser()
    missing = [p for p in ("transformers", "torch", "accelerate") if not _installed(p)]
    if path.suffix == ".gguf" and not _installed("gguf"):
        missing.append("gguf")
    if missing:
        raise ConfigError(f"QA_ANSWER_MODEL=transformers:... needs: pip install "
                          f"{' '.join(missing)}")
    if not path.exists():
        raise ConfigError(f"QA_ANSWER_MODEL names {path}, which does not exist")
    return lambda: StreamingChat(f"transformers:{spec}", TransformersChatModel(
        path, settings.model_max_tokens, max_time=settings.model_timeout_s))


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
