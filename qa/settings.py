"""One typed settings object, filled from ``QA_*`` environment variables (pydantic-settings).

``Settings(...)`` takes its values from the arguments and the defaults only, so a test or a
benchmark is never changed by the shell it runs in; ``Settings.from_env()`` reads ``QA_*``.
A wrong value raises ``ConfigError`` naming the variable and, for closed sets, the valid
values, so the service stops at start-up instead of failing on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from qa.errors import ConfigError

# The kinds of QA_ANSWER_MODEL (``kind`` or ``kind:<rest>``); qa.readers builds each one.
ANSWER_MODELS = ("local", "extractive", "openai", "langchain", "transformers")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_ANY_ADDRESS = ("0.0.0.0", "::", "[::]", "")
_SECRET = ("api_key", "openai_api_key")


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return value


class Settings(BaseSettings):
    """Every knob of the service; each field is ``QA_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="QA_", frozen=True, extra="forbid", env_ignore_empty=True,
        validate_default=True,
    )

    data_dir: Path = Field(Path("./data"), description="embedded Chroma store and other state")
    seeds_dir: Path = Field(Path("./seeds"), description="corpus ingested on first start")
    answer_model: str = Field(
        "local",
        description="local (the bundled model; local:<file.gguf> for another), extractive, "
        "openai:<model>, langchain:<provider>:<model> or transformers:<path>",
    )
    chroma_host: str | None = Field(None, description="Chroma server host (scale mode)")
    chroma_port: int | None = Field(None, ge=1, le=65535, description="Chroma server port")
    chroma_timeout_s: float = Field(10.0, gt=0, description="time limit of each Chroma request")
    collection: str = Field("articles", min_length=1, description="Chroma collection name")
    api_key: str | None = Field(None, description="X-API-Key required to change the corpus")
    allowed_hosts: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)] = Field(
        (),
        description="comma-separated Host names served ('*' for any); default the loopback "
        "names and QA_HOST unless it listens on every address",
    )
    embed_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto uses bf16 where the CPU has it, else fp32"
    )
    embed_batch_size: int = Field(32, ge=1, description="passages per encode batch")
    chunk_chars: int = Field(350, ge=50, description="target passage size in characters")
    top_k: int = Field(8, ge=1, le=100, description="passages handed to the answerer")
    # Admission: what one request may ask for, and how many are served at once.
    max_question_chars: int = Field(2000, ge=1, description="longest question, in characters")
    max_question_parts: int = Field(
        4, ge=1, description="most parts (sub-questions) of one question; more is a 400"
    )
    max_history_turns: int = Field(20, ge=0, description="most recent history turns read")
    max_body_bytes: int = Field(256 * 1024, ge=1024, description="largest request body")
    max_search_k: int = Field(50, ge=1, le=1000, description="most results of one /search")
    max_concurrency: int = Field(
        16, ge=0, description="answering requests at once before 503 + Retry-After (0: off)"
    )
    rate_limit_per_minute: int = Field(
        0, ge=0, description="answering requests per client address per minute (0: off)"
    )
    host: str = Field("127.0.0.1", description="python app.py bind address")
    port: int = Field(8000, ge=0, le=65535, description="python app.py port")
    # More threads than max_concurrency, so health checks and pages are served and
    # excess questions are refused at once while the answering routes are saturated.
    threads: int = Field(24, ge=1, description="waitress worker threads")
    ready_timeout_s: float = Field(2.0, gt=0, description="time limit of each /readyz probe")
    # Generative models (docs/models.md); unused by the extractive answerer.
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible server, e.g. http://localhost:11434/v1"
    )
    openai_api_key: str | None = Field(None, description="key for that server")
    model_timeout_s: float = Field(20.0, gt=0, description="generative model time budget")
    model_max_tokens: int = Field(256, ge=1, description="longest generated answer, in tokens")
    unverified: Literal["drop", "flag"] = Field(
        "drop", description="drop or flag answer sentences that fail verification"
    )
    evidence_sentences: int = Field(
        6, ge=1, le=20, description="sentences a generative model reads per question"
    )
    evidence_order: Literal["scorer", "reader"] = Field(
        "scorer", description="how those sentences are ranked: as the extractive reader ranks "
        "them to pick one, or for a model reading a few (the question's words and the "
        "asked-for kind first: with 4 sentences, as many right answers as 6 of the other on the "
        "dev sets and a first token 0.79x as soon, but fewer near-misses abstained)",
    )
    evidence_words: int = Field(
        0, ge=0, description="longest evidence sentence a generative model reads, in words: "
        "a longer one is cut to the window around the question's words (0: never cut)",
    )
    local_model_path: Path = Field(
        Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
        description="the GGUF file of QA_ANSWER_MODEL=local (make setup installs it)",
    )
    local_threads: int = Field(
        default_factory=lambda: _cores(), ge=1,
        description="llama.cpp threads: one per core it may have to itself",
    )
    local_repack: Literal["auto", "on", "off"] = Field(
        "auto", description="llama.cpp's repacked weight layout: on, off, or whichever "
        "answers faster on this CPU (timed once, ~10 s, and kept beside the model file)",
    )
    local_context: int = Field(4096, ge=512, description="llama.cpp context, in tokens")
    condense: Literal["model", "rules"] = Field(
        "rules", description="a follow-up, with a generative reader: rewritten by the model "
        "into a question that stands alone (~1.7 s on two cores), or given the earlier "
        "question's words by the rules (as with the extractive reader)",
    )
    model_queue: int = Field(
        2, ge=0, description="questions that may wait for the answer model (per worker); past "
        "that they are answered extractively at once (degraded, model_busy)",
    )
    # Scale-out (docs/production.md): how workers follow the corpus in Chroma.
    sync_interval_s: float = Field(
        2.0, gt=0, description="seconds between polls of Chroma for changed articles"
    )
    orphan_grace_s: float = Field(
        600.0, gt=0, description="age after which uncommitted vectors count as orphaned; a "
        "write commits within half of it or gives up",
    )

    def __init__(self, **values: Any):
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe(exc)) from None

    @field_validator("answer_model")
    @classmethod
    def _known_answer_model(cls, spec: str) -> str:
        kind = spec.split(":", 1)[0]
        if kind not in ANSWER_MODELS:
            raise ValueError(f"{kind!r} is not one of {', '.join(ANSWER_MODELS)} "
                             "(with ':<model>' for generative ones)")
        return spec

    @model_validator(mode="after")
    def _chroma_host_and_port(self) -> Settings:
        if (self.chroma_host is None) != (self.chroma_port is None):
            raise ValueError("set both QA_CHROMA_HOST and QA_CHROMA_PORT, or neither")
        return self

    @property
    def uses_chroma_server(self) -> bool:
        return self.chroma_host is not None

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """Host names this service answers to (``*``: any)."""
        if self.allowed_hosts:
            return self.allowed_hosts
        bind = () if self.host in _ANY_ADDRESS else (self.host,)
        return tuple(dict.fromkeys(LOOPBACK_HOSTS + bind))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``QA_*`` variables (``os.environ`` by default); overrides win."""
        token = _ENVIRON.set(os.environ if environ is None else environ)
        try:
            return cls(**overrides)
        finally:
            _ENVIRON.reset(token)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes``, validated like any other value."""
        return type(self)(**{**self.model_dump(), **changes})

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        **_others: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        if environ is None:
            return (init_settings,)
        return (init_settings, _Environ(settings_cls, environ))


# The environment ``from_env`` reads; unset, ``Settings(...)`` reads none.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("qa_environ", default=None)


class _Environ(EnvSettingsSource):
    """``EnvSettingsSource`` over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Empty means unset, as ``env_ignore_empty`` says for os.environ.
        return {k.lower(): v for k, v in self._environ.items() if v != ""}


def describe(exc: ValidationError) -> str:
    """One line per wrong value, naming its variable; secrets are never echoed."""
    lines = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:
            lines.append(message)
            continue
        name = str(error["loc"][0])
        got = "" if name in _SECRET else f" (got {error['input']!r})"
        lines.append(f"QA_{name.upper()}: {message}{got}")
    return "; ".join(lines)
