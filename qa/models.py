"""Answer models behind one seam shaped like LangChain's ``BaseChatModel``.

``QA_ANSWER_MODEL`` picks a named factory: ``openai:<model>`` (any OpenAI-compatible server),
``langchain:<provider>:<model>`` (``init_chat_model``) or ``transformers:<path>`` (a local
model run in-process). Heavy imports live inside the factories, and a missing optional
package is a ``ConfigError`` that names the ``pip install`` to run, raised at start-up.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from qa.errors import ConfigError
from qa.settings import Settings

# (role, text) with LangChain's role names, which every LangChain chat model accepts.
Message = tuple[str, str]
_OPENAI_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class ChatModel(Protocol):
    """The answer-model seam: LangChain chat models and their fakes satisfy it as they are."""

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
            "messages": [{"role": _OPENAI_ROLES.get(r, r), "content": t} for r, t in messages],
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
        chat = [{"role": _OPENAI_ROLES.get(r, r), "content": t} for r, t in messages]
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


def answer_model_factory(settings: Settings) -> Callable[[], ChatModel] | None:
    """Check the configured answer model now and return a factory that builds it.

    Returns ``None`` for the extractive answerer. Raises ``ConfigError`` at start-up for a
    malformed spec, a missing integration package or a missing model file.
    """
    kind, _, rest = settings.answer_model.partition(":")
    if kind == "extractive":
        return None
    if not rest:
        raise ConfigError(f"QA_ANSWER_MODEL={settings.answer_model!r} needs ':<model>'")
    if kind == "openai":
        # Built now: the client makes no request until asked, and importing it inside the
        # first request's deadline would eat most of a short timeout.
        client = OpenAIChatModel(
            rest, settings.openai_base_url, settings.openai_api_key,
            settings.model_timeout_s, settings.model_max_tokens,
        )
        return lambda: client
    if kind == "langchain":
        model = _langchain_model(rest, settings)
        return lambda: model
    if kind == "transformers":
        return _transformers_factory(Path(rest).expanduser(), settings)
    raise ConfigError(f"unknown answer model kind {kind!r}")  # Settings already checks this


def _langchain_model(spec: str, settings: Settings) -> ChatModel:
    provider, _, model = spec.partition(":")
    if not model:
        raise ConfigError(
            f"QA_ANSWER_MODEL=langchain:{spec} needs a provider and a model, "
            "like langchain:ollama:llama3.2"
        )
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, **_langchain_kwargs(provider,
                                                                                   settings))
    except ImportError as exc:
        package = f"langchain-{provider.replace('_', '-')}"
        raise ConfigError(
            f"QA_ANSWER_MODEL=langchain:{spec} needs the {provider} integration: "
            f"pip install {package} ({exc})"
        ) from None
    except Exception as exc:  # a bad provider name or missing credentials, at start-up
        raise ConfigError(f"QA_ANSWER_MODEL=langchain:{spec}: {exc}") from None


def _langchain_kwargs(provider: str, settings: Settings) -> dict:
    # Providers name their timeout and retry options differently; set the common ones.
    if provider in ("openai", "azure_openai", "deepseek", "xai", "groq", "mistralai"):
        return {"timeout": settings.model_timeout_s, "max_retries": 0}
    return {}


def _transformers_factory(path: Path, settings: Settings) -> Callable[[], ChatModel]:
    missing = [p for p in ("transformers", "torch", "accelerate") if not _installed(p)]
    if path.suffix == ".gguf" and not _installed("gguf"):
        missing.append("gguf")
    if missing:
        raise ConfigError(f"QA_ANSWER_MODEL=transformers:... needs: pip install "
                          f"{' '.join(missing)}")
    if not path.exists():
        raise ConfigError(f"QA_ANSWER_MODEL names {path}, which does not exist")
    return lambda: TransformersChatModel(
        path, settings.model_max_tokens, max_time=settings.model_timeout_s
    )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
